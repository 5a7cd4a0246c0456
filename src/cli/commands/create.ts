import type { Argv, CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

export interface CreateArgs extends GlobalArgs {
  'container-id': string;
  bundle: string;
  'pid-file'?: string;
  'console-socket'?: string;
  'preserve-fds': number;
  'no-pivot'?: boolean;
  'no-new-keyring'?: boolean;
}

/** The flags create and run share. */
export function createFlags<T>(y: Argv<T>) {
  return y
    .positional('container-id', { type: 'string', describe: 'unique name of the container', demandOption: true })
    .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'bundle directory (holds config.json)' })
    .option('pid-file', { type: 'string', describe: 'write the container process pid to this file' })
    .option('console-socket', { type: 'string', describe: 'AF_UNIX socket that receives the pty master (process.terminal)' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'pass fds 3 .. 3+N-1 to the container' })
    .option('no-pivot', { type: 'boolean', describe: 'use MS_MOVE + chroot instead of pivot_root' })
    .option('no-new-keyring', { type: 'boolean', describe: 'keep the caller\'s session keyring' });
}

export function createOptions(a: CreateArgs) {
  return {
    id: a['container-id'],
    bundle: a.bundle,
    pidFile: a['pid-file'],
    consoleSocket: a['console-socket'],
    preserveFds: a['preserve-fds'],
    noPivot: a['no-pivot'],
    noNewKeyring: a['no-new-keyring'],
  };
}

export const command: CommandModule<GlobalArgs, CreateArgs> = {
  command: 'create <container-id>',
  describe: 'create a container: its process waits for "start"',
  builder: (y) =>
    createFlags(y).example('$0 create --bundle ./bundles/busybox c1', 'make c1; "tsrun start c1" runs its process') as Argv<CreateArgs>,
  handler: async (a) => {
    const { create } = await import('../../runtime/create');
    await create(contextFrom(a), createOptions(a));
  },
};
