import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';
import { trailingCommand } from '../argv';
import { exit } from '../exit';

interface Args extends GlobalArgs {
  'container-id': string;
  command?: string[];
  process?: string;
  env?: string[];
  cwd?: string;
  user?: string;
  'additional-gids'?: number[];
  cap?: string[];
  'no-new-privs'?: boolean;
  apparmor?: string;
  'process-label'?: string;
  tty?: boolean;
  interactive?: boolean;
  'console-socket'?: string;
  detach?: boolean;
  'pid-file'?: string;
  'preserve-fds': number;
  'ignore-paused'?: boolean;
  cgroup?: string;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'exec <container-id> [command..]',
  describe: 'run a process in a running container',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('command', { type: 'string', array: true })
      .option('process', { alias: 'p', type: 'string', describe: 'an OCI process JSON file ("-" for stdin)' })
      .option('env', { alias: 'e', type: 'string', array: true, nargs: 1, describe: 'KEY=VALUE (repeatable)' })
      .option('cwd', { type: 'string', describe: 'working directory in the container' })
      .option('user', { alias: 'u', type: 'string', describe: 'uid[:gid]' })
      .option('additional-gids', { alias: 'g', type: 'number', array: true, nargs: 1 })
      .option('cap', { alias: 'c', type: 'string', array: true, nargs: 1, describe: 'add a capability (repeatable)' })
      .option('no-new-privs', { type: 'boolean' })
      .option('apparmor', { type: 'string' })
      .option('process-label', { type: 'string' })
      .option('tty', { alias: 't', type: 'boolean', describe: 'allocate a pseudo-terminal; in the foreground tsrun relays it (else give --console-socket)' })
      .option('interactive', { alias: 'i', type: 'boolean', describe: 'with -t: send this terminal\'s input to the process (without -t stdin is always passed)' })
      .option('console-socket', { type: 'string' })
      .option('detach', { alias: 'd', type: 'boolean' })
      .option('pid-file', { type: 'string' })
      .option('preserve-fds', { type: 'number', default: 0 })
      .option('ignore-paused', { type: 'boolean' })
      .option('cgroup', { type: 'string', hidden: true, describe: 'ignored: the exec joins the container\'s cgroup' })
      .example('$0 exec c1 ps', 'run ps in c1, print its output, exit with its status')
      .example('$0 exec -ti c1 sh', 'an interactive shell in c1')
      .example('$0 exec -e A=1 -u 1000 c1 sh -c \'echo $A; id\'', 'with more environment, as another user')
      .example('$0 exec --process proc.json --detach --pid-file p c1', 'as podman does'),
  handler: async (a) => {
    const { exec } = await import('../../runtime/exec');
    exit.code = await exec(contextFrom(a), {
      id: a['container-id'],
      processFile: a.process,
      args: trailingCommand(a),
      env: a.env?.map(String),
      cwd: a.cwd,
      user: a.user,
      additionalGids: a['additional-gids'],
      caps: a.cap?.map(String),
      noNewPrivs: a['no-new-privs'],
      apparmor: a.apparmor,
      processLabel: a['process-label'],
      tty: a.tty,
      consoleSocket: a['console-socket'],
      detach: a.detach,
      pidFile: a['pid-file'],
      preserveFds: a['preserve-fds'],
      ignorePaused: a['ignore-paused'],
      stdin: !a.tty || !!a.interactive,
    });
  },
};
