// Runs last (scripts/run-tests.js): after the whole suite, nothing of tsrun's
// that this run made may remain on the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { added, BASELINE, snapshot, TOP, type Snapshot } from './helpers/leaks';

test('no mounts, state dirs, cgroups or processes are left after the suite', () => {
  const empty: Snapshot = { mounts: [], tmp: [], procs: [], cgroups: [] };
  const before: Snapshot = fs.existsSync(BASELINE) ? JSON.parse(fs.readFileSync(BASELINE, 'utf8')) : empty;
  const left = added(before, snapshot());
  assert.deepEqual(left.mounts, [], 'mounts');
  assert.deepEqual(left.tmp, [], 'test worlds in the temp dir');
  assert.deepEqual(left.procs, [], 'shim processes');
  assert.deepEqual(left.cgroups, [], 'container cgroups');
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
