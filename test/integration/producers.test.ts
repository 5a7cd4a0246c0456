// Configs written by other tools (test/fixtures/producers/: runc spec, crun
// spec, runtime-tools, buildah, podman, containerd), run with runc and with
// tsrun on the busybox rootfs: what the container sees must be the same.
// runc is the reference: where it and tsrun differ on purpose, the difference
// is named below and taken out of the comparison.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { World, TSRUN } from '../helpers/tsrun';
import { Buildah } from '../helpers/buildah';
import { IMAGE } from '../helpers/clients';
import {
  PRODUCERS,
  PROBE,
  RUNC,
  copyRootfs,
  diffProbes,
  mountOverlay,
  parseProbe,
  removeCgroupTree,
  cgroupTreeLeft,
  runc,
  runcCleanup,
  NetnsHolder,
  type Probe,
  type Runtime,
} from '../helpers/producers';
import { umountUnder } from '../helpers/clients';

const w = new World('tsrun-test-producers');
// a user namespace's root (host uid 100000) must reach the rootfs under w.dir (mkdtemp made it 0700)
fs.chmodSync(w.dir, 0o711);
// every container's cgroup is under this parent, removed at the end
const CG = `tsrun-test-producers-${process.pid}`;

// the network namespace a config joins by path (podman's default network)
const netns = new NetnsHolder();
let netnsPath = '';

after(() => {
  try {
    netns.stop();
    runcCleanup(w);
    // the rootfs overlays (each run unmounts its own; this is for a run that threw) before w.dir is removed
    umountUnder(w.dir);
    w.cleanup(); // tsrun's containers (delete --force), then w.dir
  } finally {
    removeCgroupTree(CG);
  }
});

/**
 * How the producer's rootfs looked when it ran its runtime:
 * - dir: a plain directory in the bundle (runc spec, crun spec, oci-runtime-tool)
 * - overlay: a mount point, the overlay of the storage driver or snapshotter
 *   (buildah, podman, containerd), here an overlay of the busybox rootfs
 * - overlay-mapped: the same, on a copy owned by the user namespace's range
 *   (containerd chowns the snapshot of a --uidmap container to the mapped ids)
 */
type RootfsKind = 'dir' | 'overlay' | 'overlay-mapped';

interface Fixture {
  file: string;
  rootfs: RootfsKind;
}

const FIXTURES: Fixture[] = [
  { file: 'runc-spec.json', rootfs: 'dir' },
  { file: 'runc-spec-rootless.json', rootfs: 'dir' },
  { file: 'crun-spec.json', rootfs: 'dir' },
  { file: 'runtime-tools-generate.json', rootfs: 'dir' },
  { file: 'buildah-run.json', rootfs: 'overlay' },
  { file: 'podman-run.json', rootfs: 'overlay' },
  { file: 'podman-bridge.json', rootfs: 'overlay' },
  { file: 'containerd-run.json', rootfs: 'overlay' },
  { file: 'containerd-userns.json', rootfs: 'overlay-mapped' },
  { file: 'containerd-rshared.json', rootfs: 'overlay' },
];

const MAPPED_ID = 100000; // containerd-userns.json's hostID
let mappedLower = '';

/** The bundle of one fixture for one runtime, in its own dir (nothing shared between the two runs but the lower layer). */
function makeBundle(f: Fixture, rt: Runtime): { runDir: string; bundle: string; cgroupsPath: string } {
  const name = f.file.replace(/\.json$/, '');
  const runDir = path.join(w.dir, `${rt}-${name}`);
  const bundle = path.join(runDir, 'bundle');
  fs.mkdirSync(bundle, { recursive: true });
  const spec = JSON.parse(fs.readFileSync(path.join(PRODUCERS, f.file), 'utf8'));

  // root.path: kept when relative to the bundle (where the producer had it);
  // an absolute one is the producer's storage on its host, which does not exist here
  if (path.isAbsolute(spec.root.path)) spec.root.path = 'rootfs';
  const rootfs = path.join(bundle, spec.root.path);
  if (f.rootfs === 'dir') copyRootfs(rootfs);
  else {
    if (f.rootfs === 'overlay-mapped' && !mappedLower) {
      mappedLower = path.join(w.dir, 'lower-mapped');
      copyRootfs(mappedLower, MAPPED_ID);
    }
    mountOverlay(rootfs, path.join(runDir, 'layer'), f.rootfs === 'overlay-mapped' ? mappedLower : undefined);
  }

  // process.args: the probe instead of the producer's command
  spec.process.args = ['sh', '-c', PROBE];
  // process.terminal: a console needs a terminal on this side (runc spec and crun spec ask for one); the test has none
  spec.process.terminal = false;
  // cgroupsPath: under this test's parent, so that the test can remove what is left
  // (the producers' paths, or the runtime's default when there is none, are shared with other users of the host)
  spec.linux.cgroupsPath = `/${CG}/${rt}-${name}`;
  // bind mount sources the producer made on its host (/etc/hosts, /etc/hostname,
  // /etc/resolv.conf, /run/.containerenv, podman's /dev/shm dir) do not exist
  // here: the same kind of file (or dir) in the run dir
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    const bind = m.type === 'bind' || (m.options ?? []).some((o: string) => o === 'bind' || o === 'rbind');
    if (!bind || !path.isAbsolute(m.source) || fs.existsSync(m.source)) continue;
    const src = path.join(runDir, 'host', `${i}-${path.basename(m.source)}`);
    fs.mkdirSync(path.dirname(src), { recursive: true });
    if (m.destination === '/dev/shm') fs.mkdirSync(src);
    else fs.writeFileSync(src, path.basename(m.source) === 'hostname' ? `${spec.hostname ?? 'host'}\n` : path.basename(m.source) === 'hosts' ? '127.0.0.1 localhost\n' : '');
    m.source = src;
  }
  // namespace paths: the producer's namespace (podman's /run/netns/netns-...) is gone; one of the test's own
  for (const ns of spec.linux.namespaces ?? []) {
    if (!ns.path || fs.existsSync(ns.path)) continue;
    assert.equal(ns.type, 'network', `${f.file}: a ${ns.type} namespace path: the test makes only network namespaces`);
    ns.path = netnsPath;
  }
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
  return { runDir, bundle, cgroupsPath: spec.linux.cgroupsPath };
}

