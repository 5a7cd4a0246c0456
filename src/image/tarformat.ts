// A small streaming tar (ustar + pax + GNU long names) reader and a header
// encoder.  Why not node-tar's Parser here: its Pax parser drops
// SCHILY.xattr.* records (we must keep xattrs), it cannot hand us raw
// device numbers to mknod, and we want one synchronous pass that hashes,
// parses and extracts the stream with our own path policy.  node-tar is still
// what the tests use to craft archives.

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  path: string;
  type: EntryType;
  mode: number; // permission bits incl. setuid/setgid/sticky
  uid: number;
  gid: number;
  size: number;
  mtime: number; // seconds (may be fractional from pax)
  atime?: number;
  linkpath: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

/** What the consumer does with an entry's data: null to skip it. */
export interface EntrySink {
  data(chunk: Buffer): void;
  end(): void;
}

export class TarFormatError extends Error {}

const BLOCK = 512;

function cstr(b: Buffer, off: number, len: number): string {
  let end = off;
  const lim = off + len;
  while (end < lim && b[end] !== 0) end++;
  return end === off ? '' : b.toString('utf8', off, end);
}

function num(b: Buffer, off: number, len: number): number {
  if (b[off] & 0x80) {
    // base-256 (GNU): big-endian two's complement, first byte's top bit is the flag
    let v = b[off] & 0x3f;
    if (b[off] & 0x40) throw new TarFormatError('negative number in tar header');
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    return v;
  }
  // octal digits, maybe space-padded, ended by NUL or space (parseInt(trimmed, 8) without the strings)
  const end = off + len;
  let i = off;
  while (i < end && isSpace(b[i])) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i];
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
    digits++;
  }
  if (!digits && i < end && b[i] !== 0) {
    // not a plain octal number: what parseInt makes of it (a sign), or an error
    const s = cstr(b, off, len).trim();
    const p = parseInt(s, 8);
    if (Number.isNaN(p)) throw new TarFormatError(`bad number "${s}" in tar header`);
    return p;
  }
  return v;
}

/** What String.prototype.trim removes, in the ASCII range. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Sum of the 512 bytes of a header block: 4 bytes at a time when the block is 4-byte aligned (the byte loop is most of a header's cost in cold code). */
export function blockSum(b: Buffer): number {
  if (b.byteOffset % 4 === 0 && b.length >= BLOCK) {
    const w = new Uint32Array(b.buffer, b.byteOffset, BLOCK / 4);
    let acc = 0; // two 16-bit lanes: 128 words x 2 bytes x 255 < 65536
    for (let i = 0; i < BLOCK / 4; i++) {
      const x = w[i];
      acc += (x & 0x00ff00ff) + ((x >>> 8) & 0x00ff00ff);
    }
    return (acc & 0xffff) + (acc >>> 16);
  }
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  return sum;
}

function checksumOk(b: Buffer): boolean {
  let stored: number;
  try {
    stored = num(b, 148, 8);
  } catch {
    return false; // not even a number: not a tar header (the caller says so)
  }
  let field = 0; // the checksum field counts as 8 spaces
  for (let i = 148; i < 156; i++) field += b[i];
  return blockSum(b) - field + 8 * 32 === stored;
}

