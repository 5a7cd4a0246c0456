// Replay records: what a `create` did, as data, so that the C front end
// (bin/tsrun) can repeat the same create without starting Node.
// native-shim/include/replay.h is the definition (format, markers, the
// replay's steps); the constants below mirror it and
// test/unit/protocol.test.ts checks that they agree.
//
// The front asks for a record by running Node with TSRUN_REPLAY=<its inputs
// as hex> after a miss; create() then records the container it made when
// nothing in it needs Node at create time (replayable()).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { CgroupOp } from '../cgroups';
import type { DataOp } from '../image/store';
import { TlvWriter } from '../shim/tlv';
import type { Spec } from '../spec/types';
import { frontRecordParts } from './front-record';
import type { ContainerRecord } from './record';
import { writeFileAtomic } from './store';
import { TsrunError } from '../errors';

export const REPLAY = { VERSION: 3, MAX_RECORDS: 256, MARK: 0x01, ID_MIN: 32 } as const;
export const REPLAY_DIR = '.replay';
export const REPLAY_ENV = 'TSRUN_REPLAY';

export const RP = {
  VERSION: 1,
  INPUTS: 2,
  CONFIG: 3,
  STATE_CLAIMED: 4,
  STATE_PID: 5,
  STATE_READY: 6,
  CONFIG_COPY: 7,
  LEAF: 8,
  CGROUP_OP: 9,
  PLAN: 10,
  FRONT_HEAD: 11,
  FRONT_LIVE_HEAD: 12,
  FRONT_LIVE_TAIL: 13,
  FRONT_STOPPED: 14,
  DATA_LOCK: 15,
  DATA_OP: 16,
  ID: 17,
  STATE_CGROUP: 18,
  NOFILE_CUR: 19,
  NOFILE_MAX: 20,
  LAST: 20,
} as const;

export const CGO = { OP: 1, PATH: 2, PARENT: 3, VALUE: 4, ERRNO: 5 } as const;
export const CGOP = { MKDIR: 1, INHERIT: 2, WRITE: 3, ENABLE: 4, DEVICE_FILTER: 5, EXISTS: 6, ABSENT: 7, READ: 8, WRITE_FAILS: 9 } as const;
export const DOP = { OP: 1, PATH: 2, VALUE: 3, MODE: 4 } as const;
export const DOPK = { SAME: 1, DIR: 2, ABSENT: 3, MKDIR: 4, WRITE: 5 } as const;

/** The markers' letters (after a 0x01 byte). */
export const MARK = { PID: 'P', START_TIME: 'S', CREATED: 'C', CREATOR_PID: 'p', CREATOR_START_TIME: 's', ID: 'I' } as const;

/**
 * The inputs the front gave, taken out of the environment (no hook or child
 * may see them); undefined when the front did not ask for a record.
 */
export function takeReplayInputs(): Buffer | undefined {
  const hex = process.env[REPLAY_ENV];
  if (hex === undefined) return undefined;
  delete process.env[REPLAY_ENV];
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex');
}

export interface ReplayCheck {
  spec: Spec;
  /** create options that need Node at create time */
  consoleSocket?: string;
  terminal?: boolean;
  preserveFds?: number;
  logFile?: boolean;
  override?: unknown;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  systemdCgroup?: boolean;
}

