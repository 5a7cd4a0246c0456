// cgroup setup against fake cgroup trees in a temp dir: the files a real
// kernel would create are created by the test; we check what gets written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cgroupPath, detectMode, procsFiles, setupCgroup, stats, updateResources, v1Hierarchies } from '../../src/cgroups/index';
import { blkioToIoWeight, sharesToWeight, swapToV2 } from '../../src/cgroups/resources';
import { isProtected, setWriteHook } from '../../src/cgroups/fs';
import { UnsupportedError } from '../../src/errors';
import type { Resources } from '../../src/spec/types';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-test-cg-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Creates files: { "memory/tsrun/c1/memory.limit_in_bytes": "" }; "x/": dir; "@a": "b" symlink a -> b. */
function tree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    if (rel.startsWith('@')) {
      fs.symlinkSync(content, path.join(root, rel.slice(1)));
      continue;
    }
    const p = path.join(root, rel);
    if (rel.endsWith('/')) {
      fs.mkdirSync(p, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

function capture(t: { after: (fn: () => void) => void }, root: string): Array<[string, string]> {
  const writes: Array<[string, string]> = [];
  setWriteHook((f, v) => writes.push([path.relative(root, f), v]));
  t.after(() => setWriteHook(undefined));
  return writes;
}

const read = (root: string, rel: string): string => fs.readFileSync(path.join(root, rel), 'utf8');

const V1_LEAF = 'tsrun/c1';
function v1Tree(root: string, opts: { leaf?: boolean } = {}): void {
  const files: Record<string, string> = {
    '@cpu': 'cpu,cpuacct',
    '@cpuacct': 'cpu,cpuacct',
    'cpu,cpuacct/cgroup.procs': '',
    'cpu,cpuacct/cgroup.sane_behavior': '0',
    'memory/cgroup.procs': '',
    'memory/cgroup.sane_behavior': '0',
    'cpuset/cgroup.procs': '',
    'cpuset/cgroup.sane_behavior': '0',
    'cpuset/cpuset.cpus': '0-3\n',
    'cpuset/cpuset.mems': '0\n',
    'cpuset/tsrun/cpuset.cpus': '',
    'cpuset/tsrun/cpuset.mems': '',
    'pids/cgroup.procs': '',
    'pids/cgroup.sane_behavior': '0',
    'devices/cgroup.procs': '',
    'devices/cgroup.sane_behavior': '0',
    'freezer/cgroup.procs': '',
    'freezer/cgroup.sane_behavior': '0',
    'blkio/cgroup.procs': '',
    'blkio/cgroup.sane_behavior': '0',
    'systemd/cgroup.procs': '',
    'systemd/cgroup.sane_behavior': '0',
  };
  if (opts.leaf !== false) {
    Object.assign(files, {
      [`cpu,cpuacct/${V1_LEAF}/cpu.shares`]: '1024',
      [`cpu,cpuacct/${V1_LEAF}/cpu.cfs_quota_us`]: '-1',
      [`cpu,cpuacct/${V1_LEAF}/cpu.cfs_period_us`]: '100000',
      [`cpu,cpuacct/${V1_LEAF}/cpu.cfs_burst_us`]: '0',
      [`memory/${V1_LEAF}/memory.limit_in_bytes`]: '9223372036854771712',
      [`memory/${V1_LEAF}/memory.memsw.limit_in_bytes`]: '9223372036854771712',
      [`memory/${V1_LEAF}/memory.soft_limit_in_bytes`]: '',
      [`memory/${V1_LEAF}/memory.oom_control`]: '',
      [`memory/${V1_LEAF}/memory.swappiness`]: '60',
      [`cpuset/${V1_LEAF}/cpuset.cpus`]: '',
      [`cpuset/${V1_LEAF}/cpuset.mems`]: '',
      [`pids/${V1_LEAF}/pids.max`]: 'max',
      [`devices/${V1_LEAF}/devices.allow`]: '',
      [`devices/${V1_LEAF}/devices.deny`]: '',
      [`freezer/${V1_LEAF}/`]: '',
      [`blkio/${V1_LEAF}/blkio.weight`]: '',
      [`blkio/${V1_LEAF}/blkio.weight_device`]: '',
      [`blkio/${V1_LEAF}/blkio.throttle.read_bps_device`]: '',
      [`blkio/${V1_LEAF}/blkio.throttle.write_iops_device`]: '',
    });
  }
  tree(root, files);
}

const V2_FILES = ['memory.max', 'memory.swap.max', 'memory.low', 'cpu.weight', 'cpu.max', 'cpu.max.burst', 'cpu.idle', 'pids.max', 'io.weight', 'io.max', 'cpuset.cpus', 'cpuset.mems', 'hugetlb.2MB.max', 'cgroup.procs', 'cgroup.freeze'];
function v2Tree(root: string, base = ''): void {
  const files: Record<string, string> = {
    [`${base}cgroup.controllers`]: 'cpuset cpu io memory hugetlb pids',
    [`${base}cgroup.subtree_control`]: 'cpu memory',
    [`${base}tsrun/cgroup.controllers`]: 'cpuset cpu io memory hugetlb pids',
    [`${base}tsrun/cgroup.subtree_control`]: '',
    [`${base}tsrun/cgroup.events`]: 'populated 0\nfrozen 0\n',
    [`${base}tsrun/c1/cgroup.events`]: 'populated 0\nfrozen 0\n',
    [`${base}tsrun/c1/cgroup.controllers`]: 'cpuset cpu io memory hugetlb pids',
  };
  for (const f of V2_FILES) files[`${base}tsrun/c1/${f}`] = '';
  tree(root, files);
}

test('conversions follow runc', () => {
  assert.equal(sharesToWeight(0), 0);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(blkioToIoWeight(10), 1);
  assert.equal(blkioToIoWeight(500), 4950);
  assert.equal(blkioToIoWeight(1000), 10000);
  assert.equal(swapToV2(0, 0), 0);
  assert.equal(swapToV2(0, -1), -1);
  assert.equal(swapToV2(-1, 1000), -1);
  assert.equal(swapToV2(3000, 1000), 2000);
  assert.equal(swapToV2(1000, 1000), 0);
  assert.throws(() => swapToV2(500, 1000), /memory\+swap limit should be >= memory limit/);
  assert.throws(() => swapToV2(500, 0), /without memory limit/);
});

test('cgroupPath: default, absolute, relative (taken from the root), root rejected', () => {
  assert.equal(cgroupPath('abc'), '/tsrun/abc');
  assert.equal(cgroupPath('abc', '/libpod_parent/libpod-abc'), '/libpod_parent/libpod-abc');
  assert.equal(cgroupPath('abc', 'foo/bar'), '/foo/bar');
  assert.equal(cgroupPath('abc', '/a/../../b'), '/b');
  assert.throws(() => cgroupPath('abc', '/'), /names the root cgroup/);
});

test('detectMode: v1, v2, hybrid fake trees; this host', (t) => {
  const v1 = tmp(t);
  v1Tree(v1, { leaf: false });
  assert.equal(detectMode(v1), 'v1');
  const v2 = tmp(t);
  v2Tree(v2);
  assert.equal(detectMode(v2), 'v2');
  const hy = tmp(t);
  v1Tree(hy, { leaf: false });
  tree(hy, { 'unified/cgroup.controllers': '' });
  assert.equal(detectMode(hy), 'hybrid');
  assert.ok(['v1', 'v2', 'hybrid'].includes(detectMode()));
});

test('v1Hierarchies: co-mounted controllers share a dir; the name=systemd hierarchy is one (the container gets its own cgroup there, as with runc)', (t) => {
  const root = tmp(t);
  v1Tree(root, { leaf: false });
  const h = v1Hierarchies(root);
  assert.equal(h.cpu, path.join(root, 'cpu,cpuacct'));
  assert.equal(h.cpuacct, path.join(root, 'cpu,cpuacct'));
  assert.equal(h.memory, path.join(root, 'memory'));
  assert.equal(h.systemd, path.join(root, 'systemd'));
  assert.deepEqual(Object.keys(h).sort(), ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'systemd']);
});

test('setupCgroup v1: paths, resource files, cpuset inheritance, devices', (t) => {
  const root = tmp(t);
  v1Tree(root);
  const writes = capture(t, root);
  const r: Resources = {
    memory: { limit: 2 ** 30, swap: 2 * 2 ** 30, reservation: 2 ** 29, swappiness: 10, disableOOMKiller: true, kernel: 5 },
    cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, mems: '0' },
    pids: { limit: 100 },
    blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }] },
    devices: [{ allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }],
  };
  const rec = setupCgroup({ id: 'c1', resources: r, root });
  assert.equal(rec.mode, 'v1');
  assert.equal(rec.paths.memory, path.join(root, 'memory/tsrun/c1'));
  assert.equal(rec.paths.cpu, path.join(root, 'cpu,cpuacct/tsrun/c1'));
  assert.equal(rec.paths.cpuacct, rec.paths.cpu);
  assert.equal(rec.paths.unified, undefined);
  assert.equal(procsFiles(rec).length, 8); // cpu,cpuacct counted once; name=systemd too
  assert.equal(rec.paths.systemd, path.join(root, 'systemd/tsrun/c1'));
  const leaf = (c: string, f: string): string => read(root, `${c}/${V1_LEAF}/${f}`);
  assert.equal(leaf('memory', 'memory.limit_in_bytes'), String(2 ** 30));
  assert.equal(leaf('memory', 'memory.memsw.limit_in_bytes'), String(2 * 2 ** 30));
  // lowering from unlimited: memory first, then memsw (memory <= memsw at every step)
  const mi = writes.findIndex(([f]) => f.endsWith('memory.limit_in_bytes'));
  const si = writes.findIndex(([f]) => f.endsWith('memory.memsw.limit_in_bytes'));
  assert.ok(mi < si);
  assert.equal(leaf('memory', 'memory.soft_limit_in_bytes'), String(2 ** 29));
  assert.equal(leaf('memory', 'memory.oom_control'), '1');
  assert.equal(leaf('memory', 'memory.swappiness'), '10');
  assert.equal(leaf('cpu,cpuacct', 'cpu.shares'), '512');
  assert.equal(leaf('cpu,cpuacct', 'cpu.cfs_quota_us'), '50000');
  assert.equal(leaf('cpu,cpuacct', 'cpu.cfs_period_us'), '100000');
  assert.equal(leaf('cpu,cpuacct', 'cpu.cfs_burst_us'), '1000');
  assert.equal(leaf('pids', 'pids.max'), '100');
  assert.equal(leaf('blkio', 'blkio.weight'), '300');
  assert.equal(leaf('blkio', 'blkio.weight_device'), '8:0 200');
  assert.equal(leaf('blkio', 'blkio.throttle.read_bps_device'), '8:0 1048576');
  assert.equal(leaf('blkio', 'blkio.throttle.write_iops_device'), '8:0 100');
  // cpuset: copied down level by level, then mems from the config
  assert.equal(read(root, 'cpuset/tsrun/cpuset.cpus'), '0-3');
  assert.equal(leaf('cpuset', 'cpuset.cpus'), '0-3');
  assert.equal(leaf('cpuset', 'cpuset.mems'), '0');
  // devices
  const dev = writes.filter(([f]) => f.startsWith('devices/'));
  assert.deepEqual(dev[0], [`devices/${V1_LEAF}/devices.deny`, 'a']);
  assert.ok(dev.some(([f, v]) => f.endsWith('devices.allow') && v === 'c 1:3 rwm'));
  // the config's deny of /dev/full: the default allow of it is never written (the end state, not the steps)
  assert.ok(!dev.some(([, v]) => v.startsWith('c 1:7 ')));
  // nothing written to a hierarchy root
  for (const [f] of writes) assert.ok(f.split('/').length > 2, `root write ${f}`);
});

