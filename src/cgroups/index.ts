// Container cgroups on cgroup v1, v2 and hybrid hosts (cgroupfs driver).
// Synchronous by design: it is called from the CLI.  Cheap to import: koffi
// is only loaded (through src/sys/bpf.ts) when a v2 device filter is set.
import * as fs from 'fs';
import * as path from 'path';
import type { Device, Resources } from '../spec/types';
import { ConfigError, SystemError, TsrunError, UnsupportedError, withCleanupErrors } from '../errors';
import { childDirs, codeOf, exists, isProtected, isRootCgroup, mkdir, readFile, readKeyValues, reason, recordAs, recordOps, rmdir, sleepMs, writeFile, type CgroupOp } from './fs';
import { applyUnified, applyV1, applyV2, v2Controllers } from './resources';
import { deviceFilter, effectiveRules, encode, v1Writes } from './devices';
import { collectStats } from './stats';

export type { CgroupOp };
export type CgroupMode = 'v1' | 'v2' | 'hybrid';
export interface CgroupRecord {
  mode: CgroupMode;
  /** controller name ('memory','cpu',...,'unified' for the v2 hierarchy) -> absolute directory */
  paths: Record<string, string>;
  /** rootless on cgroup v2: the delegated cgroup it was made below (never removed with it) */
  base?: string;
}

export interface SetupOptions {
  id: string;
  cgroupsPath?: string;
  resources?: Resources;
  systemd?: boolean;
  root?: string;
  /** linux.devices: each node gets an "allow rwm" device rule, as runc does. */
  devices?: Device[];
  /** Leave device access alone (runc's SkipDevices; for callers that manage it elsewhere). */
  skipDevices?: boolean;
  /** Called with the record before any directory is made (to persist it, or to refuse it by throwing). */
  onPlanned?: (rec: CgroupRecord) => void;
  /** Filled with what setupCgroup does, for a replay record (src/runtime/replay.ts). */
  record?: CgroupOp[];
  /**
   * Rootless on cgroup v2: the cgroup delegated to the caller (a path from
   * the hierarchy root, src/runtime/rootless.ts); the container's cgroup and
   * its cgroupsPath go below it; device rules are skipped.
   */
  base?: string;
}

const DEFAULT_ROOT = '/sys/fs/cgroup';
const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_SUPER_MAGIC = 0x27e0eb;

/**
 * v1 hierarchies we create cgroups in.  "systemd" is the named hierarchy
 * (name=systemd) a hybrid systemd host mounts at /sys/fs/cgroup/systemd: no
 * controller, but the container gets its own cgroup there as with runc,
 * or the container's /sys/fs/cgroup/systemd would show the host's whole tree.
 */
export const V1_CONTROLLERS = [
  'systemd',
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'pids',
  'blkio',
  'devices',
  'freezer',
  'hugetlb',
  'net_cls',
  'net_prio',
  'perf_event',
  'rdma',
  'misc',
] as const;

function fsType(p: string): number | undefined {
  try {
    return fs.statfsSync(p).type;
  } catch {
    return undefined;
  }
}

/** Detects the host's cgroup layout under root (default /sys/fs/cgroup). */
export function detectMode(root = DEFAULT_ROOT): CgroupMode {
  if (fsType(root) === CGROUP2_SUPER_MAGIC || exists(path.join(root, 'cgroup.controllers'))) return 'v2';
  const uni = path.join(root, 'unified');
  if (fsType(uni) === CGROUP2_SUPER_MAGIC || exists(path.join(uni, 'cgroup.controllers'))) return 'hybrid';
  return 'v1';
}

/**
 * Mounted v1 hierarchies under root: controller -> hierarchy root dir.
 * Co-mounted controllers (cpu,cpuacct) share a dir; the per-controller
 * symlinks (cpu -> cpu,cpuacct) resolve to it.
 */
export function v1Hierarchies(root = DEFAULT_ROOT): Record<string, string> {
  const out: Record<string, string> = {};
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch (err) {
    throw new SystemError(`cgroup: read "${root}": ${reason(err)}`);
  }
  for (const name of entries.sort()) {
    if (name === 'unified' || name.startsWith('name=')) continue;
    let real: string;
    try {
      real = fs.realpathSync(path.join(root, name));
      if (!fs.statSync(real).isDirectory()) continue;
    } catch {
      continue;
    }
    const t = fsType(real);
    if (t !== CGROUP_SUPER_MAGIC && !exists(path.join(real, 'cgroup.procs'))) continue;
    for (const c of path.basename(real).split(',')) {
      if ((V1_CONTROLLERS as readonly string[]).includes(c) && !out[c]) out[c] = real;
    }
  }
  return out;
}

