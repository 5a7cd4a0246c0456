// Overlay mount data (length, short links), container storage, volume parsing
// and where volume destinations are created.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  createContainerStorage,
  overlayMountPlan,
  parseVolume,
  prepareVolumes,
  removeContainerStorage,
  removeTree,
  lookupMerged,
} from '../../src/image/overlay';
import { lsetxattr, mknod, S_IFCHR } from '../../src/sys/fsops';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-image-overlay-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('overlayMountPlan: lowerdir top-first, absolute when short', () => {
  const dd = path.join(tmp, 'd1');
  const st = createContainerStorage(dd, 'c1');
  for (const d of ['upper', 'work', 'merged']) assert.ok(fs.statSync(path.join(dd, 'containers', 'c1', d)).isDirectory());
  const plan = overlayMountPlan(
    [
      { digest: 'sha256:a', dir: '/l/bottom' },
      { digest: 'sha256:b', dir: '/l/top' },
    ],
    st,
  );
  assert.deepEqual(plan, { source: 'overlay', type: 'overlay', data: `lowerdir=/l/top:/l/bottom,upperdir=${st.upper},workdir=${st.work}` });
});

test('overlayMountPlan: many long layer paths -> short links under <dataDir>/l and chdir, data < 4096', () => {
  const dd = path.join(tmp, 'd2');
  const st = createContainerStorage(dd, 'c2');
  const layers = Array.from({ length: 60 }, (_, i) => {
    const dir = path.join(dd, 'layers', 'sha256', `${i}`.padStart(64, '0'));
    fs.mkdirSync(dir, { recursive: true });
    return { digest: `sha256:${i}`, dir };
  });
  const plan = overlayMountPlan(layers, st);
  assert.ok(plan.data.length < 4096, `data is ${plan.data.length} bytes`);
  assert.equal(plan.chdir, path.resolve(dd));
  const m = /^lowerdir=([^,]+),upperdir=([^,]+),workdir=([^,]+)$/.exec(plan.data);
  assert.ok(m);
  const lowers = m[1].split(':');
  assert.equal(lowers.length, 60);
  // each short name resolves, relative to chdir, to the layer (top first)
  lowers.forEach((l, i) => assert.equal(fs.realpathSync(path.join(plan.chdir!, l)), layers[59 - i].dir));
  assert.equal(path.resolve(plan.chdir!, m[2]), st.upper);
  assert.equal(path.resolve(plan.chdir!, m[3]), st.work);
  // idempotent: same links the second time
  assert.deepEqual(overlayMountPlan(layers, st), plan);
});

test('overlayMountPlan: a path with ":" or "," goes through a short link', () => {
  const dd = path.join(tmp, 'd3');
  const st = createContainerStorage(dd, 'c3');
  const plan = overlayMountPlan([{ digest: 'dir:x', dir: '/odd:dir,name' }], st);
  assert.ok(plan.chdir);
  assert.doesNotMatch(plan.data.replace(/^lowerdir=/, '').split(',')[0], /[:,]/);
});

test('removeContainerStorage is idempotent and keeps other containers', () => {
  const dd = path.join(tmp, 'd4');
  createContainerStorage(dd, 'a');
  const b = createContainerStorage(dd, 'b');
  fs.writeFileSync(path.join(b.upper, 'f'), 'x');
  removeContainerStorage(dd, 'a');
  removeContainerStorage(dd, 'a');
  assert.deepEqual(fs.readdirSync(path.join(dd, 'containers')), ['b']);
  assert.throws(() => createContainerStorage(dd, '../evil'), /bad container id/);
});

test('removeTree: removes a tree (files, fifos, whiteouts, mode 000 dirs), never follows symlinks; idempotent', () => {
  const outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'keep'), 'k');
  const t = path.join(tmp, 'tree');
  fs.mkdirSync(path.join(t, 'a', 'b', 'c'), { recursive: true });
  fs.writeFileSync(path.join(t, 'a', 'b', 'c', 'f'), 'x');
  fs.symlinkSync(outside, path.join(t, 'a', 'to-outside'));
  fs.symlinkSync(path.join(outside, 'keep'), path.join(t, 'link-file'));
  mknod(path.join(t, 'a', 'wh'), S_IFCHR, 0);
  fs.mkdirSync(path.join(t, 'work', 'work'), { recursive: true });
  fs.chmodSync(path.join(t, 'work', 'work'), 0);
  removeTree(t);
  assert.ok(!fs.existsSync(t));
  assert.deepEqual(fs.readdirSync(outside), ['keep'], 'nothing removed through a symlink');
  removeTree(t);
  const link = path.join(tmp, 'top-link');
  fs.symlinkSync(outside, link);
  removeTree(link);
  assert.ok(!fs.lstatSync(link, { throwIfNoEntry: false }) && fs.existsSync(path.join(outside, 'keep')), 'a symlink at the top is removed, not followed');
});

