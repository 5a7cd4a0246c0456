import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';
import { UsageError } from '../../errors';
import { DEFAULT_DETACH_KEYS, EXEC_OPTIONS } from '../options';
import { detachKeys, needsTerminal } from '../terminal';
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
  'detach-keys'?: string;
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
      .options(EXEC_OPTIONS)
      .example('$0 exec c1 ps', 'run ps in c1, print its output, exit with its status')
      .example('$0 exec -ti c1 sh', 'an interactive shell in c1')
      .example('$0 exec -w /etc c1 ls', 'in another working directory')
      .example('$0 exec -e A=1 -u 1000 c1 sh -c \'echo $A; id\'', 'with more environment, as another user')
      .example('$0 exec --process proc.json --detach --pid-file p c1', 'as podman does')
      .epilogue(`With -ti, the detach keys (${DEFAULT_DETACH_KEYS}; --detach-keys) leave the process running and return; its output is then discarded.`),
  handler: async (a) => {
    const keys = detachKeys('exec', a);
    const noTerminal = needsTerminal('exec', a);
    if (noTerminal) throw new UsageError(noTerminal);
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
      detachKeys: keys,
      notice: (m) => process.stderr.write(`tsrun: ${m}\n`),
    });
  },
};
