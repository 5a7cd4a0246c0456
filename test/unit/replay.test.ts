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
import * as crypto from 'crypto';
import { prepareRootfs } from '../../src/runtime/rootfs';
import type { RuntimeContext } from '../../src/runtime/context';
import type { DataOp } from '../../src/image/store';
import { CGO, CGOP, DOP, DOPK, encodeReplay, fnv1a64, generic, notReplayable, parametricId, replayKey, REPLAY, RP, template, type ReplayParts } from '../../src/runtime/replay';
import { sampleRecord } from '../helpers/records';
import { tarOf } from '../helpers/tarfiles';
import { readTlv, tlvU64 } from '../../src/shim/tlv';
import type { Spec } from '../../src/spec/types';

const rec = (): ContainerRecord =>
  sampleRecord({
    annotations: { 'org.example': 'x' },
    args: ['true'],
    cgroup: { mode: 'hybrid', paths: { freezer: '/sys/fs/cgroup/freezer/tsrun/c1', unified: '/sys/fs/cgroup/unified/tsrun/c1' } },
  });

const NOFILE = { cur: 1024n, max: 4096n };

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
    nofile: NOFILE,
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
  assert.equal(tlvU64(m.get(RP.VERSION)![0]), BigInt(REPLAY.VERSION));
  assert.deepEqual(JSON.parse(fill(m.get(RP.STATE_READY)![0], values)), r);
  assert.deepEqual(JSON.parse(fill(m.get(RP.STATE_PID)![0], values)), { ...r, creator: { pid: 777, startTime: 555 } });
  const { cgroup, ...claimed } = r;
  assert.ok(cgroup);
  // the cgroup only once the front saw it free (create.ts onPlanned): a crash before leaves nothing naming it
  assert.deepEqual(JSON.parse(fill(m.get(RP.STATE_CLAIMED)![0], values)), { ...claimed, pid: 0, pidStartTime: 0, creator: { pid: 777, startTime: 555 } });
  assert.deepEqual(JSON.parse(fill(m.get(RP.STATE_CGROUP)![0], values)), { ...r, pid: 0, pidStartTime: 0, creator: { pid: 777, startTime: 555 } });
  for (const t of [RP.STATE_CLAIMED, RP.STATE_CGROUP]) assert.ok(!m.get(t)![0].includes('\x01P'), 'no pid marker before the pid is known');
  assert.deepEqual([tlvU64(m.get(RP.NOFILE_CUR)![0]), tlvU64(m.get(RP.NOFILE_MAX)![0])], [1024n, 4096n], 'the limits of Node\'s shim');
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
    nofile: NOFILE,
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
    // applyV2 read which controllers the new cgroup has: a guard the replay checks there
    { op: 'read', path: p('tsrun/c1/cgroup.controllers'), value: 'cpu pids' },
    { op: 'write', path: p('tsrun/c1/pids.max'), value: '10' },
  ]);
  assert.equal(fs.readFileSync(p('tsrun/cgroup.subtree_control'), 'utf8'), '+cpu +pids', 'the enable did write');
});