test('updateResources v1: lowering memory writes memory before memsw', (t) => {
  const root = tmp(t);
  v1Tree(root);
  const rec = setupCgroup({ id: 'c1', root, skipDevices: true, resources: { memory: { limit: 2000000, swap: 4000000 } } });
  const writes = capture(t, root);
  updateResources(rec, { memory: { limit: 1000000, swap: 1500000 } });
  assert.deepEqual(
    writes.map(([f, v]) => [path.basename(f), v]),
    [
      ['memory.limit_in_bytes', '1000000'],
      ['memory.memsw.limit_in_bytes', '1500000'],
    ],
  );
  writes.length = 0;
  updateResources(rec, { pids: { limit: 0 } });
  assert.deepEqual(writes.map(([f, v]) => [path.basename(f), v]), [['pids.max', 'max']]);
});

test('setupCgroup v1: unified resources require cgroup v2; failure removes what it created', (t) => {
  const root = tmp(t);
  v1Tree(root, { leaf: false });
  assert.throws(
    () => setupCgroup({ id: 'c2', root, skipDevices: true, resources: { unified: { 'memory.high': '1M' } } }),
    (e: Error) => e instanceof UnsupportedError && /unified resources require cgroup v2/.test(e.message),
  );
  for (const c of ['memory', 'pids', 'cpu,cpuacct', 'cpuset', 'devices', 'freezer', 'blkio']) {
    assert.ok(!fs.existsSync(path.join(root, c, 'tsrun/c2')), `${c}/tsrun/c2 left behind`);
  }
  // a file the kernel does not offer is named, and said to be one; tsrun/ itself is left (it existed before in cpuset)
  assert.throws(
    () => setupCgroup({ id: 'c3', root, skipDevices: true, resources: { memory: { limit: 1000 } } }),
    (e: Error) =>
      e.message ===
      `cgroup: this host has no "memory.limit_in_bytes" in ${path.join(root, 'memory/tsrun/c3')}: its kernel does not offer that setting; remove it from linux.resources`,
  );
  assert.ok(!fs.existsSync(path.join(root, 'memory/tsrun')));
  assert.ok(fs.existsSync(path.join(root, 'cpuset/tsrun')));
});

