// run -ti and exec -ti at a terminal: what they need of tsrun's own stdin,
// and the keys that detach from them; where a person finds an exit code.
import { UsageError } from '../errors';
import { DEFAULT_DETACH_KEYS } from './options';

/**
 * -ti in the foreground (no --console-socket): tsrun relays this terminal,
 * and there must be one.  A pipe as stdin is refused (as docker does) rather
 * than relayed into a pty that never sees its end.  The message, or undefined.
 */
export function needsTerminal(verb: 'run' | 'exec', a: { tty?: boolean; interactive?: boolean; detach?: boolean; 'console-socket'?: string }): string | undefined {
  if (!a.tty || !a.interactive || a.detach || a['console-socket']) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if ((require('tty') as typeof import('tty')).isatty(0)) return undefined;
  const pipe = verb === 'run' ? '"... | tsrun run -b BUNDLE ID CMD"' : '"... | tsrun exec ID CMD"';
  return `${verb}: -ti reads this terminal, and stdin is not one: drop -t to send piped input (${pipe}), or run it at a terminal`;
}

/** The characters of ctrl-<c>: the terminal sends c's code & 0x1f (ctrl-@ NUL ... ctrl-_ 0x1f). */
const CTRL_KEYS = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/**
 * --detach-keys in docker's syntax: keys separated by commas, each
 * ctrl-<c> (c one of a-z @ [ \ ] ^ _) or one character; "" turns detaching
 * off (an empty buffer).  Returns the bytes the terminal sends for them.
 */
export function parseDetachKeys(spec: string = DEFAULT_DETACH_KEYS): Buffer {
  if (spec === '') return Buffer.alloc(0);
  const bytes = spec.split(',').map((key) => {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    if (ctrl && CTRL_KEYS.includes(ctrl[1].toLowerCase())) return ctrl[1].toLowerCase().charCodeAt(0) & 0x1f;
    if (key.length === 1 && key >= ' ' && key <= '~') return key.charCodeAt(0);
    throw new UsageError(
      `--detach-keys "${spec}": "${key}" is not a key: give keys separated by commas, each ctrl-<a-z, @, [, \\, ], ^ or _> or one character ` +
        `(default "${DEFAULT_DETACH_KEYS}"; "" turns detaching off)`,
    );
  });
  return Buffer.from(bytes);
}

/**
 * The detach keys of a run/exec: --detach-keys is for -ti in the foreground
 * (the keys are read from this terminal); refused elsewhere rather than
 * silently doing nothing.
 */
export function detachKeys(verb: 'run' | 'exec', a: { tty?: boolean; interactive?: boolean; detach?: boolean; 'console-socket'?: string; 'detach-keys'?: string }): Buffer | undefined {
  const given = a['detach-keys'];
  const relayed = a.tty && a.interactive && !a.detach && !a['console-socket'];
  if (given !== undefined && !relayed) {
    throw new UsageError(`${verb}: --detach-keys is for -ti in the foreground, where tsrun reads this terminal's keys: add -ti (and drop -d, --console-socket), or drop --detach-keys`);
  }
  return relayed ? parseDetachKeys(given) : undefined;
}

/**
 * Why state and list show no exit code, and where it is.  As runc: the
 * process that waits for a detached container's init is the engine's
 * (conmon, containerd-shim), or init; tsrun keeps no waiter of its own, as
 * one would change the process tree the engines rely on.
 */
export const EXIT_CODE_NOTE =
  'A stopped container shows no exit code (as in runc: the process that waits for it is not tsrun).  ' +
  'It is the exit status of a foreground "tsrun run" (or "tsrun exec"); a detached container\'s engine (conmon, containerd) has it; ' +
  'what the container printed is in "tsrun logs ID" (run -d at a terminal, or --logs).';
