import * as fs from 'fs';
import * as path from 'path';
import type { Argv, CommandModule } from 'yargs';
import { shellWord } from '../../runtime/paths';
import { leadingRunFlags, trailingCommand } from '../argv';
import { UsageError } from '../../errors';
import { contextFrom } from '../context';
import { exit } from '../exit';
import { DEFAULT_DETACH_KEYS, RUN_OPTIONS } from '../options';
import { detachKeys, needsTerminal } from '../terminal';
import { containerId, createFlags, createOptions, type CreateArgs } from './create';

interface Args extends CreateArgs {
  detach?: boolean;
  interactive?: boolean;
  'detach-keys'?: string;
}

/**
 * `run -d` by a person at a terminal: without --logs the container would
 * inherit the terminal and print over the person's prompt later, so its
 * output goes to the log as with --logs.  Engines never give a terminal as
 * stdout (conmon and containerd pass pipes or files, or --console-socket),
 * so what they get stays runc's: the stdio inherited.
 */
export function logsByDefault(a: Pick<Args, 'detach' | 'logs' | 'tty' | 'console-socket'>, stdoutIsTerminal: boolean): boolean {
  return !!a.detach && !a.logs && !a.tty && !a['console-socket'] && stdoutIsTerminal;
}

/**
 * `run c8 -b B echo hi` with no config.json where the bundle was looked for:
 * "-b B" went into the command (flags come before the id, as in runc).  Says
 * so, with the command line as it should have been.
 */
function misplacedFlags(a: Args): void {
  const id = a['container-id'];
  const cmd = trailingCommand(a as never);
  if (id === undefined || !cmd) return;
  const n = leadingRunFlags(cmd);
  const config = path.resolve(a.bundle, 'config.json');
  if (n === 0 || fs.existsSync(config)) return;
  const argv = process.argv.slice(2);
  const start = argv.length - cmd.length;
  const sameTail = argv.slice(start).every((w, i) => w === cmd[i]);
  const moved = cmd.slice(0, n);
  const fixed = sameTail && argv[start - 1] === String(id) ? [...argv.slice(0, start - 1), ...moved, String(id), ...cmd.slice(n)] : undefined;
  throw new UsageError(
    `run: ${config}: no such file; "${moved.join(' ')}" after the id "${id}" was taken as part of the command, as flags end at the id` +
      (fixed ? `: put them before it: "${['tsrun', ...fixed].map(shellWord).join(' ')}"` : ': put them before it'),
  );
}

export const command: CommandModule<CreateArgs, Args> = {
  command: 'run [container-id] [command..]',
  describe: 'create and start a container; in the foreground, wait and remove it',
  builder: (y) =>
    (createFlags(y, 'run') as Argv<CreateArgs>)
      .options(RUN_OPTIONS)
      .example('$0 run -b ./bundles/busybox c1', 'run, print its output, exit with its status')
      .example('$0 run -b ./bundles/busybox c1 echo hi', 'run another command (its flags are its own)')
      .example('$0 run -ti -b ./bundles/busybox -- sh', 'an interactive shell in a container with a made-up id')
      .example('$0 run -d --logs --name web -b ./bundles/busybox -m 64m -e A=1 httpd -f', 'detached; then "tsrun logs -f web", "tsrun stop web"')
      .example('$0 run -d -b ./bundles/busybox -v /srv/data:/data:ro', 'detached, a read-only volume; prints the made-up id')
      .epilogue(
        '\nAt a terminal, "run -d" sends the output to "tsrun logs ID" as --logs does (stdout a terminal, no -t, no --console-socket): ' +
          'it does not print over your prompt.  With stdout a pipe or a file (as engines call it) the container inherits it, as from runc.\n\n' +
          `In the foreground with -ti, the detach keys (${DEFAULT_DETACH_KEYS}; --detach-keys) leave the container running and return: ` +
          'its output then goes to "tsrun logs ID"; stop it with "tsrun stop ID", remove it with "tsrun rm ID".\n\n' +
          'In the foreground the exit status is the container\'s (128+N when signal N ended it).  Detached, no process of tsrun\'s ' +
          'waits for it, so "tsrun state" and "tsrun list" do not know it (as runc); what it printed is in "tsrun logs ID".',
      ) as Argv<Args>,
  handler: async (a) => {
    misplacedFlags(a);
    const { id, generated } = containerId(a, 'run');
    if (a.logs && !a.detach) throw new UsageError('run: --logs is for detached containers: add -d (in the foreground the output is printed)');
    if (a.tty && a.detach && !a['console-socket']) {
      throw new UsageError('run: -t with -d needs --console-socket (drop -d to use this terminal, or drop -t and use --logs)');
    }
    const keys = detachKeys('run', a);
    const noTerminal = needsTerminal('run', a);
    if (noTerminal) throw new UsageError(noTerminal);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const logs = a.logs || logsByDefault(a, (require('tty') as typeof import('tty')).isatty(1));
    let consoleSize: { height: number; width: number } | undefined;
    if (a.tty) {
      const { winSize } = await import('../../runtime/console');
      const ws = winSize();
      if (ws) consoleSize = { height: ws.rows, width: ws.cols };
    }
    const { run } = await import('../../runtime/run');
    exit.code = await run(contextFrom(a), {
      ...createOptions({ ...a, logs }, id, { tty: a.tty, consoleSize }),
      detach: a.detach,
      stdin: !a.tty || !!a.interactive,
      detachKeys: keys,
      notice: (m) => process.stderr.write(`tsrun: ${m}\n`),
    });
    if (a.detach && generated) process.stdout.write(`${id}\n`);
  },
};
