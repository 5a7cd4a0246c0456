// A person's first hour with tsrun (issue 17): what went wrong or said too
// little at a terminal.  stop of a container that goes away meanwhile,
// directories under --root tsrun did not make, several ids to rm and stop,
// hints that can be pasted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TOP, World, waitFor } from '../helpers/tsrun';
import * as libc from '../../src/sys/libc';

const w = new World('tsrun-test-first-hour');
after(() => w.cleanup());

/** The bundle the tests share: sleep 1000 on the busybox rootfs. */
const B = w.bundle((s) => (s.process.args = ['sleep', '1000']), 'sleeper');
/** One that ends on SIGTERM (a pid 1 without a handler ignores it). */
const TERMINABLE = w.bundle((s) => (s.process.args = ['sh', '-c', 'trap "exit 0" TERM; sleep 1000 & wait']), 'terminable');

/** The command a hint in `stderr` gives (between double quotes after "tsrun"), run by a shell as it is. */
function pasteHint(stderr: string): { cmd: string; code: number; stderr: string } {
  const cmd = /"(tsrun [^"]*)"/.exec(stderr)?.[1];
  assert.ok(cmd, `a command in ${stderr}`);
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, PATH: `${path.join(TOP, 'bin')}:${process.env.PATH}` } });
  return { cmd, code: r.status ?? 1, stderr: r.stderr };
}

test('stop: a container that goes away while it is being stopped has stopped (exit 0)', async () => {
  w.ok(['run', '-d', '-b', B, 'fh-gone1']);
  const dir = path.join(w.root, 'fh-gone1');
  const aside = path.join(w.root, '.fh-gone1-aside');
  // hold the container's lock, as a foreground `run` deleting it does, so that stop waits for it ...
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  let moved = false;
  try {
    libc.flock(fd, libc.LOCK_EX, dir);
    const child = w.spawn(['stop', '-t', '2', 'fh-gone1']);
    const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => resolve({ code, stderr: err }));
    });
    const waiting = new RegExp(`-> FLOCK\\s+ADVISORY\\s+WRITE ${child.pid} `);
    await waitFor(() => waiting.test(fs.readFileSync('/proc/locks', 'utf8')), 30000, 'stop waiting for the lock');
    // ... and take the container away meanwhile: stop then finds no container
    fs.renameSync(dir, aside);
    moved = true;
    fs.closeSync(fd);
    const r = await exited;
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0, 'gone while stopping is stopped');
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      /* closed above */
    }
    if (moved) fs.renameSync(aside, dir);
    w.tsrun(['rm', '-f', 'fh-gone1']);
  }
  const r = w.tsrun(['stop', 'fh-gone1']);
  assert.equal(r.code, 1, 'one that is not there when stop begins does not exist');
  assert.match(r.stderr, /^tsrun: container "fh-gone1" does not exist/);
});

