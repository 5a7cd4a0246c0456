// What other tools write into config.json and tsrun once refused (issue 14):
// each case is the shape the named producer writes, checked by what the
// container sees.  test/integration/producers.test.ts runs the producers' own
// configs side by side with runc.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';

import { World, BUSYBOX_ROOTFS } from '../helpers/tsrun';
import type { Spec } from '../../src/spec/types';

const w = new World('tsrun-test-config-others');
after(() => w.cleanup());

const statusField = (out: string, name: string) => new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(out)?.[1];

test('a seccomp profile without close_range and noNewPrivileges false (runtime-tools\' default, older docker profiles) runs', () => {
  const r = w.runScript('sc', (s: Spec) => {
    s.process!.noNewPrivileges = false;
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      // what such a profile amounts to for a call it does not list
      syscalls: [{ names: ['close_range'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    };
  }, 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; echo ran');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(statusField(r.stdout, 'Seccomp'), '2', 'the filter is on');
  assert.equal(statusField(r.stdout, 'NoNewPrivs'), '0');
  assert.match(r.stdout, /^ran$/m);
});

test('ambient capabilities that are not inheritable (runc spec, crun spec, buildah) are left unraised, as runc does', () => {
  const three = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const r = w.runScript('amb', (s: Spec) => {
    // exactly `runc spec`'s capabilities: no inheritable set
    s.process!.capabilities = { bounding: three, effective: three, permitted: three, ambient: three };
  }, 'grep ^Cap /proc/self/status');
  assert.equal(r.code, 0, r.stderr);
  const bits = (1n << 29n) | (1n << 5n) | (1n << 10n); // AUDIT_WRITE, KILL, NET_BIND_SERVICE
  assert.equal(BigInt(`0x${statusField(r.stdout, 'CapEff')}`), bits);
  assert.equal(BigInt(`0x${statusField(r.stdout, 'CapBnd')}`), bits);
  assert.equal(BigInt(`0x${statusField(r.stdout, 'CapInh')}`), 0n);
  assert.equal(BigInt(`0x${statusField(r.stdout, 'CapAmb')}`), 0n, 'not raised: not inheritable');
  // with inheritable too, they are raised
  const r2 = w.runScript('amb', (s: Spec) => {
    s.process!.capabilities = { bounding: three, effective: three, permitted: three, inheritable: three, ambient: three };
  }, 'grep ^CapAmb /proc/self/status');
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(BigInt(`0x${statusField(r2.stdout, 'CapAmb')}`), bits);
});

test('a new network namespace has lo up (a server inside is reachable from inside); a joined one is left alone', () => {
  const r = w.runScript('lo', () => {}, 'cat /sys/class/net/lo/flags; ls /sys/class/net');
  assert.equal(r.code, 0, r.stderr);
  const [flags, ifaces] = r.stdout.trim().split('\n');
  assert.equal(Number(flags) & 1, 1, `IFF_UP in ${flags}`);
  assert.equal(ifaces, 'lo', 'a new namespace: only lo');
  // the host's namespace (no network entry): not touched, and create does not fail there
  const h = w.runScript('lo', (s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
  }, 'ls /sys/class/net | wc -l');
  assert.equal(h.code, 0, h.stderr);
});

test('a user namespace mapped by root keeps setgroups (containerd\'s ctr run --uidmap/--gidmap with additional gids)', () => {
  // the namespace's root (host uid 300000) must reach the rootfs: a copy it owns
  fs.chmodSync(w.dir, 0o711);
  const rootfs = path.join(w.dir, 'rootfs-300000');
  assert.equal(spawnSync('cp', ['-a', BUSYBOX_ROOTFS, rootfs]).status, 0);
  assert.equal(spawnSync('chown', ['-R', '300000:300000', rootfs]).status, 0);
  const r = w.runScript('un', (s: Spec) => {
    s.root!.path = rootfs;
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
    s.process!.user = { uid: 0, gid: 0, additionalGids: [10, 11] };
  }, 'cat /proc/self/setgroups; id -G; cat /proc/self/uid_map');
  assert.equal(r.code, 0, r.stderr);
  const [setgroups, groups, map] = r.stdout.trim().split('\n');
  assert.equal(setgroups, 'allow');
  assert.deepEqual(groups.split(' ').sort(), ['0', '10', '11']);
  assert.match(map, /^\s*0\s+300000\s+65536$/);
});

test('rootfsPropagation rshared on a rootfs that is itself a shared mount point (containerd\'s overlay rootfs)', (t) => {
  const rootfs = path.join(w.dir, 'rootfs-mounted');
  assert.equal(spawnSync('cp', ['-a', BUSYBOX_ROOTFS, rootfs]).status, 0);
  assert.equal(spawnSync('mount', ['--bind', rootfs, rootfs]).status, 0);
  t.after(() => spawnSync('umount', ['-l', rootfs]));
  assert.equal(spawnSync('mount', ['--make-shared', rootfs]).status, 0);
  const hostMounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const r = w.runScript('rsh', (s: Spec) => {
    s.root!.path = rootfs;
    s.linux!.rootfsPropagation = 'rshared';
    const caps = s.process!.capabilities!;
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_SYS_ADMIN'];
  }, 'awk \'$5 == "/"\' /proc/self/mountinfo; mkdir -p /tmp/m && mount -t tmpfs x /tmp/m && echo mounted');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.split('\n')[0], / shared:\d+ /, 'the container\'s root is shared, as asked');
  assert.match(r.stdout, /^mounted$/m);
  // nothing the container mounted reached the host, whose rootfs mount is still a plain shared bind
  assert.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(rootfs)).length,
    hostMounts.split('\n').filter((l) => l.includes(rootfs)).length);
});

