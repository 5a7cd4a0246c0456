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
  /** as typed (parsed here, so a bad value is quoted as it was given) */
  cpus?: string | number;
  'cpu-shares'?: string | number;
  'cpuset-cpus'?: string;
  'pids-limit'?: string | number;
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

/** The smallest -m: below it a container cannot start (and a size without a unit is bytes: -m 64 is a mistake). */
export const MIN_MEMORY = 1024 * 1024;
/** The kernel's smallest CFS quota is 1 ms: of the 100 ms period, 0.01 CPUs. */
const MIN_QUOTA_US = 1000;

/** The host facts resource flags are checked against. */
export interface Host {
  /** the online CPUs' numbers (/sys/devices/system/cpu/online) */
  cpus: number[];
}

/** "0-2,4" -> [0, 1, 2, 4]; undefined when it is not such a list. */
export function parseCpuList(s: string): number[] | undefined {
  const out: number[] = [];
  for (const part of s.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a || b - a > 65536) return undefined;
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

/** [0, 1, 2, 4] -> "0-2,4" */
export function formatCpuList(cpus: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length; i++) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    out.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j;
  }
  return out.join(',');
}

/** This machine's online CPUs. */
export function hostFacts(): Host {
  let cpus: number[] | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cpus = parseCpuList((require('fs') as typeof import('fs')).readFileSync('/sys/devices/system/cpu/online', 'utf8'));
  } catch {
    cpus = undefined;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return { cpus: cpus ?? [...Array((require('os') as typeof import('os')).cpus().length).keys()] };
}

/** A flag's number as typed: undefined when it is not one (yargs would give NaN, or parse "0x10"). */
function numberOf(v: string | number): number | undefined {
  const t = String(v).trim();
  return /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) ? Number(t) : undefined;
}

/** Applies the flags to a parsed config.json (before validation). Pure but for -e KEY (reads this env) and the host's CPUs. */
export function applyOverrides(spec: Spec, f: OverrideFlags, host: Host = hostFacts()): void {
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
    const limit = /^\s*-/.test(f.memory) ? -1 : parseBytes(f.memory, 'memory');
    if (limit <= 0) throw bad(`--memory "${f.memory}": give a positive size, e.g. 64m or 1g`);
    if (limit < MIN_MEMORY) {
      const unit = /^\s*[\d.]+\s*$/.test(f.memory) ? ' (a size without a unit is in bytes: 64m is 64 MiB)' : '';
      throw bad(`--memory "${f.memory}": ${limit} bytes is below the minimum of 1 MiB (1m)${unit}`);
    }
    res().memory = { ...res().memory, limit };
  }
  if (f.cpus !== undefined) {
    const cpus = numberOf(f.cpus);
    if (cpus === undefined || !(cpus > 0)) throw bad(`--cpus "${f.cpus}": give a positive number of CPUs, e.g. 1.5`);
    const n = host.cpus.length;
    if (cpus > n) throw bad(`--cpus "${f.cpus}": this machine has ${n} CPU${n === 1 ? '' : 's'} online: give at most ${n}`);
    const period = spec.linux?.resources?.cpu?.period ?? 100000;
    const quota = Math.round(cpus * period);
    if (quota < MIN_QUOTA_US) throw bad(`--cpus "${f.cpus}": give at least ${MIN_QUOTA_US / period} (the kernel's smallest quota is 1 ms of every ${period / 1000} ms)`);
    res().cpu = { ...res().cpu, period, quota };
  }
  if (f['cpu-shares'] !== undefined) {
    const shares = numberOf(f['cpu-shares']);
    if (shares === undefined || !Number.isInteger(shares) || shares < 2 || shares > 262144)
      throw bad(`--cpu-shares "${f['cpu-shares']}": give a whole number from 2 to 262144 (1024 is the default weight)`);
    res().cpu = { ...res().cpu, shares };
  }
  if (f['cpuset-cpus'] !== undefined) {
    const want = parseCpuList(f['cpuset-cpus']);
    if (!want?.length) throw bad(`--cpuset-cpus "${f['cpuset-cpus']}": give CPU numbers and ranges, e.g. 0-1,3`);
    const offline = want.filter((c) => !host.cpus.includes(c));
    if (offline.length) {
      throw bad(`--cpuset-cpus "${f['cpuset-cpus']}": CPU ${formatCpuList(offline)} ${offline.length === 1 ? 'is' : 'are'} not online here: give some of ${formatCpuList(host.cpus)}`);
    }
    res().cpu = { ...res().cpu, cpus: f['cpuset-cpus'].trim() };
  }
  if (f['pids-limit'] !== undefined) {
    const limit = numberOf(f['pids-limit']);
    if (limit === undefined || !Number.isInteger(limit) || (limit < 1 && limit !== -1))
      throw bad(`--pids-limit "${f['pids-limit']}": give a positive whole number of processes (or -1 for no limit)`);
    res().pids = { limit };
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
