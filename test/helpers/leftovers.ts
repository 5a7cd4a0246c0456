// What a container can leave on the machine, for tests that check nothing is
// left: its state dir, its write layer, its cgroups, mounts, processes.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import type { World } from './tsrun';

/** An id no other test run on this machine uses (cgroup paths are machine-wide). */
export function uniqueId(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
}

/** Every cgroup dir named <id> under a "tsrun" parent, in every hierarchy. */
export function cgroupDirs(id: string): string[] {
  const out: string[] = [];
  for (const c of fs.readdirSync('/sys/fs/cgroup')) {
    const d = path.join('/sys/fs/cgroup', c, 'tsrun', id);
    if (fs.existsSync(d)) out.push(d);
  }
  return out;
}

export function mountsMentioning(s: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(s));
}

export function alive(pid: number): boolean {
  if (!pid) return false;
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** What is left of container `id` of world w (empty when nothing). */
export function leftovers(w: World, id: string, pids: number[] = []): string[] {
  const out: string[] = [];
  if (fs.existsSync(path.join(w.root, id))) out.push(`state dir ${path.join(w.root, id)}`);
  const wl = path.join(w.dataDir, 'containers', id);
  if (fs.existsSync(wl)) out.push(`write layer ${wl}`);
  for (const d of cgroupDirs(id)) out.push(`cgroup ${d}`);
  for (const m of mountsMentioning(path.join(w.dataDir, 'containers', id))) out.push(`mount ${m}`);
  for (const p of pids) if (alive(p)) out.push(`process ${p}`);
  return out;
}

/** pids of processes whose command line mentions s (pgrep -f). */
export function pgrep(s: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', s], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number).filter((p) => p !== process.pid);
  } catch {
    return [];
  }
}

/** The busybox rootfs as a layer tar in dir (made once per world). */
export function busyboxLayer(w: World, rootfs: string): string {
  const tar = path.join(w.dir, 'busybox-layer.tar');
  if (!fs.existsSync(tar)) execFileSync('tar', ['-cf', tar, '-C', rootfs, '.']);
  return tar;
}

/** The container state dirs under a --root (none when it does not exist); replay records (.replay) are not containers. */
export function stateDirs(root: string): string[] {
  return fs.existsSync(root) ? fs.readdirSync(root).filter((n) => !n.startsWith('.')) : [];
}
