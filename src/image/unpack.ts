// Unpack one layer tar stream into a directory, in one pass: the caller feeds
// the uncompressed bytes, which are hashed (diff_id) and extracted here.
//   - keeps modes, numeric owners, times, symlinks, hardlinks, device nodes,
//     fifos and xattrs (except trusted.overlay.*, which a layer may not forge);
//   - converts OCI whiteouts to overlayfs ones: ".wh.NAME" -> char device 0/0
//     NAME, ".wh..wh..opq" -> trusted.overlay.opaque="y" on the directory;
//   - refuses entries that escape the layer: absolute paths, "..", writes
//     through a symlink, hardlinks to outside.  Every path is checked
//     component by component with lstat, so nothing is ever written outside
//     `root`.
import * as fs from 'fs';
import { TsrunError } from '../errors';
import type { EntrySink, TarEntry } from './tarformat';

export class LayerError extends TsrunError {}

const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
// Files we create are owned by our uid/gid already: skip chown when they match.
const myUid = process.getuid?.() ?? -1;
const myGid = process.getgid?.() ?? -1;
/**
 * A user who is not root (rootless) cannot give files away nor make device
 * nodes: its layers hold every file as its own (the container's root, mapped
 * to it), without the layer's device nodes; whiteouts (char 0/0) it may make.
 */
const unprivileged = (process.geteuid?.() ?? 0) !== 0;
const needChown = (e: TarEntry) => !unprivileged && (e.uid !== myUid || e.gid !== myGid);
/**
 * The xattrs overlayfs keeps its state in: trusted.overlay.* for root;
 * user.overlay.* for another user, who may set only user.* xattrs and mounts
 * its overlays in a user namespace with "userxattr" (overlayMountPlan).
 */
export const OVERLAY_XATTR = unprivileged ? 'user.overlay.' : 'trusted.overlay.';
/** Whether overlay mounts need "userxattr" (see OVERLAY_XATTR). */
export const OVERLAY_USERXATTR = unprivileged;
const WH = '.wh.';
const OPQ = '.wh..wh..opq';

let umaskCache: number | undefined;
/** The process umask, read once (all bits when it cannot be read: every file then gets its fchmod). */
function umask(): number {
  if (umaskCache === undefined) {
    try {
      umaskCache = process.umask();
    } catch {
      umaskCache = 0o7777;
    }
  }
  return umaskCache;
}

/** A file can be created with its final mode by open(2) itself: no setuid/setgid/sticky bit, nothing the umask removes. */
export function modeAtOpen(mode: number, mask: number): boolean {
  return (mode & ~0o777) === 0 && (mode & mask) === 0;
}

const exists = (err: unknown) => (err as NodeJS.ErrnoException).code === 'EEXIST' || (err as { errno?: number }).errno === 17;

/** p without its trailing "/" when every component is a plain name (no "", "." or ".."); otherwise null. */
function plainPath(p: string): string | null {
  const n = p.endsWith('/') ? p.length - 1 : p.length;
  if (n === 0) return null;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && p.charCodeAt(i) !== 47 /* / */) continue;
    const len = i - start;
    if (len === 0) return null;
    if (p.charCodeAt(start) === 46 /* . */ && (len === 1 || (len === 2 && p.charCodeAt(start + 1) === 46))) return null;
    start = i + 1;
  }
  return n === p.length ? p : p.slice(0, n);
}

/** Clean relative form of a tar path ("" for the root), or null when it escapes. */
export function cleanTarPath(p: string): string | null {
  if (p.startsWith('/')) return null;
  // the common shapes ("./a/b", "a/b/", "a") without split/join
  let q = p;
  while (q.startsWith('./')) q = q.slice(2);
  const plain = plainPath(q);
  if (plain !== null) return plain;
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') return null;
    out.push(c);
  }
  return out.join('/');
}

interface DirTimes {
  abs: string;
  atime: number;
  mtime: number;
}

export class LayerExtractor {
  /** Relative dirs known to be real directories inside root (not symlinks). */
  private dirs = new Set<string>(['']);
  private dirTimes = new Map<string, DirTimes>();
  private fsops: typeof import('../sys/fsops') | undefined;
  bytes = 0;
  entries = 0;

