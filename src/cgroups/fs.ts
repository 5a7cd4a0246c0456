// Low-level cgroupfs access: every read/write/mkdir/rmdir goes through here so
// that the safety rules hold everywhere:
//   - nothing under /sys/fs/cgroup/memory/process_api is ever touched (the
//     session that runs us lives there);
//   - no file of a hierarchy's ROOT cgroup is ever written.
// Errors are SystemError(`cgroup: write "<file>": <reason>`).
import * as fs from 'fs';
import * as path from 'path';
import { getSystemErrorMap } from 'util';
import { SystemError, TsrunError } from '../errors';

const PROTECTED = ['/sys/fs/cgroup/memory/process_api'];

/** Test hook: sees every write (path, value) before it is made. */
let writeHook: ((file: string, value: string) => void) | undefined;
export function setWriteHook(h: ((file: string, value: string) => void) | undefined): void {
  writeHook = h;
}

/**
 * What setupCgroup did, as operations a replay record repeats
 * (native-shim/include/replay.h, CGOP_*): every mkdir (made or found), the
 * v1 cpuset inheritance, the v2 controller delegation of a parent
 * (enableControllers), every write (with the errno of one that failed and
 * was tolerated), and the v2 device filter (the struct bpf_insn[] bytes
 * given to bpf.ts setDeviceFilter).  And what it read, where it read it:
 * every exists() and readFile() answer is a guard the replay checks at that
 * point, so that a host where a decision would go another way is not
 * replayed (which cgroup files the kernel has: io.bfq.weight, memsw, ...).
 */
export type CgroupOp =
  | { op: 'mkdir'; path: string }
  | { op: 'inherit'; path: string; parent: string }
  | { op: 'enable'; path: string }
  | { op: 'write'; path: string; value: string; errno?: number }
  | { op: 'device-filter'; path: string; value: Buffer }
  | { op: 'exists'; path: string; value: boolean }
  | { op: 'read'; path: string; value: string };

interface Recording {
  ops: CgroupOp[];
  /** inside an operation recorded as a whole (inherit, enable): its writes are part of it */
  paused: boolean;
}
let recording: Recording | undefined;

/** Runs f with every mkdir, write and read of this module appended to ops (when ops is given). */
export function recordOps<T>(ops: CgroupOp[] | undefined, f: () => T): T {
  if (!ops) return f();
  recording = { ops, paused: false };
  try {
    return f();
  } finally {
    recording = undefined;
  }
}

/** Records op as one operation: the writes f makes are part of it. */
export function recordAs(op: CgroupOp, f: () => void): void {
  if (!recording) return f();
  recording.ops.push(op);
  recording.paused = true;
  try {
    f();
  } finally {
    if (recording) recording.paused = false;
  }
}

export function isProtected(p: string): boolean {
  const r = path.resolve(p);
  return PROTECTED.some((x) => r === x || r.startsWith(x + '/'));
}

function guard(p: string, what: string): void {
  if (isProtected(p)) throw new TsrunError(`cgroup: refusing to ${what} "${p}": protected cgroup`);
}

/** Reason text for a Node fs error: "invalid argument (EINVAL)". */
export function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno === 'number') {
    const m = getSystemErrorMap().get(e.errno);
    if (m) return `${m[1]} (${m[0]})`;
  }
  return e?.message ?? String(err);
}

export function errnoOf(err: unknown): number {
  const n = (err as NodeJS.ErrnoException)?.errno;
  return typeof n === 'number' ? -n : 0;
}

export function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

const rootCache = new Map<string, boolean>();
/**
 * Whether dir is the root cgroup of its hierarchy.  v1 roots carry
 * cgroup.sane_behavior/release_agent; v2 roots have cgroup.controllers but no
 * cgroup.events (a core file of every non-root v2 cgroup).
 */
export function isRootCgroup(dir: string): boolean {
  let r = rootCache.get(dir);
  if (r === undefined) {
    r =
      fs.existsSync(path.join(dir, 'cgroup.sane_behavior')) ||
      (fs.existsSync(path.join(dir, 'cgroup.controllers')) && !fs.existsSync(path.join(dir, 'cgroup.events')));
    rootCache.set(dir, r);
  }
  return r;
}

