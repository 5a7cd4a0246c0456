// Lowers the security-related parts of config.json (capabilities, seccomp,
// rlimits, I/O priority, scheduler, personality) to the plan's TLV groups
// (native-shim/include/protocol.h).  Pure: no I/O, no native modules.
//
// Every function that validates takes `base`, the location of the object for
// error messages: the file name, a colon and the JSON pointer, e.g.
// 'config.json: /process/capabilities'.  All problems of one object are
// reported together in one ConfigError, one line each:
//   config.json: /process/capabilities/bounding/2: unknown capability "CAP_FOO"

import { ConfigError } from '../errors';
import type { Capabilities, Rlimit, Scheduler, Seccomp, Spec } from '../spec/types';
import { ARG, CAPS, IOP, PLAN, RL, RULE, SC, SCA, SCHD, SCO } from './protocol';
import { TlvWriter } from './tlv';

const U64_MAX = (1n << 64n) - 1n;

/** A JSON number as u64: negatives as two's complement (-1 = all ones), values past 2^64-1 clamp
 *  (18446744073709551615 in JSON parses to 2^64). */
function toU64(n: number): bigint {
  if (!Number.isFinite(n)) return U64_MAX;
  const b = BigInt(Math.trunc(n));
  if (b > U64_MAX) return U64_MAX;
  return BigInt.asUintN(64, b);
}

function isInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n);
}

// ---- capabilities ----------------------------------------------------------

/** Capability names by number (include/uapi/linux/capability.h). */
export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', // 0
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL', // 5
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE', // 10
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', // 15
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', // 20
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', // 25
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL', // 30
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM', // 35
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE', // 40
];

const CAP_NUMBERS: ReadonlyMap<string, number> = new Map(CAPABILITIES.map((name, i) => [name, i]));

/** The number of a capability ("CAP_SYS_ADMIN" -> 21); -1 when unknown. */
export function capabilityNumber(name: string): number {
  return CAP_NUMBERS.get(name) ?? -1;
}

const CAP_SETS = [
  ['bounding', CAPS.BOUNDING],
  ['effective', CAPS.EFFECTIVE],
  ['permitted', CAPS.PERMITTED],
  ['inheritable', CAPS.INHERITABLE],
  ['ambient', CAPS.AMBIENT],
] as const;

/** Capability names -> bit mask (bit N = capability N); unknown names are reported in `problems`. */
export function capabilityMask(names: readonly string[] | undefined, where: string, problems: string[]): bigint {
  let mask = 0n;
  (names ?? []).forEach((name, i) => {
    const n = typeof name === 'string' ? capabilityNumber(name) : -1;
    if (n < 0) problems.push(`${where}/${i}: unknown capability ${JSON.stringify(name)}`);
    else mask |= 1n << BigInt(n);
  });
  return mask;
}

/**
 * Writes the PLAN_CAPS group.  An absent capabilities object writes nothing (the process keeps
 * the capabilities it has, as runc); an absent list inside it is the empty set.
 */
export function lowerCapabilities(
  caps: Capabilities | undefined,
  w: TlvWriter,
  base = 'config.json: /process/capabilities',
): void {
  if (caps === undefined || caps === null) return;
  const problems: string[] = [];
  const masks = CAP_SETS.map(([key, tag]) => [tag, capabilityMask(caps[key], `${base}/${key}`, problems)] as const);
  if (problems.length) throw new ConfigError(problems);
  w.group(PLAN.CAPS, (g) => {
    for (const [tag, mask] of masks) g.u64(tag, mask);
  });
}

// ---- seccomp ---------------------------------------------------------------

const SECCOMP_ACTION_CODES: ReadonlyMap<string, number> = new Map([
  ['SCMP_ACT_KILL', SCA.KILL],
  ['SCMP_ACT_KILL_PROCESS', SCA.KILL_PROCESS],
  ['SCMP_ACT_KILL_THREAD', SCA.KILL_THREAD],
  ['SCMP_ACT_TRAP', SCA.TRAP],
  ['SCMP_ACT_ERRNO', SCA.ERRNO],
  ['SCMP_ACT_TRACE', SCA.TRACE],
  ['SCMP_ACT_ALLOW', SCA.ALLOW],
  ['SCMP_ACT_LOG', SCA.LOG],
  ['SCMP_ACT_NOTIFY', SCA.NOTIFY],
]);

/** Seccomp actions the runtime supports (for `tsrun features`). */
export const SECCOMP_ACTIONS: readonly string[] = [...SECCOMP_ACTION_CODES.keys()];

