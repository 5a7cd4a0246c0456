// run: create + start; in the foreground, forward signals to the container,
// wait for it, delete it and return its exit status.  With a terminal the
// person may detach (the detach keys): the container then goes on as a
// detached one would, its output to `tsrun logs`.
import * as path from 'path';
import { attachTerminal, InternalConsole, type TerminalRelay } from './console';
import { oomKills } from '../cgroups';
import { store } from './container';
import { create, LOG_FILE, oomNote, type CreateOptions } from './create';
import type { RuntimeContext } from './context';
import { deleteContainer } from './delete';
import { tsrunCommand } from './paths';
import { start } from './start';

export const FORWARDED_SIGNALS: NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM', 'SIGPIPE', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGVTALRM', 'SIGPROF', 'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGTRAP', 'SIGABRT', 'SIGXCPU', 'SIGXFSZ', 'SIGSTKFLT',
] as NodeJS.Signals[];

/** Sends every catchable signal tsrun receives on to pid; returns the undo. */
export function forwardSignals(pid: number, except: NodeJS.Signals[] = []): () => void {
  const handlers = FORWARDED_SIGNALS.filter((sig) => !except.includes(sig)).map((sig) => {
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
  /** a line for the person at the terminal (the OOM killer ended the container) */
  notice?: (msg: string) => void;
  /** with a terminal tsrun relays itself: forward stdin to it (default true; `-t` without `-i` gives false) */
  stdin?: boolean;
  /** with a terminal tsrun relays itself, and stdin: the keys that detach (src/cli/terminal.ts parseDetachKeys; empty: none) */
  detachKeys?: Buffer;
}

/** The line for the person who detached from container id. */
export function detachedNote(root: string, id: string): string {
  const cmd = (...w: string[]) => `"${tsrunCommand(root, ...w)}"`;
  return `detached: container "${id}" keeps running; its output: ${cmd('logs', id)}; stop it: ${cmd('stop', id)}; remove it: ${cmd('rm', '-f', id)}`;
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
  // Forward from before start: a signal that arrives as the process starts must
  // reach it, not end tsrun (which would leave the container behind).  With a
  // pty, the window size goes through TIOCSWINSZ (the kernel signals the container).
  const unforward = o.detach ? () => {} : forwardSignals(rec.pid, con ? ['SIGWINCH'] : []);
  let relay: TerminalRelay | undefined;
  try {
    if (con) {
      const detach = o.detachKeys?.length ? { keys: o.detachKeys, output: path.join(store(ctx).dir(o.id), LOG_FILE) } : undefined;
      relay = attachTerminal((con as InternalConsole).receiveMaster(), { stdin: o.stdin ?? true, detach });
    }
    start(ctx, o.id);
  } catch (e) {
    relay?.restore();
    unforward();
    try {
      deleteContainer(ctx, o.id, true);
    } catch (cleanupErr) {
      ctx.log.warn((cleanupErr as Error).message);
    }
    throw e;
  }
  if (o.detach) return 0;
  let code: number | 'detached';
  try {
    code = await (relay ? Promise.race([shim.exited, relay.detached.then(() => 'detached' as const)]) : shim.exited);
    if (code !== 'detached') await relay?.finish();
  } finally {
    relay?.restore();
    unforward();
  }
  if (code === 'detached') {
    // as `run -d`: the shim stays the init's parent and reaps it; tsrun may go
    shim.release();
    o.notice?.(detachedNote(ctx.root, o.id));
    return 0;
  }
  // SIGKILL and the cgroup's OOM counter: the memory limit, not someone's kill (read before delete removes the cgroup)
  if (code === 128 + 9 && rec.cgroup && oomKills(rec.cgroup)) {
    let limit: number | undefined;
    try {
      limit = store(ctx).readConfig(o.id).linux?.resources?.memory?.limit ?? undefined;
    } catch {
      limit = undefined;
    }
    o.notice?.(`container "${o.id}" was killed (exit ${code}): ${oomNote(limit)}`);
  }
  deleteContainer(ctx, o.id, true);
  return code;
}
