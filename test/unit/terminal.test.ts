// The person at a terminal (issue 17): the detach keys (their syntax, the
// flag checks, the matcher that hides them from the container), and when
// run -d sends its output to the log by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detachKeys, parseDetachKeys } from '../../src/cli/terminal';
import { DEFAULT_DETACH_KEYS } from '../../src/cli/options';
import { logsByDefault } from '../../src/cli/commands/run';
import { DetachMatcher } from '../../src/runtime/console';
import { UsageError } from '../../src/errors';

const P = 0x10; // ctrl-p
const Q = 0x11; // ctrl-q

test('parseDetachKeys: docker\'s syntax; ctrl-p ctrl-q by default; "" turns detaching off', () => {
  assert.equal(DEFAULT_DETACH_KEYS, 'ctrl-p,ctrl-q');
  assert.deepEqual([...parseDetachKeys()], [P, Q]);
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [P, Q]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,d')], [0x01, 0x64]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')], [0, 27, 28, 29, 30, 31]);
  assert.deepEqual([...parseDetachKeys('CTRL-X,ctrl-Z')], [0x18, 0x1a], 'case does not matter: the terminal sends the same byte');
  assert.deepEqual([...parseDetachKeys('x')], [0x78]);
  assert.equal(parseDetachKeys('').length, 0);
});

test('parseDetachKeys: a key it does not know is refused, saying what to give', () => {
  for (const bad of ['ctrl-', 'ctrl-1', 'ctrl-pq', 'ab', 'ctrl-p,', ',ctrl-q', 'é', 'alt-x']) {
    assert.throws(
      () => parseDetachKeys(bad),
      (e: Error) => e instanceof UsageError && /^--detach-keys ".*": ".*" is not a key: give keys separated by commas, each ctrl-<a-z/.test(e.message),
      bad,
    );
  }
});

test('detachKeys: only for -ti in the foreground; --detach-keys elsewhere is refused', () => {
  assert.deepEqual([...detachKeys('run', { tty: true, interactive: true })!], [P, Q]);
  assert.deepEqual([...detachKeys('exec', { tty: true, interactive: true, 'detach-keys': 'ctrl-x' })!], [0x18]);
  assert.equal(detachKeys('run', { tty: true, interactive: true, 'detach-keys': '' })!.length, 0);
  // no terminal relayed by tsrun: no keys to read, nothing to detach
  assert.equal(detachKeys('run', {}), undefined);
  assert.equal(detachKeys('run', { tty: true }), undefined);
  assert.equal(detachKeys('exec', { tty: true, interactive: true, 'console-socket': '/s' }), undefined);
  for (const a of [{ 'detach-keys': 'ctrl-x' }, { tty: true, 'detach-keys': 'ctrl-x' }, { tty: true, interactive: true, detach: true, 'detach-keys': 'ctrl-x' }]) {
    assert.throws(() => detachKeys('run', a), /^UsageError: run: --detach-keys is for -ti in the foreground/);
  }
});

/** Feeds the chunks; returns what the container got and whether (after which chunk) it detached. */
function typed(keys: Buffer, chunks: number[][]): { got: number[]; detachedAt: number } {
  const m = new DetachMatcher(keys);
  const got: number[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const r = m.feed(Buffer.from(chunks[i]));
    got.push(...r.pass);
    if (r.detach) return { got, detachedAt: i };
  }
  return { got, detachedAt: -1 };
}

test('DetachMatcher: the whole sequence detaches and never reaches the container', () => {
  const k = Buffer.from([P, Q]);
  assert.deepEqual(typed(k, [[0x61, P, Q]]), { got: [0x61], detachedAt: 0 });
  // the keys in separate reads, as a person types them
  assert.deepEqual(typed(k, [[0x61], [P], [Q], [0x62]]), { got: [0x61], detachedAt: 2 });
  // what follows the sequence in the same read is dropped with it
  assert.deepEqual(typed(k, [[P, Q, 0x63]]), { got: [], detachedAt: 0 });
});

test('DetachMatcher: a partial sequence followed by other keys is passed on, in order', () => {
  const k = Buffer.from([P, Q]);
  // ctrl-p held back until the next key shows it is not the sequence
  const m = new DetachMatcher(k);
  assert.deepEqual([...m.feed(Buffer.from([0x61, P])).pass], [0x61], 'ctrl-p held');
  assert.deepEqual([...m.feed(Buffer.from([0x62])).pass], [P, 0x62], 'then passed on with what broke the sequence');
  // ctrl-p ctrl-p ctrl-q: the first ctrl-p is the person's, the rest detaches
  assert.deepEqual(typed(k, [[P], [P], [Q]]), { got: [P], detachedAt: 2 });
  assert.deepEqual(typed(k, [[P, 0x78, Q, P, 0x79]]), { got: [P, 0x78, Q, P, 0x79], detachedAt: -1 });
  // longer sequences: a broken prefix may begin the sequence again
  const abc = Buffer.from('aab', 'latin1');
  assert.deepEqual(typed(abc, [[...Buffer.from('aaab')]]), { got: [0x61], detachedAt: 0 });
  assert.deepEqual(typed(abc, [[...Buffer.from('aax')], [...Buffer.from('aab')]]), { got: [...Buffer.from('aax')], detachedAt: 1 });
});

test('DetachMatcher: no keys (--detach-keys "") pass everything on', () => {
  const r = typed(Buffer.alloc(0), [[P, Q], [P], [Q]]);
  assert.deepEqual(r, { got: [P, Q, P, Q], detachedAt: -1 });
});

test('logsByDefault: run -d with a terminal as stdout logs, unless told otherwise; engines (no terminal) keep runc\'s stdio', () => {
  assert.equal(logsByDefault({ detach: true }, true), true);
  assert.equal(logsByDefault({ detach: true }, false), false, 'a pipe or a file: inherited, as from runc');
  assert.equal(logsByDefault({}, true), false, 'the foreground prints');
  assert.equal(logsByDefault({ detach: true, logs: true }, true), false, '--logs itself');
  assert.equal(logsByDefault({ detach: true, 'console-socket': '/s' }, true), false, 'the terminal goes to the console socket');
  assert.equal(logsByDefault({ detach: true, tty: true }, true), false, 'a terminal cannot be logged');
});
