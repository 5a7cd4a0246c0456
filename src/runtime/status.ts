// Container status, derived from live facts (runc's refreshState): the init
// pid, its start time, the exec fifo and the freezer.
import type { ProcStat } from './proc';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface StatusFacts {
  /** 0 while create has not yet learnt the init pid */
  pid: number;
  pidStartTime: number;
  /** /proc/<pid>/stat now, null when the pid does not exist */
  proc: ProcStat | null;
  /** the exec fifo still exists: start has not happened */
  fifoExists: boolean;
  /** the container's cgroup is frozen */
  frozen: boolean;
  /** the `tsrun create` process that is still creating this container is alive */
  creatorAlive: boolean;
}

export function deriveStatus(f: StatusFacts): Status {
  if (f.pid === 0) return f.creatorAlive ? 'creating' : 'stopped';
  const p = f.proc;
  // a zombie has exited; a different start time means the pid was reused
  if (!p || p.state === 'Z' || p.state === 'X' || p.startTime !== f.pidStartTime) return 'stopped';
  if (f.frozen) return 'paused';
  return f.fifoExists ? 'created' : 'running';
}