test('setupCgroup v2: files and conversions, controllers enabled below the root only', (t) => {
  const root = tmp(t);
  v2Tree(root);
  const writes = capture(t, root);
  const r: Resources = {
    memory: { limit: 2 ** 30, swap: 3 * 2 ** 30, reservation: 2 ** 28, swappiness: 10, disableOOMKiller: true },
    cpu: { shares: 1024, quota: 20000, period: 100000, burst: 500, cpus: '0-1', idle: 0 },
    pids: { limit: -1 },
    blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 100 }], throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 200 }], throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 7 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    unified: { 'memory.high': '900000000' },
  };
  tree(root, { 'tsrun/c1/memory.high': '' });
  const rec = setupCgroup({ id: 'c1', resources: r, root, skipDevices: true });
  assert.deepEqual(rec, { mode: 'v2', paths: { unified: path.join(root, 'tsrun/c1') } });
  const leaf = (f: string): string => read(root, `tsrun/c1/${f}`);
  assert.equal(leaf('memory.max'), String(2 ** 30));
  assert.equal(leaf('memory.swap.max'), String(2 * 2 ** 30));
  assert.equal(leaf('memory.low'), String(2 ** 28));
  assert.equal(leaf('cpu.weight'), '39');
  assert.equal(leaf('cpu.max'), '20000 100000');
  assert.equal(leaf('cpu.max.burst'), '500');
  assert.equal(leaf('cpu.idle'), '0');
  assert.equal(leaf('cpuset.cpus'), '0-1');
  assert.equal(leaf('pids.max'), 'max');
  assert.equal(leaf('io.weight'), '4950');
  assert.deepEqual(
    writes.filter(([f]) => f.endsWith('io.max')).map(([, v]) => v),
    ['8:0 rbps=100 wbps=200', '8:16 riops=7'],
  );
  assert.equal(leaf('hugetlb.2MB.max'), '4194304');
  assert.equal(leaf('memory.high'), '900000000');
  assert.ok(!writes.some(([f]) => /swappiness|oom/.test(f)));
  // tsrun/ gets every available controller; the root's subtree_control is never written
  assert.equal(read(root, 'tsrun/cgroup.subtree_control'), '+cpuset +cpu +io +memory +hugetlb +pids');
  assert.equal(read(root, 'cgroup.subtree_control'), 'cpu memory');
  assert.ok(!writes.some(([f]) => f === 'cgroup.subtree_control'));
});

