// podman (through conmon) with tsrun as its OCI runtime: `--runtime <repo>/bin/tsrun`.
// Everything podman keeps lives in a temp dir (test/helpers/clients.ts); the
// packages are installed through apt when missing, and the tests are skipped
// only if apt cannot install them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { PODMAN_PACKAGES, Podman, Terminal, cgroupControllers, ensurePackages } from '../helpers/clients';
import { waitFor } from '../helpers/tsrun';

const skip = ensurePackages(PODMAN_PACKAGES);
if (skip) process.stderr.write(`# skipping the podman tests: ${skip}\n`);

/** A host cgroup file of a process: v1 "<controller>" hierarchy, else the v2 (unified) one. */
function cgroupFile(pid: number, controller: string, v1: string, v2: string): string {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  for (const l of lines) {
    const [, ctrls, p] = l.split(':');
    if (ctrls.split(',').includes(controller)) {
      const dir = cgroupControllers().find((c) => path.basename(c).split(',').includes(controller));
      if (dir) return path.join(dir, p, v1);
    }
  }
  const u = lines.find((l) => l.startsWith('0::'))!.slice(3);
  const root = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
  return path.join(root, u, v2);
}

const SH_TRAP_TERM = 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done';

describe('podman with tsrun as the runtime', { skip }, () => {
  let p: Podman;
  let torn = false;
  // one long-running container for the exec tests
  const box = 'tsrun-t-box';

  before(() => {
    const r = Podman.setup();
    if (typeof r === 'string') throw new Error(r);
    p = r;
    p.ok(['run', '-d', '--name', box, '--network', 'none', 'localhost/busybox', 'sh', '-c', SH_TRAP_TERM]);
  });
  after(() => {
    if (p && !torn) p.teardown();
  });

  test('run --rm echo prints and leaves no container', () => {
    const r = p.run([], ['echo', 'hello from tsrun']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from tsrun\n');
    assert.equal(p.ok(['ps', '-a', '-q', '--filter', 'status=exited']).trim(), '');
  });

  test('run returns the exit code of the container process', () => {
    assert.equal(p.run([], ['sh', '-c', 'exit 3']).code, 3);
    assert.equal(p.run([], ['false']).code, 1);
  });

  test('run of a missing command exits 127', () => {
    const r = p.run([], ['/no/such/cmd']);
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /executable file not found|no such file or directory/i);
    assert.equal(p.run([], ['nosuchcmd']).code, 127);
  });

  test('exec into a -d container: -e, -w, -u, exit codes, a missing command', () => {
    assert.equal(p.inspect(box, '{{.State.Status}}'), 'running');
    const out = p.ok(['exec', '-e', 'FOO=bar', '-w', '/tmp', '-u', '65534', box, 'sh', '-c', 'echo $FOO $(pwd) $(id -u)']);
    assert.equal(out, 'bar /tmp 65534\n');
    assert.equal(p.podman(['exec', box, 'sh', '-c', 'exit 5']).code, 5);
    const r = p.podman(['exec', box, 'nosuchcmd']);
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /executable file not found/);
  });

  test('exec --preserve-fds passes fd 3 to the process', () => {
    const f = path.join(p.dir, 'preserved');
    fs.writeFileSync(f, 'preserved-content\n');
    const fd = fs.openSync(f, 'r');
    try {
      const r = p.podman(['exec', '--preserve-fds', '1', box, 'sh', '-c', 'cat <&3'], { stdio: ['pipe', 'pipe', 'pipe', fd] });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'preserved-content\n');
    } finally {
      fs.closeSync(fd);
    }
  });

  test('logs shows the output of a -d container', async () => {
    await waitFor(() => p.ok(['logs', box]).includes('ready'), 5000, 'the "ready" line in podman logs');
  });

  test('stop: SIGTERM first (the process handles it), SIGKILL after the timeout', () => {
    p.ok(['run', '-d', '--name', 'tsrun-t-term', '--network', 'none', 'localhost/busybox', 'sh', '-c', SH_TRAP_TERM]);
    p.ok(['run', '-d', '--name', 'tsrun-t-ignore', '--network', 'none', 'localhost/busybox', 'sleep', '1000']);
    try {
      // sh must have its trap in place
      waitForSync(() => p.ok(['logs', 'tsrun-t-term']).includes('ready'));
      p.ok(['stop', '-t', '10', 'tsrun-t-term']);
      assert.equal(p.inspect('tsrun-t-term', '{{.State.ExitCode}}'), '7');
      assert.match(p.ok(['logs', 'tsrun-t-term']), /got-term/);
      // sleep as pid 1 ignores SIGTERM: podman kills it after 1 s (a lower
      // bound: a slow machine can only make the call longer)
      const t0 = Date.now();
      p.ok(['stop', '-t', '1', 'tsrun-t-ignore']);
      assert.ok(Date.now() - t0 >= 1000, 'SIGKILL only after the timeout');
      assert.equal(p.inspect('tsrun-t-ignore', '{{.State.ExitCode}}'), '137');
    } finally {
      p.podman(['rm', '-f', '-t', '0', 'tsrun-t-term', 'tsrun-t-ignore']);
    }
  });

  test('kill: a named signal reaches the process, the default SIGKILL ends it', () => {
    const n = 'tsrun-t-kill';
    p.ok(['run', '-d', '--name', n, '--network', 'none', 'localhost/busybox', 'sh', '-c', 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.1; done']);
    try {
      waitForSync(() => p.ok(['logs', n]).includes('ready'));
      p.ok(['kill', '-s', 'USR1', n]);
      waitForSync(() => p.ok(['logs', n]).includes('got-usr1'));
      p.ok(['kill', n]);
      p.ok(['wait', n]);
      assert.equal(p.inspect(n, '{{.State.ExitCode}}'), '137');
    } finally {
      p.podman(['rm', '-f', '-t', '0', n]);
    }
  });

  test('pause freezes every process, unpause thaws them', () => {
    const n = 'tsrun-t-pause';
    p.ok(['run', '-d', '--name', n, '--network', 'none', 'localhost/busybox', 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.02; done']);
    try {
      const pid = Number(p.inspect(n, '{{.State.Pid}}'));
      const counter = () => {
        try {
          return Number(fs.readFileSync(`/proc/${pid}/root/tmp/n`, 'utf8')) || 0;
        } catch {
          return 0;
        }
      };
      waitForSync(() => counter() > 2);
      p.ok(['pause', n]);
      assert.equal(p.inspect(n, '{{.State.Status}}'), 'paused');
      const c1 = counter();
      sleepMs(300);
      assert.equal(counter(), c1, 'no progress while paused');
      p.ok(['unpause', n]);
      assert.equal(p.inspect(n, '{{.State.Status}}'), 'running');
      waitForSync(() => counter() > c1 + 2);
    } finally {
      p.podman(['rm', '-f', '-t', '0', n]);
    }
  });

  test('update --memory changes the cgroup limit of a running container', () => {
    const pid = Number(p.inspect(box, '{{.State.Pid}}'));
    p.ok(['update', '--memory', '64m', box]);
    const f = cgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max');
    assert.equal(fs.readFileSync(f, 'utf8').trim(), String(64 * 1024 * 1024));
  });

  test('--memory: a process that exceeds it is OOM-killed (exit 137)', () => {
    const r = p.run(['--memory', '32m', '--memory-swap', '32m'], ['sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived']);
    assert.equal(r.code, 137, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /survived/);
  });

  test('-v binds a host dir read-write', () => {
    const v = path.join(p.dir, 'vol');
    fs.mkdirSync(v);
    fs.writeFileSync(path.join(v, 'in'), 'from-host\n');
    const r = p.run(['-v', `${v}:/data`], ['sh', '-c', 'cat /data/in; echo from-container > /data/out']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from-host\n');
    assert.equal(fs.readFileSync(path.join(v, 'out'), 'utf8'), 'from-container\n');
  });

  test('--read-only: the root is read-only, /tmp is a writable tmpfs', () => {
    const r = p.run(['--read-only'], ['sh', '-c', 'touch /x 2>&1; touch /tmp/x && echo tmp-ok']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Read-only file system/);
    assert.match(r.stdout, /tmp-ok/);
  });

  test('--user, --hostname', () => {
    assert.equal(p.run(['--user', '65534:65534'], ['sh', '-c', 'echo $(id -u) $(id -g)']).stdout, '65534 65534\n');
    assert.equal(p.run(['--hostname', 'tsrun-host'], ['hostname']).stdout, 'tsrun-host\n');
  });

  test('--pids-limit and --cpus set the cgroup', () => {
    const pids = p.run(['--pids-limit', '50'], ['sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max']);
    assert.equal(pids.stdout.trim(), '50', pids.stderr);
    const cpu = p.run(['--cpus', '0.5'], [
      'sh',
      '-c',
      'echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)',
    ]);
    assert.equal(cpu.stdout.trim(), '50000 100000', cpu.stderr);
  });

  test('--privileged gets every capability and the host devices; --cap-drop removes one', () => {
    const capEff = (out: string) => BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(out)![1]}`);
    const priv = p.run(['--privileged'], ['sh', '-c', 'grep CapEff /proc/self/status; ls /dev | wc -l']);
    assert.equal(priv.code, 0, priv.stderr);
    assert.ok(capEff(priv.stdout) & (1n << 21n), 'CAP_SYS_ADMIN');
    const plain = p.run([], ['sh', '-c', 'grep CapEff /proc/self/status; ls /dev | wc -l']);
    assert.equal(capEff(plain.stdout) & (1n << 21n), 0n);
    assert.ok(Number(priv.stdout.trim().split('\n').at(-1)) > Number(plain.stdout.trim().split('\n').at(-1)), 'more devices');
    const drop = p.run(['--cap-drop', 'CHOWN'], ['sh', '-c', 'grep CapEff /proc/self/status; chown 1 /tmp && echo chowned']);
    assert.equal(capEff(drop.stdout) & 1n, 0n, 'no CAP_CHOWN');
    assert.doesNotMatch(drop.stdout, /chowned/);
    assert.match(p.run([], ['sh', '-c', 'chown 1 /tmp && echo chowned']).stdout, /chowned/);
  });

  test('run -it in a real terminal, with a window resize', async () => {
    const t = new Terminal(p.dir, p.commandLine(['run', '-it', '--rm', '--network', 'none', 'localhost/busybox', 'sh']), { cols: 100, rows: 30 });
    try {
      await t.waitFor(/# $/m);
      t.send('echo tty=$(tty) size=$(stty size)');
      await t.waitFor(/tty=\/dev\/pts\/0 size=30 100/);
      t.resize(120, 40);
      t.send('echo after=$(stty size)');
      await t.waitFor(/after=40 120/);
      t.send('exit 3');
      await t.waitFor(/RC=3/);
    } finally {
      t.close();
    }
  });

  test('exec -it in a real terminal', async () => {
    const t = new Terminal(p.dir, p.commandLine(['exec', '-it', box, 'sh']), { cols: 90, rows: 20 });
    try {
      await t.waitFor(/# $/m);
      t.send('echo exec-tty=$(tty) size=$(stty size) pid1=$(cat /proc/1/comm)');
      await t.waitFor(/exec-tty=\/dev\/pts\/\d+ size=20 90 pid1=sh/);
      t.resize(70, 15);
      t.send('echo after=$(stty size)');
      await t.waitFor(/after=15 70/);
      t.send('exit 4');
      await t.waitFor(/RC=4/);
    } finally {
      t.close();
    }
  });

  test('rm -f removes a running container, its tsrun state and its cgroup', () => {
    const n = 'tsrun-t-rm';
    // sleep as pid 1 ignores SIGTERM: only -t 0 ends it before the 300 s stop timeout
    const id = p.ok(['run', '-d', '--name', n, '--stop-timeout', '300', '--network', 'none', 'localhost/busybox', 'sleep', '1000']).trim();
    const pid = Number(p.inspect(n, '{{.State.Pid}}'));
    const mem = cgroupFile(pid, 'memory', '', '');
    assert.ok(fs.existsSync(mem));
    // -t 0: no wait for the 300 s stop timeout (p.ok's own 60 s limit would fail the call)
    p.ok(['rm', '-f', '-t', '0', n]);
    assert.equal(p.podman(['inspect', n]).code, 125);
    assert.ok(!fs.existsSync(`/proc/${pid}`), 'process gone');
    assert.ok(!fs.existsSync(mem), `cgroup ${mem} removed`);
    assert.ok(!fs.existsSync(path.join('/run/tsrun', id)), 'tsrun state removed');
  });

  test('teardown leaves no container, cgroup, mount or conmon behind', () => {
    const ids = p.ok(['ps', '-a', '-q', '--no-trunc']).trim().split('\n').filter(Boolean);
    const dir = p.dir;
    p.teardown();
    torn = true;
    for (const id of ids) assert.ok(!fs.existsSync(path.join('/run/tsrun', id)), `tsrun state of ${id}`);
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
    assert.deepEqual(mounts, []);
    for (const c of cgroupControllers()) {
      const d = path.join(c, 'libpod_parent');
      const left = fs.existsSync(d) ? fs.readdirSync(d).filter((e) => e.startsWith('libpod-') && ids.some((id) => e.includes(id))) : [];
      assert.deepEqual(left, [], d);
    }
    assert.ok(!fs.existsSync(dir));
  });
});

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitForSync(f: () => boolean, timeoutMs = 5000): void {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    sleepMs(50);
  }
}