const SLICE_RE = /^[^:/]*:[^:]*:[^:]*$/;

function systemdRunning(): boolean {
  return exists('/run/systemd/system');
}

/**
 * The cgroup path (relative to each hierarchy root, starting with "/").
 * A relative linux.cgroupsPath is taken relative to the hierarchy root: runc
 * makes it relative to its own cgroup, but the root is the simple and
 * predictable choice for a runtime started from podman/containerd/shell.
 */
export function cgroupPath(id: string, cgroupsPath?: string): string {
  const p = cgroupsPath ? path.posix.resolve('/', cgroupsPath) : `/tsrun/${id}`;
  if (p === '/') throw new ConfigError([`linux.cgroupsPath "${cgroupsPath}" names the root cgroup`]);
  return p;
}

/** Own cgroup paths from /proc/self/cgroup: "memory" -> "/process_api/...", "" -> v2 path. */
function ownCgroups(): Map<string, string> {
  const m = new Map<string, string>();
  const s = readFile('/proc/self/cgroup') ?? '';
  for (const line of s.split('\n')) {
    const parts = line.split(':');
    if (parts.length < 3) continue;
    const p = parts.slice(2).join(':');
    for (const c of parts[1].split(',')) m.set(c, p);
  }
  return m;
}

/** Refuses a cgroup that contains the calling process (destroying it would kill us). */
function checkNotOurs(controller: string, cgPath: string, ours = ownCgroups()): void {
  const own = ours.get(controller === 'unified' ? '' : controller);
  if (own && own !== '/' && (own === cgPath || own.startsWith(cgPath + '/'))) {
    throw new ConfigError([`linux.cgroupsPath "${cgPath}" contains the runtime's own ${controller} cgroup "${own}"`]);
  }
}

/** The directories of a record, each once (co-mounted controllers share one). */
export function uniqueDirs(rec: CgroupRecord): string[] {
  return [...new Set(Object.values(rec.paths))];
}

/**
 * Creates dir and its missing parents; returns the dirs it created (outermost
 * first).  A delete may remove an empty parent (removeEmptyParents) between two
 * levels here: that ENOENT starts the walk again.
 */
function mkdirs(hierRoot: string, cgPath: string, created: string[], onLevel?: (parent: string, dir: string) => void): void {
  for (let attempt = 1; ; attempt++) {
    try {
      let cur = hierRoot;
      for (const comp of cgPath.split('/').filter(Boolean)) {
        const parent = cur;
        cur = path.join(cur, comp);
        if (mkdir(cur)) created.push(cur);
        onLevel?.(parent, cur);
      }
      return;
    } catch (err) {
      if (codeOf((err as { cause?: unknown }).cause) !== 'ENOENT' || attempt >= 5) throw err;
    }
  }
}

/**
 * After the container's own cgroup is gone, the parents that are now empty
 * (the shared "/tsrun" of default paths, or the parents of a cgroupsPath) go
 * too, deepest first, up to the hierarchy root; the first non-empty one stops
 * it.  A create racing this recreates what it needs (mkdirs).
 */
function removeEmptyParents(dir: string, base?: string): void {
  for (let d = path.dirname(dir); !isRootCgroup(d) && !isProtected(d) && d.startsWith('/sys/fs/cgroup/') && d !== base; d = path.dirname(d)) {
    try {
      rmdir(d);
    } catch {
      return; // not empty (ENOTEMPTY/EBUSY), or gone already
    }
  }
}

/** v1 cpuset: a new cgroup starts with empty cpus/mems; copy them from the parent. */
function cpusetInherit(parent: string, dir: string): void {
  recordAs({ op: 'inherit', path: dir, parent }, () => {
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const cur = readFile(path.join(dir, f));
      if (cur === undefined || cur !== '') continue;
      const v = readFile(path.join(parent, f));
      if (v) writeFile(path.join(dir, f), v);
    }
  });
}

/**
 * v2: enable in parent's cgroup.subtree_control every controller it has (best
 * effort, never in the root).  Recorded as one operation: what it writes
 * depends on the parent's state at the time (a replay does the same steps,
 * replay.h CGOP_ENABLE).
 */
function enableControllers(parent: string): void {
  recordAs({ op: 'enable', path: parent }, () => enableControllersNow(parent));
}

