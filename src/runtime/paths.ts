import * as path from 'path';

export const DEFAULT_ROOT = '/run/tsrun';
export const DEFAULT_DATA_DIR = '/var/lib/tsrun';
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
