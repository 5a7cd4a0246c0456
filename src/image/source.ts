// Layer sources: what a "tsrun.layers" entry names, and reading OCI image
// layouts (a directory or a tar archive) and docker archives without
// extracting them: a tar archive is indexed once (header walk with pread)
// and its blobs are streamed from their offsets.
import * as fs from 'fs';
import * as path from 'path';
import type { Readable } from 'stream';
import { ConfigError } from '../errors';
import { LayerError } from './unpack';

export interface ImageSource {
  kind: 'tar' | 'dir' | 'oci';
  path: string;
  tag?: string;
}

export interface ImageConfig {
  args: string[];
  env: string[];
  cwd: string;
  user?: string;
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// ---- archives: a directory or a tar file, read by member name --------------

export interface Archive {
  label: string;
  has(name: string): boolean;
  read(name: string): Buffer;
  stream(name: string): Readable;
  size(name: string): number;
  close(): void;
}

class DirArchive implements Archive {
  constructor(
    private readonly dir: string,
    readonly label: string,
  ) {}
  private p(name: string): string {
    const clean = path.posix.normalize(name);
    if (clean.startsWith('..') || path.isAbsolute(clean)) throw new LayerError(`image "${this.label}": bad member "${name}"`);
    return path.join(this.dir, clean);
  }
  has(name: string): boolean {
    return fs.existsSync(this.p(name));
  }
  read(name: string): Buffer {
    return fs.readFileSync(this.p(name));
  }
  stream(name: string): Readable {
    return fs.createReadStream(this.p(name), { highWaterMark: 1 << 20 });
  }
  size(name: string): number {
    return fs.statSync(this.p(name)).size;
  }
  close(): void {}
}

interface Member {
  offset: number;
  size: number;
}

/**
 * Walk the headers of an uncompressed tar with pread; map member name -> data range.
 * `visit` sees each member name as it is found; returning false stops the walk.
 */
export function indexTar(file: string, limit = Infinity, visit?: (name: string) => boolean): Map<string, Member> | null {
  const fd = fs.openSync(file, 'r');
  try {
    const total = fs.fstatSync(fd).size;
    const h = Buffer.alloc(512);
    const out = new Map<string, Member>();
    let off = 0;
    let longName: string | undefined;
    let paxPath: string | undefined;
    let n = 0;
    while (off + 512 <= total && n++ < limit) {
      if (fs.readSync(fd, h, 0, 512, off) !== 512) break;
      if (h.every((b) => b === 0)) break;
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
      if (parseInt(h.toString('latin1', 148, 156).replace(/\0.*$/, '').trim(), 8) !== sum) return null;
      const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
      const type = String.fromCharCode(h[156]);
      const data = off + 512;
      const read = () => {
        const b = Buffer.alloc(size);
        fs.readSync(fd, b, 0, size, data);
        return b;
      };
      if (type === 'L') longName = read().toString('utf8').replace(/\0.*$/s, '');
      else if (type === 'x') {
        const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(read().toString('utf8'));
        if (m) paxPath = m[1];
      } else {
        let name = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
        if (h.toString('latin1', 257, 263) === 'ustar\0') {
          const prefix = h.toString('utf8', 345, 500).replace(/\0.*$/s, '');
          if (prefix) name = `${prefix}/${name}`;
        }
        name = paxPath ?? longName ?? name;
        longName = paxPath = undefined;
        name = name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
        const isFile = type === '0' || type === '\0' || type === '7';
        if (isFile) out.set(name, { offset: data, size });
        else if (type === '5') out.set(`${name}/`, { offset: data, size: 0 });
        if ((isFile || type === '5') && visit && !visit(name)) break;
      }
      off = data + Math.ceil(size / 512) * 512;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

class TarArchive implements Archive {
  private readonly members: Map<string, Member>;
  constructor(
    private readonly file: string,
    readonly label: string,
  ) {
    const m = indexTar(file);
    if (!m) throw new LayerError(`image "${label}": not a tar archive`);
    this.members = m;
  }
  private m(name: string): Member {
    const m = this.members.get(name.replace(/^(\.\/)+/, ''));
    if (!m) throw new LayerError(`image "${this.label}": no "${name}" in the archive`);
    return m;
  }
  has(name: string): boolean {
    return this.members.has(name.replace(/^(\.\/)+/, ''));
  }
  read(name: string): Buffer {
    const m = this.m(name);
    const b = Buffer.alloc(m.size);
    const fd = fs.openSync(this.file, 'r');
    try {
      fs.readSync(fd, b, 0, m.size, m.offset);
    } finally {
      fs.closeSync(fd);
    }
    return b;
  }
  stream(name: string): Readable {
    const m = this.m(name);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (m.size === 0) return (require('stream') as typeof import('stream')).Readable.from([]);
    return fs.createReadStream(this.file, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
  }
  size(name: string): number {
    return this.m(name).size;
  }
  close(): void {}
}

export function openArchive(p: string, label = p): Archive {
  return fs.statSync(p).isDirectory() ? new DirArchive(p, label) : new TarArchive(p, label);
}

// ---- parseLayerSource -------------------------------------------------------

/** Top-level names of an image archive (OCI layout or docker archive), as opposed to a rootfs tar. */
function looksLikeImageTar(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const magic = Buffer.alloc(2);
    fs.readSync(fd, magic, 0, 2, 0);
    if (magic[0] === 0x1f && magic[1] === 0x8b) return false; // gzip: a layer
  } finally {
    fs.closeSync(fd);
  }
  // Look at the first entries: an image archive has only oci-layout,
  // index.json, manifest.json, repositories, blobs/..., <hex>/..., <hex>.json.
  // The walk stops at the first other name (a rootfs tar: at its second entry).
  let image = false;
  let other = false;
  const idx = indexTar(file, 64, (name) => {
    if (name === 'oci-layout' || name === 'index.json' || name === 'manifest.json') image = true;
    else if (!(name === '' || name === 'repositories' || name === 'blobs' || name.startsWith('blobs/') || /^[0-9a-f]{64}(\.json|\/.*)?$/.test(name)))
      other = true;
    return !other;
  });
  return !!idx && image && !other;
}

function isImageDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'index.json')) || fs.existsSync(path.join(dir, 'manifest.json'));
}

/**
 * A "tsrun.layers" entry: "x.tar", "x.tar.gz", "dir", "oci-dir[:tag]",
 * "oci.tar[:tag]"; relative to the bundle.  The kind of an existing path is
 * found by looking at it (an image archive vs a rootfs tar).
 */
export function parseLayerSource(entry: string, bundleDir: string): ImageSource {
  if (!entry) throw new ConfigError(['tsrun.layers: empty entry']);
  const resolve = (p: string) => path.resolve(bundleDir, p);
  let p = resolve(entry);
  let tag: string | undefined;
  if (!fs.existsSync(p)) {
    const c = entry.lastIndexOf(':');
    if (c > 0 && c < entry.length - 1 && !entry.slice(c + 1).includes('/') && fs.existsSync(resolve(entry.slice(0, c)))) {
      p = resolve(entry.slice(0, c));
      tag = entry.slice(c + 1);
    }
  }
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(p);
  } catch {
    // does not exist (yet): decide by the name; ensureLayers reports it
    return { kind: /\.(tar|tgz|gz)$/.test(p) ? 'tar' : 'dir', path: p, ...(tag ? { tag } : {}) };
  }
  let kind: ImageSource['kind'];
  if (st.isDirectory()) kind = isImageDir(p) ? 'oci' : 'dir';
  else kind = looksLikeImageTar(p) ? 'oci' : 'tar';
  if (tag && kind !== 'oci') throw new ConfigError([`tsrun.layers: "${entry}": a tag is only valid on an OCI image layout or archive`]);
  return { kind, path: p, ...(tag ? { tag } : {}) };
}

