// Runs last (scripts/run-tests.js): after the whole suite, nothing of tsrun's
// that this run made may remain on the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import { added, BASELINE, snapshot, type Snapshot } from './helpers/leaks';

test('no mounts, state dirs, cgroups or processes are left after the suite', () => {
  const empty: Snapshot = { mounts: [], tmp: [], procs: [], cgroups: [] };
  const before: Snapshot = fs.existsSync(BASELINE) ? JSON.parse(fs.readFileSync(BASELINE, 'utf8')) : empty;
  const left = added(before, snapshot());
  assert.deepEqual(left.mounts, [], 'mounts');
  assert.deepEqual(left.tmp, [], 'test worlds in the temp dir');
  assert.deepEqual(left.procs, [], 'shim processes');
  assert.deepEqual(left.cgroups, [], 'container cgroups');
});
