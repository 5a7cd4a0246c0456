import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';
import { eachId } from '../report';

interface Args extends GlobalArgs {
  'container-id': string;
  'more-ids'?: string[];
  time: number;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'stop <container-id> [more-ids..]',
  describe: 'stop a container: its stop signal, then SIGKILL after a timeout',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('more-ids', { type: 'string', array: true, describe: 'more containers: stopped one after another, each printed once stopped' })
      .option('time', { alias: 't', type: 'number', default: 10, describe: 'seconds to wait after the stop signal before SIGKILL' })
      .example('$0 stop c1', 'SIGTERM (or the annotation org.opencontainers.image.stopSignal), SIGKILL 10 s later')
      .example('$0 stop -t 0 c1 && $0 rm c1', 'kill at once, then remove it')
      .example('$0 stop web db', 'both; the exit code is 1 if either could not be stopped')
      .epilogue('Waits until the container has stopped. A created or paused container gets SIGKILL at once; a stopped one is left as it is. The container stays: remove it with "tsrun rm".'),
  handler: async (a) => {
    const { stop } = await import('../../runtime/stop');
    const ctx = contextFrom(a);
    await eachId([a['container-id'], ...(a['more-ids'] ?? [])].map(String), (id) => stop(ctx, id, a.time));
  },
};