/** The runtime-spec version of the container process state (runc: specs.Version). */
export const SECCOMP_STATE_VERSION = '1.2.0';

/**
 * The container process state the seccomp listener receives with the notify fd
 * (runtime-spec config-linux.md "seccomp notify"), as a template for the shim:
 * every 0x01 byte stands for the process's host pid, known only in the shim.
 * `state` is the OCI state (its pid is replaced too).
 */
export function seccompProcessState(state: object, metadata?: string): string {
  const obj: Record<string, unknown> = { ociVersion: SECCOMP_STATE_VERSION, fds: ['seccompFd'], pid: '\x01' };
  if (metadata) obj.metadata = metadata;
  obj.state = { ...state, pid: '\x01' };
  // JSON.stringify escapes control characters, so the only raw 0x01 bytes are
  // ours; ':"\u0001"' cannot occur inside a string (a quote there has a backslash before it)
  return JSON.stringify(obj).split(':"\\u0001"').join(':\x01');
}

const SECCOMP_OPERATOR_CODES: ReadonlyMap<string, number> = new Map([
  ['SCMP_CMP_NE', SCO.NE],
  ['SCMP_CMP_LT', SCO.LT],
  ['SCMP_CMP_LE', SCO.LE],
  ['SCMP_CMP_EQ', SCO.EQ],
  ['SCMP_CMP_GE', SCO.GE],
  ['SCMP_CMP_GT', SCO.GT],
  ['SCMP_CMP_MASKED_EQ', SCO.MASKED_EQ],
]);

export const SECCOMP_OPERATORS: readonly string[] = [...SECCOMP_OPERATOR_CODES.keys()];

/** Architectures libseccomp 2.5 resolves (the shim strips SCMP_ARCH_ and lower-cases). */
export const SECCOMP_ARCHS: readonly string[] = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
];

/** Filter flags the shim passes to seccomp(2) (WAIT_KILLABLE_RECV is accepted and ignored: it only
 *  applies with a notify listener). */
export const SECCOMP_FLAGS: readonly string[] = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

function seccompAction(action: unknown, where: string, problems: string[]): number {
  const code = typeof action === 'string' ? SECCOMP_ACTION_CODES.get(action) : undefined;
  if (code === undefined) {
    problems.push(`${where}: unknown seccomp action ${JSON.stringify(action)}`);
    return 0;
  }
  return code;
}

function checkErrno(
  errnoRet: number | undefined,
  action: number,
  where: string,
  problems: string[],
): number | undefined {
  if (errnoRet === undefined || errnoRet === null) return undefined;
  if (!isInt(errnoRet) || errnoRet < 0 || errnoRet > 0xffff) {
    problems.push(`${where}: errno ${JSON.stringify(errnoRet)} out of range (0-65535)`);
    return undefined;
  }
  if (action !== SCA.ERRNO && action !== SCA.TRACE && action !== 0) {
    problems.push(`${where}: an errno return code is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE`);
    return undefined;
  }
  return errnoRet;
}

/** Writes the PLAN_SECCOMP group (and PLAN_SECCOMP_LISTENER when listenerPath is set). */
export function lowerSeccomp(s: Seccomp, w: TlvWriter, base = 'config.json: /linux/seccomp'): void {
  const problems: string[] = [];
  const g = new TlvWriter();

  const defaultAction = seccompAction(s.defaultAction, `${base}/defaultAction`, problems);
  g.u64(SC.DEFAULT_ACTION, defaultAction);
  const defaultErrno = checkErrno(s.defaultErrnoRet, defaultAction, `${base}/defaultErrnoRet`, problems);
  if (defaultErrno !== undefined) g.u64(SC.DEFAULT_ERRNO, defaultErrno);

  (s.architectures ?? []).forEach((arch, i) => {
    if (!SECCOMP_ARCHS.includes(arch)) problems.push(`${base}/architectures/${i}: unknown architecture ${JSON.stringify(arch)}`);
    else g.str(SC.ARCH, arch);
  });
  (s.flags ?? []).forEach((flag, i) => {
    if (!SECCOMP_FLAGS.includes(flag)) problems.push(`${base}/flags/${i}: unknown seccomp flag ${JSON.stringify(flag)}`);
    else g.str(SC.FLAG, flag);
  });

  (s.syscalls ?? []).forEach((sc, i) => {
    const where = `${base}/syscalls/${i}`;
    const action = seccompAction(sc.action, `${where}/action`, problems);
    const errnoRet = checkErrno(sc.errnoRet, action, `${where}/errnoRet`, problems);
    g.group(SC.RULE, (r) => {
      (sc.names ?? []).forEach((name, j) => {
        if (typeof name !== 'string' || name === '') problems.push(`${where}/names/${j}: invalid syscall name ${JSON.stringify(name)}`);
        else r.str(RULE.NAME, name);
      });
      r.u64(RULE.ACTION, action);
      if (errnoRet !== undefined) r.u64(RULE.ERRNO, errnoRet);
      (sc.args ?? []).forEach((arg, j) => {
        const aw = `${where}/args/${j}`;
        if (!isInt(arg.index) || arg.index < 0 || arg.index > 5) {
          problems.push(`${aw}/index: argument index ${JSON.stringify(arg.index)} out of range (0-5)`);
          return;
        }
        const op = typeof arg.op === 'string' ? SECCOMP_OPERATOR_CODES.get(arg.op) : undefined;
        if (op === undefined) {
          problems.push(`${aw}/op: unknown seccomp operator ${JSON.stringify(arg.op)}`);
          return;
        }
        r.group(RULE.ARG, (a) => {
          a.u64(ARG.INDEX, arg.index);
          a.u64(ARG.VALUE, toU64(arg.value ?? 0));
          a.u64(ARG.VALUE_TWO, toU64(arg.valueTwo ?? 0));
          a.u64(ARG.OP, op);
        });
      });
    });
  });

  if (problems.length) throw new ConfigError(problems);
  w.raw(PLAN.SECCOMP, g.toBuffer());
  if (s.listenerPath) w.str(PLAN.SECCOMP_LISTENER, s.listenerPath);
}

