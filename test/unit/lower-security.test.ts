import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';

import { ConfigError } from '../../src/errors';
import { ARG, CAPS, IOP, PLAN, RL, RULE, SC, SCA, SCHD, SCO } from '../../src/shim/protocol';
import { readTlv, tlvU64, TlvWriter, type TlvEntry } from '../../src/shim/tlv';
import {
  lowerSeccompState,
  seccompProcessState,
  CAPABILITIES,
  SECCOMP_ACTIONS,
  SECCOMP_ARCHS,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  capabilityNumber,
  lowerCapabilities,
  lowerIoPriority,
  lowerRlimits,
  lowerScheduler,
  lowerSeccomp,
  personalityDomain,
  rlimitNumber,
} from '../../src/shim/lower-security';
import type { Seccomp, Spec } from '../../src/spec/types';

const PODMAN_CONFIG = '/work/shared/clients/examples/podman-config.json';

function lower(fn: (w: TlvWriter) => void): TlvEntry[] {
  const w = new TlvWriter();
  fn(w);
  return readTlv(w.toBuffer());
}

function only(entries: TlvEntry[], tag: number): TlvEntry {
  const found = entries.filter((e) => e.tag === tag);
  assert.equal(found.length, 1, `exactly one entry with tag ${tag}`);
  return found[0];
}

function u64(entries: TlvEntry[], tag: number): bigint {
  return tlvU64(only(entries, tag).value);
}

function strs(entries: TlvEntry[], tag: number): string[] {
  return entries.filter((e) => e.tag === tag).map((e) => e.value.toString('utf8'));
}

function configErrorLines(fn: () => void): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

const bit = (name: string) => 1n << BigInt(capabilityNumber(name));

test('capabilityNumber knows every capability up to CAP_CHECKPOINT_RESTORE', () => {
  assert.equal(CAPABILITIES.length, 41);
  assert.equal(capabilityNumber('CAP_CHOWN'), 0);
  assert.equal(capabilityNumber('CAP_SETPCAP'), 8);
  assert.equal(capabilityNumber('CAP_NET_BIND_SERVICE'), 10);
  assert.equal(capabilityNumber('CAP_SYS_ADMIN'), 21);
  assert.equal(capabilityNumber('CAP_SYS_RESOURCE'), 24);
  assert.equal(capabilityNumber('CAP_AUDIT_WRITE'), 29);
  assert.equal(capabilityNumber('CAP_SETFCAP'), 31);
  assert.equal(capabilityNumber('CAP_AUDIT_READ'), 37);
  assert.equal(capabilityNumber('CAP_PERFMON'), 38);
  assert.equal(capabilityNumber('CAP_BPF'), 39);
  assert.equal(capabilityNumber('CAP_CHECKPOINT_RESTORE'), 40);
  assert.equal(capabilityNumber('CAP_FOO'), -1);
  assert.equal(capabilityNumber('SYS_ADMIN'), -1);
  CAPABILITIES.forEach((name, i) => assert.equal(capabilityNumber(name), i));
});

