// linux.resources -> cgroup files, for v1 controllers and the v2 unified
// hierarchy, following runc's libcontainer/cgroups/fs and fs2 (values, order,
// conversions).  Unset values (undefined, and 0 where runc treats 0 as unset)
// are skipped.
import * as path from 'path';
import type { Resources } from '../spec/types';
import { TsrunError, UnsupportedError } from '../errors';
import { CgroupWriteError, codeOf, exists, readFile, readNumber, writeFile } from './fs';

export type Paths = Record<string, string>;

// ---- conversions (runc libcontainer/cgroups/utils.go) -------------------------

/** cpu.shares (2..262144) -> cpu.weight (1..10000). */
export function sharesToWeight(shares: number): number {
  if (!shares) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) -> io.weight (1..10000). */
export function blkioToIoWeight(w: number): number {
  if (!w) return 0;
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

/**
 * OCI memory.swap (memory+swap, v1 semantics) -> v2 memory.swap.max (swap
 * only).  Returns -1 for "max", 0 for unset.  runc ConvertMemorySwapToCgroupV2Value.
 */
export function swapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (memory === 0 || memory === -1) throw new TsrunError('cgroup: unable to set swap limit without memory limit');
  if (memory < 0) throw new TsrunError(`cgroup: invalid memory value: ${memory}`);
  if (swap < memory) throw new TsrunError('cgroup: memory+swap limit should be >= memory limit');
  return swap - memory;
}

/** v2 number: 0 -> "" (unset), -1 (or any negative) -> "max". */
const v2num = (n: number | undefined): string => (!n ? '' : n < 0 ? 'max' : String(n));

function need(paths: Paths, ctrl: string, what: string): string {
  const p = paths[ctrl];
  if (!p) throw new UnsupportedError(`cgroup: the ${ctrl} controller is not available on this host, cannot apply ${what}`);
  return p;
}

const join = path.join;

// ---- cgroup v1 -----------------------------------------------------------------

function v1Memory(paths: Paths, r: Resources): void {
  const m = r.memory;
  if (!m) return;
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  const any = limit || swap || m.reservation || m.disableOOMKiller || (m.swappiness !== undefined && m.swappiness !== -1);
  if (!any) return; // kernel/kernelTCP are deprecated and ignored, as runc does
  const dir = need(paths, 'memory', 'linux.resources.memory');
  const memFile = join(dir, 'memory.limit_in_bytes');
  const swapFile = join(dir, 'memory.memsw.limit_in_bytes');
  const setMem = (v: number): void => {
    if (!v) return;
    try {
      writeFile(memFile, String(v));
    } catch (err) {
      if (err instanceof CgroupWriteError && codeOf(err.err) === 'EBUSY') {
        const usage = readFile(join(dir, 'memory.usage_in_bytes'));
        const peak = readFile(join(dir, 'memory.max_usage_in_bytes'));
        throw new CgroupWriteError(memFile, err.err, ` (unable to set memory limit to ${v}: current usage ${usage}, peak usage ${peak})`);
      }
      throw err;
    }
  };
  const setSwap = (v: number): void => {
    if (v) writeFile(swapFile, String(v));
  };
  // memory -1 and swap unset: also lift the swap limit (if swap accounting exists)
  if (limit === -1 && swap === 0 && exists(swapFile)) swap = -1;
  let done = false;
  if (limit !== 0 && swap !== 0) {
    // Order so that memory <= memsw holds at every step: raising -> swap first.
    const cur = readNumber(memFile) ?? 0;
    if (swap === -1 || cur < swap) {
      setSwap(swap);
      setMem(limit);
      done = true;
    }
  }
  if (!done) {
    setMem(limit);
    setSwap(swap);
  }
  if (m.reservation) writeFile(join(dir, 'memory.soft_limit_in_bytes'), String(m.reservation));
  if (m.disableOOMKiller) writeFile(join(dir, 'memory.oom_control'), '1');
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    if (m.swappiness < 0 || m.swappiness > 100)
      throw new TsrunError(`cgroup: invalid memory swappiness ${m.swappiness}: valid range is 0-100`);
    writeFile(join(dir, 'memory.swappiness'), String(m.swappiness));
  }
}

/** Writes a, then b; if a fails with EINVAL and b is going to be set, retry a after b. */
function writePair(fileA: string, a: string, fileB: string, b: string | undefined): void {
  let retryA = false;
  try {
    writeFile(fileA, a);
  } catch (err) {
    if (!(err instanceof CgroupWriteError && codeOf(err.err) === 'EINVAL' && b !== undefined)) throw err;
    retryA = true;
  }
  if (b !== undefined) writeFile(fileB, b);
  if (retryA) writeFile(fileA, a);
}

