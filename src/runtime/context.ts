import type { Logger } from './log';

/** What every library call needs from the global flags. */
export interface RuntimeContext {
  /** --root: state directories */
  root: string;
  /** --data-dir: image layers and write layers */
  dataDir: string;
  systemdCgroup: boolean;
  /**
   * --rootless (auto: not run by root): containers get no cgroups where this
   * user has none delegated, and a user namespace when the config has none
   * (src/runtime/rootless.ts).  The per-user default dirs follow the euid alone.
   */
  rootless: boolean;
  log: Logger;
}
