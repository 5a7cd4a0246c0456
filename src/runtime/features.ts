// `tsrun features`: the OCI features document, listing what this build does.
import * as fs from 'fs';
import { KNOWN_MOUNT_OPTIONS } from '../shim/mountopts';
import { CAPABILITIES, SECCOMP_ACTIONS, SECCOMP_ARCHS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../shim/lower-security';
import { CLONE } from '../shim/lower';

function enabled(file: string, want?: string): boolean {
  try {
    const v = fs.readFileSync(file, 'utf8').trim();
    return want === undefined ? true : v === want;
  } catch {
    return false;
  }
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
    annotations: {
      'org.opencontainers.runtime.name': 'tsrun',
      'io.github.seccomp.libseccomp.version': '2.5.4',
    },
  };
}