function v1Cpu(paths: Paths, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  const any = c.shares || c.quota || c.period || c.burst !== undefined || c.idle !== undefined || c.realtimePeriod || c.realtimeRuntime;
  if (any) {
    const dir = need(paths, 'cpu', 'linux.resources.cpu');
    if (c.shares) {
      writeFile(join(dir, 'cpu.shares'), String(c.shares));
      const got = readNumber(join(dir, 'cpu.shares'));
      if (got !== undefined && c.shares > got) throw new TsrunError(`cgroup: the maximum allowed cpu-shares is ${got}`);
      if (got !== undefined && c.shares < got) throw new TsrunError(`cgroup: the minimum allowed cpu-shares is ${got}`);
    }
    const quota = c.quota ? String(c.quota) : undefined;
    if (c.period) writePair(join(dir, 'cpu.cfs_period_us'), String(c.period), join(dir, 'cpu.cfs_quota_us'), quota);
    else if (quota) writeFile(join(dir, 'cpu.cfs_quota_us'), quota);
    if (c.burst !== undefined && exists(join(dir, 'cpu.cfs_burst_us'))) writeFile(join(dir, 'cpu.cfs_burst_us'), String(c.burst));
    if (c.idle !== undefined) writeFile(join(dir, 'cpu.idle'), String(c.idle));
    if (c.realtimePeriod)
      writePair(
        join(dir, 'cpu.rt_period_us'),
        String(c.realtimePeriod),
        join(dir, 'cpu.rt_runtime_us'),
        c.realtimeRuntime ? String(c.realtimeRuntime) : undefined,
      );
    else if (c.realtimeRuntime) writeFile(join(dir, 'cpu.rt_runtime_us'), String(c.realtimeRuntime));
  }
  if (c.cpus || c.mems) {
    const dir = need(paths, 'cpuset', 'linux.resources.cpu.cpus/mems');
    if (c.cpus) writeFile(join(dir, 'cpuset.cpus'), c.cpus);
    if (c.mems) writeFile(join(dir, 'cpuset.mems'), c.mems);
  }
}

function v1Blkio(paths: Paths, r: Resources): void {
  const b = r.blockIO;
  if (!b) return;
  const any =
    b.weight ||
    b.leafWeight ||
    b.weightDevice?.length ||
    b.throttleReadBpsDevice?.length ||
    b.throttleWriteBpsDevice?.length ||
    b.throttleReadIOPSDevice?.length ||
    b.throttleWriteIOPSDevice?.length;
  if (!any) return;
  const dir = need(paths, 'blkio', 'linux.resources.blockIO');
  const bfq = exists(join(dir, 'blkio.bfq.weight'));
  const weightFile = join(dir, bfq ? 'blkio.bfq.weight' : 'blkio.weight');
  const weightDevFile = join(dir, bfq ? 'blkio.bfq.weight_device' : 'blkio.weight_device');
  if (b.weight) writeFile(weightFile, String(b.weight));
  if (b.leafWeight) writeFile(join(dir, 'blkio.leaf_weight'), String(b.leafWeight));
  for (const wd of b.weightDevice ?? []) {
    if (wd.weight) writeFile(weightDevFile, `${wd.major}:${wd.minor} ${wd.weight}`);
    if (wd.leafWeight) writeFile(join(dir, 'blkio.leaf_weight_device'), `${wd.major}:${wd.minor} ${wd.leafWeight}`);
  }
  const thr: Array<[string, typeof b.throttleReadBpsDevice]> = [
    ['blkio.throttle.read_bps_device', b.throttleReadBpsDevice],
    ['blkio.throttle.write_bps_device', b.throttleWriteBpsDevice],
    ['blkio.throttle.read_iops_device', b.throttleReadIOPSDevice],
    ['blkio.throttle.write_iops_device', b.throttleWriteIOPSDevice],
  ];
  for (const [file, list] of thr) for (const t of list ?? []) writeFile(join(dir, file), `${t.major}:${t.minor} ${t.rate}`);
}

function pidsValue(limit: number): string {
  // 0 or negative = unlimited
  return limit > 0 ? String(limit) : 'max';
}

function hugetlb(dir: string, r: Resources, v2: boolean): void {
  for (const h of r.hugepageLimits ?? []) {
    const base = join(dir, `hugetlb.${h.pageSize}.`);
    const file = base + (v2 ? 'max' : 'limit_in_bytes');
    const rsvd = base + (v2 ? 'rsvd.max' : 'rsvd.limit_in_bytes');
    const value = v2 ? v2num(h.limit) || '0' : String(h.limit);
    writeFile(file, value);
    // reservation accounting (kernel >= 5.7): keep it in step, as runc does
    if (exists(rsvd)) writeFile(rsvd, value);
  }
}

