import type { RuntimeContext } from '../runtime/context';
import { createLogger } from '../runtime/log';
import { DEFAULT_DATA_DIR, DEFAULT_ROOT } from '../runtime/paths';

export interface GlobalArgs {
  root?: string;
  'data-dir'?: string;
  log?: string;
  'log-format'?: string;
  debug?: boolean;
  'systemd-cgroup'?: boolean;
}

export function contextFrom(argv: GlobalArgs): RuntimeContext {
  return {
    root: argv.root || DEFAULT_ROOT,
    dataDir: argv['data-dir'] || DEFAULT_DATA_DIR,
    systemdCgroup: !!argv['systemd-cgroup'],
    log: createLogger({ file: argv.log || undefined, format: argv['log-format'] === 'json' ? 'json' : 'text', debug: argv.debug }),
  };
}
