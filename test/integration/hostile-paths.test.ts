// Hostile paths: symlinks in the rootfs that point out of it (absolute,
// ../.., /proc/self/root) used as mount destinations, volume destinations and
// cwd are resolved inside the rootfs, never on the host (runc
// CVE-2021-30465); mounts on /proc land on a real procfs; image tars never
// write outside their layer; ids that could leave --root are refused by
// every verb.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { World, BUSYBOX_ROOTFS } from '../helpers/tsrun';
import { leftovers, uniqueId, stateDirs } from '../helpers/leftovers';

const w = new World('tsrun-test-hostile');
after(() => w.cleanup());

// the host side: a directory the container must never touch
const host = path.join(w.dir, 'host-target');
fs.mkdirSync(host);
fs.writeFileSync(path.join(host, 'sentinel'), 'host\n');
function hostListing(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      out.push(path.relative(host, path.join(d, e.name)));
      if (e.isDirectory()) walk(path.join(d, e.name));
    }
  };
  walk(host);
  return out.sort();
}
const hostBefore = hostListing();

// a private copy of the busybox rootfs with malicious symlinks
const evil = path.join(w.dir, 'evil-rootfs');
execFileSync('cp', ['-a', BUSYBOX_ROOTFS, evil]);
const depth = '../'.repeat(host.split('/').length + 3);
const links: Record<string, string> = {
  'escape-abs': host, // absolute: outside the root on the host
  'escape-rel': `${depth}${host.slice(1)}`, // ../../..: climbs above the root
  'escape-proc': `/proc/self/root${host}`, // through the magic link of the process's root
  'escape-chain': 'escape-abs', // a link to a link
  'fakeproc': '/proc/sys/kernel', // outside /proc by name, a procfs inside
};
for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(evil, name));

function evilBundle(name: string, edit: (s: any) => void): string {
  return w.bundle((s) => {
    s.root.path = evil;
    s.root.readonly = false;
    edit(s);
  }, name);
}

function runIn(b: string): { code: number; stdout: string; stderr: string } {
  const id = uniqueId('hostile');
  const r = w.tsrun(['run', '--bundle', b, id]);
  assert.deepEqual(leftovers(w, id), [], 'nothing left');
  return r;
}

function assertHostUntouched(what: string): void {
  assert.deepEqual(hostListing(), hostBefore, `${what}: the host directory is unchanged`);
  assert.equal(fs.readFileSync(path.join(host, 'sentinel'), 'utf8'), 'host\n');
  assert.deepEqual(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(host)), [], `${what}: no host mount`);
}

for (const link of ['escape-abs', 'escape-rel', 'escape-proc', 'escape-chain']) {
  test(`mount destination through /${link} stays in the rootfs (or fails); the host is untouched`, () => {
    const b = evilBundle(`m-${link}`, (s) => {
      s.mounts.push({ destination: `/${link}/newdir`, type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
      s.process.args = ['sh', '-c', `echo pwned > /${link}/newdir/file && cat /${link}/newdir/file`];
    });
    const r = runIn(b);
    if (r.code === 0) assert.equal(r.stdout, 'pwned\n');
    else assert.match(r.stderr, /^tsrun: [^\n]+\n$/, 'a one-line error');
    assertHostUntouched(link);
  });

  test(`cwd through /${link} stays in the rootfs; the host is untouched`, () => {
    const b = evilBundle(`c-${link}`, (s) => {
      s.process.cwd = `/${link}/cwd-made`;
      s.process.args = ['sh', '-c', 'echo pwned > here; pwd'];
    });
    const r = runIn(b);
    if (r.code !== 0) assert.match(r.stderr, /^tsrun: [^\n]+\n$/);
    assertHostUntouched(`cwd ${link}`);
  });

  test(`volume destination through /${link} stays in the rootfs; the host is untouched`, () => {
    const vol = path.join(w.dir, `vol-${link}`);
    const b = evilBundle(`v-${link}`, (s) => {
      s.tsrun = { volumes: [`${vol}:/${link}/voldir`] };
      s.process.args = ['sh', '-c', `echo data > /${link}/voldir/file`];
    });
    const r = runIn(b);
    if (r.code === 0) assert.equal(fs.readFileSync(path.join(vol, 'file'), 'utf8'), 'data\n', 'the write went to the volume');
    else assert.match(r.stderr, /^tsrun: [^\n]+\n$/);
    assertHostUntouched(`volume ${link}`);
  });
}

test('the absolute and relative links resolve inside the rootfs: what was made is under it', () => {
  // the mkdir -p of the destinations above happened in the copy, at the link's target taken inside the root
  assert.ok(fs.existsSync(path.join(evil, host.slice(1), 'newdir')), 'made inside the rootfs');
});

test('mounts on /proc: only onto the container procfs; a bind on /proc itself only from a procfs', () => {
  // lxcfs style: a file bound over a real /proc file works
  const fake = path.join(w.dir, 'cpuinfo');
  fs.writeFileSync(fake, 'fake cpuinfo\n');
  let r = runIn(
    evilBundle('p-ok', (s) => {
      s.mounts.push({ destination: '/proc/cpuinfo', type: 'bind', source: fake, options: ['rbind', 'ro'] });
      s.process.args = ['cat', '/proc/cpuinfo'];
    }),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'fake cpuinfo\n');

  // a directory of ours bound on /proc: refused
  const dir = path.join(w.dir, 'notproc');
  fs.mkdirSync(dir, { recursive: true });
  r = runIn(
    evilBundle('p-dir', (s) => {
      s.mounts = s.mounts.filter((m: { destination: string }) => m.destination !== '/proc');
      s.mounts.unshift({ destination: '/proc', type: 'bind', source: dir, options: ['rbind'] });
    }),
  );
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^tsrun: mount bind "[^"]+" to "\/proc": only a procfs may be bound on \/proc\n$/);

  // /proc is a tmpfs (not procfs): a bind under it would not mask anything real
  r = runIn(
    evilBundle('p-tmpfs', (s) => {
      s.mounts = s.mounts.filter((m: { destination: string }) => m.destination !== '/proc');
      s.mounts.unshift({ destination: '/proc', type: 'tmpfs', source: 'tmpfs' });
      s.mounts.push({ destination: '/proc/sys/kernel/hostname', type: 'bind', source: fake, options: ['rbind'] });
    }),
  );
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^tsrun: mount to "\/proc\/sys\/kernel\/hostname": the target is not on the container's procfs/);

  // a destination outside /proc that a symlink turns into a procfs file
  r = runIn(
    evilBundle('p-link', (s) => {
      s.mounts.push({ destination: '/fakeproc/hostname', type: 'bind', source: fake, options: ['rbind'] });
    }),
  );
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^tsrun: mount to "\/fakeproc\/hostname": it resolves into a procfs\n$/);
  assertHostUntouched('proc mounts');
});

