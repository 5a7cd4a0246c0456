// The layer store under a data dir:
//   <dataDir>/layers/sha256/<hex>/   unpacked layers; hex = sha256 of the
//                                    uncompressed tar (the OCI diff_id)
//   <dataDir>/tmp/<pid>-<rand>/      unpacks in progress (renamed into place)
//   <dataDir>/index/<hash(key)>      digest of a tar file by (path, size, mtime, inode, dev):
//                                    "<digest>\n<key>\n", the key checked on read
//   <dataDir>/l/<short>              short symlinks to layers (long overlay options)
//   <dataDir>/containers/<id>/       per-container upper/work/merged
//   <dataDir>/store.lock             flock: shared while ensuring, exclusive to prune
// crypto and zlib are required only when a layer is unpacked: a container
// from an unpacked image must not pay for loading them (~2-4 ms).
import * as fs from 'fs';
import * as path from 'path';
import type * as Crypto from 'crypto';
import type * as Zlib from 'zlib';
import type { Readable } from 'stream';
import { LayerError, LayerExtractor } from './unpack';
import { TarFormatError, TarReader } from './tarformat';
import { openArchive, resolveImage, type ImageSource } from './source';
import { Progress } from './progress';
import { HashThreadError, THREAD_HASH_MIN, ThreadHash } from './hashthread';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const crypto = (): typeof Crypto => require('crypto') as typeof Crypto;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const zlib = (): typeof Zlib => require('zlib') as typeof Zlib;

export interface LayerRef {
  digest: string;
  dir: string;
}

/**
 * What preparing a container's root checks and makes under the data dir, as
 * data, for a replay record (native-shim/include/replay.h, DOPK_*): the C
 * front repeats them without Node.  Filled in the order they happen.
 */
export type DataOp =
  /** stat(path) gives value, "<dev>:<ino>:<size>:<mtimeNs>": a layer tar (or dir) unchanged */
  | { op: 'same'; path: string; value: string }
  /** path is a directory (an unpacked layer, or one used in place) */
  | { op: 'dir'; path: string }
  /** path does not exist (a write layer about to be made) */
  | { op: 'absent'; path: string }
  | { op: 'mkdir'; path: string; mode: number }
  /** path := value (the whole file) */
  | { op: 'write'; path: string; value: string };

/** The facts the layer index keys on, as DOPK_SAME compares them (bigint stat, links followed). */
export function sameValue(st: fs.BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

/** <dataDir>/store.lock */
export function storeLockPath(dataDir: string): string {
  return path.join(dataDir, 'store.lock');
}

export function layersDir(dataDir: string): string {
  return path.join(dataDir, 'layers', 'sha256');
}

export function layerPath(dataDir: string, digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new LayerError(`bad layer digest "${digest}"`);
  return path.join(layersDir(dataDir), m[1]);
}

function mkdirs(dataDir: string): void {
  for (const d of ['layers/sha256', 'tmp', 'index', 'containers', 'l']) fs.mkdirSync(path.join(dataDir, d), { recursive: true, mode: 0o700 });
}

/** flock on <dataDir>/store.lock; returns the release function. */
export function lockStore(dataDir: string, mode: 'shared' | 'exclusive'): () => void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const libc = require('../sys/libc') as typeof import('../sys/libc');
  const file = storeLockPath(dataDir);
  const fd = fs.openSync(file, 'a', 0o600);
  try {
    libc.flock(fd, mode === 'shared' ? libc.LOCK_SH : libc.LOCK_EX, file);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fs.closeSync(fd); // closing the fd drops the lock
  };
}

// ---- one layer: stream -> (gunzip) -> hash + extract ------------------------

function gzipMagic(first: Buffer): boolean {
  return first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
}

interface UnpackResult {
  diffId: string;
  blobDigest: string;
}

/**
 * What a failed file-system call means, for a person: Node's "ENOENT: no such
 * file or directory, open '/x'" without the errno name and the call (the
 * caller names the file).
 */
export function ioWhy(err: NodeJS.ErrnoException): string {
  return err.message.replace(/^E[A-Z0-9]+: /, '').replace(/, [a-z_0-9]+(?: '.*')?$/s, '');
}

/** ioWhy for a layer source that cannot be opened: a missing one says where it is named. */
function sourceWhy(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return 'no such file or directory (check "tsrun.layers" in config.json)';
  return ioWhy(err);
}

