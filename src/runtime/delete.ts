import { NotFoundError, StateError, withCleanupErrors } from '../errors';
import type { RuntimeContext } from './context';
import { statusOf, store } from './container';
import { destroyContainer } from './create';
import { runHooks } from './hooks';
import { tsrunCommand } from './paths';
import { ociState } from './record';

/**
 * delete: a stopped or created container is removed; a running or paused one
 * only with force (SIGKILL first).  With force, a container that does not
 * exist is not an error: callers use it to make sure something is gone.
 * Returns false when there was nothing to delete (force only).
 */
export function deleteContainer(ctx: RuntimeContext, id: string, force = false): boolean {
  const st = store(ctx);
  let lock;
  try {
    lock = st.lock(id);
  } catch (e) {
    if (force && e instanceof NotFoundError) return false;
    throw e;
  }
  try {
    const rec = st.read(id);
    const status = statusOf(st, rec);
    if ((status === 'running' || status === 'paused') && !force) {
      throw new StateError(`cannot delete container "${id}" that is not stopped: ${status} (use --force, or stop it first: "${tsrunCommand(ctx.root, 'stop', id)}")`);
    }
    const errors = destroyContainer(ctx, st, rec);
    if (rec.pid) {
      try {
        runHooks('poststop', rec.hooks?.poststop, JSON.stringify(ociState(rec, 'stopped')));
      } catch (e) {
        ctx.log.warn((e as Error).message);
      }
    }
    if (errors.length) throw withCleanupErrors(errors[0], errors.slice(1));
    return true;
  } finally {
    lock.release();
  }
}
