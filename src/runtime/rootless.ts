// Rootless: containers for a user who is not root, as runc's rootless mode.
//
// Decided here, before create makes anything (config.json problems are
// ConfigError lines, all at once):
//  - a config without a user namespace gets one, the caller mapped to 0
//    (what `runc spec --rootless` writes);
//  - the id maps: one mapping of the caller's own uid and gid is written by
//    the shim itself (setgroups denied first, as the kernel requires); other
//    mappings go through newuidmap/newgidmap and must lie in the caller's
//    /etc/subuid and /etc/subgid ranges;
//  - what an unprivileged user cannot have: device nodes the host does not
//    have to bind, namespaces joined that it does not own, uid=/gid= mount
//    options and process ids its namespace does not map, and, without cgroup
//    delegation (cgroup v1 and hybrid hosts: none), resource limits and a
//    cgroupsPath (runc: "cannot set limit: container could not join or create
//    cgroup"; its device rules are skipped, as runc does);
//  - cgroup delegation, on a pure cgroup v2 host: when the caller's own
//    cgroup is the user's (its dir, cgroup.procs and cgroup.subtree_control
//    owned by the caller, as systemd makes user@.service's), the container's
//    cgroup goes below the topmost such cgroup of the caller's path (the
//    delegation's root: moving the shim there needs write access to the
//    cgroup.procs of the common ancestor, and only a cgroup without processes
//    can hand controllers down); limits of controllers the delegation does
//    not give are refused here.
// The pure part (planRootless) takes the host's facts as arguments and is
// unit-tested; rootlessPlan reads them.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, TsrunError } from '../errors';
import { v2Needs } from '../cgroups/resources';
import type { IdMapping, Resources, Spec } from '../spec/types';
import { inUserNamespace, shimPath } from './paths';
import type { ContainerRecord } from './record';

/**
 * --rootless: "true", "false", or "auto" (the default): rootless when not run
 * by root, or run by uid 0 of a user namespace that is not the host's (as
 * runc: rootless podman runs its runtime there, where the host's cgroups are
 * not its own).  Rootless uid 0 only leaves the cgroups out (planRootless).
 */
export function rootlessMode(flag: string | undefined, euid = process.geteuid?.() ?? 0, userns = inUserNamespace()): boolean {
  if (flag === 'true') return true;
  if (flag === 'false') return false;
  return euid !== 0 || userns;
}

/**
 * The default --root of a user without XDG_RUNTIME_DIR is /tmp/tsrun-<uid>
 * (src/runtime/paths.ts): in a world-writable directory, so it must be the
 * user's own directory before anything is put in it or read from it.
 */
export function checkUserRoot(root: string, euid = process.geteuid?.() ?? 0): void {
  if (euid === 0 || root !== `/tmp/tsrun-${euid}`) return;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(root);
  } catch {
    return; // made by the first create, as the user's own
  }
  if (!st.isDirectory() || st.uid !== euid) {
    throw new TsrunError(
      `state dir "${root}": it is not a directory of uid ${euid} (another user made it): set XDG_RUNTIME_DIR, or give --root DIR`,
    );
  }
}

/** The user tsrun runs as. */
export interface Caller {
  uid: number;
  gid: number;
  /** the login name, for /etc/subuid lines that name the user */
  name?: string;
}

export function currentCaller(): Caller {
  let name: string | undefined;
  try {
    name = os.userInfo().username;
  } catch {
    name = undefined; // no passwd entry: only numeric /etc/subuid lines match
  }
  return { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0, name };
}

export interface IdRange {
  start: number;
  size: number;
}

/** The caller's ranges in /etc/subuid or /etc/subgid text ("name-or-uid:start:count" lines; both files are keyed by the user). */
export function subordinateRanges(text: string, c: Caller): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length !== 3 || line.trim().startsWith('#')) continue;
    const [who, start, size] = f;
    if (who !== c.name && who !== String(c.uid)) continue;
    if (!/^\d+$/.test(start) || !/^\d+$/.test(size)) continue;
    out.push({ start: Number(start), size: Number(size) });
  }
  return out;
}

