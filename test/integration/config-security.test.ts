// process and linux security fields through real containers: capabilities,
// no_new_privileges, seccomp (podman's default profile), masked and
// read-only paths, sysctl, rlimits, oomScoreAdj, umask, personality,
// ioPriority, scheduler, LSM labels; and the clear errors when this host
// cannot do what a field asks.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { World, TOP } from '../helpers/tsrun';
import { capabilityNumber } from '../../src/shim/lower-security';
import type { Seccomp, Spec } from '../../src/spec/types';

// podman's default profile as podman generates it on this machine (copied
// from shared/clients/examples/podman-config.json)
const PODMAN_SECCOMP = path.join(TOP, 'test', 'fixtures', 'podman-seccomp.json');
const podmanSeccomp = (): Seccomp => JSON.parse(fs.readFileSync(PODMAN_SECCOMP, 'utf8'));
// podman's default capability set
const PODMAN_CAPS = [
  'CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_MKNOD',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

const w = new World('tsrun-test-config-security');
after(() => w.cleanup());

const run = (edit: (s: Spec) => void, script: string) => w.runScript('cs', edit, script);

function statusField(out: string, field: string): string {
  const m = new RegExp(`^${field}:\\s*(\\S+)$`, 'm').exec(out);
  assert.ok(m, `${field} in /proc/self/status:\n${out}`);
  return m[1];
}
const capMask = (names: string[]) => names.reduce((m, n) => m | (1n << BigInt(capabilityNumber(n))), 0n);

function assertNothingLeft() {
  assert.deepEqual(fs.existsSync(w.root) ? fs.readdirSync(w.root) : [], [], 'no container left');
}

test("capabilities inside match the config (podman's set), no_new_privileges is set", () => {
  const r = run((s) => {
    s.process!.capabilities = { bounding: PODMAN_CAPS, effective: PODMAN_CAPS, permitted: PODMAN_CAPS, inheritable: [], ambient: [] };
    s.process!.noNewPrivileges = true;
  }, 'cat /proc/self/status');
  assert.equal(r.code, 0, r.stderr);
  const want = capMask(PODMAN_CAPS);
  for (const f of ['CapBnd', 'CapEff', 'CapPrm']) assert.equal(BigInt('0x' + statusField(r.stdout, f)), want, f);
  assert.equal(BigInt('0x' + statusField(r.stdout, 'CapInh')), 0n);
  assert.equal(BigInt('0x' + statusField(r.stdout, 'CapAmb')), 0n);
  assert.equal(statusField(r.stdout, 'NoNewPrivs'), '1');

  const r2 = run((s) => {
    s.process!.noNewPrivileges = false;
  }, 'grep NoNewPrivs /proc/self/status');
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /^NoNewPrivs:\s+0$/m);
});

test("seccomp, podman's default profile: normal work runs, a blocked syscall fails with the configured errno", () => {
  const profile = podmanSeccomp();
  assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(profile.defaultErrnoRet, 38);
  // normal work; and syscalls the profile does not allow (no CAP_SYS_ADMIN in the
  // podman capability set, so mount/unshare are not in its allow list) fail
  const r = run(
    (s) => {
      s.linux!.seccomp = profile;
      s.process!.capabilities = { bounding: PODMAN_CAPS, effective: PODMAN_CAPS, permitted: PODMAN_CAPS };
    },
    'ls / >/dev/null && echo ls-ok; echo data > /tmp/f && cat /tmp/f; grep -E "^Seccomp:" /proc/self/status; ' +
      'mount -t tmpfs none /mnt; echo mount=$?; unshare -n true; echo unshare=$?',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ls-ok$/m);
  assert.match(r.stdout, /^data$/m);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^mount=\d+$/m);
  assert.doesNotMatch(r.stdout, /^mount=0$/m);
  assert.doesNotMatch(r.stdout, /^unshare=0$/m);
  // the profile's default errno (38) for a syscall taken out of its allow list: security.test.ts
});

