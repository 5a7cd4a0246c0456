// Concurrency: many containers at once, many creates of one id, kill and
// delete --force racing start.  The state store (src/runtime/store.ts)
// claims an id with mkdir and serializes changes with flock on the state dir.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { World, waitFor, type Result } from '../helpers/tsrun';
import { leftovers, uniqueId, alive, cgroupDirs } from '../helpers/leftovers';

const w = new World('tsrun-test-conc');
after(() => w.cleanup());
const sleeper = w.bundle((s) => (s.process.args = ['sleep', '1000']), 'sleeper');

function okr(r: Result, what: string): void {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
}

/** Every state.json under --root parses, and `list --format json` parses; returns how many checks ran. */
async function checkStateWhile(done: () => boolean): Promise<number> {
  let checks = 0;
  while (!done()) {
    for (const id of fs.existsSync(w.root) ? fs.readdirSync(w.root) : []) {
      let text: string;
      try {
        text = fs.readFileSync(path.join(w.root, id, 'state.json'), 'utf8');
      } catch {
        continue; // not written yet, or deleted meanwhile
      }
      assert.doesNotThrow(() => JSON.parse(text), `state.json of ${id} is valid JSON`);
    }
    const l = await w.tsrunAsync(['list', '--format', 'json']);
    okr(l, 'list');
    assert.ok(Array.isArray(JSON.parse(l.stdout)));
    checks++;
  }
  return checks;
}

test('50 containers created, started, killed and deleted in parallel: all succeed, state stays valid, list is exact', async () => {
  const ids = Array.from({ length: 50 }, (_, i) => uniqueId(`par${i}`));
  let finished = false;
  const checker = checkStateWhile(() => finished);
  try {
    await Promise.all(
      ids.map(async (id) => {
        okr(await w.tsrunAsync(['create', '--bundle', sleeper, id]), `create ${id}`);
        okr(await w.tsrunAsync(['start', id]), `start ${id}`);
      }),
    );
    const list = JSON.parse(w.ok(['list', '--format', 'json'])) as { id: string; status: string; pid: number }[];
    assert.deepEqual(list.map((c) => c.id).sort(), [...ids].sort());
    assert.ok(list.every((c) => c.status === 'running' && alive(c.pid)));
    assert.equal(new Set(list.map((c) => c.pid)).size, 50);
    await Promise.all(
      ids.map(async (id) => {
        okr(await w.tsrunAsync(['kill', id, 'KILL']), `kill ${id}`);
        await waitFor(() => JSON.parse(fs.readFileSync(path.join(w.root, id, 'state.json'), 'utf8')).pid > 0 && w.state(id).status === 'stopped', 10000, `${id} stopped`);
        okr(await w.tsrunAsync(['delete', id]), `delete ${id}`);
      }),
    );
  } finally {
    finished = true;
  }
  assert.ok((await checker) > 0, 'the state was checked while the containers changed');
  assert.equal(w.ok(['list', '-q']), '');
  for (const id of ids) assert.deepEqual(leftovers(w, id), []);
});

test('20 parallel creates of one id: exactly one wins, the others say "already exists", nothing half-made', async () => {
  const id = uniqueId('same');
  const rs = await Promise.all(Array.from({ length: 20 }, () => w.tsrunAsync(['create', '--bundle', sleeper, id])));
  const won = rs.filter((r) => r.code === 0);
  assert.equal(won.length, 1, rs.map((r) => r.stderr).join(''));
  // one line: the message callers match, then a hint
  for (const r of rs.filter((x) => x.code !== 0)) assert.match(r.stderr, new RegExp(`^tsrun: container "${id}" already exists( \\([^\\n]*\\))?\\n$`));
  const s = w.state(id);
  assert.equal(s.status, 'created');
  assert.deepEqual(fs.readdirSync(path.join(w.root, id)).sort(), ['config.json', 'exec.fifo', 'front', 'state.json']);
  // one init, alone in the container's cgroups
  for (const d of cgroupDirs(id)) {
    const procs = fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    assert.deepEqual(procs, [s.pid], d);
  }
  w.ok(['start', id]);
  assert.equal(w.state(id).status, 'running');
  w.ok(['delete', '--force', id]);
  assert.deepEqual(leftovers(w, id, [s.pid]), []);
});

test('delete --force and kill racing start end consistent: gone, or stopped/running as the process really is', async () => {
  const ids = Array.from({ length: 10 }, (_, i) => uniqueId(`race${i}`));
  await Promise.all(ids.map(async (id) => okr(await w.tsrunAsync(['create', '--bundle', sleeper, id]), `create ${id}`)));
  const pids = ids.map((id) => w.state(id).pid);
  await Promise.all(
    ids.map(async (id, i) => {
      // even ids: start vs delete --force; odd ids: start vs kill KILL
      const racer = i % 2 === 0 ? ['delete', '--force', id] : ['kill', id, 'KILL'];
      const [st, other] = await Promise.all([w.tsrunAsync(['start', id]), w.tsrunAsync(racer)]);
      if (st.code !== 0) assert.match(st.stderr, /^tsrun: (container "[^"]+" does not exist|cannot start a container that has stopped|container process exited before it was started)( \([^\n]*\))?\n$/);
      if (i % 2 === 0) okr(other, `delete --force ${id}`);
      else if (other.code !== 0) assert.match(other.stderr, /^tsrun: container not running/);
    }),
  );
  for (const [i, id] of ids.entries()) {
    if (i % 2 === 0) {
      assert.notEqual(w.tsrun(['state', id]).code, 0, `${id} is gone`);
      assert.deepEqual(leftovers(w, id, [pids[i]]), []);
      continue;
    }
    // the kill reached a created or a running init: it dies either way
    await waitFor(() => w.state(id).status === 'stopped', 10000, `${id} stopped`);
    assert.ok(!alive(pids[i]));
    w.ok(['delete', id]);
    assert.deepEqual(leftovers(w, id, [pids[i]]), []);
  }
  assert.equal(w.ok(['list', '-q']), '');
});
