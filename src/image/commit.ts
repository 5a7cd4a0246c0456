// commit: a container back into an image.
//
// The container's filesystem is read from the host side, never through a
// mount: for a layered container, the image layers and its upper dir are
// merged here, honouring overlay whiteouts (char 0/0) and opaque dirs
// (trusted.overlay.opaque=y), exactly as overlayfs presents them.  This works
// the same for a running container (overlay writes land in upper at once) and
// a stopped one (no mount exists then), and it naturally leaves out volumes,
// /proc, /sys, /dev and every other mount made inside the container.
//   flat: the whole merged tree as one tar (gzip when OUT ends .gz/.tgz)
//   diff: the upper dir as an OCI layer (whiteouts -> .wh.NAME, opaque -> .wh..wh..opq)
//   oci:  an OCI image layout dir: base layers + diff layer + config + index
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { TsrunError } from '../errors';
import { END_OF_ARCHIVE, encodeHeader, padding, type EntryType } from './tarformat';
import type { LayerRef } from './store';
import { Progress } from './progress';
import { DEFAULT_PATH, goArch, indexTar } from './source';
import { writeFileAtomic } from '../runtime/store';

export interface CommitOptions {
  dataDir: string;
  id: string;
  rootfs: string;
  /** pid of a running container; accepted for the record, the host-side view is used either way */
  pid?: number;
  layers: LayerRef[];
  upper?: string;
  /** container paths of volumes: their contents are excluded */
  volumes: string[];
  out: string;
  mode: 'flat' | 'diff' | 'oci';
  tag?: string;
  imageConfig?: { args?: string[]; env?: string[]; cwd?: string; user?: string };
  progress?: (msg: string) => void;
}

export class CommitError extends TsrunError {}

type Ops = typeof import('../sys/fsops');
let opsMod: Ops | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ops = (): Ops => (opsMod ??= require('../sys/fsops') as Ops);

// ---- output: a tar byte stream, optionally gzipped, hashed -------------------

class TarSink {
  private buf: Buffer[] = [];
  private buffered = 0;
  readonly tarHash = crypto.createHash('sha256');
  readonly fileHash = crypto.createHash('sha256');
  private gz: zlib.Gzip | undefined;
  private gzDone: Promise<void> | undefined;
  bytes = 0;

  constructor(
    private readonly fd: number,
    gzip: boolean,
    private readonly progress?: Progress,
  ) {
    if (gzip) {
      this.gz = zlib.createGzip({ level: 6, chunkSize: 1 << 18 });
      this.gz.on('data', (c: Buffer) => this.raw(c));
      this.gzDone = new Promise((res, rej) => {
        this.gz!.on('end', res);
        this.gz!.on('error', rej);
      });
    }
  }

  private raw(c: Buffer): void {
    this.fileHash.update(c);
    let off = 0;
    while (off < c.length) off += fs.writeSync(this.fd, c, off, c.length - off);
  }

  async write(b: Buffer): Promise<void> {
    this.tarHash.update(b);
    this.bytes += b.length;
    this.buf.push(b);
    this.buffered += b.length;
    if (this.buffered >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.buffered) return;
    const all = Buffer.concat(this.buf, this.buffered);
    this.buf = [];
    this.buffered = 0;
    this.progress?.bytes(this.bytes);
    if (this.gz) {
      if (!this.gz.write(all)) await new Promise((r) => this.gz!.once('drain', r));
    } else this.raw(all);
  }

  async end(): Promise<void> {
    await this.write(END_OF_ARCHIVE);
    await this.flush();
    if (this.gz) {
      this.gz.end();
      await this.gzDone;
    }
  }
}

/** A sink that only counts: a dry run of the walk gives the tar's size (progress' total) without reading a file. */
class CountSink {
  bytes = 0;
  async write(b: Buffer): Promise<void> {
    this.bytes += b.length;
  }
}

// ---- walking a stack of dirs as overlayfs would merge them -------------------