function parsePax(buf: Buffer, into: Map<string, Buffer>): void {
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(buf.toString('latin1', off, sp), 10);
    if (!(len > 0) || off + len > buf.length) throw new TarFormatError('bad pax record');
    const rec = buf.subarray(sp + 1, off + len - 1); // drop trailing \n
    const eq = rec.indexOf(0x3d);
    if (eq > 0) into.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

/**
 * Push parser: write() chunks of an uncompressed tar stream, synchronously
 * calling onEntry for each entry; its sink receives the entry's data.
 */
export class TarReader {
  private buf: Buffer = Buffer.alloc(0);
  private state: 'header' | 'data' | 'meta' | 'pad' | 'done' = 'header';
  private remain = 0; // data bytes left in current entry
  private pad = 0;
  private sink: EntrySink | null = null;
  private meta: Buffer[] = [];
  private metaType = '';
  private pax = new Map<string, Buffer>();
  private gpax = new Map<string, Buffer>();
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeroBlocks = 0;

  constructor(private readonly onEntry: (e: TarEntry) => EntrySink | null) {}

  get finished(): boolean {
    return this.state === 'done';
  }

  write(chunk: Buffer): void {
    let off = 0;
    if (this.buf.length) {
      chunk = Buffer.concat([this.buf, chunk]);
      this.buf = Buffer.alloc(0);
    }
    while (off < chunk.length) {
      switch (this.state) {
        case 'done':
          return; // trailing padding after the end-of-archive blocks
        case 'data':
        case 'meta': {
          const n = Math.min(this.remain, chunk.length - off);
          const part = chunk.subarray(off, off + n);
          if (this.state === 'data') this.sink?.data(part);
          else this.meta.push(Buffer.from(part));
          off += n;
          this.remain -= n;
          if (this.remain === 0) this.finishEntry();
          break;
        }
        case 'pad': {
          const n = Math.min(this.pad, chunk.length - off);
          off += n;
          this.pad -= n;
          if (this.pad === 0) this.state = 'header';
          break;
        }
        case 'header': {
          if (chunk.length - off < BLOCK) {
            this.buf = Buffer.from(chunk.subarray(off));
            return;
          }
          this.header(chunk.subarray(off, off + BLOCK));
          off += BLOCK;
          break;
        }
      }
    }
  }

  /** Call at end of stream; throws when the archive is cut in the middle of an entry. */
  end(): void {
    if (this.state === 'done') return;
    if (this.state !== 'header' || this.buf.length !== 0) throw new TarFormatError('unexpected end of archive');
    // Some writers omit the two zero blocks; that is fine at an entry boundary.
    this.state = 'done';
  }

  private finishEntry(): void {
    const padTo = (BLOCK - (this.sizeOfCurrent % BLOCK)) % BLOCK;
    if (this.state === 'data') {
      this.sink?.end();
      this.sink = null;
    } else {
      const body = Buffer.concat(this.meta);
      this.meta = [];
      if (this.metaType === 'x') parsePax(body, this.pax);
      else if (this.metaType === 'g') parsePax(body, this.gpax);
      else if (this.metaType === 'L') this.longName = cstr(body, 0, body.length);
      else if (this.metaType === 'K') this.longLink = cstr(body, 0, body.length);
    }
    this.pad = padTo;
    this.state = padTo ? 'pad' : 'header';
  }

  private sizeOfCurrent = 0;

  private header(h: Buffer): void {
    let zero = true;
    for (let i = 0; i < BLOCK; i++)
      if (h[i] !== 0) {
        zero = false;
        break;
      }
    if (zero) {
      if (++this.zeroBlocks >= 2) this.state = 'done';
      return;
    }
    this.zeroBlocks = 0;
    if (!checksumOk(h)) throw new TarFormatError('invalid tar header checksum (not a tar archive?)');
    const typeflag = String.fromCharCode(h[156]);
    let size = num(h, 124, 12);
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > 64 * 1024 * 1024) throw new TarFormatError('extended header too large');
      this.metaType = typeflag;
      this.sizeOfCurrent = size;
      this.remain = size;
      this.state = 'meta';
      if (size === 0) this.finishEntry();
      return;
    }
    const type = TYPES[typeflag];
    if (!type) throw new TarFormatError(`unsupported tar entry type "${typeflag}"`);
    const magic = h.toString('latin1', 257, 263);
    let name = cstr(h, 0, 100);
    if (magic === 'ustar\0') {
      const prefix = cstr(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    let linkpath = cstr(h, 157, 100);
    if (this.longName !== undefined) name = this.longName;
    if (this.longLink !== undefined) linkpath = this.longLink;
    const e: TarEntry = {
      path: name,
      type,
      mode: num(h, 100, 8) & 0o7777,
      uid: num(h, 108, 8),
      gid: num(h, 116, 8),
      size,
      mtime: num(h, 136, 12),
      linkpath,
      devmajor: num(h, 329, 8),
      devminor: num(h, 337, 8),
      xattrs: new Map(),
    };
    for (const src of [this.gpax, this.pax]) {
      for (const [k, v] of src) {
        const s = () => v.toString('utf8');
        if (k === 'path') e.path = s();
        else if (k === 'linkpath') e.linkpath = s();
        else if (k === 'size') size = e.size = Number(s());
        else if (k === 'uid') e.uid = Number(s());
        else if (k === 'gid') e.gid = Number(s());
        else if (k === 'mtime') e.mtime = Number(s());
        else if (k === 'atime') e.atime = Number(s());
        else if (k === 'SCHILY.devmajor') e.devmajor = Number(s());
        else if (k === 'SCHILY.devminor') e.devminor = Number(s());
        else if (k.startsWith('SCHILY.xattr.')) e.xattrs.set(k.slice(13), v);
        else if (k.startsWith('LIBARCHIVE.xattr.'))
          e.xattrs.set(decodeURIComponent(k.slice(17)), Buffer.from(s(), 'base64'));
      }
    }
    this.pax = new Map();
    this.longName = this.longLink = undefined;
    if (!Number.isSafeInteger(size) || size < 0) throw new TarFormatError(`bad size for "${e.path}"`);
    // Links, devices, dirs and fifos carry no data even if a size is set (except
    // hardlinks in some pax writers, which we skip).
    if (type !== 'file' && type !== 'link') size = 0;
    e.size = type === 'file' ? size : 0;
    this.sink = this.onEntry(e);
    this.sizeOfCurrent = size;
    this.remain = size;
    this.state = 'data';
    if (size === 0) this.finishEntry();
  }
}

// ---- writing ----------------------------------------------------------------

export interface HeaderFields {
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

const TYPEFLAG: Record<EntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function octal(b: Buffer, off: number, len: number, v: number): boolean {
  const s = Math.floor(v).toString(8);
  if (s.length > len - 1 || v < 0) return false;
  b.write(s.padStart(len - 1, '0'), off, 'latin1');
  b[off + len - 1] = 0;
  return true;
}

function rawHeader(f: {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(f.name, 0, 100, 'utf8');
  octal(h, 100, 8, f.mode);
  octal(h, 108, 8, f.uid);
  octal(h, 116, 8, f.gid);
  octal(h, 124, 12, f.size);
  octal(h, 136, 12, f.mtime);
  h.write(f.typeflag, 156, 1, 'latin1');
  h.write(f.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  octal(h, 329, 8, f.devmajor);
  octal(h, 337, 8, f.devminor);
  h.fill(32, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

/** The header block(s) for one entry: a pax 'x' header first when needed. Data follows, padded by the caller. */
export function encodeHeader(f: HeaderFields): Buffer {
  const recs: Buffer[] = [];
  const pathBytes = Buffer.byteLength(f.path);
  const link = f.linkpath ?? '';
  if (pathBytes > 100 || /[^\x20-\x7e]/.test(f.path)) recs.push(paxRecord('path', Buffer.from(f.path)));
  if (Buffer.byteLength(link) > 100 || /[^\x20-\x7e]/.test(link)) recs.push(paxRecord('linkpath', Buffer.from(link)));
  const big = (v: number, len: number) => v >= 8 ** (len - 1);
  if (big(f.uid, 8)) recs.push(paxRecord('uid', Buffer.from(String(f.uid))));
  if (big(f.gid, 8)) recs.push(paxRecord('gid', Buffer.from(String(f.gid))));
  if (big(f.size, 12)) recs.push(paxRecord('size', Buffer.from(String(f.size))));
  if (f.xattrs) for (const [k, v] of f.xattrs) recs.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const main = rawHeader({
    name: pathBytes > 100 ? f.path.slice(0, 99) : f.path,
    typeflag: TYPEFLAG[f.type],
    mode: f.mode & 0o7777,
    uid: big(f.uid, 8) ? 0 : f.uid,
    gid: big(f.gid, 8) ? 0 : f.gid,
    size: big(f.size, 12) ? 0 : f.size,
    mtime: Math.max(0, Math.floor(f.mtime)),
    linkname: Buffer.byteLength(link) > 100 ? '' : link,
    devmajor: f.devmajor ?? 0,
    devminor: f.devminor ?? 0,
  });
  if (!recs.length) return main;
  const body = Buffer.concat(recs);
  const ph = rawHeader({
    name: 'PaxHeader',
    typeflag: 'x',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: 0,
    linkname: '',
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([ph, body, Buffer.alloc(padding(body.length)), main]);
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Two zero blocks close an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
