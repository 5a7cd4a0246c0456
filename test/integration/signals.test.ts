// Signals and exits: `run` forwards catchable signals, exit codes are exact,
// an init that dies while tsrun is not running is reported stopped, and a
// reused pid is never taken for the container.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { World, waitFor } from '../helpers/tsrun';
import { alive, leftovers, uniqueId } from '../helpers/leftovers';

const w = new World('tsrun-test-signals');
after(() => w.cleanup());

const FORWARDED = ['HUP', 'INT', 'QUIT', 'USR1', 'USR2', 'WINCH', 'ALRM', 'CONT', 'PWR'];

test('run forwards signals to the container (HUP INT QUIT USR1 USR2 WINCH ALRM CONT PWR, then TERM)', async () => {
  const traps = FORWARDED.map((s) => `trap 'echo got ${s}' ${s};`).join(' ');
  const b = w.bundle((s) => (s.process.args = ['sh', '-c', `${traps} trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.02; done`]), 'traps');
  const id = uniqueId('fwd');
  const child = w.spawn(['run', '--bundle', b, id]);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  try {
    await waitFor(() => out.includes('ready'), 10000, `ready (${err})`);
    for (const s of FORWARDED) {
      process.kill(child.pid!, `SIG${s}` as NodeJS.Signals);
      await waitFor(() => out.includes(`got ${s}\n`), 5000, `${s} forwarded (out: ${out})`);
    }
    process.kill(child.pid!, 'SIGTERM');
    assert.equal(await exited, 7, err);
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(out, ['ready', ...FORWARDED.map((s) => `got ${s}`), 'got TERM', ''].join('\n'));
  assert.deepEqual(leftovers(w, id), []);
});

test('exit codes are exact: 0-255 as exited, 128+N when killed by signal N', () => {
  for (const n of [0, 1, 2, 42, 127, 128, 200, 255]) {
    const r = w.tsrun(['run', '--bundle', w.bundle(), uniqueId('exit'), 'sh', '-c', `exit ${n}`]);
    assert.equal(r.code, n, r.stderr);
  }
  // not the pid namespace's init (which ignores signals it has no handler for): the process can die by one
  const nopidns = w.bundle((s) => (s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid')), 'nopidns');
  for (const [sig, n] of [['TERM', 15], ['USR1', 10], ['SEGV', 11], ['KILL', 9], ['HUP', 1]] as const) {
    const r = w.tsrun(['run', '--bundle', nopidns, uniqueId('sig'), 'sh', '-c', `kill -${sig} $$`]);
    assert.equal(r.code, 128 + n, `${sig}: ${r.stderr}`);
  }
  // a forwarded TERM that kills the process: 143
  const id = uniqueId('term');
  const child = w.spawn(['run', '--bundle', nopidns, id, 'sh', '-c', 'echo ready; exec sleep 1000']);
  return new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => process.kill(child.pid!, 'SIGTERM'));
    child.once('exit', (code) => {
      try {
        assert.equal(code, 143);
        assert.deepEqual(leftovers(w, id), []);
        resolve();
      } catch (e) {
        reject(e);
      }
    });
  });
});

test('an init that dies while tsrun is not running is reported stopped; delete needs no --force', async () => {
  const id = uniqueId('died');
  w.ok(['run', '-d', '--bundle', w.bundle((s) => (s.process.args = ['sleep', '1000']), 'sleeper'), id]);
  const { pid } = w.state(id);
  assert.equal(w.state(id).status, 'running');
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !alive(pid), 5000, 'init gone');
  const s = w.state(id);
  assert.equal(s.status, 'stopped');
  assert.equal(s.pid, 0);
  const list = JSON.parse(w.ok(['list', '--format', 'json'])) as { id: string; status: string }[];
  assert.equal(list.find((c) => c.id === id)?.status, 'stopped');
  assert.match(w.tsrun(['kill', id]).stderr, /^tsrun: container not running/);
  w.ok(['delete', id]);
  assert.deepEqual(leftovers(w, id, [pid]), []);
});

test('a reused pid (a live process that is not the container) is never taken for it', async () => {
  // a real created container's record, pointed at a live process of ours with another start time
  const real = uniqueId('real');
  w.ok(['create', '--bundle', w.bundle((s) => (s.process.args = ['sleep', '1000']), 'sleeper'), real]);
  const rec = JSON.parse(fs.readFileSync(path.join(w.root, real, 'state.json'), 'utf8'));
  w.ok(['delete', '--force', real]);
  const victim = w.spawn(['--version']); // any process: it must survive everything below
  const sleeper = (await import('child_process')).spawn('sleep', ['1000'], { stdio: 'ignore' });
  try {
    for (const pid of [sleeper.pid!, process.pid]) {
      const id = uniqueId('fake');
      fs.mkdirSync(path.join(w.root, id));
      const startTime = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]);
      const fake = { ...rec, id, pid, pidStartTime: startTime + 1 };
      delete fake.cgroup; // its cgroup is gone; the pid was reused by an unrelated process
      delete fake.dataDir;
      fs.writeFileSync(path.join(w.root, id, 'state.json'), JSON.stringify(fake));
      fs.copyFileSync(path.join(w.dir, 'sleeper', 'config.json'), path.join(w.root, id, 'config.json'));
      const s = w.state(id);
      assert.equal(s.status, 'stopped');
      assert.equal(s.pid, 0);
      assert.match(w.tsrun(['kill', id, 'KILL']).stderr, /^tsrun: container not running/);
      assert.equal(w.tsrun(['pause', id]).code === 0, false);
      assert.deepEqual(JSON.parse(w.ok(['ps', id, '--format', 'json'])), []);
      w.ok(['delete', '--force', id]);
      assert.ok(alive(pid), 'the unrelated process lives');
      assert.ok(!fs.existsSync(path.join(w.root, id)));
    }
  } finally {
    sleeper.kill('SIGKILL');
    victim.kill('SIGKILL');
  }
});
