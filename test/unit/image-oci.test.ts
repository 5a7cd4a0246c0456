// OCI image layout parsing: index -> manifest (by tag) -> config + layers;
// layout dir and archive; digest checks; image config for `spec --image`;
// how parseLayerSource classifies entries.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { spawnSync } from 'child_process';
import { sha, tarOf } from '../helpers/tarfiles';
import { parseLayerSource, imageConfigFor, resolveImage } from '../../src/image/source';
import { ensureLayers, fnv64, layerPath } from '../../src/image/store';
import * as commitMod from '../../src/image/commit';
import { human, Progress } from '../../src/image/progress';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-image-oci-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));



/** An OCI layout dir with two images: "one" (1 gzip layer) and "two" (2 plain layers). */
function makeLayout(dir: string): { l1: Buffer; l2: Buffer; l3: Buffer } {
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer) => {
    fs.writeFileSync(path.join(dir, 'blobs', 'sha256', sha(b)), b);
    return { digest: `sha256:${sha(b)}`, size: b.length };
  };
  const l1 = tarOf({ 'one.txt': '1' });
  const l2 = tarOf({ 'two.txt': '2' });
  const l3 = tarOf({ 'three.txt': '3', '.wh.two.txt': '' });
  const image = (layers: Buffer[], gz: boolean, cfg: object) => {
    const descs = layers.map((l) => ({
      mediaType: gz ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
      ...put(gz ? zlib.gzipSync(l) : l),
    }));
    const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: cfg, rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l)}`) } })));
    return put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: descs })));
  };
  const m1 = image([l1], true, { Entrypoint: ['/bin/ep'], Cmd: ['a', 'b'], Env: ['A=1'], WorkingDir: '/w', User: '1000:1000' });
  const m2 = image([l2, l3], false, { Cmd: ['/bin/sh'] });
  fs.writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m1, annotations: { 'org.opencontainers.image.ref.name': 'one' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m2, annotations: { 'io.containerd.image.name': 'localhost/img:two' } },
      ],
    }),
  );
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return { l1, l2, l3 };
}

const layout = path.join(tmp, 'layout');
const { l1, l2, l3 } = makeLayout(layout);
const archive = path.join(tmp, 'layout.tar');
spawnSync('tar', ['-C', layout, '-cf', archive, 'oci-layout', 'index.json', 'blobs']);

test('parseLayerSource: kinds, tags, relative to the bundle', () => {
  const rootfsTar = path.join(tmp, 'rootfs.tar');
  fs.writeFileSync(rootfsTar, tarOf({ 'bin/sh': 'x', 'etc/passwd': 'y' }));
  fs.writeFileSync(path.join(tmp, 'rootfs.tar.gz'), zlib.gzipSync(tarOf({ a: 'b' })));
  fs.mkdirSync(path.join(tmp, 'plain'), { recursive: true });
  assert.deepEqual(parseLayerSource('rootfs.tar', tmp), { kind: 'tar', path: rootfsTar });
  assert.deepEqual(parseLayerSource('rootfs.tar.gz', tmp), { kind: 'tar', path: `${rootfsTar}.gz` });
  assert.deepEqual(parseLayerSource('plain', tmp), { kind: 'dir', path: path.join(tmp, 'plain') });
  assert.deepEqual(parseLayerSource('layout', tmp), { kind: 'oci', path: layout });
  assert.deepEqual(parseLayerSource('layout:two', tmp), { kind: 'oci', path: layout, tag: 'two' });
  assert.deepEqual(parseLayerSource('layout.tar:one', tmp), { kind: 'oci', path: archive, tag: 'one' });
  assert.deepEqual(parseLayerSource(archive, '/nowhere'), { kind: 'oci', path: archive });
  assert.throws(() => parseLayerSource('rootfs.tar:latest', tmp), /a tag is only valid on an OCI image/);
});

test('parseLayerSource: a rootfs tar that starts like an image archive (index.json, blobs/) is still a layer tar', () => {
  const looksLikeImage = path.join(tmp, 'starts-like-image.tar');
  fs.writeFileSync(looksLikeImage, tarOf({ 'index.json': '{}', 'blobs/x': 'x', 'bin/sh': 'sh' }));
  assert.deepEqual(parseLayerSource(looksLikeImage, '/'), { kind: 'tar', path: looksLikeImage });
  const onlyImage = path.join(tmp, 'only-image.tar');
  fs.writeFileSync(onlyImage, tarOf({ 'oci-layout': '{}', 'index.json': '{}', [`blobs/sha256/${'a'.repeat(64)}`]: 'x' }));
  assert.deepEqual(parseLayerSource(onlyImage, '/'), { kind: 'oci', path: onlyImage });
  const notTar = path.join(tmp, 'not-a.tar');
  fs.writeFileSync(notTar, Buffer.alloc(2048, 7));
  assert.deepEqual(parseLayerSource(notTar, '/'), { kind: 'tar', path: notTar }, 'not a tar: ensureLayers reports it');
});

test('resolveImage picks the manifest by tag (ref.name or containerd name), default the first', () => {
  for (const p of [layout, archive]) {
    const def = resolveImage({ kind: 'oci', path: p });
    assert.equal(def.layers.length, 1);
    assert.equal(def.layers[0].diffId, `sha256:${sha(l1)}`);
    const two = resolveImage({ kind: 'oci', path: p, tag: 'two' });
    assert.deepEqual(
      two.layers.map((l) => l.diffId),
      [`sha256:${sha(l2)}`, `sha256:${sha(l3)}`],
    );
    assert.equal(resolveImage({ kind: 'oci', path: p, tag: 'localhost/img:two' }).layers.length, 2);
    assert.throws(() => resolveImage({ kind: 'oci', path: p, tag: 'nope' }), /no manifest tagged "nope"/);
  }
});

test('imageConfigFor: Entrypoint + Cmd, Env with a PATH, WorkingDir, User', async () => {
  assert.deepEqual(await imageConfigFor({ kind: 'oci', path: layout, tag: 'one' }), {
    args: ['/bin/ep', 'a', 'b'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1'],
    cwd: '/w',
    user: '1000:1000',
  });
  const two = await imageConfigFor({ kind: 'oci', path: archive, tag: 'two' });
  assert.deepEqual([two.args, two.cwd, two.user], [['/bin/sh'], '/', undefined]);
  assert.deepEqual((await imageConfigFor({ kind: 'tar', path: '/x.tar' })).args, ['/bin/sh']);
});

test('ensureLayers expands an OCI layout to its layers (gzip and plain), stored by diff_id', async () => {
  const dd = path.join(tmp, 'data1');
  const one = await ensureLayers(dd, [{ kind: 'oci', path: archive, tag: 'one' }]);
  assert.deepEqual(
    one.map((l) => l.digest),
    [`sha256:${sha(l1)}`],
  );
  assert.equal(fs.readFileSync(path.join(one[0].dir, 'one.txt'), 'utf8'), '1');
  const two = await ensureLayers(dd, [{ kind: 'oci', path: layout, tag: 'two' }]);
  assert.deepEqual(
    two.map((l) => l.digest),
    [`sha256:${sha(l2)}`, `sha256:${sha(l3)}`],
  );
  const wh = fs.lstatSync(path.join(two[1].dir, 'two.txt'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'the .wh. entry became an overlay whiteout');
  assert.deepEqual(fs.readdirSync(path.join(dd, 'tmp')), []);
});

test('ensureLayers verifies blob digests: a corrupted blob is refused and nothing is stored', async () => {
  const bad = path.join(tmp, 'bad');
  makeLayout(bad);
  const idx = JSON.parse(fs.readFileSync(path.join(bad, 'index.json'), 'utf8'));
  const man = JSON.parse(fs.readFileSync(path.join(bad, 'blobs', 'sha256', idx.manifests[1].digest.slice(7)), 'utf8'));
  const blob = path.join(bad, 'blobs', 'sha256', man.layers[0].digest.slice(7));
  const b = fs.readFileSync(blob);
  b[b.length - 1100] ^= 1; // inside the first file's data
  fs.writeFileSync(blob, b);
  const dd = path.join(tmp, 'data2');
  await assert.rejects(ensureLayers(dd, [{ kind: 'oci', path: bad, tag: 'two' }]), /does not match its digest/);
  assert.deepEqual(fs.readdirSync(path.join(dd, 'layers', 'sha256')), []);
  assert.deepEqual(fs.readdirSync(path.join(dd, 'tmp')), []);
});

test('layer index: an entry is trusted only for its own key (path, size, mtime, inode); a rewritten tar is unpacked again', async () => {
  assert.match(fnv64('a'), /^[0-9a-f]{16}$/);
  assert.equal(fnv64('/x/a.tar\x001'), fnv64('/x/a.tar\x001'));
  assert.notEqual(fnv64('/x/a.tar\x001'), fnv64('/x/a.tar\x002'));
  const dd = path.join(tmp, 'index-store');
  const t = path.join(tmp, 'indexed.tar');
  const other = path.join(tmp, 'other.tar');
  fs.writeFileSync(t, tarOf({ a: '1' }));
  fs.writeFileSync(other, tarOf({ b: '2' }));
  const [l1] = await ensureLayers(dd, [{ kind: 'tar', path: t }]);
  const [l2] = await ensureLayers(dd, [{ kind: 'tar', path: other }]);
  assert.equal(l1.digest, `sha256:${sha(fs.readFileSync(t))}`);
  const entries = fs.readdirSync(path.join(dd, 'index'));
  assert.equal(entries.length, 2);
  const mine = entries.find((e) => fs.readFileSync(path.join(dd, 'index', e), 'utf8').startsWith(`${l1.digest}\n${t}\0`))!;
  assert.ok(mine, 'the entry holds the digest and the key');
  // a colliding entry (another key) or an entry without its key names another layer: not trusted
  for (const forged of [`${l2.digest}\n/elsewhere.tar\0${fs.statSync(t).size}\n`, `${l2.digest}\n`]) {
    fs.writeFileSync(path.join(dd, 'index', mine), forged);
    const [again] = await ensureLayers(dd, [{ kind: 'tar', path: t }]);
    assert.equal(again.digest, l1.digest);
  }
  // the index names l1 again; the same path with new content and a new mtime is a new layer
  fs.writeFileSync(t, tarOf({ a: '3' }));
  fs.utimesSync(t, 1000, 1000);
  const [l3] = await ensureLayers(dd, [{ kind: 'tar', path: t }]);
  assert.equal(l3.digest, `sha256:${sha(fs.readFileSync(t))}`);
  assert.notEqual(l3.digest, l1.digest);
  assert.equal(fs.readFileSync(path.join(layerPath(dd, l3.digest), 'a'), 'utf8'), '3');
});

test('withTag: the new manifest takes its tag; the entry that had it goes, every other entry stays', () => {
  const { withTag, REF_NAME } = commitMod;
  const d = (n: number, tag?: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${n}`, size: n, ...(tag ? { annotations: { [REF_NAME]: tag } } : {}) });
  const fresh = withTag(undefined, { digest: 'sha256:1', size: 1 }, 'v1');
  assert.deepEqual(fresh, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [d(1, 'v1')] });
  const two = withTag(fresh, { digest: 'sha256:2', size: 2 }, 'v2');
  assert.deepEqual(two.manifests, [d(1, 'v1'), d(2, 'v2')], 'another tag: added');
  const index = { schemaVersion: 2, manifests: [d(1, 'v1'), d(3), d(2, 'v2')], annotations: { keep: 'me' } };
  const again = withTag(index, { digest: 'sha256:4', size: 4 }, 'v1');
  assert.deepEqual(again.manifests, [d(3), d(2, 'v2'), d(4, 'v1')], 'the same tag: replaced; an untagged entry stays');
  assert.deepEqual(again.annotations, { keep: 'me' }, 'the index\'s other fields stay');
  assert.equal(index.manifests.length, 3, 'the input is not changed');
});

test('isOciArchive: a path ending in .tar is an oci-archive, anything else a layout dir', () => {
  assert.equal(commitMod.isOciArchive('/x/img.tar'), true);
  assert.equal(commitMod.isOciArchive('/x/img'), false);
  assert.equal(commitMod.isOciArchive('/x/img.tar.d'), false);
});

test('progress: binary units (MiB), and the total when one is known', () => {
  assert.equal(human(512), '512 B');
  assert.equal(human(1536), '1.5 KiB');
  assert.equal(human(3 * 1024 * 1024), '3.0 MiB');
  assert.equal(human(5 * 1024 ** 3), '5.0 GiB');
  const msgs: string[] = [];
  const p = new Progress((m) => msgs.push(m));
  assert.equal(p.shows, true, 'a callback is a display');
  p.layer(2, 3);
  p.start('commit c1', 0);
  p.total = 10 * 1024 * 1024;
  p.bytes(1024 * 1024, true);
  assert.deepEqual(msgs, ['layer 2/3 commit c1: 1.0 MiB / 10.0 MiB']);
});