/** The user namespace `runc spec --rootless` writes: the caller is root inside, alone. */
export function addUserNamespace(spec: Spec, c: Caller): boolean {
  const linux = (spec.linux ??= {});
  const nss = linux.namespaces ?? [];
  if (nss.some((n) => n.type === 'user')) return false;
  if (linux.uidMappings?.length || linux.gidMappings?.length) return false; // validation names the missing namespace
  linux.namespaces = [...nss, { type: 'user' }];
  linux.uidMappings = [{ containerID: 0, hostID: c.uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: c.gid, size: 1 }];
  // ids the namespace does not map (devpts' gid=5): as runc spec --rootless, dropped
  for (const m of spec.mounts ?? []) if (m.options) m.options = m.options.filter((o) => !/^[ug]id=/.test(o));
  return true;
}

/** The resources that need a cgroup (device rules do not: runc skips them rootless). */
export function limitsIn(r: Resources | undefined): string[] {
  if (!r) return [];
  return Object.entries(r)
    .filter(([k, v]) => k !== 'devices' && v !== undefined && v !== null && !(typeof v === 'object' && Object.keys(v).length === 0))
    .map(([k]) => k);
}

/** The host's facts planRootless needs. */
export interface HostFacts {
  caller: Caller;
  subuid: IdRange[];
  subgid: IdRange[];
  /** absolute paths of newuidmap and newgidmap, when installed */
  newuidmap?: string;
  newgidmap?: string;
  /** the cgroup delegated to this user (false: none, containers get no cgroup) */
  cgroups: Delegation | false;
  /** the device node at a host path: its type ('c' | 'b') and numbers; undefined when there is none */
  hostDevice(p: string): { type: string; major: number; minor: number } | undefined;
  /** the uid owning a namespace file (a user namespace: its creator) and its owning user namespace's identity; throws a message */
  nsOwner(p: string, isUser: boolean): { uid: number; userns: string };
}

export interface RootlessPlan {
  /** newuidmap/newgidmap write the maps; without them the shim writes them itself, setgroups denied */
  idmapHelpers?: { uid: string; gid: string };
  /** the container gets no cgroup */
  noCgroups: boolean;
  /** the container's cgroup goes below this cgroup v2 path (delegated to the caller) */
  cgroupBase?: string;
}

/** A cgroup v2 subtree delegated to the caller. */
export interface Delegation {
  /** the delegation's root, relative to the cgroup2 mount ("/user.slice/user-1000.slice/user@1000.service") */
  path: string;
  /** the controllers a cgroup below it can have */
  controllers: string[];
}

/** What findDelegation needs to know of one cgroup v2 dir (a path relative to the mount). */
export interface CgroupFacts {
  /** owners of the dir, its cgroup.procs and its cgroup.subtree_control */
  owners: number[];
  /** cgroup.controllers and cgroup.subtree_control */
  controllers: string[];
  subtreeControl: string[];
  /** whether processes are in this cgroup itself (then it cannot enable controllers for its children) */
  hasProcs: boolean;
}

/**
 * The delegation root of a caller in cgroup own (its /proc/self/cgroup "0::"
 * path): the topmost cgroup from own up that the caller owns (dir,
 * cgroup.procs, cgroup.subtree_control), own included; undefined when own is
 * not the caller's.  Its controllers: those already enabled for its children,
 * and, when no process is in it, all it has (create enables them).
 */
export function findDelegation(own: string, uid: number, facts: (p: string) => CgroupFacts | undefined): Delegation | undefined {
  const mine = (p: string) => {
    const f = p === '/' ? undefined : facts(p);
    return f && f.owners.length === 3 && f.owners.every((o) => o === uid) ? f : undefined;
  };
  let at = path.posix.resolve('/', own);
  let f = mine(at);
  if (!f) return undefined;
  for (let up = path.posix.dirname(at), g = mine(up); g; up = path.posix.dirname(up), g = mine(up)) {
    at = up;
    f = g;
  }
  const controllers = new Set(f.subtreeControl);
  if (!f.hasProcs) for (const c of f.controllers) controllers.add(c);
  return { path: at, controllers: [...controllers].sort() };
}

