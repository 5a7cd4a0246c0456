import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
  follow?: boolean;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'logs <container-id>',
  describe: 'print the output of a container made with --logs',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .option('follow', { alias: 'f', type: 'boolean', describe: 'keep printing new output until the container stops' })
      .example('$0 run -d --logs --name c1 -b ./bundles/busybox sh -c "echo hi"', 'stdout and stderr go to c1\'s log')
      .example('$0 logs -f c1', 'print it, then follow until c1 stops'),
  handler: async (a) => {
    const { logs } = await import('../../runtime/logs');
    await logs(contextFrom(a), a['container-id'], { follow: a.follow, write: (b) => process.stdout.write(b) });
  },
};
