import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
  force?: boolean;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'delete <container-id>',
  aliases: ['rm'],
  describe: 'delete a container and everything tsrun made for it',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .option('force', { alias: 'f', type: 'boolean', describe: 'kill a running container first; no error if it does not exist' })
      .example('$0 delete -f c1', ''),
  handler: async (a) => {
    const { deleteContainer } = await import('../../runtime/delete');
    deleteContainer(contextFrom(a), a['container-id'], a.force);
  },
};
