// Facts about processes, read from /proc.  Status is derived from these on
// every read, never trusted from a file.
import * as fs from 'fs';

export interface ProcStat {
  pid: number;
  /** one-letter state: R S D Z T t X I ... */
  state: string;
  ppid: number;
  /** start time since boot, in clock ticks (field 22) */
  startTime: number;
}

/** Parse the text of /proc/<pid>/stat (the comm field may contain spaces and parentheses). */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('malformed /proc/PID/stat');
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3]
  return { pid, state: rest[0], ppid: Number(rest[1]), startTime: Number(rest[19]) };
}

export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return null;
  }
}

/** True when pid is the same live (non-zombie) process that started at startTime. */
export function isAlive(pid: number, startTime: number): boolean {
  const st = readProcStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X' && st.startTime === startTime;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Poll until the process is gone (or a zombie); false on timeout. */
export function waitForExit(pid: number, startTime: number, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  while (isAlive(pid, startTime)) {
    if (Date.now() >= deadline) return false;
    sleepMs(delay);
    delay = Math.min(delay * 2, 20);
  }
  return true;
}

