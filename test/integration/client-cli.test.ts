// The runc command line exactly as conmon (podman) and containerd-shim-runc-v2
// call it, without the clients themselves: global --log/--log-format json/--criu,
// create from another cwd with a relative root.path, exec --process --detach
// --pid-file, ps --format json, kill --all, update --resources -, events --stats,
// delete --force of a gone container, the error texts callers match, and the
// CVE-2019-5736 property of the exec shim.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BUSYBOX_ROOTFS, TSRUN, World, waitFor } from '../helpers/tsrun';

const w = new World('tsrun-test-client-cli');
after(() => w.cleanup());

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** A bundle as containerd writes it: root.path "rootfs" relative to the bundle. */
function relativeBundle(name: string, args: string[]): string {
  const b = w.bundle((s) => (s.process.args = args), name);
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  fs.symlinkSync(BUSYBOX_ROOTFS, path.join(b, 'rootfs'));
  spec.root = { path: 'rootfs' };
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(spec));
  return b;
}

/**
 * create/run --detach with stdio on files: the container inherits the
 * caller's stdio (as with runc), and spawnSync would wait for its pipes.
 */
function detached(args: string[], cwd?: string): void {
  const out = path.join(w.dir, 'detached.out');
  const fd = fs.openSync(out, 'w');
  try {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const r = spawnSync(TSRUN, w.args(args), { stdio: ['ignore', fd, fd], cwd, env });
    if (r.status !== 0) throw new Error(`tsrun ${args.join(' ')} exited ${r.status}: ${fs.readFileSync(out, 'utf8')}`);
  } finally {
    fs.closeSync(fd);
  }
}

function logLines(file: string): Array<{ level: string; msg: string; time: string }> {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

test('--log FILE --log-format json: one {"level","msg","time"} line per message; errors also on stderr', () => {
  const log = path.join(w.dir, 'err.log');
  const r = w.tsrun(['--log', log, '--log-format', 'json', 'kill', 'no-such-ctr', '9']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /container "no-such-ctr" does not exist/);
  const lines = logLines(log);
  assert.equal(lines.length, 1);
  assert.deepEqual(Object.keys(lines[0]).sort(), ['level', 'msg', 'time']);
  assert.equal(lines[0].level, 'error');
  assert.match(lines[0].msg, /does not exist/);
  assert.match(lines[0].time, RFC3339);
  // podman's form: --log-format=json
  const r2 = w.tsrun(['--log-format=json', `--log=${log}`, 'state', 'no-such-ctr']);
  assert.notEqual(r2.code, 0);
  assert.equal(logLines(log).length, 2);
});

test('conmon/shim create flags from another cwd, relative root.path; state; exec --process --detach --pid-file; ps; kill --all; delete', async () => {
  const b = relativeBundle('rel', ['sleep', '1000']);
  const log = path.join(w.dir, 'create.log');
  const pidFile = path.join(w.dir, 'init.pid');
  detached(
    ['--log', log, '--log-format', 'json', '--criu', '/usr/sbin/criu', 'create', '--bundle', b, '--pid-file', pidFile, '--no-pivot', '--no-new-keyring', 'cc1'],
    '/',
  );
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  assert.match(fs.readFileSync(pidFile, 'utf8'), /^\d+$/, 'bare pid');
  assert.equal(w.state('cc1').status, 'created');
  w.ok(['--log', log, '--log-format', 'json', 'start', 'cc1']);
  const st = w.state('cc1');
  assert.equal(st.status, 'running');
  assert.equal(st.pid, pid);

  // exec as podman and the shim do it
  const proc = path.join(w.dir, 'process.json');
  fs.writeFileSync(
    proc,
    JSON.stringify({ user: { uid: 65534, gid: 65534 }, args: ['sh', '-c', 'echo $(id -u) $(pwd) > /dev/shm/exec-out; sleep 1000'], env: ['PATH=/bin:/usr/bin'], cwd: '/tmp' }),
  );
  const execPid = path.join(w.dir, 'exec.pid');
  detached(['--log', log, '--log-format', 'json', 'exec', '--process', proc, '--detach', '--pid-file', execPid, 'cc1']);
  const epid = Number(fs.readFileSync(execPid, 'utf8'));
  assert.ok(epid > 0 && fs.existsSync(`/proc/${epid}`), 'the exec pid file names a live process');
  await waitFor(() => fs.existsSync(`/proc/${pid}/root/dev/shm/exec-out`), 5000, 'the exec output');
  assert.equal(fs.readFileSync(`/proc/${pid}/root/dev/shm/exec-out`, 'utf8'), '65534 /tmp\n');

  const pids = JSON.parse(w.ok(['ps', '--format', 'json', 'cc1'])) as number[];
  assert.ok(pids.includes(pid) && pids.includes(epid), `ps --format json lists init and exec: ${pids}`);

  // a missing binary: the text podman maps to 127
  fs.writeFileSync(proc, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ['nosuchcmd'], cwd: '/' }));
  const bad = w.tsrun(['--log', log, '--log-format', 'json', 'exec', '--process', proc, '--detach', 'cc1']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /executable file not found/);
  assert.match(logLines(log).at(-1)!.msg, /executable file not found/);

  w.ok(['kill', '--all', 'cc1', 'KILL']);
  await waitFor(() => w.state('cc1').status === 'stopped', 5000, 'stopped');
  assert.ok(!fs.existsSync(`/proc/${epid}`) || /\) Z/.test(fs.readFileSync(`/proc/${epid}/stat`, 'utf8')), 'kill --all reached the exec process');
  const k = w.tsrun(['kill', 'cc1', '15']);
  assert.notEqual(k.code, 0);
  assert.match(k.stderr, /container not running/);
  w.ok(['delete', 'cc1']);
  // callers delete --force again after a cleanup: still exit 0
  w.ok(['delete', '--force', 'cc1']);
  assert.match(w.tsrun(['state', 'cc1']).stderr, /does not exist/);
});

