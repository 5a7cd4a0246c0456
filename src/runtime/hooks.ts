// Hooks tsrun runs itself, in the runtime namespace: prestart and
// createRuntime (during create, while the shim waits), poststart (after
// start) and poststop (at delete).  createContainer and startContainer run
// inside the container and are executed by the shim.
import { SystemError } from '../errors';
import type { Hook } from '../spec/types';

export type HookPhase = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

/** Runs the hooks in order with the state JSON on stdin; the first failure throws. */
export function runHooks(phase: HookPhase, hooks: Hook[] | undefined, stateJson: string): void {
  if (!hooks?.length) return;
  // child_process costs ~2.3 ms to load: only when there are hooks
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('child_process') as typeof import('child_process');
  for (const h of hooks) {
    const args = h.args?.length ? h.args : [h.path];
    const r = spawnSync(h.path, args.slice(1), {
      argv0: args[0],
      input: stateJson,
      env: Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      timeout: h.timeout ? h.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'inherit', 'pipe'],
      maxBuffer: 1 << 20,
    });
    const what = `${phase} hook "${h.path}"`;
    // EPIPE: the hook exited without reading all of its stdin, which it may do
    if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE') {
      const code = (r.error as NodeJS.ErrnoException).code;
      if (code === 'ETIMEDOUT') throw new SystemError(`${what}: timed out after ${h.timeout}s`);
      throw new SystemError(`${what}: ${code === 'ENOENT' ? 'no such file or directory' : r.error.message}`);
    }
    if (r.signal) throw new SystemError(`${what}: killed by ${r.signal}${h.timeout ? ` (timeout ${h.timeout}s)` : ''}`);
    if (r.status !== 0) {
      const err = r.stderr?.toString().trim();
      throw new SystemError(`${what}: exit status ${r.status}${err ? `: ${err.split('\n').pop()}` : ''}`);
    }
  }
}
