// Helpers for test/integration/producers.test.ts: run a config.json written
// by another tool (test/fixtures/producers/) with runc and with tsrun, on
// the busybox rootfs, and read back what the container saw.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { BUSYBOX_ROOTFS, TOP, World, waitFor, type Result } from './tsrun';
import { cgroupControllers, rmdirTree, sh } from './clients';

export const PRODUCERS = path.join(TOP, 'test', 'fixtures', 'producers');
export const RUNC = '/usr/sbin/runc';
export type Runtime = 'runc' | 'tsrun';

/**
 * What the container sees, one "== name" section each; run by the busybox
 * shell inside.  Every command is a busybox applet.  The last line's exit code
 * (7) checks that the container's exit status is passed through.
 */
export const PROBE = [
  'echo "== status"; grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):" /proc/self/status',
  'echo "== uid_map"; cat /proc/self/uid_map',
  'echo "== gid_map"; cat /proc/self/gid_map',
  'echo "== setgroups"; cat /proc/self/setgroups',
  'echo "== hostname"; hostname',
  'echo "== pid"; echo $$',
  'echo "== cwd"; pwd',
  'echo "== umask"; umask',
  'echo "== env"; env | sort',
  'echo "== oom_score_adj"; cat /proc/self/oom_score_adj',
  'echo "== limits"; cat /proc/self/limits',
  // lo's flags from sysfs (0x9: up, 0x8: down) and from netlink
  'echo "== lo"; cat /sys/class/net/lo/flags 2>&1; ip -o link show lo 2>&1 | sed "s/  */ /g"',
  'echo "== ping_group_range"; cat /proc/sys/net/ipv4/ping_group_range',
  // owners and modes of the mount points the runtime makes and the device nodes it creates
  'echo "== files"; stat -c "%n %F %a %u:%g %t:%T" / /dev /dev/* /dev/pts/* /proc /sys /run /tmp 2>&1 | sort',
  'echo "== mountinfo"; cat /proc/self/mountinfo',
  'exit 7',
].join('\n');

export type Probe = Record<string, string[]>;

/**
 * The probe's output as sections, mountinfo normalized (see mountLine), each
 * `from` (a path that differs from run to run by design: the run dir, the
 * cgroup) replaced by its `to`.
 */
export function parseProbe(out: string, replace: [from: string, to: string][]): Probe {
  const p: Probe = {};
  let cur = '';
  for (const line of out.split('\n')) {
    const m = /^== (\S+)$/.exec(line);
    if (m) {
      cur = m[1];
      p[cur] = [];
    } else if (cur && line !== '') p[cur].push(replace.reduce((l, [from, to]) => l.split(from).join(to), line));
  }
  if (p.mountinfo) p.mounts = p.mountinfo.map(mountLine).sort();
  delete p.mountinfo;
  return p;
}

/**
 * One mountinfo line without what differs from one mount to the next of the
 * same thing: mount ids, device numbers, peer group numbers (shared:N becomes
 * "shared") and the source; what is left is the mount point, the root of the
 * mount within its file system, the per-mount options, the propagation and the
 * file system type and options.
 */
export function mountLine(line: string): string {
  const f = line.split(' ');
  const dash = f.indexOf('-');
  const tags = f
    .slice(6, dash)
    .map((t) => t.replace(/:\d+$/, ''))
    .join(',');
  return [f[4], `root=${f[3]}`, f[5], tags || 'private', f[dash + 1], f[dash + 3]].join(' ');
}

/** Per-section differences between what tsrun and runc saw ("" when none). */
export function diffProbes(runc: Probe, tsrun: Probe): string {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(runc), ...Object.keys(tsrun)])) {
    const a = runc[k] ?? ['(no section)'];
    const b = tsrun[k] ?? ['(no section)'];
    const onlyRunc = a.filter((x) => !b.includes(x));
    const onlyTsrun = b.filter((x) => !a.includes(x));
    if (!onlyRunc.length && !onlyTsrun.length && a.length === b.length) continue;
    out.push(`  ${k}:`, ...onlyRunc.map((x) => `    runc : ${x}`), ...onlyTsrun.map((x) => `    tsrun: ${x}`));
    if (!onlyRunc.length && !onlyTsrun.length) out.push(`    (${a.length} lines in runc's, ${b.length} in tsrun's)`);
  }
  return out.join('\n');
}

