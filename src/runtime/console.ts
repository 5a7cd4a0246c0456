// `tsrun run -t` / `exec -t` from a terminal, without --console-socket: as
// runc in the foreground, tsrun makes the console socket itself (a socket
// pair), the shim sends the pty master over it, and tsrun relays between its
// own stdin/stdout and the master: raw mode on its terminal, window size
// passed on (initially and on every SIGWINCH), the terminal restored when the
// container exits, on error and on exit.
//
// Detach keys (docker's and podman's ctrl-p ctrl-q, --detach-keys): the way
// out of a process that ignores ctrl-c.  tsrun holds the pty master, and the
// kernel hangs the terminal up (SIGHUP to the container's shell) when the
// last holder closes it; so on a detach a keeper process takes the master
// over before tsrun exits and copies what the container prints to a file
// (`tsrun logs`), so that it never blocks on a full terminal either.
import * as fs from 'fs';
import type * as net from 'net';

// net (with stream) costs ~1-2 ms to load: only the terminal paths need it
// eslint-disable-next-line @typescript-eslint/no-require-imports
const netModule = () => require('net') as typeof import('net');
import { SystemError, TsrunError } from '../errors';

/**
 * Finds the detach keys in what the person types.  Bytes that may begin the
 * sequence are held back until it is complete (then they are dropped: the
 * container never sees them) or broken (then they are passed on, with what
 * broke it).
 */
export class DetachMatcher {
  private held = 0;

  constructor(private readonly keys: Buffer) {}

  /** The bytes to pass on now, and whether the sequence is complete (what follows it in d is dropped). */
  feed(d: Buffer): { pass: Buffer; detach: boolean } {
    const k = this.keys;
    if (k.length === 0 || (this.held === 0 && !d.includes(k[0]))) return { pass: d, detach: false };
    const out: number[] = [];
    // the held bytes are always k[0 .. held-1]: a broken prefix is passed on
    // from its start, and what is left of it may begin the sequence again
    let pending = [...k.subarray(0, this.held)];
    this.held = 0;
    for (const b of d) {
      pending.push(b);
      while (pending.length && !pending.every((x, i) => x === k[i])) out.push(pending.shift()!);
      if (pending.length === k.length) return { pass: Buffer.from(out), detach: true };
    }
    this.held = pending.length;
    pending = [];
    return { pass: Buffer.from(out), detach: false };
  }
}

/**
 * The program that keeps a detached container's terminal open: reads the
 * master (its stdin) until the container closes its side, writing what it
 * reads to its stdout.  A process of its own, in a session of its own, so
 * that tsrun can exit and the person's terminal can close.
 */
const KEEPER = '/bin/cat';

