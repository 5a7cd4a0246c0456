import type { Logger } from './log';

/** What every library call needs from the global flags. */
export interface RuntimeContext {
  /** --root: state directories */
  root: string;
  /** --data-dir: image layers and write layers */
  dataDir: string;
  systemdCgroup: boolean;
  log: Logger;
}