/** A failure while unpacking, as the LayerError the caller reports. */
function layerFailure(err: unknown, label: string): unknown {
  if (err instanceof TarFormatError || err instanceof HashThreadError) return new LayerError(`layer "${label}": ${err.message}`);
  if (err instanceof Error && !(err instanceof LayerError) && (err as NodeJS.ErrnoException).code)
    return new LayerError(`layer "${label}": ${ioWhy(err)}`, { cause: err });
  return err;
}

/** Where unpackFile reads its chunks and how they are hashed. */
interface ChunkHasher {
  /** the buffer to read the next chunk into */
  slot(): Buffer;
  /** the first n bytes of slot() are the next chunk */
  commit(n: number): void;
  digest(): string;
  abort(): void;
}

/** Hash on this thread, one reused 1 MiB buffer. */
function localHasher(): ChunkHasher {
  const buf = Buffer.allocUnsafe(1 << 20);
  const hash = crypto().createHash('sha256');
  return {
    slot: () => buf,
    commit: (n) => void hash.update(buf.subarray(0, n)),
    digest: () => hash.digest('hex'),
    abort: () => {},
  };
}

/**
 * Unpack an uncompressed layer tar file into `dest` (a new, empty dir)
 * synchronously: no stream machinery, one hash (the raw bytes are the tar).
 * A big file is hashed on a second thread while this one extracts
 * (ThreadHash: of the same bytes, read once into a shared ring).  Returns
 * null, having done nothing, for a gzip file (unpackStream does those).
 * threadMin: the size from which the hash runs on a thread (tests lower it).
 */
export function unpackFile(file: string, dest: string, label: string, progress?: Progress, threadMin = THREAD_HASH_MIN): UnpackResult | null {
  let fd: number;
  let hasher: ChunkHasher;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw layerFailure(e, label);
  }
  try {
    const head = Buffer.alloc(2);
    if (gzipMagic(head.subarray(0, fs.readSync(fd, head, 0, 2, 0)))) return null;
    hasher = fs.fstatSync(fd).size >= threadMin ? new ThreadHash() : localHasher();
  } catch (e) {
    fs.closeSync(fd);
    throw layerFailure(e, label);
  }
  try {
    const ex = new LayerExtractor(dest, label);
    const reader = new TarReader((e) => ex.onEntry(e));
    let total = 0;
    for (;;) {
      const buf = hasher.slot();
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hasher.commit(n); // hashed (maybe on the other thread) while it is extracted
      reader.write(buf.subarray(0, n)); // copies what it keeps: the slot can be reused
      total += n;
      progress?.bytes(total);
    }
    reader.end();
    ex.finish();
    progress?.done();
    const digest = `sha256:${hasher.digest()}`;
    return { diffId: digest, blobDigest: digest };
  } catch (e) {
    hasher.abort();
    throw layerFailure(e, label);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Unpack a (possibly gzip-compressed) layer tar stream into `dest` (a new,
 * empty dir).  Returns the sha256 of the uncompressed stream and of the raw
 * bytes (one hash when they are the same bytes).  One pass: each chunk is
 * hashed and extracted as it arrives.
 */
export function unpackStream(input: Readable, dest: string, label: string, progress?: Progress): Promise<UnpackResult> {
  return new Promise((resolve, reject) => {
    let rawHash: Crypto.Hash | undefined; // only for gzip: else the raw bytes are the tar
    const tarHash = crypto().createHash('sha256');
    const ex = new LayerExtractor(dest, label);
    const reader = new TarReader((e) => ex.onEntry(e));
    let gunzip: Zlib.Gunzip | undefined;
    let decided = false;
    let failed = false;
    let rawBytes = 0;

    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      gunzip?.destroy();
      reject(layerFailure(err, label));
    };
    const feed = (chunk: Buffer) => {
      if (failed) return;
      try {
        tarHash.update(chunk);
        reader.write(chunk);
      } catch (e) {
        fail(e);
      }
    };
    const finish = () => {
      if (failed) return;
      try {
        reader.end();
        ex.finish();
        progress?.done();
        const diffId = `sha256:${tarHash.digest('hex')}`;
        resolve({ diffId, blobDigest: rawHash ? `sha256:${rawHash.digest('hex')}` : diffId });
      } catch (e) {
        fail(e);
      }
    };

    input.on('error', fail);
    input.on('data', (chunk: Buffer) => {
      if (failed) return;
      rawBytes += chunk.length;
      progress?.bytes(rawBytes);
      if (!decided) {
        decided = true;
        if (gzipMagic(chunk)) {
          rawHash = crypto().createHash('sha256');
          gunzip = zlib().createGunzip({ chunkSize: 1 << 18 });
          gunzip.on('data', feed);
          gunzip.on('error', (e) => fail(new LayerError(`layer "${label}": gzip: ${e.message}`)));
          gunzip.on('end', finish);
        }
      }
      if (gunzip) {
        rawHash!.update(chunk);
        if (!gunzip.write(chunk)) {
          input.pause();
          gunzip.once('drain', () => input.resume());
        }
      } else feed(chunk);
    });
    input.on('end', () => {
      if (failed) return;
      if (gunzip) gunzip.end();
      else finish();
    });
  });
}