/** Hands the pty master to a keeper that copies the output to `output` (appended; null: discarded). */
function keepTerminal(master: number, output: string | null): void {
  let out: number;
  try {
    out = fs.openSync(output ?? '/dev/null', 'a', 0o640);
  } catch (e) {
    throw new SystemError(`open "${output}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    // cat reads plainly: EAGAIN would end it (libuv leaves a master blocking today; no promise)
    sock().setBlocking(master, 'the pty master');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const child = (require('child_process') as typeof import('child_process')).spawn(KEEPER, [], {
      stdio: [master, out, 'ignore'],
      detached: true,
      env: {},
    });
    child.on('error', () => {
      /* reported below: no pid */
    });
    if (child.pid === undefined) throw new SystemError(`start "${KEEPER}" to keep the terminal open: not found or not executable`);
    child.unref();
  } finally {
    fs.closeSync(out);
  }
}

/** Connects to --console-socket; the shim sends the pty master over it. */
export function connectConsole(p: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = netModule().connect(p);
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new TsrunError(`console socket "${p}": ${e.message}`)));
  });
}

type SocketMod = typeof import('../sys/socket');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sock = (): SocketMod => require('../sys/socket') as SocketMod;

/** The socket pair: one end goes to the shim as its console socket, tsrun keeps the other. */
export class InternalConsole {
  private mine: number;
  private theirs: number;
  private handedOut = false;

  constructor() {
    [this.mine, this.theirs] = sock().socketpair();
  }

  /** The shim's end, for ShimOptions.consoleSocket; whoever gets it destroys it after spawning the shim. */
  shimEnd(): net.Socket {
    this.handedOut = true;
    return new (netModule().Socket)({ fd: this.theirs, readable: false, writable: false });
  }

  /** The pty master the shim sent (it does before READY); closes tsrun's end. */
  receiveMaster(): number {
    const got = sock().recvFd(this.mine, false);
    this.close();
    if (!got) throw new SystemError('the container did not send its terminal (pty master)');
    return got.fd;
  }

  close(): void {
    if (this.mine >= 0) sock().closeFd(this.mine);
    if (!this.handedOut && this.theirs >= 0) sock().closeFd(this.theirs);
    this.mine = this.theirs = -1;
  }
}

export interface TerminalRelay {
  /** After the container process exited: print what is left on the master, then restore. */
  finish(): Promise<void>;
  /** Put the terminal back as it was (idempotent; also runs on process exit). */
  restore(): void;
  /** Resolves when the person typed the detach keys: the terminal is restored, a keeper holds the master. */
  detached: Promise<void>;
}

export interface DetachOptions {
  /** the key sequence (src/cli/terminal.ts parseDetachKeys); empty: no detaching */
  keys: Buffer;
  /** where the container's terminal output goes after a detach: a file (appended), or null: discarded */
  output: string | null;
}

/**
 * Relays between this process's stdio and the pty master.  `stdin`: forward
 * keystrokes (with raw mode when stdin is a terminal); without it the
 * container's terminal gets no input (docker's -t without -i), and there are
 * no keys to detach on.
 */
export function attachTerminal(master: number, o: { stdin: boolean; detach?: DetachOptions }): TerminalRelay {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const m = new (require('tty') as typeof import('tty')).ReadStream(master);
  const stdin = process.stdin;
  const stdout = process.stdout;
  let raw = false;
  let restored = false;
  let ended = false;
  let onEnded: (() => void) | undefined;
  const end = () => {
    ended = true;
    onEnded?.();
  };
  const toStdout = (d: Buffer) => stdout.write(d);
  m.on('data', toStdout);
  // EIO: every holder of the pty's slave side is gone
  m.on('error', end);
  m.on('end', end);
  m.on('close', end);

  const resize = () => {
    const size = winSize();
    if (size) {
      try {
        sock().setWinSize(master, size);
      } catch {
        /* the master is gone */
      }
    }
  };
  resize();
  if (stdout.isTTY) stdout.on('resize', resize);

  let detached = false;
  let onDetached: () => void = () => {};
  const detachedP = new Promise<void>((resolve) => (onDetached = resolve));
  const matcher = o.detach && o.stdin ? new DetachMatcher(o.detach.keys) : undefined;
  const detach = () => {
    // all in this tick: Node reads the master only between ticks, so nothing
    // it read is lost, and the keeper reads on from where Node stopped
    try {
      keepTerminal(master, o.detach!.output);
    } catch (e) {
      // without a keeper the container would get SIGHUP: stay attached
      stdout.write(`\r\ntsrun: cannot detach: ${(e as Error).message}\r\n`);
      return;
    }
    detached = true;
    m.removeListener('data', toStdout);
    m.destroy();
    restore();
    // the cursor is where the container left it: what tsrun says next starts a line
    if (stdout.isTTY) stdout.write('\n');
    onDetached();
  };
  const onInput = (d: Buffer) => {
    if (m.destroyed || detached) return;
    if (!matcher) {
      m.write(d);
      return;
    }
    const { pass, detach: now } = matcher.feed(d);
    if (pass.length) m.write(pass);
    if (now) detach();
  };
  if (o.stdin) {
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      raw = true;
    }
    stdin.on('data', onInput);
    stdin.resume();
  }

  const restore = () => {
    if (restored) return;
    restored = true;
    process.removeListener('exit', restore);
    if (stdout.isTTY) stdout.removeListener('resize', resize);
    if (o.stdin) {
      stdin.removeListener('data', onInput);
      if (raw) {
        try {
          stdin.setRawMode(false);
        } catch {
          /* not a terminal any more */
        }
      }
      stdin.pause();
      // a paused TTY stdin still holds the event loop open
      (stdin as unknown as { _handle?: { unref?: () => void } })._handle?.unref?.();
    }
  };
  process.on('exit', restore);

  return {
    restore,
    detached: detachedP,
    finish: async () => {
      // output the process wrote just before it exited is still in the pty
      if (!ended) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 200);
          onEnded = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
      m.destroy();
      restore();
    },
  };
}

/** The size of the terminal tsrun runs in: stdout's, else stdin's. */
export function winSize(): { rows: number; cols: number } | null {
  if (process.stdout.isTTY && process.stdout.rows && process.stdout.columns) {
    return { rows: process.stdout.rows, cols: process.stdout.columns };
  }
  if (process.stdin.isTTY) return sock().getWinSize(0);
  return null;
}
