// run: create + start; in the foreground, forward signals to the container,
// wait for it, delete it and return its exit status.
import { create, type CreateOptions } from './create';
import type { RuntimeContext } from './context';
import { deleteContainer } from './delete';
import { start } from './start';

export const FORWARDED_SIGNALS: NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM', 'SIGPIPE', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGVTALRM', 'SIGPROF', 'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGTRAP', 'SIGABRT', 'SIGXCPU', 'SIGXFSZ', 'SIGSTKFLT',
] as NodeJS.Signals[];

/** Sends every catchable signal tsrun receives on to pid; returns the undo. */
export function forwardSignals(pid: number): () => void {
  const handlers = FORWARDED_SIGNALS.map((sig) => {
    const h = () => {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
}

export interface RunOptions extends CreateOptions {
  detach?: boolean;
}

/** Returns the exit code for tsrun: the container's (128+N when killed by signal N), 0 when detached. */
export async function run(ctx: RuntimeContext, o: RunOptions): Promise<number> {
  const { rec, shim } = await create(ctx, { ...o, keepParent: !o.detach });
  // Forward from before start: a signal that arrives as the process starts must
  // reach it, not end tsrun (which would leave the container behind).
  const unforward = o.detach ? () => {} : forwardSignals(rec.pid);
  try {
    start(ctx, o.id);
  } catch (e) {
    unforward();
    try {
      deleteContainer(ctx, o.id, true);
    } catch (cleanupErr) {
      ctx.log.warn((cleanupErr as Error).message);
    }
    throw e;
  }
  if (o.detach) return 0;
  const code = await shim.exited;
  unforward();
  deleteContainer(ctx, o.id, true);
  return code;
}
