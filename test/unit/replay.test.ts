// Replay records (src/runtime/replay.ts; native-shim/include/replay.h is the
// format): the templates must give, once the front has put the values in,
// exactly what TypeScript writes for the same container.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setupCgroup, type CgroupOp } from '../../src/cgroups';
import { frontRecord } from '../../src/runtime/front-record';
import type { ContainerRecord } from '../../src/runtime/record';
import { CGO, CGOP, encodeReplay, fnv1a64, notReplayable, RP, template } from '../../src/runtime/replay';
import { readTlv, tlvU64 } from '../../src/shim/tlv';
import type { Spec } from '../../src/spec/types';

const rec = (): ContainerRecord => ({
  ociVersion: '1.2.0',
  id: 'c1',
  pid: 4242,
  pidStartTime: 987654,
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2026-11-23T10:05:02.538123456Z',
  owner: '',
  annotations: { 'org.example': 'x' },
  args: ['true'],
  hooks: {},
  cgroup: { mode: 'hybrid', paths: { freezer: '/sys/fs/cgroup/freezer/tsrun/c1', unified: '/sys/fs/cgroup/unified/tsrun/c1' } },
});

/** What the front does with a template (replay.c): each 0x01 + letter becomes its value. */
function fill(t: Buffer, v: Record<string, string | number>): string {
  return t.toString('utf8').replace(/\x01([A-Za-z])/g, (_, l: string) => {
    assert.ok(l in v, `marker ${l} has a value here`);
    return String(v[l]);
  });
}

function parts(r: ContainerRecord) {
  const bytes = encodeReplay({
    inputs: Buffer.from('tsrun-replay 1\nverb create\n'),
    config: Buffer.from('{"ociVersion":"1.2.0"}'),
    rec: r,
    configCopy: '{}',
    leaves: ['/sys/fs/cgroup/freezer/tsrun/c1'],
    ops: [
      { op: 'mkdir', path: '/sys/fs/cgroup/freezer/tsrun' },
      { op: 'inherit', path: '/sys/fs/cgroup/cpuset/tsrun', parent: '/sys/fs/cgroup/cpuset' },
      { op: 'write', path: '/sys/fs/cgroup/pids/tsrun/c1/pids.max', value: '10' },
    ],
    plan: Buffer.from([1, 2, 3]),
  });
  assert.ok(bytes, 'the record is made');
  const m = new Map<number, Buffer[]>();
  for (const e of readTlv(bytes)) m.set(e.tag, [...(m.get(e.tag) ?? []), e.value]);
  return m;
}

test('replay: the filled templates are what TypeScript writes for the same container', () => {
  const r = rec();
  const m = parts(r);
  const values = { P: r.pid, S: r.pidStartTime, C: r.created, p: 777, s: 555 };
  assert.equal(tlvU64(m.get(RP.VERSION)![0]), 1n);
  assert.deepEqual(JSON.parse(fill(m.get(RP.STATE_READY)![0], values)), r);
  assert.deepEqual(JSON.parse(fill(m.get(RP.STATE_PID)![0], values)), { ...r, creator: { pid: 777, startTime: 555 } });
  assert.deepEqual(JSON.parse(fill(m.get(RP.STATE_CLAIMED)![0], values)), { ...r, pid: 0, pidStartTime: 0, creator: { pid: 777, startTime: 555 } });
  assert.ok(!m.get(RP.STATE_CLAIMED)![0].includes('\x01P'), 'no pid marker before the pid is known');
  // the front record: the front writes the state-live/state-stopped lines with the filled lengths
  const lh = fill(m.get(RP.FRONT_LIVE_HEAD)![0], values);
  const lt = fill(m.get(RP.FRONT_LIVE_TAIL)![0], values);
  const st = fill(m.get(RP.FRONT_STOPPED)![0], values);
  const len = (s: string) => Buffer.byteLength(s);
  const front = `${fill(m.get(RP.FRONT_HEAD)![0], values)}state-live ${len(lh)} ${len(lt)}\n${lh}${lt}\nstate-stopped ${len(st)}\n${st}\nend\n`;
  assert.equal(front, frontRecord(r));
  const ops = m.get(RP.CGROUP_OP)!.map((g) => readTlv(g));
  assert.deepEqual(
    ops.map((o) => Number(tlvU64(o.find((e) => e.tag === CGO.OP)!.value))),
    [CGOP.MKDIR, CGOP.INHERIT, CGOP.WRITE],
  );
  assert.equal(ops[2].find((e) => e.tag === CGO.VALUE)!.value.toString(), '10');
  assert.deepEqual(m.get(RP.PLAN), [Buffer.from([1, 2, 3])]);
});

