import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommand } from '../../src/cli/argv';
import { applyOverrides, overrideFrom } from '../../src/cli/overrides';
import { timeAgo } from '../../src/cli/humantime';
import { generateId, validateId } from '../../src/runtime/id';
import type { Spec } from '../../src/spec/types';

test('splitCommand: runc form, the id ends the flags', () => {
  assert.deepEqual(splitCommand(['run', '-b', 'B', 'c1', 'sh', '-c', 'x']), ['run', '-b', 'B', 'c1', '--', 'sh', '-c', 'x']);
  assert.deepEqual(splitCommand(['--root', '/r', 'run', '-e', 'A=1', '-v', '/a:/b', '-m', '1g', 'c1', 'ls']), [
    '--root', '/r', 'run', '-e', 'A=1', '-v', '/a:/b', '-m', '1g', 'c1', '--', 'ls',
  ]);
  assert.deepEqual(splitCommand(['create', '--bundle', 'B', '--pid-file', 'p', 'c1']), ['create', '--bundle', 'B', '--pid-file', 'p', 'c1']);
});

test('splitCommand: with --name every word is the command; "--" or nothing leaves the id to tsrun', () => {
  assert.deepEqual(splitCommand(['run', '--name', 'web', '-d', 'httpd', '-f']), ['run', '--name', 'web', '-d', '--', 'httpd', '-f']);
  assert.deepEqual(splitCommand(['run', '--name=web', 'echo', 'hi']), ['run', '--name=web', '--', 'echo', 'hi']);
  assert.deepEqual(splitCommand(['run', '-ti', '--', 'sh']), ['run', '-ti', '--', 'sh']);
  assert.deepEqual(splitCommand(['run', '-d', '-b', 'B']), ['run', '-d', '-b', 'B']);
  // run: runc's rule, what follows the id is the command even if it starts with "-";
  // create: a flag right after the id is a misplaced flag (yargs takes or refuses it)
  assert.deepEqual(splitCommand(['run', 'c1', '-d']), ['run', 'c1', '--', '-d']);
  assert.deepEqual(splitCommand(['create', 'c1', '--nosuch']), ['create', 'c1', '--nosuch']);
  // after the command's first word everything is the command's
  assert.deepEqual(splitCommand(['run', 'c1', 'ls', '--name', 'x']), ['run', 'c1', '--', 'ls', '--name', 'x']);
});

const base = (): Spec =>
  ({
    ociVersion: '1.2.0',
    process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['sh'], env: ['PATH=/bin', 'A=old'] },
    root: { path: 'rootfs' },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
  }) as Spec;

test('overrides: process fields, env merged by key, volumes made absolute, a UTS namespace for --hostname', () => {
  const s = base();
  process.env.TSRUN_FRONT_TEST = 'from-here';
  applyOverrides(s, {
    env: ['A=new', 'B=2', 'TSRUN_FRONT_TEST', 'UNSET_HERE_X'],
    cwd: '/tmp',
    user: '1000:1001',
    args: ['echo', 'hi'],
    volume: ['rel/dir:/data:ro', '/abs:/x'],
    hostname: 'h1',
    volatile: true,
    tty: true,
    consoleSize: { height: 30, width: 100 },
  });
  assert.deepEqual(s.process!.env, ['PATH=/bin', 'A=new', 'B=2', 'TSRUN_FRONT_TEST=from-here']);
  assert.equal(s.process!.cwd, '/tmp');
  assert.deepEqual(s.process!.user, { uid: 1000, gid: 1001 });
  assert.deepEqual(s.process!.args, ['echo', 'hi']);
  assert.equal(s.process!.terminal, true);
  assert.deepEqual(s.process!.consoleSize, { height: 30, width: 100 });
  assert.deepEqual(s.tsrun!.volumes, [`${process.cwd()}/rel/dir:/data:ro`, '/abs:/x']);
  assert.equal(s.hostname, 'h1');
  assert.equal(s.tsrun!.volatile, true);
  assert.deepEqual(s.linux!.namespaces!.map((n) => n.type), ['pid', 'mount', 'uts']);
});

test('overrides: resources', () => {
  const s = base();
  applyOverrides(s, { memory: '64m', cpus: 1.5, 'cpu-shares': 512, 'cpuset-cpus': '0-1', 'pids-limit': 20 });
  assert.deepEqual(s.linux!.resources, {
    memory: { limit: 64 * 1024 * 1024 },
    cpu: { period: 100000, quota: 150000, shares: 512, cpus: '0-1' },
    pids: { limit: 20 },
  });
});

test('overrides: bad values say what to give; no flag, no hook', () => {
  assert.throws(() => applyOverrides(base(), { user: 'bob' }), /--user "bob": give a numeric uid\[:gid\]/);
  assert.throws(() => applyOverrides(base(), { cwd: 'x' }), /--cwd "x": give an absolute path/);
  assert.throws(() => applyOverrides(base(), { cpus: -1 }), /--cpus -1: give a positive number/);
  assert.throws(() => applyOverrides(base(), { memory: '12q' }), /--memory: invalid size "12q"/);
  assert.throws(() => applyOverrides(base(), { env: ['=x'] }), /-e "=x": expected KEY=VALUE/);
  assert.throws(() => applyOverrides(base(), { volume: ['/only'] }), /-v "\/only": expected HOST:CONTAINER/);
  assert.equal(overrideFrom({ env: [], volume: [], tty: false }), undefined);
  assert.equal(typeof overrideFrom({ memory: '1g' }), 'function');
});

test('timeAgo: docker-like words', () => {
  const now = new Date('2026-01-10T12:00:00Z');
  const ago = (s: number) => timeAgo(new Date(now.getTime() - s * 1000), now);
  assert.equal(ago(0), 'Less than a second ago');
  assert.equal(ago(5), '5 seconds ago');
  assert.equal(ago(70), 'About a minute ago');
  assert.equal(ago(150), '2 minutes ago');
  assert.equal(ago(3700), 'About an hour ago');
  assert.equal(ago(5 * 3600), '5 hours ago');
  assert.equal(ago(3 * 86400), '3 days ago');
  assert.equal(timeAgo('2026-01-10T11:57:59.123456789Z', now), '2 minutes ago', 'RFC 3339 with nanoseconds');
});

test('generateId: 12 hex digits, valid, different each time', () => {
  const a = generateId();
  assert.match(a, /^[0-9a-f]{12}$/);
  assert.equal(validateId(a), a);
  assert.notEqual(generateId(), a);
});
