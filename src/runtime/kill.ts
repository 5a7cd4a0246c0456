import { cgroupPids, thaw } from '../cgroups';
import { StateError, SystemError } from '../errors';
import type { RuntimeContext } from './context';
import { statusOf, store } from './container';
import { parseSignal } from './signals';

export function kill(ctx: RuntimeContext, id: string, signal: string | undefined, all = false): void {
  const st = store(ctx);
  const lock = st.lock(id);
  try {
    const rec = st.read(id);
    const status = statusOf(st, rec);
    const sig = parseSignal(signal);
    const initGone = status === 'stopped' || status === 'creating';
    // --all after the init exited signals what is left in its cgroup and
    // succeeds, as runc's does: containerd's shim calls it when the init
    // exits, and a failure leaves the container's other processes holding its
    // stdio (the engine then waits seconds for the output to drain)
    if (initGone && !(all && rec.cgroup)) throw new StateError('container not running');
    const pids = all && rec.cgroup ? cgroupPids(rec.cgroup) : [rec.pid];
    // the init's pid, only while it is the init (a stopped container's pid may be another process's now)
    if (!initGone && !pids.includes(rec.pid)) pids.push(rec.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ESRCH') {
          if (pid === rec.pid && !all) throw new StateError('container not running: no such process');
          continue;
        }
        throw new SystemError(`kill ${pid}: ${(e as Error).message}`);
      }
    }
    // a frozen process only sees SIGKILL once thawed
    if (status === 'paused' && sig === 9 && rec.cgroup) thaw(rec.cgroup);
  } finally {
    lock.release();
  }
}