test('setupCgroup v2: cpu.max "max period", memory == swap disables swap, unknown unified controller', (t) => {
  const root = tmp(t);
  v2Tree(root);
  setupCgroup({ id: 'c1', root, skipDevices: true, resources: { cpu: { period: 50000 }, memory: { limit: 1000000, swap: 1000000 } } });
  assert.equal(read(root, 'tsrun/c1/cpu.max'), 'max 50000');
  assert.equal(read(root, 'tsrun/c1/memory.swap.max'), '0');
  assert.throws(
    () => setupCgroup({ id: 'c1', root, skipDevices: true, resources: { unified: { 'rdma.max': 'x' } } }),
    /controller "rdma" is not available/,
  );
});

test('setupCgroup hybrid: v1 controllers plus the unified dir; unified keys need an enabled controller', (t) => {
  const root = tmp(t);
  v1Tree(root);
  tree(root, { 'unified/cgroup.controllers': '', 'unified/cgroup.subtree_control': '', [`unified/${V1_LEAF}/cgroup.events`]: 'populated 0\n', [`unified/${V1_LEAF}/cgroup.controllers`]: '' });
  const rec = setupCgroup({ id: 'c1', root, skipDevices: true, resources: { pids: { limit: 5 } } });
  assert.equal(rec.mode, 'hybrid');
  assert.equal(rec.paths.unified, path.join(root, 'unified', V1_LEAF));
  assert.equal(rec.paths.pids, path.join(root, 'pids', V1_LEAF));
  assert.equal(read(root, `pids/${V1_LEAF}/pids.max`), '5');
  assert.ok(procsFiles(rec).includes(path.join(root, 'unified', V1_LEAF, 'cgroup.procs')));
  assert.throws(
    () => updateResources(rec, { unified: { 'memory.max': '1' } }),
    /controller "memory" is not available .*bound to cgroup v1/,
  );
});

