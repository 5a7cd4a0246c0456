// tsrun's command line: runc's global flags and verbs.  Each verb is one file
// in ./commands; this file wires them and owns the one error handler.
import yargs from 'yargs/yargs';
import { ExitStatus, TsrunError, UsageError } from '../errors';
import { createLogger } from '../runtime/log';
import { commands } from './commands';
import { exit } from './exit';
import { firstPositional, joinStdinValues, splitCommand } from './argv';

export const VERSION = '0.1.0';
export const SPEC_VERSION = '1.2.0';

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

/** The one place errors become output: `tsrun: <message>` on stderr (and the --log file). */
export function reportError(err: unknown, argv: string[]): number {
  if (err instanceof ExitStatus) return err.code;
  const msg = err instanceof Error ? err.message : String(err);
  const flags = logFlagsFrom(argv);
  if (flags.file) createLogger({ ...flags }).error(msg);
  const lines = msg.split('\n');
  process.stderr.write(lines.map((l) => `tsrun: ${l}\n`).join(''));
  if (!(err instanceof TsrunError) && process.env.TSRUN_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return err instanceof TsrunError ? err.exitCode : 1;
}

/** yargs' messages, made to say what to do next. */
export function usageMessage(msg: string, argv: string[]): string {
  msg = msg.replace(/:\n\s*/g, ': ').replace(/\n\s*/g, '; ');
  const names = new Set(commands.flatMap((c) => [String(c.command).split(' ')[0], ...[c.aliases ?? []].flat().map(String)]));
  const verb = argv.find((a) => names.has(a));
  const help = verb ? `(see "tsrun ${verb} --help")` : '(see "tsrun --help")';
  const unknown = /^Unknown arguments?: (.*)$/.exec(msg);
  if (unknown) {
    const first = unknown[1].split(', ')[0];
    if (!verb && firstPositional(argv) === first) return `unknown command "${first}" (see "tsrun --help")`;
    return `unknown argument${unknown[1].includes(', ') ? 's' : ''}: ${unknown[1]} ${help}`;
  }
  if (/^Not enough non-option arguments/.test(msg)) {
    const c = commands.find((x) => String(x.command).split(' ')[0] === verb);
    const missing = /<[^>]+>/.exec(String(c?.command ?? ''))?.[0] ?? 'argument';
    return `${verb ?? 'tsrun'}: missing ${missing} ${help}`;
  }
  return `${msg.charAt(0).toLowerCase()}${msg.slice(1)} ${help}`;
}

export async function main(argv: string[]): Promise<number> {
  argv = joinStdinValues(splitCommand(argv));
  const parser = yargs(argv)
    .scriptName('tsrun')
    // runc's flags --no-pivot, --no-new-keyring, --no-new-privs are flags of
    // their own, not negations of --pivot and --new-keyring
    .parserConfiguration({ 'boolean-negation': false })
    .usage('tsrun [global options] <command> [options]\n\nAn OCI container runtime.')
    .option('root', { type: 'string', describe: 'directory for container state', default: '/run/tsrun', global: true })
    .option('data-dir', { type: 'string', describe: 'directory for image layers and write layers', default: '/var/lib/tsrun', global: true })
    .option('log', { type: 'string', describe: 'log file (default: stderr)', global: true })
    .option('log-format', { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'log format', global: true })
    .option('debug', { type: 'boolean', describe: 'log debug messages', global: true })
    .option('systemd-cgroup', { type: 'boolean', describe: 'use the systemd cgroup driver', global: true })
    .option('rootless', { type: 'string', describe: 'ignored (runc compatibility)', global: true, hidden: true })
    .option('criu', { type: 'string', describe: 'ignored: no checkpoint/restore (runc compatibility; containerd passes it)', global: true, hidden: true })
    .version(false)
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .strict()
    .recommendCommands()
    .help('help')
    .alias('help', 'h')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(usageMessage(msg, argv));
    });
  for (const c of commands) parser.command(c);
  parser.middleware((a) => {
    if (a.version && a._.length === 0) {
      process.stdout.write(`tsrun version ${VERSION}\nspec: ${SPEC_VERSION}\nnode: ${process.version}\n`);
      process.exit(0);
    }
  }, true);
  await parser.parseAsync(argv.length ? argv : ['--help']);
  return exit.code;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.exitCode = reportError(err, argv);
    },
  );
}
