// `tsrun spec --image`: the process from the image config; users and groups
// by name resolved through the image's /etc/passwd and /etc/group (top layer
// wins, whiteouts hide); the layer entry relative to the bundle.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { sha, tarOf } from '../helpers/tarfiles';
import { parseLayerSource } from '../../src/image/source';
import { readImageFiles, resolveImageUser, specFromImage } from '../../src/image/imagespec';
import { defaultSpec } from '../../src/spec/default';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-image-spec-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));


/** An OCI layout of `layers` (bottom first; the first gzipped) with image config `cfg`. */
function layout(dir: string, layers: Buffer[], cfg: Record<string, unknown>): void {
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer) => {
    fs.writeFileSync(path.join(dir, 'blobs', 'sha256', sha(b)), b);
    return { digest: `sha256:${sha(b)}`, size: b.length };
  };
  const blobs = layers.map((l, i) => (i === 0 ? zlib.gzipSync(l) : l));
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: cfg, rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l)}`) } })));
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: blobs.map((b, i) => ({ mediaType: `application/vnd.oci.image.layer.v1.tar${i === 0 ? '+gzip' : ''}`, ...put(b) })),
      }),
    ),
  );
  fs.writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
  );
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
}

const base = tarOf({
  'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n',
  'etc/group': 'root:x:0:\napp:x:1000:\nwheel:x:10:app,other\n',
  'etc/motd': 'hi',
});
// the top layer replaces /etc/passwd (app now uid 1001) and deletes /etc/motd
const top = tarOf({ 'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1001:1000:app:/home/app:/bin/sh\n', 'etc/.wh.motd': '' });

test('readImageFiles: the top layer wins, whiteouts hide, gzip and plain layers', async () => {
  const dir = path.join(tmp, 'files');
  layout(dir, [base, top], {});
  const f = await readImageFiles(parseLayerSource(`${dir}:v1`, tmp), ['etc/passwd', 'etc/group', '/etc/motd', 'etc/none']);
  assert.match(f.get('etc/passwd')!.toString(), /app:x:1001:/);
  assert.match(f.get('etc/group')!.toString(), /wheel/);
  assert.equal(f.has('etc/motd'), false);
  assert.equal(f.has('etc/none'), false);
});

test('resolveImageUser: names through passwd/group, numbers as they are, primary and supplementary groups', async () => {
  const dir = path.join(tmp, 'users');
  layout(dir, [base, top], {});
  const src = parseLayerSource(dir, tmp);
  assert.deepEqual(await resolveImageUser(src, undefined), { user: { uid: 0, gid: 0 }, home: '/root' });
  assert.deepEqual(await resolveImageUser(src, 'app'), { user: { uid: 1001, gid: 1000, additionalGids: [10] }, home: '/home/app' });
  assert.deepEqual(await resolveImageUser(src, 'app:wheel'), { user: { uid: 1001, gid: 10 }, home: '/home/app' });
  assert.deepEqual(await resolveImageUser(src, '1001'), { user: { uid: 1001, gid: 1000, additionalGids: [10] }, home: '/home/app' });
  assert.deepEqual(await resolveImageUser(src, '4242:77'), { user: { uid: 4242, gid: 77 }, home: undefined });
  assert.deepEqual(await resolveImageUser(src, '4242'), { user: { uid: 4242, gid: 0 }, home: undefined });
  await assert.rejects(resolveImageUser(src, 'ghost'), /image user "ghost": no user "ghost" in the image's \/etc\/passwd/);
  await assert.rejects(resolveImageUser(src, 'app:ghosts'), /no group "ghosts" in the image's \/etc\/group/);
  await assert.rejects(resolveImageUser(src, 'app:'), /expected user\[:group\]/);
});

test('specFromImage: layers entry, args = Entrypoint + Cmd, env, cwd, user, HOME; writable root', async () => {
  const bundle = path.join(tmp, 'bundle');
  const dir = path.join(bundle, 'img');
  layout(dir, [base, top], { Entrypoint: ['/bin/app'], Cmd: ['--serve'], Env: ['PATH=/bin', 'A=1'], WorkingDir: '/srv', User: 'app' });
  const spec = await specFromImage(path.join(dir) + ':v1', bundle, defaultSpec());
  assert.deepEqual(spec.tsrun, { layers: ['img:v1'] });
  assert.deepEqual(spec.process!.args, ['/bin/app', '--serve']);
  assert.deepEqual(spec.process!.env, ['PATH=/bin', 'A=1', 'HOME=/home/app']);
  assert.equal(spec.process!.cwd, '/srv');
  assert.deepEqual(spec.process!.user, { uid: 1001, gid: 1000, additionalGids: [10] });
  assert.equal(spec.process!.terminal, false);
  assert.deepEqual(spec.root, { path: 'rootfs', readonly: false });
  // outside the bundle: an absolute path; a rootfs tar: the default process
  fs.writeFileSync(path.join(tmp, 'root.tar'), base);
  const s2 = await specFromImage(path.join(tmp, 'root.tar'), bundle, defaultSpec());
  assert.deepEqual(s2.tsrun, { layers: [path.join(tmp, 'root.tar')] });
  assert.deepEqual(s2.process!.args, ['/bin/sh']);
  await assert.rejects(specFromImage(path.join(tmp, 'nope.tar'), bundle, defaultSpec()), /does not exist/);
});
