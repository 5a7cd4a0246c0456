// Lowers a validated config.json to the flat plan the shim executes
// (native-shim/include/protocol.h).  Pure: no I/O, so it is unit-tested
// without root.  Everything the shim needs is decided here; the shim parses
// no JSON and makes no policy.
import type { Device, Mount, Spec, NamespaceType } from '../spec/types';
import { PLAN, PLAN_FLAG, NSJ, MT, DV, KV, HOOK, HOOK_KIND, TOFF, TSRUN } from './protocol';
import { MS, parseMountOptions, propagationFlags } from './mountopts';
import { TlvWriter } from './tlv';
import { lowerProcessSecurity } from './lower-process';
import { lowerSeccompState } from './lower-security';

export const CLONE: Record<NamespaceType, number> = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
};

/** The devices runc creates in every container, besides config.linux.devices. */
export const DEFAULT_DEVICES: readonly Required<Device>[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
];

export interface RootfsMount {
  source: string;
  type: string;
  data: string;
  chdir?: string;
}

export interface LowerOptions {
  /** absolute host path of the container root */
  rootfs: string;
  /** absolute host path of the exec fifo */
  execFifo: string;
  /** cgroup.procs files the shim joins before cloning */
  cgroupProcs?: string[];
  /** an overlay (image layers) to mount on rootfs first */
  rootfsMount?: RootfsMount;
  /** bind mounts added after config.mounts (volumes) */
  extraMounts?: Mount[];
  /** the state JSON createContainer/startContainer hooks read on stdin */
  hookState?: string;
  /** fd number, in the shim, of the connected console socket */
  consoleSocketFd?: number;
  preserveFds?: number;
  keepParent?: boolean;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** prestart/createRuntime hooks need the shim to stop for TS */
  syncHooks?: boolean;
  /** the OCI state for the seccomp listener (linux.seccomp.listenerPath); its pid is filled in by the shim */
  seccompState?: object;
  /** the id maps are written by an unprivileged user (rootless), who may do so only with setgroups denied */
  unprivilegedMapper?: boolean;
  /** rootless with /etc/subuid ranges: newuidmap/newgidmap write the maps (then setgroups stays allowed) */
  idmapHelpers?: { uid: string; gid: string };
}

/**
 * A sysfs mount the kernel refuses: sysfs may be mounted only by the owner
 * of the network namespace, so a container in a user namespace of its own
 * that keeps (or joins) another network namespace gets the host's /sys as a
 * recursive read-only bind instead, as runc and crun do.
 */
export function sysfsAsBind(m: Mount, userns: boolean, newNetns: boolean): Mount {
  if (m.type !== 'sysfs' || !userns || newNetns) return m;
  const keep = (m.options ?? []).filter((o) => ['nosuid', 'nodev', 'noexec', 'ro', 'rw'].includes(o));
  const ro = !keep.includes('rw');
  return {
    destination: m.destination,
    type: 'bind',
    source: '/sys',
    options: ['rbind', ...keep.filter((o) => o !== 'ro' && o !== 'rw'), ...(ro ? ['ro', 'rro'] : [])],
  };
}

function mountGroup(w: TlvWriter, m: Mount): void {
  const o = parseMountOptions(m.options);
  let type = m.type ?? '';
  let flags = o.flags;
  if (type === 'bind' || type === 'rbind') {
    flags |= MS.BIND | (type === 'rbind' ? MS.REC : 0);
    type = 'bind';
  } else if (flags & MS.BIND) {
    // a bind mount declared by its options alone ("type": "none")
    type = 'bind';
  }
  w.group(PLAN.MOUNT, (g) => {
    g.str(MT.SOURCE, m.source ?? type);
    g.str(MT.DEST, m.destination);
    g.str(MT.TYPE, type);
    g.u64(MT.FLAGS, flags);
    if (o.data) g.str(MT.DATA, o.data);
    if (o.propagation) g.u64(MT.PROPAGATION, o.propagation);
    if (o.attrSet) g.u64(MT.ATTR_SET, o.attrSet);
    if (o.attrClear) g.u64(MT.ATTR_CLEAR, o.attrClear);
  });
}

