import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
  time: number;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'stop <container-id>',
  describe: 'stop a container: its stop signal, then SIGKILL after a timeout',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .option('time', { alias: 't', type: 'number', default: 10, describe: 'seconds to wait after the stop signal before SIGKILL' })
      .example('$0 stop c1', 'SIGTERM (or the annotation org.opencontainers.image.stopSignal), SIGKILL 10 s later')
      .example('$0 stop -t 0 c1 && $0 rm c1', 'kill at once, then remove it')
      .epilogue('Waits until the container has stopped. A created or paused container gets SIGKILL at once; a stopped one is left as it is. The container stays: remove it with "tsrun rm".'),
  handler: async (a) => {
    const { stop } = await import('../../runtime/stop');
    await stop(contextFrom(a), a['container-id'], a.time);
  },
};
