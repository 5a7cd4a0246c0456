import * as fs from 'fs';
import * as path from 'path';
import type { Argv, CommandModule } from 'yargs';
import { shellWord } from '../../runtime/paths';
import { leadingRunFlags, trailingCommand } from '../argv';
import { UsageError } from '../../errors';
import { contextFrom } from '../context';
import { exit } from '../exit';
import { RUN_OPTIONS } from '../options';
import { needsTerminal } from '../terminal';
import { containerId, createFlags, createOptions, type CreateArgs } from './create';

interface Args extends CreateArgs {
  detach?: boolean;
  interactive?: boolean;
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
      .example('$0 run -d -b ./bundles/busybox -v /srv/data:/data:ro', 'detached, a read-only volume; prints the made-up id') as Argv<Args>,
  handler: async (a) => {
    misplacedFlags(a);
    const { id, generated } = containerId(a, 'run');
    if (a.logs && !a.detach) throw new UsageError('run: --logs is for detached containers: add -d (in the foreground the output is printed)');
    if (a.tty && a.detach && !a['console-socket']) {
      throw new UsageError('run: -t with -d needs --console-socket (drop -d to use this terminal, or drop -t and use --logs)');
    }
    const noTerminal = needsTerminal('run', a);
    if (noTerminal) throw new UsageError(noTerminal);
    let consoleSize: { height: number; width: number } | undefined;
    if (a.tty) {
      const { winSize } = await import('../../runtime/console');
      const ws = winSize();
      if (ws) consoleSize = { height: ws.rows, width: ws.cols };
    }
    const { run } = await import('../../runtime/run');
    exit.code = await run(contextFrom(a), {
      ...createOptions(a, id, { tty: a.tty, consoleSize }),
      detach: a.detach,
      stdin: !a.tty || !!a.interactive,
      notice: (m) => process.stderr.write(`tsrun: ${m}\n`),
    });
    if (a.detach && generated) process.stdout.write(`${id}\n`);
  },
};
