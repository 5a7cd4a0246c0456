// Tar reading/writing, path safety and whiteout conversion of the layer unpacker.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import { TarReader, blockSum, encodeHeader, padding, END_OF_ARCHIVE, type HeaderFields, type TarEntry } from '../../src/image/tarformat';
import { cleanTarPath, modeAtOpen } from '../../src/image/unpack';
import { unpackFile, unpackStream } from '../../src/image/store';
import { gzipSync } from 'zlib';
import { sha } from '../helpers/tarfiles';
import { lgetxattr } from '../../src/sys/fsops';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-image-tar-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

type E = Partial<HeaderFields> & { path: string; body?: string };
export function mkTar(entries: E[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'file';
    parts.push(encodeHeader({ type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, mtime: 1700000000, ...e, size: type === 'file' ? body.length : 0 }));
    if (type === 'file') parts.push(body, Buffer.alloc(padding(body.length)));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

function read(buf: Buffer, chunk = 7): { e: TarEntry; data: string }[] {
  const out: { e: TarEntry; data: string }[] = [];
  const r = new TarReader((e) => {
    const rec = { e, data: '' };
    out.push(rec);
    return { data: (c) => (rec.data += c.toString()), end: () => {} };
  });
  for (let i = 0; i < buf.length; i += chunk) r.write(buf.subarray(i, i + chunk));
  r.end();
  return out;
}

test('cleanTarPath: relative clean form, null for what escapes', () => {
  assert.equal(cleanTarPath('./a//b/'), 'a/b');
  assert.equal(cleanTarPath('.'), '');
  assert.equal(cleanTarPath('./'), '');
  assert.equal(cleanTarPath('a/./b'), 'a/b');
  assert.equal(cleanTarPath('/etc/passwd'), null);
  assert.equal(cleanTarPath('../x'), null);
  assert.equal(cleanTarPath('a/../../x'), null);
  assert.equal(cleanTarPath('a/..'), null);
  // the shapes the fast path takes, and what it must hand to the slow one
  assert.equal(cleanTarPath('./bin/'), 'bin');
  assert.equal(cleanTarPath('././usr/lib/x.so'), 'usr/lib/x.so');
  assert.equal(cleanTarPath('a/.../b..'), 'a/.../b..');
  assert.equal(cleanTarPath('.hidden/.wh.x'), '.hidden/.wh.x');
  assert.equal(cleanTarPath('a/.'), 'a');
  assert.equal(cleanTarPath('a//'), 'a');
  assert.equal(cleanTarPath('./..'), null);
  assert.equal(cleanTarPath('..'), null);
  assert.equal(cleanTarPath('./../x'), null);
  assert.equal(cleanTarPath(''), '');
});

test('modeAtOpen: only plain permission bits the umask keeps are left to open(2)', () => {
  assert.equal(modeAtOpen(0o644, 0o022), true);
  assert.equal(modeAtOpen(0o755, 0o022), true);
  assert.equal(modeAtOpen(0o666, 0o022), false, 'the umask would drop g+w/o+w');
  assert.equal(modeAtOpen(0o4755, 0o022), false, 'setuid needs fchmod (after chown)');
  assert.equal(modeAtOpen(0o1777, 0), false);
  assert.equal(modeAtOpen(0o000, 0o077), true);
});

test('blockSum: the byte sum of a 512-byte block, aligned or not, all bytes 0xff included', () => {
  const naive = (b: Buffer) => b.reduce((a, x) => a + x, 0);
  const big = Buffer.alloc(2048);
  for (let i = 0; i < big.length; i++) big[i] = (i * 131 + 7) & 0xff;
  for (const off of [0, 1, 2, 3, 4, 512, 1023]) assert.equal(blockSum(big.subarray(off, off + 512)), naive(big.subarray(off, off + 512)), `offset ${off}`);
  assert.equal(blockSum(Buffer.alloc(512, 0xff)), 512 * 255);
  assert.equal(blockSum(Buffer.alloc(512)), 0);
});

test('tar reader: numeric fields space- or NUL-padded, empty, signed; garbage is an error', () => {
  const h = encodeHeader({ path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 });
  const withField = (off: number, len: number, text: string) => {
    const b = Buffer.from(h);
    b.fill(0, off, off + len);
    b.write(text, off, 'latin1');
    b.fill(32, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += b[i];
    b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    return Buffer.concat([b, END_OF_ARCHIVE]);
  };
  const uidOf = (text: string) => read(withField(108, 8, text))[0].e.uid;
  assert.equal(uidOf('0001750\0'), 1000);
  assert.equal(uidOf('   1750 '), 1000);
  assert.equal(uidOf('1750'), 1000);
  assert.equal(uidOf(''), 0);
  assert.equal(uidOf('       '), 0);
  assert.equal(uidOf('17x'), 15, 'like parseInt: the leading digits');
  assert.equal(uidOf('+17'), 15);
  assert.throws(() => uidOf('xyz'), /bad number "xyz"/);
});

test('tar writer/reader round trip: long names, pax xattrs, devices, big ids, odd chunking', () => {
  const long = `${'d'.repeat(80)}/${'f'.repeat(90)}`;
  const tar = mkTar([
    { path: 'dir/', type: 'dir', mode: 0o1777 },
    { path: long, body: 'hello', mode: 0o4755, uid: 3000000, gid: 7 },
    { path: 'dir/sym', type: 'symlink', linkpath: `/${'t'.repeat(150)}` },
    { path: 'null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
    { path: 'x', body: 'y', xattrs: new Map([['user.k', Buffer.from([0, 1, 2, 10, 61])]]) },
  ]);
  for (const chunk of [1, 7, 512, 100000]) {
    const got = read(tar, chunk);
    assert.deepEqual(
      got.map((g) => [g.e.path, g.e.type]),
      [
        ['dir/', 'dir'],
        [long, 'file'],
        ['dir/sym', 'symlink'],
        ['null', 'char'],
        ['x', 'file'],
      ],
    );
    assert.equal(got[0].e.mode, 0o1777);
    assert.equal(got[1].data, 'hello');
    assert.equal(got[1].e.mode, 0o4755);
    assert.equal(got[1].e.uid, 3000000);
    assert.equal(got[2].e.linkpath, `/${'t'.repeat(150)}`);
    assert.deepEqual([got[3].e.devmajor, got[3].e.devminor], [1, 3]);
    assert.deepEqual(got[4].e.xattrs.get('user.k'), Buffer.from([0, 1, 2, 10, 61]));
  }
});

test('tar reader: a truncated archive and a bad checksum are errors', () => {
  const tar = mkTar([{ path: 'a', body: 'x'.repeat(1000) }]);
  assert.throws(() => read(tar.subarray(0, 700)), /unexpected end of archive/);
  const bad = Buffer.from(tar);
  bad[10] ^= 1;
  assert.throws(() => read(bad), /checksum/);
  // a file that is not a tar at all: no number where the checksum goes
  assert.throws(() => read(Buffer.from('garbage'.repeat(200))), { message: 'invalid tar header checksum (not a tar archive?)' });
});

test('the tar package reads what we write (pax path, xattr-free entries)', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tarPkg = require('tar') as typeof import('tar');
  const long = `${'a'.repeat(120)}/b`;
  const buf = mkTar([{ path: long, body: 'z' }, { path: 's', type: 'symlink', linkpath: 'b' }]);
  const seen: string[] = [];
  const p = new tarPkg.Parser({ onReadEntry: (e) => (seen.push(`${e.path}:${e.type}`), e.resume()) });
  await new Promise<void>((res) => {
    p.on('end', res);
    p.end(buf);
  });
  assert.deepEqual(seen, [`${long}:File`, 's:SymbolicLink']);
});

async function unpack(buf: Buffer, name: string): Promise<string> {
  const dest = path.join(tmp, name);
  fs.mkdirSync(dest);
  await unpackStream(Readable.from([buf]), dest, name);
  return dest;
}

test('unpack: OCI whiteouts become overlay whiteouts and opaque dirs', async () => {
  const d = await unpack(
    mkTar([
      { path: './', type: 'dir', mode: 0o755 },
      { path: 'a/', type: 'dir' },
      { path: 'a/.wh.gone' },
      { path: 'c/.wh..wh..opq' },
      { path: 'c/kept', body: 'k' },
      { path: '.wh.top' },
    ]),
    'wh',
  );
  const st = fs.lstatSync(path.join(d, 'a', 'gone'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, 0);
  assert.ok(fs.lstatSync(path.join(d, 'top')).isCharacterDevice());
  assert.equal(lgetxattr(path.join(d, 'c'), 'trusted.overlay.opaque')?.toString(), 'y');
  assert.equal(fs.readFileSync(path.join(d, 'c', 'kept'), 'utf8'), 'k');
  assert.ok(!fs.existsSync(path.join(d, 'a', '.wh.gone')));
  assert.equal(lgetxattr(path.join(d, 'a'), 'trusted.overlay.opaque'), undefined);
});

test('unpack: keeps modes, owners, times, hardlinks, devices, fifos; ignores forged trusted.overlay xattrs', async () => {
  const d = await unpack(
    mkTar([
      { path: 'bin/', type: 'dir', mode: 0o711, uid: 5, gid: 6, mtime: 1600000000 },
      { path: 'bin/tool', body: 'T', mode: 0o4755, uid: 1000, gid: 1000, mtime: 1500000000 },
      { path: 'bin/again', type: 'link', linkpath: 'bin/tool' },
      { path: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
      { path: 'dev/sda', type: 'block', mode: 0o660, devmajor: 8, devminor: 0 },
      { path: 'p', type: 'fifo', mode: 0o600 },
      { path: 'f', body: 'x', xattrs: new Map([['trusted.overlay.opaque', Buffer.from('y')], ['user.ok', Buffer.from('1')]]) },
    ]),
    'meta',
  );
  const bin = fs.statSync(path.join(d, 'bin'));
  assert.equal(bin.mode & 0o7777, 0o711);
  assert.deepEqual([bin.uid, bin.gid, bin.mtimeMs / 1000], [5, 6, 1600000000]);
  const tool = fs.statSync(path.join(d, 'bin/tool'));
  assert.equal(tool.mode & 0o7777, 0o4755);
  assert.deepEqual([tool.uid, tool.gid, tool.mtimeMs / 1000, tool.nlink], [1000, 1000, 1500000000, 2]);
  assert.equal(fs.statSync(path.join(d, 'bin/again')).ino, tool.ino);
  const nul = fs.lstatSync(path.join(d, 'dev/null'));
  assert.ok(nul.isCharacterDevice());
  assert.equal(nul.rdev, 259); // makedev(1, 3)
  assert.ok(fs.lstatSync(path.join(d, 'dev/sda')).isBlockDevice());
  assert.ok(fs.lstatSync(path.join(d, 'p')).isFIFO());
  assert.equal(lgetxattr(path.join(d, 'f'), 'trusted.overlay.opaque'), undefined);
  assert.equal(lgetxattr(path.join(d, 'f'), 'user.ok')?.toString(), '1');
});

const malicious: [string, E[]][] = [
  ['absolute path', [{ path: '/abs-evil', body: 'x' }]],
  ['dot-dot', [{ path: 'a/../../dotdot-evil', body: 'x' }]],
  ['write through a symlink', [{ path: 'l', type: 'symlink', linkpath: '%OUT%' }, { path: 'l/sym-evil', body: 'x' }]],
  ['write through a relative symlink', [{ path: 'l', type: 'symlink', linkpath: '../../../../../../..%OUT%' }, { path: 'l/rel-evil', body: 'x' }]],
  ['hardlink to outside', [{ path: 'h', type: 'link', linkpath: '../../../../etc/passwd' }]],
  ['hardlink to absolute', [{ path: 'h', type: 'link', linkpath: '/etc/passwd' }]],
  ['hardlink through a symlink', [{ path: 'l', type: 'symlink', linkpath: '/etc' }, { path: 'h', type: 'link', linkpath: 'l/passwd' }]],
  ['whiteout of dot-dot', [{ path: 'a/.wh..' }]],
  ['whiteout through a symlink', [{ path: 'l', type: 'symlink', linkpath: '%OUT%' }, { path: 'l/.wh.victim' }]],
  ['opaque through a symlink', [{ path: 'l', type: 'symlink', linkpath: '%OUT%' }, { path: 'l/.wh..wh..opq' }]],
  ['dir through a symlink', [{ path: 'l', type: 'symlink', linkpath: '%OUT%' }, { path: 'l/sub/', type: 'dir' }]],
];

for (const [what, entries] of malicious) {
  test(`unpack refuses: ${what}; nothing is written outside`, async () => {
    const outside = fs.mkdtempSync(path.join(tmp, 'outside-'));
    fs.writeFileSync(path.join(outside, 'victim'), 'v');
    const before = fs.statSync('/etc/passwd');
    const es = entries.map((e) => ({ ...e, linkpath: e.linkpath?.replace('%OUT%', outside) }));
    const name = `evil-${what.replace(/\W+/g, '-')}`;
    await assert.rejects(unpack(mkTar(es), name), (err: Error) => {
      assert.match(err.message, new RegExp(`^layer "${name}": entry ".*": escapes the layer$`));
      return true;
    });
    assert.deepEqual(fs.readdirSync(outside), ['victim']);
    assert.equal(fs.readFileSync(path.join(outside, 'victim'), 'utf8'), 'v');
    assert.equal(fs.lstatSync(path.join(outside, 'victim')).isFile(), true);
    assert.equal(fs.statSync('/etc/passwd').nlink, before.nlink);
    assert.ok(!fs.existsSync('/abs-evil') && !fs.existsSync(path.join(tmp, 'dotdot-evil')));
  });
}

test('unpack: later entries replace earlier ones (file, symlink, dir, whiteout); modes the umask would change are exact', async () => {
  const outside = fs.mkdtempSync(path.join(tmp, 'outside-'));
  const d = await unpack(
    mkTar([
      { path: 'f', body: 'old', mode: 0o600 },
      { path: 'f', body: 'new', mode: 0o666 },
      { path: 's', type: 'symlink', linkpath: outside },
      { path: 's', body: 'file now', mode: 0o4755 },
      { path: 'd/', type: 'dir', mode: 0o700 },
      { path: 'd/x', body: 'x' },
      { path: 'd/', type: 'dir', mode: 0o750 },
      { path: 'n', body: 'was a file' },
      { path: 'n/', type: 'dir', mode: 0o755 },
      { path: 'n/y', body: 'y' },
      { path: 'g/', type: 'dir' },
      { path: 'g/gone', body: 'g' },
      { path: 'g/.wh.gone' },
      { path: 'h', type: 'link', linkpath: 'f' },
      { path: 'h', type: 'link', linkpath: 'd/x' },
      { path: 'ro', body: 'read only', mode: 0o444 },
      { path: 'none', body: 'no bits', mode: 0 },
    ]),
    'replace-all',
  );
  assert.deepEqual([fs.readFileSync(path.join(d, 'ro'), 'utf8'), fs.statSync(path.join(d, 'ro')).mode & 0o7777], ['read only', 0o444]);
  assert.deepEqual([fs.readFileSync(path.join(d, 'none'), 'utf8'), fs.statSync(path.join(d, 'none')).mode & 0o7777], ['no bits', 0]);
  assert.equal(fs.readFileSync(path.join(d, 'f'), 'utf8'), 'new');
  assert.equal(fs.statSync(path.join(d, 'f')).mode & 0o7777, 0o666, 'not narrowed by the umask');
  assert.ok(fs.lstatSync(path.join(d, 's')).isFile());
  assert.equal(fs.statSync(path.join(d, 's')).mode & 0o7777, 0o4755);
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing written through the old symlink');
  assert.equal(fs.statSync(path.join(d, 'd')).mode & 0o7777, 0o750, 'a dir entry again: same dir, new mode');
  assert.equal(fs.readFileSync(path.join(d, 'd', 'x'), 'utf8'), 'x', 'and its content kept');
  assert.ok(fs.lstatSync(path.join(d, 'n')).isDirectory());
  assert.equal(fs.readFileSync(path.join(d, 'n', 'y'), 'utf8'), 'y');
  const wh = fs.lstatSync(path.join(d, 'g', 'gone'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'the whiteout replaced the file');
  assert.equal(fs.statSync(path.join(d, 'h')).ino, fs.statSync(path.join(d, 'd', 'x')).ino);
});

test('unpack: a later entry may replace a symlink by a dir (no write through it)', async () => {
  const outside = fs.mkdtempSync(path.join(tmp, 'outside-'));
  const d = await unpack(
    mkTar([
      { path: 'l', type: 'symlink', linkpath: outside },
      { path: 'l/', type: 'dir' },
      { path: 'l/f', body: 'in' },
    ]),
    'replace',
  );
  assert.ok(fs.lstatSync(path.join(d, 'l')).isDirectory());
  assert.equal(fs.readFileSync(path.join(d, 'l/f'), 'utf8'), 'in');
  assert.deepEqual(fs.readdirSync(outside), []);
});

test('unpackFile: a plain tar file in one synchronous pass (digest = sha256 of the file); null for gzip; errors name the layer', async () => {
  const tar = mkTar([{ path: 'a/', type: 'dir' }, { path: 'a/b', body: 'x'.repeat(3000) }, { path: 'l', type: 'symlink', linkpath: 'a/b' }]);
  const file = path.join(tmp, 'plain.tar');
  fs.writeFileSync(file, tar);
  const dest = path.join(tmp, 'plain-out');
  fs.mkdirSync(dest);
  const r = unpackFile(file, dest, 'plain');
  assert.deepEqual(r, { diffId: `sha256:${sha(tar)}`, blobDigest: `sha256:${sha(tar)}` });
  assert.equal(fs.readFileSync(path.join(dest, 'a', 'b'), 'utf8'), 'x'.repeat(3000));
  assert.equal(fs.readlinkSync(path.join(dest, 'l')), 'a/b');
  // the stream path agrees, and hashes gzip input twice (blob and diff_id)
  const viaStream = path.join(tmp, 'stream-out');
  fs.mkdirSync(viaStream);
  assert.deepEqual(await unpackStream(Readable.from([tar]), viaStream, 's'), r);
  const gz = gzipSync(tar);
  const gzOut = path.join(tmp, 'gz-out');
  fs.mkdirSync(gzOut);
  assert.deepEqual(await unpackStream(Readable.from([gz]), gzOut, 'g'), { diffId: `sha256:${sha(tar)}`, blobDigest: `sha256:${sha(gz)}` });

  const gzFile = path.join(tmp, 'plain.tar.gz');
  fs.writeFileSync(gzFile, gz);
  const untouched = path.join(tmp, 'gz-file-out');
  fs.mkdirSync(untouched);
  assert.equal(unpackFile(gzFile, untouched, 'gz'), null);
  assert.deepEqual(fs.readdirSync(untouched), []);

  const cut = path.join(tmp, 'cut.tar');
  fs.writeFileSync(cut, tar.subarray(0, 1000));
  const cutOut = path.join(tmp, 'cut-out');
  fs.mkdirSync(cutOut);
  assert.throws(() => unpackFile(cut, cutOut, 'cut'), /^LayerError: layer "cut": unexpected end of archive$/);
  // one line for people: no errno name, no syscall
  assert.throws(() => unpackFile(path.join(tmp, 'missing.tar'), cutOut, 'missing'), /^LayerError: layer "missing": no such file or directory$/);
  assert.throws(() => unpackFile(tmp, cutOut, 'a dir'), /^LayerError: layer "a dir": illegal operation on a directory$/);
});