test('lowerCapabilities writes the five masks; absent lists are empty sets', () => {
  const top = lower((w) =>
    lowerCapabilities({ bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_CHECKPOINT_RESTORE'], effective: ['CAP_KILL'] }, w),
  );
  assert.equal(top.length, 1);
  assert.equal(top[0].tag, PLAN.CAPS);
  const g = readTlv(top[0].value);
  assert.equal(u64(g, CAPS.BOUNDING), bit('CAP_CHOWN') | bit('CAP_KILL') | (1n << 40n));
  assert.equal(u64(g, CAPS.EFFECTIVE), 1n << 5n);
  assert.equal(u64(g, CAPS.PERMITTED), 0n);
  assert.equal(u64(g, CAPS.INHERITABLE), 0n);
  assert.equal(u64(g, CAPS.AMBIENT), 0n);
});

test('lowerCapabilities writes nothing without a capabilities object (keep all)', () => {
  assert.deepEqual(lower((w) => lowerCapabilities(undefined, w)), []);
});

test('lowerCapabilities reports every unknown capability with its JSON pointer', () => {
  const lines = configErrorLines(() =>
    lowerCapabilities({ bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_FOO'], ambient: ['cap_chown'] }, new TlvWriter()),
  );
  assert.deepEqual(lines, [
    'config.json: /process/capabilities/bounding/2: unknown capability "CAP_FOO"',
    'config.json: /process/capabilities/ambient/0: unknown capability "cap_chown"',
  ]);
  const exec = configErrorLines(() =>
    lowerCapabilities({ effective: ['CAP_BAR'] }, new TlvWriter(), 'process.json: /capabilities'),
  );
  assert.deepEqual(exec, ['process.json: /capabilities/effective/0: unknown capability "CAP_BAR"']);
});

test('lowerSeccomp lowers actions, errnos, arches, flags and argument conditions', () => {
  const s: Seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    flags: ['SECCOMP_FILTER_FLAG_LOG'],
    listenerPath: '/run/listener.sock',
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 123 },
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO' },
      {
        names: ['personality'],
        action: 'SCMP_ACT_ALLOW',
        args: [
          { index: 0, value: 4294967295, op: 'SCMP_CMP_EQ' },
          { index: 1, value: 0xf0, valueTwo: 0x10, op: 'SCMP_CMP_MASKED_EQ' },
        ],
      },
      { names: ['kill'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 2, value: 18446744073709551615, op: 'SCMP_CMP_NE' }] },
    ],
  };
  const top = lower((w) => lowerSeccomp(s, w));
  assert.equal(top.length, 2);
  assert.equal(only(top, PLAN.SECCOMP_LISTENER).value.toString(), '/run/listener.sock');
  const g = readTlv(only(top, PLAN.SECCOMP).value);
  assert.equal(u64(g, SC.DEFAULT_ACTION), BigInt(SCA.ERRNO));
  assert.equal(u64(g, SC.DEFAULT_ERRNO), 38n);
  assert.deepEqual(strs(g, SC.ARCH), ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  assert.deepEqual(strs(g, SC.FLAG), ['SECCOMP_FILTER_FLAG_LOG']);

  const rules = g.filter((e) => e.tag === SC.RULE).map((e) => readTlv(e.value));
  assert.equal(rules.length, 5);
  assert.deepEqual(strs(rules[0], RULE.NAME), ['read', 'write']);
  assert.equal(u64(rules[0], RULE.ACTION), BigInt(SCA.ALLOW));
  assert.equal(rules[0].filter((e) => e.tag === RULE.ERRNO).length, 0);
  assert.equal(u64(rules[1], RULE.ERRNO), 123n);
  assert.equal(rules[2].filter((e) => e.tag === RULE.ERRNO).length, 0, 'absent errnoRet stays absent (shim uses EPERM)');

  const args = rules[3].filter((e) => e.tag === RULE.ARG).map((e) => readTlv(e.value));
  assert.equal(args.length, 2);
  assert.equal(u64(args[0], ARG.INDEX), 0n);
  assert.equal(u64(args[0], ARG.VALUE), 4294967295n);
  assert.equal(u64(args[0], ARG.OP), BigInt(SCO.EQ));
  assert.equal(u64(args[1], ARG.INDEX), 1n);
  assert.equal(u64(args[1], ARG.VALUE), 0xf0n);
  assert.equal(u64(args[1], ARG.VALUE_TWO), 0x10n);
  assert.equal(u64(args[1], ARG.OP), BigInt(SCO.MASKED_EQ));

  assert.equal(u64(rules[4], RULE.ACTION), BigInt(SCA.KILL_PROCESS));
  const killArg = readTlv(only(rules[4], RULE.ARG).value);
  assert.equal(u64(killArg, ARG.VALUE), (1n << 64n) - 1n, 'u64 max survives the double rounding');
});

test('lowerSeccomp maps every action and operator name', () => {
  const names = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
    'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'];
  const codes = [SCA.KILL, SCA.KILL_PROCESS, SCA.KILL_THREAD, SCA.TRAP, SCA.ERRNO, SCA.TRACE, SCA.ALLOW, SCA.LOG, SCA.NOTIFY];
  const ops = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
  const opCodes = [SCO.NE, SCO.LT, SCO.LE, SCO.EQ, SCO.GE, SCO.GT, SCO.MASKED_EQ];
  const s: Seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: names.map((action, i) => ({ names: ['getpid'], action, args: [{ index: 0, value: 1, op: ops[i % ops.length] }] })),
  };
  const g = readTlv(only(lower((w) => lowerSeccomp(s, w)), PLAN.SECCOMP).value);
  const rules = g.filter((e) => e.tag === SC.RULE).map((e) => readTlv(e.value));
  rules.forEach((r, i) => {
    assert.equal(u64(r, RULE.ACTION), BigInt(codes[i]), names[i]);
    assert.equal(u64(readTlv(only(r, RULE.ARG).value), ARG.OP), BigInt(opCodes[i % ops.length]));
  });
  assert.ok(SECCOMP_ACTIONS.includes('SCMP_ACT_NOTIFY'), 'notify is advertised');
  assert.ok(SECCOMP_ACTIONS.includes('SCMP_ACT_KILL_PROCESS'));
  assert.deepEqual([...SECCOMP_OPERATORS], ops);
  assert.ok(SECCOMP_ARCHS.includes('SCMP_ARCH_X86_64') && SECCOMP_ARCHS.includes('SCMP_ARCH_AARCH64'));
  assert.ok(SECCOMP_FLAGS.includes('SECCOMP_FILTER_FLAG_SPEC_ALLOW'));
});

