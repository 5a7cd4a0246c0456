import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';
import { eachId } from '../report';

interface Args extends GlobalArgs {
  'container-id': string;
  /** rm a b c (absent on the fast path, [] from yargs) */
  'more-ids'?: string[];
  force?: boolean;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'delete <container-id> [more-ids..]',
  aliases: ['rm'],
  describe: 'delete a container and everything tsrun made for it',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('more-ids', { type: 'string', array: true, describe: 'more containers: each is tried, and printed once removed' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'kill a running container first; no error if it does not exist' })
      .example('$0 delete c1', 'remove a stopped (or created) container')
      .example('$0 rm -f c1', 'kill it first if it runs; no error if it does not exist')
      .example('$0 rm c1 c2 c3', 'each one removed is printed; the exit code is 1 if any could not be')
      .epilogue('"rm" is "delete": without -f a running container is refused (stop it with "tsrun stop ID", or add -f).'),
  handler: async (a) => {
    const { deleteContainer } = await import('../../runtime/delete');
    const ctx = contextFrom(a);
    await eachId([a['container-id'], ...(a['more-ids'] ?? [])].map(String), (id) => deleteContainer(ctx, id, a.force));
  },
};
