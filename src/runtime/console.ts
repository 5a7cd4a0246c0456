// `tsrun run -t` / `exec -t` from a terminal, without --console-socket: as
// runc in the foreground, tsrun makes the console socket itself (a socket
// pair), the shim sends the pty master over it, and tsrun relays between its
// own stdin/stdout and the master: raw mode on its terminal, window size
// passed on (initially and on every SIGWINCH), the terminal restored when the
// container exits, on error and on exit.
import type * as net from 'net';

// net (with stream) costs ~1-2 ms to load: only the terminal paths need it
// eslint-disable-next-line @typescript-eslint/no-require-imports
const netModule = () => require('net') as typeof import('net');
import { SystemError, TsrunError } from '../errors';

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
}

/**
 * Relays between this process's stdio and the pty master.  `stdin`: forward
 * keystrokes (with raw mode when stdin is a terminal); without it the
 * container's terminal gets no input (docker's -t without -i).
 */
export function attachTerminal(master: number, o: { stdin: boolean }): TerminalRelay {
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
  m.on('data', (d: Buffer) => stdout.write(d));
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

  const onInput = (d: Buffer) => {
    if (!m.destroyed) m.write(d);
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
