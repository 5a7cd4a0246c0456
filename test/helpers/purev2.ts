// A pure cgroup v2 host, on a hybrid one: a private mount namespace whose
// /sys/fs/cgroup is a plain cgroup2 mount (the host's unified hierarchy, with
// the controllers it has there).
import { spawnSync } from 'child_process';

export const PURE_V2_SCRIPT = 'mount --make-rprivate / && umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec "$@"';

/** Runs `node <file> ...args` there (a test file re-run with an "--...-inner" flag), output captured. */
export function inPureV2(file: string, args: string[], timeout = 60000) {
  return spawnSync('unshare', ['-m', 'sh', '-c', PURE_V2_SCRIPT, 'sh', process.execPath, file, ...args], { encoding: 'utf8', timeout });
}
