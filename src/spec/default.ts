// The config.json `tsrun spec` writes: the same starting point as `runc spec`
// (OCI runtime-spec 1.2), with a cgroup namespace and hostname "tsrun".

import type { Spec } from './types';

export interface DefaultSpecOptions {
  /** process.args (default ["sh"]). */
  args?: string[];
  /** root.path, relative to the bundle or absolute (default "rootfs"). */
  rootfs?: string;
  /** process.terminal (default true, as `runc spec`). */
  terminal?: boolean;
  /** `runc spec --rootless`'s changes, for this uid and gid (see rootlessSpec). */
  rootless?: { uid: number; gid: number };
}

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const spec = baseSpec(opts);
  return opts.rootless ? rootlessSpec(spec, opts.rootless.uid, opts.rootless.gid) : spec;
}

/**
 * What `runc spec --rootless` changes: a user namespace mapping the user to 0
 * and no network namespace of its own (an unprivileged user cannot bring up
 * anything but lo there), no cgroup limits, /sys a read-only rbind of the
 * host's (sysfs cannot be mounted without a network namespace of its own),
 * devpts without gid=5 (not mapped).
 */
export function rootlessSpec(spec: Spec, uid: number, gid: number): Spec {
  const linux = spec.linux!;
  linux.namespaces = [...linux.namespaces!.filter((n) => n.type !== 'network' && n.type !== 'cgroup'), { type: 'user' }];
  linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  delete linux.resources;
  spec.mounts = spec.mounts!.map((m) => {
    if (m.destination === '/sys') return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    if (m.type === 'devpts') return { ...m, options: m.options!.filter((o) => !o.startsWith('gid=')) };
    return m;
  });
  return spec;
}

function baseSpec(opts: DefaultSpecOptions): Spec {
  return {
    ociVersion: '1.2.0',
    process: {
      terminal: opts.terminal ?? true,
      user: { uid: 0, gid: 0 },
      args: opts.args ? [...opts.args] : ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: opts.rootfs ?? 'rootfs', readonly: true },
    hostname: 'tsrun',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [
        { type: 'pid' },
        { type: 'network' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'cgroup' },
      ],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
