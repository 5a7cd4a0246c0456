// Small in-memory tars for image tests, written with tsrun's own tar encoder.
import * as crypto from 'crypto';
import { encodeHeader, padding, END_OF_ARCHIVE } from '../../src/image/tarformat';

/** A tar of regular files (path -> content), root-owned, mode 0644, fixed mtime. */
export function tarOf(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [p, body] of Object.entries(files)) {
    const b = Buffer.from(body);
    parts.push(encodeHeader({ path: p, type: 'file', mode: 0o644, uid: 0, gid: 0, size: b.length, mtime: 1700000000 }), b, Buffer.alloc(padding(b.length)));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

export const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');
