import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFast } from '../../src/cli/fast';
import { buildParser } from '../../src/cli/main';
import { commands } from '../../src/cli/commands';
import { preparedArgv, trailingCommand } from '../../src/cli/argv';

/** What yargs hands the verb's handler for argv: its kebab-case keys (aliases and camelCase dropped). */
async function viaYargs(argv: string[]): Promise<Record<string, unknown>> {
  let got: Record<string, unknown> | undefined;
  const cmds = commands.map((c) => ({ ...c, handler: (a: Record<string, unknown>) => void (got = a) }));
  const split = preparedArgv(argv);
  await buildParser(split, cmds).parseAsync(split);
  assert.ok(got, `yargs called no handler for ${JSON.stringify(argv)}`);
  return normalize(got);
}

function normalize(a: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const aliases = new Set(['b', 'f', 'a', 'd', 'v', 'h', '$0', '_', 'command']);
  for (const [k, v] of Object.entries(a)) {
    // an empty variadic positional (rm's more-ids) is as absent
    if (aliases.has(k) || k.length === 1 || /[A-Z]/.test(k) || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  const cmd = trailingCommand(a as never);
  if (cmd) out.command = cmd;
  out.verb = String((a._ as unknown[])[0]);
  return out;
}

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
    ['create', 'c1', 'c2'],
    ['create', '--preserve-fds', 'x', 'c1'],
    ['run', '--bundle'],
    ['run', '--', 'c1'],
    ['list'],
    ['foo'],
    ['stat', 'c1'],
    ['kill', 'c1', '-9'],
    ['create', '--pid-file', '-', 'c1'], // "-" goes through joinStdinValues
    ['create', '--no-pivot=true', 'c1'],
    ['constructor', 'c1'],
  ];
  for (const argv of fallBack) assert.equal(parseFast(argv), undefined, JSON.stringify(argv));
});

test('fast path and yargs hand the handler the same arguments', async () => {
  const lines = [
    ['state', 'c1'],
    ['--root', '/r', 'start', 'c1'],
    ['--root=/r', '--log', '/l', '--log-format=json', '--systemd-cgroup', 'kill', 'c1', 'KILL'],
    ['kill', '-a', 'c1'],
    ['delete', 'c1', '-f'],
    ['rm', '--force', 'c1'],
    ['--debug', 'state', 'c1', '--root', '/r', '--data-dir', '/d', '--rootless', 'true'],
    ['--root', '/run/x', '--log', '/tmp/l', '--log-format', 'json', 'delete', '--force', 'abc'],
    ['create', 'c1'],
    ['--root', '/r', 'create', '--bundle', '/b', '--pid-file', '/p', '--console-socket', '/s', '--preserve-fds', '2', 'c1'],
    ['create', '-b', '/b', 'c1', '--preserve-fds=3'],
    ['create', 'c1', '--bundle=/b'],
    ['run', '-b', '/b', 'c1'],
    ['run', '-d', '--bundle', '/b', '--pid-file', '/p', 'c1'],
    ['run', '-b', '/b', 'c1', 'sh', '-c', 'echo hi; exit 3'],
    ['run', '-b', '/b', 'c1', 'ls', '--root', '-d'],
    ['--criu', '/usr/sbin/criu', 'create', '--no-pivot', '--no-new-keyring', 'c1'],
    ['run', '--no-pivot', '-d', 'c1'],
    // containerd's and conmon's exec, and a person's
    ['--root', '/r', '--log', '/l', '--log-format', 'json', 'exec', '--process', '/tmp/p.json', '--detach', '--pid-file', '/p', 'c1'],
    ['exec', '--pid-file', '/p', '--process', '/tmp/p.json', '--detach', '--console-socket', '/s', 'c1'],
    ['exec', 'c1', 'true'],
    ['exec', '-t', '--cwd', '/tmp', '-u', '1:2', 'c1', 'sh', '-c', 'echo hi'],
    ['exec', 'c1', 'ls', '-la', '--root', '/x'],
  ];
  for (const argv of lines) {
    const fast = parseFast(argv);
    assert.ok(fast, `the fast path takes ${JSON.stringify(argv)}`);
    const mine = normalize(fast.args);
    assert.deepEqual({ ...mine, verb: mine.verb === 'rm' ? 'delete' : mine.verb }, { ...(await viaYargs(argv)), verb: fast.verb }, JSON.stringify(argv));
  }
});
