// stop: the container's stop signal (annotation org.opencontainers.image.stopSignal,
// default SIGTERM) to its init, SIGKILL to every process once the timeout has
// passed, and back only when the container has stopped.
import { NotFoundError, StateError, SystemError } from '../errors';
import type { RuntimeContext } from './context';
import { statusOf, store } from './container';
import { kill } from './kill';

export const STOP_SIGNAL_ANNOTATION = 'org.opencontainers.image.stopSignal';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stopped: its process has ended, or it is gone (deleted meanwhile, as `run` in the foreground does when it ends). */
function isStopped(ctx: RuntimeContext, id: string): boolean {
  const st = store(ctx);
  try {
    return statusOf(st, st.read(id)) === 'stopped';
  } catch (e) {
    if (e instanceof NotFoundError) return true;
    throw e;
  }
}

/** Returns true once the container is stopped, false when deadline passed first. */
async function waitStopped(ctx: RuntimeContext, id: string, deadline: number): Promise<boolean> {
  for (;;) {
    if (isStopped(ctx, id)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(20, Math.max(1, deadline - Date.now())));
  }
}

function signal(ctx: RuntimeContext, id: string, sig: string, all: boolean): void {
  try {
    kill(ctx, id, sig, all);
  } catch (e) {
    // it stopped on its own meanwhile, or stopped and was deleted (a foreground run removes its container)
    if (!(e instanceof StateError) && !(e instanceof NotFoundError)) throw e;
  }
}

/**
 * Stops a created, running or paused container (a stopped one is left as it
 * is).  A created or paused one gets SIGKILL at once: its process cannot act
 * on a gentler signal.  Returns the signal that ended it ("none" if already stopped).
 * A container that does not exist when stop begins is NotFoundError; one that
 * goes away while stopping has stopped.
 */
export async function stop(ctx: RuntimeContext, id: string, timeoutSec = 10): Promise<'none' | 'stop-signal' | 'SIGKILL'> {
  const st = store(ctx);
  const rec = st.read(id);
  const status = statusOf(st, rec);
  if (status === 'stopped') return 'none';
  if (status === 'running') {
    signal(ctx, id, rec.annotations?.[STOP_SIGNAL_ANNOTATION] || 'SIGTERM', false);
    if (await waitStopped(ctx, id, Date.now() + Math.max(0, timeoutSec) * 1000)) return 'stop-signal';
  }
  signal(ctx, id, 'SIGKILL', true);
  if (await waitStopped(ctx, id, Date.now() + 10000)) return 'SIGKILL';
  throw new SystemError(`container "${id}" did not stop 10 s after SIGKILL`);
}