test('lowerSeccomp reports unknown names and bad values with JSON pointers', () => {
  const lines = configErrorLines(() =>
    lowerSeccomp(
      {
        defaultAction: 'SCMP_ACT_ALLOWED',
        architectures: ['SCMP_ARCH_VAX'],
        flags: ['SECCOMP_FILTER_FLAG_NOPE'],
        syscalls: [
          { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' },
          { names: ['mkdir'], action: 'SCMP_ACT_BOOM' },
          { names: ['kill'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 },
          { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 0, op: 'SCMP_CMP_SAME' }] },
        ],
      },
      new TlvWriter(),
    ),
  );
  assert.deepEqual(lines, [
    'config.json: /linux/seccomp/defaultAction: unknown seccomp action "SCMP_ACT_ALLOWED"',
    'config.json: /linux/seccomp/architectures/0: unknown architecture "SCMP_ARCH_VAX"',
    'config.json: /linux/seccomp/flags/0: unknown seccomp flag "SECCOMP_FILTER_FLAG_NOPE"',
    'config.json: /linux/seccomp/syscalls/1/action: unknown seccomp action "SCMP_ACT_BOOM"',
    'config.json: /linux/seccomp/syscalls/2/errnoRet: an errno return code is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE',
    'config.json: /linux/seccomp/syscalls/3/args/0/index: argument index 6 out of range (0-5)',
    'config.json: /linux/seccomp/syscalls/3/args/1/op: unknown seccomp operator "SCMP_CMP_SAME"',
  ]);
});

test("podman's default seccomp profile lowers without error", () => {
  const spec = JSON.parse(fs.readFileSync(PODMAN_CONFIG, 'utf8')) as Spec;
  const s = spec.linux!.seccomp!;
  const top = lower((w) => lowerSeccomp(s, w));
  const g = readTlv(only(top, PLAN.SECCOMP).value);
  assert.equal(u64(g, SC.DEFAULT_ACTION), BigInt(SCA.ERRNO));
  assert.equal(u64(g, SC.DEFAULT_ERRNO), BigInt(s.defaultErrnoRet!));
  assert.deepEqual(strs(g, SC.ARCH), s.architectures);
  const rules = g.filter((e) => e.tag === SC.RULE).map((e) => readTlv(e.value));
  assert.equal(rules.length, s.syscalls!.length);
  const names = rules.flatMap((r) => strs(r, RULE.NAME));
  assert.equal(names.length, s.syscalls!.reduce((n, sc) => n + sc.names.length, 0));
  assert.ok(names.includes('execve'));
  // the same capabilities/rlimits lower too
  const caps = readTlv(only(lower((w) => lowerCapabilities(spec.process!.capabilities, w)), PLAN.CAPS).value);
  assert.equal(u64(caps, CAPS.BOUNDING), spec.process!.capabilities!.bounding!.reduce((m, c) => m | bit(c), 0n));
  assert.equal(u64(caps, CAPS.AMBIENT), 0n);
  const rl = lower((w) => lowerRlimits(spec.process!.rlimits, w));
  assert.equal(rl.length, spec.process!.rlimits!.length);
});

