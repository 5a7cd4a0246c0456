// The runtime side of layers: prepareRootfs/releaseRootfs (what create and
// delete call), the shim's overlay mount done here by hand, and the CLI verbs
// commit and prune on a recorded (stopped) container.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { World } from '../helpers/tsrun';
import { prepareRootfs, releaseRootfs, layersInUse } from '../../src/runtime/rootfs';
import { StateStore } from '../../src/runtime/store';
import type { ContainerRecord } from '../../src/runtime/record';
import type { Spec } from '../../src/spec/types';

const w = new World('tsrun-test-image-rt');
const mounts: string[] = [];
after(() => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  w.cleanup();
});

const rootfs = path.join(w.dir, 'rootfs');
const mk = spawnSync('bash', ['/work/shared/clients/make-rootfs.sh', rootfs], { encoding: 'utf8' });
if (mk.status !== 0) throw new Error(`make-rootfs.sh: ${mk.stderr}`);

const ctx = { root: w.root, dataDir: w.dataDir, systemdCgroup: false, log: { debug() {}, info() {}, warn() {}, error() {} } } as never;

function bundle(name: string, tsrun: Spec['tsrun']): { dir: string; spec: Spec } {
  const dir = path.join(w.dir, name);
  fs.mkdirSync(dir, { recursive: true });
  const spec = { ociVersion: '1.2.0', process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }, root: { path: 'rootfs' }, tsrun } as Spec;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return { dir, spec };
}

function record(id: string, dir: string): ContainerRecord {
  return { ociVersion: '1.2.0', id, pid: 0, pidStartTime: 0, bundle: dir, rootfs: '', created: new Date().toISOString(), owner: '', annotations: {} };
}

