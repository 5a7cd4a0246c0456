// Image layers end to end, through the real CLI and real containers:
// `tsrun create/run` with tsrun.layers, volumes, commit (flat, --diff, --oci),
// `spec --image`, podman interop, malicious layers, failed and killed creates.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { encodeHeader, padding, END_OF_ARCHIVE, type EntryType } from '../../src/image/tarformat';
import { BUSYBOX_IMAGE, TOP, World, waitFor } from '../helpers/tsrun';

const w = new World('tsrun-test-image-e2e');
after(() => w.cleanup());

const layersDir = () => path.join(w.dataDir, 'layers', 'sha256');
const containersDir = () => path.join(w.dataDir, 'containers');
const ls = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d).sort() : []);
const mountsUnder = (d: string) =>
  fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(d));
const sleeper = (name: string, edit: (s: any) => void = () => {}) =>
  w.layered((s) => {
    s.process.args = ['sleep', '1000'];
    edit(s);
  }, name);

/** Every file under dir with its size and mode: a fingerprint of an unpacked layer. */
function fingerprint(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, n);
      const st = fs.lstatSync(path.join(dir, r));
      out.push(`${r} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

function runIn(bundle: string, id: string, cmd: string[]): { code: number; stdout: string; stderr: string } {
  return w.tsrun(['run', '--bundle', bundle, id, ...cmd]);
}

test('two containers from one image: each sees only its own writes; the image layer is unchanged', () => {
  const b = sleeper('two');
  w.ok(['create', '--bundle', b, 'a']);
  w.ok(['create', '--bundle', b, 'b']);
  assert.deepEqual(ls(layersDir()).length, 1, 'one layer, unpacked once');
  const layer = path.join(layersDir(), ls(layersDir())[0]);
  const before = fingerprint(layer);
  w.ok(['start', 'a']);
  w.ok(['start', 'b']);
  w.ok(['exec', 'a', 'sh', '-c', 'echo from-a > /etc/mine; touch /only-a; rm /etc/hostname']);
  w.ok(['exec', 'b', 'sh', '-c', 'echo from-b > /etc/mine; touch /only-b']);
  assert.equal(w.ok(['exec', 'a', 'cat', '/etc/mine']), 'from-a\n');
  assert.equal(w.ok(['exec', 'b', 'cat', '/etc/mine']), 'from-b\n');
  assert.equal(w.ok(['exec', 'a', 'sh', '-c', 'ls /only-* ; test -e /etc/hostname || echo gone']), '/only-a\ngone\n');
  assert.equal(w.ok(['exec', 'b', 'sh', '-c', 'ls /only-* ; cat /etc/hostname']), '/only-b\nbusybox\n');
  assert.deepEqual(fingerprint(layer), before, 'the image layer is unchanged');
  assert.ok(!fs.existsSync(path.join(layer, 'etc', 'mine')));
  // the root is an overlay made for each container alone, in its own mount namespace: no host mount
  assert.match(w.ok(['exec', 'a', 'grep', ' / / ', '/proc/self/mountinfo']), / - overlay overlay .*upperdir=[^,]*\/containers\/a\/upper/);
  assert.deepEqual(mountsUnder(w.dataDir), []);
  // list shows the image
  const list = JSON.parse(w.ok(['list', '--format', 'json'])) as { id: string; image?: string }[];
  assert.deepEqual(
    list.map((c) => [c.id, c.image]),
    [
      ['a', BUSYBOX_IMAGE],
      ['b', BUSYBOX_IMAGE],
    ],
  );
  w.ok(['delete', '--force', 'a']);
  w.ok(['delete', '--force', 'b']);
  assert.deepEqual(ls(containersDir()), [], 'write layers removed');
  assert.deepEqual(fingerprint(layer), before, 'the layer store is kept');
});

test('a second create reuses the unpacked layer: the image tar is not read again', () => {
  const img = path.join(w.dir, 'reuse.tar');
  fs.copyFileSync(BUSYBOX_IMAGE, img);
  fs.utimesSync(img, 1700000000, 1700000000); // a whole second: utimes can restore it exactly
  const b = w.layered((s) => ((s.tsrun.layers = [img]), (s.process.args = ['true'])), 'reuse');
  assert.equal(runIn(b, 'r1', []).code, 0);
  const layers = ls(layersDir());
  // garbage of the same size, same mtime: unpacking it would fail
  const fd = fs.openSync(img, 'r+');
  fs.writeSync(fd, Buffer.alloc(4096, 0x41), 0, 4096, 0);
  fs.closeSync(fd);
  fs.utimesSync(img, 1700000000, 1700000000);
  const r = runIn(b, 'r2', ['cat', '/etc/hostname']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'busybox\n');
  assert.deepEqual(ls(layersDir()), layers, 'nothing unpacked');
  assert.deepEqual(ls(path.join(w.dataDir, 'tmp')), []);
});

test('volumes: data outlives delete and is there in the next container; :ro refuses writes', () => {
  const vol = path.join(w.dir, 'vol', 'data'); // made by create
  const ro = path.join(w.dir, 'rovol');
  fs.mkdirSync(ro);
  fs.writeFileSync(path.join(ro, 'conf'), 'cfg\n');
  const b = w.layered((s) => (s.tsrun.volumes = [`${vol}:/srv/data`, `${ro}:/etc/app:ro`]), 'vols');
  let r = runIn(b, 'v1', ['sh', '-c', 'echo kept > /srv/data/f; cat /etc/app/conf']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'cfg\n');
  assert.equal(fs.readFileSync(path.join(vol, 'f'), 'utf8'), 'kept\n', 'written through to the host');
  assert.deepEqual(ls(containersDir()), [], 'v1 deleted');
  r = runIn(b, 'v2', ['cat', '/srv/data/f']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'kept\n', 'the next container sees it');
  r = runIn(b, 'v3', ['sh', '-c', 'echo x > /etc/app/conf']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Read-only file system/);
  assert.equal(fs.readFileSync(path.join(ro, 'conf'), 'utf8'), 'cfg\n');
  // the destination was made in the write layer, never in the image layer
  for (const l of ls(layersDir())) assert.ok(!fs.existsSync(path.join(layersDir(), l, 'srv')));
});

test('tsrun.volatile: the write layer is mounted volatile, works, commits, and delete (front and Node) removes it', async () => {
  const b = sleeper('volatile', (s) => (s.tsrun.volatile = true));
  for (const [id, env] of [['vo1', {}], ['vo2', { TSRUN_TEST_FORCE_NODE: '1' }]] as const) {
    w.ok(['create', '--bundle', b, id]);
    w.ok(['start', id]);
    const { pid } = w.state(id);
    const root = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
    // newer kernels show it as fsync=volatile
    assert.match(root ?? '', / - overlay .*upperdir=.*,(fsync=)?volatile\b/, `the root mount: ${root}`);
    const r = w.tsrun(['exec', id, 'sh', '-c', 'echo kept > /f && sync && cat /f']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'kept\n');
    const out = path.join(w.dir, `${id}.tar`);
    w.ok(['commit', '--diff', id, out]);
    assert.match(spawnSync('tar', ['-tf', out], { encoding: 'utf8' }).stdout, /^(\.\/)?f$/m, 'the write is in the commit');
    w.ok(['kill', id, 'KILL']);
    await waitFor(() => w.state(id).status === 'stopped', 5000, 'the container to stop');
    // overlay leaves work/work/incompat/volatile in a volatile write layer
    assert.ok(fs.existsSync(path.join(containersDir(), id, 'work', 'work', 'incompat', 'volatile')), 'the volatile marker');
    const d = w.tsrun(['delete', id], { env });
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(ls(containersDir()), [], `${id}: the write layer is gone`);
  }
  // without layers it means nothing: a config error
  const plain = w.bundle((s) => (s.tsrun = { volatile: true }), 'volatile-plain');
  const e = w.tsrun(['create', '--bundle', plain, 'vo3']);
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, /^tsrun: config\.json: \/tsrun\/volatile: a volatile write layer needs tsrun\.layers$/m);
  assert.ok(!fs.existsSync(path.join(w.root, 'vo3')), 'nothing made');
});

test('commit: flat tar round trip, --diff on the base reproduces a deletion, of a stopped and a running container', () => {
  const b = w.layered((s) => (s.process.args = ['sh', '-c', 'echo committed > /etc/note; rm /etc/hostname']), 'commit');
  w.ok(['create', '--bundle', b, 'c1']);
  w.ok(['start', 'c1']);
  return waitFor(() => w.state('c1').status === 'stopped', 5000, 'c1 stopped').then(() => {
    const flat = path.join(w.dir, 'flat.tar.gz');
    const diff = path.join(w.dir, 'diff.tar');
    assert.equal(w.tsrun(['commit', 'c1', flat]).stderr, '', 'quiet when stderr is not a terminal');
    w.ok(['commit', '--diff', 'c1', diff]);
    assert.deepEqual(ls(w.dir).filter((n) => n.includes('.tmp')), [], 'no temp files left');
    const names = spawnSync('tar', ['-tf', diff], { encoding: 'utf8' }).stdout.split('\n');
    assert.ok(names.includes('etc/.wh.hostname'), 'the deletion as an OCI whiteout');
    assert.ok(!names.includes('bin/busybox'), 'only the changes');

    const check = ['sh', '-c', 'cat /etc/note; test -e /etc/hostname && echo present || echo gone; test -x /bin/busybox && echo bb'];
    const fb = w.layered((s) => (s.tsrun.layers = [flat]), 'from-flat');
    let r = runIn(fb, 'f1', check);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'committed\ngone\nbb\n');
    const db = w.layered((s) => (s.tsrun.layers = [BUSYBOX_IMAGE, diff]), 'from-diff');
    r = runIn(db, 'd1', check);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'committed\ngone\nbb\n');
    w.ok(['run', '-d', '--bundle', db, 'd2', 'sleep', '1000']);
    const d2 = (JSON.parse(w.ok(['list', '--format', 'json'])) as { id: string; image?: string }[]).find((c) => c.id === 'd2');
    assert.equal(d2?.image, `${diff} +1`, 'the top layer and how many it sits on');
    w.ok(['delete', '--force', 'd2']);

    // a running container: what it wrote a moment ago is in the commit
    w.ok(['run', '-d', '--bundle', sleeper('running'), 'c2']);
    w.ok(['exec', 'c2', 'sh', '-c', 'echo live > /root/state']);
    const live = path.join(w.dir, 'live.tar');
    w.ok(['commit', 'c2', live]);
    assert.equal(w.state('c2').status, 'running', 'commit does not stop it');
    assert.equal(spawnSync('tar', ['-xOf', live, 'root/state'], { encoding: 'utf8' }).stdout, 'live\n');
    const procs = spawnSync('tar', ['-tf', live], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(procs, /^proc\/./m, '/proc contents excluded');
    w.ok(['delete', '--force', 'c2']);
    w.ok(['delete', 'c1']);
  });
});

// ---- podman ---------------------------------------------------------------

interface Podman {
  env: NodeJS.ProcessEnv;
  run(args: string[]): { code: number; stdout: string; stderr: string };
}
let podmanState: Podman | string | undefined;
const podmanCleanup: (() => void)[] = [];
after(() => podmanCleanup.forEach((f) => f()));

/** A private podman (state under the test world), or the reason there is none. */
function podman(): Podman | string {
  if (podmanState) return podmanState;
  const d = path.join(w.dir, 'podman');
  fs.mkdirSync(d);
  const script = path.join(TOP, 'test', 'fixtures', 'setup-podman.sh');
  const r = spawnSync('bash', [script, d, BUSYBOX_IMAGE], { encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) {
    podmanState = r.status === 3 ? `podman is not installed and apt-get could not install it: ${r.stderr.trim()}` : '';
    if (!podmanState) throw new Error(`setup-podman.sh exited ${r.status}: ${r.stderr}`);
    return podmanState;
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const l of fs.readFileSync(path.join(d, 'env'), 'utf8').split('\n').filter(Boolean)) {
    const i = l.indexOf('=');
    env[l.slice(0, i)] = l.slice(i + 1);
  }
  const run = (args: string[]) => {
    const p = spawnSync('podman', args, { encoding: 'utf8', env, timeout: 120000 });
    return { code: p.status ?? 1, stdout: p.stdout, stderr: p.stderr };
  };
  podmanCleanup.push(() => {
    run(['rm', '-af']);
    run(['system', 'reset', '-f']);
    for (const l of mountsUnder(d).reverse()) spawnSync('umount', ['-l', l.split(' ')[4]]);
  });
  podmanState = { env, run };
  return podmanState;
}

test('commit --oci: runs again under tsrun (spec --image), loads into podman and runs there', (t) => {
  // (podman bind-mounts /etc/hostname, /etc/hosts, /etc/resolv.conf: delete a file it leaves alone)
  const b = w.layered((s) => (s.process.args = ['sh', '-c', 'echo from-oci > /etc/note; rm /etc/nsswitch.conf']), 'oci');
  w.ok(['create', '--bundle', b, 'o1']);
  w.ok(['start', 'o1']);
  return waitFor(() => w.state('o1').status === 'stopped', 5000, 'o1 stopped').then(() => {
    const oci = path.join(w.dir, 'oci-out');
    w.ok(['commit', '--oci', `${oci}:v1`, 'o1']);
    assert.ok(fs.existsSync(path.join(oci, 'index.json')));

    const sb = path.join(w.dir, 'from-oci');
    w.ok(['spec', '--image', `${oci}:v1`, '--bundle', sb]);
    const spec = JSON.parse(fs.readFileSync(path.join(sb, 'config.json'), 'utf8'));
    assert.deepEqual(spec.tsrun.layers, [`${oci}:v1`]);
    assert.deepEqual(spec.process.args, ['sh', '-c', 'echo from-oci > /etc/note; rm /etc/nsswitch.conf'], 'args from the image config');
    const r = runIn(sb, 'o2', ['sh', '-c', 'cat /etc/note; test -e /etc/nsswitch.conf || echo gone']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from-oci\ngone\n');

    const pm = podman();
    if (typeof pm === 'string') {
      w.ok(['delete', 'o1']);
      t.skip(pm);
      return;
    }
    // commit --oci FILE.tar writes an oci-archive: podman names the image after its ref.name ("v1")
    const archive = path.join(w.dir, 'oci-out.tar');
    w.ok(['commit', '--oci', `${archive}:v1`, 'o1']);
    const load = pm.run(['load', '-i', archive]);
    assert.equal(load.code, 0, load.stderr);
    const name = /Loaded image(?:\(s\))?: (\S+)/.exec(load.stdout)?.[1];
    assert.equal(name, 'localhost/v1:latest', load.stdout);
    const p = pm.run(['run', '--rm', name!, 'sh', '-c', 'cat /etc/note; test -e /etc/nsswitch.conf || echo gone']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout, 'from-oci\ngone\n');
    w.ok(['delete', 'o1']);
  });
});

test('commit --oci into an existing layout or oci-archive adds its tag and keeps the others; a wrong OUT is refused, nothing written', async () => {
  const b = w.layered((s) => (s.process.args = ['sh', '-c', 'echo $TAG > /etc/tag']), 'tags');
  const ran = (tag: string) => {
    w.ok(['create', '--bundle', b, '-e', `TAG=${tag}`, `t-${tag}`]);
    w.ok(['start', `t-${tag}`]);
    return waitFor(() => w.state(`t-${tag}`).status === 'stopped', 30000, `t-${tag} stopped`);
  };
  await ran('one');
  await ran('two');
  const tags = (index: string) =>
    (JSON.parse(fs.readFileSync(index, 'utf8')).manifests as { annotations?: Record<string, string> }[]).map((m) => m.annotations?.['org.opencontainers.image.ref.name']);
  const tagIn = (src: string) => {
    const sb = path.join(w.dir, `spec-${path.basename(src).replace(/[:.]/g, '-')}`);
    fs.rmSync(sb, { recursive: true, force: true });
    w.ok(['spec', '--image', src, '--bundle', sb]);
    return runIn(sb, 'tag-check', ['cat', '/etc/tag']).stdout;
  };
  for (const out of [path.join(w.dir, 'img'), path.join(w.dir, 'img.tar')]) {
    w.ok(['commit', '--oci', `${out}:v1`, 't-one']);
    w.ok(['commit', '--oci', `${out}:v2`, 't-two']);
    assert.equal(tagIn(`${out}:v1`), 'one\n', `${out}: v1 is still there after v2 was added`);
    assert.equal(tagIn(`${out}:v2`), 'two\n');
    w.ok(['commit', '--oci', `${out}:v1`, 't-two']); // the same tag again: replaced, not doubled
    assert.equal(tagIn(`${out}:v1`), 'two\n');
    assert.equal(tagIn(`${out}:v2`), 'two\n');
  }
  assert.deepEqual(tags(path.join(w.dir, 'img', 'index.json')), ['v2', 'v1']);
  const listed = spawnSync('tar', ['-tf', path.join(w.dir, 'img.tar')], { encoding: 'utf8' }).stdout.split('\n');
  assert.ok(listed.includes('index.json') && listed.includes('oci-layout'), 'an oci-archive: the layout at the top of the tar');
  assert.deepEqual(ls(w.dir).filter((n) => n.includes('.tmp')), [], 'no temp files left');
  assert.deepEqual(ls(path.join(w.dir, 'img')).filter((n) => n.startsWith('.')), [], 'no temp files left in the layout');

  // an OUT commit cannot write: one line, nothing changed or left behind
  const notLayout = path.join(w.dir, 'not-a-layout');
  fs.mkdirSync(notLayout);
  fs.writeFileSync(path.join(notLayout, 'mine'), 'keep');
  const refusals: [string[], RegExp][] = [
    [['commit', '--oci', `${notLayout}:v1`, 't-one'], /^tsrun: commit --oci: ".*\/not-a-layout" exists and is not an OCI image layout \(no oci-layout and index\.json\): give a new path, or remove it first\n$/],
    [['commit', 't-one', '/nonexistent-dir/sub/x.tar'], /^tsrun: commit: "\/nonexistent-dir\/sub" is not a directory: make it first \(mkdir -p\), or write elsewhere\n$/],
    [['commit', '--oci', `${path.join(w.dir, 'notes.tar')}:v1`, 't-one'], /^tsrun: commit --oci: ".*\/notes\.tar" exists and is not an oci-archive: give a new path, or remove it first\n$/],
    [['commit', 't-one', notLayout], /^tsrun: commit: ".*\/not-a-layout" is a directory: give a new path, or remove it first\n$/],
  ];
  fs.writeFileSync(path.join(w.dir, 'notes.tar'), 'not a tar');
  for (const [args, want] of refusals) {
    const r = w.tsrun(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, want);
  }
  assert.deepEqual(fs.readdirSync(notLayout), ['mine']);
  assert.equal(fs.readFileSync(path.join(w.dir, 'notes.tar'), 'utf8'), 'not a tar');
  assert.deepEqual(ls(w.dir).filter((n) => n.includes('.tmp')), [], 'no temp files left');
  w.ok(['delete', 't-one']);
  w.ok(['delete', 't-two']);
});

test('spec --image on a podman-saved busybox image (oci-archive) runs', (t) => {
  const pm = podman();
  if (typeof pm === 'string') {
    t.skip(pm);
    return;
  }
  const archive = path.join(w.dir, 'busybox.oci.tar');
  const s = pm.run(['save', '--format', 'oci-archive', '-o', archive, 'localhost/busybox:latest']);
  assert.equal(s.code, 0, s.stderr);
  const b = path.join(w.dir, 'saved');
  w.ok(['spec', '--image', archive, '--bundle', b]);
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  assert.deepEqual(spec.process.args, ['/bin/sh'], 'CMD of the image');
  assert.deepEqual(spec.process.user, { uid: 0, gid: 0 });
  const r = w.tsrun(['run', '--bundle', b, 'saved'], { input: 'echo in-$(hostname); id -u\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'in-tsrun\n0\n');
});

// ---- refusals and cleanup ---------------------------------------------------

function tarOf(entries: { path: string; type: EntryType; body?: string; linkpath?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const b = Buffer.from(e.body ?? '');
    parts.push(encodeHeader({ path: e.path, type: e.type, mode: e.type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, size: b.length, mtime: 1700000000, linkpath: e.linkpath }));
    if (b.length) parts.push(b, Buffer.alloc(padding(b.length)));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** Nothing of container `id` left: no state, no write layer, no mounts, no temp unpack dirs. */
function assertNothingLeft(id: string): void {
  assert.ok(!fs.existsSync(path.join(w.root, id)), `state of ${id}`);
  assert.ok(!fs.existsSync(path.join(containersDir(), id)), `write layer of ${id}`);
  assert.deepEqual(mountsUnder(w.dataDir), [], 'mounts');
  assert.deepEqual(ls(path.join(w.dataDir, 'tmp')), [], 'temp unpack dirs');
}

test('malicious layers are refused through create with a clear error; nothing is written outside the store', () => {
  const outside = path.join(w.dir, 'outside');
  fs.mkdirSync(outside);
  const cases: [string, Buffer, RegExp][] = [
    ['traversal', tarOf([{ path: '../../../../../../../../outside/evil', type: 'file', body: 'x' }]), /entry "[^"]*outside\/evil": escapes the layer/],
    ['absolute', tarOf([{ path: `${outside}/evil`, type: 'file', body: 'x' }]), /escapes the layer|entry/],
    [
      'symlink',
      tarOf([
        { path: 'link', type: 'symlink', linkpath: outside },
        { path: 'link/evil', type: 'file', body: 'x' },
      ]),
      /entry "link\/evil"/,
    ],
    ['hardlink', tarOf([{ path: 'hl', type: 'link', linkpath: `../../../../../../../..${outside}/victim` }]), /entry "hl"/],
  ];
  fs.writeFileSync(path.join(outside, 'victim'), 'v');
  const before = ls(layersDir());
  for (const [name, tar, why] of cases) {
    const file = path.join(w.dir, `${name}.tar`);
    fs.writeFileSync(file, tar);
    const b = w.layered((s) => (s.tsrun.layers = [BUSYBOX_IMAGE, file]), `mal-${name}`);
    const r = w.tsrun(['create', '--bundle', b, `mal-${name}`]);
    assert.notEqual(r.code, 0, `${name}: refused`);
    assert.match(r.stderr, /^tsrun: layer "/, `${name}: ${r.stderr}`);
    assert.match(r.stderr, why, `${name}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n').length, 2, `${name}: one line: ${r.stderr}`);
    assertNothingLeft(`mal-${name}`);
  }
  assert.deepEqual(ls(outside), ['victim'], 'nothing written outside');
  assert.equal(fs.readFileSync(path.join(outside, 'victim'), 'utf8'), 'v');
  assert.equal(fs.statSync(path.join(outside, 'victim')).nlink, 1, 'no hardlink to it');
  assert.deepEqual(ls(layersDir()), before, 'no layer installed');
});