function rdma(dir: string, r: Resources): void {
  for (const [dev, l] of Object.entries(r.rdma ?? {})) {
    let line = dev;
    if (l.hcaHandles !== undefined) line += ` hca_handle=${l.hcaHandles}`;
    if (l.hcaObjects !== undefined) line += ` hca_object=${l.hcaObjects}`;
    writeFile(join(dir, 'rdma.max'), line);
  }
}

export function applyV1(paths: Paths, r: Resources): void {
  v1Memory(paths, r);
  v1Cpu(paths, r);
  if (r.pids) writeFile(join(need(paths, 'pids', 'linux.resources.pids'), 'pids.max'), pidsValue(r.pids.limit));
  v1Blkio(paths, r);
  if (r.hugepageLimits?.length) hugetlb(need(paths, 'hugetlb', 'linux.resources.hugepageLimits'), r, false);
  if (r.network?.classID) writeFile(join(need(paths, 'net_cls', 'linux.resources.network.classID'), 'net_cls.classid'), String(r.network.classID));
  for (const p of r.network?.priorities ?? [])
    writeFile(join(need(paths, 'net_prio', 'linux.resources.network.priorities'), 'net_prio.ifpriomap'), `${p.name} ${p.priority}`);
  if (r.rdma && Object.keys(r.rdma).length) rdma(need(paths, 'rdma', 'linux.resources.rdma'), r);
}

// ---- cgroup v2 -----------------------------------------------------------------

function v2Memory(dir: string, r: Resources): void {
  const m = r.memory;
  if (!m) return;
  // swappiness: cgroup v2 has no per-cgroup swappiness; runc ignores it there.
  // disableOOMKiller: cgroup v2 has no equivalent; runc ignores it there too.
  // kernel/kernelTCP: deprecated, ignored.
  const limit = m.limit ?? 0;
  const swapOci = m.swap ?? 0;
  if (!limit && !swapOci && !m.reservation) return;
  const swap = swapToV2(swapOci, limit);
  let swapStr = v2num(swap);
  if (swapStr === '' && swap === 0 && swapOci > 0) swapStr = '0'; // memory == memory+swap: no swap
  if (swapStr !== '') {
    try {
      writeFile(join(dir, 'memory.swap.max'), swapStr);
    } catch (err) {
      // without swap accounting, "max" and "0" are no-ops: ignore as runc does
      if (!(err instanceof CgroupWriteError && codeOf(err.err) === 'ENOENT' && (swapStr === 'max' || swapStr === '0'))) throw err;
    }
  }
  const lim = v2num(limit);
  if (lim) writeFile(join(dir, 'memory.max'), lim);
  const low = v2num(m.reservation);
  if (low) writeFile(join(dir, 'memory.low'), low);
}

function v2Cpu(dir: string, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  if (c.idle !== undefined) writeFile(join(dir, 'cpu.idle'), String(c.idle));
  if (c.shares) writeFile(join(dir, 'cpu.weight'), String(sharesToWeight(c.shares)));
  let burstPending: string | undefined;
  if (c.burst !== undefined) {
    const burst = String(c.burst);
    try {
      writeFile(join(dir, 'cpu.max.burst'), burst);
    } catch (err) {
      // larger than the old quota allows: retry after the quota is set
      if (!(err instanceof CgroupWriteError && codeOf(err.err) === 'EINVAL' && c.quota)) throw err;
      burstPending = burst;
    }
  }
  if (c.quota || c.period) {
    let v = c.quota && c.quota > 0 ? String(c.quota) : 'max';
    if (c.period) v += ` ${c.period}`;
    writeFile(join(dir, 'cpu.max'), v);
    if (burstPending !== undefined) writeFile(join(dir, 'cpu.max.burst'), burstPending);
  }
  if (c.cpus) writeFile(join(dir, 'cpuset.cpus'), c.cpus);
  if (c.mems) writeFile(join(dir, 'cpuset.mems'), c.mems);
}

