// AF_UNIX socket pairs and fd passing (SCM_RIGHTS), and the window size of a
// terminal: what `tsrun run -t` needs to make the container's pty itself.
// Node offers none of these; koffi comes through ./libc (loaded lazily).
import type * as Koffi from 'koffi';
import { check, errno, fn, koffi, lib } from './libc';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
const EAGAIN = 11;
const EINTR = 4;
const TIOCGWINSZ = 0x5413;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
const TIOCSWINSZ = 0x5414;

/** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected fds. */
export function socketpair(): [number, number] {
  const fds = new Int32Array(2);
  check(fn('int socketpair(int domain, int type, int protocol, _Out_ int *sv)')(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 'socketpair');
  return [fds[0], fds[1]];
}

export function closeFd(fd: number): void {
  fn('int close(int fd)')(fd);
}

let recvmsgFn: ((...a: unknown[]) => number) | undefined;

function recvmsg(): (...a: unknown[]) => number {
  if (recvmsgFn) return recvmsgFn;
  const k: typeof Koffi = koffi();
  const iovec = k.struct({ iov_base: 'void *', iov_len: 'size_t' });
  const msghdr = k.struct({
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: k.pointer(iovec),
    msg_iovlen: 'size_t',
    msg_control: 'void *',
    msg_controllen: 'size_t',
    msg_flags: 'int',
  });
  recvmsgFn = lib().func('recvmsg', 'long', ['int', k.inout(k.pointer(msghdr)), 'int']) as unknown as (...a: unknown[]) => number;
  return recvmsgFn;
}

/**
 * Receives one fd sent with SCM_RIGHTS on `sock` (and the bytes that came
 * with it, at most `size`).  `wait`: block until something arrives.  Returns null when
 * nothing is there (without wait) or the peer closed without sending one.
 */
export function recvFd(sock: number, wait = false, size = 256): { fd: number; data: string } | null {
  const data = Buffer.alloc(size);
  // CMSG_SPACE(sizeof(int)) = 24 on 64-bit; room for a few in case of stray fds
  const control = Buffer.alloc(64);
  const msg = {
    msg_name: null,
    msg_namelen: 0,
    msg_iov: { iov_base: data, iov_len: data.length },
    msg_iovlen: 1,
    msg_control: control,
    msg_controllen: control.length,
    msg_flags: 0,
  };
  let n: number;
  for (;;) {
    n = Number(recvmsg()(sock, msg, MSG_CMSG_CLOEXEC | (wait ? 0 : MSG_DONTWAIT)));
    if (n >= 0) break;
    const e = errno();
    if (e === EINTR) continue;
    if (e === EAGAIN) return null;
    check(n, 'recvmsg', 'console socket');
  }
  // walk the control messages: struct cmsghdr { size_t len; int level; int type; data }
  const clen = Number(msg.msg_controllen);
  let fd = -1;
  for (let off = 0; off + 16 <= clen; ) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < 16) break;
    const level = control.readInt32LE(off + 8);
    const type = control.readInt32LE(off + 12);
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let p = off + 16; p + 4 <= off + len; p += 4) {
        const got = control.readInt32LE(p);
        if (fd < 0) fd = got;
        else closeFd(got);
      }
    }
    off += (len + 7) & ~7;
  }
  if (fd < 0) return null;
  return { fd, data: data.subarray(0, n).toString('utf8') };
}

export interface WinSize {
  rows: number;
  cols: number;
}

/** ioctl(TIOCSWINSZ): the kernel sends SIGWINCH to the terminal's foreground process group. */
export function setWinSize(fd: number, size: WinSize): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(size.rows, 0);
  ws.writeUInt16LE(size.cols, 2);
  check(fn('int ioctl(int fd, unsigned long request, const uint8_t *arg)')(fd, TIOCSWINSZ, ws), 'ioctl TIOCSWINSZ');
}

/** ioctl(TIOCGWINSZ); null when fd is not a terminal. */
export function getWinSize(fd: number): WinSize | null {
  const ws = Buffer.alloc(8);
  if (fn('int ioctl(int fd, unsigned long request, _Out_ uint8_t *arg)')(fd, TIOCGWINSZ, ws) < 0) return null;
  return { rows: ws.readUInt16LE(0), cols: ws.readUInt16LE(2) };
}

/** Clears O_NONBLOCK (of the open file description: every process sharing it sees it), for a program that reads fd plainly. */
export function setBlocking(fd: number, what: string): void {
  const fcntl = fn('int fcntl(int fd, int cmd, int arg)');
  const flags = check(fcntl(fd, F_GETFL, 0), 'fcntl F_GETFL', what);
  if (flags & O_NONBLOCK) check(fcntl(fd, F_SETFL, flags & ~O_NONBLOCK), 'fcntl F_SETFL', what);
}
