// Per-container write layers, the overlay mount plan, volumes.
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import type { Volume } from '../spec/volume';
import type { DataOp, LayerRef } from './store';
import { OVERLAY_USERXATTR, OVERLAY_XATTR } from './unpack';

export interface ContainerStorage {
  upper: string;
  work: string;
  /** <dataDir>/containers/<id> */
  root: string;
}

export interface OverlayPlan {
  source: 'overlay';
  type: 'overlay';
  data: string;
  /** when set, the mount must be made with this as the working directory (data has relative paths) */
  chdir?: string;
}

export function containerRoot(dataDir: string, id: string): string {
  if (!id || id.includes('/') || id === '.' || id === '..') throw new ConfigError([`bad container id "${id}"`]);
  return path.join(path.resolve(dataDir), 'containers', id);
}

/** mkdir <dataDir>/containers/<id>/{upper,work,merged}; each mkdir appended to record (a replay's DOPK_MKDIR). */
export function createContainerStorage(dataDir: string, id: string, record?: DataOp[]): ContainerStorage {
  const root = containerRoot(dataDir, id);
  const mkdir = (p: string, mode: number) => {
    fs.mkdirSync(p, { recursive: true, mode });
    record?.push({ op: 'mkdir', path: p, mode });
  };
  mkdir(path.dirname(root), 0o700);
  mkdir(root, 0o700);
  const upper = path.join(root, 'upper');
  const work = path.join(root, 'work');
  mkdir(upper, 0o755);
  mkdir(work, 0o700);
  mkdir(path.join(root, 'merged'), 0o755);
  return { upper, work, root };
}

/** The storage paths of an existing container (no mkdir). */
export function containerStorage(dataDir: string, id: string): ContainerStorage {
  const root = containerRoot(dataDir, id);
  return { root, upper: path.join(root, 'upper'), work: path.join(root, 'work') };
}

// mount(2) data is one page; keep well below it.
const MAX_DATA = 4000;
const SPECIAL = /[:,\\]/;

function shortLink(dataDir: string, dir: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const crypto = require('crypto') as typeof import('crypto'); // only for long layer lists: not on the common path
  const name = crypto.createHash('sha256').update(dir).digest('hex').slice(0, 20);
  const l = path.join(dataDir, 'l', name);
  try {
    if (fs.readlinkSync(l) === dir) return `l/${name}`;
  } catch {
    /* missing */
  }
  fs.mkdirSync(path.join(dataDir, 'l'), { recursive: true, mode: 0o700 });
  const t = `${l}.${process.pid}.tmp`;
  fs.rmSync(t, { force: true });
  fs.symlinkSync(dir, t);
  fs.renameSync(t, l);
  return `l/${name}`;
}

/**
 * Overlay mount for the container root: lowerdir top-first.  When the
 * absolute form is too long for one page (or a path holds ':' ',' '\'), the
 * layers are named by short symlinks under <dataDir>/l/ (as podman does) and
 * the data is relative to `chdir` = <dataDir>.
 */
export function overlayMountPlan(layers: LayerRef[], st: ContainerStorage, o: { volatile?: boolean } = {}): OverlayPlan {
  if (!layers.length) throw new ConfigError(['tsrun.layers: no layers']);
  const lowers = layers.map((l) => l.dir).reverse();
  // volatile: no syncfs of the upper file system (the host's) at umount
  const opts = (o.volatile ? ',volatile' : '') + (OVERLAY_USERXATTR ? ',userxattr' : '');
  const abs = `lowerdir=${lowers.join(':')},upperdir=${st.upper},workdir=${st.work}${opts}`;
  if (abs.length < MAX_DATA && ![...lowers, st.upper, st.work].some((p) => SPECIAL.test(p)))
    return { source: 'overlay', type: 'overlay', data: abs };
  const dataDir = path.dirname(path.dirname(st.root));
  const rel = (p: string) => path.relative(dataDir, p);
  const upper = rel(st.upper);
  const work = rel(st.work);
  if (SPECIAL.test(upper) || SPECIAL.test(work)) throw new ConfigError([`container id in "${st.root}" holds ':' ',' or '\\'`]);
  const data = `lowerdir=${lowers.map((d) => shortLink(dataDir, d)).join(':')},upperdir=${upper},workdir=${work}${opts}`;
  if (data.length >= MAX_DATA) throw new ConfigError([`tsrun.layers: too many layers (${layers.length}) for one overlay mount`]);
  return { source: 'overlay', type: 'overlay', data, chdir: dataDir };
}

