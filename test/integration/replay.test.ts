// Replay records (src/runtime/replay.ts writes them, native-shim/front/replay.c
// replays them; native-shim/include/replay.h is the format): a `create` or
// `run` that comes again with the same inputs is done by the C front without
// Node, and must leave exactly what the Node path leaves.  Anything unusual
// on the way undoes the replay and goes to Node.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { BUSYBOX_IMAGE, World, waitFor, type Result } from '../helpers/tsrun';
import { alive, leftovers, uniqueId } from '../helpers/leftovers';
import { TRACE, created, recordsOf, replayed, viaNode, writeLayerOf } from '../helpers/replay';

const w = new World('tsrun-test-replay');
after(() => w.cleanup());

/** The command line the front replays: --root only (World adds --data-dir otherwise). */
const call = (args: string[], env: NodeJS.ProcessEnv = {}): Result => w.tsrun(args, { dataDir: false, env: { ...TRACE, ...env } });
const snapshot = (id: string) => created(w, id);
const writeLayer = (id: string) => writeLayerOf(w, id);
const records = () => recordsOf(w);

/** A bundle of world w's kind (plain rootfs or image layers) running args, without a terminal. */
const bundleOf =
  (make: (edit: (s: any) => void, name: string) => string) =>
  (name: string, args: string[], edit: (s: any) => void = () => {}): string =>
    make((s) => {
      s.process.args = args;
      s.process.terminal = false;
      edit(s);
    }, name);
const plainBundle = bundleOf((e, n) => w.bundle(e, n));

test('replay: the second run of a container is replayed: same output, same exit status, nothing left', () => {
  const id = uniqueId('rp-run');
  const b = plainBundle(id, ['sh', '-c', 'echo hello from $(hostname); exit 3']);
  const first = call(['run', '--bundle', b, id]);
  assert.equal(first.code, 3, first.stderr);
  assert.ok(viaNode(first), `the first run goes to Node: ${first.stderr}`);
  assert.match(first.stdout, /hello from/);
  assert.equal(records().length, 1, 'Node wrote a record');
  assert.deepEqual(leftovers(w, id), []);

  const second = call(['run', '--bundle', b, id]);
  assert.ok(replayed(second), `the second run is replayed: ${second.stderr}`);
  assert.equal(second.code, 3, second.stderr);
  assert.equal(second.stdout, first.stdout);
  assert.deepEqual(leftovers(w, id), []);
});