export class CgroupWriteError extends SystemError {
  constructor(
    readonly file: string,
    readonly err: unknown,
    extra = '',
  ) {
    super(CgroupWriteError.message(file, err, extra), errnoOf(err), { cause: err });
  }

  private static message(file: string, err: unknown, extra: string): string {
    // the cgroup is there but not the file: a setting this kernel, controller or I/O
    // scheduler does not offer (blkio.weight without CFQ/BFQ, memsw without swap accounting)
    if (codeOf(err) === 'ENOENT' && !extra && fs.existsSync(path.dirname(file))) {
      return `cgroup: this host has no "${path.basename(file)}" in ${path.dirname(file)}: its kernel does not offer that setting; remove it from linux.resources`;
    }
    return `cgroup: write "${file}": ${reason(err)}${extra}`;
  }
}

/** Writes value to an existing cgroup file (O_WRONLY|O_TRUNC, never creates it). */
export function writeFile(file: string, value: string, opts: { allowRoot?: boolean } = {}): void {
  guard(file, 'write');
  if (!opts.allowRoot && isRootCgroup(path.dirname(file))) {
    throw new TsrunError(`cgroup: refusing to write "${file}": it belongs to a root cgroup`);
  }
  const op: CgroupOp | undefined = recording && !recording.paused ? { op: 'write', path: file, value } : undefined;
  if (op) recording!.ops.push(op);
  try {
    writeHook?.(file, value);
    writeNow(file, value);
  } catch (err) {
    // a caller may tolerate it (ENOENT of memory.swap.max, EINVAL then a retry): the replay must see the same
    if (op) op.errno = errnoOf(err instanceof CgroupWriteError ? err.err : err);
    throw err;
  }
}

function writeNow(file: string, value: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
  } catch (err) {
    throw new CgroupWriteError(file, err);
  }
  try {
    fs.writeSync(fd, value);
  } catch (err) {
    throw new CgroupWriteError(file, err);
  } finally {
    fs.closeSync(fd);
  }
}

/** A guard for a replay record (CgroupOp exists/read), when recording. */
function recordGuard(op: CgroupOp): void {
  if (recording && !recording.paused) recording.ops.push(op);
}

/** Reads a cgroup file, trimmed; undefined if it does not exist. */
export function readFile(file: string): string | undefined {
  let v: string;
  try {
    v = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') {
      recordGuard({ op: 'exists', path: file, value: false });
      return undefined;
    }
    throw new SystemError(`cgroup: read "${file}": ${reason(err)}`, errnoOf(err), { cause: err });
  }
  recordGuard({ op: 'read', path: file, value: v });
  return v;
}

export function readNumber(file: string): number | undefined {
  const s = readFile(file);
  if (s === undefined || s === '') return undefined;
  if (s === 'max') return Number.MAX_SAFE_INTEGER;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, cgroup.events) -> map. */
export function readKeyValues(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  const s = readFile(file);
  if (!s) return out;
  for (const line of s.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = v === 'max' ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  return out;
}

export function exists(p: string): boolean {
  const v = fs.existsSync(p);
  recordGuard({ op: 'exists', path: p, value: v });
  return v;
}

/** mkdir one level; returns true if created, false if it already existed. */
export function mkdir(dir: string): boolean {
  guard(dir, 'create');
  recording?.ops.push({ op: 'mkdir', path: dir });
  try {
    fs.mkdirSync(dir);
    return true;
  } catch (err) {
    if (codeOf(err) === 'EEXIST') return false;
    throw new SystemError(`cgroup: mkdir "${dir}": ${reason(err)}`, errnoOf(err), { cause: err });
  }
}

export function rmdir(dir: string): void {
  guard(dir, 'remove');
  fs.rmdirSync(dir);
}

/** Synchronous sleep (the API is synchronous by design: it is called from the CLI). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Subdirectories (child cgroups) of dir; [] if it does not exist. */
export function childDirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}
