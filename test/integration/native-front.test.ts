// The C front end (native-shim/front, installed as bin/tsrun, issue 6): it
// answers state/start/kill/delete in their plain success cases from the
// front record, and runs the TypeScript CLI for everything else.
// TSRUN_FRONT_TRACE=1 makes it say on stderr which path it took.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { TOP, TSRUN, World, waitFor, type Result } from '../helpers/tsrun';
import { parseSignal } from '../../src/runtime/signals';

const w = new World('tsrun-test-native-front');
after(() => w.cleanup());

const TRACE = { TSRUN_FRONT_TRACE: '1' };
const CLI = path.join(TOP, 'dist', 'tsrun.js');
/** unique ids: other checkouts on this machine make /tsrun/<id> cgroups too */
let n = 0;
const newId = () => `nf${process.pid}-${++n}`;

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.TSRUN_FRONT_TRACE;

/** The TypeScript CLI itself, without the front. */
function node(args: string[]): Result {
  const r = spawnSync(process.execPath, [CLI, ...w.args(args)], { encoding: 'utf8', env, timeout: 30000 });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** bin/tsrun with the trace: the result, and which path it took ("fast" or "node"). */
function front(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Result & { path: string; rest: string } {
  const r = w.tsrun(args, { env: { ...TRACE, ...extraEnv } });
  const lines = r.stderr.split('\n');
  const t = lines.find((l) => l.startsWith('tsrun-front: '));
  assert.ok(t, `a trace line in ${JSON.stringify(r.stderr)}`);
  return { ...r, path: t.split(' ')[1].replace(/:$/, ''), rest: lines.filter((l) => !l.startsWith('tsrun-front: ')).join('\n') };
}

function fastOk(args: string[]): string {
  const r = front(args);
  assert.equal(r.path, 'fast', `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.rest, '', 'nothing else on stderr');
  return r.stdout;
}

const sleeper = w.bundle((s) => (s.process.args = ['sleep', '1000']), 'sleeper');
// exits on SIGTERM (the init of a pid namespace ignores signals it has no handler for)
const trapper = w.bundle((s) => (s.process.args = ['sh', '-c', 'trap "exit 3" TERM; while true; do sleep 0.05; done']), 'trapper');

interface Rec {
  cgroup?: { paths: Record<string, string> };
}
const record = (id: string): Rec => JSON.parse(fs.readFileSync(path.join(w.root, id, 'state.json'), 'utf8'));
const cgroupDirs = (id: string) => [...new Set(Object.values(record(id).cgroup?.paths ?? {}))];

/** state through the front (fast) equals the TypeScript CLI's, byte for byte. */
function sameState(id: string, status: string): void {
  const fast = fastOk(['state', id]);
  const ts = node(['state', id]);
  assert.equal(ts.code, 0, ts.stderr);
  assert.equal(fast, ts.stdout);
  assert.equal(JSON.parse(fast).status, status);
}

test('state: created, running, paused, stopped: the same bytes as the TypeScript CLI, without node', async () => {
  const id = newId();
  const b = w.bundle((s) => {
    s.process.args = ['sleep', '1000'];
    s.annotations = { 'org.example/ü': 'a "quoted"\nvalue ✓', '\n  "status": "': 'x' };
  }, 'annotated');
  w.ok(['create', '--bundle', b, id]);
  assert.ok(fs.existsSync(path.join(w.root, id, 'front')), 'create wrote the front record');
  sameState(id, 'created');
  fastOk(['start', id]);
  sameState(id, 'running');
  w.ok(['pause', id]);
  sameState(id, 'paused');
  w.ok(['resume', id]);
  sameState(id, 'running');
  fastOk(['kill', id, 'KILL']);
  await waitFor(() => JSON.parse(node(['state', id]).stdout).status === 'stopped', 5000, 'stopped');
  sameState(id, 'stopped');
  fastOk(['delete', id]);
  assert.equal(fs.existsSync(path.join(w.root, id)), false);
});

test('start, kill (default SIGTERM), delete through the front leave nothing behind', async () => {
  const id = newId();
  w.ok(['create', '--bundle', trapper, id]);
  const dirs = cgroupDirs(id);
  assert.ok(dirs.length > 0, 'the container has cgroups');
  const { pid } = JSON.parse(fastOk(['state', id]));
  fastOk(['start', id]);
  assert.equal(fs.existsSync(path.join(w.root, id, 'exec.fifo')), false, 'the exec fifo is gone');
  await waitFor(() => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sh\0'), 5000, 'the process runs sh');
  fastOk(['kill', id]);
  await waitFor(() => JSON.parse(fastOk(['state', id])).status === 'stopped', 5000, 'stopped after SIGTERM');
  // --root=DIR after the id, --log, --log-format, and delete --force of a stopped container: still the front
  const log = path.join(w.dir, 'front.log');
  const r = spawnSync(TSRUN, ['--log', log, 'delete', '--force', id, `--root=${w.root}`, '--log-format=json'], {
    encoding: 'utf8',
    env: { ...env, ...TRACE },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, 'tsrun-front: fast: delete\n');
  assert.equal(fs.existsSync(log), false, 'nothing to log on success');
  assert.equal(fs.existsSync(path.join(w.root, id)), false, 'the state dir is gone');
  for (const d of dirs) assert.equal(fs.existsSync(d), false, `${d} is gone`);
  // delete --force of a container that does not exist (podman and containerd call it): exit 0, silent, as TypeScript
  for (const args of [['delete', '--force', id], ['rm', '-f', 'never-was']]) {
    const ts = node(args);
    assert.equal(ts.code, 0, ts.stderr);
    assert.equal(fastOk(args), ts.stdout);
  }
});

test('kill: every signal spelling parseSignal takes goes fast, the others to TypeScript with its message', () => {
  const id = newId();
  w.ok(['run', '--detach', '--bundle', sleeper, id]);
  try {
    // signals the container's init ignores (no handler; KILL and STOP excluded)
    const spellings = ['TERM', 'SIGTERM', 'sigterm', 'Hup', 'usr1', 'SIGIOT', 'poll', 'STKFLT', '0', '15', '015', '64',
      'RTMIN', 'SIGRTMIN+3', 'rtmin+030', 'RTMAX', 'SIGRTMAX-2', 'SIGRTMAX-30',
      '65', '99999999999999999999', 'SIGRTMIN+31', 'SIGRTMAX-31', 'RTMIN-1', 'RTMIN+', 'SIG', 'SIGSIGTERM', 'bogus', '+5', '-5', '1e1', ' 15'];
    for (const s of spellings) {
      let valid = true;
      try {
        parseSignal(s);
      } catch {
        valid = false;
      }
      const r = front(['kill', id, s]);
      if (valid) {
        assert.equal(r.path, 'fast', `kill ${s}: ${r.stderr}`);
        assert.equal(r.code, 0, r.stderr);
      } else {
        assert.equal(r.path, 'node', `kill ${s} falls back`);
        assert.notEqual(r.code, 0);
        assert.equal(r.rest, node(['kill', id, s]).stderr, `kill ${s}: TypeScript's message`);
      }
    }
    assert.equal(JSON.parse(fastOk(['state', id])).status, 'running', 'the container ignored them all');
  } finally {
    w.ok(['delete', '--force', id]);
  }
});

