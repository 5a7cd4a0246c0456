// Rootless podman with tsrun as its runtime: a user of the test's own runs
// `podman --runtime <repo>/bin/tsrun` with podman's rootless storage in its
// home, a local busybox image (no registry), --network none.  podman runs
// conmon and the runtime as uid 0 of its own user namespace (the user mapped
// to 0, its /etc/subuid range to 1...), with no user namespace in
// config.json: tsrun is rootless there (no cgroups) and keeps its state in
// $XDG_RUNTIME_DIR/tsrun.  Skipped only when podman cannot run rootless here
// with runc either.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { FIXTURES, IMAGE, PODMAN_PACKAGES, ensurePackages, writePodmanConfig } from '../helpers/clients';
import { alive, mountsMentioning } from '../helpers/leftovers';
import { TestUser } from '../helpers/testuser';
import { TSRUN, World, type Result } from '../helpers/tsrun';

const isRoot = process.geteuid?.() === 0;
const skip = isRoot ? ensurePackages([...PODMAN_PACKAGES, 'uidmap']) : 'needs root (to make the user)';
if (skip) process.stderr.write(`# skipping the rootless podman tests: ${skip}\n`);

const RUNC = '/usr/sbin/runc';
// podman waits up to 20 s for conmon when the host's init does not reap it: generous limits
const PODMAN_TIMEOUT = 180000;