test('replay: a 0x01 in the container\'s record (it would read as a marker) means no record', () => {
  const r = rec();
  r.annotations = { a: '\x01P' };
  assert.equal(
    encodeReplay({ inputs: Buffer.alloc(0), config: Buffer.alloc(0), rec: r, configCopy: '', leaves: [], ops: [], plan: Buffer.alloc(0), nofile: NOFILE }),
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
  assert.equal(notReplayable({ spec: spec({ tsrun: { layers: ['a.tar'] } } as Partial<Spec>) }), undefined, 'image layers are replayed');
  assert.equal(notReplayable({ spec: spec({ tsrun: { layers: ['a.tar'], volumes: ['/h:/c'] } } as Partial<Spec>) }), 'volumes');
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

test('replay: other ids: a generated-looking id keys the record by G (each occurrence of it as 0x01 I)', () => {
  const a = 'ab'.repeat(32);
  const b = 'cd'.repeat(32);
  assert.ok(parametricId(a) && parametricId('0'.repeat(32)));
  for (const no of ['0'.repeat(31), 'AB'.repeat(32), `${'a'.repeat(31)}-`, 'web-1', 'g'.repeat(40)]) assert.ok(!parametricId(no), no);
  assert.equal(generic(Buffer.from(`/tsrun/${a}/x${a}`), a).toString('latin1'), '/tsrun/\x01I/x\x01I');
  // left to right, without overlap: 65 a's hold one occurrence of 64 a's
  assert.equal(generic(Buffer.from('a'.repeat(65)), 'a'.repeat(64)).toString('latin1'), '\x01Ia');
  const config = (id: string) => Buffer.from(`{"linux":{"cgroupsPath":"/k8s/${id}"}}`);
  const inputs = (id: string) => Buffer.from(`tsrun-replay 2\nbundle /run/c/${id}\nid ${id}\n`);
  assert.equal(replayKey(inputs(a), config(a), a), replayKey(inputs(b), config(b), b), 'one key for the two containers');
  assert.equal(replayKey(inputs(a), config(a), a), fnv1a64(generic(inputs(a), a), generic(config(a), a)));
  // not G: a short id; a 0x01 in the inputs (the key would not tell it from a marker)
  assert.equal(replayKey(inputs('web-1'), config('web-1'), 'web-1'), fnv1a64(inputs('web-1'), config('web-1')));
  const odd = Buffer.concat([inputs(a), Buffer.from([1])]);
  assert.equal(replayKey(odd, config(a), a), fnv1a64(odd, config(a)));
});

test('replay: other ids: RP_ID is stored only when the key is G\'s and no layer path or digest holds the id', () => {
  const id = 'ef'.repeat(32);
  const withId = (x: Partial<ReplayParts>) => {
    const bytes = encodeReplay(layeredParts({ rec: { ...rec(), id, dataDir: '/d', layers: ['sha256:ab'] }, ...x }));
    assert.ok(bytes);
    return readTlv(bytes).find((e) => e.tag === RP.ID)?.value.toString();
  };
  assert.equal(withId({}), id);
  assert.equal(withId({ dataOps: [...dataOps, { op: 'dir', path: `/d/layers/sha256/${id}` }] }), undefined, 'a layer named like the id');
  assert.equal(withId({ dataOps: [{ op: 'same', path: '/b/x.tar', value: `${id}` }, ...dataOps] }), undefined);
  assert.equal(withId({ config: Buffer.from([0x7b, 1, 0x7d]) }), undefined, 'a 0x01 in config.json: the key is exact');
  // the config names the id as often as its parsed copy does, or the id hides in an escape
  const named = { config: Buffer.from(`{"a":"${id}"}`), configCopy: `{"a":"${id}"}` };
  assert.equal(withId(named), id);
  assert.equal(withId({ config: Buffer.from(`{"a":"\\u0065${id.slice(1)}"}`), configCopy: `{"a":"${id}"}` }), undefined, 'an escaped id');
  assert.equal(encodeReplay(layeredParts()) && readTlv(encodeReplay(layeredParts())!).some((e) => e.tag === RP.ID), false, 'a short id: no RP_ID');
});

const dataOps: DataOp[] = [
  { op: 'same', path: '/b/busybox.tar', value: '2049:1234:5120:1700000000123456789' },
  { op: 'dir', path: '/d/layers/sha256/ab' },
  { op: 'absent', path: '/d/containers/c1' },
  { op: 'mkdir', path: '/d/containers', mode: 0o700 },
  { op: 'write', path: '/d/containers/c1/owner', value: '{"root":"/run/tsrun"}' },
];

function layeredParts(x: Partial<ReplayParts> = {}): ReplayParts {
  return {
    inputs: Buffer.from('tsrun-replay 1\n'),
    config: Buffer.from('{}'),
    rec: { ...rec(), dataDir: '/d', layers: ['sha256:ab'] },
    configCopy: '{}',
    leaves: [],
    ops: [],
    plan: Buffer.alloc(0),
    nofile: NOFILE,
    root: '/run/tsrun',
    dataLock: '/d/store.lock',
    dataOps,
    ...x,
  };
}

test('replay: image layers: RP_DATA_LOCK and one RP_DATA_OP per operation, in order, with its fields', () => {
  const bytes = encodeReplay(layeredParts())!;
  assert.ok(bytes);
  const top = readTlv(bytes);
  assert.deepEqual(top.filter((e) => e.tag === RP.DATA_LOCK).map((e) => e.value.toString()), ['/d/store.lock']);
  const ops = top.filter((e) => e.tag === RP.DATA_OP).map((e) => readTlv(e.value));
  const decoded = ops.map((o) => {
    const get = (t: number) => o.find((e) => e.tag === t)?.value;
    return {
      op: Number(tlvU64(get(DOP.OP)!)),
      path: get(DOP.PATH)!.toString(),
      value: get(DOP.VALUE)?.toString(),
      mode: get(DOP.MODE) ? Number(tlvU64(get(DOP.MODE)!)) : undefined,
    };
  });
  assert.deepEqual(decoded, [
    { op: DOPK.SAME, path: '/b/busybox.tar', value: '2049:1234:5120:1700000000123456789', mode: undefined },
    { op: DOPK.DIR, path: '/d/layers/sha256/ab', value: undefined, mode: undefined },
    { op: DOPK.ABSENT, path: '/d/containers/c1', value: undefined, mode: undefined },
    { op: DOPK.MKDIR, path: '/d/containers', value: undefined, mode: 0o700 },
    { op: DOPK.WRITE, path: '/d/containers/c1/owner', value: '{"root":"/run/tsrun"}', mode: undefined },
  ]);
  // the front record's head carries the write layer of this root: its delete is fast
  const head = top.find((e) => e.tag === RP.FRONT_HEAD)!.value.toString();
  assert.match(head, /\ndelete-fast 1\n/);
  assert.match(head, /\nwrite-layer \/d\/containers\/c1\nwrite-layer-owner \/run\/tsrun\n$/);
  const m = new Map(top.map((e) => [e.tag, e.value]));
  const r = layeredParts().rec;
  const v = { P: r.pid, S: r.pidStartTime, C: r.created, p: 1, s: 2 };
  const [lh, lt, st] = [RP.FRONT_LIVE_HEAD, RP.FRONT_LIVE_TAIL, RP.FRONT_STOPPED].map((t) => fill(m.get(t)!, v));
  const len = (x: string) => Buffer.byteLength(x);
  assert.equal(
    `${fill(m.get(RP.FRONT_HEAD)!, v)}state-live ${len(lh)} ${len(lt)}\n${lh}${lt}\nstate-stopped ${len(st)}\n${st}\nend\n`,
    frontRecord(r, { root: '/run/tsrun' }),
    'the replayed front record is the one StateStore writes',
  );
  // no data ops: no lock either
  assert.equal(readTlv(encodeReplay(layeredParts({ dataOps: [], dataLock: undefined }))!).filter((e) => e.tag === RP.DATA_LOCK).length, 0);
});

test('replay: data ops the front cannot take (no lock, a relative path, a newline) mean no record', () => {
  assert.equal(encodeReplay(layeredParts({ dataLock: undefined })), undefined);
  assert.equal(encodeReplay(layeredParts({ dataLock: 'store.lock' })), undefined);
  assert.equal(encodeReplay(layeredParts({ dataOps: [{ op: 'dir', path: 'rel/dir' }] })), undefined);
  assert.equal(encodeReplay(layeredParts({ dataOps: [{ op: 'absent', path: '/d/containers/a\nb' }] })), undefined);
});

test('replay: prepareRootfs records what it checks and makes under the data dir, in its order; an OCI image is not recorded', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-test-replay-data-'));
  try {
    const bundle = path.join(tmp, 'bundle');
    const layerDir = path.join(tmp, 'layer-dir');
    fs.mkdirSync(bundle);
    fs.mkdirSync(layerDir);
    fs.writeFileSync(path.join(bundle, 'layer.tar'), tarOf({ 'a.txt': 'a' }));
    const ctx = { root: path.join(tmp, 'state'), dataDir: path.join(tmp, 'data'), systemdCgroup: false } as unknown as RuntimeContext;
    const spec = { ociVersion: '1.2.0', root: { path: 'rootfs' }, tsrun: { layers: ['layer.tar', layerDir] } } as unknown as Spec;
    const record: DataOp[] = [];
    const r = { ...rec(), id: 'c1', dataDir: undefined };
    const root = await prepareRootfs(ctx, 'c1', spec, bundle, r, () => {}, record);
    assert.equal(root.unrecorded, undefined);
    assert.equal(root.dataLock, path.join(ctx.dataDir, 'store.lock'));
    const same = (f: string) => {
      const st = fs.statSync(f, { bigint: true });
      return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    };
    const c = path.join(ctx.dataDir, 'containers');
    const owner = fs.readFileSync(path.join(c, 'c1', 'owner'), 'utf8');
    const unpacked = JSON.parse(owner).layers[0].dir;
    assert.deepEqual(record, [
      { op: 'same', path: path.join(bundle, 'layer.tar'), value: same(path.join(bundle, 'layer.tar')) },
      { op: 'dir', path: unpacked },
      { op: 'same', path: layerDir, value: same(layerDir) },
      { op: 'dir', path: layerDir },
      { op: 'absent', path: path.join(c, 'c1') },
      { op: 'mkdir', path: c, mode: 0o700 },
      { op: 'mkdir', path: path.join(c, 'c1'), mode: 0o700 },
      { op: 'mkdir', path: path.join(c, 'c1', 'upper'), mode: 0o755 },
      { op: 'mkdir', path: path.join(c, 'c1', 'work'), mode: 0o700 },
      { op: 'mkdir', path: path.join(c, 'c1', 'merged'), mode: 0o755 },
      { op: 'write', path: path.join(c, 'c1', 'owner'), value: owner },
    ]);
    assert.ok(unpacked.startsWith(path.join(ctx.dataDir, 'layers', 'sha256')));
    // the second time the tar is known: the same ops (the index gives the same dir)
    fs.rmSync(path.join(c, 'c1'), { recursive: true });
    const again: DataOp[] = [];
    await prepareRootfs(ctx, 'c1', spec, bundle, { ...rec(), id: 'c1' }, () => {}, again);
    assert.deepEqual(again, record);
    // an OCI image layout: resolved through its manifests, no record
    const oci = path.join(tmp, 'oci');
    fs.mkdirSync(path.join(oci, 'blobs', 'sha256'), { recursive: true });
    const put = (b: Buffer) => {
      const hex = crypto.createHash('sha256').update(b).digest('hex');
      fs.writeFileSync(path.join(oci, 'blobs', 'sha256', hex), b);
      return { digest: `sha256:${hex}`, size: b.length };
    };
    const layer = tarOf({ 'b.txt': 'b' });
    const l = put(layer);
    const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [l.digest] } })));
    const manifest = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l }],
        }),
      ),
    );
    fs.writeFileSync(path.join(oci, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
    fs.writeFileSync(path.join(oci, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const none: DataOp[] = [];
    const o = await prepareRootfs(ctx, 'c2', { ...spec, tsrun: { layers: [oci] } } as Spec, bundle, { ...rec(), id: 'c2' }, () => {}, none);
    assert.equal(o.unrecorded, 'an OCI image');
    assert.deepEqual(none, []);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

/** A fake cgroup tree under a temp dir (the kernel's files made by hand), removed after the test. */
function fakeTree(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-test-rp-tree-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const [rel, v] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), v);
  }
  return root;
}

const cgOps = (ops: CgroupOp[]) =>
  readTlv(encodeReplay({ ...layeredParts({ dataOps: [], dataLock: undefined }), ops })!)
    .filter((e) => e.tag === RP.CGROUP_OP)
    .map((g) => {
      const f = readTlv(g.value);
      const get = (t: number) => f.find((e) => e.tag === t)?.value;
      return { op: Number(tlvU64(get(CGO.OP)!)), path: get(CGO.PATH)!.toString(), value: get(CGO.VALUE)?.toString(), errno: get(CGO.ERRNO) && Number(tlvU64(get(CGO.ERRNO)!)) };
    });

test('replay: what setupCgroup reads of the host (which files the kernel has, a current value) is recorded where it reads it, as a guard', (t) => {
  // cgroup v1 without blkio.bfq.weight, memsw or cpu.cfs_burst_us: each decides what is written
  const hier = (c: string) => ({ [`${c}/cgroup.procs`]: '', [`${c}/cgroup.sane_behavior`]: '0', [`${c}/tsrun/c1/cgroup.procs`]: '' });
  const root = fakeTree(t, {
    ...hier('blkio'),
    'blkio/tsrun/c1/blkio.weight': '',
    ...hier('memory'),
    'memory/tsrun/c1/memory.limit_in_bytes': '9223372036854771712\n',
    'memory/tsrun/c1/memory.memsw.limit_in_bytes': '',
    ...hier('cpu'),
    'cpu/tsrun/c1/cpu.cfs_burst_us.absent': '',
    'cpu/tsrun/c1/cpu.shares': '',
  });
  fs.rmSync(path.join(root, 'cpu/tsrun/c1/cpu.cfs_burst_us.absent'));
  const ops: CgroupOp[] = [];
  setupCgroup({ id: 'c1', root, skipDevices: true, record: ops, resources: { blockIO: { weight: 300 }, memory: { limit: 2 ** 30, swap: 2 ** 31 }, cpu: { burst: 1000 } } });
  const leaf = (rel: string) => path.join(root, rel);
  const at = (o: CgroupOp) => ops.findIndex((x) => JSON.stringify(x) === JSON.stringify(o));
  const bfq = at({ op: 'exists', path: leaf('blkio/tsrun/c1/blkio.bfq.weight'), value: false });
  const cur = at({ op: 'read', path: leaf('memory/tsrun/c1/memory.limit_in_bytes'), value: '9223372036854771712' });
  const burst = at({ op: 'exists', path: leaf('cpu/tsrun/c1/cpu.cfs_burst_us'), value: false });
  assert.ok(bfq >= 0 && cur >= 0 && burst >= 0, `the guards are recorded: ${JSON.stringify(ops)}`);
  assert.ok(bfq < at({ op: 'write', path: leaf('blkio/tsrun/c1/blkio.weight'), value: '300' }), 'before the write it decided');
  assert.ok(cur < ops.findIndex((o) => o.op === 'write' && o.path.endsWith('memory.limit_in_bytes')), 'before the writes whose order it decided');
  // as the front checks them: CGOP_ABSENT, CGOP_READ
  const enc = cgOps(ops);
  assert.deepEqual(enc.find((o) => o.path.endsWith('blkio.bfq.weight')), { op: CGOP.ABSENT, path: leaf('blkio/tsrun/c1/blkio.bfq.weight'), value: undefined, errno: undefined });
  assert.deepEqual(enc.find((o) => o.op === CGOP.READ), { op: CGOP.READ, path: leaf('memory/tsrun/c1/memory.limit_in_bytes'), value: '9223372036854771712', errno: undefined });
});

test('replay: a write setupCgroup tolerates failing (no memory.swap.max) is recorded with its errno, not as a write the replay must make', (t) => {
  const root = fakeTree(t, {
    'cgroup.controllers': 'memory',
    'cgroup.subtree_control': 'memory',
    'tsrun/cgroup.controllers': 'memory',
    'tsrun/cgroup.subtree_control': 'memory',
    'tsrun/cgroup.events': 'populated 0\n',
    'tsrun/c1/cgroup.events': 'populated 0\n',
    'tsrun/c1/cgroup.controllers': 'memory',
    'tsrun/c1/memory.max': '',
  });
  const ops: CgroupOp[] = [];
  // memory == memory+swap: no swap, "0" written to memory.swap.max; without swap accounting the file is missing, which runc ignores too
  setupCgroup({ id: 'c1', root, skipDevices: true, record: ops, resources: { memory: { limit: 2 ** 26, swap: 2 ** 26 } } });
  const swap = path.join(root, 'tsrun/c1/memory.swap.max');
  assert.deepEqual(ops.find((o) => o.path === swap), { op: 'write', path: swap, value: '0', errno: 2 });
  assert.deepEqual(cgOps(ops).find((o) => o.path === swap), { op: CGOP.WRITE_FAILS, path: swap, value: '0', errno: 2 });
  assert.deepEqual(cgOps(ops).find((o) => o.path.endsWith('memory.max')), { op: CGOP.WRITE, path: path.join(root, 'tsrun/c1/memory.max'), value: String(2 ** 26), errno: undefined });
});
