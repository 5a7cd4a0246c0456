// Seccomp user notification (SCMP_ACT_NOTIFY): the runtime connects to linux.seccomp.listenerPath and
// sends the filter's listener fd (SCM_RIGHTS) with the container process state JSON (runtime-spec
// config-linux.md "seccomp notify"), for the init and for exec'd processes.  The listener here checks
// the JSON and closes the fd: the kernel then fails every notified syscall with ENOSYS.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

import { World, TOP, waitFor } from '../helpers/tsrun';
import { closeFd, recvFd } from '../../src/sys/socket';
import type { Spec } from '../../src/spec/types';

const shimBuilt = fs.existsSync(process.env.TSRUN_SHIM ?? path.join(TOP, 'native-shim', 'build', 'tsrun-shim'));
const skip = shimBuilt ? false : 'the shim is not built (native-shim/build/tsrun-shim)';

const w = new World('tsrun-test-notify');
after(() => w.cleanup());

interface Received {
  state: any;
  raw: string;
}

/** A listener on sockPath: each connection's fd and JSON are received, the fd closed at once. */
function listen(sockPath: string): { got: Received[]; close: () => void; ready: Promise<void> } {
  const got: Received[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer({ pauseOnConnect: true }, (sock) => {
    const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
    const poll = () => {
      timers.delete(t);
      let r: ReturnType<typeof recvFd> = null;
      try {
        r = recvFd(fd, false, 65536);
      } catch {
        sock.destroy();
        return;
      }
      if (!r) {
        t = setTimeout(poll, 10);
        timers.add(t);
        return;
      }
      // closing the notify fd: the waiting syscall (and all later ones) fail with ENOSYS
      closeFd(r.fd);
      got.push({ state: JSON.parse(r.data), raw: r.data });
      sock.destroy();
    };
    let t = setTimeout(poll, 0);
    timers.add(t);
  });
  const ready = new Promise<void>((resolve) => server.listen(sockPath, resolve));
  return {
    got,
    ready,
    close: () => {
      for (const t of timers) clearTimeout(t);
      server.close();
    },
  };
}

function notifyBundle(name: string, out: string, listenerPath: string, nnp: boolean, script: string): string {
  return w.bundle((s: Spec) => {
    s.process!.noNewPrivileges = nnp;
    s.process!.args = ['sh', '-c', script];
    s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
    s.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
    s.annotations = { 'org.example/notify': 'yes' };
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath,
      listenerMetadata: 'agent-args=--verbose',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    };
  }, name);
}

for (const nnp of [true, false]) {
  test(`SCMP_ACT_NOTIFY (noNewPrivileges ${nnp}): the listener gets the fd and the process state; a closed listener gives ENOSYS`, { skip }, async (t) => {
    const id = `notify-${nnp ? 'nnp' : 'caps'}`;
    const out = fs.mkdtempSync(path.join(w.dir, 'out-'));
    const sockPath = path.join(w.dir, `${id}.sock`);
    const l = listen(sockPath);
    t.after(() => {
      l.close();
      w.tsrun(['delete', '--force', id]);
    });
    await l.ready;
    const b = notifyBundle(id, out, sockPath, nnp, 'mkdir /tmp/x 2>/out/err; echo mkdir=$? >/out/res; exec sleep 1000');
    w.ok(['create', '--bundle', b, id]);
    const initPid = w.state(id).pid;
    w.ok(['start', id]);
    await waitFor(() => fs.existsSync(path.join(out, 'res')) && fs.readFileSync(path.join(out, 'res'), 'utf8').includes('\n'), 10000, 'the container result');
    assert.equal(fs.readFileSync(path.join(out, 'res'), 'utf8'), 'mkdir=1\n');
    assert.match(fs.readFileSync(path.join(out, 'err'), 'utf8'), /Function not implemented/);

    assert.equal(l.got.length, 1);
    const s = l.got[0].state;
    assert.equal(s.ociVersion, '1.2.0');
    assert.deepEqual(s.fds, ['seccompFd']);
    assert.equal(s.pid, initPid);
    assert.equal(s.metadata, 'agent-args=--verbose');
    assert.equal(s.state.id, id);
    assert.equal(s.state.status, 'creating');
    assert.equal(s.state.pid, initPid);
    assert.equal(s.state.bundle, b);
    assert.deepEqual(s.state.annotations, { 'org.example/notify': 'yes' });
    assert.deepEqual(Object.keys(s), ['ociVersion', 'fds', 'pid', 'metadata', 'state']);

    // exec: the exec'd process's own filter, fd and pid
    const r = await w.tsrunAsync(['exec', id, 'sh', '-c', 'mkdir /tmp/y; echo exec-mkdir=$?']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^exec-mkdir=1$/m);
    assert.match(r.stderr, /Function not implemented/);
    await waitFor(() => l.got.length === 2, 5000, 'the exec notify fd');
    const e = l.got[1].state;
    assert.equal(e.state.id, id);
    assert.ok(e.pid > 0 && e.pid !== initPid, `exec pid ${e.pid}`);
    assert.equal(e.state.pid, e.pid);
  });
}

test('listenerPath that nothing listens on: create fails naming it, nothing is left behind', { skip }, () => {
  const out = fs.mkdtempSync(path.join(w.dir, 'out-'));
  const sockPath = path.join(w.dir, 'nobody.sock');
  const b = notifyBundle('nobody', out, sockPath, true, 'echo should-not-run >/out/res');
  const r = w.tsrun(['run', '--bundle', b, 'nobody']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /connect to seccomp listenerPath ".*nobody\.sock": No such file or directory/);
  assert.equal(fs.existsSync(path.join(out, 'res')), false);
  assert.deepEqual(fs.existsSync(w.root) ? fs.readdirSync(w.root) : [], []);
});
