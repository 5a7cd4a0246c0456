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
    private readonly sink: TarSink,
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

/** Run fn with a temp path next to `out`; remove the temp on error and on SIGINT/SIGTERM. */
async function atomically(out: string, isDir: boolean, fn: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tmpName(out);
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  const onSig = (sig: NodeJS.Signals) => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    await fn(tmp);
    if (isDir && fs.existsSync(out)) {
      const old = tmpName(out);
      fs.renameSync(out, old);
      fs.renameSync(tmp, out);
      fs.rmSync(old, { recursive: true, force: true });
    } else fs.renameSync(tmp, out);
    const dfd = fs.openSync(path.dirname(out), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch (e) {
    cleanup();
    throw e;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}

interface TarResult {
  diffId: string;
  digest: string;
  size: number;
}

/** Write one tar of `stack` to `file` (new). */
async function writeTar(file: string, stack: string[], opts: WalkOpts, gzip: boolean, progress: Progress): Promise<TarResult> {
  const fd = fs.openSync(file, 'wx', 0o644);
  try {
    const sink = new TarSink(fd, gzip, progress);
    const w = new Writer(sink, opts);
    const rootSt = fs.lstatSync(stack[0]);
    // the root dir entry carries the root's mode/owner/times
    await w.entry('.', stack[0], rootSt, opts.diff ? new Map() : xattrsOf(stack[0]).keep);
    if (opts.diff && xattrsOf(stack[0]).opaque) await w.opaqueMarker('');
    await w.walk(stack, '', stack.map((_, i) => i));
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

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
}

/** Write a blob into <layout>/blobs/sha256/<hex> and return its descriptor data. */
function putBlob(layout: string, data: Buffer): { digest: string; size: number } {
  const hex = crypto.createHash('sha256').update(data).digest('hex');
  const f = path.join(layout, 'blobs', 'sha256', hex);
  fs.writeFileSync(f, data, { mode: 0o644 });
  return { digest: `sha256:${hex}`, size: data.length };
}

export async function commitContainer(o: CommitOptions): Promise<void> {
  const out = path.resolve(o.out);
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
    await atomically(out, false, async (tmp) => {
      await writeTar(tmp, stack, { diff: o.mode === 'diff', prune }, gzip, progress);
    });
    progress.finish();
    return;
  }

  // --oci: an image layout dir
  await atomically(out, true, async (tmp) => {
    fs.mkdirSync(path.join(tmp, 'blobs', 'sha256'), { recursive: true });
    const layerDescs: { mediaType: string; digest: string; size: number }[] = [];
    const diffIds: string[] = [];
    const history: { created: string; created_by: string; comment?: string }[] = [];
    const now = new Date().toISOString();
    const add = async (stack: string[], diff: boolean, what: string, n: number, of: number) => {
      progress.layer(n, of);
      progress.start(what, 0);
      const t = path.join(tmp, `layer-${n}.tar`);
      const r = await writeTar(t, stack, { diff, prune: diff ? new Set() : prune }, false, progress);
      fs.renameSync(t, path.join(tmp, 'blobs', 'sha256', r.digest.slice(7)));
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
        Env: ic.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: ic.args ?? ['/bin/sh'],
        WorkingDir: ic.cwd ?? '/',
      },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history,
    };
    const cfg = putBlob(tmp, Buffer.from(JSON.stringify(config)));
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
      layers: layerDescs,
    };
    const man = putBlob(tmp, Buffer.from(JSON.stringify(manifest)));
    const tag = o.tag || 'latest';
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...man,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    };
    fs.writeFileSync(path.join(tmp, 'index.json'), JSON.stringify(index));
    fs.writeFileSync(path.join(tmp, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  });
  progress.finish();
}
