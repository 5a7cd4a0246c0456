# Encodes plans and drives tsrun-shim like TS does (see protocol.h); used by smoke.py.
# throwaway driver for tsrun-shim
import os, socket, struct, subprocess, threading, ctypes, sys, time, tempfile, json

SHIM = os.environ.get('TSRUN_SHIM', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'build', 'tsrun-shim'))
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER

MS = dict(rdonly=1, nosuid=2, nodev=4, noexec=8, remount=32, bind=4096, rec=16384, private=1 << 18,
          slave=1 << 19, shared=1 << 20, strictatime=1 << 24, relatime=1 << 21)
CL = dict(mnt=0x20000, cgroup=0x02000000, uts=0x04000000, ipc=0x08000000, user=0x10000000, pid=0x20000000,
          net=0x40000000, time=0x80)
F = dict(keep_parent=1, no_pivot=2, root_ro=4, terminal=8, nnp=0x10, sync_hooks=0x20, setgroups_deny=0x40,
         detach=0x80, no_keyring=0x100, no_default_devices=0x200)

def tlv(tag, val):
    if isinstance(val, int):
        val = struct.pack('<Q', val & 0xffffffffffffffff)
    elif isinstance(val, str):
        val = val.encode()
    return struct.pack('<HI', tag, len(val)) + val

def flags(s):
    f = 0
    for x in s.split(','):
        if x:
            f |= MS[x]
    return f

def mount(dest, typ, src, opts='', data=None, prop=None):
    b = tlv(1, src) + tlv(2, dest) + tlv(3, typ) + tlv(4, flags(opts))
    if data:
        b += tlv(5, data)
    if prop:
        b += tlv(6, prop)
    return tlv(12, b)

DEFAULT_MOUNTS = [
    ('/proc', 'proc', 'proc', 'nosuid,noexec,nodev'),
    ('/dev', 'tmpfs', 'tmpfs', 'nosuid,strictatime', 'mode=755,size=65536k'),
    ('/dev/pts', 'devpts', 'devpts', 'nosuid,noexec', 'newinstance,ptmxmode=0666,mode=0620'),
    ('/dev/shm', 'tmpfs', 'shm', 'nosuid,noexec,nodev', 'mode=1777,size=65536k'),
    ('/dev/mqueue', 'mqueue', 'mqueue', 'nosuid,noexec,nodev'),
    ('/sys', 'sysfs', 'sysfs', 'nosuid,noexec,nodev,rdonly'),
    ('/sys/fs/cgroup', 'cgroup', 'cgroup', 'nosuid,noexec,nodev,relatime,rdonly'),
]
DEVICES = [('/dev/null', 1, 3), ('/dev/zero', 1, 5), ('/dev/full', 1, 7), ('/dev/random', 1, 8),
           ('/dev/urandom', 1, 9), ('/dev/tty', 5, 0)]
MASKED = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
          '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi']
RO = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

def plan(rootfs, args, env=('PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'), cwd='/', uid=0, gid=0, groups=(),
         hostname='shimtest', fl=0, ns='pid,net,ipc,uts,mnt,cgroup', extra_mounts=(), fifo=None, uid_map=None,
         gid_map=None, cgroup_procs=(), hooks=(), hook_state='{}', extra=b'', default_mounts=True, rlimits=(),
         console_socket=None, join_pid=None, pid_file=None, umask=None):
    b = tlv(1, 1) + tlv(2, fl) + tlv(3, rootfs)
    nsf = 0
    for n in ns.split(','):
        if n:
            nsf |= CL[n]
    b += tlv(5, nsf)
    if uid_map:
        b += tlv(7, uid_map) + tlv(8, gid_map)
    if hostname:
        b += tlv(9, hostname)
    if default_mounts:
        for m in DEFAULT_MOUNTS:
            b += mount(m[0], m[1], m[2], m[3], m[4] if len(m) > 4 else None)
    for m in extra_mounts:
        b += m
    for p, ma, mi in DEVICES:
        b += tlv(13, tlv(1, p) + tlv(2, ord('c')) + tlv(3, ma) + tlv(4, mi) + tlv(5, 0o666) + tlv(6, 0) + tlv(7, 0))
    for m in MASKED:
        b += tlv(14, m)
    for r in RO:
        b += tlv(15, r)
    for c in cgroup_procs:
        b += tlv(17, c)
    if fifo:
        b += tlv(18, fifo)
    for a in args:
        b += tlv(19, a)
    for e in env:
        b += tlv(20, e)
    b += tlv(21, cwd) + tlv(22, uid) + tlv(23, gid)
    for g in groups:
        b += tlv(24, g)
    for res, soft, hard in rlimits:
        b += tlv(26, tlv(1, res) + tlv(2, soft) + tlv(3, hard))
    for kind, path, hargs, timeout in hooks:
        h = tlv(1, kind) + tlv(2, path) + tlv(5, timeout)
        for a in hargs:
            h += tlv(3, a)
        b += tlv(35, h)
    b += tlv(36, hook_state)
    if console_socket is not None:
        b += tlv(38, console_socket)
    if join_pid:
        b += tlv(39, join_pid)
    if pid_file:
        b += tlv(42, pid_file)
    if umask is not None:
        b += tlv(25, umask)
    return b + extra

def frame(msg, payload=b''):
    return struct.pack('<IHH', len(payload), msg, 0) + payload

def parse_tlv(b):
    out = []
    i = 0
    while i < len(b):
        tag, l = struct.unpack_from('<HI', b, i)
        out.append((tag, b[i + 6:i + 6 + l]))
        i += 6 + l
    return out

def read_frames(sock):
    buf = b''
    while True:
        d = sock.recv(65536)
        if not d:
            break
        buf += d
        while len(buf) >= 8:
            l, msg, _ = struct.unpack_from('<IHH', buf)
            if len(buf) < 8 + l:
                break
            yield msg, parse_tlv(buf[8:8 + l])
            buf = buf[8 + l:]

NAMES = {2: 'PID', 3: 'READY', 4: 'ERROR', 5: 'HOOKS'}

def spawn(mode, planbytes, pass_fds=(), on_hooks=None, stdin=None, stdout=None, stderr=None):
    """returns (shim Popen, list of frames as (name, dict))"""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fd = b.fileno()
    p = subprocess.Popen([SHIM, mode, str(fd)], pass_fds=(fd,) + tuple(pass_fds), stdin=stdin, stdout=stdout,
                         stderr=stderr)
    b.close()
    a.sendall(frame(1, planbytes))
    frames = []
    for msg, tl in read_frames(a):
        d = {}
        for tag, v in tl:
            d[tag] = struct.unpack('<Q', v)[0] if msg in (2, 3, 5) or tag == 2 and msg == 4 else v.decode()
        frames.append((NAMES.get(msg, msg), d))
        if msg == 5:
            if on_hooks:
                on_hooks(d)
            a.sendall(frame(6))
    a.close()
    return p, frames

def start(fifo):
    fd = os.open(fifo, os.O_RDONLY)
    data = os.read(fd, 1)
    os.close(fd)
    return data

def mkfifo(d):
    f = os.path.join(d, 'exec.fifo')
    os.mkfifo(f, 0o622)
    os.chmod(f, 0o622)
    return f