test('masked paths read empty and read-only paths refuse writes', () => {
  const data = path.join(w.dir, 'data');
  fs.mkdirSync(path.join(data, 'ro'), { recursive: true });
  fs.mkdirSync(path.join(data, 'secretdir'));
  fs.writeFileSync(path.join(data, 'secret.txt'), 'secret');
  fs.writeFileSync(path.join(data, 'secretdir', 'inner'), 'inner');
  fs.writeFileSync(path.join(data, 'ro', 'file'), 'ro');
  const r = run(
    (s) => {
      s.mounts!.push({ destination: '/tmp/data', type: 'bind', source: data, options: ['rbind', 'rw'] });
      s.linux!.maskedPaths = ['/proc/keys', '/proc/timer_list', '/proc/acpi', '/sys/firmware', '/tmp/data/secret.txt', '/tmp/data/secretdir', '/no/such/path'];
      s.linux!.readonlyPaths = ['/proc/sys', '/proc/bus', '/tmp/data/ro'];
    },
    [
      'echo keys=$(wc -c < /proc/keys)',
      'echo timer=$(wc -c < /proc/timer_list)',
      'echo acpi=$(ls -A /proc/acpi | wc -l)',
      'echo firmware=$(ls -A /sys/firmware | wc -l)',
      'echo secret=$(cat /tmp/data/secret.txt | wc -c)',
      'echo secretdir=$(ls -A /tmp/data/secretdir | wc -l)',
      'echo x > /tmp/data/secret.txt; echo write-masked=$?',
      'echo 1 > /proc/sys/kernel/shm_rmid_forced; echo write-procsys=$?',
      'echo x > /tmp/data/ro/file; echo write-ro=$?',
      'echo ro=$(cat /tmp/data/ro/file)',
      'echo x > /tmp/data/rw; echo write-rw=$?',
    ].join('; '),
  );
  assert.equal(r.code, 0, r.stderr);
  for (const k of ['keys', 'timer', 'acpi', 'firmware', 'secret', 'secretdir']) assert.match(r.stdout, new RegExp(`^${k}=0$`, 'm'), k);
  // a masked file is /dev/null bound over it (as runc): writes vanish, the file is untouched (below)
  assert.match(r.stdout, /^write-procsys=1$/m);
  assert.match(r.stdout, /^write-ro=1$/m);
  assert.match(r.stderr, /Read-only file system/);
  assert.match(r.stdout, /^ro=ro$/m);
  assert.match(r.stdout, /^write-rw=0$/m);
  // the host files are untouched
  assert.equal(fs.readFileSync(path.join(data, 'secret.txt'), 'utf8'), 'secret');
  assert.equal(fs.readFileSync(path.join(data, 'ro', 'file'), 'utf8'), 'ro');
});

test('sysctl values appear inside; a sysctl the namespaces do not cover is a config error', () => {
  const r = run(
    (s) => {
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '1234', 'kernel.shm_rmid_forced': '1', 'kernel.msgmax': '12345' };
    },
    'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/core/somaxconn /proc/sys/kernel/shm_rmid_forced /proc/sys/kernel/msgmax',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['1', '1234', '1', '12345']);
  // the host's values are not changed
  assert.notEqual(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim(), '1234');

  const r2 = run((s) => {
    s.linux!.sysctl = { 'vm.swappiness': '10' };
  }, 'echo should-not-run');
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /sysctl "vm\.swappiness" is not in a separate kernel namespace/);
  const r3 = run((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
  }, 'echo should-not-run');
  assert.notEqual(r3.code, 0);
  assert.match(r3.stderr, /sysctl "net\.ipv4\.ip_forward" needs a network namespace/);
  assertNothingLeft();
});