test('fallbacks: the TypeScript CLI answers, with its messages and exit codes', async () => {
  const id = newId();
  w.ok(['run', '--detach', '--bundle', sleeper, id]);
  try {
    const cases: [string[], RegExp][] = [
      [['state', 'nosuch'], /^tsrun: container "nosuch" does not exist/],
      [['kill', id, 'bogus'], /^tsrun: invalid signal "bogus"/],
      [['start', id], /^tsrun: cannot start an already running container\n$/],
      [['delete', id], /^tsrun: cannot delete container ".*" that is not stopped: running/],
      [['state', 'bad/id'], /^tsrun: invalid container id/],
      [['state', id, 'extra'], /unknown argument|extra|too many/i],
      [['kill', '--all', id, 'BOGUS'], /^tsrun: invalid signal "BOGUS"/],
    ];
    for (const [args, re] of cases) {
      const r = front(args);
      assert.equal(r.path, 'node', `${args.join(' ')} falls back`);
      const ts = node(args);
      assert.match(r.rest, re, args.join(' '));
      assert.equal(r.rest, ts.stderr, `${args.join(' ')}: the same message`);
      assert.equal(r.code, ts.code, `${args.join(' ')}: the same exit code`);
      assert.equal(r.stdout, ts.stdout);
    }
    // --help and commands the front does not know: node, argv unchanged
    const h = front(['state', '--help']);
    assert.equal(h.path, 'node');
    assert.equal(h.code, 0);
    assert.match(h.stdout, /tsrun state <container-id>/);
    const l = front(['list', '--format', 'json']);
    assert.equal(l.path, 'node');
    assert.equal(l.code, 0);
    assert.ok(JSON.parse(l.stdout).some((c: { id: string }) => c.id === id));
    // flags the front does not take: --debug, --systemd-cgroup
    for (const args of [['--debug', 'state', id], ['--systemd-cgroup', 'state', id]]) {
      const r = front(args);
      assert.equal(r.path, 'node', args.join(' '));
      assert.equal(r.code, 0, r.stderr);
    }
    // a crash point of the tests is TypeScript's
    assert.equal(front(['state', id], { TSRUN_TEST_KILL_AT: 'claimed' }).path, 'node');
    // paused: kill goes to TypeScript (it thaws for SIGKILL)
    w.ok(['pause', id]);
    assert.equal(front(['kill', id, '0']).path, 'node');
    // running, delete --force: TypeScript kills it
    const f = front(['delete', '--force', id]);
    assert.equal(f.path, 'node');
    assert.equal(f.code, 0, f.stderr);
    assert.equal(fs.existsSync(path.join(w.root, id)), false);
  } finally {
    w.tsrun(['delete', '--force', id]);
  }
});

