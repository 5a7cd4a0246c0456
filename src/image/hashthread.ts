// sha256 on a second thread, over the very bytes the caller extracts.
//
// A layer's diff_id is the sha256 of its tar; at 1.7 GB/s (SHA-NI) that is
// ~120 ms of a 200 MB layer, a third of a first unpack when it runs on the
// thread that also parses and writes.  Here a worker thread hashes while the
// main thread extracts: the caller fills slots of a ring in a
// SharedArrayBuffer (reads straight into them, or copies into them), hands
// each slot over, and reuses a slot only once the worker has hashed it.  The
// hash is of exactly the bytes that were extracted (not of a second read of
// the file, which a writer could change in between), and everything stays
// synchronous: Atomics.wait blocks the caller while the ring is full.
//
// Control words (Int32Array at the start of the buffer):
//   [PRODUCED] chunks handed over; only the caller increments it
//   [CONSUMED] chunks hashed; only the worker increments it
//   [STATE]    0 running, 1 digest ready, 2 worker failed, 3 abandoned (the caller wants no digest)
// then one length per slot (-1: the end, digest now), the 32-byte digest,
// and the slots.
import type * as WorkerThreads from 'worker_threads';

const PRODUCED = 0;
const CONSUMED = 1;
const STATE = 2;
const CTL_WORDS = 4;
const DIGEST_BYTES = 32;

/**
 * Inputs at least this big are hashed on a worker thread.  A worker costs
 * ~30-40 ms of CPU to start and end, what hashing ~60 MiB costs: below that,
 * on a machine with no idle core, it would cost more than it saves.
 */
export const THREAD_HASH_MIN = 64 << 20;

/** How long the caller waits for the worker to make any progress before it gives up. */
const STALL_MS = 60_000;

// The worker's whole program (eval'd: the CLI is one bundle, there is no file to point a Worker at).
const WORKER = `
const { workerData } = require('worker_threads');
const { sab, slots, slotSize, lensOff, digestOff, dataOff } = workerData;
const ctl = new Int32Array(sab, 0, ${CTL_WORDS});
const lens = new Int32Array(sab, lensOff, slots);
try {
  const h = require('crypto').createHash('sha256');
  for (let k = 0; ; k++) {
    while (Atomics.load(ctl, ${PRODUCED}) <= k) Atomics.wait(ctl, ${PRODUCED}, k);
    if (Atomics.load(ctl, ${STATE}) === 3) break;
    const s = k % slots;
    const n = lens[s];
    if (n < 0) {
      h.digest().copy(Buffer.from(sab, digestOff, ${DIGEST_BYTES}));
      Atomics.store(ctl, ${STATE}, 1);
      break;
    }
    h.update(Buffer.from(sab, dataOff + s * slotSize, n));
    Atomics.store(ctl, ${CONSUMED}, k + 1);
    Atomics.notify(ctl, ${CONSUMED});
  }
} catch {
  Atomics.store(ctl, ${STATE}, 2);
}
Atomics.store(ctl, ${CONSUMED}, 0x7fffffff);
Atomics.notify(ctl, ${CONSUMED});
`;

export class HashThreadError extends Error {}

export class ThreadHash {
  private readonly ctl: Int32Array;
  private readonly lens: Int32Array;
  private readonly data: Buffer;
  private readonly digestBuf: Buffer;
  private readonly worker: WorkerThreads.Worker;
  private produced = 0;
  private done = false;
  private readonly exit: Promise<number>;

  /**
   * 32 slots of 1 MiB: the caller reads ahead 32 MiB while the worker starts
   * (~30 ms), so it rarely waits for it.
   */
  constructor(
    private readonly slots = 32,
    readonly slotSize = 1 << 20,
  ) {
    const lensOff = CTL_WORDS * 4;
    const digestOff = lensOff + slots * 4;
    const dataOff = digestOff + DIGEST_BYTES;
    const sab = new SharedArrayBuffer(dataOff + slots * slotSize);
    this.ctl = new Int32Array(sab, 0, CTL_WORDS);
    this.lens = new Int32Array(sab, lensOff, slots);
    this.digestBuf = Buffer.from(sab, digestOff, DIGEST_BYTES);
    this.data = Buffer.from(sab, dataOff, slots * slotSize);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Worker } = require('worker_threads') as typeof WorkerThreads;
    this.worker = new Worker(WORKER, { eval: true, workerData: { sab, slots, slotSize, lensOff, digestOff, dataOff } });
    this.worker.unref(); // never what keeps the process alive
    this.exit = new Promise((resolve) => this.worker.once('exit', resolve));
  }

  /** Wait until the worker has hashed `count` chunks (or failed). */
  private waitConsumed(count: number): void {
    for (;;) {
      const c = Atomics.load(this.ctl, CONSUMED);
      if (c >= count) break;
      if (Atomics.wait(this.ctl, CONSUMED, c, STALL_MS) === 'timed-out' && Atomics.load(this.ctl, CONSUMED) === c)
        throw new HashThreadError(`the hashing thread made no progress in ${STALL_MS / 1000} s`);
    }
    if (Atomics.load(this.ctl, STATE) === 2) throw new HashThreadError('the hashing thread failed');
  }

  /** The next slot to fill (waits until the worker is done with it); pass the bytes filled to commit(). */
  slot(): Buffer {
    // slot p % slots last held chunk p - slots: it must be hashed before it is overwritten
    this.waitConsumed(this.produced - this.slots + 1);
    const s = this.produced % this.slots;
    return this.data.subarray(s * this.slotSize, (s + 1) * this.slotSize);
  }

  /** Hand the slot from slot() over with its first n bytes. */
  commit(n: number): void {
    this.lens[this.produced % this.slots] = n;
    Atomics.store(this.ctl, PRODUCED, ++this.produced);
    Atomics.notify(this.ctl, PRODUCED);
  }

  /** Hash a buffer the caller owns (copied into slots). */
  update(chunk: Buffer): void {
    for (let off = 0; off < chunk.length; ) {
      const s = this.slot();
      const n = chunk.copy(s, 0, off, Math.min(chunk.length, off + this.slotSize));
      this.commit(n);
      off += n;
    }
  }

  /** The sha256 of everything handed over, as hex; the worker then ends. */
  digest(): string {
    if (this.done) throw new HashThreadError('digest() called twice');
    this.done = true;
    this.slot();
    this.lens[this.produced % this.slots] = -1;
    Atomics.store(this.ctl, PRODUCED, ++this.produced);
    Atomics.notify(this.ctl, PRODUCED);
    this.waitConsumed(0x7fffffff);
    if (Atomics.load(this.ctl, STATE) !== 1) throw new HashThreadError('the hashing thread failed');
    return this.digestBuf.toString('hex');
  }

  /** Resolves with the thread's exit code when it has ended (after digest() or abort()); keeps the process alive until then. */
  ended(): Promise<number> {
    this.worker.ref();
    return this.exit;
  }

  /** End the worker without a digest (the unpack failed); does not wait. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    // STATE first: the worker, woken by PRODUCED, must see it (sequentially consistent)
    Atomics.store(this.ctl, STATE, 3);
    Atomics.store(this.ctl, PRODUCED, ++this.produced);
    Atomics.notify(this.ctl, PRODUCED);
  }
}
