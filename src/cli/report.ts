// How errors become output: `tsrun: <message>` on stderr (and the --log
// file), with what to do next; main.ts reports the error that ends a command,
// eachId() each failure of a command given several ids.
import { AlreadyExistsError, NotFoundError, TsrunError } from '../errors';
import { createLogger } from '../runtime/log';
import { tsrunCommand } from '../runtime/paths';
import { exit } from './exit';

function logFlagsFrom(argv: string[]): { file?: string; format: 'text' | 'json' } {
  let file: string | undefined;
  let format: 'text' | 'json' = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--log') file = argv[++i];
    else if (a.startsWith('--log=')) file = a.slice(6);
    else if (a === '--log-format') format = argv[++i] === 'json' ? 'json' : 'text';
    else if (a.startsWith('--log-format=')) format = a.slice(13) === 'json' ? 'json' : 'text';
  }
  return { file, format };
}

/** The --root the command line gave, for hints that name a command. */
function rootOf(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    if (argv[i] === '--root' && argv[i + 1] !== undefined) return argv[i + 1];
    if (argv[i].startsWith('--root=')) return argv[i].slice(7);
  }
  return undefined;
}

/** The one place errors become output: `tsrun: <message>` on stderr (and the --log file); returns the exit code. */
export function reportError(err: unknown, argv: string[]): number {
  let msg = err instanceof Error ? err.message : String(err);
  // what to do next (the message itself stays: podman and containerd match "does not exist")
  const root = rootOf(argv);
  if (err instanceof NotFoundError) msg += ` (see "${tsrunCommand(root, 'list')}")`;
  else if (err instanceof AlreadyExistsError) msg += ` (pick another id, or remove it: "${tsrunCommand(root, 'rm', '-f', err.id)}")`;
  const flags = logFlagsFrom(argv);
  if (flags.file) createLogger({ ...flags }).error(msg);
  const lines = msg.split('\n');
  process.stderr.write(lines.map((l) => `tsrun: ${l}\n`).join(''));
  if (!(err instanceof TsrunError) && process.env.TSRUN_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return err instanceof TsrunError ? err.exitCode : 1;
}

/**
 * op for each id, in order.  One id: as a command of one id (an error ends
 * it).  Several: each one done is printed on stdout (not when op returns
 * false: there was nothing to do), each failure reported and the next one
 * tried; the exit code is 1 when any failed.
 */
export async function eachId(ids: string[], op: (id: string) => unknown): Promise<void> {
  if (ids.length === 1) {
    await op(ids[0]);
    return;
  }
  for (const id of ids) {
    try {
      if ((await op(id)) !== false) process.stdout.write(`${id}\n`);
    } catch (e) {
      exit.code = Math.max(exit.code, reportError(e, process.argv.slice(2)));
    }
  }
}