test('kill --all: the front signals every process in the cgroups; after the init exited, what is left, with exit 0 (as runc)', async () => {
  const procsOf = (id: string) =>
    spawnSync('sh', ['-c', `grep -l "/${id}$" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  // running, with children
  const a = newId();
  const fam = w.bundle((s) => (s.process.args = ['sh', '-c', 'sleep 1000 & sleep 1000 & wait']), 'family');
  w.ok(['run', '--detach', '--bundle', fam, a]);
  try {
    await waitFor(() => procsOf(a).length >= 3, 20000, 'the init and its two children');
    const r = front(['kill', '--all', a, 'KILL']);
    assert.equal(r.path, 'fast', r.stderr);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => procsOf(a).length === 0, 20000, 'every process killed');
    assert.equal(w.state(a).status, 'stopped');
  } finally {
    w.tsrun(['delete', '--force', a]);
  }
  // the init gone, a child left in the cgroup (no pid namespace of its own)
  const b = newId();
  const orphan = w.bundle((s) => {
    s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    s.process.args = ['sh', '-c', 'sleep 1000 & exit 0'];
  }, 'orphan');
  w.ok(['run', '--detach', '--bundle', orphan, b]);
  try {
    await waitFor(() => w.state(b).status === 'stopped' && procsOf(b).length === 1, 20000, 'the init gone, its child left');
    const plain = front(['kill', b, 'KILL']);
    assert.equal(plain.path, 'node', 'a plain kill of a stopped container: TypeScript says why');
    assert.match(plain.rest, /container not running/);
    assert.equal(plain.code, 1);
    const r = front(['kill', '--all', b, 'KILL']);
    assert.equal(r.path, 'fast', r.stderr);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => procsOf(b).length === 0, 20000, 'the child killed');
  } finally {
    w.tsrun(['delete', '--force', b]);
  }
});

test('a poststart hook: start goes to TypeScript, which runs it; no front record, no fast path', () => {
  const id = newId();
  const mark = path.join(w.dir, `poststart-${id}`);
  const b = w.bundle((s) => {
    s.process.args = ['sleep', '1000'];
    s.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo ran > ${mark}`] }] };
  }, 'hooked');
  w.ok(['create', '--bundle', b, id]);
  try {
    fastOk(['state', id]);
    const r = front(['start', id]);
    assert.equal(r.path, 'node');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(mark, 'utf8'), 'ran\n');
    w.ok(['kill', id, 'KILL']);
  } finally {
    w.ok(['delete', '--force', id]);
  }
  assert.equal(fs.existsSync(path.join(w.root, id)), false);
});

test('a container created by a killed create (no front record): state goes to TypeScript', () => {
  const id = newId();
  const r = w.tsrun(['create', '--bundle', sleeper, id], { env: { TSRUN_TEST_KILL_AT: 'pid' } });
  assert.notEqual(r.code, 0);
  try {
    assert.equal(fs.existsSync(path.join(w.root, id, 'front')), false);
    const s = front(['state', id]);
    assert.equal(s.path, 'node');
    assert.equal(s.code, 0, s.stderr);
  } finally {
    const d = front(['delete', '--force', id]);
    assert.equal(d.path, 'node');
    assert.equal(d.code, 0, d.stderr);
  }
  assert.equal(fs.existsSync(path.join(w.root, id)), false);
});
