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
      .example('$0 delete c1', 'remove a stopped (or created) container')
      .example('$0 rm -f c1', 'kill it first if it runs; no error if it does not exist')
      .epilogue('"rm" is "delete": without -f a running container is refused (stop it with "tsrun stop ID", or add -f).'),
  handler: async (a) => {
    const { deleteContainer } = await import('../../runtime/delete');
    deleteContainer(contextFrom(a), a['container-id'], a.force);
  },
};
