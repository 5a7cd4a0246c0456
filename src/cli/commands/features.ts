import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../context';

export const command: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'features',
  describe: 'print the OCI features document of this build',
  builder: (y) => y.example('$0 features', ''),
  handler: async () => {
    process.stdout.write(JSON.stringify((await import('../../runtime/features')).features(), null, 2) + '\n');
  },
};
