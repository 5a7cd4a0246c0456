import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveStatus, type StatusFacts } from '../../src/runtime/status';
import { parseProcStat } from '../../src/runtime/proc';
import { validateId } from '../../src/runtime/id';
import { parseSignal } from '../../src/runtime/signals';

const live = { pid: 10, state: 'S', ppid: 1, startTime: 500 };
const base: StatusFacts = { pid: 10, pidStartTime: 500, proc: live, fifoExists: false, frozen: false, creatorAlive: false };

test('status: running, created (fifo), paused (frozen)', () => {
  assert.equal(deriveStatus(base), 'running');
  assert.equal(deriveStatus({ ...base, fifoExists: true }), 'created');
  assert.equal(deriveStatus({ ...base, frozen: true }), 'paused');
});

test('status: stopped when the pid is gone, a zombie, or reused by another process', () => {
  assert.equal(deriveStatus({ ...base, proc: null }), 'stopped');
  assert.equal(deriveStatus({ ...base, proc: { ...live, state: 'Z' } }), 'stopped');
  assert.equal(deriveStatus({ ...base, proc: { ...live, startTime: 501 } }), 'stopped');
  assert.equal(deriveStatus({ ...base, proc: { ...live, startTime: 501 }, fifoExists: true }), 'stopped');
});

test('status: creating while the creator lives, stopped after it died mid-create', () => {
  assert.equal(deriveStatus({ ...base, pid: 0, proc: null, creatorAlive: true }), 'creating');
  assert.equal(deriveStatus({ ...base, pid: 0, proc: null, creatorAlive: false }), 'stopped');
});

test('/proc/PID/stat parsing copes with spaces and parentheses in comm', () => {
  const line = '4242 (a) b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100';
  const p = parseProcStat(line);
  assert.equal(p.pid, 4242);
  assert.equal(p.state, 'S');
  assert.equal(p.ppid, 1);
  assert.equal(p.startTime, 987654);
});

test('container ids: accepted and refused', () => {
  for (const ok of ['a', 'abc-1', 'A_b.c+d', '0', 'x'.repeat(1024)]) assert.equal(validateId(ok), ok);
  for (const bad of ['', '.', '..', '../x', 'a/b', '/abs', '-x', '.hidden', 'a b', 'a\0b', 'x'.repeat(1025), 'é']) {
    assert.throws(() => validateId(bad), /invalid container id/, JSON.stringify(bad));
  }
});

test('signals by name, short name and number', () => {
  assert.equal(parseSignal('TERM'), 15);
  assert.equal(parseSignal('SIGKILL'), 9);
  assert.equal(parseSignal('kill'), 9);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal(undefined), 15);
  assert.equal(parseSignal('RTMIN+1'), 35);
  assert.throws(() => parseSignal('NOPE'), /invalid signal/);
  assert.equal(parseSignal('0'), 0, 'signal 0 checks existence, as in runc');
  assert.throws(() => parseSignal('65'), /invalid signal/);
});
