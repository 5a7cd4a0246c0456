// Runs the shim and speaks the protocol of native-shim/include/protocol.h
// with it: send the plan, learn the pid, stop for hooks when asked, and wait
// for READY or ERROR.  The plain case (no console socket, no preserved fds,
// tsrun's own stdio: `create` as podman calls it, `run`, `exec`) starts the
// shim with posix_spawn through koffi (src/sys/spawn.ts), which is loaded for
// the state lock anyway; the others go through child_process, which can pass
// a net.Socket and arbitrary stdio.  Both speak through one loop (converse).
import type { StdioNull, StdioOptions } from 'child_process';
import * as fs from 'fs';
import type * as net from 'net';
import { SystemError, TsrunError } from '../errors';
import { ERR, MSG, PID } from './protocol';
import { encodeFrame, FrameReader, readTlv, tlvU64 } from './tlv';

export interface ShimOptions {
  mode: 'create' | 'exec';
  shim: string;
  plan: Buffer;
  /** fds 3 .. 3+preserveFds-1 of this process go to the shim at the same numbers */
  preserveFds?: number;
  /** a connected console socket, given to the shim as an fd (its number is in consoleSocketFd()) */
  consoleSocket?: net.Socket;
  /** the shim's (and so the container's) fds 0-2; default: tsrun's own */
  stdio?: [StdioNull | number, StdioNull | number, StdioNull | number];
  /** environment of the shim (default: empty) */
  env?: NodeJS.ProcessEnv;
  /** called once the shim process is spawned, before the plan is sent */
  onSpawn?: () => void;
  /** called as soon as the container process exists */
  onPid?: (pid: number) => void;
  /** called at MSG_HOOKS; throwing aborts the create; a returned TLV list is MSG_CONTINUE's payload */
  onHooks?: () => Promise<Buffer | void>;
}

export interface ShimRun {
  pid: number;
  /** the shim's exit code (with KEEP_PARENT: the container process's status) */
  exited: Promise<number>;
  /**
   * No more waiting for the shim: tsrun may exit while it runs (a detach from
   * the terminal).  The shims started with a console socket (child_process)
   * only; the posix_spawn ones are waited for by a thread that cannot be let go.
   */
  release(): void;
}

/** The fd numbers the shim sees, given preserveFds. */
export function shimFds(preserveFds = 0): { ctl: number; console: number } {
  return { ctl: 3 + preserveFds, console: 4 + preserveFds };
}

export function decodeError(payload: Buffer): SystemError {
  let message = 'unknown error';
  let errno = 0;
  for (const e of readTlv(payload)) {
    if (e.tag === ERR.MESSAGE) message = e.value.toString('utf8');
    else if (e.tag === ERR.ERRNO) errno = Number(tlvU64(e.value));
  }
  return new SystemError(message, errno);
}

/** One side of the control socket: the next bytes (null at EOF), and writes. */
interface Channel {
  read(): Promise<Buffer | null>;
  write(b: Buffer): void;
  close(): void;
}

export function runShim(o: ShimOptions): Promise<ShimRun> {
  const plain = !o.consoleSocket && !o.stdio && !(o.preserveFds ?? 0);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return plain && (require('../sys/spawn') as typeof import('../sys/spawn')).spawnKeepsSameFd() ? runDirect(o) : runChildProcess(o);
}

