import type { RuntimeContext } from '../runtime/context';
import { createLogger } from '../runtime/log';
import { defaultDataDir, defaultRoot } from '../runtime/paths';
import { checkUserRoot, rootlessMode } from '../runtime/rootless';

export interface GlobalArgs {
  root?: string;
  'data-dir'?: string;
  log?: string;
  'log-format'?: string;
  debug?: boolean;
  'systemd-cgroup'?: boolean;
  rootless?: string;
}

export function contextFrom(argv: GlobalArgs): RuntimeContext {
  const root = argv.root || defaultRoot();
  checkUserRoot(root);
  return {
    root,
    dataDir: argv['data-dir'] || defaultDataDir(),
    systemdCgroup: !!argv['systemd-cgroup'],
    rootless: rootlessMode(argv.rootless),
    log: createLogger({ file: argv.log || undefined, format: argv['log-format'] === 'json' ? 'json' : 'text', debug: argv.debug }),
  };
}
