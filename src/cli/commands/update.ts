import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import { ConfigError } from '../../errors';
import type { Resources } from '../../spec/types';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
  resources?: string;
  memory?: string;
  'memory-reservation'?: string;
  'memory-swap'?: string;
  'pids-limit'?: number;
  'cpu-shares'?: number;
  'cpu-quota'?: number;
  'cpu-period'?: number;
  'cpu-rt-runtime'?: number;
  'cpu-rt-period'?: number;
  'cpuset-cpus'?: string;
  'cpuset-mems'?: string;
  'blkio-weight'?: number;
}

/** "64m", "1g", "1024", "-1" -> bytes */
export function parseBytes(v: string, flag: string): number {
  const m = /^(-1|\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(v.trim());
  if (!m) throw new ConfigError([`--${flag}: invalid size "${v}"`]);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return m[1] === '-1' ? -1 : Math.round(Number(m[1]) * mult);
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'update <container-id>',
  describe: 'change the resource limits of a running container',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .option('resources', { alias: 'r', type: 'string', describe: 'LinuxResources JSON file ("-" for stdin)' })
      .option('memory', { type: 'string', describe: 'memory limit (e.g. 64m)' })
      .option('memory-reservation', { type: 'string' })
      .option('memory-swap', { type: 'string', describe: 'memory + swap limit' })
      .option('pids-limit', { type: 'number' })
      .option('cpu-shares', { type: 'number' })
      .option('cpu-quota', { type: 'number' })
      .option('cpu-period', { type: 'number' })
      .option('cpu-rt-runtime', { type: 'number' })
      .option('cpu-rt-period', { type: 'number' })
      .option('cpuset-cpus', { type: 'string' })
      .option('cpuset-mems', { type: 'string' })
      .option('blkio-weight', { type: 'number' })
      .example('$0 update --memory 64m --pids-limit 100 c1', '')
      .example('echo \'{"memory":{"limit":67108864}}\' | $0 update -r - c1', ''),
  handler: async (a) => {
    let r: Resources = {};
    if (a.resources) {
      try {
        r = JSON.parse(fs.readFileSync(a.resources === '-' ? 0 : a.resources, 'utf8')) as Resources;
      } catch (e) {
        throw new ConfigError([`--resources ${a.resources}: ${(e as Error).message}`]);
      }
      const { validateResourcesFile } = await import('../../spec/validate');
      r = validateResourcesFile(r, a.resources === '-' ? 'resources' : a.resources);
    }
    const mem = (r.memory ??= {});
    if (a.memory !== undefined) mem.limit = parseBytes(a.memory, 'memory');
    if (a['memory-reservation'] !== undefined) mem.reservation = parseBytes(a['memory-reservation'], 'memory-reservation');
    if (a['memory-swap'] !== undefined) mem.swap = parseBytes(a['memory-swap'], 'memory-swap');
    if (Object.keys(mem).length === 0) delete r.memory;
    const cpu = (r.cpu ??= {});
    if (a['cpu-shares'] !== undefined) cpu.shares = a['cpu-shares'];
    if (a['cpu-quota'] !== undefined) cpu.quota = a['cpu-quota'];
    if (a['cpu-period'] !== undefined) cpu.period = a['cpu-period'];
    if (a['cpu-rt-runtime'] !== undefined) cpu.realtimeRuntime = a['cpu-rt-runtime'];
    if (a['cpu-rt-period'] !== undefined) cpu.realtimePeriod = a['cpu-rt-period'];
    if (a['cpuset-cpus'] !== undefined) cpu.cpus = a['cpuset-cpus'];
    if (a['cpuset-mems'] !== undefined) cpu.mems = a['cpuset-mems'];
    if (Object.keys(cpu).length === 0) delete r.cpu;
    if (a['pids-limit'] !== undefined) r.pids = { limit: a['pids-limit'] };
    if (a['blkio-weight'] !== undefined) r.blockIO = { ...r.blockIO, weight: a['blkio-weight'] };
    (await import('../../runtime/cgroup-ops')).update(contextFrom(a), a['container-id'], r);
  },
};