/** PLAN_SECCOMP_STATE when a listener is configured: the state the listener receives (see seccompProcessState). */
export function lowerSeccompState(spec: Pick<Spec, 'linux'>, state: object | undefined, w: TlvWriter): void {
  const s = spec.linux?.seccomp;
  if (!s?.listenerPath || !state) return;
  w.str(PLAN.SECCOMP_STATE, seccompProcessState(state, s.listenerMetadata));
}

// ---- rlimits ---------------------------------------------------------------

/** RLIMIT_* names by number (asm-generic/resource.h, x86 and arm64). */
export const RLIMITS: readonly string[] = [
  'RLIMIT_CPU', // 0
  'RLIMIT_FSIZE',
  'RLIMIT_DATA',
  'RLIMIT_STACK',
  'RLIMIT_CORE',
  'RLIMIT_RSS', // 5
  'RLIMIT_NPROC',
  'RLIMIT_NOFILE',
  'RLIMIT_MEMLOCK',
  'RLIMIT_AS',
  'RLIMIT_LOCKS', // 10
  'RLIMIT_SIGPENDING',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME', // 15
];

/** "RLIMIT_NOFILE" -> 7; -1 when unknown. */
export function rlimitNumber(name: string): number {
  return RLIMITS.indexOf(name);
}

/** Writes one PLAN_RLIMIT group per rlimit, in order. */
export function lowerRlimits(
  rlimits: readonly Rlimit[] | undefined,
  w: TlvWriter,
  base = 'config.json: /process/rlimits',
): void {
  if (!rlimits?.length) return;
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const out: Array<[number, bigint, bigint]> = [];
  rlimits.forEach((rl, i) => {
    const where = `${base}/${i}`;
    const n = typeof rl.type === 'string' ? rlimitNumber(rl.type) : -1;
    if (n < 0) {
      problems.push(`${where}/type: unknown rlimit ${JSON.stringify(rl.type)}`);
      return;
    }
    const prev = seen.get(rl.type);
    if (prev !== undefined) {
      problems.push(`${where}/type: duplicate rlimit ${JSON.stringify(rl.type)} (also at ${base}/${prev})`);
      return;
    }
    seen.set(rl.type, i);
    if (typeof rl.soft !== 'number' || typeof rl.hard !== 'number') {
      problems.push(`${where}: soft and hard must be numbers`);
      return;
    }
    const soft = toU64(rl.soft);
    const hard = toU64(rl.hard);
    if (soft > hard) {
      problems.push(`${where}: soft limit ${rl.soft} is greater than the hard limit ${rl.hard}`);
      return;
    }
    out.push([n, soft, hard]);
  });
  if (problems.length) throw new ConfigError(problems);
  for (const [n, soft, hard] of out) {
    w.group(PLAN.RLIMIT, (g) => {
      g.u64(RL.RESOURCE, n);
      g.u64(RL.SOFT, soft);
      g.u64(RL.HARD, hard);
    });
  }
}