/**
 * Where tsrun differs from runc 1.1.5 on purpose.  Each rewrites the lines of
 * tsrun's view it names into what runc shows; everything else is compared
 * exactly.
 */
const INTENTIONAL: { why: string; apply: (tsrun: Probe, spec: any) => void }[] = [
  {
    why:
      'a cgroup mount with "ro" (runc spec, crun spec, podman): tsrun remounts the tmpfs at /sys/fs/cgroup read-only too ' +
      '(native-shim/src/rootfs.c mount_cgroup); runc 1.1.5 leaves that tmpfs writable, only the hierarchies under it are read-only',
    apply: (t) => {
      t.mounts = t.mounts?.map((l) => l.replace(/^(\/sys\/fs\/cgroup root=\/ )ro,(\S+ private tmpfs )ro,/, '$1rw,$2rw,'));
    },
  },
  {
    why:
      'on a hybrid host tsrun mounts every hierarchy the container is in under /sys/fs/cgroup, the cgroup2 one ' +
      'included (/sys/fs/cgroup/unified); runc 1.1.5 leaves cgroup2 out',
    apply: (t) => {
      t.mounts = t.mounts?.filter((l) => !l.startsWith('/sys/fs/cgroup/unified root=<cgroup> '));
    },
  },
  {
    why:
      "/dev/mqueue in a new user namespace (containerd-userns.json): the IPC namespace's mqueue root takes its creator's " +
      "ids; runc 1.1.5 makes the IPC namespace after setresuid(0) but not setresgid(0), so its group is the host's gid 0 " +
      "as the container sees it (65534 when unmapped); tsrun makes it once it is root in the namespace: 0:0 " +
      "(native-shim/src/main.c, unshare_ipcns)",
    apply: (t, spec) => {
      if (!spec.linux?.namespaces?.some((n: { type: string; path?: string }) => n.type === 'user' && !n.path)) return;
      const line = t.files?.find((l) => l.startsWith('/dev/mqueue '));
      assert.match(line ?? '', / 0:0 /, `tsrun's /dev/mqueue in a user namespace: ${line}`);
      const m = (spec.linux.gidMappings ?? []).find((g: { hostID: number; size: number }) => g.hostID <= 0 && 0 < g.hostID + g.size);
      const runcGid = m ? m.containerID - m.hostID : 65534;
      t.files = t.files?.map((l) => (l.startsWith('/dev/mqueue ') ? l.replace(' 0:0 ', ` 0:${runcGid} `) : l));
    },
  },
  {
    why:
      "rootfsPropagation (containerd-rshared.json): tsrun applies it to the container's / after pivot_root (the spec: it " +
      '"sets the rootfs\'s mount propagation"), so with rshared every mount the container sees is shared; runc 1.1.5 ' +
      "applies it to the new mount namespace's / before the pivot only, and the container's mounts end up private",
    apply: (t, spec) => {
      if (!/shared$/.test(spec.linux?.rootfsPropagation ?? '')) return;
      const root = t.mounts?.find((l) => l.startsWith('/ '));
      assert.equal(root?.split(' ')[3], 'shared', `tsrun's / with rootfsPropagation ${spec.linux.rootfsPropagation}: ${root}`);
      t.mounts = t.mounts?.map((l) => l.split(' ').map((x, i) => (i === 3 && x === 'shared' ? 'private' : x)).join(' '));
    },
  },
];

interface Seen {
  code: number;
  stderr: string;
  probe: Probe;
}

