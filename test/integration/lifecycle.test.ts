// The core lifecycle with real containers: create, start, state, kill,
// delete, run; isolation; process attributes; errors and their cleanup.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { World, waitFor } from '../helpers/tsrun';
import { stateDirs } from '../helpers/leftovers';

const w = new World('tsrun-test-lifecycle');
after(() => w.cleanup());

const sleeper = () => w.bundle((s) => (s.process.args = ['sleep', '1000']), 'sleeper');

test('create → created, start → running, kill → stopped, delete → gone', () => {
  const b = sleeper();
  const pidFile = path.join(w.dir, 'pid');
  w.ok(['create', '--bundle', b, '--pid-file', pidFile, 'c1']);
  let s = w.state('c1');
  assert.equal(s.status, 'created');
  assert.ok(s.pid > 0);
  assert.equal(fs.readFileSync(pidFile, 'utf8'), String(s.pid), 'pid file holds the bare pid');
  assert.equal(s.id, 'c1');
  assert.equal(s.bundle, b);
  assert.ok(typeof s.created === 'string' && s.created.endsWith('Z'));
  assert.equal(s.ociVersion, '1.2.0');
  // the process waits: its command line is not yet `sleep`
  assert.doesNotMatch(fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8'), /^sleep/);

  w.ok(['start', 'c1']);
  s = w.state('c1');
  assert.equal(s.status, 'running');
  assert.match(fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8'), /^sleep\x001000/);

  const again = w.tsrun(['start', 'c1']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /^tsrun: cannot start an already running container\n$/);

  const del = w.tsrun(['delete', 'c1']);
  assert.notEqual(del.code, 0, 'a running container is not deleted without --force');
  assert.match(del.stderr, /not stopped: running/);

  w.ok(['kill', 'c1', 'KILL']);
  return waitFor(() => w.state('c1').status === 'stopped', 5000, 'stopped').then(() => {
    assert.equal(w.state('c1').pid, 0);
    const k = w.tsrun(['kill', 'c1']);
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /container not running/);
    w.ok(['delete', 'c1']);
    const st = w.tsrun(['state', 'c1']);
    assert.notEqual(st.code, 0);
    assert.equal(st.stderr, `tsrun: container "c1" does not exist (see "tsrun --root ${w.root} list")\n`);
    assert.deepEqual(stateDirs(w.root), []);
  });
});

test('delete --force kills a running container; on a missing one it exits 0', async () => {
  w.ok(['run', '--detach', '--bundle', sleeper(), 'c2']);
  const { pid } = w.state('c2');
  assert.equal(w.state('c2').status, 'running');
  w.ok(['delete', '--force', 'c2']);
  assert.ok(!fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'));
  assert.equal(w.tsrun(['delete', '--force', 'c2']).code, 0);
  assert.notEqual(w.tsrun(['delete', 'c2']).code, 0);
});

test('a created container can be deleted without --force', () => {
  w.ok(['create', '--bundle', sleeper(), 'c3']);
  const { pid } = w.state('c3');
  w.ok(['delete', 'c3']);
  assert.ok(!fs.existsSync(path.join(w.root, 'c3')));
  assert.ok(!fs.existsSync(`/proc/${pid}/stat`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'));
});

test('run in the foreground returns the exit code and removes the container', () => {
  const r = w.tsrun(['run', '--bundle', w.bundle(), 'r1', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n', 'the container inherits stdout');
  assert.equal(r.stderr, 'err\n', 'and stderr');
  assert.ok(!fs.existsSync(path.join(w.root, 'r1')));
});

test('run: 128+N when the process is killed by signal N', async () => {
  // (pid 1 of a pid namespace ignores signals sent from inside it: kill it from the host)
  const child = w.spawn(['run', '--bundle', w.bundle(), 'r2', 'sleep', '100']);
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  await waitFor(() => exited || w.tsrun(['state', 'r2']).stdout.includes('"running"'), 10000, 'running');
  assert.ok(!exited, `run exited early: ${err}`);
  w.ok(['kill', 'r2', 'KILL']);
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 137);
  assert.ok(!fs.existsSync(path.join(w.root, 'r2')));
});

test('run forwards signals to the container', async () => {
  const child = w.spawn(['run', '--bundle', w.bundle(), 'r3', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done']);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await waitFor(() => out.includes('ready'), 10000, 'ready');
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 7);
  assert.match(out, /got-term/);
});

test('run in the foreground: the container cgroup holds the container process only (the waiting shim stays outside, as runc)', async () => {
  const child = w.spawn(['run', '--bundle', w.bundle(), 'r5', 'sh', '-c', 'echo ready; exec sleep 1000']);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('exit', r));
  try {
    await waitFor(() => out.includes('ready'), 10000, 'ready');
    const { pid } = w.state('r5');
    const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    const own = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const pidsPath = own.split('\n').find((l) => /^\d+:pids:/.test(l))?.split(':')[2];
    assert.ok(pidsPath, own);
    const procs = fs.readFileSync(path.join('/sys/fs/cgroup/pids', pidsPath, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    assert.deepEqual(procs, [pid]);
    assert.ok(!procs.includes(ppid), `the shim (${ppid}) is outside`);
  } finally {
    // the container dies, and the foreground run ends and removes it
    w.tsrun(['kill', 'r5', 'KILL']);
    const ended = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10000))]);
    if (ended === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
    w.tsrun(['delete', '--force', 'r5']);
  }
});

test('the process starts with every signal at its default and none blocked (whatever tsrun ignores)', () => {
  const r = w.tsrun(['run', '--bundle', w.bundle(), 'sigs', 'cat', '/proc/self/status']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^SigIgn:\s+0+$/m);
  assert.match(r.stdout, /^SigBlk:\s+0+$/m);
});

test('stdin is inherited', () => {
  const r = w.tsrun(['run', '--bundle', w.bundle(), 'r4', 'sh', '-c', 'read x; echo "got $x"'], { input: 'hello\n' });
  assert.equal(r.stdout, 'got hello\n');
});

test('isolation: pid 1, own hostname, own mount table without host mounts', () => {
  const r = w.tsrun(['run', '--bundle', w.bundle(), 'iso', 'sh', '-c', 'echo pid=$$; hostname; cat /proc/self/mountinfo; echo PS; ps -o pid,comm; true']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'pid=1');
  assert.equal(lines[1], 'busybox');
  const mountinfo = lines.filter((l) => /^\d+ \d+ /.test(l));
  const points = mountinfo.map((l) => l.split(' ')[4]);
  assert.equal(points[0], '/', 'the root is the first mount');
  for (const p of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys']) assert.ok(points.includes(p), `${p} mounted`);
  for (const p of points) assert.ok(!p.startsWith('/work') && !p.startsWith('/tmp/') && !p.startsWith('/run/'), `host mount ${p} visible`);
  // ps shows only the container's processes
  const ps = lines.slice(lines.indexOf('PS') + 2).filter((l) => l.trim());
  assert.equal(ps.length, 2, `ps shows only sh and itself: ${ps.join(' | ')}`);
  assert.deepEqual(ps.map((l) => l.trim().split(/\s+/)[1]), ['sh', 'ps']);
  assert.equal(ps[0].trim().split(/\s+/)[0], '1');
});

test('process attributes: env, cwd, uid, gid, additional groups, umask', () => {
  const b = w.bundle((s) => {
    s.process.env.push('FOO=bar baz');
    s.process.cwd = '/tmp';
    s.process.user = { uid: 1000, gid: 1001, additionalGids: [10, 20], umask: 0o27 };
  });
  const r = w.tsrun(['run', '--bundle', b, 'attrs', 'sh', '-c', 'echo "$FOO"; pwd; id -u; id -g; id -G; umask']);
  assert.equal(r.code, 0, r.stderr);
  const [foo, cwd, uid, gid, groups, umask] = r.stdout.trim().split('\n');
  assert.equal(foo, 'bar baz');
  assert.equal(cwd, '/tmp');
  assert.equal(uid, '1000');
  assert.equal(gid, '1001');
  assert.deepEqual(groups.split(' ').sort(), ['10', '1001', '20']);
  assert.equal(umask, '0027');
});

test('root.readonly: the root refuses writes, tmpfs mounts accept them', () => {
  const b = w.bundle((s) => {
    s.root.readonly = true;
    s.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
  });
  const r = w.tsrun(['run', '--bundle', b, 'ro', 'sh', '-c', 'touch /x 2>&1; echo ok > /tmp/y && cat /tmp/y']);
  assert.match(r.stdout, /Read-only file system/);
  assert.match(r.stdout, /^ok$/m);
});

test('bind mounts: read-only binds refuse writes', () => {
  const src = fs.mkdtempSync(path.join(w.dir, 'src-'));
  fs.writeFileSync(path.join(src, 'f'), 'from host\n');
  const b = w.bundle((s) => s.mounts.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'ro'] }));
  const r = w.tsrun(['run', '--bundle', b, 'bind', 'sh', '-c', 'cat /data/f; touch /data/g 2>&1']);
  assert.match(r.stdout, /from host/);
  assert.match(r.stdout, /Read-only file system/);
  assert.ok(!fs.existsSync(path.join(src, 'g')));
});

test('default devices work', () => {
  const r = w.tsrun(['run', '--bundle', w.bundle(), 'dev', 'sh', '-c', 'echo x > /dev/null && head -c 4 /dev/urandom | wc -c && head -c 2 /dev/zero | wc -c && ls -l /dev/fd/ >/dev/null && echo devices-ok']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /devices-ok/);
});

function assertNothingLeft(id: string) {
  assert.ok(!fs.existsSync(path.join(w.root, id)), `state dir of ${id} left behind`);
}

test('errors: a missing executable fails create with a clear message and leaves nothing', () => {
  const r = w.tsrun(['create', '--bundle', w.bundle((s) => (s.process.args = ['nosuch'])), 'e1']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr, 'tsrun: exec "nosuch": executable file not found in $PATH\n');
  assertNothingLeft('e1');
});

test('errors: invalid JSON, schema errors, missing rootfs', () => {
  const b = path.join(w.dir, 'badjson');
  fs.mkdirSync(b);
  fs.writeFileSync(path.join(b, 'config.json'), '{"ociVersion": ');
  let r = w.tsrun(['create', '--bundle', b, 'e2']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^tsrun: config\.json: invalid JSON/);
  assertNothingLeft('e2');

  r = w.tsrun(['create', '--bundle', w.bundle((s) => (s.root.path = '/nonexistent/rootfs'), 'norootfs'), 'e3']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^tsrun: config\.json: \/root\/path: .*does not exist/m);
  assertNothingLeft('e3');

  r = w.tsrun(['create', '--bundle', w.bundle((s) => { s.process.args = 'sh'; s.process.cwd = 5; }, 'schema'), 'e4']);
  assert.notEqual(r.code, 0);
  const lines = r.stderr.trim().split('\n');
  assert.ok(lines.length >= 2, 'every problem is reported at once');
  for (const l of lines) assert.match(l, /^tsrun: config\.json: \/process\/\w+: /);
  assertNothingLeft('e4');

  r = w.tsrun(['create', '--bundle', path.join(w.dir, 'nobundle'), 'e5']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^tsrun: .*config\.json: no such file/);
});

test('errors: bad ids and duplicate ids', () => {
  for (const id of ['../x', 'a/b', '..', '.x']) {
    const r = w.tsrun(['create', '--bundle', sleeper(), id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^tsrun: invalid container id/);
  }
  w.ok(['create', '--bundle', sleeper(), 'dup']);
  const r = w.tsrun(['create', '--bundle', sleeper(), 'dup']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr, `tsrun: container "dup" already exists (pick another id, or remove it: "tsrun --root ${w.root} rm -f dup")\n`);
  assert.equal(w.state('dup').status, 'created', 'the first container is untouched');
  w.ok(['delete', '--force', 'dup']);
});

test('errors: unknown flags and commands', () => {
  let r = w.tsrun(['create', '--bundle', sleeper(), 'x', '--nosuch']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr, 'tsrun: unknown argument: nosuch (see "tsrun create --help")\n');
  // create without an id fails, as runc's does (runtime-tools' create test), before the bundle is read
  r = w.tsrun(['create', '--bundle', sleeper()]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'tsrun: create: missing <container-id> (create needs one, as runc\'s does; "tsrun run" makes one up)\n');
  assert.deepEqual(fs.existsSync(w.root) ? fs.readdirSync(w.root).filter((e) => !e.startsWith('.')) : [], [], 'nothing made');
  // run without an id makes one up; here the bundle (.) has no config.json
  r = w.tsrun(['run'], { cwd: w.dir });
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr, `tsrun: ${w.dir}/config.json: no such file or directory (give the bundle with --bundle DIR; "tsrun spec" writes a config.json)\n`);
  r = w.tsrun(['start']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr, 'tsrun: start: missing <container-id> (see "tsrun start --help")\n');
  r = w.tsrun(['frobnicate']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^tsrun: unknown command "frobnicate" \(see "tsrun --help"\)\n$/);
  assert.ok(!fs.existsSync(path.join(w.root, 'x')));
});

test('list: table, json and quiet', () => {
  w.ok(['create', '--bundle', sleeper(), 'l1']);
  w.ok(['run', '-d', '--bundle', sleeper(), 'l2']);
  try {
    const json = JSON.parse(w.ok(['list', '--format', 'json']));
    const byId = Object.fromEntries(json.map((c: { id: string }) => [c.id, c]));
    assert.equal(byId.l1.status, 'created');
    assert.equal(byId.l2.status, 'running');
    assert.deepEqual(w.ok(['list', '-q']).trim().split('\n').sort(), ['l1', 'l2']);
    const table = w.ok(['list']).trim().split('\n');
    assert.match(table[0], /^ID\s+STATUS\s+PID\s+COMMAND\s+IMAGE\s+CREATED$/);
    assert.equal(table.length, 3);
    const runc = w.ok(['list', '--format', 'runc']).trim().split('\n');
    assert.match(runc[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    assert.equal(runc.length, 3);
  } finally {
    w.ok(['delete', '-f', 'l1']);
    w.ok(['delete', '-f', 'l2']);
  }
});

test('spec writes a config.json that runs after a rootfs is added', () => {
  const b = path.join(w.dir, 'specbundle');
  fs.mkdirSync(b);
  w.ok(['spec', '--bundle', b]);
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  assert.equal(spec.ociVersion, '1.2.0');
  assert.notEqual(w.tsrun(['spec', '--bundle', b]).code, 0, 'an existing config.json is not overwritten');
});
