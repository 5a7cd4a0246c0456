// The front record (src/runtime/front-record.ts): what TypeScript writes for
// the C front end (native-shim/front) next to state.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { emptyParents, FRONT_FILE, frontRecord, stateText } from '../../src/runtime/front-record';
import type { ContainerRecord } from '../../src/runtime/record';
import { StateStore } from '../../src/runtime/store';
import { sampleRecord } from '../helpers/records';

const ROOTS = new Set(['/sys/fs/cgroup/freezer', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/unified', '/sys/fs/cgroup/cpu,cpuacct']);
const isRoot = (d: string) => ROOTS.has(d);

const base = (): ContainerRecord => sampleRecord();

const hybrid = {
  mode: 'hybrid' as const,
  paths: {
    cpu: '/sys/fs/cgroup/cpu,cpuacct/tsrun/c1',
    cpuacct: '/sys/fs/cgroup/cpu,cpuacct/tsrun/c1',
    freezer: '/sys/fs/cgroup/freezer/tsrun/c1',
    memory: '/sys/fs/cgroup/memory/a/b/c1',
    unified: '/sys/fs/cgroup/unified/tsrun/c1',
  },
};

/** The parts of a record: lines before the blobs, the live state around the status, the stopped state. */
function parse(text: string) {
  const m = /^([\s\S]*?)\nstate-live (\d+) (\d+)\n/.exec(text)!;
  assert.ok(m, 'a state-live line');
  const buf = Buffer.from(text);
  let at = Buffer.byteLength(m[0]);
  const h = Number(m[2]);
  const t = Number(m[3]);
  const head = buf.subarray(at, at + h).toString();
  const tail = buf.subarray(at + h, at + h + t).toString();
  at += h + t;
  assert.equal(buf[at], 0x0a);
  const rest = buf.subarray(at + 1).toString();
  const s = /^state-stopped (\d+)\n/.exec(rest)!;
  assert.ok(s, 'a state-stopped line');
  const sb = Buffer.from(rest).subarray(Buffer.byteLength(s[0]));
  const stopped = sb.subarray(0, Number(s[1])).toString();
  assert.equal(sb.subarray(Number(s[1])).toString(), '\nend\n');
  return { lines: m[1].split('\n'), head, tail, stopped };
}

test('front record: none until the record is complete (pid known, create finished)', () => {
  assert.equal(frontRecord({ ...base(), pid: 0, pidStartTime: 0 }, { isRoot }), undefined);
  assert.equal(frontRecord({ ...base(), creator: { pid: 1, startTime: 2 } }, { isRoot }), undefined);
  assert.notEqual(frontRecord(base(), { isRoot }), undefined);
});

test('front record: hybrid cgroups, the rmdir order of destroyCgroup and the parents it would remove', () => {
  const p = parse(frontRecord({ ...base(), cgroup: hybrid }, { isRoot })!);
  assert.deepEqual(p.lines, [
    'tsrun-front 1',
    'pid 4242',
    'start-time 987654',
    'freezer v1 /sys/fs/cgroup/freezer/tsrun/c1',
    'start-fast 1',
    'delete-fast 1',
    // co-mounted cpu,cpuacct once
    'rmdir /sys/fs/cgroup/cpu,cpuacct/tsrun/c1',
    'rmdir /sys/fs/cgroup/freezer/tsrun/c1',
    'rmdir /sys/fs/cgroup/memory/a/b/c1',
    'rmdir /sys/fs/cgroup/unified/tsrun/c1',
    'up 0 /sys/fs/cgroup/cpu,cpuacct/tsrun',
    'up 1 /sys/fs/cgroup/freezer/tsrun',
    'up 2 /sys/fs/cgroup/memory/a/b',
    'up 2 /sys/fs/cgroup/memory/a',
    'up 3 /sys/fs/cgroup/unified/tsrun',
  ]);
});

test('front record: the state bytes are what `tsrun state` prints, for every status', () => {
  const rec = { ...base(), cgroup: hybrid, annotations: { a: 'x', 'tricky\n  "status": "': '\n  "status": "running"' } };
  const p = parse(frontRecord(rec, { isRoot })!);
  for (const s of ['created', 'running', 'paused'] as const) assert.equal(p.head + s + p.tail, stateText(rec, s));
  assert.equal(p.stopped, stateText(rec, 'stopped'));
  assert.match(p.stopped, /"pid": 0,\n {2}"status": "stopped"/);
  // non-ASCII: the lengths are bytes
  const u = { ...base(), bundle: '/bündel/ü', annotations: { 'ключ': 'значение ✓' } };
  const q = parse(frontRecord(u, { isRoot })!);
  assert.equal(q.head + 'running' + q.tail, stateText(u, 'running'));
  assert.equal(q.stopped, stateText(u, 'stopped'));
});

test('front record: v2 and no cgroup', () => {
  const v2 = { mode: 'v2' as const, paths: { unified: '/sys/fs/cgroup/tsrun/c1' } };
  const roots = (d: string) => d === '/sys/fs/cgroup';
  assert.deepEqual(parse(frontRecord({ ...base(), cgroup: v2 }, { isRoot: roots })!).lines.slice(3), [
    'freezer v2 /sys/fs/cgroup/tsrun/c1',
    'start-fast 1',
    'delete-fast 1',
    'rmdir /sys/fs/cgroup/tsrun/c1',
    'up 0 /sys/fs/cgroup/tsrun',
  ]);
  assert.deepEqual(parse(frontRecord(base(), { isRoot })!).lines.slice(3), ['freezer none', 'start-fast 1', 'delete-fast 1']);
  // removeEmptyParents stays under /sys/fs/cgroup/ and stops at a root cgroup
  assert.deepEqual(emptyParents('/sys/fs/cgroup/memory/x/y', isRoot), ['/sys/fs/cgroup/memory/x']);
  assert.deepEqual(emptyParents('/elsewhere/x/y', isRoot), []);
});

test('front record: hooks, a write layer of an unknown --root, a shared pid namespace make start or delete go to TypeScript', () => {
  const hook = [{ path: '/bin/true' }];
  const lines = (r: ContainerRecord) => parse(frontRecord(r, { isRoot })!).lines;
  assert.ok(lines({ ...base(), hooks: { poststart: hook } }).includes('start-fast 0'));
  assert.ok(lines({ ...base(), hooks: { poststart: hook } }).includes('delete-fast 1'));
  for (const r of [
    { ...base(), cgroup: hybrid, hooks: { poststop: hook } },
    { ...base(), cgroup: hybrid, dataDir: '/var/lib/tsrun', layers: ['sha256:ab'] },
    { ...base(), cgroup: hybrid, sharedPidNamespace: true },
    { ...base(), cgroup: { mode: 'v1' as const, paths: { memory: '/sys/fs/cgroup/memory/process_api/x' } } },
  ]) {
    const l = lines(r);
    assert.ok(l.includes('delete-fast 0'), JSON.stringify(r));
    assert.ok(l.includes('start-fast 1'));
    assert.ok(!l.some((x) => x.startsWith('rmdir ') || x.startsWith('up ')), 'no cgroup list when delete is not fast');
  }
  // a path the line format cannot carry: no record at all
  assert.equal(frontRecord({ ...base(), cgroup: { mode: 'v1', paths: { memory: '/sys/fs/cgroup/memory/a\nb' } } }, { isRoot }), undefined);
});

test('front record: a write layer this --root owns is removed by a fast delete (write-layer lines after the cgroups)', () => {
  const layered = { ...base(), cgroup: hybrid, dataDir: '/var/lib/tsrun', layers: ['sha256:ab'] };
  const l = parse(frontRecord(layered, { isRoot, root: '/run/x/../tsrun/' })!).lines;
  assert.ok(l.includes('delete-fast 1'), l.join('\n'));
  assert.deepEqual(l.slice(-2), ['write-layer /var/lib/tsrun/containers/c1', 'write-layer-owner /run/tsrun'], 'the root resolved');
  assert.ok(l.indexOf('write-layer /var/lib/tsrun/containers/c1') > l.findIndex((x) => x.startsWith('up ')));
  // the front compares the owner file's bytes: a root JSON would escape, or no root known, is Node's
  for (const root of [undefined, '/run/"q"', '/run/back\\slash', '/run/tab\tx']) {
    const m = parse(frontRecord(layered, { isRoot, root })!).lines;
    assert.ok(m.includes('delete-fast 0'), String(root));
    assert.ok(!m.some((x) => x.startsWith('write-layer')), String(root));
  }
  // what the owner file holds begins as the front checks it
  const owner = JSON.stringify({ root: '/run/tsrun', layers: [{ digest: 'sha256:ab', dir: '/d' }] });
  assert.ok(owner.startsWith('{"root":"/run/tsrun",'));
  // no write layer: no write-layer line
  assert.ok(!parse(frontRecord({ ...base(), cgroup: hybrid }, { isRoot, root: '/run/tsrun' })!).lines.some((x) => x.startsWith('write-layer')));
});

test('StateStore.write: the front record follows state.json, and goes while the record is incomplete', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-test-front-record-'));
  try {
    const st = new StateStore(root);
    st.claim('c1').release();
    const front = path.join(root, 'c1', FRONT_FILE);
    st.write({ ...base(), pid: 0, pidStartTime: 0, creator: { pid: 1, startTime: 1 } });
    assert.equal(fs.existsSync(front), false, 'no front record during create');
    st.write(base());
    assert.equal(fs.readFileSync(front, 'utf8'), frontRecord(base()));
    st.write({ ...base(), dataDir: '/d', layers: ['sha256:ab'] });
    assert.match(fs.readFileSync(front, 'utf8'), new RegExp(`\nwrite-layer /d/containers/c1\nwrite-layer-owner ${root}\n`), 'the store names its root');
    st.write({ ...base(), creator: { pid: 1, startTime: 1 } });
    assert.equal(fs.existsSync(front), false, 'an incomplete record removes it');
    assert.deepEqual(fs.readdirSync(path.join(root, 'c1')).sort(), ['state.json'], 'no temp file left');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