function enableControllersNow(parent: string): void {
  if (!exists(path.join(parent, 'cgroup.events'))) return; // the root cgroup: not ours to change
  const avail = v2Controllers(parent);
  const enabled = new Set((readFile(path.join(parent, 'cgroup.subtree_control')) ?? '').split(/\s+/).filter(Boolean));
  const missing = [...avail].filter((c) => !enabled.has(c));
  if (!missing.length) return;
  const file = path.join(parent, 'cgroup.subtree_control');
  try {
    writeFile(file, missing.map((c) => '+' + c).join(' '));
  } catch {
    for (const c of missing) {
      try {
        writeFile(file, '+' + c);
      } catch {
        // not enableable here (e.g. processes in the parent): resources needing it fail later with a clear error
      }
    }
  }
}

function applyDevices(rec: CgroupRecord, r: Resources | undefined, linuxDevices: Device[] | undefined): void {
  const rules = effectiveRules(r?.devices, linuxDevices);
  if (rec.mode === 'v2') {
    const dir = rec.paths.unified;
    const insns = encode(deviceFilter(rules));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bpf = require('../sys/bpf') as typeof import('../sys/bpf');
    try {
      // a replay loads and attaches the same program (replay.h
      // CGOP_DEVICE_FILTER) to a cgroup it made (step 3: the leaves must not
      // exist), so without an older program to detach as setDeviceFilter does
      recordAs({ op: 'device-filter', path: dir, value: insns }, () => bpf.setDeviceFilter(dir, insns));
    } catch (err) {
      throw new SystemError(`cgroup: device filter for "${dir}": ${(err as Error).message}`, (err as SystemError).errno ?? 0, {
        cause: err,
      });
    }
    return;
  }
  const dir = rec.paths.devices;
  if (!dir) throw new UnsupportedError('cgroup: the devices controller is not mounted, cannot restrict device access');
  for (const [file, line] of v1Writes(rules)) writeFile(path.join(dir, file), line);
}

function applyResources(rec: CgroupRecord, r: Resources): void {
  if (rec.mode === 'v2') {
    applyV2(rec.paths.unified, r);
    return;
  }
  applyV1(rec.paths, r);
  if (r.unified && Object.keys(r.unified).length) {
    if (rec.mode === 'v1') throw new UnsupportedError('cgroup: linux.resources.unified: unified resources require cgroup v2');
    applyUnified(rec.paths.unified, r.unified, true);
  }
}

/**
 * Creates the container's cgroup(s), applies resources and the device rules.
 * On failure removes the directories it created and throws.
 */
export function setupCgroup(o: SetupOptions): CgroupRecord {
  const root = o.root ?? DEFAULT_ROOT;
  if (o.systemd || (o.cgroupsPath && SLICE_RE.test(o.cgroupsPath))) {
    if (!systemdRunning()) {
      throw new UnsupportedError(
        'systemd cgroup driver requested (--systemd-cgroup / "slice:prefix:name" cgroupsPath) but this host is not running systemd',
      );
    }
    throw new UnsupportedError('systemd cgroup driver requested (--systemd-cgroup / "slice:prefix:name" cgroupsPath) but tsrun only implements the cgroupfs driver');
  }
  const mode = detectMode(root);
  if (o.base && mode !== 'v2') throw new UnsupportedError(`cgroup: a delegated cgroup ("${o.base}") needs a pure cgroup v2 host`);
  const cgPath = o.base ? path.posix.join(o.base, cgroupPath(o.id, o.cgroupsPath)) : cgroupPath(o.id, o.cgroupsPath);
  const paths: Record<string, string> = {};
  const hierRoots: Array<[string, string[]]> = []; // hierarchy root -> controllers
  if (mode === 'v2') {
    hierRoots.push([root, ['unified']]);
  } else {
    const byDir = new Map<string, string[]>();
    for (const [c, dir] of Object.entries(v1Hierarchies(root))) {
      if (!byDir.has(dir)) byDir.set(dir, []);
      byDir.get(dir)!.push(c);
    }
    hierRoots.push(...byDir);
    if (mode === 'hybrid') hierRoots.push([path.join(root, 'unified'), ['unified']]);
  }
  const ours = ownCgroups();
  for (const [hr, ctrls] of hierRoots) {
    for (const c of ctrls) checkNotOurs(c, cgPath, ours);
    const dir = path.join(hr, cgPath);
    if (isProtected(dir)) throw new ConfigError([`linux.cgroupsPath "${cgPath}": "${dir}" is a protected cgroup`]);
    for (const c of ctrls) paths[c] = dir;
  }
  const rec: CgroupRecord = { mode, paths, ...(o.base ? { base: path.join(root, o.base) } : {}) };
  o.onPlanned?.(rec);
  const created: string[] = [];
  try {
    recordOps(o.record, () => {
      for (const [hr, ctrls] of hierRoots) {
        const isCpuset = ctrls.includes('cpuset');
        const isV2 = ctrls.includes('unified');
        mkdirs(hr, cgPath, created, (parent, dir) => {
          if (isCpuset && mode !== 'v2') cpusetInherit(parent, dir);
          // above a delegated cgroup nothing is the caller's to change
          const ours = !rec.base || parent === rec.base || parent.startsWith(rec.base + '/');
          if (isV2 && mode === 'v2' && ours) enableControllers(parent);
        });
      }
      if (o.resources) applyResources(rec, o.resources);
      // device rules: a v2 device filter is a BPF program, which needs
      // CAP_SYS_ADMIN; rootless runc skips them too
      if (!o.skipDevices && !o.base) applyDevices(rec, o.resources, o.devices);
    });
  } catch (err) {
    const cleanup: unknown[] = [];
    for (const d of created.reverse()) {
      try {
        rmdir(d);
      } catch (e) {
        cleanup.push(new TsrunError(`cgroup: rmdir "${d}": ${reason(e)}`));
      }
    }
    throw withCleanupErrors(err, cleanup);
  }
  return rec;
}

