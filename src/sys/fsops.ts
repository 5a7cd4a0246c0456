// File-system calls Node does not offer: mknod(2) (device nodes, overlay
// whiteouts) and the l*xattr(2) family.  All go through libc.ts fn()/check().
import { check, errno, fn } from './libc';

export const S_IFMT = 0o170000;
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

const ENODATA = 61;
const ENOTSUP = 95;

/** glibc's makedev(). Numbers beyond 2^53 cannot occur for real devices. */
export function makedev(major: number, minor: number): number {
  const M = BigInt(major);
  const m = BigInt(minor);
  const d = ((M & 0xfffn) << 8n) | ((M & ~0xfffn) << 32n) | (m & 0xffn) | ((m & ~0xffn) << 12n);
  return Number(d);
}

export function mknod(path: string, mode: number, dev: number): void {
  check(fn('int mknod(const char *path, uint32_t mode, uint64_t dev)')(path, mode, dev), 'mknod', path);
}

export function lsetxattr(path: string, name: string, value: Buffer): void {
  const r = fn('int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)')(
    path,
    name,
    value,
    value.length,
    0,
  );
  check(r, `lsetxattr ${name}`, path);
}

/** Names of the extended attributes of `path` (not following a symlink); [] when unsupported. */
export function llistxattr(path: string): string[] {
  const f = fn('long llistxattr(const char *path, _Out_ uint8_t *list, size_t size)');
  for (;;) {
    const n = f(path, null, 0);
    if (n < 0) {
      if (errno() === ENOTSUP) return [];
      check(n, 'llistxattr', path);
    }
    if (n === 0) return [];
    const buf = Buffer.alloc(n);
    const m = f(path, buf, n);
    if (m < 0) {
      if (errno() === 34 /* ERANGE: grew meanwhile */) continue;
      check(m, 'llistxattr', path);
    }
    return buf
      .subarray(0, m)
      .toString('latin1')
      .split('\0')
      .filter((s) => s.length > 0);
  }
}

/** Value of one extended attribute, or undefined when absent. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const f = fn('long lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)');
  for (;;) {
    const n = f(path, name, null, 0);
    if (n < 0) {
      const e = errno();
      if (e === ENODATA || e === ENOTSUP) return undefined;
      check(n, `lgetxattr ${name}`, path);
    }
    const buf = Buffer.alloc(n);
    if (n === 0) return buf;
    const m = f(path, name, buf, n);
    if (m < 0) {
      if (errno() === 34) continue;
      check(m, `lgetxattr ${name}`, path);
    }
    return buf.subarray(0, m);
  }
}
