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
import * as path from 'path';
import type { CgroupOp } from '../cgroups';
import type { DataOp } from '../image/store';
import { TlvWriter } from '../shim/tlv';
import type { Spec } from '../spec/types';
import { frontRecordParts } from './front-record';
import type { ContainerRecord } from './record';
import { writeFileAtomic } from './store';

export const REPLAY = { VERSION: 2, MAX_RECORDS: 256, MARK: 0x01, ID_MIN: 32 } as const;
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
} as const;

export const CGO = { OP: 1, PATH: 2, PARENT: 3, VALUE: 4 } as const;
export const CGOP = { MKDIR: 1, INHERIT: 2, WRITE: 3, ENABLE: 4, DEVICE_FILTER: 5 } as const;
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
}

const DOP_KIND: Record<DataOp['op'], number> = { same: DOPK.SAME, dir: DOPK.DIR, absent: DOPK.ABSENT, mkdir: DOPK.MKDIR, write: DOPK.WRITE };

/** The record file's bytes, or undefined when the container cannot be described by one. */
export function encodeReplay(p: ReplayParts): Buffer | undefined {
  // a raw 0x01 anywhere (an annotation, a path) would read as a marker
  if (JSON.stringify(p.rec).includes('\\u0001')) return undefined;
  const dataOps = p.dataOps ?? [];
  // the front takes absolute paths without a newline (or NUL) only; a data op needs its lock
  const frontPath = (f: string) => path.isAbsolute(f) && !/[\n\0]/.test(f);
  if (dataOps.length && (!p.dataLock || !frontPath(p.dataLock))) return undefined;
  if (dataOps.some((o) => !frontPath(o.path))) return undefined;
  const asMark = (l: string) => mark(l) as unknown as number;
  const created = mark(MARK.CREATED);
  const creator = { pid: asMark(MARK.CREATOR_PID), startTime: asMark(MARK.CREATOR_START_TIME) };
  const live = { pid: asMark(MARK.PID), pidStartTime: asMark(MARK.START_TIME), created };
  const front = frontRecordParts({ ...p.rec, ...live }, { root: p.root });
  if (!front) return undefined;
  const w = new TlvWriter()
    .u64(RP.VERSION, REPLAY.VERSION)
    .raw(RP.INPUTS, p.inputs)
    .raw(RP.CONFIG, p.config)
    .raw(RP.STATE_CLAIMED, template(JSON.stringify({ ...p.rec, pid: 0, pidStartTime: 0, created, creator })))
    .raw(RP.STATE_PID, template(JSON.stringify({ ...p.rec, ...live, creator })))
    .raw(RP.STATE_READY, template(JSON.stringify({ ...p.rec, ...live })))
    .raw(RP.CONFIG_COPY, Buffer.from(p.configCopy));
  // other ids: unless the id is in something create did not make from the id
  // or the config (a layer's path or digest: the store names those), or the
  // config holds it in a form G does not see (a \u escape): the config as
  // parsed must name it as often as its bytes do
  const id = p.rec.id;
  const fromStore = dataOps.flatMap((o) => (o.op === 'same' ? [o.path, o.value] : o.op === 'dir' ? [o.path] : []));
  const count = (b: Buffer) => (generic(b, id).length - b.length) / (2 - id.length);
  if (
    keyedByG(p.inputs, p.config, id) &&
    !fromStore.some((s) => s.includes(id)) &&
    count(Buffer.from(p.configCopy)) === count(p.config)
  ) {
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
      else if (op.op === 'write') g.u64(CGO.OP, CGOP.WRITE).str(CGO.PATH, op.path).str(CGO.VALUE, op.value);
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
 * the container cannot be described by a record.
 */
export function writeReplay(root: string, p: ReplayParts): string | undefined {
  const bytes = encodeReplay({ root, ...p });
  if (!bytes) return undefined;
  const dir = path.join(root, REPLAY_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, replayKey(p.inputs, p.config, p.rec.id));
  writeFileAtomic(file, bytes, 0o600);
  prune(dir);
  return file;
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
