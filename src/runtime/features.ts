// `tsrun features`: the OCI features document, listing what this build does.
import * as fs from 'fs';
import { KNOWN_MOUNT_OPTIONS } from '../shim/mountopts';
import { CAPABILITIES, SECCOMP_ACTIONS, SECCOMP_ARCHS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../shim/lower-security';
import { CLONE } from '../shim/lower';
import { hostFacts } from './rootless';

function enabled(file: string, want?: string): boolean {
  try {
    const v = fs.readFileSync(file, 'utf8').trim();
    return want === undefined ? true : v === want;
  } catch {
    return false;
  }
}

/** A kernel version at least major.minor. */
function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = require('os').release().split('.').map((x: string) => parseInt(x, 10));
  return a > major || (a === major && b >= minor);
}

/**
 * What rootless (a user who is not root; src/runtime/rootless.ts) can have on
 * this host, for the user asking: an extension of the features document, as
 * config.json's "tsrun".
 */
function rootless(): object {
  const h = hostFacts();
  const clone = fs.existsSync('/proc/sys/kernel/unprivileged_userns_clone') ? enabled('/proc/sys/kernel/unprivileged_userns_clone', '1') : true;
  const maxUserns = Number((() => {
    try {
      return fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8');
    } catch {
      return '0';
    }
  })());
  const range = (r: { start: number; size: number }[]) => r.map((x) => `${x.start}-${x.start + x.size - 1}`);
  return {
    // a user namespace of its own, the caller as root (the shim writes the maps, setgroups denied)
    userNamespaces: clone && maxUserns > 0,
    // mappings of the caller's /etc/subuid and /etc/subgid ranges go through these
    idmapHelpers: { newuidmap: h.newuidmap ?? null, newgidmap: h.newgidmap ?? null },
    subordinateIds: { uid: range(h.subuid), gid: range(h.subgid) },
    // false without a delegated cgroup v2 subtree (limits refused, pause/resume/update need one);
    // else the delegated cgroup and the controllers it hands down
    cgroups: h.cgroups,
    // image layers and write layers: overlayfs in a user namespace with userxattr (Linux 5.11)
    overlay: kernelAtLeast(5, 11),
    // device nodes: bind mounts of the host's; sysfs without a network namespace: a read-only rbind of /sys
    devices: 'bind',
  };
}

export function features(): object {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: KNOWN_MOUNT_OPTIONS,
    linux: {
      namespaces: Object.keys(CLONE).sort(),
      capabilities: CAPABILITIES,
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: SECCOMP_ACTIONS,
        operators: SECCOMP_OPERATORS,
        archs: SECCOMP_ARCHS,
        knownFlags: SECCOMP_FLAGS,
        // WAIT_KILLABLE_RECV takes effect with a notify listener (dropped without one, as runc)
        supportedFlags: SECCOMP_FLAGS,
      },
      apparmor: { enabled: enabled('/sys/module/apparmor/parameters/enabled', 'Y') },
      selinux: { enabled: enabled('/sys/fs/selinux/enforce') },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    tsrun: { rootless: rootless() },
    annotations: {
      'org.opencontainers.runtime.name': 'tsrun',
      'io.github.seccomp.libseccomp.version': '2.5.4',
    },
  };
}
