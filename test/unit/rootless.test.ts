// Rootless decisions, pure: the flag, the per-user dirs, /etc/subuid lines,
// the user namespace added to a config, what an unprivileged caller may
// have (planRootless with the host's facts given), the sysfs bind.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { defaultDataDir, defaultRoot, isHostUidMap } from '../../src/runtime/paths';
import { addUserNamespace, findDelegation, limitsIn, planRootless, rootlessMode, subordinateRanges, type HostFacts } from '../../src/runtime/rootless';
import { lowerSpec, sysfsAsBind } from '../../src/shim/lower';
import { PLAN, PLAN_FLAG } from '../../src/shim/protocol';
import { readTlv, tlvU64 } from '../../src/shim/tlv';
import { ConfigError } from '../../src/errors';
import { defaultSpec } from '../../src/spec/default';
import type { Spec } from '../../src/spec/types';

test('--rootless: auto follows the euid and the user namespace, true and false force it', () => {
  assert.equal(rootlessMode('auto', 0, false), false);
  assert.equal(rootlessMode(undefined, 1000, false), true);
  // uid 0 of a user namespace that is not the host's (rootless podman's runtime): rootless, as runc
  assert.equal(rootlessMode('auto', 0, true), true);
  assert.equal(rootlessMode(undefined, 1000, true), true);
  assert.equal(rootlessMode('true', 0, false), true);
  assert.equal(rootlessMode('false', 1000, false), false);
  assert.equal(rootlessMode('false', 0, true), false);
});

test('the host user namespace is told by its uid_map alone', () => {
  assert.equal(isHostUidMap('         0          0 4294967295\n'), true);
  assert.equal(isHostUidMap('0 0 4294967295'), true);
  assert.equal(isHostUidMap('         0       1001          1\n         1     100000      65536\n'), false);
  assert.equal(isHostUidMap('         0       1001          1\n'), false);
  assert.equal(isHostUidMap('         0          0 4294967294\n'), false);
  assert.equal(isHostUidMap('         0          0 4294967295\n         1          1          1\n'), false);
  assert.equal(isHostUidMap(''), false);
});

test('default dirs: root keeps /run/tsrun and /var/lib/tsrun; another user gets XDG dirs, or /tmp/tsrun-<uid> and ~/.local/share', () => {
  assert.equal(defaultRoot({ euid: 0, env: { XDG_RUNTIME_DIR: '/run/user/0' }, home: '/root' }), '/run/tsrun');
  assert.equal(defaultDataDir({ euid: 0, env: { XDG_DATA_HOME: '/x' }, home: '/root' }), '/var/lib/tsrun');
  assert.equal(defaultRoot({ euid: 1000, env: { XDG_RUNTIME_DIR: '/run/user/1000' }, home: '/home/u' }), '/run/user/1000/tsrun');
  assert.equal(defaultRoot({ euid: 1000, env: {}, home: '/home/u' }), '/tmp/tsrun-1000');
  assert.equal(defaultRoot({ euid: 1000, env: { XDG_RUNTIME_DIR: 'relative' }, home: '/home/u' }), '/tmp/tsrun-1000');
  assert.equal(defaultDataDir({ euid: 1000, env: { XDG_DATA_HOME: '/data/u' }, home: '/home/u' }), '/data/u/tsrun');
  assert.equal(defaultDataDir({ euid: 1000, env: {}, home: '/home/u' }), '/home/u/.local/share/tsrun');
});

test("default dirs of uid 0 in a user namespace (rootless podman's runtime): the user's, as runc, when XDG_RUNTIME_DIR says so", () => {
  const podman = { euid: 0, env: { XDG_RUNTIME_DIR: '/run/user/1000' }, home: '/home/u', userns: true };
  assert.equal(defaultRoot(podman), '/run/user/1000/tsrun');
  assert.equal(defaultDataDir(podman), '/home/u/.local/share/tsrun');
  assert.equal(defaultDataDir({ ...podman, env: { ...podman.env, XDG_DATA_HOME: '/data/u' } }), '/data/u/tsrun');
  // without XDG_RUNTIME_DIR (or a relative one), or with USER=root: root's dirs (runc's shouldHonorXDGRuntimeDir)
  for (const env of [{}, { XDG_RUNTIME_DIR: 'relative' }, { XDG_RUNTIME_DIR: '/run/user/1000', USER: 'root' }]) {
    assert.equal(defaultRoot({ ...podman, env }), '/run/tsrun', JSON.stringify(env));
    assert.equal(defaultDataDir({ ...podman, env }), '/var/lib/tsrun', JSON.stringify(env));
  }
  // the host's root is not in a user namespace: XDG_RUNTIME_DIR does not move its dirs
  assert.equal(defaultRoot({ ...podman, userns: false }), '/run/tsrun');
});