test('systemd driver: clear UnsupportedError on a host without systemd', { skip: fs.existsSync('/run/systemd/system') }, (t) => {
  const root = tmp(t);
  v2Tree(root);
  for (const o of [{ systemd: true }, { cgroupsPath: 'machine.slice:libpod:abc' }]) {
    assert.throws(
      () => setupCgroup({ id: 'x', root, ...o }),
      (e: Error) => e instanceof UnsupportedError && e.message.includes('this host is not running systemd'),
    );
  }
  assert.ok(!fs.existsSync(path.join(root, 'tsrun/x')));
});

test('protected cgroups and root cgroup files are refused', (t) => {
  const root = tmp(t);
  v2Tree(root);
  assert.ok(isProtected('/sys/fs/cgroup/memory/process_api/abc'));
  assert.ok(!isProtected('/sys/fs/cgroup/memory/tsrun/abc'));
  // on this (hybrid) host the real path is refused before anything is created
  if (fs.existsSync('/sys/fs/cgroup/memory/process_api') && detectMode() !== 'v2') {
    assert.throws(() => setupCgroup({ id: 'x', root: '/sys/fs/cgroup', cgroupsPath: '/process_api/x', skipDevices: true }), /protected cgroup|runtime's own/);
    assert.ok(!fs.existsSync('/sys/fs/cgroup/memory/process_api/x'));
    assert.ok(!fs.existsSync('/sys/fs/cgroup/pids/process_api'));
  }
  const rec = { mode: 'v2' as const, paths: { unified: root } };
  assert.throws(() => updateResources(rec, { pids: { limit: 3 } }), /refusing to write .*root cgroup/);
});

test('stats: v1 and v2 shapes from fake files', (t) => {
  const v1 = tmp(t);
  v1Tree(v1);
  tree(v1, {
    [`cpu,cpuacct/${V1_LEAF}/cpuacct.usage`]: '123456',
    [`cpu,cpuacct/${V1_LEAF}/cpuacct.usage_percpu`]: '100000 23456',
    [`cpu,cpuacct/${V1_LEAF}/cpuacct.stat`]: 'user 3\nsystem 1\n',
    [`cpu,cpuacct/${V1_LEAF}/cpu.stat`]: 'nr_periods 10\nnr_throttled 2\nthrottled_time 999\n',
    [`memory/${V1_LEAF}/memory.usage_in_bytes`]: '4096',
    [`memory/${V1_LEAF}/memory.failcnt`]: '0',
    [`memory/${V1_LEAF}/memory.stat`]: 'cache 100\ntotal_cache 200\nrss 300\n',
    [`pids/${V1_LEAF}/pids.current`]: '3',
  });
  const rec1 = setupCgroup({ id: 'c1', root: v1, skipDevices: true });
  const s1 = stats(rec1) as any;
  assert.equal(s1.cpu.usage.total, 123456);
  assert.deepEqual(s1.cpu.usage.percpu, [100000, 23456]);
  assert.equal(s1.cpu.usage.user, 30000000);
  assert.equal(s1.cpu.usage.kernel, 10000000);
  assert.deepEqual(s1.cpu.throttling, { periods: 10, throttledPeriods: 2, throttledTime: 999 });
  assert.equal(s1.memory.cache, 200);
  assert.equal(s1.memory.usage.usage, 4096);
  assert.equal(s1.memory.usage.limit, 9223372036854771712);
  assert.equal(s1.memory.raw.rss, 300);
  assert.deepEqual(s1.pids, { current: 3 });

  const v2 = tmp(t);
  v2Tree(v2);
  tree(v2, {
    'tsrun/c1/cpu.stat': 'usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 0\n',
    'tsrun/c1/memory.current': '8192',
    'tsrun/c1/memory.max': 'max',
    'tsrun/c1/memory.stat': 'anon 4096\nfile 4096\n',
    'tsrun/c1/memory.events': 'low 0\nhigh 0\nmax 4\noom 0\n',
    'tsrun/c1/pids.current': '2',
    'tsrun/c1/pids.max': '50',
    'tsrun/c1/io.stat': '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n',
  });
  const rec2 = { mode: 'v2' as const, paths: { unified: path.join(v2, 'tsrun/c1') } };
  const s2 = stats(rec2) as any;
  assert.deepEqual(s2.cpu.usage, { total: 5000, kernel: 2000, user: 3000 });
  assert.equal(s2.memory.usage.usage, 8192);
  assert.equal(s2.memory.usage.failcnt, 4);
  assert.equal(s2.memory.cache, 4096);
  assert.deepEqual(s2.pids, { current: 2, limit: 50 });
  assert.deepEqual(s2.blkio.ioServiceBytesRecursive, [
    { major: 8, op: 'Read', value: 10 },
    { major: 8, op: 'Write', value: 20 },
  ]);
  assert.deepEqual(Object.keys(s2).sort(), ['blkio', 'cpu', 'hugetlb', 'memory', 'pids']);
});

test('updateResources v1: raising memory above the current limit writes memsw first', (t) => {
  const root = tmp(t);
  v1Tree(root);
  const rec = setupCgroup({ id: 'c1', root, skipDevices: true, resources: { memory: { limit: 1000000, swap: 1500000 } } });
  const writes = capture(t, root);
  updateResources(rec, { memory: { limit: 3000000, swap: 4000000 } });
  assert.deepEqual(
    writes.map(([f, v]) => [path.basename(f), v]),
    [
      ['memory.memsw.limit_in_bytes', '4000000'],
      ['memory.limit_in_bytes', '3000000'],
    ],
  );
});
