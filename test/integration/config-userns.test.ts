// User namespaces (ids mapped from the host side, rootfs owners seen through
// the mapping), joining an existing user and network namespace by path, and
// time namespace offsets, through real containers.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';

import { World, BUSYBOX_ROOTFS } from '../helpers/tsrun';
import type { Spec } from '../../src/spec/types';
import { stateDirs } from '../helpers/leftovers';

const w = new World('tsrun-test-config-userns');
after(() => w.cleanup());

const HOST_ID = 200000;
const SIZE = 65536;
let rootfs = '';

before(() => {
  // a copy of the busybox rootfs owned by the mapped range, with one file
  // owned by another mapped id and one by an unmapped id (host root)
  // the namespace's root (host uid HOST_ID) must reach the rootfs: mkdtemp made w.dir 0700
  fs.chmodSync(w.dir, 0o711);
  rootfs = path.join(w.dir, 'rootfs-mapped');
  const cp = spawnSync('cp', ['-a', BUSYBOX_ROOTFS, rootfs], { encoding: 'utf8' });
  assert.equal(cp.status, 0, cp.stderr);
  const ch = spawnSync('chown', ['-R', `${HOST_ID}:${HOST_ID}`, rootfs], { encoding: 'utf8' });
  assert.equal(ch.status, 0, ch.stderr);
  fs.writeFileSync(path.join(rootfs, 'owned-5-7'), '');
  fs.chownSync(path.join(rootfs, 'owned-5-7'), HOST_ID + 5, HOST_ID + 7);
  fs.writeFileSync(path.join(rootfs, 'owned-host-root'), '');
  fs.chownSync(path.join(rootfs, 'owned-host-root'), 0, 0);
});

function userns(s: Spec): void {
  s.root!.path = rootfs;
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: HOST_ID, size: SIZE }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: HOST_ID, size: SIZE }];
}

const hostIds = (pid: number) => {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { uid: /^Uid:\s+(\d+)/m.exec(st)![1], gid: /^Gid:\s+(\d+)/m.exec(st)![1] };
};

test('user namespace: uid 0 inside is the mapped uid outside; rootfs files show the mapped owners', () => {
  const b = w.bundle((s: Spec) => {
    userns(s);
    s.process!.args = ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; ls -ln / > /tmp/ls; touch /created; exec sleep 1000'];
    s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
  }, 'u1');
  w.ok(['create', '--bundle', b, 'u1']);
  const { pid } = w.state('u1');
  // the shim is not yet the user's process, but already in the namespace, mapped
  assert.match(fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8'), new RegExp(`^\\s*0\\s+${HOST_ID}\\s+${SIZE}$`, 'm'));
  w.ok(['start', 'u1']);
  const out = w.ok(['exec', 'u1', 'sh', '-c', 'while [ ! -e /created ]; do sleep 0.05; done; id -u; cat /tmp/ls']);
  // the process: root inside, HOST_ID outside
  assert.deepEqual(hostIds(pid), { uid: String(HOST_ID), gid: String(HOST_ID) });
  assert.match(out, /^0$/m);
  const owner = (name: string) => {
    const line = out.split('\n').find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} -> `));
    assert.ok(line, `${name} in ls -ln:\n${out}`);
    const f = line.trim().split(/\s+/);
    return `${f[2]}:${f[3]}`;
  };
  assert.equal(owner('bin'), '0:0');
  assert.equal(owner('owned-5-7'), '5:7');
  assert.equal(owner('owned-host-root'), '65534:65534', 'unmapped ids show as the overflow id');
  // a file made inside belongs to the mapped id on the host
  const st = fs.statSync(path.join(rootfs, 'created'));
  assert.equal(st.uid, HOST_ID);
  assert.equal(st.gid, HOST_ID);
  w.ok(['delete', '--force', 'u1']);
  fs.rmSync(path.join(rootfs, 'created'));
});

test('joining an existing user namespace and network namespace by path', () => {
  const a = w.bundle((s: Spec) => {
    userns(s);
    s.process!.args = ['sleep', '1000'];
  }, 'ns-owner');
  w.ok(['run', '--detach', '--bundle', a, 'ns-owner']);
  const { pid } = w.state('ns-owner');
  const userNs = fs.readlinkSync(`/proc/${pid}/ns/user`);
  const netNs = fs.readlinkSync(`/proc/${pid}/ns/net`);
  assert.notEqual(userNs, fs.readlinkSync('/proc/self/ns/user'));

  const b = w.bundle((s: Spec) => {
    s.root!.path = rootfs;
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
    s.linux!.namespaces!.push({ type: 'user', path: `/proc/${pid}/ns/user` }, { type: 'network', path: `/proc/${pid}/ns/net` });
  }, 'ns-joiner');
  const r = w.tsrun(['run', '--bundle', b, 'ns-joiner', 'sh', '-c', 'readlink /proc/self/ns/user; readlink /proc/self/ns/net; id -u; cat /proc/self/uid_map']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], userNs);
  assert.equal(lines[1], netNs);
  assert.equal(lines[2], '0');
  assert.match(lines[3], new RegExp(`^\\s*0\\s+${HOST_ID}\\s+${SIZE}$`));
  w.ok(['delete', '--force', 'ns-owner']);

  // a path that is not a namespace of the named type: a clear error, nothing left
  const c = w.bundle((s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
    s.linux!.namespaces!.push({ type: 'network', path: '/proc/self/ns/user' });
  }, 'ns-bad');
  const r2 = w.tsrun(['run', '--bundle', c, 'ns-bad', 'echo', 'should-not-run']);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /^tsrun: network namespace path "\/proc\/self\/ns\/user" is a user namespace$/m);
  assert.doesNotMatch(r2.stdout, /should-not-run/);
  assert.deepEqual(stateDirs(w.root), []);
  const d = w.bundle((s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
    s.linux!.namespaces!.push({ type: 'network', path: '/etc/hostname' });
  }, 'ns-bad2');
  const r3 = w.tsrun(['run', '--bundle', d, 'ns-bad2', 'echo', 'should-not-run']);
  assert.notEqual(r3.code, 0);
  assert.match(r3.stderr, /^tsrun: network namespace path "\/etc\/hostname" is not a namespace file$/m);
  assert.deepEqual(stateDirs(w.root), []);
});

test('time namespace: boottime and monotonic offsets', () => {
  const DAY10 = 864000;
  const b = w.bundle((s: Spec) => {
    s.linux!.namespaces!.push({ type: 'time' });
    s.linux!.timeOffsets = { boottime: { secs: DAY10, nanosecs: 0 }, monotonic: { secs: 3600 } };
  }, 'time');
  const before = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const r = w.tsrun(['run', '--bundle', b, 'time', 'cat', '/proc/uptime']);
  const after = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  assert.equal(r.code, 0, r.stderr);
  const inside = Number(r.stdout.split(' ')[0]);
  assert.ok(inside >= before + DAY10 && inside <= after + DAY10 + 1, `uptime inside ${inside}, outside ${before}..${after}`);

  // offsets without a time namespace: a config error
  const c = w.bundle((s: Spec) => {
    s.linux!.timeOffsets = { boottime: { secs: 5 } };
  }, 'time-bad');
  const r2 = w.tsrun(['run', '--bundle', c, 'time-bad', 'echo', 'should-not-run']);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /timeOffsets/);
  assert.doesNotMatch(r2.stdout, /should-not-run/);
});
