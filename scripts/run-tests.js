#!/usr/bin/env node
// Runs the test suite with node's test runner: a snapshot of the machine
// (test/aa-leaks-baseline.test.ts), unit tests, integration tests, then the
// leak check (test/zz-leaks.test.ts) last, in one run so that
// the runner prints one summary.  `node scripts/run-tests.js unit` runs only
// the unit tests.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const top = path.resolve(__dirname, '..');
// `run-tests.js unit|integration`, or the test files to run (then no leak check)
const which = process.argv[2];
const given = process.argv.slice(2).filter((a) => a.endsWith('.js'));
function find(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? find(path.join(dir, e.name)) : e.name.endsWith('.test.js') ? [path.join(dir, e.name)] : []))
    .sort();
}
const unit = find(path.join(top, 'build/test/unit'));
const integration = find(path.join(top, 'build/test/integration'));
const baseline = path.join(top, 'build/test/aa-leaks-baseline.test.js');
const leaks = path.join(top, 'build/test/zz-leaks.test.js');
let files = which === 'unit' ? unit : which === 'integration' ? integration : [...unit, ...integration];
if (which !== 'unit') files = [baseline, ...files, leaks];
if (given.length > 0) files = given;

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS; // ~70 ms on every node start
// files run one after another, in this order, so the leak check sees the end state
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env,
  cwd: top,
});
process.exit(r.status ?? 1);
