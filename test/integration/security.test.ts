// Security attributes of real containers: capabilities, no_new_privs, seccomp (podman's default
// profile and custom rules), rlimits, personality, I/O priority, scheduler, LSM errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { World, TOP } from '../helpers/tsrun';
import { capabilityNumber } from '../../src/shim/lower-security';
import type { Seccomp, Spec } from '../../src/spec/types';

// podman's default seccomp profile (from shared/clients/examples/podman-config.json; CI has no /work/shared)
const PODMAN_SECCOMP = path.join(TOP, 'test', 'fixtures', 'podman-seccomp.json');
const shimBuilt = fs.existsSync(process.env.TSRUN_SHIM ?? path.join(TOP, 'native-shim', 'build', 'tsrun-shim'));
const skip = shimBuilt ? false : 'the shim is not built (native-shim/build/tsrun-shim)';

const w = new World('tsrun-test-security');
after(() => w.cleanup());

const run = (edit: (s: Spec) => void, script: string) => w.runScript('sec', edit, script);

function mask(names: string[]): bigint {
  return names.reduce((m, n) => m | (1n << BigInt(capabilityNumber(n))), 0n);
}

function status(stdout: string, field: string): string {
  const m = new RegExp(`^${field}:\\s*(\\S+)$`, 'm').exec(stdout);
  assert.ok(m, `${field} in /proc/self/status:\n${stdout}`);
  return m[1];
}

const capField = (stdout: string, field: string) => BigInt('0x' + status(stdout, field));

const podmanSeccomp = () => JSON.parse(fs.readFileSync(PODMAN_SECCOMP, 'utf8')) as Seccomp;

// (root with podman's capability set, no_new_privileges on and off: config-security.test.ts)
test('non-root user: ambient capabilities survive execve, bounding and inheritable as configured', { skip }, () => {
  const bounding = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const r = run((s) => {
    s.process!.user = { uid: 1000, gid: 1000 };
    s.process!.capabilities = {
      bounding,
      effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    };
    s.process!.noNewPrivileges = false;
  }, 'id -u; cat /proc/self/status');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1000$/m);
  // after execve without file capabilities: permitted = effective = ambient
  const nbs = mask(['CAP_NET_BIND_SERVICE']);
  assert.equal(capField(r.stdout, 'CapBnd'), mask(bounding));
  assert.equal(capField(r.stdout, 'CapInh'), nbs);
  assert.equal(capField(r.stdout, 'CapAmb'), nbs);
  assert.equal(capField(r.stdout, 'CapPrm'), nbs);
  assert.equal(capField(r.stdout, 'CapEff'), nbs);
  assert.equal(status(r.stdout, 'NoNewPrivs'), '0');
});

test('no capabilities at all: empty sets, privileged operations fail', { skip }, () => {
  const r = run((s) => {
    s.process!.capabilities = {};
  }, `cat /proc/self/status; chown 1:1 /tmp; echo chown=$?`);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['CapBnd', 'CapEff', 'CapPrm', 'CapInh', 'CapAmb']) assert.equal(capField(r.stdout, f), 0n, f);
  assert.match(r.stdout, /^chown=1$/m);
});

test("podman's default seccomp profile: normal work runs, filtered syscalls fail with the configured errno", { skip }, () => {
  const r = run(
    (s) => {
      s.linux!.seccomp = podmanSeccomp();
    },
    'ls / >/dev/null && echo ls-ok; sh -c "echo nested-ok"; grep -E "^Seccomp:" /proc/self/status; ' +
      'mkdir /tmp/x && echo mkdir-ok',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ls-ok$/m);
  assert.match(r.stdout, /^nested-ok$/m);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^mkdir-ok$/m);

  // the same profile without mkdir/mkdirat in its allow list: the default errno (38, ENOSYS)
  const r2 = run(
    (s) => {
      const sc = podmanSeccomp();
      assert.equal(sc.defaultErrnoRet, 38);
      sc.syscalls = sc.syscalls!.map((x) => ({ ...x, names: x.names.filter((n) => n !== 'mkdir' && n !== 'mkdirat') }));
      s.linux!.seccomp = sc;
    },
    'mkdir /tmp/y; echo mkdir=$?; ls / >/dev/null && echo ls-ok',
  );
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /^mkdir=1$/m);
  assert.match(r2.stderr, /Function not implemented/);
  assert.match(r2.stdout, /^ls-ok$/m);
});

test('custom seccomp rules: errnoRet, EPERM by default, argument conditions; also without no_new_privs', { skip }, () => {
  for (const nnp of [true, false]) {
    const r = run(
      (s) => {
        s.process!.noNewPrivileges = nnp;
        s.linux!.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
          syscalls: [
            { names: ['mkdir', 'mkdirat', 'no_such_syscall_tsrun'], action: 'SCMP_ACT_ERRNO', errnoRet: 123 },
            { names: ['chmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO' },
            // only kill(_, SIGUSR1) is refused
            { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 1, value: 10, op: 'SCMP_CMP_EQ' }] },
          ],
        };
      },
      'mkdir /tmp/z; echo mkdir=$?; chmod 700 /tmp; echo chmod=$?; kill -USR1 $$; echo usr1=$?; kill -0 $$; echo zero=$?; grep NoNewPrivs /proc/self/status',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^mkdir=1$/m);
    assert.match(r.stderr, /No medium found/);
    assert.match(r.stdout, /^chmod=1$/m);
    assert.match(r.stderr, /Operation not permitted/);
    assert.match(r.stdout, /^usr1=1$/m);
    assert.match(r.stderr, /Invalid argument/);
    assert.match(r.stdout, /^zero=0$/m);
    assert.match(r.stdout, new RegExp(`^NoNewPrivs:\\s+${nnp ? 1 : 0}$`, 'm'));
  }
});

test('SCMP_ACT_NOTIFY with no listener at listenerPath fails create clearly and leaves nothing behind', { skip }, () => {
  const r = run((s) => {
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: path.join(w.dir, 'listener.sock'),
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
    };
  }, 'echo should-not-run');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /connect to seccomp listenerPath ".*listener\.sock": No such file or directory/);
  assert.doesNotMatch(r.stdout, /should-not-run/);
  assert.deepEqual(fs.existsSync(w.root) ? fs.readdirSync(w.root) : [], []);
});

// (rlimits, personality, I/O priority, scheduler, umask, AppArmor/SELinux errors: config-security.test.ts)
test('config errors name the JSON pointer', { skip }, () => {
  const r = run((s) => {
    s.process!.capabilities!.bounding = ['CAP_CHOWN', 'CAP_FOO'];
  }, 'true');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /config\.json: \/process\/capabilities\/bounding\/1: unknown capability "CAP_FOO"/);

  assert.deepEqual(fs.existsSync(w.root) ? fs.readdirSync(w.root) : [], []);
});
