// Real cgroups on this host (hybrid: v1 controllers + an empty unified
// hierarchy).  Everything lives under /tsrun-test-<rand>/ and is removed in
// t.after, also on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawn, spawnSync, ChildProcess } from 'child_process';
import { CgroupRecord, cgroupPids, destroyCgroup, detectMode, freeze, isFrozen, procsFiles, setupCgroup, stats, thaw, updateResources, v1Hierarchies } from '../../src/cgroups/index';

const ROOT = '/sys/fs/cgroup';
const mode = detectMode();
const skip = process.getuid?.() !== 0 ? 'needs root' : mode === 'v2' ? 'host is pure cgroup v2 (see cgroups-v2.test.ts)' : false;

function parentDirs(parent: string): string[] {
  const dirs = new Set(Object.values(v1Hierarchies()).map((h) => path.join(h, parent)));
  if (mode === 'hybrid') dirs.add(path.join(ROOT, 'unified', parent));
  return [...dirs];
}

function cleanup(rec: CgroupRecord | undefined, parent: string, procs: ChildProcess[]): void {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  if (rec) {
    try {
      destroyCgroup(rec);
    } catch {
      // reported by the test itself
    }
  }
  for (const d of parentDirs(parent)) {
    if (!fs.existsSync(d)) continue;
    for (const c of fs.readdirSync(d, { withFileTypes: true })) if (c.isDirectory()) fs.rmdirSync(path.join(d, c.name));
    fs.rmdirSync(d);
  }
}

const procState = (pid: number): string => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];

function join(rec: CgroupRecord, pid: number): void {
  for (const f of procsFiles(rec)) fs.writeFileSync(f, String(pid));
}

test('hybrid/v1: limits, sleep joins, freeze/thaw, pids, stats, devices, destroy', { skip }, async (t) => {
  const parent = `tsrun-test-${process.pid}-${Date.now().toString(36)}`;
  let rec: CgroupRecord | undefined;
  const procs: ChildProcess[] = [];
  t.after(() => cleanup(rec, parent, procs));

  rec = setupCgroup({
    id: 'c1',
    cgroupsPath: `/${parent}/c1`,
    resources: {
      memory: { limit: 64 * 1024 * 1024 },
      pids: { limit: 20 },
      cpu: { quota: 50000, period: 100000, cpus: '0', mems: '0', shares: 512 },
      devices: [{ allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }],
    },
  });
  assert.equal(rec.mode, mode);
  assert.equal(rec.paths.memory, `/sys/fs/cgroup/memory/${parent}/c1`);
  if (mode === 'hybrid') assert.equal(rec.paths.unified, `/sys/fs/cgroup/unified/${parent}/c1`);
  const rd = (c: string, f: string): string => fs.readFileSync(path.join(rec!.paths[c], f), 'utf8').trim();
  assert.equal(rd('memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
  assert.equal(rd('pids', 'pids.max'), '20');
  assert.equal(rd('cpu', 'cpu.cfs_quota_us'), '50000');
  assert.equal(rd('cpu', 'cpu.cfs_period_us'), '100000');
  assert.equal(rd('cpu', 'cpu.shares'), '512');
  assert.equal(rd('cpuset', 'cpuset.cpus'), '0');
  assert.equal(rd('cpuset', 'cpuset.mems'), '0');
  const devList = rd('devices', 'devices.list').split('\n');
  assert.ok(devList.includes('c 1:3 rwm'), devList.join(','));
  assert.ok(!devList.some((l) => l.startsWith('c 1:7')), devList.join(','));
  assert.ok(!devList.includes('a *:* rwm'));

  // a sleep process joins through procsFiles
  const sleep = spawn('sleep', ['100'], { stdio: 'ignore' });
  procs.push(sleep);
  join(rec, sleep.pid!);
  const own = fs.readFileSync(`/proc/${sleep.pid}/cgroup`, 'utf8');
  assert.match(own, new RegExp(`:memory:/${parent}/c1$`, 'm'));
  assert.match(own, new RegExp(`:pids:/${parent}/c1$`, 'm'));
  if (mode === 'hybrid') assert.match(own, new RegExp(`^0::/${parent}/c1$`, 'm'));
  assert.deepEqual(cgroupPids(rec), [sleep.pid]);

  // devices: /dev/full is denied, /dev/zero allowed
  const files = procsFiles(rec).join(' ');
  const dev = spawnSync('sh', ['-c', `for f in ${files}; do echo $$ > $f; done; head -c1 /dev/zero | wc -c; head -c1 /dev/full`], { encoding: 'utf8' });
  assert.equal(dev.stdout.trim(), '1');
  assert.match(dev.stderr, /Operation not permitted/);

  // freeze / thaw
  freeze(rec);
  assert.equal(rd('freezer', 'freezer.state'), 'FROZEN');
  assert.equal(isFrozen(rec), true);
  assert.ok(['D', 'S', 'T'].includes(procState(sleep.pid!)), procState(sleep.pid!));
  thaw(rec);
  assert.equal(rd('freezer', 'freezer.state'), 'THAWED');
  assert.equal(isFrozen(rec), false);

  // stats
  const s = stats(rec) as { pids: { current: number; limit: number }; memory: { usage: { usage: number; limit: number } } };
  assert.equal(s.pids.current, 1);
  assert.equal(s.pids.limit, 20);
  assert.equal(s.memory.usage.limit, 64 * 1024 * 1024);
  assert.ok(s.memory.usage.usage > 0);

  // update
  updateResources(rec, { pids: { limit: 30 }, memory: { limit: 32 * 1024 * 1024 } });
  assert.equal(rd('pids', 'pids.max'), '30');
  assert.equal(rd('memory', 'memory.limit_in_bytes'), String(32 * 1024 * 1024));

  // a frozen container is destroyed too: its sleep gets SIGKILL
  freeze(rec);
  const exited = new Promise<string | null>((res) => sleep.once('exit', (_c, sig) => res(sig)));
  const dirs = procsFiles(rec).map(path.dirname);
  destroyCgroup(rec);
  for (const d of dirs) assert.ok(!fs.existsSync(d), `${d} left`);
  assert.equal(await exited, 'SIGKILL');
  destroyCgroup(rec); // idempotent
});

test('setup failure removes the directories it created', { skip }, (t) => {
  const parent = `tsrun-test-${process.pid}-f${Date.now().toString(36)}`;
  t.after(() => cleanup(undefined, parent, []));
  assert.throws(
    () => setupCgroup({ id: 'c1', cgroupsPath: `/${parent}/c1`, resources: { cpu: { cpus: '9999' } } }),
    (e: Error) => e.message.startsWith(`cgroup: write "/sys/fs/cgroup/cpuset/${parent}/c1/cpuset.cpus": `),
  );
  for (const d of parentDirs(parent)) assert.ok(!fs.existsSync(d), `${d} left`);
});

test('a pids limit is enforced', { skip }, (t) => {
  const parent = `tsrun-test-${process.pid}-p${Date.now().toString(36)}`;
  let rec: CgroupRecord | undefined;
  t.after(() => cleanup(rec, parent, []));
  rec = setupCgroup({ id: 'c1', cgroupsPath: `/${parent}/c1`, resources: { pids: { limit: 3 } } });
  const files = procsFiles(rec).join(' ');
  const r = spawnSync('sh', ['-c', `for f in ${files}; do echo $$ > $f; done; for i in 1 2 3 4 5; do sleep 1 & done; wait`], { encoding: 'utf8', timeout: 10000 });
  assert.match(r.stderr, /fork|Resource temporarily unavailable|Cannot fork|can't fork/i);
});
