import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
  signal?: string;
  all?: boolean;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'kill <container-id> [signal]',
  describe: 'send a signal (default SIGTERM) to the container process',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('signal', { type: 'string', describe: 'name (TERM, SIGKILL) or number' })
      .option('all', { alias: 'a', type: 'boolean', describe: 'signal every process in the container' })
      .example('$0 kill c1 KILL', ''),
  handler: async (a) => {
    const { kill } = await import('../../runtime/kill');
    kill(contextFrom(a), a['container-id'], a.signal, a.all);
  },
};
