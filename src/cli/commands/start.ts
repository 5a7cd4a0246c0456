import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'start <container-id>',
  describe: 'run the process of a created container',
  builder: (y) => y.positional('container-id', { type: 'string', demandOption: true }).example('$0 start c1', ''),
  handler: async (a) => {
    const { start } = await import('../../runtime/start');
    start(contextFrom(a), a['container-id']);
  },
};
