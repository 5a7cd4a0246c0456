// The security attributes of a process (create and exec alike), lowered to
// plan tags.  The per-object lowering lives in lower-security.ts.
import type { Spec } from '../spec/types';
import { PLAN } from './protocol';
import type { TlvWriter } from './tlv';
import {
  lowerCapabilities,
  lowerIoPriority,
  lowerRlimits,
  lowerScheduler,
  lowerSeccomp,
  personalityDomain,
} from './lower-security';

export function lowerProcessSecurity(spec: Pick<Spec, 'process' | 'linux'>, w: TlvWriter): void {
  const p = spec.process;
  if (p) {
    if (p.capabilities) lowerCapabilities(p.capabilities, w);
    if (p.rlimits?.length) lowerRlimits(p.rlimits, w);
    if (p.oomScoreAdj !== undefined) w.u64(PLAN.OOM_SCORE_ADJ, p.oomScoreAdj);
    if (p.apparmorProfile) w.str(PLAN.APPARMOR, p.apparmorProfile);
    if (p.selinuxLabel) w.str(PLAN.SELINUX_LABEL, p.selinuxLabel);
    if (p.ioPriority) lowerIoPriority(p.ioPriority, w);
    if (p.scheduler) lowerScheduler(p.scheduler, w);
  }
  const l = spec.linux;
  if (l?.seccomp) lowerSeccomp(l.seccomp, w);
  if (l?.personality) w.u64(PLAN.PERSONALITY, personalityDomain(l.personality.domain));
}
