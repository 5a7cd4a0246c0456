import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
  format: string;
  'ps-args'?: string[];
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'ps <container-id> [ps-args..]',
  describe: 'list the processes of a container (host pids)',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('ps-args', { type: 'string', array: true })
      .option('format', { alias: 'f', type: 'string', choices: ['table', 'json'], default: 'table' })
      .example('$0 ps --format json c1', 'a JSON array of pids'),
  handler: async (a) => {
    const pids = (await import('../../runtime/cgroup-ops')).ps(contextFrom(a), a['container-id']);
    if (a.format === 'json') {
      process.stdout.write(JSON.stringify(pids) + '\n');
      return;
    }
    const args = a['ps-args']?.length ? a['ps-args'].map(String) : ['-ef'];
    // child_process costs ~3 ms to load: only ps needs it
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { execFileSync } = require('child_process') as typeof import('child_process');
    const out = execFileSync('ps', args, { encoding: 'utf8' }).split('\n');
    const header = out[0];
    const pidCol = header.trim().split(/\s+/).indexOf('PID');
    const rows = out.slice(1).filter((l) => l.trim() && pids.includes(Number(l.trim().split(/\s+/)[pidCol])));
    process.stdout.write([header, ...rows].join('\n') + '\n');
  },
};
