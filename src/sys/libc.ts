// The only place koffi is imported.  koffi costs ~15 ms to load, so it is
// required lazily, on first use, by the commands that need a syscall Node
// does not offer.  Each wrapper throws SystemError naming the call and path.
import type * as Koffi from 'koffi';
import { SystemError } from '../errors';

type Fn = (...args: unknown[]) => number;

let koffiMod: typeof Koffi | undefined;
let libc: Koffi.IKoffiLib | undefined;
const fns = new Map<string, Fn>();

/**
 * koffi's native module, loaded directly when this platform's build is there:
 * koffi's index.js first loads its installer's helpers (https, zlib, crypto),
 * ~8 ms of the ~10 ms a require('koffi') costs, and only adds deprecated
 * aliases to the API the native module already has.  Elsewhere (musl, other
 * architectures) require('koffi') finds the right build itself.
 */
export function koffi(): typeof Koffi {
  if (!koffiMod) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      koffiMod = require(`koffi/build/koffi/${process.platform}_${process.arch}/koffi.node`) as typeof Koffi;
      if (typeof koffiMod.load !== 'function') koffiMod = undefined;
    } catch {
      koffiMod = undefined;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    koffiMod ??= require('koffi') as typeof Koffi;
  }
  return koffiMod!;
}

export function lib(): Koffi.IKoffiLib {
  libc ??= koffi().load('libc.so.6');
  return libc;
}

/** A libc function by prototype, declared once. */
export function fn(proto: string): Fn {
  let f = fns.get(proto);
  if (!f) {
    f = lib().func(proto) as unknown as Fn;
    fns.set(proto, f);
  }
  return f;
}

export function errno(): number {
  return koffi().errno();
}

const strerror = (e: number): string => {
  const s = fn('const char *strerror(int errnum)')(e) as unknown as string;
  return s || `errno ${e}`;
};

/** Throws SystemError(`<call> "<path>": <strerror>`) for a -1 return. */
export function check(ret: number, call: string, path?: string): number {
  if (ret < 0) {
    const e = errno();
    throw new SystemError(`${call}${path ? ` "${path}"` : ''}: ${strerror(e)}`, e);
  }
  return ret;
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** flock(2) on an open fd; retries EINTR. */
export function flock(fd: number, op: number, path?: string): void {
  const f = fn('int flock(int fd, int operation)');
  for (;;) {
    const r = f(fd, op);
    if (r === 0) return;
    if (errno() === 4 /* EINTR */) continue;
    check(r, 'flock', path);
  }
}

export const MNT_DETACH = 2;

export function umount2(target: string, flags: number): void {
  check(fn('int umount2(const char *target, int flags)')(target, flags), 'umount2', target);
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  check(
    fn('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)')(
      source,
      target,
      fstype,
      flags,
      data,
    ),
    'mount',
    target,
  );
}

/** mkfifo(3) */
export function mkfifo(p: string, mode: number): void {
  check(fn('int mkfifo(const char *path, uint32_t mode)')(p, mode), 'mkfifo', p);
}

const NS_GET_USERNS = 0xb701; // _IO(0xb7, 0x1), linux/nsfs.h
const NS_GET_OWNER_UID = 0xb704; // _IO(0xb7, 0x4)

/**
 * Who owns a namespace file: the uid that made its owning user namespace
 * (for a user namespace: the uid that made it), and that user namespace's
 * identity (dev:ino).  Throws SystemError naming the path.
 */
export function namespaceOwner(nsPath: string, isUser: boolean): { uid: number; userns: string } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('fs') as typeof import('fs');
  const fd = fs.openSync(nsPath, 'r');
  let userns = -1;
  try {
    userns = isUser ? fd : check(fn('int ioctl(int fd, unsigned long req)')(fd, NS_GET_USERNS), 'ioctl NS_GET_USERNS', nsPath);
    const uid = [0];
    check(fn('int ioctl(int fd, unsigned long req, _Out_ uint32_t *uid)')(userns, NS_GET_OWNER_UID, uid), 'ioctl NS_GET_OWNER_UID', nsPath);
    const st = fs.fstatSync(userns);
    return { uid: uid[0], userns: `${st.dev}:${st.ino}` };
  } finally {
    if (userns >= 0 && userns !== fd) fs.closeSync(userns);
    fs.closeSync(fd);
  }
}
