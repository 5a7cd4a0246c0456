import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
}

export const pauseCommand: CommandModule<GlobalArgs, Args> = {
  command: 'pause <container-id>',
  describe: 'freeze every process of the container',
  builder: (y) => y.positional('container-id', { type: 'string', demandOption: true }).example('$0 pause c1', ''),
  handler: async (a) => (await import('../../runtime/cgroup-ops')).pause(contextFrom(a), a['container-id']),
};

export const resumeCommand: CommandModule<GlobalArgs, Args> = {
  command: 'resume <container-id>',
  describe: 'thaw a paused container',
  builder: (y) => y.positional('container-id', { type: 'string', demandOption: true }).example('$0 resume c1', ''),
  handler: async (a) => (await import('../../runtime/cgroup-ops')).resume(contextFrom(a), a['container-id']),
};
