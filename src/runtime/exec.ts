// exec: run another process in a running container, through the shim's
// exec mode (it joins the init's namespaces and cgroup).
import * as fs from 'fs';
import type * as net from 'net';
import * as path from 'path';
import { procsFiles } from '../cgroups';
import { ConfigError, StateError, TsrunError } from '../errors';
import { runShim, shimFds } from '../shim/client';
import { lowerExec } from '../shim/lower';
import { capabilityNumber } from '../shim/lower-security';
import type { Process } from '../spec/types';
import { validateProcessFile } from '../spec/validate';
import type { RuntimeContext } from './context';
import { attachTerminal, connectConsole, InternalConsole } from './console';
import { statusOf, store } from './container';
import { shimPath, tsrunCommand } from './paths';
import { ociState } from './record';
import { writeFileAtomic } from './store';
import { forwardSignals } from './run';

export interface ExecOptions {
  id: string;
  /** --process FILE (or "-" for stdin): a whole OCI process object */
  processFile?: string;
  /** the short form: command and overrides on top of the container's process */
  args?: string[];
  env?: string[];
  cwd?: string;
  /** "uid[:gid]" */
  user?: string;
  additionalGids?: number[];
  caps?: string[];
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
  tty?: boolean;
  consoleSocket?: string;
  detach?: boolean;
  pidFile?: string;
  preserveFds?: number;
  ignorePaused?: boolean;
  /** with a terminal tsrun relays itself: forward stdin to it (default true) */
  stdin?: boolean;
  /** with a terminal tsrun relays itself, and stdin: the keys that detach (src/cli/terminal.ts parseDetachKeys; empty: none) */
  detachKeys?: Buffer;
  /** a line for the person at the terminal (they detached) */
  notice?: (msg: string) => void;
}

/**
 * The line for the person who detached from process pid (host pid) in
 * container id.  SIGHUP, what a closed terminal sends: an interactive shell
 * ignores SIGTERM.
 */
export function execDetachedNote(root: string, id: string, pid: number): string {
  return `detached: process ${pid} keeps running in container "${id}" (its output is discarded); end it: "kill -HUP ${pid}"; the container: "${tsrunCommand(root, 'stop', id)}"`;
}

function readProcessFile(file: string): Process {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new ConfigError([`${file}: ${(e as Error).message}`]);
  }
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`${path.basename(file)}: invalid JSON: ${(e as Error).message}`]);
  }
  return validateProcessFile(p, path.basename(file));
}

export function buildProcess(base: Process | undefined, o: ExecOptions): Process {
  if (o.processFile) return readProcessFile(o.processFile);
  if (!o.args?.length) throw new TsrunError('exec: no command given (pass one after the id, or --process FILE)');
  const p: Process = JSON.parse(JSON.stringify(base ?? { user: { uid: 0, gid: 0 }, cwd: '/' }));
  p.args = o.args;
  p.terminal = !!o.tty;
  delete p.consoleSize;
  if (o.env?.length) {
    const env = new Map((p.env ?? []).map((e) => [e.split('=')[0], e] as const));
    for (const e of o.env) env.set(e.split('=')[0], e);
    p.env = [...env.values()];
  }
  if (o.cwd) p.cwd = o.cwd;
  if (o.user) {
    const [u, g] = o.user.split(':');
    if (!/^\d+$/.test(u) || (g !== undefined && !/^\d+$/.test(g))) {
      throw new TsrunError(`exec: --user "${o.user}": give numeric uid[:gid]`);
    }
    p.user = { ...p.user, uid: Number(u), gid: g !== undefined ? Number(g) : 0 };
  }
  if (o.additionalGids?.length) p.user.additionalGids = o.additionalGids;
  if (o.caps?.length) {
    const caps = (p.capabilities ??= {});
    for (const c of o.caps) {
      const name = c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`;
      capabilityNumber(name);
      for (const k of ['bounding', 'effective', 'permitted', 'ambient', 'inheritable'] as const) {
        const set = (caps[k] ??= []);
        if (!set.includes(name)) set.push(name);
      }
    }
  }
  if (o.noNewPrivs) p.noNewPrivileges = true;
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  return p;
}


/** Returns the exit code: the process's in the foreground, 0 with detach. */
export async function exec(ctx: RuntimeContext, o: ExecOptions): Promise<number> {
  const st = store(ctx);
  const rec = st.read(o.id);
  const status = statusOf(st, rec);
  if (status === 'stopped' || status === 'creating') throw new StateError(`cannot exec in a stopped container`);
  if (status === 'paused' && !o.ignorePaused) throw new StateError('cannot exec in a paused container (use --ignore-paused)');
  const spec = st.readConfig(o.id);
  const proc = buildProcess(spec.process, o);
  if (proc.terminal && !o.consoleSocket && o.detach) {
    throw new TsrunError('exec: a detached process with a terminal needs --console-socket (or drop -d: tsrun relays the terminal itself)');
  }
  // in the foreground without --console-socket, tsrun makes the console socket and relays the pty (as runc)
  const con = proc.terminal && !o.consoleSocket ? new InternalConsole() : undefined;
  let consoleSocket: net.Socket | undefined;
  try {
    consoleSocket = con ? con.shimEnd() : proc.terminal && o.consoleSocket ? await connectConsole(o.consoleSocket) : undefined;
  } catch (e) {
    con?.close();
    throw e;
  }
  const plan = lowerExec(spec, proc, {
    joinPid: rec.pid,
    cgroupProcs: rec.cgroup ? procsFiles(rec.cgroup) : [],
    consoleSocketFd: consoleSocket ? shimFds(o.preserveFds).console : undefined,
    preserveFds: o.preserveFds,
    detach: o.detach,
    // as runc: the exec'd process's pid, status "creating"
    seccompState: ociState(rec, 'creating'),
  });
  const shim = await runShim({ mode: 'exec', shim: shimPath(), plan, preserveFds: o.preserveFds, consoleSocket }).finally(() => {
    consoleSocket?.destroy();
  }).catch((e) => {
    con?.close();
    throw e;
  });
  // after a detach the output has nowhere to go: an exec has no log of its own
  const detach = o.detachKeys?.length ? { keys: o.detachKeys, output: null } : undefined;
  const relay = con ? attachTerminal(con.receiveMaster(), { stdin: o.stdin ?? true, detach }) : undefined;
  if (o.pidFile) writeFileAtomic(path.resolve(o.pidFile), String(shim.pid));
  if (o.detach) {
    await shim.exited;
    return 0;
  }
  const unforward = forwardSignals(shim.pid, relay ? ['SIGWINCH'] : []);
  let code: number | 'detached';
  try {
    code = await (relay ? Promise.race([shim.exited, relay.detached.then(() => 'detached' as const)]) : shim.exited);
    if (code !== 'detached') await relay?.finish();
  } finally {
    relay?.restore();
    unforward();
  }
  if (code === 'detached') {
    // the shim stays the process's parent and reaps it; tsrun may go
    shim.release();
    o.notice?.(execDetachedNote(ctx.root, o.id, shim.pid));
    return 0;
  }
  return code;
}
