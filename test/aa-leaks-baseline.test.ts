// Runs first (scripts/run-tests.js): records what is on the machine before the
// suite, for test/zz-leaks.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { BASELINE, snapshot } from './helpers/leaks';

test('record the machine before the suite', () => {
  const s = snapshot();
  fs.mkdirSync(path.dirname(BASELINE), { recursive: true });
  fs.writeFileSync(BASELINE, JSON.stringify(s));
  assert.deepEqual(JSON.parse(fs.readFileSync(BASELINE, 'utf8')), s);
});
