// `tsrun features`: valid JSON, and it lists exactly what the config-*
// tests exercise (and nothing this build cannot do).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';

import { World } from '../helpers/tsrun';

const w = new World('tsrun-test-config-features');
after(() => w.cleanup());

test('features is valid JSON and matches what this build does', () => {
  const r = w.tsrun(['features']);
  assert.equal(r.code, 0, r.stderr);
  const f = JSON.parse(r.stdout);
  assert.equal(f.ociVersionMin, '1.0.0');
  assert.match(f.ociVersionMax, /^1\.2\.\d+$/);
  // every hook phase (config-hooks.test.ts)
  assert.deepEqual(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  assert.ok(Array.isArray(f.mountOptions) && f.mountOptions.includes('rbind') && f.mountOptions.includes('ro'));
  const l = f.linux;
  // namespaces, time and user included (config-userns.test.ts)
  assert.deepEqual([...l.namespaces].sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
  for (const c of ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_CHECKPOINT_RESTORE']) assert.ok(l.capabilities.includes(c), c);
  // cgroups: the cgroupfs driver on v1 and v2; no systemd driver (config-cgroups.test.ts)
  assert.equal(l.cgroup.v1, true);
  assert.equal(l.cgroup.v2, true);
  assert.equal(l.cgroup.systemd, false);
  assert.equal(l.cgroup.systemdUser, false);
  // seccomp: what podman's profile and the custom rules use, and notify
  assert.equal(l.seccomp.enabled, true);
  for (const a of ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG']) assert.ok(l.seccomp.actions.includes(a), a);
  assert.ok(l.seccomp.actions.includes('SCMP_ACT_NOTIFY'), 'seccomp notify is supported');
  assert.deepEqual([...l.seccomp.operators].sort(), ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE']);
  for (const a of ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']) assert.ok(l.seccomp.archs.includes(a), a);
  for (const flag of l.seccomp.supportedFlags) assert.ok(l.seccomp.knownFlags.includes(flag), flag);
  assert.ok(l.seccomp.supportedFlags.includes('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'), 'meaningful with notify');
  // LSMs: enabled only where the host has them (config-security.test.ts checks the error otherwise)
  assert.equal(l.apparmor.enabled, fs.existsSync('/sys/module/apparmor/parameters/enabled') && fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y');
  assert.equal(l.selinux.enabled, fs.existsSync('/sys/fs/selinux/enforce'));
  assert.equal(l.intelRdt.enabled, false);
  assert.equal(l.mountExtensions.idmap.enabled, false);
  assert.equal(f.annotations['org.opencontainers.runtime.name'], 'tsrun');
});

test('features takes no arguments and needs no state', () => {
  const r = w.tsrun(['features', 'extra']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^tsrun: /);
});