test('replay: the cgroup v2 ops: enable (a path only) and device-filter (the bpf_insn bytes, verbatim)', () => {
  const insns = Buffer.from([0xb7, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x95, 0, 0, 0, 0, 0, 0, 0]);
  const bytes = encodeReplay({
    inputs: Buffer.from('tsrun-replay 1\n'),
    config: Buffer.from('{}'),
    rec: { ...rec(), cgroup: { mode: 'v2', paths: { unified: '/sys/fs/cgroup/tsrun/c1' } } },
    configCopy: '{}',
    leaves: ['/sys/fs/cgroup/tsrun/c1'],
    ops: [
      { op: 'mkdir', path: '/sys/fs/cgroup/tsrun' },
      { op: 'enable', path: '/sys/fs/cgroup' },
      { op: 'mkdir', path: '/sys/fs/cgroup/tsrun/c1' },
      { op: 'enable', path: '/sys/fs/cgroup/tsrun' },
      { op: 'write', path: '/sys/fs/cgroup/tsrun/c1/pids.max', value: '10' },
      { op: 'device-filter', path: '/sys/fs/cgroup/tsrun/c1', value: insns },
    ],
    plan: Buffer.alloc(0),
  });
  assert.ok(bytes);
  const ops = readTlv(bytes)
    .filter((e) => e.tag === RP.CGROUP_OP)
    .map((g) => readTlv(g.value).map((e) => [e.tag, e.tag === CGO.OP ? Number(tlvU64(e.value)) : e.value] as const));
  assert.deepEqual(ops, [
    [[CGO.OP, CGOP.MKDIR], [CGO.PATH, Buffer.from('/sys/fs/cgroup/tsrun')]],
    [[CGO.OP, CGOP.ENABLE], [CGO.PATH, Buffer.from('/sys/fs/cgroup')]],
    [[CGO.OP, CGOP.MKDIR], [CGO.PATH, Buffer.from('/sys/fs/cgroup/tsrun/c1')]],
    [[CGO.OP, CGOP.ENABLE], [CGO.PATH, Buffer.from('/sys/fs/cgroup/tsrun')]],
    [[CGO.OP, CGOP.WRITE], [CGO.PATH, Buffer.from('/sys/fs/cgroup/tsrun/c1/pids.max')], [CGO.VALUE, Buffer.from('10')]],
    [[CGO.OP, CGOP.DEVICE_FILTER], [CGO.PATH, Buffer.from('/sys/fs/cgroup/tsrun/c1')], [CGO.VALUE, insns]],
  ]);
});

test('replay: setupCgroup on cgroup v2 records each enableControllers as one op, not its writes', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-test-rp-v2-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const put = (rel: string, v: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), v);
  };
  // a fake v2 tree (cgroups-fs.test.ts does the same): the kernel's files, made by hand
  put('cgroup.controllers', 'cpu pids');
  put('cgroup.subtree_control', 'cpu pids');
  put('tsrun/cgroup.controllers', 'cpu pids');
  put('tsrun/cgroup.subtree_control', '');
  put('tsrun/cgroup.events', 'populated 0\n');
  put('tsrun/c1/cgroup.events', 'populated 0\n');
  put('tsrun/c1/cgroup.controllers', 'cpu pids');
  put('tsrun/c1/pids.max', '');
  const ops: CgroupOp[] = [];
  const cg = setupCgroup({ id: 'c1', root, skipDevices: true, resources: { pids: { limit: 10 } }, record: ops });
  assert.equal(cg.mode, 'v2');
  const p = (rel: string) => path.join(root, rel);
  assert.deepEqual(ops, [
    { op: 'mkdir', path: p('tsrun') },
    { op: 'enable', path: root },
    { op: 'mkdir', path: p('tsrun/c1') },
    { op: 'enable', path: p('tsrun') },
    { op: 'write', path: p('tsrun/c1/pids.max'), value: '10' },
  ]);
  assert.equal(fs.readFileSync(p('tsrun/cgroup.subtree_control'), 'utf8'), '+cpu +pids', 'the enable did write');
});

test('replay: a 0x01 in the container\'s record (it would read as a marker) means no record', () => {
  const r = rec();
  r.annotations = { a: '\x01P' };
  assert.equal(
    encodeReplay({ inputs: Buffer.alloc(0), config: Buffer.alloc(0), rec: r, configCopy: '', leaves: [], ops: [], plan: Buffer.alloc(0) }),
    undefined,
  );
});

test('replay: template() turns marker strings into raw markers, numbers without quotes', () => {
  const t = template(JSON.stringify({ pid: '\x01P', created: '\x01C', text: 'a\\u0001P' }));
  assert.equal(t.toString(), '{"pid":\x01P,"created":"\x01C","text":"a\\\\u0001P"}');
});

test('replay: what needs Node at create time is not replayable', () => {
  const spec = (x: Partial<Spec> = {}): Spec => ({ ociVersion: '1.2.0', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' }, ...x }) as Spec;
  assert.equal(notReplayable({ spec: spec() }), undefined);
  assert.equal(notReplayable({ spec: spec({ hooks: { poststop: [{ path: '/bin/true' }] } }) }), 'hooks');
  assert.equal(notReplayable({ spec: spec({ tsrun: { layers: ['a.tar'] } } as Partial<Spec>) }), 'image layers or volumes');
  assert.equal(notReplayable({ spec: spec({ process: { args: ['sh'], cwd: '/', terminal: true } } as Partial<Spec>) }), 'a terminal');
  assert.equal(notReplayable({ spec: spec(), preserveFds: 2 }), 'create flags');
  assert.equal(notReplayable({ spec: spec(), logFile: true }), 'create flags');
  assert.equal(notReplayable({ spec: spec(), systemdCgroup: true }), 'the systemd cgroup driver');
});

test('replay: the key is the 64-bit FNV-1a of inputs and config bytes (as the C front computes it)', () => {
  assert.equal(fnv1a64(Buffer.alloc(0)), 'cbf29ce484222325');
  assert.equal(fnv1a64(Buffer.from('a')), 'af63dc4c8601ec8c');
  assert.equal(fnv1a64(Buffer.from('foo'), Buffer.from('bar')), fnv1a64(Buffer.from('foobar')));
});
