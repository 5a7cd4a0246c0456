#!/usr/bin/env python3
"""Manual smoke test of tsrun-shim without the TS runtime (root only).

    make -C native-shim && python3 native-shim/test/smoke.py

Builds a busybox rootfs in a temp dir, drives the shim over its control
socket exactly as TS does (shimdrv.py encodes plans per protocol.h) and
checks create, errors, user switch, user namespaces, exec and terminals.
Everything it creates is removed; nothing stays mounted on the host.
"""
import os, shutil, signal, socket, subprocess, sys, tempfile, time

sys.dont_write_bytecode = True

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shimdrv import *  # noqa

TMP = tempfile.mkdtemp(prefix='tsrun-shim-smoke-')
os.chmod(TMP, 0o755)  # the user namespace's root must reach its rootfs
ROOTFS = os.path.join(TMP, 'rootfs')
USERNS_ROOTFS = os.path.join(TMP, 'rootfs-userns')
failures = []


def check(name, cond, detail=''):
    print(('ok   ' if cond else 'FAIL ') + name + ('' if cond else ': ' + str(detail)))
    if not cond:
        failures.append(name)


def reap_all():
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def create(args, rootfs=None, pass_fds=(), run=True, **kw):
    """create + start; returns (frames, shim rc, container output)"""
    d = tempfile.mkdtemp(dir=TMP)
    fifo = mkfifo(d)
    r, w = os.pipe()
    p, frames = spawn('create', plan(rootfs or ROOTFS, args, fifo=fifo, **kw), pass_fds=pass_fds, stdout=w)
    os.close(w)
    keep = kw.get('fl', 0) & F['keep_parent']
    rc = None if keep else p.wait()
    out = b''
    if frames and frames[-1][0] == 'READY' and run:
        start(fifo)
        out = os.read(r, 1 << 20)
        while True:
            chunk = os.read(r, 1 << 20)
            if not chunk:
                break
            out += chunk
        if not keep:
            os.waitpid(frames[0][1][1], 0)
    if keep:
        rc = p.wait()
    os.close(r)
    reap_all()
    return frames, rc, out.decode()


def main():
    subprocess.run(['bash', '/work/shared/clients/make-rootfs.sh', ROOTFS], check=True, stdout=subprocess.DEVNULL)

    fr, rc, out = create(['sh', '-c', 'echo pid=$$; hostname; grep -c shimtest /proc/self/mountinfo;'
                          'echo > /dev/null && head -c1 /dev/urandom | wc -c; grep -E " /(proc|sys|dev/pts|dev/mqueue|mnt/ro) " /proc/self/mountinfo'],
                         extra_mounts=[mount('/mnt/ro', 'bind', '/etc', 'bind,rec,rdonly')])
    check('create: PID then READY', [f[0] for f in fr] == ['PID', 'READY'], fr)
    check('create: shim exits 0', rc == 0, rc)
    check('create: pid 1 and hostname', 'pid=1\nshimtest\n' in out, out)
    check('create: host mounts invisible', '\n0\n' in out, out)
    check('create: devices', '\n1\n' in out, out)
    for m in (' /proc ', ' /sys ro,', ' /dev/pts ', ' /dev/mqueue ', ' /mnt/ro ro,'):
        check('create: mount' + m, m in out, out)

    fr, rc, out = create(['nosuchcmd'])
    check('error: not in $PATH', fr[-1][0] == 'ERROR' and fr[-1][1][1] == 'exec "nosuchcmd": executable file not found in $PATH', fr)
    check('error: shim exits 1', rc == 1, rc)
    fr, rc, out = create(['/bin/nosuch'])
    check('error: missing path', fr[-1][1].get(1) == 'exec "/bin/nosuch": No such file or directory', fr)
    fr, rc, out = create(['true'], extra_mounts=[mount('/x', 'foofs', 'foo')])
    check('error: mount', fr[-1][1].get(1) == 'mount foofs to "/x": No such device' and fr[-1][1].get(3) == 'mount', fr)

    fr, rc, out = create(['sh', '-c', 'id; pwd; echo $FOO'], uid=1000, gid=1000, groups=[10, 20], cwd='/tmp',
                         env=['PATH=/bin', 'FOO=bar'])
    check('user switch, cwd, env', out == 'uid=1000 gid=1000 groups=10,20\n/tmp\nbar\n', out)

    fr, rc, out = create(['sh', '-c', 'exit 42'], fl=F['keep_parent'])
    check('keep_parent: exit status', rc == 42, rc)

    shutil.copytree(ROOTFS, USERNS_ROOTFS, symlinks=True)
    subprocess.run(['chown', '-R', '100000:100000', USERNS_ROOTFS], check=True)
    fr, rc, out = create(['sh', '-c', 'id; cat /proc/self/uid_map; echo > /dev/null && echo null-ok'], rootfs=USERNS_ROOTFS,
                         ns='pid,net,ipc,uts,mnt,cgroup,user', uid_map='0 100000 65536', gid_map='0 100000 65536',
                         fl=F['setgroups_deny'])
    check('user namespace', 'uid=0(root) gid=0(root)' in out and '100000' in out and 'null-ok' in out, (fr, out))

    # exec into a running container
    d = tempfile.mkdtemp(dir=TMP)
    fifo = mkfifo(d)
    p, fr = spawn('create', plan(ROOTFS, ['sleep', '1000'], fifo=fifo))
    p.wait()
    start(fifo)
    cpid = fr[0][1][1]
    try:
        r, w = os.pipe()
        p, fr = spawn('exec', plan('', ['ps'], join_pid=cpid, default_mounts=False, hostname=None), stdout=w)
        os.close(w)
        rc = p.wait()
        out = os.read(r, 65536).decode()
        os.close(r)
        check('exec: ps sees the container', rc == 0 and 'sleep 1000' in out and '    1 root' in out, (fr, out))
        p, fr = spawn('exec', plan('', ['sh', '-c', 'exit 7'], join_pid=cpid, default_mounts=False, hostname=None))
        check('exec: exit status', p.wait() == 7, fr)
        # terminal
        a, b = socket.socketpair()
        p, fr = spawn('exec', plan('', ['sh', '-c', 'tty'], join_pid=cpid, default_mounts=False, hostname=None,
                                   fl=F['terminal'], console_socket=b.fileno()), pass_fds=(b.fileno(),))
        b.close()
        msg, fds, _, _ = socket.recv_fds(a, 100, 1)
        p.wait()
        time.sleep(0.1)
        out = os.read(fds[0], 4096).decode()
        os.close(fds[0])
        a.close()
        check('exec: terminal', msg == b'/dev/pts/0' and '/dev/pts/0' in out, (msg, out))
    finally:
        os.kill(cpid, signal.SIGKILL)
        os.waitpid(cpid, 0)
        reap_all()


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
    leaked = [l for l in open('/proc/self/mountinfo') if 'tsrun-shim-smoke' in l]
    check('cleanup: nothing mounted on the host', not leaked, leaked)
sys.exit(1 if failures else 0)