/** Why a container made from this cannot be replayed; undefined when it can. */
export function notReplayable(c: ReplayCheck): string | undefined {
  const s = c.spec;
  if (Object.values(s.hooks ?? {}).some((h) => Array.isArray(h) && h.length)) return 'hooks';
  if ((s.tsrun?.volumes ?? []).length) return 'volumes';
  if (s.process?.terminal || c.terminal || c.consoleSocket) return 'a terminal';
  if (c.preserveFds || c.logFile || c.override || c.noPivot || c.noNewKeyring) return 'create flags';
  if (c.systemdCgroup) return 'the systemd cgroup driver';
  if (s.linux?.seccomp?.listenerPath) return 'a seccomp listener';
  // whether a net.* sysctl may be set is decided by what the path resolves to
  // now (validate.ts: not the host's namespace); the record holds the path text
  const netSysctl = Object.keys(s.linux?.sysctl ?? {}).some((k) => k.replace(/\//g, '.').startsWith('net.'));
  if (netSysctl && s.linux?.namespaces?.some((n) => n.type === 'network' && n.path)) return 'a net.* sysctl in a network namespace joined by path';
  return undefined;
}

/** 64-bit FNV-1a of the bytes, 16 hex digits: names a record (which holds its whole key). */
export function fnv1a64(...parts: Buffer[]): string {
  let h = 0xcbf29ce484222325n;
  const mask = 0xffffffffffffffffn;
  for (const b of parts) {
    for (let i = 0; i < b.length; i++) h = ((h ^ BigInt(b[i])) * 0x100000001b3n) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

const mark = (letter: string) => String.fromCharCode(REPLAY.MARK) + letter;

/** An id whose record may serve other ids (replay.h "Other ids"): a generated-looking one. */
export function parametricId(id: string): boolean {
  return id.length >= REPLAY.ID_MIN && /^[0-9a-f]+$/.test(id);
}

/** G of replay.h: each occurrence of id (left to right, no overlap) as 0x01 'I'. */
export function generic(b: Buffer, id: string): Buffer {
  const parts: Buffer[] = [];
  const needle = Buffer.from(id);
  const m = Buffer.from(mark(MARK.ID));
  let at = 0;
  for (let i = b.indexOf(needle); i >= 0; i = b.indexOf(needle, at)) {
    parts.push(b.subarray(at, i), m);
    at = i + needle.length;
  }
  parts.push(b.subarray(at));
  return Buffer.concat(parts);
}

/** Whether the key of this create is G's (the record may serve other ids). */
function keyedByG(inputs: Buffer, config: Buffer, id: string): boolean {
  return parametricId(id) && !inputs.includes(REPLAY.MARK) && !config.includes(REPLAY.MARK);
}

const HEX = '0123456789abcdef';

/** Whether a key of an object anywhere in v holds s. */
function keyHolds(v: unknown, s: string): boolean {
  if (Array.isArray(v)) return v.some((x) => keyHolds(x, s));
  if (v === null || typeof v !== 'object') return false;
  return Object.entries(v).some(([k, x]) => k.includes(s) || keyHolds(x, s));
}

/**
 * Whether config.json, parsed, names the id only where its bytes do, as text:
 * then parse(bytes with the id replaced) = parse(bytes) with the id replaced,
 * for every other id of the same form (replay.h "Other ids").  Checked with
 * a marker id that differs from the id at every position: an occurrence in a
 * \u escape, in a number, or one the parse adds (an escaped id) or drops (a
 * duplicate key) changes the comparison; one in an object key could collide
 * with another key, and is refused.  A count of occurrences is not enough:
 * a dropped one and an added one balance.
 */
export function idOnlyAsText(config: Buffer, id: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(config.toString('utf8'));
  } catch {
    return false;
  }
  if (keyHolds(parsed, id)) return false;
  for (let k = 1; k < HEX.length; k++) {
    const marker = [...id].map((c) => HEX[(HEX.indexOf(c) + k) % HEX.length]).join('');
    if (config.includes(marker)) continue;
    let again: unknown;
    try {
      again = JSON.parse(Buffer.from(config.toString('latin1').split(id).join(marker), 'latin1').toString('utf8'));
    } catch {
      return false;
    }
    return JSON.stringify(again) === JSON.stringify(parsed).split(id).join(marker);
  }
  return false;
}

/** The record's file name: the FNV-1a of G(inputs) || G(config). */
export function replayKey(inputs: Buffer, config: Buffer, id: string): string {
  return keyedByG(inputs, config, id) ? fnv1a64(generic(inputs, id), generic(config, id)) : fnv1a64(inputs, config);
}

/**
 * Text with marker strings in it (mark('P') where the pid goes) as a
 * template: JSON.stringify wrote a marker as the escaped string "\u0001P";
 * numbers lose their quotes, `created` keeps them.
 */
export function template(text: string): Buffer {
  return Buffer.from(
    text
      .replace(/"\\u0001([PSps])"/g, (_, l: string) => mark(l))
      .replace(/\\u0001C/g, mark(MARK.CREATED)),
    'utf8',
  );
}

export interface ReplayParts {
  inputs: Buffer;
  /** the --root (the front record's write-layer lines name it); writeReplay sets it */
  root?: string;
  /** config.json as read */
  config: Buffer;
  /** the container as created (no creator) */
  rec: ContainerRecord;
  /** what create wrote to <state dir>/config.json */
  configCopy: string;
  leaves: string[];
  ops: CgroupOp[];
  /** with image layers: <dataDir>/store.lock, and what prepareRootfs checked and made under the data dir */
  dataLock?: string;
  dataOps?: DataOp[];
  plan: Buffer;
  /** RLIMIT_NOFILE (soft, hard) of this process, which the shim inherited (nofileLimits) */
  nofile?: { cur: bigint; max: bigint };
}

/** This process's RLIMIT_NOFILE, from /proc/self/limits (Node raises its soft limit at start); undefined when unreadable. */
export function nofileLimits(): { cur: bigint; max: bigint } | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)\s/m.exec(text);
  const n = (v: string) => (v === 'unlimited' ? 0xffffffffffffffffn : BigInt(v));
  return m ? { cur: n(m[1]), max: n(m[2]) } : undefined;
}

const DOP_KIND: Record<DataOp['op'], number> = { same: DOPK.SAME, dir: DOPK.DIR, absent: DOPK.ABSENT, mkdir: DOPK.MKDIR, write: DOPK.WRITE };

/** The record file's bytes, or undefined when the container cannot be described by one. */
export function encodeReplay(p: ReplayParts): Buffer | undefined {
  // a raw 0x01 anywhere (an annotation, a path) would read as a marker
  if (JSON.stringify(p.rec).includes('\\u0001')) return undefined;
  const dataOps = p.dataOps ?? [];
  if (!p.nofile) return undefined;
  // a failure setupCgroup met without its errno cannot be checked
  if (p.ops.some((o) => o.op === 'write' && o.errno === 0)) return undefined;
  // the front takes absolute paths without a newline (or NUL) only; a data op needs its lock
  const frontPath = (f: string) => path.isAbsolute(f) && !/[\n\0]/.test(f);
  if (dataOps.length && (!p.dataLock || !frontPath(p.dataLock))) return undefined;
  if (dataOps.some((o) => !frontPath(o.path))) return undefined;
  if (p.ops.some((o) => !frontPath(o.path) || (o.op === 'inherit' && !frontPath(o.parent)) || (o.op === 'read' && o.value.includes('\0')))) return undefined;
  const asMark = (l: string) => mark(l) as unknown as number;
  const created = mark(MARK.CREATED);
  const creator = { pid: asMark(MARK.CREATOR_PID), startTime: asMark(MARK.CREATOR_START_TIME) };
  const live = { pid: asMark(MARK.PID), pidStartTime: asMark(MARK.START_TIME), created };
  const front = frontRecordParts({ ...p.rec, ...live }, { root: p.root });
  if (!front) return undefined;
  // before the cgroup is known to be free, state.json does not name it (create.ts onPlanned)
  const { cgroup: _planned, ...beforeCgroup } = p.rec;
  const w = new TlvWriter()
    .u64(RP.VERSION, REPLAY.VERSION)
    .raw(RP.INPUTS, p.inputs)
    .raw(RP.CONFIG, p.config)
    .raw(RP.STATE_CLAIMED, template(JSON.stringify({ ...beforeCgroup, pid: 0, pidStartTime: 0, created, creator })))
    .raw(RP.STATE_CGROUP, template(JSON.stringify({ ...p.rec, pid: 0, pidStartTime: 0, created, creator })))
    .u64(RP.NOFILE_CUR, p.nofile.cur)
    .u64(RP.NOFILE_MAX, p.nofile.max)
    .raw(RP.STATE_PID, template(JSON.stringify({ ...p.rec, ...live, creator })))
    .raw(RP.STATE_READY, template(JSON.stringify({ ...p.rec, ...live })))
    .raw(RP.CONFIG_COPY, Buffer.from(p.configCopy));
  // other ids: unless the id is in something create did not make from the id
  // or the config (a layer's path or digest: the store names those), or the
  // config names it other than as text in its bytes (idOnlyAsText)
  const id = p.rec.id;
  const fromStore = dataOps.flatMap((o) => (o.op === 'same' ? [o.path, o.value] : o.op === 'dir' ? [o.path] : []));
  if (keyedByG(p.inputs, p.config, id) && !fromStore.some((s) => s.includes(id)) && idOnlyAsText(p.config, id)) {
    w.str(RP.ID, id);
  }
  if (dataOps.length) w.str(RP.DATA_LOCK, p.dataLock!);
  for (const op of dataOps) {
    w.group(RP.DATA_OP, (g) => {
      g.u64(DOP.OP, DOP_KIND[op.op]).str(DOP.PATH, op.path);
      if (op.op === 'same' || op.op === 'write') g.str(DOP.VALUE, op.value);
      else if (op.op === 'mkdir') g.u64(DOP.MODE, op.mode);
    });
  }
  for (const l of p.leaves) w.str(RP.LEAF, l);
  for (const op of p.ops) {
    w.group(RP.CGROUP_OP, (g) => {
      if (op.op === 'mkdir') g.u64(CGO.OP, CGOP.MKDIR).str(CGO.PATH, op.path);
      else if (op.op === 'inherit') g.u64(CGO.OP, CGOP.INHERIT).str(CGO.PATH, op.path).str(CGO.PARENT, op.parent);
      else if (op.op === 'enable') g.u64(CGO.OP, CGOP.ENABLE).str(CGO.PATH, op.path);
      else if (op.op === 'write' && op.errno) g.u64(CGO.OP, CGOP.WRITE_FAILS).str(CGO.PATH, op.path).str(CGO.VALUE, op.value).u64(CGO.ERRNO, op.errno);
      else if (op.op === 'write') g.u64(CGO.OP, CGOP.WRITE).str(CGO.PATH, op.path).str(CGO.VALUE, op.value);
      else if (op.op === 'exists') g.u64(CGO.OP, op.value ? CGOP.EXISTS : CGOP.ABSENT).str(CGO.PATH, op.path);
      else if (op.op === 'read') g.u64(CGO.OP, CGOP.READ).str(CGO.PATH, op.path).str(CGO.VALUE, op.value);
      else g.u64(CGO.OP, CGOP.DEVICE_FILTER).str(CGO.PATH, op.path).raw(CGO.VALUE, op.value);
    });
  }
  return w
    .raw(RP.PLAN, p.plan)
    .raw(RP.FRONT_HEAD, template(front.head))
    .raw(RP.FRONT_LIVE_HEAD, template(front.liveHead))
    .raw(RP.FRONT_LIVE_TAIL, template(front.liveTail))
    .raw(RP.FRONT_STOPPED, template(front.stopped))
    .toBuffer();
}

/**
 * Writes <root>/.replay/<key> (temp file + rename) and drops the oldest
 * records beyond REPLAY.MAX_RECORDS.  Returns the file, or undefined when
 * the container cannot be described by a record.  Only into a directory we
 * own and no one else can write, checked on its fd and written through it
 * (/proc/self/fd/N): the front trusts what it finds there (replay.c
 * read_record), so whoever can rename entries in <root> must not choose it.
 */
export function writeReplay(root: string, p: ReplayParts): string | undefined {
  const bytes = encodeReplay({ root, ...p });
  if (!bytes) return undefined;
  const dir = path.join(root, REPLAY_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isDirectory() || st.uid !== process.geteuid?.() || st.mode & 0o022) {
      throw new TsrunError(`"${dir}" is not a directory only we can write: no replay record written`);
    }
    const at = `/proc/self/fd/${fd}`;
    const key = replayKey(p.inputs, p.config, p.rec.id);
    writeFileAtomic(path.join(at, key), bytes, 0o600);
    prune(at);
    return path.join(dir, key);
  } finally {
    fs.closeSync(fd);
  }
}

