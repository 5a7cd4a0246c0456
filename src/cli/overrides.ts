// docker-style flags of `run` and `create` that change config.json for one
// container only: they edit the parsed spec before validation (create's
// `override` hook); the bundle's file is never written.
import * as path from 'path';
import { ConfigError } from '../errors';
import type { Spec } from '../spec/types';
import { parseBytes } from './commands/update';

export interface OverrideFlags {
  env?: string[];
  volume?: string[];
  memory?: string;
  cpus?: number;
  'cpu-shares'?: number;
  'cpuset-cpus'?: string;
  'pids-limit'?: number;
  hostname?: string;
  cwd?: string;
  user?: string;
  volatile?: boolean;
  /** -t: process.terminal */
  tty?: boolean;
  /** with -t: the size of tsrun's terminal (recorded; tsrun sets it on the pty) */
  consoleSize?: { height: number; width: number };
  /** the command after the id: process.args */
  args?: string[];
}


const bad = (msg: string) => new ConfigError([msg]);

/** Applies the flags to a parsed config.json (before validation). Pure but for -e KEY (reads this env). */
export function applyOverrides(spec: Spec, f: OverrideFlags): void {
  const needsProcess = f.env?.length || f.cwd || f.user || f.tty || f.args?.length;
  if (needsProcess) spec.process ??= { user: { uid: 0, gid: 0 }, cwd: '/', args: [] } as unknown as Spec['process'];
  const p = spec.process!;
  if (f.args?.length) p.args = f.args;
  if (f.tty) p.terminal = true;
  if (f.tty && f.consoleSize) p.consoleSize = f.consoleSize;
  if (f.env?.length) {
    const env = new Map((p.env ?? []).map((e) => [e.split('=')[0], e] as const));
    for (const e of f.env) {
      const eq = e.indexOf('=');
      if (eq === 0 || e === '') throw bad(`-e "${e}": expected KEY=VALUE`);
      if (eq < 0) {
        const v = process.env[e];
        if (v !== undefined) env.set(e, `${e}=${v}`);
        continue;
      }
      env.set(e.slice(0, eq), e);
    }
    p.env = [...env.values()];
  }
  if (f.cwd) {
    if (!f.cwd.startsWith('/')) throw bad(`--cwd "${f.cwd}": give an absolute path in the container`);
    p.cwd = f.cwd;
  }
  if (f.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(f.user);
    if (!m) throw bad(`--user "${f.user}": give a numeric uid[:gid] (e.g. 1000:1000)`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : 0 };
  }
  if (f.volume?.length) {
    const t = (spec.tsrun ??= {});
    t.volumes = [
      ...(t.volumes ?? []),
      ...f.volume.map((v) => {
        const i = v.indexOf(':');
        if (i <= 0) throw bad(`-v "${v}": expected HOST:CONTAINER[:ro]`);
        return path.resolve(v.slice(0, i)) + v.slice(i);
      }),
    ];
  }
  if (f.volatile) (spec.tsrun ??= {}).volatile = true;
  if (f.hostname !== undefined) {
    spec.hostname = f.hostname;
    const linux = (spec.linux ??= {});
    const ns = (linux.namespaces ??= []);
    if (!ns.some((n) => n.type === 'uts')) ns.push({ type: 'uts' });
  }
  const res = () => ((spec.linux ??= {}).resources ??= {});
  if (f.memory !== undefined) {
    const limit = parseBytes(f.memory, 'memory');
    if (limit <= 0) throw bad(`--memory "${f.memory}": give a positive size`);
    res().memory = { ...res().memory, limit };
  }
  if (f.cpus !== undefined) {
    if (!(f.cpus > 0)) throw bad(`--cpus ${f.cpus}: give a positive number of CPUs (1.5)`);
    const period = res().cpu?.period ?? 100000;
    res().cpu = { ...res().cpu, period, quota: Math.round(f.cpus * period) };
  }
  if (f['cpu-shares'] !== undefined) {
    if (!(f['cpu-shares'] > 0)) throw bad(`--cpu-shares ${f['cpu-shares']}: give a positive weight (1024 is the default)`);
    res().cpu = { ...res().cpu, shares: f['cpu-shares'] };
  }
  if (f['cpuset-cpus'] !== undefined) res().cpu = { ...res().cpu, cpus: f['cpuset-cpus'] };
  if (f['pids-limit'] !== undefined) {
    if (!Number.isInteger(f['pids-limit'])) throw bad(`--pids-limit ${f['pids-limit']}: give a whole number (-1: no limit)`);
    res().pids = { limit: f['pids-limit'] };
  }
}

/** The override hook for create/run, or undefined when no flag asks for a change. */
export function overrideFrom(f: OverrideFlags): ((spec: Spec) => void) | undefined {
  const given = (Object.keys(f) as (keyof OverrideFlags)[]).some((k) => {
    const v = f[k];
    return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== false;
  });
  return given ? (spec) => applyOverrides(spec, f) : undefined;
}