test('lowerRlimits writes resource numbers and limits in order', () => {
  assert.equal(rlimitNumber('RLIMIT_CPU'), 0);
  assert.equal(rlimitNumber('RLIMIT_NOFILE'), 7);
  assert.equal(rlimitNumber('RLIMIT_NPROC'), 6);
  assert.equal(rlimitNumber('RLIMIT_RTTIME'), 15);
  assert.equal(rlimitNumber('RLIMIT_FOO'), -1);
  const top = lower((w) =>
    lowerRlimits(
      [
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
        { type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 },
      ],
      w,
    ),
  );
  assert.deepEqual(top.map((e) => e.tag), [PLAN.RLIMIT, PLAN.RLIMIT]);
  const [a, b] = top.map((e) => readTlv(e.value));
  assert.equal(u64(a, RL.RESOURCE), 7n);
  assert.equal(u64(a, RL.SOFT), 1024n);
  assert.equal(u64(a, RL.HARD), 4096n);
  assert.equal(u64(b, RL.RESOURCE), 4n);
  assert.equal(u64(b, RL.SOFT), (1n << 64n) - 1n, 'RLIM_INFINITY');
  assert.deepEqual(lower((w) => lowerRlimits(undefined, w)), []);
});

test('lowerRlimits rejects unknown, duplicate and inverted limits', () => {
  const lines = configErrorLines(() =>
    lowerRlimits(
      [
        { type: 'RLIMIT_NOFILE', soft: 1, hard: 2 },
        { type: 'RLIMIT_BOGUS', soft: 1, hard: 1 },
        { type: 'RLIMIT_NOFILE', soft: 1, hard: 2 },
        { type: 'RLIMIT_NPROC', soft: 10, hard: 5 },
      ],
      new TlvWriter(),
    ),
  );
  assert.deepEqual(lines, [
    'config.json: /process/rlimits/1/type: unknown rlimit "RLIMIT_BOGUS"',
    'config.json: /process/rlimits/2/type: duplicate rlimit "RLIMIT_NOFILE" (also at config.json: /process/rlimits/0)',
    'config.json: /process/rlimits/3: soft limit 10 is greater than the hard limit 5',
  ]);
});

test('lowerIoPriority writes class and level', () => {
  const g = readTlv(only(lower((w) => lowerIoPriority({ class: 'IOPRIO_CLASS_BE', priority: 4 }, w)), PLAN.IOPRIO).value);
  assert.equal(u64(g, IOP.CLASS), 2n);
  assert.equal(u64(g, IOP.LEVEL), 4n);
  const rt = readTlv(only(lower((w) => lowerIoPriority({ class: 'IOPRIO_CLASS_RT', priority: 0 }, w)), PLAN.IOPRIO).value);
  assert.equal(u64(rt, IOP.CLASS), 1n);
  assert.deepEqual(lower((w) => lowerIoPriority(undefined, w)), []);
  assert.deepEqual(
    configErrorLines(() => lowerIoPriority({ class: 'IOPRIO_CLASS_FAST', priority: 9 }, new TlvWriter())),
    [
      'config.json: /process/ioPriority/class: unknown I/O priority class "IOPRIO_CLASS_FAST"',
      'config.json: /process/ioPriority/priority: 9 out of range (0-7)',
    ],
  );
});

