// The layer store and commit with real overlay mounts (made here with
// mount(8) in a temp dir, as the shim would inside the container): isolation
// of two write layers over one image, store reuse, concurrent unpacks,
// commit round trips (flat, diff, oci), prune, cleanup of leftover mounts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  commitContainer,
  createContainerStorage,
  ensureLayers,
  imageConfigFor,
  overlayMountPlan,
  parseLayerSource,
  prepareVolumes,
  prune,
  removeContainerStorage,
  type ContainerStorage,
  type LayerRef,
} from '../../src/image';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-image-it-'));
const mounts: string[] = [];
after(() => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const rootfs = path.join(tmp, 'rootfs');
const mk = spawnSync('bash', ['/work/shared/clients/make-rootfs.sh', rootfs], { encoding: 'utf8' });
if (mk.status !== 0) throw new Error(`make-rootfs.sh: ${mk.stderr}`);
const rootfsTar = `${rootfs}.tar`;
const sha256sum = (f: string) => spawnSync('sha256sum', [f], { encoding: 'utf8' }).stdout.split(' ')[0];
const busyboxDigest = `sha256:${sha256sum(rootfsTar)}`;
// what `tar -x` makes of the tar: the reference for what an unpacked layer must look like
const reference = path.join(tmp, 'reference');
fs.mkdirSync(reference);
spawnSync('tar', ['-C', reference, '--numeric-owner', '-xpf', rootfsTar]);

function mountOverlay(layers: LayerRef[], st: ContainerStorage): string {
  const plan = overlayMountPlan(layers, st);
  const target = path.join(st.root, 'merged');
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', plan.data, target], { encoding: 'utf8', cwd: plan.chdir });
  assert.equal(r.status, 0, `mount: ${r.stderr}`);
  mounts.push(target);
  return target;
}

function umount(target: string): void {
  assert.equal(spawnSync('umount', [target]).status, 0);
  mounts.splice(mounts.indexOf(target), 1);
}

/** Everything about a tree: path, type, mode, owner, size, mtime, link target. */
function snapshot(dir: string): string {
  return spawnSync('find', ['.', '-printf', '%p %y %m %u %g %s %T@ %l\\n'], { cwd: dir, encoding: 'utf8' }).stdout.split('\n').sort().join('\n');
}

test('ensureLayers: unpacks once, reuses the store (same tar, its .gz, an OCI archive of it)', async () => {
  const dd = path.join(tmp, 'store1');
  const [l] = await ensureLayers(dd, [parseLayerSource(rootfsTar, '/')]);
  assert.equal(l.digest, busyboxDigest, 'the digest is the sha256 of the uncompressed tar (diff_id)');
  assert.equal(snapshot(l.dir), snapshot(reference), 'modes, owners, times, symlinks as tar -x gives');
  const ino = fs.statSync(l.dir).ino;
  const [again] = await ensureLayers(dd, [parseLayerSource(rootfsTar, '/')]);
  assert.deepEqual(again, l);
  assert.equal(fs.statSync(again.dir).ino, ino, 'not unpacked again');

  spawnSync('gzip', ['-k', '-f', rootfsTar]);
  const [gz] = await ensureLayers(dd, [parseLayerSource(`${rootfsTar}.gz`, '/')]);
  assert.equal(gz.digest, busyboxDigest);
  assert.equal(fs.statSync(gz.dir).ino, ino, 'the gzip of the same tar maps to the same layer');

  const oci = path.join(tmp, 'busybox-oci.tar');
  assert.equal(spawnSync('bash', ['/work/shared/clients/make-oci-archive.sh', rootfsTar, oci]).status, 0);
  const src = parseLayerSource(`${oci}:latest`, '/');
  assert.equal(src.kind, 'oci');
  const [o] = await ensureLayers(dd, [src]);
  assert.equal(o.digest, busyboxDigest);
  assert.equal(fs.statSync(o.dir).ino, ino, 'the OCI archive of the same layer unpacks nothing');
  assert.deepEqual(fs.readdirSync(path.join(dd, 'layers', 'sha256')), [busyboxDigest.slice(7)]);
  assert.deepEqual((await imageConfigFor(src)).args, ['/bin/sh']);
});

test('concurrent ensureLayers of the same tar: one layer, no leftovers', async () => {
  const dd = path.join(tmp, 'store-race');
  const src = parseLayerSource(rootfsTar, '/');
  const all = await Promise.all([1, 2, 3].map(() => ensureLayers(dd, [src])));
  for (const r of all) assert.deepEqual(r, all[0]);
  assert.deepEqual(fs.readdirSync(path.join(dd, 'layers', 'sha256')), [busyboxDigest.slice(7)]);
  assert.deepEqual(fs.readdirSync(path.join(dd, 'tmp')), []);
  assert.equal(snapshot(all[0][0].dir), snapshot(reference));
});

test('two containers on one image: each sees only its own writes; the layer is unchanged', async () => {
  const dd = path.join(tmp, 'store2');
  const layers = await ensureLayers(dd, [{ kind: 'tar', path: rootfsTar }]);
  const before = snapshot(layers[0].dir);
  const a = createContainerStorage(dd, 'a');
  const b = createContainerStorage(dd, 'b');
  const ma = mountOverlay(layers, a);
  const mb = mountOverlay(layers, b);
  fs.writeFileSync(path.join(ma, 'etc', 'only-a'), 'a');
  fs.writeFileSync(path.join(mb, 'etc', 'only-b'), 'b');
  fs.appendFileSync(path.join(ma, 'etc', 'passwd'), 'a:x:1:1::/:/bin/sh\n');
  fs.rmSync(path.join(mb, 'etc', 'hostname'));
  assert.ok(fs.existsSync(path.join(ma, 'etc', 'only-a')) && !fs.existsSync(path.join(ma, 'etc', 'only-b')));
  assert.ok(fs.existsSync(path.join(mb, 'etc', 'only-b')) && !fs.existsSync(path.join(mb, 'etc', 'only-a')));
  assert.match(fs.readFileSync(path.join(ma, 'etc', 'passwd'), 'utf8'), /^a:x:1:1/m);
  assert.doesNotMatch(fs.readFileSync(path.join(mb, 'etc', 'passwd'), 'utf8'), /^a:x/m);
  assert.ok(fs.existsSync(path.join(ma, 'etc', 'hostname')) && !fs.existsSync(path.join(mb, 'etc', 'hostname')));
  assert.equal(snapshot(layers[0].dir), before, 'no image layer modified');
  umount(ma);
  umount(mb);
  removeContainerStorage(dd, 'a');
  removeContainerStorage(dd, 'b');
  assert.deepEqual(fs.readdirSync(path.join(dd, 'containers')), []);
});

test('removeContainerStorage unmounts what is left mounted under the container, then removes it', async () => {
  const dd = path.join(tmp, 'store3');
  const layers = await ensureLayers(dd, [{ kind: 'tar', path: rootfsTar }]);
  const st = createContainerStorage(dd, 'left');
  const m = mountOverlay(layers, st);
  const sub = path.join(m, 'tmp');
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', sub]).status, 0);
  removeContainerStorage(dd, 'left');
  mounts.splice(mounts.indexOf(m), 1);
  assert.ok(!fs.existsSync(st.root));
  assert.doesNotMatch(fs.readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(st.root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  removeContainerStorage(dd, 'left'); // idempotent
});

test('commit round trips: flat (.tar.gz), --diff stacked on the base, --oci re-read by ensureLayers', async () => {
  const dd = path.join(tmp, 'store4');
  const layers = await ensureLayers(dd, [{ kind: 'tar', path: rootfsTar }]);
  const st = createContainerStorage(dd, 'c');
  const vol = path.join(tmp, 'vol');
  prepareVolumes([{ source: vol, destination: '/data', readonly: false }], st, layers);
  const m = mountOverlay(layers, st);
  // the container's writes (made while "running": the overlay is mounted)
  fs.writeFileSync(path.join(m, 'etc', 'motd'), 'committed\n');
  fs.rmSync(path.join(m, 'etc', 'hostname'));
  fs.rmSync(path.join(m, 'usr', 'bin'), { recursive: true });
  fs.mkdirSync(path.join(m, 'usr', 'bin'));
  fs.writeFileSync(path.join(m, 'usr', 'bin', 'only'), '');
  fs.linkSync(path.join(m, 'etc', 'motd'), path.join(m, 'etc', 'motd.link'));
  fs.writeFileSync(path.join(m, 'proc', 'junk'), 'x'); // kernel fs contents are excluded
  fs.writeFileSync(path.join(m, 'data', 'volume-file'), 'v'); // as if the volume were not mounted
  const common = { dataDir: dd, id: 'c', rootfs: m, layers, upper: st.upper, volumes: ['/data'] };

  // flat
  const flat = path.join(tmp, 'out', 'flat.tar.gz');
  fs.mkdirSync(path.dirname(flat));
  await commitContainer({ ...common, out: flat, mode: 'flat' });
  assert.deepEqual(fs.readdirSync(path.dirname(flat)), ['flat.tar.gz'], 'no temp file left');
  assert.equal(fs.readFileSync(flat)[0], 0x1f, 'gzip');
  const [fl] = await ensureLayers(dd, [parseLayerSource(flat, '/')]);
  assert.equal(fs.readFileSync(path.join(fl.dir, 'etc', 'motd'), 'utf8'), 'committed\n');
  assert.equal(fs.statSync(path.join(fl.dir, 'etc', 'motd.link')).ino, fs.statSync(path.join(fl.dir, 'etc', 'motd')).ino);
  assert.ok(!fs.existsSync(path.join(fl.dir, 'etc', 'hostname')));
  assert.deepEqual(fs.readdirSync(path.join(fl.dir, 'usr', 'bin')), ['only']);
  assert.deepEqual(fs.readdirSync(path.join(fl.dir, 'proc')), []);
  assert.deepEqual(fs.readdirSync(path.join(fl.dir, 'data')), []);
  assert.equal(fs.statSync(path.join(fl.dir, 'bin', 'busybox')).size, fs.statSync(path.join(rootfs, 'bin', 'busybox')).size);
  assert.equal(fs.readlinkSync(path.join(fl.dir, 'bin', 'sh')), '/bin/busybox');
  assert.equal(fs.statSync(path.join(fl.dir, 'tmp')).mode & 0o7777, 0o1777);

  // diff, stacked on the base: the deletion and the opaque dir are reproduced
  const diff = path.join(tmp, 'out', 'diff.tar');
  await commitContainer({ ...common, out: diff, mode: 'diff' });
  const names = spawnSync('tar', ['-tf', diff], { encoding: 'utf8' }).stdout.split('\n');
  assert.ok(names.includes('etc/.wh.hostname'), names.join(' '));
  assert.ok(names.includes('usr/bin/.wh..wh..opq'));
  assert.ok(!names.some((n) => n.startsWith('bin/')), 'only the changes');
  const stacked = await ensureLayers(dd, [{ kind: 'tar', path: rootfsTar }, { kind: 'tar', path: diff }]);
  const st2 = createContainerStorage(dd, 'c2');
  const m2 = mountOverlay(stacked, st2);
  assert.equal(fs.readFileSync(path.join(m2, 'etc', 'motd'), 'utf8'), 'committed\n');
  assert.ok(!fs.existsSync(path.join(m2, 'etc', 'hostname')), 'deleted stays deleted');
  assert.deepEqual(fs.readdirSync(path.join(m2, 'usr', 'bin')), ['only']);
  assert.ok(fs.existsSync(path.join(m2, 'bin', 'busybox')));
  umount(m2);

  // oci layout: base + diff + config; tsrun reads it back
  const ociDir = path.join(tmp, 'out', 'img');
  await commitContainer({ ...common, out: ociDir, mode: 'oci', tag: 'v1', imageConfig: { args: ['sh', '-c', 'cat /etc/motd'], env: ['PATH=/bin', 'X=1'], cwd: '/etc' } });
  const src = parseLayerSource(`${ociDir}:v1`, '/');
  assert.equal(src.kind, 'oci');
  assert.deepEqual(await imageConfigFor(src), { args: ['sh', '-c', 'cat /etc/motd'], env: ['PATH=/bin', 'X=1'], cwd: '/etc' });
  const fromOci = await ensureLayers(dd, [src]);
  assert.equal(fromOci.length, 2);
  const st3 = createContainerStorage(dd, 'c3');
  const m3 = mountOverlay(fromOci, st3);
  assert.equal(fs.readFileSync(path.join(m3, 'etc', 'motd'), 'utf8'), 'committed\n');
  assert.ok(!fs.existsSync(path.join(m3, 'etc', 'hostname')));
  assert.deepEqual(fs.readdirSync(path.join(m3, 'usr', 'bin')), ['only']);
  assert.equal(spawnSync('chroot', [m3, '/bin/sh', '-c', 'cat /etc/motd'], { encoding: 'utf8' }).stdout, 'committed\n');
  umount(m3);

  // a failing commit leaves no output and no temp file
  const failOut = path.join(tmp, 'out', 'fail.tar');
  await assert.rejects(commitContainer({ ...common, upper: path.join(tmp, 'missing'), out: failOut, mode: 'diff' }));
  assert.deepEqual(fs.readdirSync(path.join(tmp, 'out')).sort(), ['diff.tar', 'flat.tar.gz', 'img']);

  umount(m);
  for (const id of ['c', 'c2', 'c3']) removeContainerStorage(dd, id);
});

test('commit of a stopped container (no mount) reads layers + upper; prune keeps what is in use', async () => {
  const dd = path.join(tmp, 'store5');
  const layers = await ensureLayers(dd, [{ kind: 'tar', path: rootfsTar }]);
  const st = createContainerStorage(dd, 's');
  const m = mountOverlay(layers, st);
  fs.writeFileSync(path.join(m, 'root', 'note'), 'n');
  umount(m); // stopped: nothing mounted any more
  const out = path.join(tmp, 'stopped.tar');
  await commitContainer({ dataDir: dd, id: 's', rootfs: path.join(st.root, 'merged'), layers, upper: st.upper, volumes: [], out, mode: 'flat' });
  const [l] = await ensureLayers(dd, [{ kind: 'tar', path: out }]);
  assert.equal(fs.readFileSync(path.join(l.dir, 'root', 'note'), 'utf8'), 'n');
  assert.ok(fs.existsSync(path.join(l.dir, 'bin', 'busybox')));

  fs.mkdirSync(path.join(dd, 'tmp', '999999999-dead'));
  const removed = await prune(dd, new Set([busyboxDigest]));
  assert.deepEqual(removed, [l.digest]);
  assert.deepEqual(fs.readdirSync(path.join(dd, 'layers', 'sha256')), [busyboxDigest.slice(7)]);
  assert.deepEqual(fs.readdirSync(path.join(dd, 'tmp')), [], 'stale unpack dirs of dead processes removed');
  assert.deepEqual(await prune(dd, () => new Set([busyboxDigest])), []);
  // the index entry for the pruned tar is gone: ensureLayers unpacks it again
  const [back] = await ensureLayers(dd, [{ kind: 'tar', path: out }]);
  assert.equal(back.digest, l.digest);
  assert.ok(fs.existsSync(path.join(back.dir, 'root', 'note')));
  removeContainerStorage(dd, 's');
});