function prune(dir: string): void {
  const names = fs.readdirSync(dir).filter((n) => /^[0-9a-f]{16}$/.test(n));
  if (names.length <= REPLAY.MAX_RECORDS) return;
  const byAge = names
    .map((n) => {
      try {
        return { n, t: fs.statSync(path.join(dir, n)).mtimeMs };
      } catch {
        return { n, t: 0 };
      }
    })
    .sort((a, b) => a.t - b.t);
  // room for a few more before the next prune
  for (const { n } of byAge.slice(0, names.length - REPLAY.MAX_RECORDS + 16)) {
    try {
      fs.unlinkSync(path.join(dir, n));
    } catch {
      /* gone already */
    }
  }
}

/** The create call as Node has it, for the check of the front's inputs (inputsMismatch). */
export interface ReplayCall {
  root: string;
  dataDir: string;
  /** resolved */
  bundle: string;
  id: string;
  /** run in the foreground (verb run, not detached) */
  keepParent: boolean;
  /** the shim this create spawned */
  shim: string;
}

const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_SUPER_MAGIC = 0x27e0eb;

function statLine(file: string): string | undefined {
  try {
    const st = fs.statSync(file, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs / 1000000000n}.${st.mtimeNs % 1000000000n}`;
  } catch {
    return undefined;
  }
}

function fsTypeHex(p: string): string {
  try {
    return fs.statfsSync(p).type.toString(16);
  } catch {
    return '0';
  }
}

/** replay.c cgroup_v1_line: the entries of /sys/fs/cgroup, what they link to, their file system types. */
function cgroupV1Line(): string {
  const top = '/sys/fs/cgroup';
  const names = fs.readdirSync(top).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts = names.map((n) => {
    const p = path.join(top, n);
    let link: string | undefined;
    try {
      link = fs.readlinkSync(p);
    } catch {
      link = undefined;
    }
    const type = fsTypeHex(p);
    const procs = Number.parseInt(type, 16) !== CGROUP_SUPER_MAGIC && fs.existsSync(path.join(p, 'cgroup.procs')) ? '+procs' : '';
    return `${link === undefined ? n : `${n}>${link}`} ${type}${procs}`;
  });
  return ['cgroup-v1', ...parts].join(' ');
}

/**
 * Why the inputs the front gave (TSRUN_REPLAY) are not about this create, or
 * undefined when they are: Node records only what it made for the inputs it
 * was asked about.  Every line of replay.c replay_inputs is rebuilt from this
 * process and the host and compared; of `front` (the front's binary) and
 * `nofile` (the limits before Node raised its soft one) what Node can see is
 * checked: the binary is one of the checkout's two fronts, the hard limit is
 * this process's.
 */
export function inputsMismatch(inputs: Buffer, c: ReplayCall): string | undefined {
  const top = path.resolve(path.dirname(process.argv[1] ?? ''), '..');
  const shim = path.join(top, 'native-shim', 'build', 'tsrun-shim');
  if (path.resolve(c.shim) !== shim) return `the shim is ${c.shim}, not ${shim}`;
  let cgroup: Buffer;
  try {
    cgroup = fs.readFileSync('/proc/self/cgroup');
  } catch {
    return 'no /proc/self/cgroup';
  }
  const cgfs = fsTypeHex('/sys/fs/cgroup');
  const fronts = [path.join(top, 'bin', 'tsrun'), path.join(top, 'native-shim', 'build', 'tsrun')].map(statLine);
  const nofile = nofileLimits();
  const exact = (v: string) => (got: string) => got === v;
  const want: Array<[string, (v: string) => boolean]> = [
    ['tsrun-replay', exact(String(REPLAY.VERSION))],
    ['verb', (v) => v === 'run' || v === 'create'],
    ['detach', (v) => v === '0' || v === '1'],
    ['root', exact(path.resolve(c.root))],
    ['data-dir', exact(path.resolve(c.dataDir))],
    ['bundle', exact(c.bundle)],
    ['id', exact(c.id)],
    ['front', (v) => fronts.includes(v)],
    ['cli', exact(statLine(path.join(top, 'dist', 'tsrun-cli.js')) ?? '?')],
    ['shim', exact(statLine(shim) ?? '?')],
    ['cgroup', exact(cgroup.toString('latin1').replace(/\n/g, ';'))],
    ['cgroupfs', exact(`${cgfs} ${fsTypeHex('/sys/fs/cgroup/unified')}`)],
    ...(Number.parseInt(cgfs, 16) === CGROUP2_SUPER_MAGIC ? [] : [['cgroup-v1', exact(cgroupV1Line().slice('cgroup-v1 '.length))] as [string, (v: string) => boolean]]),
    ['kernel', exact(`${os.release()} ${os.version()}`)],
    ['nofile', (v) => !!nofile && /^\d+ \d+$/.test(v) && BigInt(v.split(' ')[1]) === nofile.max && BigInt(v.split(' ')[0]) <= nofile.max],
  ];
  const lines = inputs.toString('latin1').split('\n');
  if (lines.length !== want.length + 1 || lines[want.length] !== '') return `${lines.length - 1} lines, not ${want.length}`;
  const values = new Map<string, string>();
  for (const [i, [name, ok]] of want.entries()) {
    const line = lines[i];
    if (!line.startsWith(`${name} `) && line !== name) return `line ${i + 1} is not "${name}"`;
    const v = line.slice(name.length + 1);
    // paths and ids as the front wrote them: bytes, here read as latin1
    const asBytes = ['root', 'data-dir', 'bundle', 'id'].includes(name) ? Buffer.from(v, 'latin1').toString('utf8') : v;
    if (!ok(asBytes)) return `"${name}" is not this create's`;
    values.set(name, v);
  }
  const run = values.get('verb') === 'run' && values.get('detach') === '0';
  if (run !== c.keepParent) return 'another verb';
  return undefined;
}
