import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'state <container-id>',
  describe: 'print the OCI state of a container as JSON',
  builder: (y) => y.positional('container-id', { type: 'string', demandOption: true }).example('$0 state c1', ''),
  handler: async (a) => {
    const { stateOf } = await import('../../runtime/container');
    process.stdout.write(JSON.stringify(stateOf(contextFrom(a), a['container-id']), null, 2) + '\n');
  },
};