test('/etc/subuid: the lines of the user, by name or uid', () => {
  const text = 'alice:100000:65536\n# bob:1:2\nbob:165536:65536\n1000:300000:10\nbad line\nalice:x:1\n';
  assert.deepEqual(subordinateRanges(text, { uid: 1000, gid: 1000, name: 'alice' }), [
    { start: 100000, size: 65536 },
    { start: 300000, size: 10 },
  ]);
  assert.deepEqual(subordinateRanges(text, { uid: 2000, gid: 2000 }), []);
});

test('a config without a user namespace gets one: the caller as root alone, uid=/gid= options dropped (runc spec --rootless)', () => {
  const s = defaultSpec();
  assert.equal(addUserNamespace(s, { uid: 1000, gid: 1001 }), true);
  assert.deepEqual(s.linux!.namespaces!.at(-1), { type: 'user' });
  assert.deepEqual(s.linux!.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  assert.deepEqual(s.linux!.gidMappings, [{ containerID: 0, hostID: 1001, size: 1 }]);
  const devpts = s.mounts!.find((m) => m.destination === '/dev/pts')!;
  assert.ok(!devpts.options!.some((o) => o.startsWith('gid=')), devpts.options!.join(','));
  // a config with its own user namespace is left as it is
  const own = defaultSpec();
  own.linux!.namespaces!.push({ type: 'user' });
  own.linux!.uidMappings = [{ containerID: 0, hostID: 5, size: 1 }];
  assert.equal(addUserNamespace(own, { uid: 1000, gid: 1000 }), false);
  assert.deepEqual(own.linux!.uidMappings, [{ containerID: 0, hostID: 5, size: 1 }]);
});

test('limitsIn: every resource but device rules and empty ones', () => {
  assert.deepEqual(limitsIn(undefined), []);
  assert.deepEqual(limitsIn({ devices: [{ allow: false, access: 'rwm' }], memory: {}, hugepageLimits: [] }), []);
  assert.deepEqual(limitsIn({ memory: { limit: 1 }, pids: { limit: 5 }, unified: { 'memory.max': '1' } }), ['memory', 'pids', 'unified']);
});

const facts = (over: Partial<HostFacts> = {}): HostFacts => ({
  caller: { uid: 1000, gid: 1000, name: 'alice' },
  subuid: [{ start: 100000, size: 65536 }],
  subgid: [{ start: 100000, size: 65536 }],
  newuidmap: '/usr/bin/newuidmap',
  newgidmap: '/usr/bin/newgidmap',
  cgroups: false,
  hostDevice: (p) => (p === '/dev/fuse' ? { type: 'c', major: 10, minor: 229 } : undefined),
  nsOwner: (p) => {
    if (p === '/proc/42/ns/user') return { uid: 1000, userns: 'u42' };
    if (p === '/proc/42/ns/net') return { uid: 1000, userns: 'u42' };
    if (p === '/proc/1/ns/user') return { uid: 0, userns: 'init' };
    return { uid: 0, userns: 'init' };
  },
  ...over,
});

function rootlessSpec(edit: (s: Spec) => void = () => {}): Spec {
  const s = defaultSpec();
  addUserNamespace(s, { uid: 1000, gid: 1000 });
  edit(s);
  return s;
}

const problems = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('no ConfigError');
};

