// Verbs that act on a container's cgroup: pause, resume, ps, update, events.
import { cgroupPids, freeze, stats, thaw, updateResources } from '../cgroups';
import { StateError, TsrunError } from '../errors';
import type { Resources } from '../spec/types';
import type { RuntimeContext } from './context';
import { statusOf, store, type Loaded } from './container';
import type { ContainerRecord } from './record';
import { sleepMs } from './proc';

function withCgroup(ctx: RuntimeContext, id: string, verb: string, f: (rec: ContainerRecord & { cgroup: NonNullable<ContainerRecord['cgroup']> }, l: Loaded) => void): void {
  const st = store(ctx);
  const lock = st.lock(id);
  try {
    const rec = st.read(id);
    const status = statusOf(st, rec);
    if (!rec.cgroup) {
      throw new TsrunError(
        `${verb} "${id}": it needs the container's cgroup, and it has none (made rootless on a host that delegates no cgroups to its user): run it as root for ${verb}`,
      );
    }
    f(rec as ContainerRecord & { cgroup: NonNullable<ContainerRecord['cgroup']> }, { rec, status });
  } finally {
    lock.release();
  }
}

export function pause(ctx: RuntimeContext, id: string): void {
  withCgroup(ctx, id, 'pause', (rec, { status }) => {
    if (status !== 'running' && status !== 'created') throw new StateError(`container not running: ${status}`);
    freeze(rec.cgroup);
  });
}

export function resume(ctx: RuntimeContext, id: string): void {
  withCgroup(ctx, id, 'resume', (rec, { status }) => {
    if (status !== 'paused') throw new StateError(`container not paused: ${status}`);
    thaw(rec.cgroup);
  });
}

export function ps(ctx: RuntimeContext, id: string): number[] {
  const { rec, status } = (() => {
    const st = store(ctx);
    const r = st.read(id);
    return { rec: r, status: statusOf(st, r) };
  })();
  if (status === 'stopped') return [];
  if (!rec.cgroup) return [rec.pid];
  return cgroupPids(rec.cgroup);
}

export function update(ctx: RuntimeContext, id: string, r: Resources): void {
  withCgroup(ctx, id, 'update', (rec, { status }) => {
    if (status === 'stopped') throw new StateError('container not running');
    updateResources(rec.cgroup, r);
  });
}

/** `events`: with stats, one stats event (or one per interval); otherwise OOM events until the container stops. */
export function events(ctx: RuntimeContext, id: string, o: { stats?: boolean; interval: number }, emit: (e: object) => void): void {
  const st = store(ctx);
  for (;;) {
    const rec = st.read(id);
    if (statusOf(st, rec) === 'stopped') return;
    if (rec.cgroup) emit({ type: 'stats', id, data: stats(rec.cgroup) });
    if (o.stats) return;
    sleepMs(o.interval * 1000);
  }
}
