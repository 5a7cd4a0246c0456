// Reading a container: its record and its live status.
import * as fs from 'fs';
import * as path from 'path';
import { isFrozen } from '../cgroups';
import type { RuntimeContext } from './context';
import { EXEC_FIFO } from './paths';
import { readProcStat, isAlive } from './proc';
import type { ContainerRecord } from './record';
import { deriveStatus, type Status } from './status';
import { StateStore } from './store';

export function store(ctx: RuntimeContext): StateStore {
  return new StateStore(ctx.root);
}

export function statusOf(st: StateStore, rec: ContainerRecord): Status {
  const proc = rec.pid ? readProcStat(rec.pid) : null;
  let frozen = false;
  if (proc && rec.cgroup) {
    try {
      frozen = isFrozen(rec.cgroup);
    } catch {
      frozen = false;
    }
  }
  return deriveStatus({
    pid: rec.pid,
    pidStartTime: rec.pidStartTime,
    proc,
    fifoExists: rec.pid !== 0 && fs.existsSync(path.join(st.dir(rec.id), EXEC_FIFO)),
    frozen,
    creatorAlive: !!rec.creator && isAlive(rec.creator.pid, rec.creator.startTime),
  });
}

export interface Loaded {
  rec: ContainerRecord;
  status: Status;
}

export function load(ctx: RuntimeContext, id: string): Loaded {
  const st = store(ctx);
  const rec = st.read(id);
  return { rec, status: statusOf(st, rec) };
}
