// PLACEHOLDER until the security branch lands (it replaces this file).
import type { Capabilities, Rlimit, Scheduler, Seccomp } from '../spec/types';
import type { TlvWriter } from './tlv';
import { PLAN, RL } from './protocol';
const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5, RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};
export function lowerCapabilities(_c: Capabilities, _w: TlvWriter): void {}
export function lowerSeccomp(_s: Seccomp, _w: TlvWriter): void {}
export function lowerRlimits(r: Rlimit[], w: TlvWriter): void {
  for (const l of r) w.group(PLAN.RLIMIT, (g) => g.u64(RL.RESOURCE, RLIMITS[l.type]).u64(RL.SOFT, l.soft).u64(RL.HARD, l.hard));
}
export function lowerIoPriority(_p: unknown, _w: TlvWriter): void {}
export function lowerScheduler(_s: Scheduler, _w: TlvWriter): void {}
export function personalityDomain(d: string): number {
  return d === 'LINUX32' ? 8 : 0;
}
export function capabilityNumber(_n: string): number {
  return 0;
}
