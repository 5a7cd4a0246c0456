// Frames and TLV lists as defined in native-shim/include/protocol.h.
import { TSRUN } from './protocol';

export type TlvValue = number | bigint | string | Buffer | TlvWriter;

/** Builds a TLV list: u16 tag | u32 len | value, little endian. */
export class TlvWriter {
  private chunks: Buffer[] = [];
  private size = 0;

  raw(tag: number, value: Buffer): this {
    const h = Buffer.allocUnsafe(TSRUN.TLV_HEADER_LEN);
    h.writeUInt16LE(tag, 0);
    h.writeUInt32LE(value.length, 2);
    this.chunks.push(h, value);
    this.size += h.length + value.length;
    return this;
  }

  /** An integer value, 8 bytes. Negative numbers are written as two's complement (i64). */
  u64(tag: number, value: number | bigint): this {
    const b = Buffer.allocUnsafe(8);
    const v = typeof value === 'bigint' ? value : BigInt(Math.trunc(value));
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    return this.raw(tag, b);
  }

  str(tag: number, value: string): this {
    return this.raw(tag, Buffer.from(value, 'utf8'));
  }

  group(tag: number, build: (w: TlvWriter) => void): this {
    const w = new TlvWriter();
    build(w);
    return this.raw(tag, w.toBuffer());
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

export interface TlvEntry {
  tag: number;
  value: Buffer;
}

export function readTlv(buf: Buffer): TlvEntry[] {
  const out: TlvEntry[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < TSRUN.TLV_HEADER_LEN) throw new Error('malformed TLV list: truncated header');
    const tag = buf.readUInt16LE(off);
    const len = buf.readUInt32LE(off + 2);
    off += TSRUN.TLV_HEADER_LEN;
    if (buf.length - off < len) throw new Error('malformed TLV list: value overruns the list');
    out.push({ tag, value: buf.subarray(off, off + len) });
    off += len;
  }
  return out;
}

export function tlvU64(value: Buffer): bigint {
  const b = Buffer.alloc(8);
  value.copy(b, 0, 0, Math.min(8, value.length));
  return b.readBigUInt64LE();
}

export function encodeFrame(msg: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.allocUnsafe(TSRUN.FRAME_HEADER_LEN);
  h.writeUInt32LE(payload.length, 0);
  h.writeUInt16LE(msg, 4);
  h.writeUInt16LE(0, 6);
  return Buffer.concat([h, payload]);
}

export interface Frame {
  msg: number;
  payload: Buffer;
}

/** Incremental frame parser for a byte stream. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buf.length < TSRUN.FRAME_HEADER_LEN) break;
      const len = this.buf.readUInt32LE(0);
      if (len > TSRUN.MAX_FRAME_LEN) throw new Error(`frame of ${len} bytes is too large`);
      if (this.buf.length < TSRUN.FRAME_HEADER_LEN + len) break;
      frames.push({
        msg: this.buf.readUInt16LE(4),
        payload: this.buf.subarray(TSRUN.FRAME_HEADER_LEN, TSRUN.FRAME_HEADER_LEN + len),
      });
      this.buf = this.buf.subarray(TSRUN.FRAME_HEADER_LEN + len);
    }
    return frames;
  }

  get pending(): number {
    return this.buf.length;
  }
}
