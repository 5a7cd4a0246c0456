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
import * as path from 'path';
import { TsrunError } from '../errors';
import type { EntrySink, TarEntry } from './tarformat';

export class LayerError extends TsrunError {}

const O_NOFOLLOW = fs.constants.O_NOFOLLOW;
// Files we create are owned by our uid/gid already: skip chown when they match.
const myUid = process.getuid?.() ?? -1;
const myGid = process.getgid?.() ?? -1;
const needChown = (e: TarEntry) => e.uid !== myUid || e.gid !== myGid;
const WH = '.wh.';
const OPQ = '.wh..wh..opq';

/** Clean relative form of a tar path ("" for the root), or null when it escapes. */
export function cleanTarPath(p: string): string | null {
  if (p.startsWith('/')) return null;
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
    const parts = rel.split('/');
    let cur = '';
    for (let i = 0; i < parts.length - 1; i++) {
      cur = cur ? `${cur}/${parts[i]}` : parts[i];
      if (this.dirs.has(cur)) continue;
      const abs = path.join(this.root, cur);
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

  /** Remove whatever is at rel (to be replaced by a new entry). */
  private clear(rel: string, keepDir: boolean): void {
    const abs = path.join(this.root, rel);
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
      if (k.startsWith('trusted.overlay.')) continue;
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
      const dirAbs = path.join(this.root, dirRel);
      if (base === OPQ) {
        this.ops().lsetxattr(dirAbs, 'trusted.overlay.opaque', Buffer.from('y'));
        return null;
      }
      const target = base.slice(WH.length);
      if (!target || target === '.' || target === '..' || target.includes('/')) this.escape(e.path);
      const tRel = dirRel ? `${dirRel}/${target}` : target;
      this.clear(tRel, false);
      const ops = this.ops();
      ops.mknod(path.join(this.root, tRel), ops.S_IFCHR, 0);
      return null;
    }

    if (rel === '') {
      // the layer root itself: only a directory makes sense
      if (e.type !== 'dir') this.escape(e.path);
      this.meta(this.root, e, true);
      return null;
    }
    this.parents(rel, e.path);
    const abs = path.join(this.root, rel);

    switch (e.type) {
      case 'dir': {
        this.clear(rel, true);
        try {
          fs.mkdirSync(abs, 0o700);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        this.dirs.add(rel);
        this.meta(abs, e, true);
        return null;
      }
      case 'file': {
        this.clear(rel, false);
        const fd = fs.openSync(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600);
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
              fs.fchmodSync(fd, e.mode);
              self.xattrs(abs, e);
              fs.futimesSync(fd, e.atime ?? e.mtime, e.mtime);
            } finally {
              fs.closeSync(fd);
            }
          },
        };
      }
      case 'symlink': {
        this.clear(rel, false);
        fs.symlinkSync(e.linkpath, abs);
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
        const tAbs = path.join(this.root, target);
        let st: fs.Stats;
        try {
          st = fs.lstatSync(tAbs);
        } catch {
          return this.fail(e.path, `hardlink target "${e.linkpath}" does not exist in the layer`);
        }
        if (st.isDirectory()) this.fail(e.path, `hardlink target "${e.linkpath}" is a directory`);
        if (target === rel) return null;
        this.clear(rel, false);
        fs.linkSync(tAbs, abs);
        return null;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        this.clear(rel, false);
        const ops = this.ops();
        const fmt = e.type === 'char' ? ops.S_IFCHR : e.type === 'block' ? ops.S_IFBLK : ops.S_IFIFO;
        ops.mknod(abs, fmt | (e.mode & 0o777), e.type === 'fifo' ? 0 : ops.makedev(e.devmajor, e.devminor));
        this.meta(abs, e, false);
        return null;
      }
    }
  }

  private meta(abs: string, e: TarEntry, isDir: boolean): void {
    if (isDir || needChown(e)) fs.lchownSync(abs, e.uid, e.gid); // a dir may exist from an earlier entry
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