test('prepareRootfs: layers -> write layer + overlay plan + volume binds; releaseRootfs removes all but volumes and layers', async () => {
  fs.copyFileSync(`${rootfs}.tar`, path.join(w.dir, 'busybox.tar'));
  const { dir, spec } = bundle('b1', { layers: ['../busybox.tar'], volumes: [`${w.dir}/vol:/data`, `${w.dir}/ro:/etc/ro:ro`] });
  const rec = record('r1', dir);
  const root = await prepareRootfs(ctx, 'r1', spec, dir, rec);
  assert.equal(root.rootfs, path.join(w.dataDir, 'containers', 'r1', 'merged'));
  assert.equal(rec.dataDir, w.dataDir);
  assert.equal(rec.image, '../busybox.tar');
  assert.equal(rec.layers?.length, 1);
  assert.ok(root.rootfsMount && /^lowerdir=.*,upperdir=.*,workdir=/.test(root.rootfsMount.data));
  assert.deepEqual(root.extraMounts, [
    { destination: '/data', type: 'bind', source: `${w.dir}/vol`, options: ['rbind', 'rprivate', 'rw'] },
    { destination: '/etc/ro', type: 'bind', source: `${w.dir}/ro`, options: ['rbind', 'rprivate', 'ro'] },
  ]);
  assert.ok(fs.statSync(path.join(w.dataDir, 'containers', 'r1', 'upper', 'data')).isDirectory(), 'destination in the write layer');
  assert.deepEqual(layersInUse(w.dataDir), new Set(rec.layers));
  assert.deepEqual(fs.readdirSync(path.join(w.dataDir, 'containers', 'r1')).sort(), ['merged', 'owner', 'upper', 'work'], 'one metadata file');
  const owner = JSON.parse(fs.readFileSync(path.join(w.dataDir, 'containers', 'r1', 'owner'), 'utf8'));
  assert.deepEqual([owner.root, owner.layers.map((l: { digest: string }) => l.digest)], [w.root, rec.layers]);
  // a write layer an older tsrun made (its layers in a file of their own) still holds its layers
  const legacy = path.join(w.dir, 'legacy-data');
  fs.mkdirSync(path.join(legacy, 'containers', 'old'), { recursive: true });
  fs.writeFileSync(path.join(legacy, 'containers', 'old', 'owner'), JSON.stringify({ root: w.root }));
  fs.writeFileSync(path.join(legacy, 'containers', 'old', 'layers'), JSON.stringify([{ digest: 'sha256:old', dir: '/x' }]));
  assert.deepEqual(layersInUse(legacy), new Set(['sha256:old']));

  // what the shim does: mount the overlay on rootfs; a write goes to this container only
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', root.rootfsMount!.data, root.rootfs], { cwd: root.rootfsMount!.chdir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  mounts.push(root.rootfs);
  fs.writeFileSync(path.join(root.rootfs, 'etc', 'committed'), 'yes\n');
  fs.writeFileSync(path.join(w.dir, 'vol', 'kept'), 'v');

  // record it as tsrun create would, then commit and prune through the CLI
  const st = new StateStore(w.root);
  rec.rootfs = root.rootfs;
  fs.mkdirSync(st.dir('r1'), { recursive: true });
  st.write(rec);
  st.writeConfig('r1', spec);
  const out = path.join(w.dir, 'img.tar');
  w.ok(['commit', 'r1', out]);
  const names = spawnSync('tar', ['-tf', out], { encoding: 'utf8' }).stdout;
  assert.match(names, /^etc\/committed$/m);
  assert.match(names, /^bin\/busybox$/m);
  assert.doesNotMatch(names, /^data\/./m);
  w.ok(['commit', '--oci', `${w.dir}/oci:v2`, 'r1']);
  assert.ok(fs.existsSync(path.join(w.dir, 'oci', 'index.json')));
  const bad = w.tsrun(['commit', 'r1']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /^tsrun: commit: OUT \(or --oci DIR\[:TAG\]\) is required\n$/);

  // the committed tar as the layer of a new container; then prune keeps what is used
  const b2 = bundle('b2', { layers: ['../img.tar'] });
  const rec2 = record('r2', b2.dir);
  await prepareRootfs(ctx, 'r2', b2.spec, b2.dir, rec2);
  fs.mkdirSync(st.dir('r2'), { recursive: true });
  st.write(rec2); // a write layer without its container's state is a lost one: prune would remove it
  assert.equal(w.ok(['prune']), '', 'every layer is in use');

  spawnSync('umount', [root.rootfs]);
  mounts.pop();
  releaseRootfs(ctx, rec);
  releaseRootfs(ctx, rec); // idempotent
  assert.ok(!fs.existsSync(path.join(w.dataDir, 'containers', 'r1')));
  assert.equal(fs.readFileSync(path.join(w.dir, 'vol', 'kept'), 'utf8'), 'v', 'volume data survives');
  assert.equal(w.ok(['prune']).trim(), rec.layers![0], 'the busybox layer is unused now');
  releaseRootfs(ctx, rec2);
  st.remove('r2');
  assert.equal(w.ok(['prune']).trim(), rec2.layers![0]);
  assert.deepEqual(fs.readdirSync(path.join(w.dataDir, 'layers', 'sha256')), []);
  st.remove('r1');
});

test('prepareRootfs: a bad volume is a config error before anything is made', async () => {
  const { dir, spec } = bundle('b3', { layers: ['../busybox.tar'], volumes: ['relative:/x'] });
  await assert.rejects(prepareRootfs(ctx, 'r3', spec, dir, record('r3', dir)), /tsrun\.volumes: "relative:\/x": host path "relative" must be absolute/);
  assert.ok(!fs.existsSync(path.join(w.dataDir, 'containers', 'r3')));
});

test('prepareRootfs without layers: root.path as before; volume destinations made in it', async () => {
  const plain = path.join(w.dir, 'plainroot');
  fs.mkdirSync(path.join(plain, 'rootfs'), { recursive: true });
  const { dir, spec } = bundle('plainroot', { volumes: [`${w.dir}/pv:/mnt/v`] });
  const rec = record('r4', dir);
  const root = await prepareRootfs(ctx, 'r4', spec, dir, rec);
  assert.equal(root.rootfs, path.join(plain, 'rootfs'));
  assert.equal(root.rootfsMount, undefined);
  assert.equal(rec.dataDir, undefined);
  assert.ok(fs.statSync(path.join(plain, 'rootfs', 'mnt', 'v')).isDirectory());
  const none = bundle('none', undefined);
  assert.deepEqual(await prepareRootfs(ctx, 'r5', none.spec, none.dir, record('r5', none.dir)), { rootfs: path.join(none.dir, 'rootfs') });
});