function v2Io(dir: string, r: Resources): void {
  const b = r.blockIO;
  if (!b) return;
  const bfqFile = join(dir, 'io.bfq.weight');
  const bfq = exists(bfqFile);
  if (b.weight) {
    if (bfq) writeFile(bfqFile, String(b.weight));
    else writeFile(join(dir, 'io.weight'), String(blkioToIoWeight(b.weight)));
  }
  for (const wd of b.weightDevice ?? []) {
    if (!wd.weight) continue;
    if (bfq) writeFile(bfqFile, `${wd.major}:${wd.minor} ${wd.weight}`);
    else writeFile(join(dir, 'io.weight'), `${wd.major}:${wd.minor} ${blkioToIoWeight(wd.weight)}`);
  }
  // one io.max line per device: "maj:min rbps=.. wbps=.. riops=.. wiops=.."
  const lines = new Map<string, string[]>();
  const add = (key: string, list: typeof b.throttleReadBpsDevice): void => {
    for (const t of list ?? []) {
      const dev = `${t.major}:${t.minor}`;
      if (!lines.has(dev)) lines.set(dev, []);
      lines.get(dev)!.push(`${key}=${t.rate}`);
    }
  };
  add('rbps', b.throttleReadBpsDevice);
  add('wbps', b.throttleWriteBpsDevice);
  add('riops', b.throttleReadIOPSDevice);
  add('wiops', b.throttleWriteIOPSDevice);
  for (const [dev, kv] of lines) writeFile(join(dir, 'io.max'), `${dev} ${kv.join(' ')}`);
}

/** Controllers available in a v2 cgroup dir (its cgroup.controllers). */
export function v2Controllers(dir: string): Set<string> {
  return new Set((readFile(join(dir, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean));
}

/**
 * linux.resources.unified: key = file name in the cgroup dir.  Keys must name
 * a file of an available controller (or a core "cgroup.*" file).
 */
export function applyUnified(dir: string, unified: Record<string, string>, hybrid: boolean): void {
  const avail = v2Controllers(dir);
  for (const [key, value] of Object.entries(unified)) {
    if (key.includes('/') || key === '.' || key === '..' || key === '')
      throw new TsrunError(`cgroup: invalid linux.resources.unified key "${key}"`);
    const ctrl = key.split('.')[0];
    if (ctrl !== 'cgroup' && !avail.has(ctrl)) {
      throw new UnsupportedError(
        `cgroup: linux.resources.unified["${key}"]: controller "${ctrl}" is not available in ${dir}` +
          (hybrid ? ' (on this hybrid host the controller is bound to cgroup v1)' : ''),
      );
    }
    writeFile(join(dir, key), value);
  }
}

/** v2 controllers the resources need, each with the config field that needs it. */
export function v2Needs(r: Resources): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const m = r.memory;
  if (m && (m.limit || m.swap || m.reservation)) out.push(['memory', 'linux.resources.memory']);
  const c = r.cpu;
  if (c && (c.idle !== undefined || c.shares || c.burst !== undefined || c.quota || c.period)) out.push(['cpu', 'linux.resources.cpu']);
  if (c && (c.cpus || c.mems)) out.push(['cpuset', 'linux.resources.cpu.cpus/mems']);
  if (r.pids) out.push(['pids', 'linux.resources.pids']);
  const b = r.blockIO;
  if (
    b &&
    (b.weight ||
      b.weightDevice?.some((w) => w.weight) ||
      b.throttleReadBpsDevice?.length ||
      b.throttleWriteBpsDevice?.length ||
      b.throttleReadIOPSDevice?.length ||
      b.throttleWriteIOPSDevice?.length)
  )
    out.push(['io', 'linux.resources.blockIO']);
  if (r.hugepageLimits?.length) out.push(['hugetlb', 'linux.resources.hugepageLimits']);
  if (r.rdma && Object.keys(r.rdma).length) out.push(['rdma', 'linux.resources.rdma']);
  return out;
}

export function applyV2(dir: string, r: Resources): void {
  // a clear error, before any write, for a limit whose controller this
  // cgroup does not have (e.g. bound to v1 on a hybrid host, or not enabled
  // in the parent's cgroup.subtree_control)
  const avail = v2Controllers(dir);
  for (const [ctrl, what] of v2Needs(r)) {
    if (!avail.has(ctrl)) {
      throw new UnsupportedError(
        `cgroup: ${what} needs the cgroup v2 "${ctrl}" controller, which is not available in ${dir} ` +
          `(cgroup.controllers: "${[...avail].join(' ')}")`,
      );
    }
  }
  v2Memory(dir, r);
  v2Cpu(dir, r);
  if (r.pids) writeFile(join(dir, 'pids.max'), pidsValue(r.pids.limit));
  v2Io(dir, r);
  if (r.hugepageLimits?.length) hugetlb(dir, r, true);
  // network classID/priorities have no cgroup v2 files (runc ignores them on v2)
  if (r.rdma && Object.keys(r.rdma).length) rdma(dir, r);
  if (r.unified && Object.keys(r.unified).length) applyUnified(dir, r.unified, false);
}