interface WalkOpts {
  /** diff mode (one dir): emit whiteouts as .wh. files and opaque markers */
  diff: boolean;
  /** relative paths whose contents are left out (the dir itself is kept) */
  prune: Set<string>;
}

const isWhiteout = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;

function xattrsOf(abs: string): { keep: Map<string, Buffer>; opaque: boolean } {
  const keep = new Map<string, Buffer>();
  let opaque = false;
  for (const name of ops().llistxattr(abs)) {
    if (name.startsWith('trusted.overlay.')) {
      const v = ops().lgetxattr(abs, name);
      if (name === 'trusted.overlay.opaque' && v?.toString() === 'y') opaque = true;
      else if (name === 'trusted.overlay.redirect' || name === 'trusted.overlay.metacopy')
        throw new CommitError(`commit: "${abs}" uses overlay ${name.slice(16)}, which tsrun does not support (mount without redirect_dir/metacopy)`);
      continue;
    }
    const v = ops().lgetxattr(abs, name);
    if (v) keep.set(name, v);
  }
  return { keep, opaque };
}

class Writer {
  private links = new Map<string, string>();
  files = 0;
  constructor(
    private readonly sink: TarSink | CountSink,
    private readonly opts: WalkOpts,
  ) {}

  private async header(rel: string, type: EntryType, st: fs.Stats | null, extra: { size?: number; linkpath?: string; xattrs?: Map<string, Buffer> } = {}): Promise<void> {
    await this.sink.write(
      encodeHeader({
        path: type === 'dir' ? `${rel}/` : rel,
        type,
        mode: st ? st.mode & 0o7777 : 0o644,
        uid: st?.uid ?? 0,
        gid: st?.gid ?? 0,
        size: extra.size ?? 0,
        mtime: st ? Math.floor(st.mtimeMs / 1000) : 0,
        linkpath: extra.linkpath,
        devmajor: st && (type === 'char' || type === 'block') ? Number(((BigInt(st.rdev) >> 8n) & 0xfffn) | ((BigInt(st.rdev) >> 32n) & 0xfffff000n)) : 0,
        devminor: st && (type === 'char' || type === 'block') ? Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xffffff00n)) : 0,
        xattrs: extra.xattrs,
      }),
    );
  }

  private async file(abs: string, st: fs.Stats): Promise<void> {
    if (this.sink instanceof CountSink) {
      this.sink.bytes += st.size + padding(st.size);
      return;
    }
    const fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      let left = st.size;
      const chunk = Buffer.allocUnsafe(Math.min(left, 1 << 20) || 1);
      while (left > 0) {
        const want = Math.min(left, chunk.length);
        let n = fs.readSync(fd, chunk, 0, want, null);
        if (n === 0) {
          chunk.fill(0, 0, want); // shrank while reading (running container): pad to the header's size
          n = want;
        }
        await this.sink.write(Buffer.from(chunk.subarray(0, n)));
        left -= n;
      }
      const pad = padding(st.size);
      if (pad) await this.sink.write(Buffer.alloc(pad));
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Emit one entry (not its children). */
  async entry(rel: string, abs: string, st: fs.Stats, xattrs: Map<string, Buffer>): Promise<void> {
    this.files++;
    if (st.isDirectory()) return this.header(rel, 'dir', st, { xattrs });
    if (!st.isDirectory() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) return this.header(rel, 'link', st, { linkpath: first });
      this.links.set(key, rel);
    }
    if (st.isFile()) {
      await this.header(rel, 'file', st, { size: st.size, xattrs });
      return this.file(abs, st);
    }
    if (st.isSymbolicLink()) return this.header(rel, 'symlink', st, { linkpath: fs.readlinkSync(abs), xattrs });
    if (st.isCharacterDevice()) return this.header(rel, 'char', st, { xattrs });
    if (st.isBlockDevice()) return this.header(rel, 'block', st, { xattrs });
    if (st.isFIFO()) return this.header(rel, 'fifo', st, { xattrs });
    // sockets cannot be archived: skipped, as tar does
  }

  async whiteout(rel: string): Promise<void> {
    const d = path.posix.dirname(rel);
    const name = `.wh.${path.posix.basename(rel)}`;
    await this.header(d === '.' ? name : `${d}/${name}`, 'file', null, { size: 0 });
  }

  async opaqueMarker(dirRel: string): Promise<void> {
    await this.header(dirRel ? `${dirRel}/.wh..wh..opq` : '.wh..wh..opq', 'file', null, { size: 0 });
  }

  /**
   * Walk directory `rel` merged over `stack[cands]` (top first).  The caller
   * has emitted the directory itself.
   */
  async walk(stack: string[], rel: string, cands: number[]): Promise<void> {
    if (this.opts.prune.has(rel)) return;
    const found = new Map<string, { layer: number; st: fs.Stats }>();
    const hidden = new Set<string>();
    const whiteouts: string[] = [];
    for (const i of cands) {
      let names: string[];
      try {
        names = fs.readdirSync(path.join(stack[i], rel));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      for (const name of names) {
        if (found.has(name) || hidden.has(name)) continue;
        const st = fs.lstatSync(path.join(stack[i], rel, name));
        if (isWhiteout(st)) {
          hidden.add(name);
          whiteouts.push(name);
          continue;
        }
        found.set(name, { layer: i, st });
      }
    }
    const join = (n: string) => (rel ? `${rel}/${n}` : n);
    if (this.opts.diff) for (const w of whiteouts.sort()) await this.whiteout(join(w));
    for (const name of [...found.keys()].sort()) {
      const { layer, st } = found.get(name)!;
      const crel = join(name);
      const abs = path.join(stack[layer], crel);
      const { keep, opaque } = xattrsOf(abs);
      await this.entry(crel, abs, st, keep);
      if (!st.isDirectory()) continue;
      if (this.opts.diff && opaque) await this.opaqueMarker(crel);
      // the same dir in lower layers merges in, down to an opaque one or a non-dir
      const below: number[] = [layer];
      if (!opaque) {
        for (const j of cands) {
          if (j <= layer) continue;
          const s = (() => {
            try {
              return fs.lstatSync(path.join(stack[j], crel));
            } catch {
              return undefined;
            }
          })();
          if (!s) continue;
          if (!s.isDirectory()) break;
          below.push(j);
          if (xattrsOf(path.join(stack[j], crel)).opaque) break;
        }
      }
      await this.walk(stack, crel, below);
    }
  }
}