test('replay: a replayed create leaves what the Node create left; state, start and delete work on it', async () => {
  const id = uniqueId('rp-create');
  const b = plainBundle(id, ['sleep', '100'], (s) => {
    s.linux.resources = { ...(s.linux.resources ?? {}), pids: { limit: 50 }, memory: { limit: 64 * 1024 * 1024 }, cpu: { shares: 512 } };
    s.annotations = { 'org.example.replay': 'yes' };
  });
  const pidFile = path.join(w.dir, `${id}.pid`);
  const made: ReturnType<typeof snapshot>[] = [];
  for (const round of [0, 1]) {
    const r = call(['create', '--bundle', b, '--pid-file', pidFile, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(round === 0 ? viaNode(r) : replayed(r), true, `round ${round}: ${r.stderr}`);
    const snap = snapshot(id);
    made.push(snap);
    const state = w.state(id);
    assert.equal(state.status, 'created');
    assert.equal(fs.readFileSync(pidFile, 'utf8'), String(state.pid), '--pid-file');
    assert.equal((state.annotations as Record<string, string>)['org.example.replay'], 'yes');
    // the TypeScript CLI reads the replayed container as the front does
    const viaTs = call(['state', id], { TSRUN_TEST_FORCE_NODE: '1' });
    assert.ok(viaNode(viaTs), viaTs.stderr);
    assert.deepEqual(JSON.parse(viaTs.stdout), state);
    assert.equal(call(['start', id]).code, 0);
    assert.equal(w.state(id).status, 'running');
    assert.equal(call(['kill', id, 'KILL']).code, 0);
    await waitFor(() => !alive(state.pid), 5000, 'the container to stop');
    assert.equal(w.state(id).status, 'stopped');
    const d = call(['delete', id]);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(leftovers(w, id), []);
  }
  assert.deepEqual(made[1], made[0]);
});

test('replay: a changed config.json, TSRUN_NO_REPLAY or another flag goes to Node', () => {
  const id = uniqueId('rp-miss');
  const b = plainBundle(id, ['true']);
  assert.equal(call(['run', '--bundle', b, id]).code, 0);
  assert.ok(replayed(call(['run', '--bundle', b, id])));
  const cfg = path.join(b, 'config.json');
  const spec = JSON.parse(fs.readFileSync(cfg, 'utf8'));
  spec.process.env.push('CHANGED=1');
  fs.writeFileSync(cfg, JSON.stringify(spec));
  const changed = call(['run', '--bundle', b, id]);
  assert.equal(changed.code, 0);
  assert.ok(viaNode(changed), `a new config is a miss: ${changed.stderr}`);
  assert.ok(replayed(call(['run', '--bundle', b, id])), 'and then recorded');
  const off = call(['run', '--bundle', b, id], { TSRUN_NO_REPLAY: '1' });
  assert.equal(off.code, 0);
  assert.ok(viaNode(off), off.stderr);
  const flag = call(['run', '--bundle', b, '--no-new-keyring', id]);
  assert.equal(flag.code, 0);
  assert.ok(viaNode(flag), flag.stderr);
  assert.deepEqual(leftovers(w, id), []);
});

test('replay: one that fails undoes what it made, and Node reports the error with nothing left', () => {
  const id = uniqueId('rp-fail');
  const src = path.join(w.dir, `${id}-src`);
  fs.mkdirSync(src);
  const b = plainBundle(id, ['true'], (s) => {
    s.mounts.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'ro'] });
  });
  assert.equal(call(['run', '--bundle', b, id]).code, 0);
  fs.rmdirSync(src); // the same bytes of config.json, but the host changed
  const r = call(['run', '--bundle', b, id]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^tsrun-front: node: replay undone: shim/m, 'the replay started, then was undone');
  assert.match(r.stderr, /^tsrun: .*\/data|^tsrun: .*rp-fail-.*-src/m, 'the error names the mount');
  assert.deepEqual(leftovers(w, id), []);
});