test('planRootless: the own ids alone need no helper; subordinate ranges go through newuidmap/newgidmap', () => {
  assert.deepEqual(planRootless(rootlessSpec(), facts()), { idmapHelpers: undefined, noCgroups: true });
  const ranged = rootlessSpec((s) => {
    s.linux!.uidMappings = [
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 100000, size: 65536 },
    ];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  assert.deepEqual(planRootless(ranged, facts()).idmapHelpers, { uid: '/usr/bin/newuidmap', gid: '/usr/bin/newgidmap' });
  // without the helpers installed: said so
  assert.match(problems(() => planRootless(ranged, facts({ newuidmap: undefined })))[0], /need newuidmap and newgidmap: install them \(Debian: apt-get install uidmap\)/);
});

test('planRootless: refuses ids outside the ranges, unmapped process and mount ids, device nodes, foreign namespaces, limits', () => {
  const s = rootlessSpec((x) => {
    x.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 10 }];
    x.process!.user = { uid: 0, gid: 7 };
    x.mounts!.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['uid=30'] });
    x.linux!.devices = [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
      { path: '/dev/made-up', type: 'c', major: 99, minor: 1 },
    ];
    x.linux!.namespaces = x.linux!.namespaces!.filter((n) => n.type !== 'network').concat([{ type: 'network', path: '/proc/42/ns/net' }]);
    x.linux!.resources = { devices: [{ allow: false, access: 'rwm' }], pids: { limit: 10 } };
    x.linux!.cgroupsPath = '/mine';
  });
  const p = problems(() => planRootless(s, facts()));
  const want = [
    /^config\.json: \/linux\/uidMappings\/0: host ids 200000-200009 are not this user's: \/etc\/subuid gives "alice" 100000-165535/,
    /^config\.json: \/process\/user\/gid: 7 is not mapped by \/linux\/gidMappings$/,
    /^config\.json: \/mounts\/\d+\/options: "uid=30": uid 30 is not mapped in the user namespace/,
    /^config\.json: \/linux\/namespaces\/\d+: joining the network namespace "\/proc\/42\/ns\/net" needs the user namespace that owns it/,
    /^config\.json: \/linux\/devices\/1: "\/dev\/made-up": an unprivileged user cannot make device nodes/,
    /^config\.json: \/linux\/resources\/pids: resource limits need a cgroup/,
    /^config\.json: \/linux\/cgroupsPath: "\/mine": this user has no cgroups delegated/,
  ];
  for (const re of want) assert.ok(p.some((l) => re.test(l)), `${re} in:\n${p.join('\n')}`);
  assert.equal(p.length, want.length, p.join('\n'));
});

test('planRootless: namespaces joined through the user namespace that owns them; another user\'s refused', () => {
  const join = (userPath: string, netPath: string) => {
    const s = defaultSpec();
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network').concat([
      { type: 'user', path: userPath },
      { type: 'network', path: netPath },
    ]);
    return s;
  };
  assert.deepEqual(planRootless(join('/proc/42/ns/user', '/proc/42/ns/net'), facts()), { idmapHelpers: undefined, noCgroups: true });
  assert.match(problems(() => planRootless(join('/proc/1/ns/user', '/proc/42/ns/net'), facts()))[0], /user namespace "\/proc\/1\/ns\/user" belongs to uid 0: an unprivileged user may join only its own/);
  assert.match(
    problems(() => planRootless(join('/proc/42/ns/user', '/proc/1/ns/net'), facts())).join('\n'),
    /network namespace "\/proc\/1\/ns\/net" is not owned by the user namespace "\/proc\/42\/ns\/user"/,
  );
});

test('planRootless: own gid alone denies setgroups, so additionalGids are refused; root with --rootless true only loses cgroups', () => {
  const s = rootlessSpec((x) => (x.process!.user = { uid: 0, gid: 0, additionalGids: [0] }));
  assert.match(problems(() => planRootless(s, facts()))[0], /^config\.json: \/process\/user\/additionalGids: need setgroups\(2\)/);
  const root = defaultSpec();
  root.linux!.devices = [{ path: '/dev/made-up', type: 'c', major: 99, minor: 1 }];
  assert.deepEqual(planRootless(root, facts({ caller: { uid: 0, gid: 0 } })), { idmapHelpers: undefined, noCgroups: true });
});