// ---- the store --------------------------------------------------------------

function tmpDir(dataDir: string): string {
  const d = path.join(dataDir, 'tmp', `${process.pid}-${crypto().randomBytes(6).toString('hex')}`);
  fs.mkdirSync(d, { mode: 0o755 });
  return d;
}

/** rename(2) the unpacked tmp dir into place; losing a race to another unpack is fine. */
function install(dataDir: string, tmp: string, digest: string): string {
  const dest = layerPath(dataDir, digest);
  try {
    fs.renameSync(tmp, dest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    fs.rmSync(tmp, { recursive: true, force: true }); // someone else won: theirs is identical
  }
  return dest;
}

export interface IndexKey {
  /** the file name under <dataDir>/index */
  name: string;
  /** what identifies the tar file: path, size, mtime (ns), inode, device */
  key: string;
}

/** 64-bit FNV-1a (two 32-bit lanes) of a string, as 16 hex digits: names an index entry (not a security boundary: the entry holds the whole key). */
export function fnv64(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (a >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The index entry of a tar file: no crypto, so the warm path does not load it. */
export function indexKey(file: string, st: fs.BigIntStats): IndexKey {
  // newlines cannot be told apart in the entry: such a path is never cached
  const key = `${path.resolve(file)}\0${st.size}\0${st.mtimeNs}\0${st.ino}\0${st.dev}`;
  return { name: fnv64(key), key };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The digest an index entry records; with `key`, only when the entry is for that key (a hash collision or an old entry is a miss). */
function cachedDigest(dataDir: string, name: string, key?: string): string | undefined {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(dataDir, 'index', name), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  if (!DIGEST.test(lines[0])) return undefined;
  if (key !== undefined && (key.includes('\n') || lines[1] !== key)) return undefined;
  return lines[0];
}

function writeIndex(dataDir: string, k: IndexKey, digest: string): void {
  if (k.key.includes('\n')) return;
  const f = path.join(dataDir, 'index', k.name);
  const t = `${f}.${process.pid}.tmp`;
  fs.writeFileSync(t, `${digest}\n${k.key}\n`);
  fs.renameSync(t, f);
}

async function withTmp<T>(dataDir: string, fn: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = tmpDir(dataDir);
  try {
    return await fn(tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function ensureTar(dataDir: string, file: string, progress: Progress, record?: DataOp[]): Promise<LayerRef> {
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(file, { bigint: true });
  } catch (e) {
    throw new LayerError(`layer "${file}": ${sourceWhy(e as NodeJS.ErrnoException)}`);
  }
  const key = indexKey(file, st);
  record?.push({ op: 'same', path: file, value: sameValue(st) });
  const known = cachedDigest(dataDir, key.name, key.key);
  if (known && fs.existsSync(layerPath(dataDir, known))) {
    record?.push({ op: 'dir', path: layerPath(dataDir, known) });
    return { digest: known, dir: layerPath(dataDir, known) };
  }
  const ref = await withTmp(dataDir, async (tmp) => {
    progress.start(file, Number(st.size));
    const r =
      unpackFile(file, tmp, file, progress) ??
      (await unpackStream(fs.createReadStream(file, { highWaterMark: 1 << 20 }), tmp, file, progress));
    const dir = install(dataDir, tmp, r.diffId);
    writeIndex(dataDir, key, r.diffId);
    return { digest: r.diffId, dir };
  });
  record?.push({ op: 'dir', path: ref.dir });
  return ref;
}

async function ensureOci(dataDir: string, src: ImageSource, progress: Progress): Promise<LayerRef[]> {
  const img = resolveImage(src);
  const label = src.tag ? `${src.path}:${src.tag}` : src.path;
  const out: LayerRef[] = [];
  for (const l of img.layers) {
    if (l.diffId && /^sha256:[0-9a-f]{64}$/.test(l.diffId) && fs.existsSync(layerPath(dataDir, l.diffId))) {
      out.push({ digest: l.diffId, dir: layerPath(dataDir, l.diffId) });
      continue;
    }
    const ref = await withTmp(dataDir, async (tmp) => {
      progress.start(`${label} ${l.blobDigest ?? l.member}`, img.archive.size(l.member));
      const r = await unpackStream(img.archive.stream(l.member), tmp, `${label} ${l.blobDigest ?? l.member}`, progress);
      if (l.blobDigest && l.blobDigest.startsWith('sha256:') && r.blobDigest !== l.blobDigest)
        throw new LayerError(`layer "${label}": blob ${l.blobDigest} does not match its digest (got ${r.blobDigest})`);
      if (l.diffId && r.diffId !== l.diffId)
        throw new LayerError(`layer "${label}": layer ${l.blobDigest ?? l.member} does not match its diff_id ${l.diffId}`);
      return { digest: r.diffId, dir: install(dataDir, tmp, r.diffId) };
    });
    out.push(ref);
  }
  img.archive.close();
  return out;
}

/**
 * Layers for the sources, bottom first; unpacks what the store does not have yet.
 * opts.record: filled with what a replay must check (DataOp), for sources of
 * kind 'tar' and 'dir' only: the caller records no other kind.
 */
export async function ensureLayers(
  dataDir: string,
  sources: ImageSource[],
  opts: { progress?: (msg: string) => void; record?: DataOp[] } = {},
): Promise<LayerRef[]> {
  const record = opts.record;
  dataDir = path.resolve(dataDir);
  mkdirs(dataDir);
  const progress = new Progress(opts.progress);
  const unlock = lockStore(dataDir, 'shared');
  try {
    const out: LayerRef[] = [];
    let i = 0;
    for (const src of sources) {
      progress.layer(++i, sources.length);
      if (src.kind === 'dir') {
        let st: fs.BigIntStats;
        try {
          st = fs.statSync(src.path, { bigint: true });
        } catch (e) {
          throw new LayerError(`layer "${src.path}": ${sourceWhy(e as NodeJS.ErrnoException)}`);
        }
        if (!st.isDirectory()) throw new LayerError(`layer "${src.path}": not a directory`);
        // the same dir (its mtime too: an index.json added at its top makes it an OCI layout), still a dir
        record?.push({ op: 'same', path: src.path, value: sameValue(st) }, { op: 'dir', path: src.path });
        out.push({ digest: `dir:${src.path}`, dir: src.path }); // used in place, read-only
      } else if (src.kind === 'tar') out.push(await ensureTar(dataDir, src.path, progress, record));
      else out.push(...(await ensureOci(dataDir, src, progress)));
    }
    progress.finish();
    return out;
  } finally {
    unlock();
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove unpacked layers whose digest is not in `inUse`, stale tmp dirs of dead
 * unpacks, index entries and short links to removed layers.  Takes the store
 * lock exclusively, so no ensureLayers runs meanwhile; pass a function to
 * compute the in-use set under the lock.  Returns the removed digests.
 */
export async function prune(dataDir: string, inUse: Set<string> | (() => Set<string> | Promise<Set<string>>)): Promise<string[]> {
  dataDir = path.resolve(dataDir);
  if (!fs.existsSync(dataDir)) return [];
  mkdirs(dataDir);
  const unlock = lockStore(dataDir, 'exclusive');
  try {
    const used = typeof inUse === 'function' ? await inUse() : inUse;
    const removed: string[] = [];
    for (const hex of fs.readdirSync(layersDir(dataDir))) {
      const digest = `sha256:${hex}`;
      if (used.has(digest)) continue;
      const gone = path.join(dataDir, 'tmp', `prune-${process.pid}-${hex}`);
      fs.renameSync(path.join(layersDir(dataDir), hex), gone); // disappears atomically
      fs.rmSync(gone, { recursive: true, force: true });
      removed.push(digest);
    }
    for (const t of fs.readdirSync(path.join(dataDir, 'tmp'))) {
      const pid = Number(t.split('-')[0]);
      if (t.startsWith('prune-') || !pidAlive(pid)) fs.rmSync(path.join(dataDir, 'tmp', t), { recursive: true, force: true });
    }
    for (const k of fs.readdirSync(path.join(dataDir, 'index'))) {
      const f = path.join(dataDir, 'index', k);
      const d = cachedDigest(dataDir, k);
      if (!d || !fs.existsSync(layerPath(dataDir, d))) fs.rmSync(f, { force: true });
    }
    for (const l of fs.readdirSync(path.join(dataDir, 'l'))) {
      const f = path.join(dataDir, 'l', l);
      if (!fs.existsSync(f)) fs.rmSync(f, { force: true }); // dangling
    }
    return removed;
  } finally {
    unlock();
  }
}

export { openArchive };