test('a directory under --root that tsrun did not make: list leaves it out and says so; state, rm, rm -f refuse it and leave it', () => {
  const mine = path.join(w.root, 'notmine');
  fs.mkdirSync(mine, { recursive: true });
  fs.writeFileSync(path.join(mine, 'notes.txt'), 'keep me\n');
  // an empty state dir is what a create killed right after its mkdir leaves: tsrun's own
  fs.mkdirSync(path.join(w.root, 'claimed'));
  try {
    const why = `"${mine}" is not a container tsrun made (no state.json; it holds other files): tsrun leaves it alone; remove it by hand if it is not needed`;
    for (const args of [['list'], ['list', '-q'], ['list', '--format', 'json']]) {
      const r = w.tsrun(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.doesNotMatch(r.stdout, /notmine/, `${args.join(' ')}: not shown as a container`);
      assert.match(r.stdout, /claimed/);
      assert.equal(r.stderr, `tsrun: warning: not listed: ${why}\n`);
    }
    for (const args of [['rm', 'notmine'], ['rm', '-f', 'notmine'], ['delete', '--force', 'notmine'], ['state', 'notmine'], ['stop', 'notmine']]) {
      const r = w.tsrun(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, `tsrun: ${why}\n`, args.join(' '));
    }
    assert.deepEqual(fs.readdirSync(mine), ['notes.txt'], 'left as it was');
    assert.equal(fs.readFileSync(path.join(mine, 'notes.txt'), 'utf8'), 'keep me\n');
    w.ok(['rm', 'claimed']);
    assert.ok(!fs.existsSync(path.join(w.root, 'claimed')), 'a killed create\'s empty dir is removed');
  } finally {
    fs.rmSync(mine, { recursive: true, force: true });
    fs.rmSync(path.join(w.root, 'claimed'), { recursive: true, force: true });
  }
});

test('rm and stop of several ids: each one done is printed, each failure is one line, exit 1 if any failed', () => {
  w.ok(['run', '-d', '-b', B, 'fh-m1']);
  w.ok(['run', '-d', '-b', B, 'fh-m2']);
  try {
    let r = w.tsrun(['stop', '-t', '0', 'fh-m1', 'nosuch', 'fh-m2']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'fh-m1\nfh-m2\n');
    assert.equal(r.stderr, `tsrun: container "nosuch" does not exist (see "tsrun --root ${w.root} list")\n`);
    assert.equal(w.state('fh-m1').status, 'stopped');
    assert.equal(w.state('fh-m2').status, 'stopped');
    r = w.tsrun(['rm', 'fh-m1', 'fh-m2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'fh-m1\nfh-m2\n');
    for (const id of ['fh-m1', 'fh-m2']) assert.ok(!fs.existsSync(path.join(w.root, id)));
    w.ok(['run', '-d', '-b', B, 'fh-m3']);
    r = w.tsrun(['rm', 'fh-m3', 'nosuch']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '', 'fh-m3 runs: refused');
    assert.match(r.stderr, /^tsrun: cannot delete container "fh-m3" that is not stopped: running .*\ntsrun: container "nosuch" does not exist/);
    r = w.tsrun(['rm', '-f', 'fh-m3', 'nosuch']);
    assert.equal(r.code, 0, '-f: one that does not exist is no error');
    assert.equal(r.stdout, 'fh-m3\n', 'what was removed');
  } finally {
    w.tsrun(['rm', '-f', 'fh-m1', 'fh-m2', 'fh-m3']);
  }
});

test('hints name the real id and the --root in use, and work when pasted', () => {
  w.ok(['run', '-d', '-b', TERMINABLE, 'fh-h1']);
  try {
    let r = w.tsrun(['run', '-d', '-b', B, 'fh-h1']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tsrun: container "fh-h1" already exists (pick another id, or remove it: "tsrun --root ${w.root} rm -f fh-h1")\n`);
    r = w.tsrun(['rm', 'fh-h1']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tsrun: cannot delete container "fh-h1" that is not stopped: running (use --force, or stop it first: "tsrun --root ${w.root} stop fh-h1")\n`);
    const pasted = pasteHint(r.stderr);
    assert.equal(pasted.code, 0, `${pasted.cmd}: ${pasted.stderr}`);
    assert.equal(w.state('fh-h1').status, 'stopped', 'the pasted stop stopped it');
    r = w.tsrun(['state', 'fh-h2']);
    const list = pasteHint(r.stderr);
    assert.equal(list.code, 0, `${list.cmd}: ${list.stderr}`);
  } finally {
    w.tsrun(['rm', '-f', 'fh-h1']);
  }
});

test('resource flags tsrun cannot apply are one line each, before anything is made', () => {
  const online = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  const n = os.cpus().length;
  const refused: [string[], string][] = [
    [['-m', '64'], '--memory "64": 64 bytes is below the minimum of 1 MiB (1m) (a size without a unit is in bytes: 64m is 64 MiB)'],
    [['-m', '-5m'], '--memory "-5m": give a positive size, e.g. 64m or 1g'],
    [['--cpuset-cpus', '9999'], `--cpuset-cpus "9999": CPU 9999 is not online here: give some of ${online}`],
    [['--cpus', '1e9'], `--cpus "1e9": this machine has ${n} CPU${n === 1 ? '' : 's'} online: give at most ${n}`],
    [['--cpus', 'abc'], '--cpus "abc": give a positive number of CPUs, e.g. 1.5'],
    [['--pids-limit', '-5'], '--pids-limit "-5": give a positive whole number of processes (or -1 for no limit)'],
  ];
  for (const [flags, msg] of refused) {
    const r = w.tsrun(['run', '-b', B, ...flags, 'fh-res1', 'true']);
    assert.equal(r.code, 1, flags.join(' '));
    assert.equal(r.stderr, `tsrun: ${msg}\n`, flags.join(' '));
    assert.ok(!fs.existsSync(path.join(w.root, 'fh-res1')), `${flags.join(' ')}: nothing made`);
  }
});

test('run with flags after the id and no config.json here: says the flags became the command, and the line that works', () => {
  const cwd = fs.mkdtempSync(path.join(w.dir, 'empty-'));
  const r = w.tsrun(['run', 'fh-late1', '-b', B, '-e', 'A=1', 'sh', '-c', 'echo $A'], { cwd });
  assert.equal(r.code, 1);
  const fixed = `tsrun --root ${w.root} --data-dir ${w.dataDir} run -b ${B} -e A=1 fh-late1 sh -c 'echo $A'`;
  assert.equal(
    r.stderr,
    `tsrun: run: ${cwd}/config.json: no such file; "-b ${B} -e A=1" after the id "fh-late1" was taken as part of the command, as flags end at the id: put them before it: "${fixed}"\n`,
  );
  assert.ok(!fs.existsSync(path.join(w.root, 'fh-late1')));
  // the line it gives works as it is
  const again = spawnSync('sh', ['-c', fixed.replace(/^tsrun /, `${path.join(TOP, 'bin', 'tsrun')} `)], { encoding: 'utf8', cwd });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout, '1\n');
});

test('-v with a host file binds that file (the mount point in the container becomes a file); :ro refuses writes', () => {
  const L = w.layered(() => {}, 'layered-file-vol');
  const host = path.join(w.dir, 'f.txt');
  fs.writeFileSync(host, 'from the host\n');
  // a relative HOST, as typed at a terminal: from the current dir
  let r = w.tsrun(['run', '-b', L, '-v', './f.txt:/f.txt:ro', 'fh-fv1', 'sh', '-c', 'cat /f.txt; test -f /f.txt && echo file; echo x > /f.txt || echo refused'], { cwd: w.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'from the host\nfile\nrefused\n');
  assert.match(r.stderr, /Read-only file system/);
  // on a file the image has, read-write: the write reaches the host file
  r = w.tsrun(['run', '-b', L, '-v', `${host}:/etc/hostname`, 'fh-fv2', 'sh', '-c', 'cat /etc/hostname; echo changed > /etc/hostname']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'from the host\n');
  assert.equal(fs.readFileSync(host, 'utf8'), 'changed\n');
  // a file onto a directory of the image: one line, nothing made
  r = w.tsrun(['run', '-b', L, '-v', `${host}:/etc`, 'fh-fv3', 'true']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `tsrun: tsrun.volumes: "${host}:/etc": "/etc" is a directory in the container, and the host path a file: bind a directory there, or the file elsewhere\n`);
  assert.ok(!fs.existsSync(path.join(w.root, 'fh-fv3')));
  assert.deepEqual(fs.existsSync(path.join(w.dataDir, 'containers')) ? fs.readdirSync(path.join(w.dataDir, 'containers')) : [], [], 'no write layer left');
});

test('exec -w/--cwd as run has it; -ti with stdin not a terminal is refused in one line (run -ti too), nothing started', () => {
  w.ok(['run', '-d', '-b', B, 'fh-ex1']);
  try {
    assert.equal(w.ok(['exec', '-w', '/etc', 'fh-ex1', 'pwd']), '/etc\n');
    assert.equal(w.ok(['exec', '--cwd', '/proc', 'fh-ex1', 'pwd']), '/proc\n');
    // stdin here is a pipe (w.tsrun's input)
    let r = w.tsrun(['exec', '-ti', 'fh-ex1', 'sh'], { input: 'echo hi\n' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'tsrun: exec: -ti reads this terminal, and stdin is not one: drop -t to send piped input ("... | tsrun exec ID CMD"), or run it at a terminal\n');
    assert.equal(w.ok(['exec', 'fh-ex1', 'sh'], { input: 'echo piped\n' }), 'piped\n', 'without -t the pipe is the input');
    r = w.tsrun(['run', '-ti', '-b', B, 'fh-ex2', 'sh'], { input: 'echo hi\n' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tsrun: run: -ti reads this terminal, and stdin is not one: drop -t/);
    assert.ok(!fs.existsSync(path.join(w.root, 'fh-ex2')));
  } finally {
    w.tsrun(['rm', '-f', 'fh-ex1']);
  }
});

test('the OOM killer is named: a limit too small to start in, and a foreground run killed by its limit (exit 137)', async () => {
  const tiny = w.bundle((s) => (s.linux.resources = { memory: { limit: 8192 } }), 'tiny-mem');
  let r = w.tsrun(['run', '-b', tiny, 'fh-oom1', 'true']);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^tsrun: container process \d+ was killed by signal 9 before it was ready: the kernel's OOM killer ended it: the memory limit \(8\.0 KiB\) is too small for it \(raise -m, or linux\.resources\.memory\.limit\)\n$/,
  );
  assert.ok(!fs.existsSync(path.join(w.root, 'fh-oom1')), 'nothing left');
  // swap == limit: the limit is hard; the shell (pid 1) keeps 100 MB in a variable
  const hard = w.bundle((s) => (s.linux.resources = { memory: { limit: 32 << 20, swap: 32 << 20 } }), 'hard-mem');
  r = w.tsrun(['run', '-b', hard, 'fh-oom2', 'sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived']);
  assert.equal(r.code, 137);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'tsrun: container "fh-oom2" was killed (exit 137): the kernel\'s OOM killer ended it: the memory limit (32.0 MiB) is too small for it (raise -m, or linux.resources.memory.limit)\n');
  // killed by someone else: no such line
  const killed = w.tsrunAsync(['run', '-b', B, 'fh-oom3']);
  await waitFor(() => w.tsrun(['state', 'fh-oom3']).stdout.includes('"running"'), 30000, 'fh-oom3 running');
  w.ok(['kill', 'fh-oom3', 'KILL']);
  r = await killed;
  assert.equal(r.code, 137);
  assert.equal(r.stderr, '');
});
