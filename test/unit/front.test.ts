import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinNegativeValues, leadingRunFlags, splitCommand } from '../../src/cli/argv';
import { applyOverrides, formatCpuList, overrideFrom, parseCpuList } from '../../src/cli/overrides';
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
  applyOverrides(s, { memory: '64m', cpus: '1.5', 'cpu-shares': '512', 'cpuset-cpus': '0-1', 'pids-limit': '20' }, { cpus: [0, 1] });
  assert.deepEqual(s.linux!.resources, {
    memory: { limit: 64 * 1024 * 1024 },
    cpu: { period: 100000, quota: 150000, shares: 512, cpus: '0-1' },
    pids: { limit: 20 },
  });
});

test('overrides: bad values say what to give; no flag, no hook', () => {
  assert.throws(() => applyOverrides(base(), { user: 'bob' }), /--user "bob": give a numeric uid\[:gid\]/);
  assert.throws(() => applyOverrides(base(), { cwd: 'x' }), /--cwd "x": give an absolute path/);
  assert.throws(() => applyOverrides(base(), { cpus: '-1' }), /--cpus "-1": give a positive number/);
  assert.throws(() => applyOverrides(base(), { memory: '12q' }), /--memory: invalid size "12q"/);
  assert.throws(() => applyOverrides(base(), { env: ['=x'] }), /-e "=x": expected KEY=VALUE/);
  assert.throws(() => applyOverrides(base(), { volume: ['/only'] }), /-v "\/only": expected HOST:CONTAINER/);
  assert.equal(overrideFrom({ env: [], volume: [], tty: false }), undefined);
  assert.equal(typeof overrideFrom({ memory: '1g' }), 'function');
});

test('overrides: resource flags are checked against the host before anything is made, one line each saying what to give', () => {
  const host = { cpus: [0, 1] };
  const refused: [Parameters<typeof applyOverrides>[1], string][] = [
    [{ memory: '64' }, '--memory "64": 64 bytes is below the minimum of 1 MiB (1m) (a size without a unit is in bytes: 64m is 64 MiB)'],
    [{ memory: '512k' }, '--memory "512k": 524288 bytes is below the minimum of 1 MiB (1m)'],
    [{ memory: '-5m' }, '--memory "-5m": give a positive size, e.g. 64m or 1g'],
    [{ cpus: '1e9' }, '--cpus "1e9": this machine has 2 CPUs online: give at most 2'],
    [{ cpus: '3' }, '--cpus "3": this machine has 2 CPUs online: give at most 2'],
    [{ cpus: 'abc' }, '--cpus "abc": give a positive number of CPUs, e.g. 1.5'],
    [{ cpus: '0.001' }, '--cpus "0.001": give at least 0.01 (the kernel\'s smallest quota is 1 ms of every 100 ms)'],
    [{ 'cpuset-cpus': '99' }, '--cpuset-cpus "99": CPU 99 is not online here: give some of 0-1'],
    [{ 'cpuset-cpus': '1,5-7' }, '--cpuset-cpus "1,5-7": CPU 5-7 are not online here: give some of 0-1'],
    [{ 'cpuset-cpus': '1-0' }, '--cpuset-cpus "1-0": give CPU numbers and ranges, e.g. 0-1,3'],
    [{ 'pids-limit': '-5' }, '--pids-limit "-5": give a positive whole number of processes (or -1 for no limit)'],
    [{ 'pids-limit': '0' }, '--pids-limit "0": give a positive whole number of processes (or -1 for no limit)'],
    [{ 'pids-limit': '2.5' }, '--pids-limit "2.5": give a positive whole number of processes (or -1 for no limit)'],
    [{ 'cpu-shares': 'lots' }, '--cpu-shares "lots": give a whole number from 2 to 262144 (1024 is the default weight)'],
  ];
  for (const [flags, msg] of refused) {
    const s = base();
    assert.throws(() => applyOverrides(s, flags, host), (e: Error) => e.message === msg, JSON.stringify(flags));
    assert.equal(s.linux!.resources, undefined, `${JSON.stringify(flags)}: nothing changed`);
  }
  const s = base();
  applyOverrides(s, { memory: '1m', cpus: '2', 'cpuset-cpus': '1', 'pids-limit': '-1' }, host);
  assert.deepEqual(s.linux!.resources, { memory: { limit: 1024 * 1024 }, cpu: { period: 100000, quota: 200000, cpus: '1' }, pids: { limit: -1 } });
});

test('cpu lists: parsed and written as the kernel does', () => {
  assert.deepEqual(parseCpuList('0-2,4'), [0, 1, 2, 4]);
  assert.deepEqual(parseCpuList(' 3 \n'), [3]);
  for (const bad of ['', 'x', '1-', '2-1', '1,,2', '-1']) assert.equal(parseCpuList(bad), undefined, bad);
  assert.equal(formatCpuList([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
});

test('argv: a negative-looking value is joined to its flag; run flags after the id are found', () => {
  assert.deepEqual(joinNegativeValues(['run', '-m', '-5m', '--pids-limit', '-1', 'c1', '--', 'sh']), ['run', '--memory=-5m', '--pids-limit=-1', 'c1', '--', 'sh']);
  assert.deepEqual(joinNegativeValues(['--root', '-x', 'run', '-e', '-1', 'c1']), ['--root', '-x', 'run', '--env=-1', 'c1'], 'the verb is found past a global flag\'s value');
  assert.deepEqual(joinNegativeValues(['run', 'c1', '--', 'sh', '-m', '-5']), ['run', 'c1', '--', 'sh', '-m', '-5'], 'the command is left alone');
  assert.deepEqual(joinNegativeValues(['state', '-m', '-5']), ['state', '-m', '-5'], 'not a flag of the verb: yargs says so');
  assert.equal(leadingRunFlags(['-b', 'B', 'echo', 'hi']), 2);
  assert.equal(leadingRunFlags(['-ti', '-e', 'A=1', '--cpus=1', '-d', 'sh']), 5);
  assert.equal(leadingRunFlags(['echo', '-b', 'B']), 0, 'flags of the command itself');
  assert.equal(leadingRunFlags(['-l']), 0, 'not a flag of run');
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