test('lowerScheduler writes policy, nice (as i64), priority, flags and deadline parameters', () => {
  const g = readTlv(
    only(
      lower((w) => lowerScheduler({ policy: 'SCHED_BATCH', nice: -5, flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_KEEP_PARAMS'] }, w)),
      PLAN.SCHEDULER,
    ).value,
  );
  assert.equal(u64(g, SCHD.POLICY), 3n);
  assert.equal(BigInt.asIntN(64, u64(g, SCHD.NICE)), -5n);
  assert.equal(u64(g, SCHD.PRIORITY), 0n);
  assert.equal(u64(g, SCHD.FLAGS), 0x11n);
  const dl = readTlv(
    only(lower((w) => lowerScheduler({ policy: 'SCHED_DEADLINE', runtime: 10000000, deadline: 20000000, period: 30000000 }, w)), PLAN.SCHEDULER).value,
  );
  assert.equal(u64(dl, SCHD.POLICY), 6n);
  assert.equal(u64(dl, SCHD.RUNTIME), 10000000n);
  assert.equal(u64(dl, SCHD.DEADLINE), 20000000n);
  assert.equal(u64(dl, SCHD.PERIOD), 30000000n);
  const fifo = readTlv(only(lower((w) => lowerScheduler({ policy: 'SCHED_FIFO', priority: 50 }, w)), PLAN.SCHEDULER).value);
  assert.equal(u64(fifo, SCHD.PRIORITY), 50n);
  assert.deepEqual(lower((w) => lowerScheduler(undefined, w)), []);
});

test('lowerScheduler checks as runc does', () => {
  assert.deepEqual(
    configErrorLines(() =>
      lowerScheduler({ policy: 'SCHED_OTHER', nice: 30, priority: 5, flags: ['SCHED_FLAG_TURBO'], runtime: 5 }, new TlvWriter()),
    ),
    [
      'config.json: /process/scheduler/nice: 30 out of range (-20 to 19)',
      'config.json: /process/scheduler/priority: a priority is only valid with SCHED_FIFO or SCHED_RR',
      'config.json: /process/scheduler/flags/0: unknown scheduler flag "SCHED_FLAG_TURBO"',
      'config.json: /process/scheduler: runtime, deadline and period are only valid with SCHED_DEADLINE',
    ],
  );
  assert.deepEqual(configErrorLines(() => lowerScheduler({ policy: 'SCHED_FAST' }, new TlvWriter())), [
    'config.json: /process/scheduler/policy: unknown scheduler policy "SCHED_FAST"',
  ]);
});

test('personalityDomain maps LINUX and LINUX32', () => {
  assert.equal(personalityDomain('LINUX'), 0x0);
  assert.equal(personalityDomain('LINUX32'), 0x8);
  assert.deepEqual(configErrorLines(() => personalityDomain('LINUX64')), [
    'config.json: /linux/personality/domain: unknown personality domain "LINUX64"',
  ]);
  assert.deepEqual(configErrorLines(() => personalityDomain('toString')), [
    'config.json: /linux/personality/domain: unknown personality domain "toString"',
  ]);
});

test('seccompProcessState: the runtime-spec container process state, 0x01 where the pid goes', () => {
  const state = { ociVersion: '1.2.0', id: 'c1', pid: 0, status: 'creating', bundle: '/b', annotations: { tricky: 'x":"\x01 "pid":"\x01' } };
  const tpl = seccompProcessState(state, 'meta data');
  // exactly two pid slots, both structural
  assert.equal(tpl.split('\x01').length - 1, 2);
  const parsed = JSON.parse(tpl.split('\x01').join('4242'));
  assert.deepEqual(parsed, {
    ociVersion: '1.2.0',
    fds: ['seccompFd'],
    pid: 4242,
    metadata: 'meta data',
    state: { ...state, pid: 4242 },
  });
  // metadata is omitted when empty (omitempty in the spec's Go types)
  assert.equal('metadata' in JSON.parse(seccompProcessState(state).split('\x01').join('1')), false);

  // written only when a listener is configured
  const withListener = lower((w) =>
    lowerSeccompState({ linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/l.sock', listenerMetadata: 'm' } } }, state, w),
  );
  assert.equal(JSON.parse(only(withListener, PLAN.SECCOMP_STATE).value.toString().split('\x01').join('7')).metadata, 'm');
  assert.deepEqual(lower((w) => lowerSeccompState({ linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } } }, state, w)), []);
});
