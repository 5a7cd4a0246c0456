import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors';
import { trailingCommand } from '../argv';
import { contextFrom, type GlobalArgs } from '../context';
import { CREATE_OPTIONS } from '../options';
import { overrideFrom, type OverrideFlags } from '../overrides';

export interface CreateArgs extends GlobalArgs, Omit<OverrideFlags, 'args' | 'tty' | 'consoleSize'> {
  'container-id'?: string;
  name?: string;
  command?: string[];
  bundle: string;
  'pid-file'?: string;
  'console-socket'?: string;
  'preserve-fds': number;
  'no-pivot'?: boolean;
  'no-new-keyring'?: boolean;
  logs?: boolean;
  tty?: boolean;
}

export const ID_RULE = [
  'Naming the container (flags come first, as in runc; the words after the id are the command):',
  '  VERB [flags] ID [COMMAND...]          the first word is the id (runc\'s form)',
  '  VERB [flags] --name ID [COMMAND...]   with --name every word is the command',
  '  run [flags] [-- COMMAND...]           no id: run makes one up (12 hex digits, printed);',
  '                                        create, as runc\'s, needs one',
  '',
  'Flags -e -v -m --cpus --cpu-shares --cpuset-cpus --pids-limit --hostname -w -u and the command',
  'change config.json for this container only: the bundle\'s file is never written.',
].join('\n');

/** The flags create and run share. */
export function createFlags<T>(y: Argv<T>, verb: 'run' | 'create') {
  return y
    .positional('container-id', { type: 'string', describe: 'unique name of the container (default: a made-up id)' })
    .positional('command', { type: 'string', array: true, describe: 'replaces process.args for this container' })
    .options(CREATE_OPTIONS)
    .epilogue(ID_RULE.replace(/VERB/g, verb));
}

/**
 * The id and whether tsrun made it up.  Only `run` makes one up: `create` is the
 * runc contract, where an engine that forgot the id must get an error, not a
 * container it cannot name (runtime-tools' create test).
 */
export function containerId(a: CreateArgs, verb: 'run' | 'create'): { id: string; generated: boolean } {
  if (a.name !== undefined && a['container-id'] !== undefined) {
    throw new UsageError(`give the id once: either --name ${a.name} or the word "${a['container-id']}"`);
  }
  const id = a.name ?? a['container-id'];
  if (id !== undefined) return { id: String(id), generated: false };
  if (verb === 'create') {
    throw new UsageError('create: missing <container-id> (create needs one, as runc\'s does; "tsrun run" makes one up)');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return { id: (require('../../runtime/id') as typeof import('../../runtime/id')).generateId(), generated: true };
}

export function createOptions(a: CreateArgs, id: string, extra: Pick<OverrideFlags, 'tty' | 'consoleSize'> = {}) {
  return {
    id,
    bundle: a.bundle,
    pidFile: a['pid-file'],
    consoleSocket: a['console-socket'],
    preserveFds: a['preserve-fds'],
    noPivot: a['no-pivot'],
    noNewKeyring: a['no-new-keyring'],
    logFile: a.logs,
    override: overrideFrom({
      env: a.env?.map(String),
      volume: a.volume?.map(String),
      memory: a.memory,
      cpus: a.cpus,
      'cpu-shares': a['cpu-shares'],
      'cpuset-cpus': a['cpuset-cpus'],
      'pids-limit': a['pids-limit'],
      hostname: a.hostname,
      cwd: a.cwd,
      user: a.user,
      volatile: a.volatile,
      args: trailingCommand(a as never),
      ...extra,
    }),
  };
}

export const command: CommandModule<GlobalArgs, CreateArgs> = {
  command: 'create [container-id] [command..]',
  describe: 'create a container: its process waits for "start"',
  builder: (y) =>
    createFlags(y, 'create')
      .example('$0 create --bundle ./bundles/busybox c1', 'make c1; "tsrun start c1" runs its process')
      .example('$0 create -b ./bundles/busybox --logs -m 64m c1 sh -c "echo hi"', 'another command, a memory limit, output to "tsrun logs c1"')
      .example('$0 create -b ./bundles/busybox --name c1 sh', 'with --name every word is the command') as Argv<CreateArgs>,
  handler: async (a) => {
    const { id } = containerId(a, 'create');
    const { create } = await import('../../runtime/create');
    await create(contextFrom(a), createOptions(a, id));
  },
};
