// OCI hooks through real containers: every phase runs once, in order, in the
// right namespace, with the state (pid, status, bundle) on stdin, its env and
// args; timeouts; a failing create-phase hook fails create and leaves
// nothing; a failing startContainer hook fails start; failing poststart and
// poststop hooks are logged and do not fail.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { World } from '../helpers/tsrun';
import type { Hook, Spec } from '../../src/spec/types';

const w = new World('tsrun-test-config-hooks');
after(() => w.cleanup());

const PHASES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Phase = (typeof PHASES)[number];

const HOOK_SCRIPT = `#!/bin/sh
phase=$1
state=$(cat)
echo "$phase|$HOOK_TAG|$(readlink /proc/self/ns/mnt)|$state" >> "$LOG"
`;

let seq = 0;

/** A hook directory (bound at /tmp/hooks inside) with the logging script. */
function hookDir(): string {
  const d = path.join(w.dir, `hooks${++seq}`);
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'hook.sh'), HOOK_SCRIPT, { mode: 0o755 });
  return d;
}

/** A logging hook; startContainer runs in the container, so it uses the container's paths. */
function logHook(dir: string, phase: Phase, extra: Partial<Hook> = {}): Hook {
  const inside = phase === 'startContainer';
  const d = inside ? '/tmp/hooks' : dir;
  return {
    path: '/bin/sh',
    args: ['sh', `${d}/hook.sh`, phase],
    env: [`LOG=${d}/log`, `HOOK_TAG=tag-${phase}`],
    ...extra,
  };
}

function bundleWith(dir: string, id: string, edit: (s: Spec) => void): string {
  return w.bundle((s: Spec) => {
    s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
    s.mounts!.push({ destination: '/tmp/hooks', type: 'bind', source: dir, options: ['rbind', 'rw'] });
    s.linux!.cgroupsPath = `/tsrun-test-config-hooks-${process.pid}/${id}`;
    edit(s);
  }, id);
}

interface LogLine {
  phase: string;
  tag: string;
  mntns: string;
  state: { id: string; pid: number; status: string; bundle: string; ociVersion: string };
}

function readLog(dir: string): LogLine[] {
  const f = path.join(dir, 'log');
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [phase, tag, mntns, ...rest] = l.split('|');
      return { phase, tag, mntns, state: JSON.parse(rest.join('|')) };
    });
}

/** Nothing of the container is left: no state, no cgroup. */
function assertGone(id: string) {
  assert.deepEqual(fs.existsSync(w.root) ? fs.readdirSync(w.root) : [], [], 'no state left');
  for (const ctl of ['pids', 'memory', 'cpu,cpuacct', 'devices', 'freezer', 'unified']) {
    const d = `/sys/fs/cgroup/${ctl}/tsrun-test-config-hooks-${process.pid}/${id}`;
    assert.ok(!fs.existsSync(d), `cgroup ${d} removed`);
  }
}

after(() => {
  for (const ctl of fs.readdirSync('/sys/fs/cgroup')) {
    const d = `/sys/fs/cgroup/${ctl}/tsrun-test-config-hooks-${process.pid}`;
    try {
      if (fs.existsSync(d)) fs.rmdirSync(d);
    } catch {
      /* left for the leak check to report */
    }
  }
});

test('every hook runs once, in order, in its namespace, with env, args and the state (pid, status, bundle)', () => {
  const dir = hookDir();
  const id = 'h-all';
  const b = bundleWith(dir, id, (s) => {
    s.process!.args = ['true'];
    s.hooks = Object.fromEntries(PHASES.map((p) => [p, [logHook(dir, p)]]));
  });
  w.ok(['create', '--bundle', b, id]);
  const { pid } = w.state(id);
  assert.ok(pid > 0);
  const containerMnt = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
  const hostMnt = fs.readlinkSync('/proc/self/ns/mnt');
  assert.notEqual(containerMnt, hostMnt);
  assert.deepEqual(readLog(dir).map((l) => l.phase), ['prestart', 'createRuntime', 'createContainer']);
  w.ok(['start', id]);
  w.ok(['delete', '--force', id]);

  const log = readLog(dir);
  assert.deepEqual(log.map((l) => l.phase), [...PHASES], 'each once, in order');
  // the create hooks run after the spec's lifecycle step 2, whose end is "created"
  const status: Record<Phase, string> = {
    prestart: 'created',
    createRuntime: 'created',
    createContainer: 'created',
    startContainer: 'created',
    poststart: 'running',
    poststop: 'stopped',
  };
  for (const l of log) {
    const phase = l.phase as Phase;
    assert.equal(l.tag, `tag-${phase}`, `${phase}: env`);
    assert.equal(l.state.id, id, `${phase}: id`);
    assert.equal(l.state.bundle, b, `${phase}: bundle`);
    assert.equal(l.state.ociVersion, '1.2.0');
    assert.equal(l.state.status, status[phase], `${phase}: status`);
    if (phase !== 'poststop') assert.equal(l.state.pid, pid, `${phase}: the host pid of the container`);
    const inContainer = phase === 'createContainer' || phase === 'startContainer';
    assert.equal(l.mntns, inContainer ? containerMnt : hostMnt, `${phase}: mount namespace`);
  }
  assertGone(id);
});