const mapped = (maps: IdMapping[] | undefined, id: number) => (maps ?? []).some((m) => id >= m.containerID && id < m.containerID + m.size);
const selfOnly = (maps: IdMapping[] | undefined, own: number) => maps?.length === 1 && maps[0].hostID === own && maps[0].size === 1;

const show = (v: unknown) => JSON.stringify(v);
const rangesText = (r: IdRange[]) => (r.length ? r.map((x) => `${x.start}-${x.start + x.size - 1}`).join(', ') : 'none');

/**
 * What an unprivileged caller may have of a validated config (with its user
 * namespace added): the plan, or a ConfigError with every problem.
 */
export function planRootless(spec: Spec, h: HostFacts): RootlessPlan {
  const problems: string[] = [];
  const add = (at: string, msg: string) => problems.push(`config.json: ${at}: ${msg}`);
  const linux = spec.linux ?? {};
  const c = h.caller;
  const userNs = (linux.namespaces ?? []).find((n) => n.type === 'user');

  // root with --rootless true: only the cgroups are rootless (as runc's flag)
  const unprivileged = c.uid !== 0;

  // the id maps
  let idmapHelpers: RootlessPlan['idmapHelpers'];
  if (unprivileged && userNs && !userNs.path) {
    const self = selfOnly(linux.uidMappings, c.uid) && selfOnly(linux.gidMappings, c.gid);
    if (!self) {
      for (const [key, file, own, ranges] of [
        ['uidMappings', '/etc/subuid', c.uid, h.subuid],
        ['gidMappings', '/etc/subgid', c.gid, h.subgid],
      ] as const) {
        (linux[key] ?? []).forEach((m, i) => {
          const ok = (m.size === 1 && m.hostID === own) || ranges.some((r) => m.hostID >= r.start && m.hostID + m.size <= r.start + r.size);
          if (!ok) {
            const ids = m.size === 1 ? `host id ${m.hostID} is` : `host ids ${m.hostID}-${m.hostID + m.size - 1} are`;
            add(
              `/linux/${key}/${i}`,
              `${ids} not this user's: ${file} gives ${show(c.name ?? String(c.uid))} ${rangesText(ranges)} (map only ${own}, or ask for a range in ${file})`,
            );
          }
        });
      }
      if (!h.newuidmap || !h.newgidmap) {
        add('/linux/uidMappings', 'mappings beyond your own uid and gid need newuidmap and newgidmap: install them (Debian: apt-get install uidmap)');
      } else {
        idmapHelpers = { uid: h.newuidmap, gid: h.newgidmap };
      }
    } else if (spec.process?.user?.additionalGids?.length) {
      add(
        '/process/user/additionalGids',
        'need setgroups(2), which the kernel denies when a user maps its own gid alone: map a range of /etc/subgid as well (newgidmap)',
      );
    }
    const user = spec.process?.user;
    if (user && !mapped(linux.uidMappings, user.uid ?? 0)) add('/process/user/uid', `${user.uid} is not mapped by /linux/uidMappings`);
    if (user && !mapped(linux.gidMappings, user.gid ?? 0)) add('/process/user/gid', `${user.gid} is not mapped by /linux/gidMappings`);
    // runc's rootless mount check: uid=/gid= options name ids inside the namespace
    (spec.mounts ?? []).forEach((m, i) => {
      for (const o of m.options ?? []) {
        const kv = /^([ug]id)=(\d+)$/.exec(o);
        if (kv && !mapped(kv[1] === 'uid' ? linux.uidMappings : linux.gidMappings, Number(kv[2]))) {
          add(`/mounts/${i}/options`, `"${o}": ${kv[1]} ${kv[2]} is not mapped in the user namespace (drop the option, or map the id)`);
        }
      }
    });
  }

  // namespaces joined by path: only the caller's own, through their user namespace
  let joinedUserns: string | undefined;
  if (unprivileged && userNs?.path) {
    try {
      const o = h.nsOwner(userNs.path, true);
      if (o.uid !== c.uid) add('/linux/namespaces', `user namespace ${show(userNs.path)} belongs to uid ${o.uid}: an unprivileged user may join only its own`);
      else joinedUserns = o.userns;
    } catch (e) {
      add('/linux/namespaces', `user namespace ${show(userNs.path)}: ${(e as Error).message}`);
    }
  }
  (linux.namespaces ?? []).forEach((n, i) => {
    if (!unprivileged || !n.path || n.type === 'user') return;
    const at = `/linux/namespaces/${i}`;
    if (!userNs?.path) {
      add(at, `joining the ${n.type} namespace ${show(n.path)} needs the user namespace that owns it: join that too ({"type": "user", "path": ...}), not a new one`);
      return;
    }
    try {
      const o = h.nsOwner(n.path, false);
      if (joinedUserns && o.userns !== joinedUserns) add(at, `${n.type} namespace ${show(n.path)} is not owned by the user namespace ${show(userNs.path)}: an unprivileged user cannot join it`);
    } catch (e) {
      add(at, `${n.type} namespace ${show(n.path)}: ${(e as Error).message}`);
    }
  });

  // device nodes: bound from the host (mknod needs CAP_MKNOD in the host's user namespace)
  (unprivileged ? (linux.devices ?? []) : []).forEach((d, i) => {
    const type = d.type === 'u' ? 'c' : d.type;
    const host = h.hostDevice(d.path);
    if (type === 'p') {
      add(`/linux/devices/${i}`, `${show(d.path)}: an unprivileged user cannot make a fifo device here (drop it)`);
    } else if (!host || host.type !== type || host.major !== d.major || host.minor !== d.minor) {
      add(
        `/linux/devices/${i}`,
        `${show(d.path)}: an unprivileged user cannot make device nodes, and the host has no ${type} ${d.major}:${d.minor} at ${show(d.path)} to bind (drop it)`,
      );
    }
  });

  // cgroups
  const d = h.cgroups;
  if (d) {
    const gives = d.controllers.length ? d.controllers.join(' ') : 'none';
    const r = linux.resources ?? {};
    for (const [ctrl, what] of v2Needs(r)) {
      if (!d.controllers.includes(ctrl)) {
        const key = what.split('.')[2];
        add(`/linux/resources/${key}`, `needs the cgroup v2 "${ctrl}" controller, which your delegated cgroup "${d.path}" does not give (it gives: ${gives}): drop the limit, or have it delegated`);
      }
    }
    for (const k of Object.keys(r.unified ?? {})) {
      const ctrl = k.split('.')[0];
      if (ctrl !== 'cgroup' && !d.controllers.includes(ctrl)) {
        add(`/linux/resources/unified/${k}`, `needs the cgroup v2 "${ctrl}" controller, which your delegated cgroup "${d.path}" does not give (it gives: ${gives})`);
      }
    }
  } else {
    for (const k of limitsIn(linux.resources)) {
      add(`/linux/resources/${k}`, 'resource limits need a cgroup, and this user has none delegated on this host (cgroup v1/hybrid): drop them, or run as root');
    }
    if (linux.cgroupsPath) add('/linux/cgroupsPath', `${show(linux.cgroupsPath)}: this user has no cgroups delegated on this host (cgroup v1/hybrid): drop it, or run as root`);
  }
  if (problems.length) throw new ConfigError(problems);
  return { idmapHelpers, noCgroups: !d, ...(d ? { cgroupBase: d.path } : {}) };
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/local/bin:/usr/bin:/bin').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

const readText = (f: string) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

/**
 * The cgroup v2 subtree delegated to this user, or false.  cgroup v1 and
 * hybrid hosts delegate none (runc skips cgroups there when rootless); root
 * keeps its own cgroups (src/cgroups).
 */
export function cgroupsDelegated(uid = process.geteuid?.() ?? 0, root = '/sys/fs/cgroup'): Delegation | false {
  if (uid === 0) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { detectMode } = require('../cgroups') as typeof import('../cgroups');
  if (detectMode(root) !== 'v2') return false;
  const own = /^0::(\/.*)$/m.exec(readText('/proc/self/cgroup'))?.[1];
  if (!own) return false;
  const words = (f: string) => readText(f).split(/\s+/).filter(Boolean);
  const d = findDelegation(own, uid, (p) => {
    const dir = path.join(root, p);
    try {
      const owners = [dir, path.join(dir, 'cgroup.procs'), path.join(dir, 'cgroup.subtree_control')].map((f) => fs.statSync(f).uid);
      return {
        owners,
        controllers: words(path.join(dir, 'cgroup.controllers')),
        subtreeControl: words(path.join(dir, 'cgroup.subtree_control')),
        hasProcs: readText(path.join(dir, 'cgroup.procs')).trim() !== '',
      };
    } catch {
      return undefined; // not there, or not ours to see
    }
  });
  return d ?? false;
}

/** The host's facts, read. */
export function hostFacts(): HostFacts {
  const caller = currentCaller();
  return {
    caller,
    subuid: subordinateRanges(readText('/etc/subuid'), caller),
    subgid: subordinateRanges(readText('/etc/subgid'), caller),
    newuidmap: which('newuidmap'),
    newgidmap: which('newgidmap'),
    cgroups: cgroupsDelegated(),
    hostDevice: (p) => {
      try {
        const st = fs.statSync(p);
        const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
        if (!type) return undefined;
        // Linux's dev_t: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31
        const major = ((st.rdev >> 8) & 0xfff) | (Math.floor(st.rdev / 2 ** 32) & ~0xfff);
        const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & ~0xff);
        return { type, major, minor };
      } catch {
        return undefined;
      }
    },
    nsOwner: (p, isUser) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const libc = require('../sys/libc') as typeof import('../sys/libc');
      try {
        return libc.namespaceOwner(p, isUser);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        const errno = (e as { errno?: number }).errno;
        if (code === 'ENOENT') throw new Error('no such file');
        if (code === 'EACCES') throw new Error('permission denied');
        if (errno === 25 /* ENOTTY */) throw new Error('not a namespace file');
        throw e;
      }
    },
  };
}

