// Crashes: tsrun (or its shim) SIGKILLed at every step of create, and a
// "reboot" (--root emptied while the data dir stays).  Afterwards `state`
// tells the truth, `delete --force` removes everything tsrun made, and the
// same id can be created again.  Steps: src/runtime/crashpoint.ts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { World, BUSYBOX_ROOTFS, waitFor } from '../helpers/tsrun';
import { busyboxLayer, cgroupDirs, leftovers, uniqueId, alive } from '../helpers/leftovers';
import { CREATE_STEPS, SHIM_STEPS } from '../../src/runtime/crashpoint';

const w = new World('tsrun-test-crash');
after(() => w.cleanup());

const layer = busyboxLayer(w, BUSYBOX_ROOTFS);
/** A bundle on the busybox image layer (a write layer, so every step of create has something to leave). */
function layered(world: World, layerTar: string, args: string[], name: string): string {
  return world.bundle((s) => {
    s.process.args = args;
    s.root = { path: 'rootfs' };
    s.tsrun = { layers: [layerTar] };
  }, name);
}
const bundle = layered(w, layer, ['sleep', '1000'], 'layered');

function readState(id: string): { pid?: number; cgroup?: unknown } {
  try {
    return JSON.parse(fs.readFileSync(path.join(w.root, id, 'state.json'), 'utf8'));
  } catch {
    return {};
  }
}

/**
 * What a create killed at `step` must leave: `state` tells the truth, `delete
 * --force` removes everything, the id can be created again.  `r` is the killed call.
 */
async function afterCrash(step: string, id: string, r: { code: number; stderr: string }): Promise<void> {
  assert.equal(r.code, 137, `create was SIGKILLed at ${step}: ${r.stderr}`);
  const pid = readState(id).pid ?? 0;
  // Killed before the init was ready, the init dies (its control socket is gone); killed
  // after it reported READY (possibly before tsrun read it), it waits on the exec fifo:
  // created, and it can be started.  Either way `state` must say which.
  await waitFor(() => ['stopped', 'created'].includes(w.state(id).status), 5000, `${id} settled`);
  await new Promise((r) => setTimeout(r, 200));
  const s = w.state(id);
  if (s.status === 'created') {
    assert.ok(['pid', 'before-ready'].includes(step), `only an init that reported READY lives on (${step})`);
    assert.equal(s.pid, pid);
    assert.ok(alive(pid));
    w.ok(['start', id]);
    assert.equal(w.state(id).status, 'running');
  } else {
    assert.equal(s.status, 'stopped');
    assert.notEqual(step, 'before-ready', 'a ready init lives on');
    assert.equal(s.pid, 0);
    assert.ok(!alive(pid));
    const list = JSON.parse(w.ok(['list', '--format', 'json'])) as { id: string; status: string }[];
    assert.deepEqual(list.map((c) => [c.id, c.status]), [[id, 'stopped']]);
  }
  w.ok(['delete', '--force', id]);
  assert.deepEqual(leftovers(w, id, [pid]), []);
  w.ok(['create', '--bundle', bundle, id]);
  assert.equal(w.state(id).status, 'created');
  w.ok(['delete', '--force', id]);
  assert.deepEqual(leftovers(w, id), []);
}

for (const step of CREATE_STEPS) {
  test(`tsrun killed at create step "${step}": state tells the truth, delete --force removes all, the id is reusable`, async () => {
    const id = uniqueId(`crash-${step}`);
    await afterCrash(step, id, w.tsrun(['create', '--bundle', bundle, id], { env: { TSRUN_TEST_KILL_AT: step } }));
  });
}

