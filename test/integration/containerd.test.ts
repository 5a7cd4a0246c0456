// containerd's ctr (through containerd-shim-runc-v2) with tsrun as "runc":
// a private containerd whose PATH starts with a dir holding a `runc` symlink
// to <repo>/bin/tsrun (the RUNC_DIR trick of shared/clients/setup-containerd.sh).
// All state is in a temp dir (test/helpers/clients.ts); the packages are
// installed through apt when missing, and the tests are skipped only if apt
// cannot install them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CONTAINERD_PACKAGES, CTR_NAMESPACE, Containerd, IMAGE, Terminal, cgroupControllers, ensurePackages, sh } from '../helpers/clients';
import { TSRUN, waitFor } from '../helpers/tsrun';

const skip = ensurePackages(CONTAINERD_PACKAGES);
if (skip) process.stderr.write(`# skipping the containerd tests: ${skip}\n`);

describe('containerd (ctr) with tsrun as runc', { skip }, () => {
  let c: Containerd;
  let torn = false;

  before(async () => {
    const r = await Containerd.setup();
    if (typeof r === 'string') throw new Error(r);
    c = r;
  });
  after(() => {
    if (c && !torn) c.teardown();
  });

  const run = (flags: string[], id: string, cmd: string[]) => c.ctr(['run', ...c.runFlags, ...flags, IMAGE, id, ...cmd]);
  /** tsrun's view of a task (the shim created it under --runc-root/<namespace>) */
  const tsrun = (args: string[]) => sh(TSRUN, ['--root', path.join(c.runcRoot, CTR_NAMESPACE), ...args]);
  /** tsrun's containers under the --runc-root (.replay holds records, not containers) */
  const containerDirs = () => fs.readdirSync(path.join(c.runcRoot, CTR_NAMESPACE)).filter((n) => !n.startsWith('.'));
  const taskStatus = (id: string) => /^\S+\s+\d+\s+(\S+)/m.exec(c.ok(['task', 'ls']).split('\n').find((l) => l.startsWith(`${id} `)) ?? '')?.[1];
  const removeTask = (id: string) => {
    c.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
    for (let i = 0; i < 50 && c.ctr(['task', 'delete', '-f', id]).code !== 0 && c.ctr(['task', 'ls', '-q']).stdout.includes(id); i++) {
      sh('sleep', ['0.1']);
    }
    c.ctr(['container', 'rm', id]);
  };

  test('run --rm prints the output, tsrun ran it (state under --runc-root)', () => {
    const r = run(['--rm'], 'rm1', ['sh', '-c', 'echo hello from tsrun; cat /proc/1/comm; true']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from tsrun\nsh\n');
    assert.ok(fs.existsSync(path.join(c.runcRoot, CTR_NAMESPACE)), 'tsrun kept its state under the --runc-root');
    assert.deepEqual(containerDirs(), [], 'and removed it');
    assert.equal(c.ok(['container', 'ls', '-q']).trim(), '');
  });

  test('the next container of an image, with a generated id, is replayed from the last one\'s record', () => {
    const dir = path.join(c.runcRoot, CTR_NAMESPACE, '.replay');
    const records = () => (fs.existsSync(dir) ? fs.readdirSync(dir) : []).map((n) => {
      const st = fs.statSync(path.join(dir, n));
      return `${n} ${st.ino}`;
    });
    const ids = [0, 1, 2].map(() => crypto.randomBytes(32).toString('hex'));
    const before = records();
    const seen: string[][] = [];
    for (const id of ids) {
      const r = run(['--rm'], id, ['cat', '/proc/self/cgroup']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^\\d+:pids:/${CTR_NAMESPACE}/${id}$`, 'm'), 'in its own cgroup');
      seen.push(records());
    }
    // containerd's config.json for a container differs from the last one by
    // the id only; a miss would have Node write the record again (a new inode)
    assert.equal(seen[0].filter((r) => !before.includes(r)).length, 1, `the first container recorded: ${seen[0]}`);
    assert.deepEqual(seen[1], seen[0], 'the second container did not go through Node');
    assert.deepEqual(seen[2], seen[0], 'nor the third');
    assert.deepEqual(containerDirs(), []);
  });

  test('run returns the exit code; a missing command fails with the runtime\'s message', () => {
    assert.equal(run(['--rm'], 'ex1', ['sh', '-c', 'exit 6']).code, 6);
    const r = run(['--rm'], 'ex2', ['nosuchcmd']);
    assert.notEqual(r.code, 0);
    // the shim reads the error from tsrun's --log (json)
    assert.match(r.stderr, /executable file not found/);
    c.ctr(['container', 'rm', 'ex2']);
  });

  test('run -d, then task exec (output, exit code, user and cwd from --user/--cwd), task ps', () => {
    const id = 'd1';
    c.ok(['run', '-d', ...c.runFlags, IMAGE, id, 'sleep', '1000']);
    try {
      assert.equal(taskStatus(id), 'RUNNING');
      const fifo = ['--fifo-dir', path.join(c.dir, 'fifo')];
      assert.equal(c.ok(['task', 'exec', ...fifo, '--exec-id', 'e1', id, 'sh', '-c', 'echo in-exec $(cat /proc/1/comm)']), 'in-exec sleep\n');
      assert.equal(c.ctr(['task', 'exec', ...fifo, '--exec-id', 'e2', id, 'sh', '-c', 'exit 2']).code, 2);
      const u = c.ok(['task', 'exec', ...fifo, '--exec-id', 'e3', '--user', '65534', '--cwd', '/tmp', id, 'sh', '-c', 'echo $(id -u) $(pwd)']);
      assert.equal(u, '65534 /tmp\n');
      // task ps lists the host pids of the container (tsrun ps --format json)
      const pid = Number(JSON.parse(tsrun(['state', id]).stdout).pid);
      const ps = c.ok(['task', 'ps', id]);
      assert.match(ps, new RegExp(`^${pid}\\s`, 'm'));
      assert.deepEqual(JSON.parse(tsrun(['ps', '--format', 'json', id]).stdout), [pid]);
    } finally {
      removeTask(id);
    }
  });

  test('task pause / resume', () => {
    const id = 'p1';
    c.ok(['run', '-d', ...c.runFlags, IMAGE, id, 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.02; done']);
    try {
      const pid = Number(JSON.parse(tsrun(['state', id]).stdout).pid);
      const counter = () => {
        try {
          return Number(fs.readFileSync(`/proc/${pid}/root/tmp/n`, 'utf8')) || 0;
        } catch {
          return 0;
        }
      };
      c.ok(['task', 'pause', id]);
      assert.equal(taskStatus(id), 'PAUSED');
      assert.equal(JSON.parse(tsrun(['state', id]).stdout).status, 'paused');
      const n = counter();
      sh('sleep', ['0.3']);
      assert.equal(counter(), n, 'no progress while paused');
      c.ok(['task', 'resume', id]);
      assert.equal(taskStatus(id), 'RUNNING');
      const end = Date.now() + 5000;
      while (counter() <= n + 2 && Date.now() < end) sh('sleep', ['0.05']);
      assert.ok(counter() > n + 2, 'progress after resume');
    } finally {
      removeTask(id);
    }
  });

  test('task kill: a signal the process handles, then SIGKILL; kill --all', async () => {
    const id = 'k1';
    c.ok(['run', '-d', ...c.runFlags, IMAGE, id, 'sh', '-c', 'trap "echo got-term > /tmp/t" TERM; sleep 1000 & while :; do sleep 0.1; done']);
    try {
      const pid = Number(JSON.parse(tsrun(['state', id]).stdout).pid);
      await waitFor(() => JSON.parse(tsrun(['ps', '--format', 'json', id]).stdout).length >= 3, 5000, 'the container processes');
      sh('sleep', ['0.2']);
      c.ok(['task', 'kill', id]); // SIGTERM
      await waitFor(() => fs.existsSync(`/proc/${pid}/root/tmp/t`), 5000, 'the TERM trap');
      assert.equal(taskStatus(id), 'RUNNING');
      c.ok(['task', 'kill', '--all', '-s', 'SIGKILL', id]);
      await waitFor(() => taskStatus(id) === 'STOPPED', 5000, 'STOPPED');
      assert.equal(JSON.parse(tsrun(['ps', '--format', 'json', id]).stdout).length, 0, 'every process killed');
      c.ok(['task', 'delete', id]);
      assert.equal(tsrun(['state', id]).code !== 0, true, 'tsrun state removed by the shim (delete)');
    } finally {
      removeTask(id);
    }
  });

  test('run -t in a real terminal, with a window resize', async () => {
    const t = new Terminal(c.dir, c.commandLine(['run', '-t', '--rm', ...c.runFlags, IMAGE, 'tty1', 'sh']), { cols: 90, rows: 25 });
    try {
      await t.waitFor(/# $/m);
      t.send('echo tty=$(tty) size=$(stty size)');
      await t.waitFor(/tty=\/dev\/pts\/0 size=25 90/);
      t.resize(110, 33);
      t.send('echo after=$(stty size)');
      await t.waitFor(/after=33 110/);
      t.send('exit 9');
      await t.waitFor(/RC=9/);
    } finally {
      t.close();
      c.ctr(['task', 'delete', '-f', 'tty1']);
      c.ctr(['container', 'rm', 'tty1']);
    }
  });

  test('--memory-limit sets the cgroup limit; exceeding it OOM-kills (exit 137)', () => {
    const id = 'm1';
    c.ok(['run', '-d', ...c.runFlags, '--memory-limit', String(32 * 1024 * 1024), IMAGE, id, 'sleep', '1000']);
    try {
      const pid = Number(JSON.parse(tsrun(['state', id]).stdout).pid);
      const line = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1].split(',').includes('memory'));
      const file = line
        ? path.join('/sys/fs/cgroup/memory', line.split(':')[2], 'memory.limit_in_bytes')
        : path.join('/sys/fs/cgroup', fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').find((l) => l.startsWith('0::'))!.slice(3), 'memory.max');
      assert.equal(fs.readFileSync(file, 'utf8').trim(), String(32 * 1024 * 1024));
      assert.match(file, new RegExp(`/${CTR_NAMESPACE}/${id}/`), 'cgroupsPath /<namespace>/<id>');
    } finally {
      removeTask(id);
    }
    const r = run(['--rm', '--memory-limit', String(32 * 1024 * 1024)], 'm2', ['sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived']);
    assert.equal(r.code, 137, r.stdout + r.stderr);
    c.ctr(['container', 'rm', 'm2']);
  });

  test('teardown stops containerd and leaves no task, cgroup or mount behind', () => {
    const dir = c.dir;
    c.teardown();
    torn = true;
    assert.deepEqual(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir)), []);
    for (const ctl of cgroupControllers()) assert.ok(!fs.existsSync(path.join(ctl, CTR_NAMESPACE)), `${ctl}/${CTR_NAMESPACE}`);
    assert.ok(!fs.existsSync(dir));
  });
});
