import * as os from 'os';
import { UsageError } from '../errors';

const SIGNALS = os.constants.signals as Record<string, number>;

/** "TERM", "SIGTERM", "sigterm", "15" -> 15 */
export function parseSignal(s: string | number | undefined, fallback = 'SIGTERM'): number {
  const v = s === undefined || s === '' ? fallback : String(s);
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    // 0 only checks that the process exists (runc accepts it too)
    if (n >= 0 && n <= 64) return n;
    throw new UsageError(`invalid signal "${v}": not between 0 and 64`);
  }
  let name = v.toUpperCase();
  if (!name.startsWith('SIG')) name = `SIG${name}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const base = name.startsWith('SIGRTMIN') ? 34 : 64;
    const off = Number(rt[1] ?? 0);
    const n = name.startsWith('SIGRTMIN') ? base + off : base - off;
    if (n >= 34 && n <= 64) return n;
  }
  const n = SIGNALS[name];
  if (n === undefined) throw new UsageError(`invalid signal "${v}"`);
  return n;
}