test('update --resources - (podman\'s file on stdin) and events --stats', () => {
  const b = w.bundle((s) => (s.process.args = ['sleep', '1000']), 'upd');
  detached(['run', '--detach', '--bundle', b, 'cu1']);
  try {
    w.ok(['update', '--resources', '-', 'cu1'], { input: JSON.stringify({ memory: { limit: 67108864 } }) });
    const ev = JSON.parse(w.ok(['events', '--stats', 'cu1']).trim().split('\n')[0]);
    assert.equal(ev.type, 'stats');
    assert.equal(ev.id, 'cu1');
    assert.equal(ev.data.memory.usage.limit, 67108864);
  } finally {
    w.ok(['delete', '--force', 'cu1']);
  }
});

test('CVE-2019-5736: the exec shim runs from a sealed memfd, its /proc/<pid>/exe cannot be written', async () => {
  const b = w.bundle((s) => (s.process.args = ['sleep', '1000']), 'cve');
  detached(['run', '--detach', '--bundle', b, 'cv1']);
  // a foreground exec: the shim stays as the parent of the exec'd process
  const child = spawn(TSRUN, w.args(['exec', 'cv1', 'sleep', '30']), { stdio: 'ignore' });
  try {
    let shim = 0;
    await waitFor(
      () => {
        const kids = fs.existsSync(`/proc/${child.pid}/task/${child.pid}/children`)
          ? fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
          : [];
        shim = kids.find((k) => {
          try {
            return fs.readFileSync(`/proc/${k}/cmdline`, 'utf8').includes('tsrun-shim') && fs.readFileSync(`/proc/${k}/task/${k}/children`, 'utf8').trim() !== '';
          } catch {
            return false;
          }
        }) ?? 0;
        return shim > 0;
      },
      10000,
      'the exec shim and its child',
    );
    assert.match(fs.readlinkSync(`/proc/${shim}/exe`), /^\/memfd:tsrun-shim/);
    assert.throws(() => fs.openSync(`/proc/${shim}/exe`, 'r+'), /ETXTBSY|EPERM|EACCES/);
    // and the exec'd process itself sees no host binary of ours as its exe
    // (once it has exec'd: until then it is the shim's child, still on the memfd)
    const kid = Number(fs.readFileSync(`/proc/${shim}/task/${shim}/children`, 'utf8').trim().split(/\s+/)[0]);
    await waitFor(() => /busybox/.test(fs.readlinkSync(`/proc/${kid}/exe`)), 5000, 'the exec of sleep');
    assert.doesNotMatch(fs.readlinkSync(`/proc/${kid}/exe`), /tsrun/);
  } finally {
    child.kill('SIGKILL');
    w.ok(['delete', '--force', 'cv1']);
  }
});

test('kill --all after the init exited signals what is left in its cgroup and succeeds (containerd\'s shim at the init\'s exit, as runc)', async () => {
  // no pid namespace of its own: the init's child outlives it, in the container's cgroup
  const b = w.bundle((s) => {
    s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    s.process.args = ['sh', '-c', `sleep 1000 & echo $! > /dev/null; exit 0`];
  }, 'orphan');
  detached(['run', '--detach', '--bundle', b, 'ka1']);
  await waitFor(() => w.state('ka1').status === 'stopped', 20000, 'the init to exit');
  const leftovers = () =>
    spawnSync('pgrep', ['-f', '^sleep 1000$'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number)
      .filter((p) => fs.readFileSync(`/proc/${p}/cgroup`, 'utf8').includes('/ka1\n'));
  assert.equal(leftovers().length, 1, 'the child is still there, in the container\'s cgroup');
  // a plain kill of a stopped container is still an error (containerd matches the text)
  const r = w.tsrun(['kill', 'ka1', 'KILL']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /container not running/);
  w.ok(['kill', '--all', 'ka1', 'KILL']);
  await waitFor(() => leftovers().length === 0, 20000, 'the child to be killed');
  w.ok(['delete', 'ka1']);
});
