import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

export const command: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'prune',
  describe: 'remove write layers of lost containers and image layers no container in the data dir uses',
  builder: (y) => y.example('$0 --data-dir /var/lib/tsrun prune', ''),
  handler: async (a) => {
    const ctx = contextFrom(a);
    const { prune } = await import('../../image/store');
    const { layersInUse, pruneWriteLayers } = await import('../../runtime/rootfs');
    let writeLayers: string[] = [];
    // under prune's exclusive store lock: no create is between its steps
    const removed = await prune(ctx.dataDir, () => {
      writeLayers = pruneWriteLayers(ctx.dataDir);
      return layersInUse(ctx.dataDir);
    });
    process.stdout.write([...writeLayers, ...removed].map((d) => `${d}\n`).join(''));
  },
};
