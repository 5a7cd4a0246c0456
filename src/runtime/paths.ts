import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const DEFAULT_ROOT = '/run/tsrun';
export const DEFAULT_DATA_DIR = '/var/lib/tsrun';

/** What decides the per-user defaults: the effective uid, the user namespace and the environment. */
export interface UserEnv {
  euid: number;
  env: NodeJS.ProcessEnv;
  home: string;
  /** in a user namespace other than the host's (rootless podman runs its runtime there as uid 0) */
  userns?: boolean;
}

/** Whether /proc/self/uid_map text is the host's (initial) user namespace's: the one line "0 0 4294967295". */
export function isHostUidMap(text: string): boolean {
  return /^\s*0\s+0\s+4294967295\s*$/.test(text);
}

let userns: boolean | undefined;
/** Whether tsrun runs in a user namespace other than the host's (read once). */
export function inUserNamespace(): boolean {
  if (userns === undefined) {
    try {
      userns = !isHostUidMap(fs.readFileSync('/proc/self/uid_map', 'utf8'));
    } catch {
      userns = false; // no /proc: nothing tells us otherwise
    }
  }
  return userns;
}

function userEnv(): UserEnv {
  return { euid: process.geteuid?.() ?? 0, env: process.env, home: os.homedir(), userns: inUserNamespace() };
}

/**
 * Whether the defaults are a user's dirs (runc's shouldHonorXDGRuntimeDir):
 * another user than root; or uid 0 of a user namespace that is not the host's
 * (rootless podman's runtime: podman's namespace maps the user to 0) when
 * XDG_RUNTIME_DIR is set and USER is not "root".
 */
function perUser(u: UserEnv): boolean {
  if (u.euid !== 0) return true;
  return !!u.userns && path.isAbsolute(u.env.XDG_RUNTIME_DIR ?? '') && u.env.USER !== 'root';
}

/**
 * --root's default.  root: /run/tsrun.  Another user (see perUser):
 * $XDG_RUNTIME_DIR/tsrun, or, without XDG_RUNTIME_DIR, /tmp/tsrun-<uid>
 * (checked to be the user's own before use: see checkUserRoot).
 */
export function defaultRoot(u: UserEnv = userEnv()): string {
  if (!perUser(u)) return DEFAULT_ROOT;
  const xdg = u.env.XDG_RUNTIME_DIR;
  return xdg && path.isAbsolute(xdg) ? path.join(xdg, 'tsrun') : `/tmp/tsrun-${u.euid}`;
}

/** --data-dir's default: /var/lib/tsrun for root, $XDG_DATA_HOME/tsrun (~/.local/share/tsrun) for another user (see perUser). */
export function defaultDataDir(u: UserEnv = userEnv()): string {
  if (!perUser(u)) return DEFAULT_DATA_DIR;
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