// ---- image manifests --------------------------------------------------------

export interface ImageLayer {
  /** member name of the blob in the archive */
  member: string;
  /** digest of the blob as stored (compressed), "sha256:..." or undefined (docker archive) */
  blobDigest?: string;
  /** uncompressed digest from the config's rootfs.diff_ids */
  diffId?: string;
  size?: number;
}

export interface ResolvedImage {
  archive: Archive;
  layers: ImageLayer[];
  config: Record<string, unknown>;
}

function sha256(b: Buffer): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const crypto = require('crypto') as typeof import('crypto');
  return `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
}

function blobName(digest: string, label: string): string {
  const m = /^(sha256|sha512):([0-9a-f]+)$/.exec(digest);
  if (!m) throw new LayerError(`image "${label}": bad digest "${digest}"`);
  return `blobs/${m[1]}/${m[2]}`;
}

function readJson(a: Archive, name: string, digest?: string): Record<string, unknown> {
  const b = a.read(name);
  if (digest && digest.startsWith('sha256:') && sha256(b) !== digest)
    throw new LayerError(`image "${a.label}": blob ${digest} does not match its digest`);
  try {
    return JSON.parse(b.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new LayerError(`image "${a.label}": "${name}" is not valid JSON`);
  }
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string };
}

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

/** The OCI name of this machine's architecture. */
export function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
}

function pickManifest(a: Archive, list: Descriptor[], tag: string | undefined, depth: number): Descriptor {
  if (!list.length) throw new LayerError(`image "${a.label}": index has no manifests`);
  let cands = list;
  if (tag) {
    cands = list.filter((d) => {
      const an = d.annotations ?? {};
      const names = [an['org.opencontainers.image.ref.name'], an['io.containerd.image.name']].filter(Boolean) as string[];
      return names.some((n) => n === tag || n.endsWith(`:${tag}`) || n.replace(/:[^:/]*$/, '') === tag);
    });
    if (!cands.length && depth === 0) throw new LayerError(`image "${a.label}": no manifest tagged "${tag}"`);
    if (!cands.length) cands = list;
  }
  // a multi-platform index: prefer our platform
  const mine = cands.find((d) => d.platform?.os === 'linux' && d.platform.architecture === goArch());
  return mine ?? cands[0];
}

function resolveOci(a: Archive, tag: string | undefined): ResolvedImage {
  let index = readJson(a, 'index.json');
  let desc = pickManifest(a, (index.manifests as Descriptor[]) ?? [], tag, 0);
  for (let depth = 1; INDEX_TYPES.has(desc.mediaType ?? '') && depth < 4; depth++) {
    index = readJson(a, blobName(desc.digest, a.label), desc.digest);
    desc = pickManifest(a, (index.manifests as Descriptor[]) ?? [], undefined, depth);
  }
  const manifest = readJson(a, blobName(desc.digest, a.label), desc.digest);
  const cfgDesc = manifest.config as Descriptor | undefined;
  if (!cfgDesc) throw new LayerError(`image "${a.label}": manifest has no config`);
  const config = readJson(a, blobName(cfgDesc.digest, a.label), cfgDesc.digest);
  const diffIds = ((config.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? []) as string[];
  const layers = ((manifest.layers as Descriptor[]) ?? []).map((l, i) => {
    if (/zstd/.test(l.mediaType ?? '')) throw new LayerError(`image "${a.label}": layer ${l.digest}: zstd compression is not supported`);
    return { member: blobName(l.digest, a.label), blobDigest: l.digest, diffId: diffIds[i], size: l.size };
  });
  return { archive: a, layers, config };
}

function resolveDocker(a: Archive, tag: string | undefined): ResolvedImage {
  const raw = JSON.parse(a.read('manifest.json').toString('utf8')) as { Config: string; RepoTags?: string[]; Layers: string[] }[];
  if (!Array.isArray(raw) || !raw.length) throw new LayerError(`image "${a.label}": empty manifest.json`);
  let m = raw[0];
  if (tag) {
    const f = raw.find((x) => (x.RepoTags ?? []).some((t) => t === tag || t.endsWith(`:${tag}`) || t.replace(/:[^:/]*$/, '') === tag));
    if (!f) throw new LayerError(`image "${a.label}": no image tagged "${tag}"`);
    m = f;
  }
  const config = readJson(a, m.Config);
  const diffIds = ((config.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? []) as string[];
  const layers = m.Layers.map((member, i) => {
    const b = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(member);
    return { member, blobDigest: b ? `sha256:${b[1]}` : undefined, diffId: diffIds[i] };
  });
  return { archive: a, layers, config };
}

export function resolveImage(src: ImageSource): ResolvedImage {
  const a = openArchive(src.path, src.path);
  if (a.has('index.json')) return resolveOci(a, src.tag);
  if (a.has('manifest.json')) return resolveDocker(a, src.tag);
  throw new LayerError(`image "${src.path}": neither an OCI image layout (index.json) nor a docker archive (manifest.json)`);
}

/** Process args, env, cwd and user from an image's config (Entrypoint + Cmd, Env, WorkingDir, User). */
export async function imageConfigFor(source: ImageSource): Promise<ImageConfig> {
  if (source.kind !== 'oci') return { args: ['/bin/sh'], env: [DEFAULT_PATH], cwd: '/' };
  const img = resolveImage(source);
  const c = (img.config.config ?? {}) as { Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[] | null; WorkingDir?: string; User?: string };
  let args = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (!args.length) args = ['/bin/sh'];
  const env = [...(c.Env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  return { args, env, cwd: c.WorkingDir || '/', ...(c.User ? { user: c.User } : {}) };
}
