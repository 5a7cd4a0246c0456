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
