// What the replay tests compare: a created container as the state dir, the
// cgroup files and the write layer show it, with what differs between two
// creates of it (pid, times) taken out; and the C front's trace lines.
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Result, World } from './tsrun';

export const TRACE = { TSRUN_FRONT_TRACE: '1' };
export const replayed = (r: Result) => /^tsrun-front: replay\b/m.test(r.stderr);
export const viaNode = (r: Result) => /^tsrun-front: node\b/m.test(r.stderr);
/** The names of the replay records under w's --root. */
export const recordsOf = (w: World): string[] => (fs.existsSync(path.join(w.root, '.replay')) ? fs.readdirSync(path.join(w.root, '.replay')) : []);

/** A created container's state dir and cgroup files, with what differs between two creates (pid, times) taken out. */
export function created(w: World, id: string) {
  const dir = path.join(w.root, id);
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));
  const { pid, pidStartTime, created } = state;
  assert.ok(pid > 0 && pidStartTime > 0 && created, 'state.json has the pid, its start time and created');
  assert.ok(!('creator' in state), 'the creator is gone once created');
  const front = fs
    .readFileSync(path.join(dir, 'front'), 'utf8')
    .replace(`\npid ${pid}\n`, '\npid X\n')
    .replace(`\nstart-time ${pidStartTime}\n`, '\nstart-time X\n')
    .split(`"pid": ${pid},`)
    .join('"pid": X,')
    .split(created)
    .join('CREATED')
    .replace(/^state-(live|stopped) .*$/gm, 'state-$1 N');
  const cgroups: Record<string, string> = {};
  for (const d of new Set(Object.values(state.cgroup.paths) as string[])) {
    for (const f of ['pids.max', 'memory.limit_in_bytes', 'cpu.shares', 'cpuset.cpus', 'cpuset.mems', 'devices.list', 'cgroup.procs']) {
      const file = path.join(d, f);
      if (fs.existsSync(file)) cgroups[file] = fs.readFileSync(file, 'utf8').split(String(pid)).join('X');
    }
  }
  return {
    files: fs.readdirSync(dir).sort(),
    state: { ...state, pid: 'X', pidStartTime: 'X', created: 'X' },
    config: fs.readFileSync(path.join(dir, 'config.json'), 'utf8'),
    front,
    cgroups,
  };
}

/** The write layer of a container: every path under it with its type and mode, and the owner file. */
export function writeLayerOf(w: World, id: string) {
  const top = path.join(w.dataDir, 'containers', id);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of fs.readdirSync(d).sort()) {
      const p = path.join(d, n);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(top, p)} ${st.isDirectory() ? 'd' : 'f'} ${(st.mode & 0o7777).toString(8)}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(top);
  return { tree: out, owner: JSON.parse(fs.readFileSync(path.join(top, 'owner'), 'utf8')) };
}
