// start: open the exec fifo for reading.  The container process is blocked
// opening it for writing; it wakes, writes one byte and execs the user's
// process.  Once the byte is read the fifo goes, and the status is running.
import * as fs from 'fs';
import { StateError, SystemError } from '../errors';
import type { RuntimeContext } from './context';
import { statusOf, store } from './container';
import { runHooks } from './hooks';
import { isAlive, sleepMs, waitForExit } from './proc';
import { ociState } from './record';

export function start(ctx: RuntimeContext, id: string): void {
  const st = store(ctx);
  const lock = st.lock(id);
  try {
    const rec = st.read(id);
    const status = statusOf(st, rec);
    if (status === 'stopped') throw new StateError(`cannot start a container that has stopped`);
    if (status === 'running' || status === 'paused') throw new StateError(`cannot start an already running container`);
    if (status !== 'created') throw new StateError(`cannot start a container in status "${status}"`);
    if (rec.noProcess) {
      // the spec: start MUST fail when config.json has no process.  Such a
      // container can never run: its init is stopped, so that it shows as
      // stopped and delete removes it
      killInit(rec);
      throw new StateError('cannot start: config.json has no "process" (nothing to run); the container is stopped, delete it');
    }
    const fifo = st.fifoPath(id);
    const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(1);
      let delay = 0;
      for (;;) {
        let n = -1;
        try {
          n = fs.readSync(fd, buf, 0, 1, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        }
        if (n === 1) break;
        // 0: the process has not opened its end yet; EAGAIN: opened, byte not yet written.
        // A quick process may write, exec and exit between the read above and this
        // check: the byte then waits in the fifo, read it once more before failing.
        if (!isAlive(rec.pid, rec.pidStartTime)) {
          if (readByteOnce(fd, buf)) break;
          throw new SystemError('container process exited before it was started (its stderr says why, e.g. a failed startContainer hook)');
        }
        if (delay) sleepMs(delay);
        delay = Math.min(delay + 1, 10);
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.rmSync(fifo, { force: true });
    try {
      runHooks('poststart', rec.hooks?.poststart, JSON.stringify(ociState(rec, 'running')));
    } catch (e) {
      // the spec: a failing poststart hook is logged, the container keeps running
      ctx.log.warn((e as Error).message);
    }
  } finally {
    lock.release();
  }
}

function killInit(rec: { pid: number; pidStartTime: number }): void {
  if (!isAlive(rec.pid, rec.pidStartTime)) return;
  try {
    process.kill(rec.pid, 'SIGKILL');
  } catch {
    return; // gone already
  }
  waitForExit(rec.pid, rec.pidStartTime, 10000);
}

function readByteOnce(fd: number, buf: Buffer): boolean {
  try {
    return fs.readSync(fd, buf, 0, 1, null) === 1;
  } catch {
    return false;
  }
}
