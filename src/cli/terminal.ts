// run -ti and exec -ti at a terminal: what they need of tsrun's own stdin.
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
