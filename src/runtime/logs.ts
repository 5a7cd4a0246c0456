// `tsrun logs`: the file `create --logs` points the container's stdout and
// stderr at (<state dir>/container.log), printed, or followed until the
// container stops.
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError } from '../errors';
import type { RuntimeContext } from './context';
import { statusOf, store } from './container';
import { LOG_FILE } from './create';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function logs(ctx: RuntimeContext, id: string, o: { follow?: boolean; write: (b: Buffer) => void }): Promise<void> {
  const st = store(ctx);
  st.read(id); // "does not exist" first
  const file = path.join(st.dir(id), LOG_FILE);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    throw new TsrunError(`container "${id}" has no log: only containers made with --logs have one (tsrun run -d --logs ...)`);
  }
  const buf = Buffer.alloc(64 * 1024);
  let pos = 0;
  const drain = () => {
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, pos);
      } catch {
        return;
      }
      if (n <= 0) return;
      pos += n;
      o.write(Buffer.from(buf.subarray(0, n)));
    }
  };
  try {
    drain();
    if (!o.follow) return;
    for (;;) {
      let stopped: boolean;
      try {
        stopped = statusOf(st, st.read(id)) === 'stopped';
      } catch {
        stopped = true; // deleted meanwhile
      }
      drain(); // after the status: what it wrote before stopping is in the file
      if (stopped) return;
      await sleep(100);
    }
  } finally {
    fs.closeSync(fd);
  }
}
