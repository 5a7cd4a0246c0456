import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';
import { EXIT_CODE_NOTE } from '../terminal';

interface Args extends GlobalArgs {
  'container-id': string;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'state <container-id>',
  describe: 'print the OCI state of a container as JSON',
  builder: (y) => y.positional('container-id', { type: 'string', demandOption: true }).example('$0 state c1', '').epilogue(EXIT_CODE_NOTE),
  handler: async (a) => {
    const { load } = await import('../../runtime/container');
    const { stateText } = await import('../../runtime/front-record');
    const { rec, status } = load(contextFrom(a), a['container-id']);
    // the C front prints the same bytes from the front record
    process.stdout.write(stateText(rec, status));
  },
};