// ---- atomic output ------------------------------------------------------------

function tmpName(out: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.tmp-${crypto.randomBytes(4).toString('hex')}`);
}

/**
 * Runs fn with a set of temp paths it may add to: each is removed (rm -r) when
 * fn fails and on SIGINT/SIGTERM meanwhile; on success they are fn's to have
 * renamed or removed.
 */
async function withTemps<T>(fn: (temps: Set<string>) => Promise<T>): Promise<T> {
  const temps = new Set<string>();
  const cleanup = () => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true }));
  const onSig = (sig: NodeJS.Signals) => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    return await fn(temps);
  } catch (e) {
    cleanup();
    throw e;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}

/**
 * Run fn with a temp path next to `out` (and its set of further temps), then
 * rename the temp to `out`.  A dir is never renamed over one that is there
 * (rename(2) refuses a non-empty one): commit extends existing layouts in place.
 */
async function atomically(out: string, fn: (tmp: string, temps: Set<string>) => Promise<void>): Promise<void> {
  await withTemps(async (temps) => {
    const tmp = tmpName(out);
    temps.add(tmp);
    await fn(tmp, temps);
    fs.renameSync(tmp, out);
    temps.delete(tmp);
    const dfd = fs.openSync(path.dirname(out), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  });
}

interface TarResult {
  diffId: string;
  digest: string;
  size: number;
}

/** The tar of `stack`, entry by entry, into sink (the end-of-archive blocks not included). */
async function walkTar(sink: TarSink | CountSink, stack: string[], opts: WalkOpts): Promise<void> {
  const w = new Writer(sink, opts);
  const rootSt = fs.lstatSync(stack[0]);
  // the root dir entry carries the root's mode/owner/times
  await w.entry('.', stack[0], rootSt, opts.diff ? new Map() : xattrsOf(stack[0]).keep);
  if (opts.diff && xattrsOf(stack[0]).opaque) await w.opaqueMarker('');
  await w.walk(stack, '', stack.map((_, i) => i));
}

/** Write one tar of `stack` to `file` (new). */
async function writeTar(file: string, stack: string[], opts: WalkOpts, gzip: boolean, progress: Progress): Promise<TarResult> {
  if (progress.shows) {
    // the total, for "12.0 MiB / 80.5 MiB": a walk that reads no file data
    const count = new CountSink();
    await walkTar(count, stack, opts);
    progress.total = count.bytes + END_OF_ARCHIVE.length;
  }
  const fd = fs.openSync(file, 'wx', 0o644);
  try {
    const sink = new TarSink(fd, gzip, progress);
    await walkTar(sink, stack, opts);
    await sink.end();
    fs.fsyncSync(fd);
    progress.bytes(sink.bytes, true);
    return { diffId: `sha256:${sink.tarHash.digest('hex')}`, digest: `sha256:${sink.fileHash.digest('hex')}`, size: fs.fstatSync(fd).size };
  } finally {
    fs.closeSync(fd);
  }
}

function pruneSet(volumes: string[]): Set<string> {
  const s = new Set(['proc', 'sys', 'dev']);
  for (const v of volumes) {
    const rel = path.posix.normalize(v).replace(/^\/+/, '').replace(/\/+$/, '');
    if (rel) s.add(rel);
  }
  return s;
}

/** Write a blob into <layout>/blobs/sha256/<hex> (temp file + rename: a reader of a shared layout never sees half of it). */
function putBlob(layout: string, data: Buffer): { digest: string; size: number } {
  const hex = crypto.createHash('sha256').update(data).digest('hex');
  writeFileAtomic(path.join(layout, 'blobs', 'sha256', hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

export const REF_NAME = 'org.opencontainers.image.ref.name';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';

interface IndexJson {
  schemaVersion?: number;
  mediaType?: string;
  manifests?: { annotations?: Record<string, string>; [k: string]: unknown }[];
  [k: string]: unknown;
}

/**
 * index.json with `tag` naming the manifest `desc`: the entry that had that
 * tag goes, every other entry (other tags, untagged ones) stays as it was.
 */
export function withTag(index: IndexJson | undefined, desc: { digest: string; size: number }, tag: string): IndexJson {
  const kept = (index?.manifests ?? []).filter((m) => m.annotations?.[REF_NAME] !== tag);
  return {
    ...index,
    schemaVersion: 2,
    mediaType: index?.mediaType ?? INDEX_TYPE,
    manifests: [...kept, { mediaType: MANIFEST_TYPE, ...desc, annotations: { [REF_NAME]: tag } }],
  };
}

/** What --oci OUT names: an oci-archive (a tar of a layout) when it ends in .tar, else a layout dir. */
export function isOciArchive(out: string): boolean {
  return out.endsWith('.tar');
}

/**
 * Refuses, before anything is written, an output commit cannot write: its
 * directory missing, or an existing OUT of the wrong kind (--oci extends only
 * an existing OCI layout or oci-archive; a tar is never written over a dir).
 */
function checkOutput(out: string, mode: CommitOptions['mode']): void {
  const dir = path.dirname(out);
  let d: fs.Stats | undefined;
  try {
    d = fs.statSync(dir);
  } catch {
    d = undefined;
  }
  if (!d?.isDirectory()) throw new CommitError(`commit: "${dir}" is not a directory: make it first (mkdir -p), or write elsewhere`);
  let st: fs.Stats;
  try {
    st = fs.statSync(out);
  } catch {
    return;
  }
  const other = 'give a new path, or remove it first';
  if (mode !== 'oci' || isOciArchive(out)) {
    if (st.isDirectory()) throw new CommitError(`commit: "${out}" is a directory: ${mode === 'oci' ? 'an oci-archive is a file; ' : ''}${other}`);
    if (mode === 'oci' && !openArchiveIndex(out)) throw new CommitError(`commit --oci: "${out}" exists and is not an oci-archive: ${other}`);
    return;
  }
  if (!st.isDirectory() || !fs.existsSync(path.join(out, 'oci-layout')) || !fs.existsSync(path.join(out, 'index.json'))) {
    throw new CommitError(`commit --oci: "${out}" exists and is not an OCI image layout (no oci-layout and index.json): ${other}`);
  }
}

/** The members of an oci-archive (by name), or undefined when `file` is not one. */
function openArchiveIndex(file: string): Map<string, { offset: number; size: number }> | undefined {
  const members = indexTar(file);
  return members && members.has('index.json') && members.has('oci-layout') ? members : undefined;
}

/** Copies the layout inside an oci-archive into the (new) dir `layout`. */
function extractArchive(file: string, layout: string): void {
  const members = openArchiveIndex(file);
  if (!members) throw new CommitError(`commit --oci: "${file}" is not an oci-archive`);
  const fd = fs.openSync(file, 'r');
  try {
    for (const [name, m] of members) {
      if (name !== 'index.json' && name !== 'oci-layout' && !/^blobs\/sha256\/[0-9a-f]{64}$/.test(name)) continue;
      const dst = fs.openSync(path.join(layout, name), 'wx', 0o644);
      try {
        const buf = Buffer.allocUnsafe(Math.min(m.size, 1 << 20) || 1);
        for (let done = 0; done < m.size; ) {
          const n = fs.readSync(fd, buf, 0, Math.min(buf.length, m.size - done), m.offset + done);
          if (n === 0) throw new CommitError(`commit --oci: "${file}": ${name} is cut short`);
          fs.writeSync(dst, buf, 0, n);
          done += n;
        }
      } finally {
        fs.closeSync(dst);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes the image's blobs (layers, config, manifest) into `layout`; returns the manifest's descriptor. */
async function writeImage(o: CommitOptions, layout: string, progress: Progress, temps: Set<string>): Promise<{ digest: string; size: number }> {
  const layered = o.layers.length > 0;
  const prune = pruneSet(o.volumes);
  const layerDescs: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  const history: { created: string; created_by: string; comment?: string }[] = [];
  const now = new Date().toISOString();
  const add = async (stack: string[], diff: boolean, what: string, n: number, of: number) => {
    progress.layer(n, of);
    progress.start(what, 0);
    // a temp name of its own: another commit may be writing into the same layout
    const t = tmpName(path.join(layout, 'layer.tar'));
    temps.add(t);
    const r = await writeTar(t, stack, { diff, prune: diff ? new Set() : prune }, false, progress);
    fs.renameSync(t, path.join(layout, 'blobs', 'sha256', r.digest.slice(7)));
    temps.delete(t);
    layerDescs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: r.digest, size: r.size });
    diffIds.push(r.diffId);
    history.push({ created: now, created_by: `tsrun commit ${what}` });
  };
  if (layered) {
    const of = o.layers.length + 1;
    // base layers: each store dir back into an OCI layer (overlay whiteouts -> .wh.)
    for (let i = 0; i < o.layers.length; i++) await add([o.layers[i].dir], true, `base layer ${o.layers[i].digest}`, i + 1, of);
    await add([o.upper!], true, `container ${o.id}`, of, of);
  } else await add([o.rootfs], false, `container ${o.id}`, 1, 1);

  const ic = o.imageConfig ?? {};
  const config = {
    created: now,
    architecture: goArch(),
    os: 'linux',
    config: {
      ...(ic.user ? { User: ic.user } : {}),
      Env: ic.env ?? [DEFAULT_PATH],
      Cmd: ic.args ?? ['/bin/sh'],
      WorkingDir: ic.cwd ?? '/',
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history,
  };
  const cfg = putBlob(layout, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: layerDescs,
  };
  return putBlob(layout, Buffer.from(JSON.stringify(manifest)));
}

/** Points `tag` of the layout at `desc`: index.json read, changed (withTag), replaced by rename. */
function tagImage(layout: string, desc: { digest: string; size: number }, tag: string): void {
  const file = path.join(layout, 'index.json');
  let index: IndexJson | undefined;
  if (fs.existsSync(file)) {
    try {
      index = JSON.parse(fs.readFileSync(file, 'utf8')) as IndexJson;
    } catch (e) {
      throw new CommitError(`commit --oci: "${file}": ${(e as Error).message}: not an OCI image index`);
    }
  }
  writeFileAtomic(file, JSON.stringify(withTag(index, desc, tag)));
  if (!fs.existsSync(path.join(layout, 'oci-layout'))) writeFileAtomic(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

/** The whole image into `layout` (a dir with blobs/sha256), tagged. */
async function commitInto(o: CommitOptions, layout: string, tag: string, progress: Progress, temps: Set<string>): Promise<void> {
  fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  const desc = await writeImage(o, layout, progress, temps);
  tagImage(layout, desc, tag);
}

/**
 * Into an existing layout dir, in place: new blobs (renamed in whole), then
 * index.json replaced by rename, under flock(2) on the dir so that two
 * commits into one layout do not lose each other's tag.  A failure leaves
 * the layout as it was but for unreferenced blobs.
 */
async function commitIntoLayout(o: CommitOptions, layout: string, tag: string, progress: Progress): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const libc = require('../sys/libc') as typeof import('../sys/libc');
  const fd = fs.openSync(layout, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    libc.flock(fd, libc.LOCK_EX, layout);
    await withTemps((temps) => commitInto(o, layout, tag, progress, temps));
  } finally {
    fs.closeSync(fd); // releases the flock
  }
}

export async function commitContainer(o: CommitOptions): Promise<void> {
  const out = path.resolve(o.out);
  checkOutput(out, o.mode);
  const progress = new Progress(o.progress);
  const layered = o.layers.length > 0;
  if (layered && !o.upper) throw new CommitError('commit: a layered container needs its upper dir');
  const lowers = o.layers.map((l) => l.dir).reverse(); // top first
  const prune = pruneSet(o.volumes);

  if (o.mode === 'flat' || o.mode === 'diff') {
    if (o.mode === 'diff' && !layered) throw new CommitError('commit --diff: the container has no image layers (its root is a plain directory)');
    const stack = o.mode === 'diff' ? [o.upper!] : layered ? [o.upper!, ...lowers] : [o.rootfs];
    const gzip = /\.(t?gz)$/.test(out);
    progress.start(`commit ${o.id}`, 0);
    await atomically(out, async (tmp) => {
      await writeTar(tmp, stack, { diff: o.mode === 'diff', prune }, gzip, progress);
    });
    progress.finish();
    return;
  }

  // --oci: an image layout dir, or an oci-archive (the same, as one tar)
  const tag = o.tag || 'latest';
  if (!isOciArchive(out) && fs.existsSync(out)) await commitIntoLayout(o, out, tag, progress);
  else if (!isOciArchive(out)) await atomically(out, (tmp, temps) => commitInto(o, tmp, tag, progress, temps));
  else {
    const had = fs.existsSync(out);
    await atomically(out, async (tmp, temps) => {
      // the layout in a dir of its own, then tarred: podman load -i takes the tar
      const layout = tmpName(out);
      temps.add(layout);
      fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
      if (had) extractArchive(out, layout);
      await commitInto(o, layout, tag, progress, temps);
      progress.layer(0, 0);
      progress.start(`archive ${path.basename(out)}`, 0);
      await writeTar(tmp, [layout], { diff: false, prune: new Set() }, false, progress);
      fs.rmSync(layout, { recursive: true, force: true });
      temps.delete(layout);
    });
  }
  progress.finish();
}