/** The caller's rootless plan for a validated config (its user namespace added when it had none). */
export function rootlessPlan(spec: Spec): RootlessPlan {
  return planRootless(spec, hostFacts());
}

/**
 * Removes dir as root of a user namespace with the container's maps: its
 * write layer holds files of the user's subordinate ids, which the user
 * cannot remove from outside (rm -rf through the shim, the maps written by
 * the same helpers as the container's).
 */
export function removeMapped(dir: string, userns: NonNullable<ContainerRecord['userns']>): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runShimSync } = require('../shim/client') as typeof import('../shim/client');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { lowerMappedCommand } = require('../shim/lower') as typeof import('../shim/lower');
  const rm = ['/bin/rm', '/usr/bin/rm'].find((p) => fs.existsSync(p)) ?? 'rm';
  const plan = lowerMappedCommand([rm, '-rf', '--one-file-system', '--', dir], { uidMap: userns.uidMap, gidMap: userns.gidMap, idmapHelpers: userns.helpers });
  const r = runShimSync(shimPath(), plan);
  if (r.code !== 0 || fs.existsSync(dir)) {
    throw new TsrunError(`remove "${dir}" in the container's user namespace: ${r.error?.message ?? (r.output || `rm exited with status ${r.code}`)}`);
  }
}