test('sysfs in a user namespace without a network namespace of its own: a recursive read-only bind of /sys', () => {
  const sys = { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
  assert.deepEqual(sysfsAsBind(sys, true, false), { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro', 'rro'] });
  assert.equal(sysfsAsBind(sys, true, true), sys, 'its own network namespace: a sysfs of its own');
  assert.equal(sysfsAsBind(sys, false, false), sys, 'no user namespace: root mounts sysfs');
});

test('lowerSpec: own-id maps with setgroups denied; with helpers, their paths and setgroups left alone', () => {
  const s = rootlessSpec();
  const flagsOf = (b: Buffer) => Number(tlvU64(readTlv(b).find((e) => e.tag === PLAN.FLAGS)!.value));
  const tags = (b: Buffer) => readTlv(b).map((e) => e.tag);
  const base = { rootfs: '/r', execFifo: '/f' };
  const self = lowerSpec(s, { ...base, unprivilegedMapper: true });
  assert.ok(flagsOf(self) & PLAN_FLAG.SETGROUPS_DENY);
  assert.ok(!tags(self).includes(PLAN.UID_MAP_HELPER));
  const helped = lowerSpec(s, { ...base, unprivilegedMapper: true, idmapHelpers: { uid: '/u', gid: '/g' } });
  assert.equal(flagsOf(helped) & PLAN_FLAG.SETGROUPS_DENY, 0);
  const e = readTlv(helped);
  assert.equal(e.find((x) => x.tag === PLAN.UID_MAP_HELPER)!.value.toString(), '/u');
  assert.equal(e.find((x) => x.tag === PLAN.GID_MAP_HELPER)!.value.toString(), '/g');
});

test('findDelegation: the topmost cgroup of the caller from its own up; controllers it can hand down', () => {
  // systemd's user@.service: the service and what is below it are the user's, the slices above root's
  const tree: Record<string, { owner: number; controllers?: string[]; subtree?: string[]; procs?: boolean }> = {
    '/user.slice': { owner: 0, controllers: ['cpu', 'memory', 'pids'], subtree: ['memory', 'pids'] },
    '/user.slice/user-1000.slice': { owner: 0, controllers: ['memory', 'pids'], subtree: ['memory', 'pids'] },
    '/user.slice/user-1000.slice/user@1000.service': { owner: 1000, controllers: ['memory', 'pids'], subtree: ['pids'] },
    '/user.slice/user-1000.slice/user@1000.service/app.slice': { owner: 1000, controllers: ['pids'], subtree: [] },
    '/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope': { owner: 1000, controllers: [], procs: true },
    '/busy': { owner: 1000, controllers: ['memory', 'pids'], subtree: ['pids'], procs: true },
    '/half': { owner: 1000, controllers: ['pids'] },
  };
  const facts = (p: string) => {
    const n = tree[p];
    if (!n) return undefined;
    const owners = p === '/half' ? [1000, 0, 0] : [n.owner, n.owner, n.owner];
    return { owners, controllers: n.controllers ?? [], subtreeControl: n.subtree ?? [], hasProcs: !!n.procs };
  };
  assert.deepEqual(findDelegation('/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope', 1000, facts), {
    path: '/user.slice/user-1000.slice/user@1000.service',
    controllers: ['memory', 'pids'],
  });
  // processes in it: only what is already enabled for its children
  assert.deepEqual(findDelegation('/busy', 1000, facts), { path: '/busy', controllers: ['pids'] });
  // not the caller's: another user's, root's, a dir whose files stayed root's, the root cgroup
  assert.equal(findDelegation('/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope', 1001, facts), undefined);
  assert.equal(findDelegation('/user.slice/user-1000.slice', 1000, facts), undefined);
  assert.equal(findDelegation('/half', 1000, facts), undefined);
  assert.equal(findDelegation('/', 1000, () => ({ owners: [1000, 1000, 1000], controllers: [], subtreeControl: [], hasProcs: false })), undefined);
});

test('planRootless with a delegated cgroup: limits of delegated controllers and cgroupsPath pass, the others are refused', () => {
  const cgroups = { path: '/user.slice/user-1000.slice/user@1000.service', controllers: ['memory', 'pids'] };
  const ok = rootlessSpec((s) => {
    s.linux!.resources = { memory: { limit: 64 << 20 }, pids: { limit: 10 }, unified: { 'cgroup.max.descendants': '3', 'pids.max': '9' } };
    s.linux!.cgroupsPath = 'mine';
  });
  assert.deepEqual(planRootless(ok, facts({ cgroups })), { idmapHelpers: undefined, noCgroups: false, cgroupBase: cgroups.path });
  const bad = rootlessSpec((s) => {
    s.linux!.resources = { memory: { limit: 64 << 20 }, cpu: { shares: 512, cpus: '0' }, unified: { 'io.max': 'x' } };
  });
  assert.deepEqual(problems(() => planRootless(bad, facts({ cgroups }))), [
    'config.json: /linux/resources/cpu: needs the cgroup v2 "cpu" controller, which your delegated cgroup "/user.slice/user-1000.slice/user@1000.service" does not give (it gives: memory pids): drop the limit, or have it delegated',
    'config.json: /linux/resources/cpu: needs the cgroup v2 "cpuset" controller, which your delegated cgroup "/user.slice/user-1000.slice/user@1000.service" does not give (it gives: memory pids): drop the limit, or have it delegated',
    'config.json: /linux/resources/unified/io.max: needs the cgroup v2 "io" controller, which your delegated cgroup "/user.slice/user-1000.slice/user@1000.service" does not give (it gives: memory pids)',
  ]);
});