test('a config without process: create makes the container, start fails and leaves it stopped, delete removes it (runtime-tools\' start)', () => {
  const b = w.bundle((s: Spec) => {
    delete s.process;
  }, 'noproc');
  w.ok(['create', '--bundle', b, 'np1']);
  const st = w.state('np1');
  assert.equal(st.status, 'created');
  assert.ok(st.pid > 0);
  const r = w.tsrun(['start', 'np1']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'tsrun: cannot start: config.json has no "process" (nothing to run); the container is stopped, delete it\n');
  assert.equal(w.state('np1').status, 'stopped');
  assert.ok(!fs.existsSync(`/proc/${st.pid}`) || /^State:\s+Z/m.test(fs.readFileSync(`/proc/${st.pid}/status`, 'utf8')));
  w.ok(['delete', 'np1']);
  assert.ok(!fs.existsSync(path.join(w.root, 'np1')));
  // run: the same error, and nothing left
  const rr = w.tsrun(['run', '--bundle', b, 'np2']);
  assert.equal(rr.code, 1);
  assert.match(rr.stderr, /has no "process"/);
  assert.ok(!fs.existsSync(path.join(w.root, 'np2')));
});

test('HOME comes from the container\'s /etc/passwd when the env has none (as runc); a passwd that is not a regular file gives "/"', () => {
  const r = w.runScript('home', (s: Spec) => {
    s.process!.env = (s.process!.env ?? []).filter((e) => !e.startsWith('HOME='));
  }, 'echo "HOME=$HOME"');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'HOME=/root\n');
  // a user the passwd does not name: "/"
  const u = w.runScript('home', (s: Spec) => {
    s.process!.env = (s.process!.env ?? []).filter((e) => !e.startsWith('HOME='));
    s.process!.user = { uid: 4242, gid: 4242 };
  }, 'echo "HOME=$HOME"');
  assert.equal(u.stdout, 'HOME=/\n', u.stderr);
  // one the config sets is kept
  const k = w.runScript('home', (s: Spec) => {
    s.process!.env = [...(s.process!.env ?? []).filter((e) => !e.startsWith('HOME=')), 'HOME=/srv'];
  }, 'echo "HOME=$HOME"');
  assert.equal(k.stdout, 'HOME=/srv\n', k.stderr);
  // /etc/passwd a FIFO (a hostile image): not read, "/" (no hang)
  const fifoRoot = path.join(w.dir, 'rootfs-fifo-passwd');
  assert.equal(spawnSync('cp', ['-a', BUSYBOX_ROOTFS, fifoRoot]).status, 0);
  fs.rmSync(path.join(fifoRoot, 'etc/passwd'));
  assert.equal(spawnSync('mkfifo', [path.join(fifoRoot, 'etc/passwd')]).status, 0);
  const f = w.runScript('home', (s: Spec) => {
    s.root!.path = fifoRoot;
    s.process!.env = (s.process!.env ?? []).filter((e) => !e.startsWith('HOME='));
  }, 'echo "HOME=$HOME"');
  assert.equal(f.stdout, 'HOME=/\n', f.stderr);
});