/** Mounts fs (overlayfs: lower the busybox rootfs or `lower`) at dir, as a snapshotter or storage driver does. */
export function mountOverlay(dir: string, work: string, lower = BUSYBOX_ROOTFS): void {
  for (const d of ['upper', 'work']) fs.mkdirSync(path.join(work, d), { recursive: true });
  fs.mkdirSync(dir, { recursive: true });
  const r = sh('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${work}/upper,workdir=${work}/work`, dir]);
  if (r.code !== 0) throw new Error(`mount overlay on ${dir}: ${r.stderr.trim()}`);
}

/** A copy of the busybox rootfs (cp -a) at dest, owned by uid:gid when given (a remapped snapshot). */
export function copyRootfs(dest: string, owner?: number): void {
  const cp = spawnSync('cp', ['-a', BUSYBOX_ROOTFS, dest], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`cp -a ${BUSYBOX_ROOTFS} ${dest}: ${cp.stderr}`);
  if (owner !== undefined) {
    const ch = spawnSync('chown', ['-R', '-h', `${owner}:${owner}`, dest], { encoding: 'utf8' });
    if (ch.status !== 0) throw new Error(`chown -R ${owner} ${dest}: ${ch.stderr}`);
  }
}

/** runc with a private --root in the world's dir; output to files (as World.tsrun, for the same reason). */
export function runc(w: World, args: string[], timeout = 60000): Result {
  const root = path.join(w.dir, 'runc-root');
  const out = path.join(w.dir, '.runc-out');
  const err = path.join(w.dir, '.runc-err');
  const o = fs.openSync(out, 'w+');
  const e = fs.openSync(err, 'w+');
  try {
    const r = spawnSync(RUNC, ['--root', root, ...args], { stdio: ['ignore', o, e], timeout });
    return { code: r.status ?? 128, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
  } finally {
    fs.closeSync(o);
    fs.closeSync(e);
    fs.rmSync(out, { force: true });
    fs.rmSync(err, { force: true });
  }
}

/** Every runc container of the world deleted (--force). */
export function runcCleanup(w: World): void {
  const root = path.join(w.dir, 'runc-root');
  if (!fs.existsSync(root)) return;
  for (const id of fs.readdirSync(root)) runc(w, ['delete', '--force', id]);
}

/** The cgroup dirs named `top` (in every hierarchy) removed, depth first. */
export function removeCgroupTree(top: string): void {
  for (const c of cgroupControllers()) rmdirTree(path.join(c, top));
}

/** Whether any hierarchy still has `top`. */
export function cgroupTreeLeft(top: string): string[] {
  return cgroupControllers()
    .map((c) => path.join(c, top))
    .filter((d) => fs.existsSync(d));
}

/**
 * A network namespace of the test's own, held by a process (unshare --net
 * sleep): configs that join one by path (podman's /run/netns/netns-...) get
 * /proc/<pid>/ns/net instead.  stop() ends that process.
 */
export class NetnsHolder {
  private readonly child = spawn('unshare', ['--net', 'sleep', '100000'], { stdio: 'ignore' });

  /** The path, once the process is in its namespace (unshare execs sleep there). */
  async path(): Promise<string> {
    const pid = this.child.pid;
    if (!pid) throw new Error('unshare --net: not started');
    const self = fs.readlinkSync('/proc/self/ns/net');
    await waitFor(() => {
      try {
        return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep' && fs.readlinkSync(`/proc/${pid}/ns/net`) !== self;
      } catch {
        return false;
      }
    }, 10000, 'unshare --net');
    return `/proc/${pid}/ns/net`;
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
