// Runs the shim and speaks the protocol of native-shim/include/protocol.h
// with it: send the plan, learn the pid, stop for hooks when asked, and wait
// for READY or ERROR.
import { spawn, type ChildProcess, type StdioNull, type StdioOptions } from 'child_process';
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
  child: ChildProcess;
  /** the shim's exit code (with KEEP_PARENT: the container process's status) */
  exited: Promise<number>;
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

export function runShim(o: ShimOptions): Promise<ShimRun> {
  const n = o.preserveFds ?? 0;
  const fds = shimFds(n);
  const stdio: StdioOptions = o.stdio ? [...o.stdio] : ['inherit', 'inherit', 'inherit'];
  for (let i = 0; i < n; i++) stdio.push(3 + i);
  stdio.push('pipe'); // the control socket (libuv makes a socketpair)
  if (o.consoleSocket) stdio.push(o.consoleSocket);

  return new Promise<ShimRun>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(o.shim, [o.mode, String(fds.ctl)], { stdio, env: o.env ?? {} });
    } catch (e) {
      reject(new TsrunError(`start shim "${o.shim}": ${(e as Error).message}`));
      return;
    }
    const exited = new Promise<number>((res) => {
      child.once('exit', (code, signal) => res(code ?? 128 + (signal ? require('os').constants.signals[signal] : 0)));
    });
    const ctl = child.stdio[fds.ctl] as net.Socket;
    const reader = new FrameReader();
    let pid = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      ctl.destroy();
      reject(Object.assign(err, { pid }));
    };
    child.once('error', (e) =>
      fail(
        new TsrunError(
          (e as NodeJS.ErrnoException).code === 'ENOENT'
            ? `shim "${o.shim}" not found: build it with "make"`
            : `start shim "${o.shim}": ${e.message}`,
        ),
      ),
    );
    ctl.on('error', () => {
      /* EPIPE when the shim died: reported by 'close' */
    });
    ctl.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (e) {
        fail(new SystemError(`shim protocol: ${(e as Error).message}`));
        return;
      }
      for (const f of frames) {
        if (settled) return;
        switch (f.msg) {
          case MSG.PID: {
            for (const e of readTlv(f.payload)) if (e.tag === PID.PID) pid = Number(tlvU64(e.value));
            try {
              o.onPid?.(pid);
            } catch (e) {
              fail(e as Error);
            }
            break;
          }
          case MSG.HOOKS: {
            const run = o.onHooks ? o.onHooks() : Promise.resolve();
            run.then(
              (payload) => ctl.write(encodeFrame(MSG.CONTINUE, payload || undefined)),
              (e) => {
                ctl.write(encodeFrame(MSG.ABORT));
                fail(e as Error);
              },
            );
            break;
          }
          case MSG.READY:
            settled = true;
            ctl.destroy();
            resolve({ pid, child, exited });
            break;
          case MSG.ERROR:
            fail(decodeError(f.payload));
            break;
          default:
            fail(new SystemError(`shim protocol: unexpected message ${f.msg}`));
        }
      }
    });
    ctl.on('close', () => {
      if (settled) return;
      void exited.then((code) =>
        fail(new SystemError(`container process exited before it was ready (shim exit status ${code})`)),
      );
    });
    o.onSpawn?.();
    ctl.write(encodeFrame(MSG.PLAN, o.plan));
  });
}
