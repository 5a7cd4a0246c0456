import * as path from 'path';

import * as os from 'os';

export const DEFAULT_ROOT = '/run/tsrun';
export const DEFAULT_DATA_DIR = '/var/lib/tsrun';

/** What decides the per-user defaults: the effective uid and the environment. */
export interface UserEnv {
  euid: number;
  env: NodeJS.ProcessEnv;
  home: string;
}

function userEnv(): UserEnv {
  return { euid: process.geteuid?.() ?? 0, env: process.env, home: os.homedir() };
}

/**
 * --root's default.  root: /run/tsrun.  Another user (runc's rule, which
 * looks at the euid, not at --rootless): $XDG_RUNTIME_DIR/tsrun, or, without
 * XDG_RUNTIME_DIR, /tmp/tsrun-<uid> (checked to be the user's own before use:
 * see checkUserRoot).
 */
export function defaultRoot(u: UserEnv = userEnv()): string {
  if (u.euid === 0) return DEFAULT_ROOT;
  const xdg = u.env.XDG_RUNTIME_DIR;
  return xdg && path.isAbsolute(xdg) ? path.join(xdg, 'tsrun') : `/tmp/tsrun-${u.euid}`;
}

/** --data-dir's default: /var/lib/tsrun for root, $XDG_DATA_HOME/tsrun (~/.local/share/tsrun) for another user. */
export function defaultDataDir(u: UserEnv = userEnv()): string {
  if (u.euid === 0) return DEFAULT_DATA_DIR;
  const xdg = u.env.XDG_DATA_HOME;
  return xdg && path.isAbsolute(xdg) ? path.join(xdg, 'tsrun') : path.join(u.home, '.local', 'share', 'tsrun');
}
export const STATE_FILE = 'state.json';
export const EXEC_FIFO = 'exec.fifo';

/** The shim binary: $TSRUN_SHIM, else native-shim/build/tsrun-shim next to this checkout. */
export function shimPath(): string {
  // dist/tsrun.js (bundle) and build/test/*.js (tests) both sit one or two levels below the top
  if (process.env.TSRUN_SHIM) return process.env.TSRUN_SHIM;
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'native-shim', 'build', 'tsrun-shim');
    if (require('fs').existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return path.join(__dirname, '..', 'native-shim', 'build', 'tsrun-shim');
}

/** A word as a shell reads it back: bare when safe, else in single quotes. */
export function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** A tsrun command line for a hint, to paste as it is: --root when it is not the default. */
export function tsrunCommand(root: string | undefined, ...words: string[]): string {
  const r = root && root !== DEFAULT_ROOT ? ['--root', root] : [];
  return ['tsrun', ...r, ...words].map(shellWord).join(' ');
}