function isDevBind(m: Mount): boolean {
  if (m.destination.replace(/\/+$/, '') !== '/dev') return false;
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

function idMap(maps: { containerID: number; hostID: number; size: number }[] | undefined): string | undefined {
  if (!maps || maps.length === 0) return undefined;
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

export function lowerSpec(spec: Spec, o: LowerOptions): Buffer {
  const w = new TlvWriter();
  const linux = spec.linux ?? {};
  const nss = linux.namespaces ?? [];
  w.u64(PLAN.VERSION, TSRUN.PROTOCOL_VERSION);

  let flags = 0;
  if (o.keepParent) flags |= PLAN_FLAG.KEEP_PARENT;
  if (o.noPivot) flags |= PLAN_FLAG.NO_PIVOT;
  if (spec.root?.readonly) flags |= PLAN_FLAG.ROOT_READONLY;
  if (spec.process?.terminal) flags |= PLAN_FLAG.TERMINAL;
  if (spec.process?.noNewPrivileges) flags |= PLAN_FLAG.NO_NEW_PRIVS;
  if (o.syncHooks) flags |= PLAN_FLAG.SYNC_HOOKS;
  if (o.noNewKeyring) flags |= PLAN_FLAG.NO_NEW_KEYRING;
  const newUserns = nss.some((n) => n.type === 'user' && !n.path);
  const userns = nss.some((n) => n.type === 'user');
  const newNetns = nss.some((n) => n.type === 'network' && !n.path);
  const mounts = [...(spec.mounts ?? []), ...(o.extraMounts ?? [])].map((m) => sysfsAsBind(m, userns, newNetns));
  if (mounts.some(isDevBind)) flags |= PLAN_FLAG.NO_DEFAULT_DEVICES;
  // the kernel lets an unprivileged writer of gid_map do so only after setgroups is denied
  // (user_namespaces(7)); root, with CAP_SETGID over the parent namespace, keeps setgroups
  // allowed, as runc does, so that the process's additionalGids can be set (containerd's
  // `ctr run --uidmap/--gidmap`, podman's --userns=auto)
  if (newUserns && o.unprivilegedMapper && !o.idmapHelpers) flags |= PLAN_FLAG.SETGROUPS_DENY;
  w.u64(PLAN.FLAGS, flags);

  w.str(PLAN.ROOTFS, o.rootfs);
  if (linux.rootfsPropagation) w.u64(PLAN.ROOTFS_PROPAGATION, propagationFlags(linux.rootfsPropagation) ?? 0);

  let newFlags = 0;
  for (const ns of nss) {
    if (ns.path) w.group(PLAN.NS_JOIN, (g) => g.u64(NSJ.TYPE, CLONE[ns.type]).str(NSJ.PATH, ns.path!));
    else newFlags |= CLONE[ns.type];
  }
  w.u64(PLAN.NS_NEW, newFlags);
  if (newUserns) {
    const u = idMap(linux.uidMappings);
    const g = idMap(linux.gidMappings);
    if (u) w.str(PLAN.UID_MAP, u);
    if (g) w.str(PLAN.GID_MAP, g);
    if (o.idmapHelpers) w.str(PLAN.UID_MAP_HELPER, o.idmapHelpers.uid).str(PLAN.GID_MAP_HELPER, o.idmapHelpers.gid);
  }
  for (const [clock, off] of Object.entries(linux.timeOffsets ?? {})) {
    w.group(PLAN.TIME_OFFSET, (g) => g.str(TOFF.CLOCK, clock).u64(TOFF.SECS, off.secs ?? 0).u64(TOFF.NANOSECS, off.nanosecs ?? 0));
  }
  if (spec.hostname !== undefined) w.str(PLAN.HOSTNAME, spec.hostname);
  if (spec.domainname !== undefined) w.str(PLAN.DOMAINNAME, spec.domainname);

  if (o.rootfsMount) {
    const rm = o.rootfsMount;
    w.group(PLAN.ROOTFS_MOUNT, (g) => {
      g.str(MT.SOURCE, rm.source).str(MT.DEST, '/').str(MT.TYPE, rm.type).u64(MT.FLAGS, 0).str(MT.DATA, rm.data);
      if (rm.chdir) g.str(MT.CHDIR, rm.chdir);
    });
  }
  for (const m of mounts) mountGroup(w, m);

  const devices = new Map<string, Device>();
  for (const d of DEFAULT_DEVICES) devices.set(d.path, d);
  for (const d of linux.devices ?? []) devices.set(d.path, d);
  for (const d of devices.values()) {
    w.group(PLAN.DEVICE, (g) => {
      g.str(DV.PATH, d.path);
      g.u64(DV.TYPE, (d.type === 'u' ? 'c' : d.type).charCodeAt(0));
      g.u64(DV.MAJOR, d.major ?? 0).u64(DV.MINOR, d.minor ?? 0);
      g.u64(DV.MODE, d.fileMode ?? 0o666).u64(DV.UID, d.uid ?? 0).u64(DV.GID, d.gid ?? 0);
    });
  }
  for (const p of linux.maskedPaths ?? []) w.str(PLAN.MASKED_PATH, p);
  for (const p of linux.readonlyPaths ?? []) w.str(PLAN.READONLY_PATH, p);
  for (const [k, v] of Object.entries(linux.sysctl ?? {})) w.group(PLAN.SYSCTL, (g) => g.str(KV.KEY, k).str(KV.VALUE, v));
  if (linux.mountLabel) w.str(PLAN.MOUNT_LABEL, linux.mountLabel);
  for (const f of o.cgroupProcs ?? []) w.str(PLAN.CGROUP_PROCS, f);
  w.str(PLAN.EXEC_FIFO, o.execFifo);

  lowerProcessSecurity(spec, w);
  lowerSeccompState(spec, o.seccompState, w);
  lowerProcess(spec, w);
  if (o.preserveFds) w.u64(PLAN.PRESERVE_FDS, o.preserveFds);
  if (o.consoleSocketFd !== undefined) w.u64(PLAN.CONSOLE_SOCKET, o.consoleSocketFd);

  for (const [kind, hooks] of [
    [HOOK_KIND.CREATE_CONTAINER, spec.hooks?.createContainer],
    [HOOK_KIND.START_CONTAINER, spec.hooks?.startContainer],
  ] as const) {
    for (const h of hooks ?? []) {
      w.group(PLAN.HOOK, (g) => {
        g.u64(HOOK.KIND, kind).str(HOOK.PATH, h.path);
        for (const a of h.args ?? [h.path]) g.str(HOOK.ARG, a);
        for (const e of h.env ?? []) g.str(HOOK.ENV, e);
        if (h.timeout) g.u64(HOOK.TIMEOUT, h.timeout);
      });
    }
  }
  if (o.hookState && (spec.hooks?.createContainer?.length || spec.hooks?.startContainer?.length)) {
    w.str(PLAN.HOOK_STATE, o.hookState);
  }
  return w.toBuffer();
}

/** process.args/env/cwd/user: shared by create and exec plans. */
export function lowerProcess(spec: Pick<Spec, 'process'>, w: TlvWriter): void {
  const p = spec.process;
  if (!p) return;
  for (const a of p.args ?? []) w.str(PLAN.ARG, a);
  const env = p.env ?? [];
  for (const e of env) w.str(PLAN.ENV, e);
  w.str(PLAN.CWD, p.cwd || '/');
  w.u64(PLAN.UID, p.user?.uid ?? 0);
  w.u64(PLAN.GID, p.user?.gid ?? 0);
  for (const g of p.user?.additionalGids ?? []) w.u64(PLAN.ADDITIONAL_GID, g);
  if (p.user?.umask !== undefined) w.u64(PLAN.UMASK, p.user.umask);
}

export interface LowerExecOptions {
  /** host pid of the container's init: its namespaces are joined */
  joinPid: number;
  cgroupProcs?: string[];
  consoleSocketFd?: number;
  preserveFds?: number;
  detach?: boolean;
  pidFile?: string;
  /** the OCI state for the seccomp listener (linux.seccomp.listenerPath); its pid is filled in by the shim */
  seccompState?: object;
  /** the id maps are written by an unprivileged user (rootless), who may do so only with setgroups denied */
  unprivilegedMapper?: boolean;
}

/**
 * An exec plan: join the container's namespaces and cgroup, then run
 * `process` with its own security attributes; the container's seccomp
 * profile applies as it does to the init (runc does the same).
 */
export function lowerExec(spec: Spec, proc: NonNullable<Spec['process']>, o: LowerExecOptions): Buffer {
  const w = new TlvWriter();
  w.u64(PLAN.VERSION, TSRUN.PROTOCOL_VERSION);
  let flags = 0;
  if (!o.detach) flags |= PLAN_FLAG.KEEP_PARENT;
  else flags |= PLAN_FLAG.DETACH;
  if (proc.terminal) flags |= PLAN_FLAG.TERMINAL;
  if (proc.noNewPrivileges) flags |= PLAN_FLAG.NO_NEW_PRIVS;
  w.u64(PLAN.FLAGS, flags);
  w.u64(PLAN.JOIN_PID, o.joinPid);
  for (const f of o.cgroupProcs ?? []) w.str(PLAN.CGROUP_PROCS, f);
  const withProc = { process: proc, linux: spec.linux };
  lowerProcessSecurity(withProc, w);
  lowerSeccompState(withProc, o.seccompState, w);
  lowerProcess(withProc, w);
  if (o.preserveFds) w.u64(PLAN.PRESERVE_FDS, o.preserveFds);
  if (o.consoleSocketFd !== undefined) w.u64(PLAN.CONSOLE_SOCKET, o.consoleSocketFd);
  if (o.pidFile) w.str(PLAN.PID_FILE, o.pidFile);
  if (proc.execCPUAffinity?.final) w.str(PLAN.CPU_AFFINITY, proc.execCPUAffinity.final);
  return w.toBuffer();
}

/**
 * A plan that runs `argv` as root of a new user namespace with these maps
 * (rootless, /etc/subuid ranges through the helpers), in the host's other
 * namespaces and root: what a user needs to remove a write layer its
 * container filled with files of its subordinate ids, which it cannot
 * remove from outside.
 */
export function lowerMappedCommand(argv: string[], o: { uidMap: string; gidMap: string; idmapHelpers?: { uid: string; gid: string } }): Buffer {
  const w = new TlvWriter();
  w.u64(PLAN.VERSION, TSRUN.PROTOCOL_VERSION);
  w.u64(PLAN.FLAGS, PLAN_FLAG.KEEP_PARENT | (o.idmapHelpers ? 0 : PLAN_FLAG.SETGROUPS_DENY));
  w.str(PLAN.ROOTFS, '/');
  w.u64(PLAN.NS_NEW, CLONE.user);
  w.str(PLAN.UID_MAP, o.uidMap).str(PLAN.GID_MAP, o.gidMap);
  if (o.idmapHelpers) w.str(PLAN.UID_MAP_HELPER, o.idmapHelpers.uid).str(PLAN.GID_MAP_HELPER, o.idmapHelpers.gid);
  for (const a of argv) w.str(PLAN.ARG, a);
  w.str(PLAN.ENV, 'PATH=/usr/sbin:/usr/bin:/sbin:/bin');
  w.str(PLAN.CWD, '/');
  w.u64(PLAN.UID, 0).u64(PLAN.GID, 0);
  return w.toBuffer();
}

export { idMap as lowerIdMap };