describe('rootless podman with tsrun as the runtime', { skip }, () => {
  let w: World;
  let u: TestUser;
  let conf: Record<string, string>;
  let cannot: string | undefined;
  let torn = false;

  /** podman as the user, with its private config, --runtime given */
  const podman = (runtime: string, args: string[]): Result => u.run(['podman', '--runtime', runtime, ...args], { env: conf, timeout: PODMAN_TIMEOUT });
  const ok = (args: string[]): string => {
    const r = podman(TSRUN, args);
    assert.equal(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const inspect = (name: string, format: string) => ok(['inspect', '--format', format, name]).trim();
  const stateRoot = () => path.join(u.runDir, 'tsrun');
  /** container state dirs tsrun keeps for the user */
  const states = () => (fs.existsSync(stateRoot()) ? fs.readdirSync(stateRoot()).filter((n) => !n.startsWith('.')) : []);
  const conmons = () => u.pids().filter((p) => p.comm === 'conmon' || p.comm.startsWith('tsrun'));

  before(() => {
    w = new World('tsrun-test-rlpodman');
    // the user reaches its home, and this checkout's tsrun, node and shim
    fs.chmodSync(w.dir, 0o711);
    u = new TestUser(w.dir, 'tsrp').create();
    const P = path.join(u.home, 'podman');
    fs.mkdirSync(P);
    // rootless: graphroot and runroot are not read, rootless_storage_path is (runroot: $XDG_RUNTIME_DIR/containers)
    conf = writePodmanConfig(P, { storage: `rootless_storage_path = "${P}/storage"` });
    const mk = spawnSync('sh', [path.join(FIXTURES, 'make-rootfs.sh'), path.join(u.home, 'rootfs')], { encoding: 'utf8' });
    assert.equal(mk.status, 0, mk.stderr);
    u.own(u.home);
    const imp = u.run(['podman', 'import', '--change', 'CMD ["/bin/sh"]', path.join(u.home, 'rootfs.tar'), IMAGE], { env: conf, timeout: PODMAN_TIMEOUT });
    assert.equal(imp.code, 0, `podman import as ${u.name}: ${imp.stderr}`);
    // podman itself must run rootless here: with runc first
    const r = podman(RUNC, ['run', '--rm', '--network', 'none', IMAGE, 'true']);
    if (r.code !== 0) cannot = `podman cannot run rootless here even with runc: ${r.stderr.trim().split('\n').at(-1)}`;
  });

  after(() => {
    if (u && !torn) {
      podman(TSRUN, ['rm', '--all', '--force', '--time', '0']);
      u.run(['podman', 'system', 'reset', '--force'], { env: conf, timeout: PODMAN_TIMEOUT });
      u.remove();
    }
    w?.cleanup();
  });

  test('run --rm prints, its uid 0 is the user (and its subuid range), nothing of it is left', (t) => {
    if (cannot) return t.skip(cannot);
    const r = podman(TSRUN, ['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'echo hi; id -u; cat /proc/self/uid_map /proc/self/gid_map']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines, ['hi', '0', `0 ${u.uid} 1`, `1 ${u.subuid.start} ${u.subuid.size}`, `0 ${u.gid} 1`, `1 ${u.subgid.start} ${u.subgid.size}`]);
    assert.equal(ok(['ps', '-a', '-q']).trim(), '');
    assert.deepEqual(states(), [], `tsrun state left in ${stateRoot()}`);
    assert.equal(podman(TSRUN, ['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'exit 3']).code, 3);
  });

  test('run -d, exec, stop (SIGTERM reaches the process), rm: state in the user dirs, then nothing left', (t) => {
    if (cannot) return t.skip(cannot);
    const n = 'tsrun-rl-box';
    const id = ok(['run', '-d', '--name', n, '--network', 'none', IMAGE, 'sh', '-c', 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done']).trim();
    try {
      assert.equal(inspect(n, '{{.State.Status}}'), 'running');
      // tsrun's state for podman's container: in the user's $XDG_RUNTIME_DIR, its own
      assert.deepEqual(states(), [id]);
      assert.equal(fs.statSync(path.join(stateRoot(), id)).uid, u.uid);
      assert.ok(!fs.existsSync(path.join('/run/tsrun', id)), "not in root's /run/tsrun");
      // the init is the user's process on the host
      const pid = Number(inspect(n, '{{.State.Pid}}'));
      assert.equal(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1], String(u.uid));
      const out = ok(['exec', '-e', 'FOO=bar', '-w', '/tmp', n, 'sh', '-c', 'echo $FOO $(pwd) $(id -u); cat /proc/self/uid_map; cat /proc/1/comm']);
      assert.deepEqual(
        out.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')),
        ['bar /tmp 0', `0 ${u.uid} 1`, `1 ${u.subuid.start} ${u.subuid.size}`, 'sh'],
      );
      assert.equal(podman(TSRUN, ['exec', n, 'sh', '-c', 'exit 5']).code, 5);
      // a uid of the subuid range (mapped through newuidmap by podman)
      const sub = ok(['exec', '-u', '1000', n, 'sh', '-c', 'id -u; sleep 0.1']).trim();
      assert.equal(sub, '1000');
      ok(['stop', '-t', '60', n]);
      assert.equal(inspect(n, '{{.State.ExitCode}}'), '7', 'the trap ran: SIGTERM reached the process');
      assert.ok(!alive(pid), 'the process is gone');
      ok(['rm', n]);
      assert.equal(podman(TSRUN, ['inspect', n]).code, 125);
      assert.deepEqual(states(), [], `tsrun state left in ${stateRoot()}`);
      assert.deepEqual(conmons(), [], 'no conmon or tsrun of the user left');
    } finally {
      podman(TSRUN, ['rm', '-f', '-t', '0', n]);
    }
  });

  test('rm -f of a running container ends it and leaves nothing', (t) => {
    if (cannot) return t.skip(cannot);
    const n = 'tsrun-rl-rm';
    // sleep as pid 1 ignores SIGTERM: -t 0 kills it at once
    const id = ok(['run', '-d', '--name', n, '--network', 'none', IMAGE, 'sleep', '1000']).trim();
    const pid = Number(inspect(n, '{{.State.Pid}}'));
    assert.ok(alive(pid));
    ok(['rm', '-f', '-t', '0', n]);
    assert.equal(podman(TSRUN, ['inspect', n]).code, 125);
    assert.ok(!alive(pid), 'process gone');
    assert.ok(!fs.existsSync(path.join(stateRoot(), id)), 'tsrun state removed');
    assert.deepEqual(conmons(), []);
  });

  test('teardown: podman system reset, the user removed: no process, mount or file of it left', (t) => {
    if (cannot) return t.skip(cannot);
    const r = u.run(['podman', 'system', 'reset', '--force'], { env: conf, timeout: PODMAN_TIMEOUT });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!fs.existsSync(path.join(u.home, 'podman', 'storage', 'overlay-containers')) || fs.readdirSync(path.join(u.home, 'podman', 'storage', 'overlay-containers')).length === 0);
    // podman's pause process (it holds podman's user namespace) is the one process left, by design
    assert.deepEqual(u.pids().filter((p) => p.comm !== 'catatonit'), []);
    const home = u.home;
    u.remove();
    torn = true;
    assert.deepEqual(u.pids(), []);
    assert.deepEqual(mountsMentioning(home), []);
    assert.ok(!fs.existsSync(home));
    assert.ok(!fs.readFileSync('/etc/subuid', 'utf8').includes(`${u.name}:`));
    assert.equal(spawnSync('id', [u.name]).status, 1, 'the user is gone');
  });
});
