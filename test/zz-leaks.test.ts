// Runs last (scripts/run-tests.js): after the whole suite, nothing of tsrun's
// may remain on the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const TOP = path.resolve(__dirname, '..', '..');

test('no mounts, state dirs, cgroups or processes are left after the suite', () => {
  // under scripts/run-tests.js the temp dir is this run's own: what another checkout mounts is not ours
  const ours = (l: string) => os.tmpdir() === '/tmp' || l.includes(os.tmpdir()) || l.includes(TOP);
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => /tsrun/.test(l) && ours(l));
  assert.deepEqual(mounts, [], 'mounts');
  const tmp = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('tsrun-test'));
  assert.deepEqual(tmp, [], 'test worlds in the temp dir');
  let procs = '';
  try {
    // this checkout's shim (its argv[0] survives the re-exec from a memfd)
    procs = execFileSync('pgrep', ['-a', '-f', `^${path.join(TOP, 'native-shim/build/tsrun-shim')}`], { encoding: 'utf8' });
  } catch {
    procs = '';
  }
  assert.equal(procs.trim(), '', 'shim processes');
  const cgroups: string[] = [];
  for (const c of fs.readdirSync('/sys/fs/cgroup')) {
    const d = `/sys/fs/cgroup/${c}`;
    try {
      // the shared parent "tsrun" may stay (as runc leaves its parents); container cgroups may not
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const sub = fs.readdirSync(`${d}/${e.name}`, { withFileTypes: true }).filter((x) => x.isDirectory());
        if (/tsrun/.test(e.name)) cgroups.push(...sub.map((x) => `${d}/${e.name}/${x.name}`));
        else cgroups.push(...sub.filter((x) => /tsrun/.test(x.name)).map((x) => `${d}/${e.name}/${x.name}`));
      }
    } catch {
      /* not a hierarchy */
    }
  }
  assert.deepEqual(cgroups, [], 'container cgroups');
});

test('no tsrun processes of this checkout and no write layers of test worlds are left', () => {
  let procs = '';
  try {
    procs = execFileSync('pgrep', ['-a', '-f', `${path.join(TOP, 'dist', 'tsrun.js')}|${path.join(TOP, 'bin', 'tsrun')}`], { encoding: 'utf8' });
  } catch {
    procs = '';
  }
  assert.equal(procs.trim(), '', 'tsrun processes (a hung create, run or exec)');
  // write layers in the default data dir owned by a test world's --root
  const dir = '/var/lib/tsrun/containers';
  const layers = (fs.existsSync(dir) ? fs.readdirSync(dir) : []).filter((id) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, id, 'owner'), 'utf8')).root.startsWith(os.tmpdir());
    } catch {
      return false;
    }
  });
  assert.deepEqual(layers, [], 'write layers of test containers');
});