test('rlimits are applied; a hard limit above the current one is a clear error (no CAP_SYS_RESOURCE)', () => {
  const r = run((s) => {
    s.process!.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 512, hard: 1000 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
    ];
  }, 'echo soft=$(ulimit -Sn) hard=$(ulimit -Hn) core=$(ulimit -c)');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^soft=512 hard=1000 core=0$/m);

  const hard = Number(/^Max open files\s+\d+\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1]);
  const canRaise = /^CapEff:\s*(\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
  const hasSysResource = (BigInt('0x' + canRaise) >> 24n) & 1n;
  if (!hasSysResource) {
    const r2 = run((s) => {
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: hard * 4 }];
    }, 'echo should-not-run');
    assert.notEqual(r2.code, 0);
    assert.match(
      r2.stderr,
      new RegExp(`rlimit RLIMIT_NOFILE: hard limit ${hard * 4} is above the current hard limit ${hard}; raising a hard limit needs CAP_SYS_RESOURCE`),
    );
    assert.doesNotMatch(r2.stdout, /should-not-run/);
    assertNothingLeft();
  }
});

test('oomScoreAdj: raising works; lowering below the current value fails clearly without CAP_SYS_RESOURCE', () => {
  const r = run((s) => {
    s.process!.oomScoreAdj = 500;
  }, 'cat /proc/self/oom_score_adj');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '500');

  const hasSysResource = (BigInt('0x' + /^CapEff:\s*(\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) >> 24n) & 1n;
  const own = Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8'));
  if (!hasSysResource && own > -1000) {
    const r2 = run((s) => {
      s.process!.oomScoreAdj = own - 100;
    }, 'echo should-not-run');
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, new RegExp(`oomScoreAdj ${own - 100}: lowering it below the runtime's own \\(${own}\\) needs CAP_SYS_RESOURCE`));
    assert.doesNotMatch(r2.stdout, /should-not-run/);
    assertNothingLeft();
  }
});

test('umask, personality, ioPriority and scheduler', () => {
  const r = run((s) => {
    s.process!.user.umask = 0o077;
    s.linux!.personality = { domain: 'LINUX32' };
    s.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
    s.process!.scheduler = { policy: 'SCHED_IDLE' };
  }, 'umask; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d; uname -m; ionice; cat /proc/self/stat');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').slice(0, 4), ['0077', '600', '700', r.stdout.split('\n')[3]]);
  assert.match(r.stdout, /^i[3-6]86$/m);
  assert.match(r.stdout, /^idle$/m);
  const stat = r.stdout.split('\n').find((l) => /^\d+ \(cat\) /.test(l));
  assert.ok(stat, r.stdout);
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  assert.equal(fields[41 - 3], '5', 'policy SCHED_IDLE');

  const r2 = run((s) => {
    s.process!.scheduler = { policy: 'SCHED_OTHER', nice: -5 };
    s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 2 };
  }, 'ionice; cat /proc/self/stat');
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /best-effort: prio 2/);
  const stat2 = r2.stdout.split('\n').find((l) => /^\d+ \(cat\) /.test(l))!;
  assert.equal(stat2.slice(stat2.lastIndexOf(') ') + 2).split(' ')[19 - 3], '-5', 'nice');
});

test('AppArmor profile and SELinux label: a clear error on a host without them', {
  skip: fs.existsSync('/sys/module/apparmor/parameters/enabled') && fs.existsSync('/sys/fs/selinux/enforce') ? 'this host has both LSMs' : false,
}, () => {
  if (!fs.existsSync('/sys/module/apparmor/parameters/enabled')) {
    const a = run((s) => {
      s.process!.apparmorProfile = 'tsrun-test';
    }, 'echo should-not-run');
    assert.notEqual(a.code, 0);
    assert.match(a.stderr, /apparmor profile "tsrun-test" requested but AppArmor is not enabled on this host/);
    assert.doesNotMatch(a.stdout, /should-not-run/);
  }
  if (!fs.existsSync('/sys/fs/selinux/enforce')) {
    const l = run((s) => {
      s.process!.selinuxLabel = 'system_u:system_r:container_t:s0';
    }, 'echo should-not-run');
    assert.notEqual(l.code, 0);
    assert.match(l.stderr, /SELinux is not enabled on this host/);
    assert.doesNotMatch(l.stdout, /should-not-run/);
  }
  assertNothingLeft();
});
