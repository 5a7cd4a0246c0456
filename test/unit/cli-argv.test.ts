import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinStdinValues, splitCommand } from '../../src/cli/argv';

test('joinStdinValues: "--resources -" and "-p -" become "--resources=-" and "-p=-" (containerd passes stdin so)', () => {
  assert.deepEqual(joinStdinValues(['--root', '/r', 'update', '--resources', '-', 'c1']), ['--root', '/r', 'update', '--resources=-', 'c1']);
  assert.deepEqual(joinStdinValues(['exec', '-p', '-', 'c1']), ['exec', '-p=-', 'c1']);
  assert.deepEqual(joinStdinValues(['update', '--resources=-', 'c1']), ['update', '--resources=-', 'c1']);
});

test('joinStdinValues: the command after the id is left alone', () => {
  const argv = splitCommand(['exec', 'c1', 'cat', '-n', '-']);
  assert.deepEqual(argv, ['exec', 'c1', '--', 'cat', '-n', '-']);
  assert.deepEqual(joinStdinValues(argv), argv);
});