// The C front's replay of a recorded create (native-shim/front/replay.c) makes
// the same things in the same order, with the same crash points.
for (const step of CREATE_STEPS) {
  test(`a replayed create killed at step "${step}": state tells the truth, delete --force removes all, the id is reusable`, async () => {
    const id = uniqueId(`crash-rp-${step}`);
    w.ok(['create', '--bundle', bundle, id]); // Node: records it
    w.ok(['delete', '--force', id]);
    const r = w.tsrun(['create', '--bundle', bundle, id], { env: { TSRUN_TEST_REPLAY_KILL_AT: step, TSRUN_FRONT_TRACE: '1' } });
    // Node knows nothing of TSRUN_TEST_REPLAY_KILL_AT: the 137 is the front's own kill point
    assert.doesNotMatch(r.stderr, /^tsrun-front: node/m, `the front replayed it: ${r.stderr}`);
    await afterCrash(step, id, r);
  });
}

for (const step of SHIM_STEPS) {
  test(`shim killed at step "${step}": create fails with one line and leaves nothing; the id is reusable`, () => {
    const id = uniqueId(`shimcrash-${step}`);
    const r = w.tsrun(['create', '--bundle', bundle, id], { env: { TSRUN_TEST_SHIM_KILL_AT: step } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^tsrun: [^\n]+\n$/, 'one line');
    assert.match(r.stderr, /killed by signal 9|exited/);
    assert.deepEqual(leftovers(w, id), []);
    assert.notEqual(w.tsrun(['state', id]).code, 0);
    w.ok(['create', '--bundle', bundle, id]);
    w.ok(['delete', '--force', id]);
    assert.deepEqual(leftovers(w, id), []);
  });
}

test('reboot: --root emptied, data dir kept: list is empty, the id is created afresh, prune removes lost write layers', (t) => {
  const w = new World('tsrun-test-reboot');
  t.after(() => w.cleanup());
  const layer = busyboxLayer(w, BUSYBOX_ROOTFS);
  const bundle = layered(w, layer, ['sleep', '1000'], 'layered');
  const id = uniqueId('reboot');
  const lost = uniqueId('lost');
  const b = layered(w, layer, ['sh', '-c', 'echo old > /marker; exec sleep 1000'], 'reboot-old');
  w.ok(['run', '-d', '--bundle', b, id]);
  w.ok(['run', '-d', '--bundle', b, lost]);
  const upper = path.join(w.dataDir, 'containers', id, 'upper');
  waitForSync(() => fs.existsSync(path.join(upper, 'marker')));
  // the "reboot": every process dies, cgroups and /run vanish, the data dir stays
  for (const c of [id, lost]) {
    const { pid } = w.state(c);
    process.kill(pid, 'SIGKILL');
    waitForSync(() => !alive(pid));
    for (const d of cgroupDirs(c).reverse()) fs.rmdirSync(d);
  }
  fs.rmSync(w.root, { recursive: true, force: true });
  assert.ok(fs.existsSync(path.join(w.dataDir, 'containers', lost)), 'the write layers survive the reboot');
  assert.equal(w.ok(['list', '-q']), '');

  // the same id again: a fresh write layer, not the old one
  const b2 = w.bundle((s) => {
    s.process.args = ['sh', '-c', 'test -e /marker && echo stale || echo fresh'];
    s.root = { path: 'rootfs' };
    s.tsrun = { layers: [layer] };
  }, 'reboot-new');
  assert.equal(w.ok(['run', '--bundle', b2, id]).trim(), 'fresh');
  assert.ok(!fs.existsSync(path.join(w.dataDir, 'containers', id)), 'run removed its write layer');

  // prune: the lost container's write layer goes, a live container's stays with its layer
  const live = uniqueId('live');
  w.ok(['create', '--bundle', bundle, live]);
  const out = w.ok(['prune']).trim().split('\n');
  assert.deepEqual(out, [path.join(w.dataDir, 'containers', lost)]);
  assert.ok(!fs.existsSync(path.join(w.dataDir, 'containers', lost)));
  assert.ok(fs.existsSync(path.join(w.dataDir, 'containers', live)));
  assert.equal(w.state(live).status, 'created');
  w.ok(['delete', '--force', live]);
  assert.deepEqual(leftovers(w, live), []);
  assert.deepEqual(leftovers(w, lost), []);
  assert.deepEqual(leftovers(w, id), []);
});

function waitForSync(f: () => boolean, ms = 5000): void {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}
