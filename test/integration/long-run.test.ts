// A long run: many lifecycles one after another (foreground run, half of
// them on the layered image with a write layer, plus exec into a detached
// container), with the host's resources counted at checkpoints: they must
// stay flat.  TSRUN_LONG_RUNS sets the count (default 200 in the suite;
// TSRUN_LONG_RUNS=1000 for the full run of issue 7, about 3-4 minutes).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { World } from '../helpers/tsrun';
import { pgrep, uniqueId, stateDirs } from '../helpers/leftovers';

const RUNS = Number(process.env.TSRUN_LONG_RUNS ?? 200);
const PARALLEL = 2;
const w = new World('tsrun-test-long');
after(() => w.cleanup());

const prefix = uniqueId('long');

interface Sample {
  /** mounts that mention this world (host mount namespace) */
  mounts: number;
  /** all mounts of the host namespace (informational: other tests on the machine change it) */
  allMounts: number;
  /** cgroup dirs of this run's containers, in every hierarchy */
  cgroups: number;
  /** this test process's open fds */
  fds: number;
  /** processes that are this run's containers or tsrun invocations */
  procs: number;
  /** state dirs and write layers */
  stateDirs: number;
  writeLayers: number;
  rssMB: number;
}

function sample(): Sample {
  const info = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean);
  // containers with a cgroup left, in any hierarchy (one container has a dir in each)
  const cgroupIds = new Set<string>();
  for (const c of fs.readdirSync('/sys/fs/cgroup')) {
    const d = path.join('/sys/fs/cgroup', c, 'tsrun');
    try {
      for (const n of fs.readdirSync(d)) if (n.startsWith(prefix)) cgroupIds.add(n);
    } catch {
      /* no tsrun parent in this hierarchy */
    }
  }
  const ls = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d).length : 0);
  return {
    mounts: info.filter((l) => l.includes(w.dir)).length,
    allMounts: info.length,
    cgroups: cgroupIds.size,
    fds: fs.readdirSync('/proc/self/fd').length,
    procs: pgrep(prefix).length + pgrep(w.root).length,
    stateDirs: stateDirs(w.root).length,
    writeLayers: ls(path.join(w.dataDir, 'containers')),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
  };
}

test(`${RUNS} lifecycles: mounts, cgroups, fds, processes, state dirs and write layers stay flat`, async () => {
  const plain = w.bundle((s) => (s.process.args = ['true']), 'plain');
  const layered = w.layered((s) => (s.process.args = ['sh', '-c', 'echo x > /written']), 'layered');
  const sleeper = w.bundle((s) => (s.process.args = ['sleep', '1000']), 'sleeper');
  w.ok(['--version']);
  const host = sample(); // after a first tsrun
  const checkpoints: Sample[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < RUNS) {
        const i = next++;
        const id = `${prefix}-${i}`;
        if (i % 10 === 9) {
          // detached, exec'd into, killed, deleted
          const r1 = await w.tsrunAsync(['run', '-d', '--bundle', sleeper, id]);
          assert.equal(r1.code, 0, r1.stderr);
          const r2 = await w.tsrunAsync(['exec', id, 'true']);
          assert.equal(r2.code, 0, r2.stderr);
          const r3 = await w.tsrunAsync(['delete', '--force', id]);
          assert.equal(r3.code, 0, r3.stderr);
        } else {
          const r = await w.tsrunAsync(['run', '--bundle', i % 2 ? layered : plain, id]);
          assert.equal(r.code, 0, `run ${i}: ${r.stderr}`);
        }
        if (i % 50 === 49) checkpoints.push(sample());
      }
    }),
  );
  const end = sample();
  for (const s of [...checkpoints, end]) {
    // a checkpoint may see the other worker's container in the middle of its run
    assert.ok(s.mounts === 0, `mounts of this world: ${JSON.stringify(s)}`);
    assert.ok(s.cgroups <= PARALLEL, `cgroups: ${JSON.stringify(s)}`);
    assert.ok(s.stateDirs <= PARALLEL && s.writeLayers <= PARALLEL, `state: ${JSON.stringify(s)}`);
    assert.ok(s.fds <= host.fds + 2 * PARALLEL + 4, `fds: ${JSON.stringify(s)} vs ${JSON.stringify(host)}`);
  }
  assert.deepEqual(
    { mounts: end.mounts, cgroups: end.cgroups, procs: end.procs, stateDirs: end.stateDirs, writeLayers: end.writeLayers },
    { mounts: 0, cgroups: 0, procs: 0, stateDirs: 0, writeLayers: 0 },
  );
  assert.ok(end.fds <= host.fds + 2, `fds flat: ${host.fds} -> ${end.fds}`);
  assert.ok(end.rssMB < host.rssMB + 100, `the test process's memory: ${host.rssMB} -> ${end.rssMB} MB`);
  console.log(`long run: ${RUNS} lifecycles; start ${JSON.stringify(host)}; end ${JSON.stringify(end)}`);
});
