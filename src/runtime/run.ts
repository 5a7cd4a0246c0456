// run: create + start; in the foreground, forward signals to the container,
// wait for it, delete it and return its exit status.
import { attachTerminal, InternalConsole, type TerminalRelay } from './console';
import { create, type CreateOptions } from './create';
import type { RuntimeContext } from './context';
import { deleteContainer } from './delete';
import { start } from './start';

export const FORWARDED_SIGNALS: NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM', 'SIGPIPE', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGVTALRM', 'SIGPROF', 'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGTRAP', 'SIGABRT', 'SIGXCPU', 'SIGXFSZ', 'SIGSTKFLT',
] as NodeJS.Signals[];

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  /** with a terminal tsrun relays itself: forward stdin to it (default true; `-t` without `-i` gives false) */
  stdin?: boolean;
}

/** Returns the exit code for tsrun: the container's (128+N when killed by signal N), 0 when detached. */
export async function run(ctx: RuntimeContext, o: RunOptions): Promise<number> {
  // in the foreground, a terminal without --console-socket is relayed by tsrun (as runc does)
  let con: InternalConsole | undefined;
  const makeConsole = !o.detach && !o.consoleSocket ? () => (con = new InternalConsole()).shimEnd() : undefined;
  let created;
  try {
    created = await create(ctx, { ...o, keepParent: !o.detach, makeConsole });
  } catch (e) {
    (con as InternalConsole | undefined)?.close();
    throw e;
  }
  const { rec, shim } = created;
  let relay: TerminalRelay | undefined;
  try {
    if (con) relay = attachTerminal((con as InternalConsole).receiveMaster(), { stdin: o.stdin ?? true });
    start(ctx, o.id);
  } catch (e) {
    relay?.restore();
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
  // with a pty, the window size goes through TIOCSWINSZ (the kernel signals the container)
  const handlers = FORWARDED_SIGNALS.filter((sig) => !(relay && sig === 'SIGWINCH')).map((sig) => {
    const h = () => forward(sig);
    try {
      process.on(sig, h);
    } catch {
      /* not catchable here */
    }
    return [sig, h] as const;
  });
  let code: number;
  try {
    code = await shim.exited;
    await relay?.finish();
  } finally {
    relay?.restore();
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  }
  deleteContainer(ctx, o.id, true);
  return code;
}
