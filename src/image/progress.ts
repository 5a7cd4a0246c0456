// Progress of long unpacks and commits: bytes and layers on stderr when it is
// a terminal (one line rewritten in place, at most 5 times a second), silent
// otherwise.  A caller-supplied callback gets the same messages instead.

/** Bytes for people, in binary units (1 MiB = 1024 KiB). */
export function human(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export class Progress {
  private readonly cb: ((msg: string) => void) | undefined;
  // process.stderr is created on first access (~0.5 ms): only when there is something to show
  private ttyCache: boolean | undefined;
  private label = '';
  /** the size the bytes count up to (0: unknown); start() sets it, a caller that learns it later too */
  total = 0;
  private layerNo = 0;
  private layers = 0;
  private last = 0;
  private shown = false;

  constructor(cb?: (msg: string) => void) {
    this.cb = cb;
  }

  private get tty(): boolean {
    this.ttyCache ??= !this.cb && !!process.stderr.isTTY;
    return this.ttyCache;
  }

  private get out(): ((msg: string) => void) | undefined {
    return this.cb ?? (this.tty ? (m) => process.stderr.write(`\r\x1b[K${m}`) : undefined);
  }

  /** Whether anything is shown (a terminal or a callback): work done only for the display can be skipped otherwise. */
  get shows(): boolean {
    return this.out !== undefined;
  }

  layer(n: number, of: number): void {
    this.layerNo = n;
    this.layers = of;
  }

  start(label: string, total: number): void {
    this.label = label;
    this.total = total;
    this.last = 0;
  }

  bytes(n: number, force = false): void {
    const out = this.out;
    if (!out) return;
    const now = Date.now();
    if (!force && now - this.last < 200) return;
    if (!this.last && !force) {
      this.last = now; // skip the very first tick: short operations print nothing
      return;
    }
    this.last = now;
    const of = this.total ? ` / ${human(this.total)}` : '';
    const layer = this.layers > 1 ? `layer ${this.layerNo}/${this.layers} ` : '';
    out(`${layer}${this.label}: ${human(n)}${of}`);
    this.shown = true;
  }

  done(): void {
    /* per-layer end: nothing to print */
  }

  finish(): void {
    if (this.shown && this.tty) process.stderr.write('\r\x1b[K');
  }
}