function mountsUnder(root: string): string[] {
  let info: string;
  try {
    info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map(unescape)
    .filter((m) => m === root || m.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * rm -r without following symlinks, for a write layer whose mounts are gone:
 * what fs.rmSync does, without loading Node's rimraf (~0.5 ms).
 */
export function removeTree(p: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isDirectory()) {
    unlinkQuiet(p);
    return;
  }
  try {
    fs.rmdirSync(p); // most dirs of a write layer are empty (merged, work/work, often upper)
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
  }
  // a user who is not root needs rwx on its own dirs to empty them: overlayfs
  // leaves work/work mode 000, and the container may make dirs without w
  const euid = process.geteuid?.() ?? 0;
  if (euid !== 0 && st.uid === euid && (st.mode & 0o700) !== 0o700) fs.chmodSync(p, 0o700);
  for (const name of fs.readdirSync(p)) removeTree(path.join(p, name));
  try {
    fs.rmdirSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function unlinkQuiet(p: string): void {
  try {
    fs.unlinkSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Idempotent: unmount anything left under the container's storage (MNT_DETACH), then remove it. */
export function removeContainerStorage(dataDir: string, id: string): void {
  const root = containerRoot(dataDir, id);
  // nothing can be mounted on a path that does not exist: the common case at create
  if (!fs.lstatSync(root, { throwIfNoEntry: false })) return;
  const mounts = mountsUnder(root);
  if (mounts.length) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const libc = require('../sys/libc') as typeof import('../sys/libc');
    for (const m of mounts) {
      try {
        libc.umount2(m, libc.MNT_DETACH);
      } catch {
        /* already gone, or unmounted with its parent */
      }
    }
  }
  try {
    removeTree(root);
  } catch {
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 2 }); // its retries for what a racing writer adds
  }
}

// ---- volumes ----------------------------------------------------------------

export type { Volume } from '../spec/volume';
export { parseVolume } from '../spec/volume';

function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

function opaque(p: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ops = require('../sys/fsops') as typeof import('../sys/fsops');
  const v = ops.lgetxattr(p, `${OVERLAY_XATTR}opaque`);
  return !!v && v.toString() === 'y';
}

export interface MergedHit {
  /** index into dirs (top first) of the layer that provides the entry */
  layer: number;
  st: fs.Stats;
}

/**
 * Look a relative path (no symlinks followed) up in a stack of directories,
 * top first, the way overlayfs does: whiteouts hide, opaque dirs stop the
 * search below them.  `rel` must be clean ("a/b/c").
 */
export function lookupMerged(dirsTopFirst: string[], rel: string): MergedHit | null {
  let cands = dirsTopFirst.map((_, i) => i);
  const parts = rel ? rel.split('/') : [];
  let prefix = '';
  for (let k = 0; k < parts.length; k++) {
    prefix = prefix ? `${prefix}/${parts[k]}` : parts[k];
    let hit: MergedHit | null = null;
    const next: number[] = [];
    for (const i of cands) {
      const st = lstat(path.join(dirsTopFirst[i], prefix));
      if (!st) continue;
      if (isWhiteout(st)) break;
      if (!hit) hit = { layer: i, st };
      if (!st.isDirectory() || !hit.st.isDirectory()) break;
      next.push(i);
      if (opaque(path.join(dirsTopFirst[i], prefix))) break;
    }
    if (!hit) return null;
    if (k === parts.length - 1) return hit;
    if (!hit.st.isDirectory()) return null;
    cands = next;
  }
  return { layer: 0, st: fs.lstatSync(dirsTopFirst[0]) };
}

/** Resolve `dest` (absolute, in the container) against the merged view, following symlinks inside the root. */
function resolveInRoot(dirsTopFirst: string[], dest: string, entry: string): string {
  let todo = dest.split('/').filter((c) => c && c !== '.');
  const done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const rel = [...done, c].join('/');
    const hit = lookupMerged(dirsTopFirst, rel);
    if (hit?.st.isSymbolicLink()) {
      if (++hops > 40) throw new ConfigError([`tsrun.volumes: "${entry}": too many symlinks in the container path`]);
      const target = fs.readlinkSync(path.join(dirsTopFirst[hit.layer], rel));
      if (target.startsWith('/')) done.length = 0;
      todo = [...target.split('/').filter((x) => x && x !== '.'), ...todo];
      continue;
    }
    done.push(c);
  }
  return done.join('/');
}

/**
 * mkdir the host dirs that are missing (a host file is bound as a file, as
 * docker and podman do); make each destination in the container's root, a
 * directory, or an empty file for a file: in its write layer (upper) when no
 * layer has it, never in an image layer.  Parent dirs that exist only in
 * lower layers are created in upper with the same mode and owner, so the
 * merged view does not change.
 */
export function prepareVolumes(volumes: Volume[], st: ContainerStorage, layers: LayerRef[]): void {
  const stack = [st.upper, ...layers.map((l) => l.dir).reverse()];
  for (const v of volumes) {
    const entry = `${v.source}:${v.destination}`;
    let src: fs.Stats | undefined;
    try {
      src = fs.statSync(v.source);
    } catch {
      src = undefined;
    }
    if (!src) {
      fs.mkdirSync(v.source, { recursive: true, mode: 0o755 });
      src = fs.statSync(v.source);
    }
    const file = !src.isDirectory();
    if (file && !src.isFile()) throw new ConfigError([`tsrun.volumes: "${entry}": host path is neither a directory nor a regular file`]);
    const rel = resolveInRoot(stack, v.destination, entry);
    const parts = rel ? rel.split('/') : [];
    if (file && !parts.length) throw new ConfigError([`tsrun.volumes: "${entry}": a file cannot be bound on the container's root`]);
    // the first component the merged view lacks; everything above it exists
    const hits: (MergedHit | null)[] = [];
    let missing = parts.length;
    for (let k = 0; k < parts.length; k++) {
      const hit = lookupMerged(stack, parts.slice(0, k + 1).join('/'));
      const last = k === parts.length - 1;
      const where = `"/${parts.slice(0, k + 1).join('/')}"`;
      if (hit && last && file && hit.st.isDirectory())
        throw new ConfigError([`tsrun.volumes: "${entry}": ${where} is a directory in the container, and the host path a file: bind a directory there, or the file elsewhere`]);
      if (hit && !(last && file) && !hit.st.isDirectory())
        throw new ConfigError([`tsrun.volumes: "${entry}": ${where} exists in the image and is not a directory`]);
      if (!hit) {
        missing = k;
        break;
      }
      hits.push(hit);
    }
    if (missing === parts.length) continue; // the destination exists: the bind mount goes on it
    let cur = '';
    for (let k = 0; k < parts.length; k++) {
      cur = cur ? `${cur}/${parts[k]}` : parts[k];
      const up = path.join(st.upper, cur);
      const inUpper = lstat(up);
      if (inUpper?.isDirectory()) continue;
      if (inUpper && isWhiteout(inUpper)) fs.unlinkSync(up);
      if (file && k === parts.length - 1) {
        // the mount point of a file volume: an empty file
        fs.closeSync(fs.openSync(up, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, 0o644));
        continue;
      }
      fs.mkdirSync(up, { mode: 0o755 });
      const hit = k < missing ? hits[k] : null;
      if (hit) {
        // a dir only the image has: the same mode/owner/times in upper, so the merged view does not change
        if (!OVERLAY_USERXATTR) fs.chownSync(up, hit.st.uid, hit.st.gid); // another user's layers are all its own
        fs.chmodSync(up, hit.st.mode & 0o7777);
        fs.utimesSync(up, hit.st.atime, hit.st.mtime);
      } else if (inUpper) {
        // it was whited out: an opaque dir so the deleted lower content stays hidden
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('../sys/fsops') as typeof import('../sys/fsops')).lsetxattr(up, `${OVERLAY_XATTR}opaque`, Buffer.from('y'));
      }
    }
  }
}