// ---- I/O priority ----------------------------------------------------------

const IOPRIO_CLASSES: Readonly<Record<string, number>> = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
};

/** Writes the PLAN_IOPRIO group (nothing when p is absent). */
export function lowerIoPriority(
  p: { class: string; priority: number } | undefined,
  w: TlvWriter,
  base = 'config.json: /process/ioPriority',
): void {
  if (p === undefined || p === null) return;
  const problems: string[] = [];
  const klass = Object.prototype.hasOwnProperty.call(IOPRIO_CLASSES, p.class) ? IOPRIO_CLASSES[p.class] : undefined;
  if (klass === undefined) problems.push(`${base}/class: unknown I/O priority class ${JSON.stringify(p.class)}`);
  const level = p.priority ?? 0;
  if (!isInt(level) || level < 0 || level > 7) problems.push(`${base}/priority: ${JSON.stringify(p.priority)} out of range (0-7)`);
  if (problems.length) throw new ConfigError(problems);
  w.group(PLAN.IOPRIO, (g) => {
    g.u64(IOP.CLASS, klass!);
    g.u64(IOP.LEVEL, level);
  });
}

// ---- scheduler -------------------------------------------------------------

export const SCHED_POLICIES: Readonly<Record<string, number>> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

export const SCHED_FLAGS: Readonly<Record<string, number>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

function own<T>(rec: Readonly<Record<string, T>>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}

/** Writes the PLAN_SCHEDULER group (nothing when s is absent).  Checks as runc does. */
export function lowerScheduler(
  s: Scheduler | undefined,
  w: TlvWriter,
  base = 'config.json: /process/scheduler',
): void {
  if (s === undefined || s === null) return;
  const problems: string[] = [];
  const policy = own(SCHED_POLICIES, s.policy);
  if (policy === undefined) problems.push(`${base}/policy: unknown scheduler policy ${JSON.stringify(s.policy)}`);
  const nice = s.nice ?? 0;
  if (!isInt(nice) || nice < -20 || nice > 19) problems.push(`${base}/nice: ${JSON.stringify(s.nice)} out of range (-20 to 19)`);
  const priority = s.priority ?? 0;
  if (!isInt(priority) || priority < 0) problems.push(`${base}/priority: invalid priority ${JSON.stringify(s.priority)}`);
  else if (priority !== 0 && policy !== undefined && policy !== SCHED_POLICIES.SCHED_FIFO && policy !== SCHED_POLICIES.SCHED_RR)
    problems.push(`${base}/priority: a priority is only valid with SCHED_FIFO or SCHED_RR`);
  let flags = 0;
  (s.flags ?? []).forEach((f, i) => {
    const bit = own(SCHED_FLAGS, f);
    if (bit === undefined) problems.push(`${base}/flags/${i}: unknown scheduler flag ${JSON.stringify(f)}`);
    else flags |= bit;
  });
  const runtime = s.runtime ?? 0;
  const deadline = s.deadline ?? 0;
  const period = s.period ?? 0;
  for (const [key, v] of [['runtime', runtime], ['deadline', deadline], ['period', period]] as const) {
    if (!isInt(v) || v < 0) problems.push(`${base}/${key}: invalid value ${JSON.stringify(v)}`);
  }
  if (policy !== undefined && policy !== SCHED_POLICIES.SCHED_DEADLINE && (runtime || deadline || period))
    problems.push(`${base}: runtime, deadline and period are only valid with SCHED_DEADLINE`);
  if (problems.length) throw new ConfigError(problems);
  w.group(PLAN.SCHEDULER, (g) => {
    g.u64(SCHD.POLICY, policy!);
    g.u64(SCHD.NICE, nice);
    g.u64(SCHD.PRIORITY, priority);
    g.u64(SCHD.FLAGS, flags);
    g.u64(SCHD.RUNTIME, toU64(runtime));
    g.u64(SCHD.DEADLINE, toU64(deadline));
    g.u64(SCHD.PERIOD, toU64(period));
  });
}

// ---- personality -----------------------------------------------------------

const PERSONALITY_DOMAINS: Readonly<Record<string, number>> = {
  LINUX: 0x0,
  LINUX32: 0x8,
};

/** personality(2) domain of linux.personality.domain: LINUX = 0x0, LINUX32 = 0x8. */
export function personalityDomain(domain: string, where = 'config.json: /linux/personality/domain'): number {
  const v = own(PERSONALITY_DOMAINS, domain);
  if (v === undefined) throw new ConfigError([`${where}: unknown personality domain ${JSON.stringify(domain)}`]);
  return v;
}