function runWith(f: Fixture, rt: Runtime): Seen {
  const { runDir, bundle, cgroupsPath } = makeBundle(f, rt);
  const id = `p-${f.file.replace(/\.json$/, '')}`;
  try {
    const r = rt === 'runc' ? runc(w, ['run', '--bundle', bundle, id]) : w.tsrun(['run', '--bundle', bundle, id], { timeout: 60000 });
    const probe = parseProbe(r.stdout, [
      [runDir, '<run>'],
      [cgroupsPath, '<cgroup>'],
    ]);
    return { code: r.code, stderr: r.stderr.trim(), probe };
  } finally {
    if (rt === 'runc') runc(w, ['delete', '--force', id]);
    else w.tsrun(['delete', '--force', id]);
    umountUnder(runDir);
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

test('every fixture in test/fixtures/producers is run below and says in README.md how it was made', () => {
  const files = fs.readdirSync(PRODUCERS).filter((n) => n.endsWith('.json')).sort();
  assert.deepEqual(FIXTURES.map((f) => f.file).sort(), files);
  const readme = fs.readFileSync(path.join(PRODUCERS, 'README.md'), 'utf8');
  for (const f of files) assert.match(readme, new RegExp(`^\\| ${f.replace(/\./g, '\\.')} \\|`, 'm'), `${f} in README.md's table`);
});

for (const f of FIXTURES) {
  test(`${f.file}: tsrun runs it and the container sees what it sees under runc`, async () => {
    netnsPath ||= await netns.path();
    const ref = runWith(f, 'runc');
    assert.equal(ref.code, 7, `runc ran ${f.file} (the probe exits 7): ${ref.stderr}`);
    assert.ok(ref.probe.status?.length && ref.probe.mounts?.length, `runc's probe output:\n${JSON.stringify(ref.probe)}`);
    const got = runWith(f, 'tsrun');
    assert.equal(got.code, 7, `tsrun run of ${f.file}: exit ${got.code}: ${got.stderr}`);
    const spec = JSON.parse(fs.readFileSync(path.join(PRODUCERS, f.file), 'utf8'));
    for (const d of INTENTIONAL) d.apply(got.probe, spec);
    const diff = diffProbes(ref.probe, got.probe);
    assert.equal(diff, '', `what the container sees under tsrun differs from runc (${f.file}):\n${diff}`);
    assert.deepEqual(cgroupTreeLeft(`${CG}/runc-${f.file.replace(/\.json$/, '')}`), [], 'runc removed its cgroup');
    assert.deepEqual(cgroupTreeLeft(`${CG}/tsrun-${f.file.replace(/\.json$/, '')}`), [], 'tsrun removed its cgroup');
  });
}

test('buildah bud with tsrun as its runtime builds the image it builds with runc', (t) => {
  const b = Buildah.setup();
  if (typeof b === 'string') {
    t.skip(b);
    return;
  }
  try {
    // two RUN steps, each a container of its own: the first writes a file and
    // shows what it sees, the second reads the file from the first one's layer
    const containerfile = [
      `FROM ${IMAGE}`,
      'RUN echo made > /made && grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status | sed "s/^/probe /" && echo "probe lo $(cat /sys/class/net/lo/flags)"',
      'RUN echo "probe read $(cat /made)" && cp /made /seen',
      '',
    ].join('\n');
    const viaRunc = b.bud(RUNC, 'runc', containerfile, 'localhost/via-runc');
    assert.equal(viaRunc.code, 0, `buildah bud --runtime runc: ${viaRunc.stderr}`);
    const viaTsrun = b.bud(TSRUN, 'tsrun', containerfile, 'localhost/via-tsrun');
    assert.equal(viaTsrun.code, 0, `buildah bud --runtime tsrun: ${viaTsrun.stderr}`);

    // what the RUN steps printed
    const probe = (out: string) => out.split('\n').filter((l) => l.startsWith('probe '));
    assert.ok(probe(viaRunc.stdout).includes('probe read made'), `runc's build output:\n${viaRunc.stdout}`);
    assert.ok(probe(viaRunc.stdout).some((l) => l.startsWith('probe CapEff:')), `runc's build output:\n${viaRunc.stdout}`);
    assert.deepEqual(probe(viaTsrun.stdout), probe(viaRunc.stdout), 'what the RUN steps saw');

    // the images: the files both steps wrote, as many layers
    const files = ['made', 'seen'];
    assert.deepEqual(b.readFiles('localhost/via-runc', files), { made: 'made\n', seen: 'made\n' });
    assert.deepEqual(b.readFiles('localhost/via-tsrun', files), { made: 'made\n', seen: 'made\n' });
    const layers = (img: string) => b.ok(['inspect', '--type', 'image', '--format', '{{len .OCIv1.RootFS.DiffIDs}}', img]).trim();
    assert.equal(layers('localhost/via-tsrun'), layers('localhost/via-runc'));

    // each RUN step's container was deleted
    for (const rt of ['runc', 'tsrun']) {
      const state = path.join(b.dir, `state-${rt}`);
      assert.deepEqual(fs.existsSync(state) ? fs.readdirSync(state).filter((n) => !n.startsWith('.')) : [], [], `${rt} state left`);
    }
  } finally {
    b.teardown();
  }
  assert.deepEqual(cgroupTreeLeft(b.cgroupParent.slice(1)), [], 'the RUN steps\' cgroup removed');
});