test('parseVolume: HOST:CONTAINER[:ro]; config errors name the entry', () => {
  assert.deepEqual(parseVolume('/h/x:/data'), { source: '/h/x', destination: '/data', readonly: false });
  assert.deepEqual(parseVolume('/h/x:/data:ro'), { source: '/h/x', destination: '/data', readonly: true });
  assert.deepEqual(parseVolume('/h/x/:/data/:rw'), { source: '/h/x/', destination: '/data/', readonly: false });
  for (const [bad, why] of [
    ['a', /"a": expected HOST:CONTAINER/],
    [':b', /":b": empty host path/],
    ['a:', /"a:": empty container path/],
    ['rel:/b', /"rel:\/b": host path "rel" must be absolute/],
    ['/a:/b/../c', /container path "\/b\/..\/c" must not contain ".."/],
    ['/a:b', /container path "b" must be absolute/],
    ['/a:/b:rx', /"\/a:\/b:rx": unknown option "rx"/],
    ['/a:/b:ro:x', /expected HOST:CONTAINER/],
  ] as [string, RegExp][])
    assert.throws(() => parseVolume(bad), (e: Error) => (assert.match(e.message, /^tsrun\.volumes: /), assert.match(e.message, why), true));
});

test('prepareVolumes: host dir made; destination created in upper, never in a layer; symlinks resolved inside the root', () => {
  const dd = path.join(tmp, 'd5');
  const st = createContainerStorage(dd, 'v');
  const bottom = path.join(tmp, 'bottom');
  const top = path.join(tmp, 'top');
  fs.mkdirSync(path.join(bottom, 'srv', 'exists'), { recursive: true });
  fs.mkdirSync(path.join(bottom, 'var'), { recursive: true });
  fs.chmodSync(path.join(bottom, 'srv'), 0o750);
  fs.chownSync(path.join(bottom, 'srv'), 12, 34);
  fs.symlinkSync('/run', path.join(bottom, 'var', 'run'));
  fs.mkdirSync(path.join(bottom, 'gone'));
  fs.mkdirSync(top);
  mknod(path.join(top, 'gone'), S_IFCHR, 0); // the top layer deletes /gone
  fs.writeFileSync(path.join(bottom, 'file'), 'x');
  const layers = [
    { digest: 'sha256:b', dir: bottom },
    { digest: 'sha256:t', dir: top },
  ];
  // without following symlinks (Node 20's recursive readdir follows var/run -> the host's /run, which changes)
  const walk = (d: string, rel = ''): string[] =>
    fs.readdirSync(path.join(d, rel), { withFileTypes: true }).flatMap((e) => {
      const r = rel ? `${rel}/${e.name}` : e.name;
      return e.isDirectory() ? [r, ...walk(d, r)] : [r];
    });
  const snapshot = (d: string) => JSON.stringify(walk(d).sort());
  const before = [snapshot(bottom), snapshot(top)];
  const host = path.join(tmp, 'hostvols');
  prepareVolumes(
    [
      { source: `${host}/a`, destination: '/data/deep', readonly: false },
      { source: `${host}/b`, destination: '/srv/exists', readonly: true },
      { source: `${host}/c`, destination: '/srv/new', readonly: false },
      { source: `${host}/d`, destination: '/var/run/sock', readonly: false },
      { source: `${host}/e`, destination: '/gone/again', readonly: false },
    ],
    st,
    layers,
  );
  for (const v of 'abcde') assert.ok(fs.statSync(`${host}/${v}`).isDirectory());
  assert.deepEqual([snapshot(bottom), snapshot(top)], before, 'no image layer changed');
  assert.ok(fs.statSync(path.join(st.upper, 'data', 'deep')).isDirectory());
  assert.ok(!fs.existsSync(path.join(st.upper, 'srv', 'exists')), 'an existing destination is not recreated');
  const srv = fs.statSync(path.join(st.upper, 'srv'));
  assert.deepEqual([srv.mode & 0o7777, srv.uid, srv.gid], [0o750, 12, 34], 'a parent only the image had keeps its mode/owner');
  assert.ok(fs.statSync(path.join(st.upper, 'srv', 'new')).isDirectory());
  assert.ok(fs.statSync(path.join(st.upper, 'run', 'sock')).isDirectory(), '/var/run -> /run followed inside the root');
  assert.ok(!fs.existsSync(path.join(st.upper, 'var')), 'the symlink was not shadowed by a dir');
  assert.ok(fs.statSync(path.join(st.upper, 'gone', 'again')).isDirectory());
  // the merged view: /gone is a fresh dir (lookupMerged sees upper first)
  const hit = lookupMerged([st.upper, top, bottom], 'gone');
  assert.equal(hit?.layer, 0);
  assert.throws(
    () => prepareVolumes([{ source: `${host}/f`, destination: '/file/x', readonly: false }], st, layers),
    /tsrun\.volumes: ".*:\/file\/x": "\/file" exists in the image and is not a directory/,
  );
});

test('lookupMerged honours whiteouts and opaque dirs', () => {
  const a = path.join(tmp, 'la');
  const b = path.join(tmp, 'lb');
  fs.mkdirSync(path.join(a, 'o'), { recursive: true });
  fs.mkdirSync(path.join(b, 'o'), { recursive: true });
  fs.writeFileSync(path.join(b, 'o', 'hidden'), '');
  fs.writeFileSync(path.join(b, 'shown'), '');
  lsetxattr(path.join(a, 'o'), 'trusted.overlay.opaque', Buffer.from('y'));
  assert.equal(lookupMerged([a, b], 'o/hidden'), null);
  assert.equal(lookupMerged([a, b], 'shown')?.layer, 1);
  mknod(path.join(a, 'shown'), S_IFCHR, 0);
  assert.equal(lookupMerged([a, b], 'shown'), null);
});
