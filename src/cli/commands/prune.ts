import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

export const command: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'prune',
  describe: 'remove image layers no container in the data dir uses',
  builder: (y) => y.example('$0 --data-dir /var/lib/tsrun prune', ''),
  handler: async (a) => {
    const ctx = contextFrom(a);
    const { prune } = await import('../../image/store');
    const { layersInUse } = await import('../../runtime/rootfs');
    const removed = await prune(ctx.dataDir, () => layersInUse(ctx.dataDir));
    process.stdout.write(removed.map((d) => `${d}\n`).join(''));
  },
};