/** cgroup.procs files the shim writes its pid into (one per distinct directory). */
export function procsFiles(rec: CgroupRecord): string[] {
  return uniqueDirs(rec).map((d) => path.join(d, 'cgroup.procs'));
}

function pidsIn(dir: string, out: Set<number>): void {
  if (!fs.existsSync(dir)) return; // create asks before making it: no exception per hierarchy
  const s = readFile(path.join(dir, 'cgroup.procs'));
  if (s) for (const l of s.split('\n')) if (l.trim()) out.add(Number(l));
  for (const c of childDirs(dir)) pidsIn(c, out);
}

/** All pids in the container's cgroups, including child cgroups, sorted. */
export function cgroupPids(rec: CgroupRecord): number[] {
  const out = new Set<number>();
  for (const d of uniqueDirs(rec)) if (!isProtected(d)) pidsIn(d, out);
  out.delete(process.pid);
  return [...out].sort((a, b) => a - b);
}

function killAll(rec: CgroupRecord): void {
  for (const pid of cgroupPids(rec)) {
    if (pid <= 1) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function rmTree(dir: string): void {
  for (const c of childDirs(dir)) rmTree(c);
  rmdir(dir);
}

/**
 * Removes the container's cgroups: SIGKILLs what is left in them (thawing a
 * frozen v1 freezer so the signal is delivered), then rmdir bottom-up,
 * retrying briefly on EBUSY while the processes exit.
 */
export function destroyCgroup(rec: CgroupRecord): void {
  const dirs = uniqueDirs(rec).filter((d) => exists(d));
  if (!dirs.length) return;
  for (const d of dirs) if (isProtected(d)) throw new TsrunError(`cgroup: refusing to remove "${d}": protected cgroup`);
  const uni = rec.paths.unified;
  if (rec.mode === 'v2' && uni && exists(path.join(uni, 'cgroup.kill'))) writeFile(path.join(uni, 'cgroup.kill'), '1');
  killAll(rec);
  const fz = rec.paths.freezer;
  if (fz && exists(path.join(fz, 'freezer.state')) && readFile(path.join(fz, 'freezer.state')) !== 'THAWED') {
    writeFile(path.join(fz, 'freezer.state'), 'THAWED');
  }
  const deadline = Date.now() + 3000;
  let delay = 5;
  const errors: string[] = [];
  for (const d of dirs) {
    for (;;) {
      try {
        if (exists(d)) rmTree(d);
        break;
      } catch (err) {
        if (codeOf(err) === 'EBUSY' && Date.now() < deadline) {
          killAll(rec);
          sleepMs(delay);
          delay = Math.min(delay * 2, 100);
          continue;
        }
        errors.push(`cgroup: rmdir "${d}": ${reason(err)}`);
        break;
      }
    }
  }
  if (errors.length) throw new SystemError(errors.join('; '));
  for (const d of dirs) removeEmptyParents(d, rec.base);
}

// ---- freezer -----------------------------------------------------------------

function usesV1Freezer(rec: CgroupRecord): boolean {
  return rec.mode !== 'v2' && !!rec.paths.freezer;
}

function v2Frozen(dir: string): boolean {
  return readKeyValues(path.join(dir, 'cgroup.events')).frozen === 1;
}

function freezerDir(rec: CgroupRecord): string {
  if (usesV1Freezer(rec)) return rec.paths.freezer;
  const uni = rec.paths.unified;
  if (!uni || !exists(path.join(uni, 'cgroup.freeze'))) throw new UnsupportedError('cgroup: no freezer available (neither the v1 freezer controller nor cgroup.freeze)');
  return uni;
}

/** Freezes the container and waits until it is FROZEN. */
export function freeze(rec: CgroupRecord): void {
  const dir = freezerDir(rec);
  if (usesV1Freezer(rec)) {
    const file = path.join(dir, 'freezer.state');
    // As runc: re-write FROZEN while FREEZING; now and then thaw briefly to
    // let a task stuck in an uninterruptible section move on.
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        writeFile(file, 'THAWED');
        sleepMs(10);
      }
      writeFile(file, 'FROZEN');
      const s = readFile(file);
      if (s === 'FROZEN') return;
      sleepMs(i < 10 ? 1 : 10);
    }
    writeFile(file, 'THAWED');
    throw new SystemError(`cgroup: freeze "${file}": unable to freeze (still FREEZING)`);
  }
  writeFile(path.join(dir, 'cgroup.freeze'), '1');
  const deadline = Date.now() + 5000;
  let delay = 1;
  while (!v2Frozen(dir)) {
    if (Date.now() > deadline) {
      writeFile(path.join(dir, 'cgroup.freeze'), '0');
      throw new SystemError(`cgroup: freeze "${path.join(dir, 'cgroup.freeze')}": timed out waiting for "frozen 1" in cgroup.events`);
    }
    sleepMs(delay);
    delay = Math.min(delay * 2, 50);
  }
}