test('failed creates leave no mounts, dirs or state', () => {
  // fails after the write layer exists: a volume on a file of the image
  const b1 = w.layered((s) => (s.tsrun.volumes = [`${w.dir}/fv:/etc/passwd`]), 'fail-vol');
  let r = w.tsrun(['create', '--bundle', b1, 'fail1']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /tsrun\.volumes: .*"\/etc\/passwd" exists in the image and is not a directory/);
  assertNothingLeft('fail1');
  // fails in the shim, after the overlay is mounted in the container's namespace
  const b2 = w.layered((s) => s.mounts.push({ destination: '/mnt/x', type: 'bind', source: `${w.dir}/does-not-exist`, options: ['bind'] }), 'fail-shim');
  r = w.tsrun(['create', '--bundle', b2, 'fail2']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /does-not-exist/);
  assertNothingLeft('fail2');
  // a layer that does not exist
  const b3 = w.layered((s) => (s.tsrun.layers = [`${w.dir}/missing.tar`]), 'fail-missing');
  r = w.tsrun(['create', '--bundle', b3, 'fail3']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /missing\.tar/);
  assertNothingLeft('fail3');
});

test('kill -9 of tsrun during create, and of the container: delete --force cleans everything', async () => {
  const marker = path.join(w.dir, 'hook-pid');
  const b = sleeper('killed', (s) => {
    s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${marker}; exec sleep 30`] }] };
  });
  const child = w.spawn(['create', '--bundle', b, 'k1']);
  try {
    await waitFor(() => fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').endsWith('\n'), 10000, 'the hook runs');
    assert.ok(fs.existsSync(path.join(containersDir(), 'k1', 'upper')), 'the write layer exists mid-create');
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
  } finally {
    try {
      process.kill(Number(fs.readFileSync(marker, 'utf8')), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  w.ok(['delete', '--force', 'k1']);
  assertNothingLeft('k1');

  // kill -9 of the container's process: delete (no --force needed: it is stopped) cleans
  w.ok(['run', '-d', '--bundle', sleeper('killed2'), 'k2']);
  const { pid } = w.state('k2');
  process.kill(pid, 'SIGKILL');
  await waitFor(() => w.state('k2').status === 'stopped', 5000, 'k2 stopped');
  w.ok(['delete', 'k2']);
  assertNothingLeft('k2');
});
