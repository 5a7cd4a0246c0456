// Replay records that serve other ids (native-shim/include/replay.h "Other
// ids"): containerd writes a new bundle for every container, whose
// config.json differs from the last one of the same image by the id only.
// The record of one container must make, for the next id, exactly what
// Node's create makes for that id; anything else is a miss.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { World, waitFor, type Result } from '../helpers/tsrun';
import { alive, leftovers, uniqueId } from '../helpers/leftovers';
import { TRACE, created, recordsOf, replayed, viaNode, writeLayerOf } from '../helpers/replay';

const w = new World('tsrun-test-replay-ids');
after(() => w.cleanup());

/** A container id as containerd's CRI, docker and podman make them: 64 hex digits. */
const hexId = (bytes = 32) => crypto.randomBytes(bytes).toString('hex');
const records = () => recordsOf(w);
const recordOf = (r: Result) => /^tsrun-front: replay: record of: (\S+)$/m.exec(r.stderr)?.[1];

/**
 * containerd-shim-runc-v2's create: its own bundle dir per container, named
 * by the id, with the id in cgroupsPath; global --log/--log-format json;
 * --pid-file in the bundle.  On the busybox image, so that the write layer
 * (named by the id) is replayed too.
 */
function shimCreate(id: string, args: string[], edit: (s: any) => void = () => {}, env: NodeJS.ProcessEnv = {}) {
  const b = w.layered((s) => {
    s.process.args = args;
    s.process.terminal = false;
    s.process.env.push(`CONTAINER_ID=${id}`);
    s.linux.cgroupsPath = `/tsrun/${id}`;
    edit(s);
  }, id);
  const log = path.join(b, 'log.json');
  const r = w.tsrun(['--log', log, '--log-format', 'json', 'create', '--bundle', b, '--pid-file', path.join(b, 'init.pid'), id], {
    env: { ...TRACE, ...env },
  });
  assert.equal(r.code, 0, r.stderr);
  return { r, b, log };
}

async function stopAndDelete(id: string): Promise<void> {
  const pid = w.state(id).pid;
  assert.equal(w.tsrun(['kill', id, 'KILL']).code, 0);
  await waitFor(() => !alive(pid), 5000, 'the container to stop');
  const d = w.tsrun(['delete', id]);
  assert.equal(d.code, 0, d.stderr);
  assert.deepEqual(leftovers(w, id), []);
}

test('other ids: the next container of an image is replayed from the last one\'s record and is exactly what Node makes for its id', async () => {
  const first = hexId();
  const made = shimCreate(first, ['sleep', '100']);
  assert.ok(viaNode(made.r), made.r.stderr);
  assert.equal(records().length, 1, 'Node recorded the create');
  await stopAndDelete(first);

  const next = hexId();
  const replay = shimCreate(next, ['sleep', '100']);
  assert.ok(replayed(replay.r), `replayed: ${replay.r.stderr}`);
  assert.equal(recordOf(replay.r), first, 'from the first container\'s record');
  assert.equal(records().length, 1, 'a replay records nothing');
  const fromReplay = { ...created(w, next), layer: writeLayerOf(w, next) };
  const state = w.state(next);
  assert.equal(state.status, 'created');
  assert.equal(state.id, next);
  assert.equal(fs.readFileSync(path.join(replay.b, 'init.pid'), 'utf8'), String(state.pid), '--pid-file');
  assert.ok(!fs.existsSync(replay.log), 'a create that succeeds logs nothing');
  assert.match(fromReplay.config, new RegExp(`CONTAINER_ID=${next}`));
  assert.ok(!JSON.stringify(fromReplay).includes(first), 'nothing of the first id is left in what the replay made');
  // the process is the new container's: its cgroup, its write layer, its env
  assert.equal(w.tsrun(['start', next]).code, 0);
  const procCg = fs.readFileSync(`/proc/${state.pid}/cgroup`, 'utf8');
  assert.match(procCg, new RegExp(`/tsrun/${next}$`, 'm'));
  assert.match(fs.readFileSync(`/proc/${state.pid}/environ`, 'utf8'), new RegExp(`CONTAINER_ID=${next}\0`));
  assert.ok(fs.readFileSync(`/proc/${state.pid}/mountinfo`, 'utf8').includes(`upperdir=${path.join(w.dataDir, 'containers', next, 'upper')}`), 'its root is its own write layer');
  await stopAndDelete(next);

  // the same id through Node: the same state dir, cgroups and write layer
  const node = shimCreate(next, ['sleep', '100'], () => {}, { TSRUN_NO_REPLAY: '1' });
  assert.ok(viaNode(node.r), node.r.stderr);
  assert.deepEqual({ ...created(w, next), layer: writeLayerOf(w, next) }, fromReplay);
  await stopAndDelete(next);
});

test('other ids: a foreground run of a new id is replayed (output, exit status, nothing left), with the default cgroup path', () => {
  const run = (id: string) => {
    const b = w.bundle((s) => {
      s.process.args = ['sh', '-c', 'echo "I am $CONTAINER_ID"; exit 7'];
      s.process.terminal = false;
      s.process.env.push(`CONTAINER_ID=${id}`);
      delete s.linux.cgroupsPath;
    }, id);
    return w.tsrun(['run', '--bundle', b, id], { dataDir: false, env: TRACE });
  };
  const ids = [hexId(), hexId(), hexId()];
  for (const [i, id] of ids.entries()) {
    const r = run(id);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, `I am ${id}\n`);
    assert.equal(i === 0 ? viaNode(r) : recordOf(r), i === 0 ? true : ids[0], `run ${i}: ${r.stderr}`);
    assert.deepEqual(leftovers(w, id), []);
  }
});

test('other ids: a short or non-hex id, an id of another length, or a config that differs by more than the id goes to Node', async () => {
  const shape = (id: string, extra: string[] = []) => {
    const b = w.bundle((s) => {
      s.process.args = ['true'];
      s.process.terminal = false;
      s.process.env.push(`CONTAINER_ID=${id}`, ...extra);
      s.linux.cgroupsPath = `/tsrun/${id}`;
    }, id);
    const r = w.tsrun(['run', '--bundle', b, id], { dataDir: false, env: TRACE });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(leftovers(w, id), []);
    return r;
  };
  // names as people give them (ctr run ... web-1): each its own record
  const named = uniqueId('rp-named-container-name-long-enough');
  shape(named);
  assert.ok(replayed(shape(named)), 'the same name again is replayed');
  const other = shape(uniqueId('rp-named-container-name-long-enough'));
  assert.ok(viaNode(other), `a record of a name serves only that name: ${other.stderr}`);
  // hex ids: another length is a miss (the record says so), another config too
  const base = hexId();
  shape(base);
  const longer = shape(hexId(40));
  assert.match(longer.stderr, /^tsrun-front: node: replay miss: a record for another id$/m);
  const wider = shape(hexId(), ['EXTRA=1']);
  assert.ok(viaNode(wider), wider.stderr);
  // the record for this shape is now longer's: an upper-case id of its length would be served if it counted
  const upper = shape(hexId(40).toUpperCase());
  assert.ok(viaNode(upper), `upper-case hex is not an id of the generated form: ${upper.stderr}`);
  // and a hex id of the same shape is served
  const hit = shape(hexId(), ['EXTRA=1']);
  assert.ok(replayed(hit), hit.stderr);
});
