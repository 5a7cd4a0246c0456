// run: create + start; in the foreground, forward signals to the container,
// wait for it, delete it and return its exit status.
import { create, type CreateOptions } from './create';
import type { RuntimeContext } from './context';
import { deleteContainer } from './delete';
import { start } from './start';

export const FORWARDED_SIGNALS: NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM', 'SIGPIPE', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGVTALRM', 'SIGPROF', 'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGTRAP', 'SIGABRT', 'SIGXCPU', 'SIGXFSZ', 'SIGSTKFLT',
] as NodeJS.Signals[];

export interface RunOptions extends CreateOptions {
  detach?: boolean;
}

/** Returns the exit code for tsrun: the container's (128+N when killed by signal N), 0 when detached. */
export async function run(ctx: RuntimeContext, o: RunOptions): Promise<number> {
  const { rec, shim } = await create(ctx, { ...o, keepParent: !o.detach });
  try {
    start(ctx, o.id);
  } catch (e) {
    try {
      deleteContainer(ctx, o.id, true);
    } catch (cleanupErr) {
      ctx.log.warn((cleanupErr as Error).message);
    }
    throw e;
  }
  if (o.detach) return 0;
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(rec.pid, sig);
    } catch {
      /* already gone */
    }
  };
  const handlers = FORWARDED_SIGNALS.map((sig) => {
    const h = () => forward(sig);
    try {
      process.on(sig, h);
    } catch {
      /* not catchable here */
    }
    return [sig, h] as const;
  });
  const code = await shim.exited;
  for (const [sig, h] of handlers) process.removeListener(sig, h);
  deleteContainer(ctx, o.id, true);
  return code;
}
