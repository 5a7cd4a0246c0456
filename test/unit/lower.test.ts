import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lowerSpec, CLONE } from '../../src/shim/lower';
import { MS, parseMountOptions } from '../../src/shim/mountopts';
import { PLAN, PLAN_FLAG, MT, DV, NSJ } from '../../src/shim/protocol';
import { readTlv, tlvU64, type TlvEntry } from '../../src/shim/tlv';
import type { Spec } from '../../src/spec/types';

const spec = (): Spec => ({
  ociVersion: '1.2.0',
  process: { user: { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o22 }, args: ['sh', '-c', 'true'], env: ['A=1'], cwd: '/tmp' },
  root: { path: 'rootfs', readonly: true },
  hostname: 'h',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro', 'nosuid', 'rprivate'] },
  ],
  linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: '/run/netns/x' }] },
});

const all = (es: TlvEntry[], tag: number) => es.filter((e) => e.tag === tag);
const one = (es: TlvEntry[], tag: number) => {
  const f = all(es, tag);
  assert.equal(f.length, 1, `one entry with tag ${tag}`);
  return f[0].value;
};
const str = (b: Buffer) => b.toString('utf8');
const num = (b: Buffer) => Number(tlvU64(b));

test('namespaces: new ones as clone flags, joined ones by path', () => {
  const es = readTlv(lowerSpec(spec(), { rootfs: '/r', execFifo: '/s/exec.fifo' }));
  assert.equal(num(one(es, PLAN.NS_NEW)), CLONE.pid | CLONE.mount);
  const join = readTlv(one(es, PLAN.NS_JOIN));
  assert.equal(num(one(join, NSJ.TYPE)), CLONE.network);
  assert.equal(str(one(join, NSJ.PATH)), '/run/netns/x');
});

test('process: args in order, env, cwd, user, groups, umask', () => {
  const es = readTlv(lowerSpec(spec(), { rootfs: '/r', execFifo: '/f' }));
  assert.deepEqual(all(es, PLAN.ARG).map((e) => str(e.value)), ['sh', '-c', 'true']);
  assert.deepEqual(all(es, PLAN.ENV).map((e) => str(e.value)), ['A=1']);
  assert.equal(str(one(es, PLAN.CWD)), '/tmp');
  assert.equal(num(one(es, PLAN.UID)), 1000);
  assert.deepEqual(all(es, PLAN.ADDITIONAL_GID).map((e) => num(e.value)), [10, 20]);
  assert.equal(num(one(es, PLAN.UMASK)), 0o22);
  assert.equal(str(one(es, PLAN.EXEC_FIFO)), '/f');
  assert.equal(str(one(es, PLAN.ROOTFS)), '/r');
  assert.equal(str(one(es, PLAN.HOSTNAME)), 'h');
});

test('flags: readonly root, keep parent, no pivot', () => {
  const es = readTlv(lowerSpec(spec(), { rootfs: '/r', execFifo: '/f', keepParent: true, noPivot: true }));
  const f = num(one(es, PLAN.FLAGS));
  assert.ok(f & PLAN_FLAG.ROOT_READONLY);
  assert.ok(f & PLAN_FLAG.KEEP_PARENT);
  assert.ok(f & PLAN_FLAG.NO_PIVOT);
  assert.ok(!(f & PLAN_FLAG.TERMINAL));
});

test('mounts keep their order; rbind lowers to MS_BIND|MS_REC with ro/nosuid and propagation', () => {
  const es = readTlv(lowerSpec(spec(), { rootfs: '/r', execFifo: '/f' }));
  const mounts = all(es, PLAN.MOUNT).map((e) => readTlv(e.value));
  assert.deepEqual(mounts.map((m) => str(one(m, MT.DEST))), ['/proc', '/data']);
  const bind = mounts[1];
  assert.equal(str(one(bind, MT.TYPE)), 'bind');
  assert.equal(num(one(bind, MT.FLAGS)), MS.BIND | MS.REC | MS.RDONLY | MS.NOSUID);
  assert.equal(num(one(bind, MT.PROPAGATION)), MS.PRIVATE | MS.REC);
});

test('default devices are created, config devices added, and none when /dev is bound from the host', () => {
  const s = spec();
  s.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }];
  let es = readTlv(lowerSpec(s, { rootfs: '/r', execFifo: '/f' }));
  const paths = all(es, PLAN.DEVICE).map((e) => str(one(readTlv(e.value), DV.PATH)));
  assert.deepEqual(paths, ['/dev/null', '/dev/zero', '/dev/full', '/dev/tty', '/dev/random', '/dev/urandom', '/dev/fuse']);
  s.mounts!.push({ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] });
  es = readTlv(lowerSpec(s, { rootfs: '/r', execFifo: '/f' }));
  assert.ok(num(one(es, PLAN.FLAGS)) & PLAN_FLAG.NO_DEFAULT_DEVICES);
});

test('user namespace: id maps as uid_map text; setgroups denied only for an unprivileged mapper', () => {
  const s = spec();
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  let es = readTlv(lowerSpec(s, { rootfs: '/r', execFifo: '/f' }));
  assert.equal(str(one(es, PLAN.UID_MAP)), '0 100000 65536\n');
  // root maps with setgroups allowed (containerd's ctr run --uidmap, as runc)
  assert.equal(num(one(es, PLAN.FLAGS)) & PLAN_FLAG.SETGROUPS_DENY, 0);
  assert.ok(num(one(es, PLAN.NS_NEW)) & CLONE.user);
  es = readTlv(lowerSpec(s, { rootfs: '/r', execFifo: '/f', unprivilegedMapper: true }));
  assert.ok(num(one(es, PLAN.FLAGS)) & PLAN_FLAG.SETGROUPS_DENY);
});

test('mount options: flags, clearing flags, propagation, recursive attrs, data', () => {
  const o = parseMountOptions(['nosuid', 'noexec', 'exec', 'mode=755', 'size=65536k', 'rslave', 'rro', 'strictatime']);
  assert.equal(o.flags, MS.NOSUID | MS.STRICTATIME);
  assert.equal(o.propagation, MS.SLAVE | MS.REC);
  assert.equal(o.attrSet, 1);
  assert.equal(o.data, 'mode=755,size=65536k');
});