test('an image tar with ../, absolute paths, symlink and hardlink escapes never writes outside its layer (through tsrun create)', () => {
  const tar = path.join(w.dir, 'evil.tar');
  // python's tarfile writes exactly the names given, hostile ones included
  execFileSync('python3', [
    '-c',
    `
import tarfile, io, sys
host = sys.argv[2]
def add(t, name, data=b'x', **kw):
    i = tarfile.TarInfo(name); i.size = len(data)
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i, io.BytesIO(data) if i.type == tarfile.REGTYPE else None)
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:
    add(t, 'ok.txt', b'fine')
    add(t, '../../../../../../..' + host + '/dotdot', b'pwned')
    add(t, host + '/absolute', b'pwned')
    add(t, 'link', type=tarfile.SYMTYPE, linkname=host)
    add(t, 'link/through-symlink', b'pwned')
    add(t, 'hard', type=tarfile.LNKTYPE, linkname=host + '/sentinel')
    add(t, 'hard2', type=tarfile.LNKTYPE, linkname='../../../../..' + host + '/sentinel')
`,
    tar,
    host,
  ]);
  const b = w.bundle((s) => {
    s.root = { path: 'rootfs' };
    s.tsrun = { layers: [path.join(w.dir, 'busybox.tar'), tar] };
    s.process.args = ['true'];
  }, 'evil-tar');
  execFileSync('tar', ['-cf', path.join(w.dir, 'busybox.tar'), '-C', BUSYBOX_ROOTFS, '.']);
  const id = uniqueId('tar');
  const r = w.tsrun(['run', '--bundle', b, id]);
  if (r.code !== 0) assert.match(r.stderr, /^tsrun: [^\n]+\n$/, 'a one-line error');
  assertHostUntouched('image tar');
  assert.deepEqual(leftovers(w, id), []);
  // and nothing landed next to the data dir either
  const stray = fs.readdirSync(w.dir).filter((n) => ['dotdot', 'absolute', 'through-symlink'].includes(n));
  assert.deepEqual(stray, []);
});

const BAD_IDS = ['../x', 'a/b', '..', '.', '/abs', 'x/../../y', '.hidden', 'a'.repeat(1100), 'tab\there', 'new\nline', 'sp ace', 'ünï'];
const VERBS: string[][] = [
  ['create', '--bundle', 'BUNDLE'],
  ['run', '--bundle', 'BUNDLE'],
  ['start'],
  ['state'],
  ['kill'],
  ['delete'],
  ['delete', '--force'],
  ['pause'],
  ['resume'],
  ['ps'],
  ['exec', 'ID', 'true'],
  ['update', '--memory', '1000000'],
  ['events', '--stats'],
  ['commit', 'ID', path.join(w.dir, 'out.tar')],
];

test('ids that could leave --root or the data dir are refused by every verb, and nothing is made', () => {
  const b = w.bundle();
  const before = fs.readdirSync(w.dir).sort();
  for (const v of VERBS) {
    for (const id of BAD_IDS) {
      const args = v.map((a) => (a === 'BUNDLE' ? b : a));
      const full = args.includes('ID') ? args.map((a) => (a === 'ID' ? id : a)) : [...args, id];
      const r = w.tsrun(full);
      assert.notEqual(r.code, 0, `${full.join(' ')}`);
      assert.match(r.stderr, /^tsrun: invalid container id/, `${full.join(' ')}: ${r.stderr}`);
    }
  }
  assert.deepEqual(fs.readdirSync(w.dir).sort(), before, 'nothing new next to --root');
  assert.deepEqual(stateDirs(w.root), []);
});