  constructor(
    private readonly root: string,
    private readonly label: string,
  ) {}

  private ops(): typeof import('../sys/fsops') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.fsops ??= require('../sys/fsops') as typeof import('../sys/fsops');
    return this.fsops;
  }

  private escape(name: string): never {
    throw new LayerError(`layer "${this.label}": entry "${name}": escapes the layer`);
  }

  private fail(name: string, why: string): never {
    throw new LayerError(`layer "${this.label}": entry "${name}": ${why}`);
  }

  /** Make sure every parent of rel exists as a real directory; refuse symlinks. */
  private parents(rel: string, name: string): void {
    const slash = rel.lastIndexOf('/');
    // a known dir was checked with all its ancestors (and clear() forgets a removed subtree)
    if (this.dirs.has(slash < 0 ? '' : rel.slice(0, slash))) return;
    const parts = rel.split('/');
    let cur = '';
    for (let i = 0; i < parts.length - 1; i++) {
      cur = cur ? `${cur}/${parts[i]}` : parts[i];
      if (this.dirs.has(cur)) continue;
      const abs = this.abs(cur);
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(abs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if (!st) fs.mkdirSync(abs, 0o755);
      else if (st.isSymbolicLink()) this.escape(name);
      else if (!st.isDirectory()) this.fail(name, `parent "${cur}" is not a directory`);
      this.dirs.add(cur);
    }
  }

  /** root/rel for a clean rel ("" for the root). */
  private abs(rel: string): string {
    return rel ? `${this.root}/${rel}` : this.root;
  }

  /**
   * Make a new entry at rel with `make`: optimistically (the layer dir starts
   * empty, so most paths are new: no lstat per entry); when something is
   * there already (EEXIST), remove it (clear) and make it again.
   */
  private create(rel: string, make: () => void): void {
    try {
      make();
    } catch (err) {
      if (!exists(err)) throw err;
      this.clear(rel, false);
      make();
    }
  }

  /** Remove whatever is at rel (to be replaced by a new entry). */
  private clear(rel: string, keepDir: boolean): void {
    const abs = this.abs(rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      if (keepDir) return;
      fs.rmSync(abs, { recursive: true, force: true });
      for (const d of [...this.dirs]) if (d === rel || d.startsWith(`${rel}/`)) this.dirs.delete(d);
      for (const d of [...this.dirTimes.keys()]) if (d === abs || d.startsWith(`${abs}/`)) this.dirTimes.delete(d);
    } else fs.unlinkSync(abs);
  }

  private xattrs(abs: string, e: TarEntry): void {
    for (const [k, v] of e.xattrs) {
      // overlayfs' own state, in either namespace, is not a layer's to forge
      if (k.startsWith('trusted.overlay.') || k.startsWith('user.overlay.')) continue;
      this.ops().lsetxattr(abs, k, v);
    }
  }

  onEntry(e: TarEntry): EntrySink | null {
    this.entries++;
    const rel = cleanTarPath(e.path);
    if (rel === null) this.escape(e.path);
    const base = rel.slice(rel.lastIndexOf('/') + 1);

    if (base.startsWith(WH)) {
      this.parents(rel, e.path);
      const dirRel = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      const dirAbs = this.abs(dirRel);
      if (base === OPQ) {
        this.ops().lsetxattr(dirAbs, `${OVERLAY_XATTR}opaque`, Buffer.from('y'));
        return null;
      }
      const target = base.slice(WH.length);
      if (!target || target === '.' || target === '..' || target.includes('/')) this.escape(e.path);
      const tRel = dirRel ? `${dirRel}/${target}` : target;
      const ops = this.ops();
      this.create(tRel, () => ops.mknod(this.abs(tRel), ops.S_IFCHR, 0));
      return null;
    }

    if (rel === '') {
      // the layer root itself: only a directory makes sense
      if (e.type !== 'dir') this.escape(e.path);
      this.meta(this.root, e, true, false);
      return null;
    }
    this.parents(rel, e.path);
    const abs = this.abs(rel);

    switch (e.type) {
      case 'dir': {
        let fresh = true;
        try {
          fs.mkdirSync(abs, 0o700);
        } catch (err) {
          if (!exists(err)) throw err;
          fresh = false;
          this.clear(rel, true); // a dir stays (its content too); anything else is replaced
          try {
            fs.mkdirSync(abs, 0o700);
          } catch (err2) {
            if (!exists(err2)) throw err2;
          }
        }
        this.dirs.add(rel);
        this.meta(abs, e, true, fresh);
        return null;
      }
      case 'file': {
        // open(2) gives the final mode when the umask keeps it: no fchmod
        const atOpen = modeAtOpen(e.mode, umask());
        let fd = -1;
        this.create(rel, () => (fd = fs.openSync(abs, CREATE, atOpen ? e.mode : 0o600)));
        const self = this;
        return {
          data(chunk: Buffer) {
            let off = 0;
            while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
            self.bytes += chunk.length;
          },
          end() {
            try {
              if (needChown(e)) fs.fchownSync(fd, e.uid, e.gid);
              if (!atOpen) fs.fchmodSync(fd, e.mode); // after chown, which clears setuid/setgid
              self.xattrs(abs, e);
              fs.futimesSync(fd, e.atime ?? e.mtime, e.mtime);
            } finally {
              fs.closeSync(fd);
            }
          },
        };
      }
      case 'symlink': {
        this.create(rel, () => fs.symlinkSync(e.linkpath, abs));
        if (needChown(e)) fs.lchownSync(abs, e.uid, e.gid);
        this.xattrs(abs, e);
        fs.lutimesSync(abs, e.atime ?? e.mtime, e.mtime);
        return null;
      }
      case 'link': {
        const target = cleanTarPath(e.linkpath);
        if (target === null || target === '') this.escape(e.path);
        // the target's parents must be real dirs inside the layer (link(2)
        // follows symlinks in the parents, not in the last component)
        this.parents(target, e.path);
        const tAbs = this.abs(target);
        let st: fs.Stats;
        try {
          st = fs.lstatSync(tAbs);
        } catch {
          return this.fail(e.path, `hardlink target "${e.linkpath}" does not exist in the layer`);
        }
        if (st.isDirectory()) this.fail(e.path, `hardlink target "${e.linkpath}" is a directory`);
        if (target === rel) return null;
        this.create(rel, () => fs.linkSync(tAbs, abs));
        return null;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        // rootless: no device nodes (an overlay whiteout, char 0/0, it may make)
        if (unprivileged && e.type !== 'fifo' && (e.devmajor || e.devminor)) return null;
        const ops = this.ops();
        const fmt = e.type === 'char' ? ops.S_IFCHR : e.type === 'block' ? ops.S_IFBLK : ops.S_IFIFO;
        this.create(rel, () => ops.mknod(abs, fmt | (e.mode & 0o777), e.type === 'fifo' ? 0 : ops.makedev(e.devmajor, e.devminor)));
        this.meta(abs, e, false, true);
        return null;
      }
    }
  }

  /** Owner, mode, xattrs, times; `fresh`: we just made it (so it is ours), else it may be an earlier entry's dir. */
  private meta(abs: string, e: TarEntry, isDir: boolean, fresh: boolean): void {
    if (!unprivileged && (!fresh || needChown(e))) fs.lchownSync(abs, e.uid, e.gid);
    fs.chmodSync(abs, e.mode);
    this.xattrs(abs, e);
    if (isDir) this.dirTimes.set(abs, { abs, atime: e.atime ?? e.mtime, mtime: e.mtime });
    else fs.lutimesSync(abs, e.atime ?? e.mtime, e.mtime);
  }

  /** Directory times last (creating children changed them), deepest first. */
  finish(): void {
    const all = [...this.dirTimes.values()].sort((a, b) => b.abs.length - a.abs.length);
    for (const d of all) {
      try {
        fs.lutimesSync(d.abs, d.atime, d.mtime); // never follows: an entry may have become a symlink
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
}
