// The shim's security code (native-shim/src/security.c, seccomp.c) against the real kernel,
// without a container: builds native-shim/test/security_test.c and runs it, and runs busybox
// under podman's default seccomp profile as lowered by src/shim/lower-security.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { lowerSeccomp } from '../../src/shim/lower-security';
import { PLAN } from '../../src/shim/protocol';
import { readTlv, TlvWriter } from '../../src/shim/tlv';
import type { Seccomp, Spec } from '../../src/spec/types';

const TOP = path.resolve(__dirname, '../../..');
const SHIM = path.join(TOP, 'native-shim');
// podman's default seccomp profile (from shared/clients/examples/podman-config.json; CI has no /work/shared)
const PODMAN_SECCOMP = path.join(TOP, 'test', 'fixtures', 'podman-seccomp.json');
const BUSYBOX = '/bin/busybox';

const isRoot = process.geteuid?.() === 0;
const haveGcc = spawnSync('gcc', ['--version']).status === 0;
const skip = !isRoot ? 'needs root' : !haveGcc ? 'needs gcc' : false;

let dir = '';
let harness = '';

before(() => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-security-'));
  harness = path.join(dir, 'security_test');
  const src = ['tlv.c', 'error.c', 'security.c', 'seccomp.c'].map((f) => path.join(SHIM, 'src', f));
  const r = spawnSync(
    'gcc',
    ['-Wall', '-Wextra', '-Werror', `-I${SHIM}/include`, ...src, path.join(SHIM, 'test', 'security_test.c'),
      '-l:libseccomp.a', '-static', '-o', harness],
    { encoding: 'utf8' },
  );
  // glibc warns about getpwnam & co. in static links; anything else is an error
  assert.equal(r.status, 0, `gcc failed:\n${r.stderr}`);
});

after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function writePlan(s: Seccomp): string {
  const w = new TlvWriter();
  lowerSeccomp(s, w);
  const group = readTlv(w.toBuffer()).find((e) => e.tag === PLAN.SECCOMP);
  assert.ok(group);
  const file = path.join(dir, `seccomp-${Math.random().toString(36).slice(2)}.bin`);
  fs.writeFileSync(file, group.value);
  return file;
}

function runUnder(plan: string, script: string, nnp = true) {
  // a new UTS namespace so that a filter that failed to block sethostname cannot touch the host
  return spawnSync(
    'unshare',
    ['-u', harness, '--seccomp-plan', plan, ...(nnp ? ['--nnp'] : []), '--', BUSYBOX, 'sh', '-c', script],
    { encoding: 'utf8', timeout: 20000 },
  );
}

test('security_test.c: seccomp, capabilities, personality, ioprio, scheduler, LSM errors', { skip }, () => {
  const r = spawnSync(harness, [], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /all passed/);
  assert.doesNotMatch(r.stdout, /FAIL/);
  assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('ok ')).length, 9);
});

test("podman's default profile: normal work runs, denied syscalls fail with the configured errno", { skip }, () => {
  const plan = writePlan(JSON.parse(fs.readFileSync(PODMAN_SECCOMP, 'utf8')) as Seccomp);
  const r = runUnder(
    plan,
    'ls / >/dev/null && echo ls-ok; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; hostname tsrun-denied; echo hostname=$?',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ls-ok$/m);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
  assert.match(r.stdout, /^hostname=1$/m);
  assert.match(r.stderr, /sethostname: Operation not permitted/);
});

test('custom errno rules and the default errno reach the process', { skip }, () => {
  const plan = writePlan({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['mkdir', 'mkdirat', 'tsrun_not_a_syscall'], action: 'SCMP_ACT_ERRNO', errnoRet: 123 }, // ENOMEDIUM
      { names: ['fchmodat', 'chmod'], action: 'SCMP_ACT_ERRNO' }, // EPERM
    ],
  });
  const r = runUnder(plan, `mkdir ${dir}/never; echo mkdir=$?; chmod 700 ${dir}; echo chmod=$?; echo done`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^mkdir=1$/m);
  assert.match(r.stderr, /No medium found/);
  assert.match(r.stdout, /^chmod=1$/m);
  assert.match(r.stderr, /Operation not permitted/);
  assert.match(r.stdout, /^done$/m);
  assert.equal(fs.existsSync(path.join(dir, 'never')), false);

  // deny by default: an allowed list without mkdir gives the default errno (ENOSYS here, like podman)
  const s = JSON.parse(fs.readFileSync(PODMAN_SECCOMP, 'utf8')) as Seccomp;
  s.syscalls = s.syscalls!.map((sc) => ({ ...sc, names: sc.names.filter((n) => n !== 'mkdir' && n !== 'mkdirat') }));
  const r2 = runUnder(writePlan(s), `mkdir ${dir}/never2; echo mkdir=$?`);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stdout, /^mkdir=1$/m);
  assert.match(r2.stderr, /Function not implemented/);
});

test('loading without no_new_privs works as root (CAP_SYS_ADMIN); NOTIFY without a listener gives ENOSYS', { skip }, () => {
  const plan = writePlan({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO' }] });
  const r = runUnder(plan, 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status', false);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^NoNewPrivs:\s+0$/m);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);

  // the harness sends the notify fd nowhere: execve closes it (close-on-exec) and the kernel
  // then fails every notified syscall with ENOSYS
  const notify = writePlan({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] });
  const r2 = runUnder(notify, `mkdir ${dir}/notified; echo mkdir=$?; echo after`);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stdout, /^mkdir=1$/m);
  assert.match(r2.stderr, /Function not implemented/);
  assert.match(r2.stdout, /^after$/m);
  assert.equal(fs.existsSync(path.join(dir, 'notified')), false);
});
