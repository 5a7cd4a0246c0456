import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
  stats?: boolean;
  interval: number;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'events <container-id>',
  describe: 'print container resource statistics as JSON events',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .option('stats', { type: 'boolean', describe: 'print one stats event and exit' })
      .option('interval', { type: 'number', default: 5, describe: 'seconds between stats events' })
      .example('$0 events --stats c1', ''),
  handler: async (a) => {
    (await import('../../runtime/cgroup-ops')).events(contextFrom(a), a['container-id'], { stats: a.stats, interval: a.interval }, (e) =>
      process.stdout.write(JSON.stringify(e) + '\n'),
    );
  },
};