/** Thaws the container and waits until it runs again. */
export function thaw(rec: CgroupRecord): void {
  const dir = freezerDir(rec);
  if (usesV1Freezer(rec)) {
    const file = path.join(dir, 'freezer.state');
    for (let i = 0; i < 1000; i++) {
      writeFile(file, 'THAWED');
      if (readFile(file) === 'THAWED') return;
      sleepMs(i < 10 ? 1 : 10);
    }
    throw new SystemError(`cgroup: thaw "${file}": unable to thaw`);
  }
  writeFile(path.join(dir, 'cgroup.freeze'), '0');
  const deadline = Date.now() + 5000;
  let delay = 1;
  while (v2Frozen(dir)) {
    if (Date.now() > deadline) throw new SystemError(`cgroup: thaw "${path.join(dir, 'cgroup.freeze')}": timed out waiting for "frozen 0"`);
    sleepMs(delay);
    delay = Math.min(delay * 2, 50);
  }
}

export function isFrozen(rec: CgroupRecord): boolean {
  try {
    const dir = freezerDir(rec);
    if (usesV1Freezer(rec)) return readFile(path.join(dir, 'freezer.state')) === 'FROZEN';
    return readFile(path.join(dir, 'cgroup.freeze')) === '1' && v2Frozen(dir);
  } catch (err) {
    if (err instanceof UnsupportedError) return false;
    throw err;
  }
}

/**
 * Applies new resources (runc update).  Device rules are rewritten only when
 * r.devices is given (pass linux.devices too, so their nodes stay allowed).
 */
export function updateResources(rec: CgroupRecord, r: Resources, devices?: Device[]): void {
  applyResources(rec, r);
  if (r.devices) applyDevices(rec, r, devices);
}

/** runc `events --stats` "data": cpu, memory, pids, blkio, hugetlb. */
/**
 * How many processes the kernel's OOM killer has ended in the container's
 * memory cgroup (v1 memory.oom_control, v2 memory.events: "oom_kill N"); 0
 * when the cgroup or the counter is not there.
 */
export function oomKills(rec: CgroupRecord): number {
  const file = rec.paths.memory ? path.join(rec.paths.memory, 'memory.oom_control') : rec.paths.unified ? path.join(rec.paths.unified, 'memory.events') : undefined;
  try {
    return file ? (readKeyValues(file).oom_kill ?? 0) : 0;
  } catch {
    return 0;
  }
}

export function stats(rec: CgroupRecord): object {
  return collectStats(rec);
}