test('replay: a cgroup of the container that exists already sends the create to Node', () => {
  const id = uniqueId('rp-leaf');
  const b = plainBundle(id, ['true']);
  assert.equal(call(['run', '--bundle', b, id]).code, 0);
  const leaf = `/sys/fs/cgroup/pids/tsrun/${id}`;
  fs.mkdirSync(leaf, { recursive: true });
  try {
    const r = call(['run', '--bundle', b, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^tsrun-front: node: replay undone: cgroup .* exists/m, 'Node decides about a cgroup that exists');
  } finally {
    if (fs.existsSync(leaf)) fs.rmdirSync(leaf);
  }
  assert.deepEqual(leftovers(w, id), []);
});

test('replay: a replayed run in the foreground forwards signals to the container', async () => {
  const id = uniqueId('rp-sig');
  const b = plainBundle(id, ['sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.05; done']);
  const once = w.spawn(['run', '--bundle', b, id], { dataDir: false });
  await waitFor(() => fs.existsSync(path.join(w.root, id, 'front')) && w.state(id).status === 'running', 10000, 'the first run');
  once.kill('SIGTERM');
  const first = await new Promise<number | null>((res) => once.once('exit', (c) => res(c)));
  assert.equal(first, 7);
  const again = w.spawn(['run', '--bundle', b, id], { dataDir: false, env: TRACE });
  let err = '';
  again.stderr.on('data', (c) => (err += c));
  await waitFor(() => fs.existsSync(path.join(w.root, id, 'front')) && w.state(id).status === 'running', 10000, 'the replayed run');
  again.kill('SIGTERM');
  const code = await new Promise<number | null>((res) => again.once('exit', (c) => res(c)));
  assert.ok(/^tsrun-front: replay\b/m.test(err), err);
  assert.equal(code, 7, 'SIGTERM reached the container, whose status is the run\'s');
  assert.deepEqual(leftovers(w, id), []);
});

// ---- containers on image layers (tsrun.layers): replay.h step 2b, the write layer ----

/** The command line with --data-dir (this world's): the write layers go there. */
const callD = (args: string[], env: NodeJS.ProcessEnv = {}): Result => w.tsrun(args, { env: { ...TRACE, ...env } });
const fastDelete = (r: Result) => /^tsrun-front: fast: delete$/m.test(r.stderr);

const layeredBundle = bundleOf((e, n) => w.layered(e, n));

test('replay: a container on image layers is replayed: the same state dir, write layer and owner file as the Node create; its delete is fast and leaves nothing', async () => {
  const id = uniqueId('rp-layers');
  const b = layeredBundle(id, ['sleep', '100']);
  const made: unknown[] = [];
  for (const round of [0, 1]) {
    const r = callD(['create', '--bundle', b, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(round === 0 ? viaNode(r) : replayed(r), true, `round ${round}: ${r.stderr}`);
    const layer = writeLayer(id);
    assert.equal(layer.owner.root, w.root, 'the owner file names this --root');
    for (const l of ['merged d 755', 'owner f 644', 'upper d 755', 'work d 700']) assert.ok(layer.tree.includes(l), `${l} in ${layer.tree}`);
    const snap = snapshot(id);
    assert.ok(snap.state.dataDir === w.dataDir && snap.state.layers.length === 1, 'state.json names the data dir and the layer');
    assert.match(snap.front, /\ndelete-fast 1\n(.*\n)*write-layer .*\nwrite-layer-owner /);
    made.push({ snap, layer });
    const state = w.state(id);
    assert.equal(callD(['start', id]).code, 0);
    assert.equal(callD(['kill', id, 'KILL']).code, 0);
    await waitFor(() => !alive(state.pid), 5000, 'the container to stop');
    const d = callD(['delete', id]);
    assert.equal(d.code, 0, d.stderr);
    assert.ok(fastDelete(d), `the delete of a stopped layered container is the front's: ${d.stderr}`);
    assert.deepEqual(leftovers(w, id), []);
  }
  assert.deepEqual(made[1], made[0]);
});

test('replay: a replayed run on image layers writes into its own write layer, and its foreground delete removes it', () => {
  const id = uniqueId('rp-lrun');
  const b = layeredBundle(id, ['sh', '-c', 'echo written > /new-file && cat /new-file && test ! -e /old-file && echo written > /old-file']);
  const first = callD(['run', '--bundle', b, id]);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(viaNode(first), first.stderr);
  const second = callD(['run', '--bundle', b, id]);
  assert.ok(replayed(second), second.stderr);
  assert.equal(second.code, 0, `a fresh write layer: ${second.stderr}`);
  assert.equal(second.stdout, 'written\n');
  assert.ok(!/delete through node/.test(second.stderr), `the run's delete is the front's: ${second.stderr}`);
  assert.deepEqual(leftovers(w, id), []);
});

test('replay: a touched layer tar is a miss (Node looks at it again and records anew); then replayed again', () => {
  const id = uniqueId('rp-ltouch');
  const tar = path.join(w.dir, `${id}.tar`);
  fs.copyFileSync(BUSYBOX_IMAGE, tar);
  const b = layeredBundle(id, ['true'], (s) => (s.tsrun.layers = [tar]));
  assert.ok(viaNode(callD(['run', '--bundle', b, id])));
  assert.ok(replayed(callD(['run', '--bundle', b, id])));
  const t = new Date(Date.now() + 5000);
  fs.utimesSync(tar, t, t);
  const r = callD(['run', '--bundle', b, id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^tsrun-front: node: replay miss: .*changed/m, 'a new mtime: a miss, before anything is made');
  assert.deepEqual(leftovers(w, id), []);
  const again = callD(['run', '--bundle', b, id]);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(replayed(again), `recorded anew: ${again.stderr}`);
  assert.deepEqual(leftovers(w, id), []);
});

test('replay: a pruned layer is a miss; Node unpacks it again and the container works', () => {
  const id = uniqueId('rp-lprune');
  const b = layeredBundle(id, ['true']);
  assert.equal(callD(['run', '--bundle', b, id]).code, 0);
  assert.ok(replayed(callD(['run', '--bundle', b, id])));
  const p = callD(['prune']);
  assert.equal(p.code, 0, p.stderr);
  assert.deepEqual(fs.readdirSync(path.join(w.dataDir, 'layers', 'sha256')), [], 'prune removed the layer nobody uses');
  const r = callD(['run', '--bundle', b, id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^tsrun-front: node: replay miss: stat .*layers\/sha256/m);
  assert.ok(replayed(callD(['run', '--bundle', b, id])), 'recorded anew');
  // removed by hand: the same
  fs.rmSync(path.join(w.dataDir, 'layers', 'sha256'), { recursive: true });
  fs.mkdirSync(path.join(w.dataDir, 'layers', 'sha256'));
  const h = callD(['run', '--bundle', b, id]);
  assert.equal(h.code, 0, h.stderr);
  assert.ok(viaNode(h), h.stderr);
  assert.deepEqual(leftovers(w, id), []);
});

test('replay: a write layer that exists (stale, or another --root\'s) is Node\'s to decide; a failed replay\'s undo removes the write layer it made', () => {
  const id = uniqueId('rp-lstale');
  const b = layeredBundle(id, ['true']);
  assert.equal(callD(['run', '--bundle', b, id]).code, 0);
  const wl = path.join(w.dataDir, 'containers', id);
  fs.mkdirSync(path.join(wl, 'upper'), { recursive: true });
  fs.writeFileSync(path.join(wl, 'upper', 'stale'), 'x');
  const r = callD(['run', '--bundle', b, id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^tsrun-front: node: replay undone: .*containers\/rp-lstale-\w+" exists/m);
  assert.deepEqual(leftovers(w, id), [], 'Node removed the stale write layer');
  // the shim fails after step 2b made the write layer: the undo removes it, Node reports
  const src = path.join(w.dir, `${id}-src`);
  fs.mkdirSync(src);
  const fb = layeredBundle(`${id}-f`, ['true'], (s) => s.mounts.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'ro'] }));
  assert.equal(callD(['run', '--bundle', fb, id]).code, 0);
  fs.rmdirSync(src);
  // what the undo itself leaves, before Node (which would remove a stale write layer anyway)
  const k = callD(['run', '--bundle', fb, id], { TSRUN_TEST_REPLAY_KILL_AT: 'undone' });
  assert.equal(k.code, 137, `the front stopped (SIGKILL) after the undo: ${k.stderr}`);
  assert.ok(!viaNode(k), k.stderr);
  assert.deepEqual(leftovers(w, id), [], 'the undo removed the write layer, the cgroups and the state dir');
  const f = callD(['run', '--bundle', fb, id], { TSRUN_FRONT_TRACE: '1' });
  assert.notEqual(f.code, 0);
  assert.match(f.stderr, /^tsrun-front: node: replay undone: shim/m);
  assert.deepEqual(leftovers(w, id), []);
});

test('replay: a record others could have written is not used', () => {
  const id = uniqueId('rp-trust');
  const b = plainBundle(id, ['true']);
  assert.equal(call(['run', '--bundle', b, id]).code, 0);
  const dir = path.join(w.root, '.replay');
  // this test's record: the newest
  const [rec] = records().sort((a, b) => fs.statSync(path.join(dir, b)).mtimeMs - fs.statSync(path.join(dir, a)).mtimeMs);
  fs.chmodSync(path.join(dir, rec), 0o666);
  const r = call(['run', '--bundle', b, id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^tsrun-front: node: replay miss: .* is not a file only we can write/m);
  // Node wrote it again, by rename: the new file is 0600, and is used
  assert.equal(fs.statSync(path.join(dir, rec)).mode & 0o777, 0o600);
  assert.ok(replayed(call(['run', '--bundle', b, id])));
  fs.chmodSync(dir, 0o777);
  try {
    assert.match(call(['run', '--bundle', b, id]).stderr, /^tsrun-front: node: replay miss: .* is not a directory only we can write/m);
  } finally {
    fs.chmodSync(dir, 0o700);
  }
  assert.deepEqual(leftovers(w, id), []);
});
