// The layer digest hashed on a second thread (ThreadHash) and unpackFile's
// use of it: the digest is the sha256 of exactly the bytes handed over, the
// ring's slots are reused only once hashed, and the thread ends.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ThreadHash, THREAD_HASH_MIN } from '../../src/image/hashthread';
import { unpackFile } from '../../src/image/store';
import { encodeHeader, padding, END_OF_ARCHIVE } from '../../src/image/tarformat';
import { sha } from '../helpers/tarfiles';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-image-hash-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Deterministic bytes: chunk i of a stream, n long (its content differs from every other chunk's). */
function bytes(i: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = (i * 2654435761) >>> 0 || 1;
  for (let k = 0; k < n; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[k] = x & 0xff;
  }
  return b;
}

test('ThreadHash: the sha256 of every chunk in order, through a small ring that wraps hundreds of times', async () => {
  // 2 slots of 4 KiB, 600 chunks of 1..4096 bytes: were a slot refilled before the
  // thread hashed it, the digest would be of other bytes
  const th = new ThreadHash(2, 4096);
  const local = crypto.createHash('sha256');
  for (let i = 0; i < 600; i++) {
    const s = th.slot();
    const n = 1 + ((i * 977) % 4096);
    bytes(i, n).copy(s);
    th.commit(n);
    local.update(s.subarray(0, n));
  }
  assert.equal(th.digest(), local.digest('hex'));
  assert.equal(await th.ended(), 0, 'the thread ends after the digest');
});

test('ThreadHash: update() copies buffers larger than a slot; nothing handed over is the empty digest', async () => {
  const th = new ThreadHash(3, 1000);
  const parts = [bytes(1, 0), bytes(2, 999), bytes(3, 1000), bytes(4, 1001), bytes(5, 7654)];
  for (const p of parts) th.update(p);
  assert.equal(th.digest(), sha(Buffer.concat(parts)));
  await th.ended();

  const empty = new ThreadHash(2, 16);
  assert.equal(empty.digest(), sha(Buffer.alloc(0)));
  assert.throws(() => empty.digest(), /digest\(\) called twice/);
  await empty.ended();
});

test('ThreadHash: abort() ends the thread without a digest', async () => {
  const th = new ThreadHash(2, 64);
  th.update(bytes(9, 500));
  th.abort();
  th.abort(); // a second one is a no-op
  assert.equal(await th.ended(), 0);
});

type F = { path: string; type?: 'file' | 'dir' | 'symlink'; body?: Buffer; linkpath?: string };
function tarOf(entries: F[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = e.body ?? Buffer.alloc(0);
    const size = type === 'file' ? body.length : 0;
    parts.push(encodeHeader({ path: e.path, type, mode: type === 'dir' ? 0o755 : 0o640, uid: 0, gid: 0, size, mtime: 1700000000, linkpath: e.linkpath }));
    if (size) parts.push(body, Buffer.alloc(padding(size)));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

test('unpackFile hashing on the thread: the same layer and digest as on this thread; a bad layer fails as before', () => {
  const entries: F[] = [{ path: 'd/', type: 'dir' }];
  for (let i = 0; i < 40; i++) entries.push({ path: `d/f${i}`, body: bytes(i, 1000 + i * 3001) }); // 2.4 MB: three 1 MiB reads
  entries.push({ path: 'l', type: 'symlink', linkpath: 'd/f1' });
  const tar = tarOf(entries);
  const file = path.join(tmp, 'layer.tar');
  fs.writeFileSync(file, tar);
  const results = [];
  for (const threadMin of [0, Infinity]) {
    const dest = path.join(tmp, `out-${threadMin}`);
    fs.mkdirSync(dest);
    results.push(unpackFile(file, dest, 'layer', undefined, threadMin));
    for (let i = 0; i < 40; i++) assert.deepEqual(fs.readFileSync(path.join(dest, `d/f${i}`)), entries[i + 1].body);
    assert.equal(fs.statSync(path.join(dest, 'd/f3')).mode & 0o7777, 0o640);
    assert.equal(fs.readlinkSync(path.join(dest, 'l')), 'd/f1');
  }
  assert.deepEqual(results[0], { diffId: `sha256:${sha(tar)}`, blobDigest: `sha256:${sha(tar)}` });
  assert.deepEqual(results[1], results[0]);

  // an entry that escapes, after enough data to be in the thread's hands
  const bad = tarOf([...entries.slice(0, 30), { path: '../escape', body: Buffer.from('x') }]);
  const badFile = path.join(tmp, 'bad.tar');
  fs.writeFileSync(badFile, bad);
  const badOut = path.join(tmp, 'bad-out');
  fs.mkdirSync(badOut);
  assert.throws(() => unpackFile(badFile, badOut, 'bad', undefined, 0), /^LayerError: layer "bad": entry "\.\.\/escape": escapes the layer$/);
  assert.ok(!fs.existsSync(path.join(tmp, 'escape')));
  // a cut archive
  const cut = path.join(tmp, 'cut.tar');
  fs.writeFileSync(cut, tar.subarray(0, tar.length - 5000));
  const cutOut = path.join(tmp, 'cut-out');
  fs.mkdirSync(cutOut);
  assert.throws(() => unpackFile(cut, cutOut, 'cut', undefined, 0), /^LayerError: layer "cut": unexpected end of archive$/);
});

test(`unpackFile of a layer over ${THREAD_HASH_MIN >> 20} MiB (hashed on the thread by default): content and digest`, () => {
  const big = crypto.randomBytes(THREAD_HASH_MIN + 12345);
  const tar = tarOf([{ path: 'small', body: bytes(1, 100) }, { path: 'big', body: big }, { path: 'after', body: bytes(2, 5) }]);
  const file = path.join(tmp, 'big.tar');
  fs.writeFileSync(file, tar);
  const dest = path.join(tmp, 'big-out');
  fs.mkdirSync(dest);
  assert.deepEqual(unpackFile(file, dest, 'big'), { diffId: `sha256:${sha(tar)}`, blobDigest: `sha256:${sha(tar)}` });
  assert.ok(fs.readFileSync(path.join(dest, 'big')).equals(big));
  assert.deepEqual(fs.readFileSync(path.join(dest, 'after')), bytes(2, 5));
  fs.rmSync(file);
  fs.rmSync(dest, { recursive: true });
});
