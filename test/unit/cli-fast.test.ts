import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFast } from '../../src/cli/fast';

const defaults = { root: '/run/tsrun', 'data-dir': '/var/lib/tsrun', 'log-format': 'text' };

test('fast path: the plain shapes of state/start/kill/delete parse as yargs would', () => {
  assert.deepEqual(parseFast(['state', 'c1']), { verb: 'state', args: { ...defaults, 'container-id': 'c1', _: ['state'] } });
  assert.deepEqual(parseFast(['--root', '/r', 'start', 'c1']), {
    verb: 'start',
    args: { ...defaults, root: '/r', 'container-id': 'c1', _: ['start'] },
  });
  assert.deepEqual(parseFast(['--root=/r', '--log', '/l', '--log-format=json', '--systemd-cgroup', 'kill', 'c1', 'KILL']), {
    verb: 'kill',
    args: { ...defaults, root: '/r', log: '/l', 'log-format': 'json', 'systemd-cgroup': true, 'container-id': 'c1', signal: 'KILL', _: ['kill'] },
  });
  assert.deepEqual(parseFast(['kill', '--all', 'c1']), { verb: 'kill', args: { ...defaults, all: true, 'container-id': 'c1', _: ['kill'] } });
  assert.deepEqual(parseFast(['delete', 'c1', '-f']), { verb: 'delete', args: { ...defaults, force: true, 'container-id': 'c1', _: ['delete'] } });
  assert.deepEqual(parseFast(['rm', '--force', 'c1']), { verb: 'delete', args: { ...defaults, force: true, 'container-id': 'c1', _: ['rm'] } });
  // global flags after the verb (yargs' global options)
  assert.deepEqual(parseFast(['state', 'c1', '--root', '/r', '--debug']), {
    verb: 'state',
    args: { ...defaults, root: '/r', debug: true, 'container-id': 'c1', _: ['state'] },
  });
  // podman's call: --root ... --log ... --log-format json --systemd-cgroup delete --force ID
  assert.equal(parseFast(['--root', '/run/x', '--log', '/tmp/l', '--log-format', 'json', 'delete', '--force', 'abc'])?.verb, 'delete');
});

test('fast path: everything else goes to yargs (its messages stay the same)', () => {
  const fallBack = [
    [],
    ['state'], // missing id
    ['state', 'a', 'b'], // extra argument
    ['kill', 'a', 'KILL', 'x'],
    ['start', '--help'],
    ['--help'],
    ['-v'],
    ['--version'],
    ['state', 'c1', '--bogus'],
    ['state', 'c1', '--force'], // a flag of another verb
    ['-f', 'delete', 'c1'], // a verb flag before the verb
    ['delete', '-af', 'c1'],
    ['state', '--', 'c1'],
    ['--root', 'a', '--root', 'b', 'state', 'c1'], // repeated flag
    ['--debug', '--debug', 'state', 'c1'],
    ['--root', 'state', 'c1'].slice(0, 1), // --root without a value
    ['--root', '-x', 'state', 'c1'],
    ['--log-format', 'xml', 'state', 'c1'], // not a choice
    ['--debug=false', 'state', 'c1'],
    ['create', 'c1'],
    ['run', 'c1'],
    ['list'],
    ['foo'],
    ['stat', 'c1'],
    ['kill', 'c1', '-9'],
    ['constructor', 'c1'],
  ];
  for (const argv of fallBack) assert.equal(parseFast(argv), undefined, JSON.stringify(argv));
});