/** posix_spawn; the control socket read with plain (blocking) fs calls. */
async function runDirect(o: ShimOptions): Promise<ShimRun> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { socketpair } = require('../sys/socket') as typeof import('../sys/socket');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { posixSpawn, waitExit } = require('../sys/spawn') as typeof import('../sys/spawn');
  const [mine, theirs] = socketpair();
  const ctlFd = shimFds().ctl;
  let shimPid: number;
  try {
    const env = Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`);
    // Node marks its fds 0-2 close-on-exec: dup2 onto themselves clears that (glibc >= 2.29)
    shimPid = posixSpawn(o.shim, [o.shim, o.mode, String(ctlFd)], env, [[0, 0], [1, 1], [2, 2], [theirs, ctlFd]]);
  } catch (e) {
    fs.closeSync(mine);
    const err = e as SystemError;
    throw new TsrunError(err.errno === 2 ? `shim "${o.shim}" not found: build it with "make"` : `start shim "${o.shim}": ${err.message}`);
  } finally {
    fs.closeSync(theirs);
  }
  const exited = waitExit(shimPid);
  const buf = Buffer.alloc(64 * 1024);
  let closed = false;
  const channel: Channel = {
    read: async () => {
      for (;;) {
        try {
          const n = fs.readSync(mine, buf, 0, buf.length, null);
          return n === 0 ? null : Buffer.from(buf.subarray(0, n));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EINTR' || code === 'EAGAIN') continue;
          if (code === 'ECONNRESET') return null;
          throw e;
        }
      }
    },
    write: (b) => {
      try {
        fs.writeSync(mine, b);
      } catch {
        /* EPIPE when the shim died: the next read sees the end */
      }
    },
    close: () => {
      if (!closed) fs.closeSync(mine);
      closed = true;
    },
  };
  const release = () => {
    throw new Error('a shim started with posix_spawn cannot be released (its waitpid runs on a thread)');
  };
  return converse(o, channel, exited, release);
}

/** child_process: any stdio, a console socket, preserved fds. */
function runChildProcess(o: ShimOptions): Promise<ShimRun> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawn } = require('child_process') as typeof import('child_process');
  const n = o.preserveFds ?? 0;
  const fds = shimFds(n);
  const stdio: StdioOptions = o.stdio ? [...o.stdio] : ['inherit', 'inherit', 'inherit'];
  for (let i = 0; i < n; i++) stdio.push(3 + i);
  stdio.push('pipe'); // the control socket (libuv makes a socketpair)
  if (o.consoleSocket) stdio.push(o.consoleSocket);
  let child: import('child_process').ChildProcess;
  try {
    child = spawn(o.shim, [o.mode, String(fds.ctl)], { stdio, env: o.env ?? {} });
  } catch (e) {
    return Promise.reject(new TsrunError(`start shim "${o.shim}": ${(e as Error).message}`));
  }
  const exited = new Promise<number>((res) => {
    child.once('exit', (code, signal) => res(code ?? 128 + (signal ? require('os').constants.signals[signal] : 0)));
  });
  const ctl = child.stdio[fds.ctl] as net.Socket;
  // chunks and the end, queued for converse's reads
  const chunks: Array<Buffer | null> = [];
  let waiting: ((b: Buffer | null) => void) | undefined;
  const push = (b: Buffer | null) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(b);
    } else chunks.push(b);
  };
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = new TsrunError(
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? `shim "${o.shim}" not found: build it with "make"` : `start shim "${o.shim}": ${e.message}`,
    );
    push(null);
  });
  ctl.on('error', () => {
    /* EPIPE when the shim died: its end shows as EOF */
  });
  ctl.on('data', (c: Buffer) => push(c));
  ctl.on('close', () => push(null));
  const channel: Channel = {
    read: () => {
      if (spawnError) return Promise.reject(spawnError);
      if (chunks.length) return Promise.resolve(chunks.shift()!);
      return new Promise((res) => (waiting = res)).then((b) => {
        if (spawnError) throw spawnError;
        return b as Buffer | null;
      });
    },
    write: (b) => {
      ctl.write(b);
    },
    close: () => ctl.destroy(),
  };
  return converse(o, channel, exited, () => child.unref());
}

/** The protocol: PLAN, then PID, [HOOKS -> CONTINUE|ABORT], READY or ERROR. */
async function converse(o: ShimOptions, ch: Channel, exited: Promise<number>, release: () => void): Promise<ShimRun> {
  const reader = new FrameReader();
  let pid = 0;
  try {
    o.onSpawn?.();
    ch.write(encodeFrame(MSG.PLAN, o.plan));
    for (;;) {
      const chunk = await ch.read();
      if (chunk === null) {
        const code = await exited;
        throw new SystemError(`container process exited before it was ready (shim exit status ${code})`);
      }
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (e) {
        throw new SystemError(`shim protocol: ${(e as Error).message}`);
      }
      for (const f of frames) {
        switch (f.msg) {
          case MSG.PID:
            for (const e of readTlv(f.payload)) if (e.tag === PID.PID) pid = Number(tlvU64(e.value));
            o.onPid?.(pid);
            break;
          case MSG.HOOKS: {
            let payload: Buffer | void;
            try {
              payload = o.onHooks ? await o.onHooks() : undefined;
            } catch (e) {
              ch.write(encodeFrame(MSG.ABORT));
              throw e;
            }
            ch.write(encodeFrame(MSG.CONTINUE, payload || undefined));
            break;
          }
          case MSG.READY:
            return { pid, exited, release };
          case MSG.ERROR:
            throw decodeError(f.payload);
          default:
            throw new SystemError(`shim protocol: unexpected message ${f.msg}`);
        }
      }
    }
  } catch (e) {
    throw Object.assign(e as Error, { pid });
  } finally {
    ch.close();
  }
}

/**
 * The shim run to its end, synchronously (for cleanup paths, which are
 * synchronous): the plan is written to the control socket before the spawn,
 * the shim's frames are read after it exited.  For plans with KEEP_PARENT:
 * the exit code is the process's.  Returns that code, the shim's ERROR (when
 * it sent one) and what the process wrote to stdout/stderr.
 */
export function runShimSync(shim: string, plan: Buffer): { code: number; error?: SystemError; output: string } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { socketpair } = require('../sys/socket') as typeof import('../sys/socket');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('child_process') as typeof import('child_process');
  const [mine, theirs] = socketpair();
  let theirsOpen = true;
  try {
    // the plan is small: the socket buffer holds it until the shim reads it
    fs.writeSync(mine, encodeFrame(MSG.PLAN, plan));
    const r = spawnSync(shim, ['create', '3'], {
      stdio: ['ignore', 'pipe', 'pipe', theirs],
      env: {},
      timeout: 120000,
    });
    fs.closeSync(theirs); // then the read below ends when the shim's frames do
    theirsOpen = false;
    if (r.error) throw new TsrunError(`start shim "${shim}": ${r.error.message}`);
    const reader = new FrameReader();
    const buf = Buffer.alloc(64 * 1024);
    let error: SystemError | undefined;
    for (;;) {
      const n = fs.readSync(mine, buf, 0, buf.length, null);
      if (n === 0) break;
      for (const f of reader.push(Buffer.from(buf.subarray(0, n)))) if (f.msg === MSG.ERROR) error = decodeError(f.payload);
    }
    const code = r.status ?? 128 + (r.signal ? require('os').constants.signals[r.signal] : 0);
    return { code, error, output: `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.trim() };
  } finally {
    if (theirsOpen) fs.closeSync(theirs);
    fs.closeSync(mine);
  }
}
