// What of tsrun's is on the machine now: mounts, test worlds, shim processes,
// container cgroups.  test/aa-leaks-baseline.test.ts records it before the
// suite and test/zz-leaks.test.ts compares after it, so only what this run
// left behind counts (the machine may hold other runs' leftovers).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { TOP } from './tsrun';

export { TOP };
export const BASELINE = path.join(TOP, 'build', 'leak-baseline.json');

export interface Snapshot {
  mounts: string[];
  tmp: string[];
  procs: string[];
  cgroups: string[];
}

export function snapshot(): Snapshot {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => /tsrun/.test(l))
    .map((l) => l.split(' ')[4]);
  const tmp = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('tsrun-test'));
  let procs: string[] = [];
  try {
    // this checkout's shim (its argv[0] survives the re-exec from a memfd)
    procs = execFileSync('pgrep', ['-a', '-f', `^${path.join(TOP, 'native-shim/build/tsrun-shim')}`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch {
    procs = [];
  }
  const cgroups: string[] = [];
  for (const c of fs.readdirSync('/sys/fs/cgroup')) {
    const d = `/sys/fs/cgroup/${c}`;
    try {
      // container cgroups, and the shared parent "tsrun" (delete removes it once empty)
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const sub = fs.readdirSync(`${d}/${e.name}`, { withFileTypes: true }).filter((x) => x.isDirectory());
        if (/tsrun/.test(e.name)) cgroups.push(`${d}/${e.name}`, ...sub.map((x) => `${d}/${e.name}/${x.name}`));
        else cgroups.push(...sub.filter((x) => /tsrun/.test(x.name)).map((x) => `${d}/${e.name}/${x.name}`));
      }
    } catch {
      /* not a hierarchy */
    }
  }
  return { mounts, tmp, procs, cgroups };
}

/** What is in `now` and not in `before`, per kind. */
export function added(before: Snapshot, now: Snapshot): Snapshot {
  const minus = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));
  return {
    mounts: minus(now.mounts, before.mounts),
    tmp: minus(now.tmp, before.tmp),
    procs: minus(now.procs, before.procs),
    cgroups: minus(now.cgroups, before.cgroups),
  };
}