test('run: the hooks of a foreground run see the same pid', () => {
  const dir = hookDir();
  const id = 'h-run';
  const b = bundleWith(dir, id, (s) => {
    s.hooks = Object.fromEntries(PHASES.map((p) => [p, [logHook(dir, p)]]));
  });
  const r = w.tsrun(['run', '--bundle', b, id, 'sh', '-c', 'echo container-ran']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /container-ran/);
  const log = readLog(dir);
  assert.deepEqual(log.map((l) => l.phase), [...PHASES]);
  const pids = new Set(log.filter((l) => l.phase !== 'poststop').map((l) => l.state.pid));
  assert.equal(pids.size, 1, 'one pid for every phase');
  assert.ok([...pids][0] > 0);
  assertGone(id);
});

for (const phase of ['prestart', 'createRuntime', 'createContainer'] as const) {
  test(`a failing ${phase} hook fails create, later hooks do not run, nothing is left`, () => {
    const dir = hookDir();
    const id = `h-fail-${phase}`;
    const b = bundleWith(dir, id, (s) => {
      s.process!.args = ['sleep', '1000'];
      s.hooks = Object.fromEntries(PHASES.map((p) => [p, [logHook(dir, p)]]));
      s.hooks[phase]!.push({ path: '/bin/sh', args: ['sh', '-c', 'echo hook-broke >&2; exit 3'] });
    });
    const r = w.tsrun(['create', '--bundle', b, id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`${phase} hook "/bin/sh": exit status 3`));
    const ran = readLog(dir).map((l) => l.phase);
    assert.deepEqual(ran, PHASES.slice(0, PHASES.indexOf(phase) + 1));
    assertGone(id);
  });
}

for (const phase of ['prestart', 'createContainer'] as const) {
  test(`a ${phase} hook past its timeout is killed and fails create`, () => {
    const dir = hookDir();
    const id = `h-timeout-${phase}`;
    const b = bundleWith(dir, id, (s) => {
      s.process!.args = ['sleep', '1000'];
      s.hooks = { [phase]: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${dir}/hookpid; exec sleep 30`], timeout: 1 }] };
    });
    const t0 = Date.now();
    const r = w.tsrun(['create', '--bundle', b, id]);
    const took = Date.now() - t0;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /hook "\/bin\/sh": (timed out after 1s|timeout after 1 seconds|killed by SIGKILL \(timeout 1s\))/);
    assert.ok(took < 15000, `took ${took} ms`);
    const hookPid = Number(fs.readFileSync(path.join(dir, 'hookpid'), 'utf8'));
    assert.ok(hookPid > 0);
    assertGone(id);
  });
}

test('a hook within its timeout runs normally', () => {
  const dir = hookDir();
  const id = 'h-timeout-ok';
  const b = bundleWith(dir, id, (s) => {
    s.hooks = { prestart: [logHook(dir, 'prestart', { timeout: 10 })], createContainer: [logHook(dir, 'createContainer', { timeout: 10 })] };
  });
  const r = w.tsrun(['run', '--bundle', b, id, 'true']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readLog(dir).map((l) => l.phase), ['prestart', 'createContainer']);
});

test('a failing startContainer hook fails start and stops the container', () => {
  const dir = hookDir();
  const id = 'h-fail-start';
  const b = bundleWith(dir, id, (s) => {
    s.process!.args = ['sh', '-c', `echo process-ran > /tmp/hooks/ran`];
    s.hooks = {
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }],
      poststart: [logHook(dir, 'poststart')],
      poststop: [logHook(dir, 'poststop')],
    };
  });
  w.ok(['create', '--bundle', b, id]);
  const r = w.tsrun(['start', id]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /exited before it was started/);
  assert.equal(w.state(id).status, 'stopped');
  assert.ok(!fs.existsSync(path.join(dir, 'ran')), 'the process did not run');
  w.ok(['delete', id]);
  assert.deepEqual(readLog(dir).map((l) => l.phase), ['poststop'], 'no poststart; poststop at delete');
  assertGone(id);
});

test('failing poststart and poststop hooks are logged and do not fail run', () => {
  const dir = hookDir();
  const id = 'h-fail-post';
  const b = bundleWith(dir, id, (s) => {
    s.hooks = {
      poststart: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 5'] }, logHook(dir, 'poststart')],
      poststop: [{ path: path.join(dir, 'no-such-hook') }, logHook(dir, 'poststop')],
    };
  });
  const r = w.tsrun(['run', '--bundle', b, id, 'sh', '-c', 'echo ran']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ran/);
  assert.match(r.stderr, /poststart hook "\/bin\/sh": exit status 5/);
  assert.match(r.stderr, /poststop hook ".*no-such-hook": no such file or directory/);
  assertGone(id);
});

test('poststop runs on delete of a container that never started', () => {
  const dir = hookDir();
  const id = 'h-never-started';
  const b = bundleWith(dir, id, (s) => {
    s.process!.args = ['sleep', '1000'];
    s.hooks = { poststart: [logHook(dir, 'poststart')], poststop: [logHook(dir, 'poststop')] };
  });
  w.ok(['create', '--bundle', b, id]);
  w.ok(['delete', id]);
  const log = readLog(dir);
  assert.deepEqual(log.map((l) => l.phase), ['poststop']);
  assert.equal(log[0].state.id, id);
  assert.equal(log[0].state.status, 'stopped');
  assertGone(id);
});
