// The replay is sound: for every case the review of issue 15 found, a replayed
// create makes what Node's create makes, or the replay is refused and Node
// does it.  Each test here reproduces one case with its own --root (World).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { TOP, TSRUN, World, waitFor, type Result } from '../helpers/tsrun';
import { alive, leftovers, uniqueId } from '../helpers/leftovers';
import { TRACE, recordsOf, replayed, viaNode } from '../helpers/replay';
import { readTlv } from '../../src/shim/tlv';
import { detectMode } from '../../src/cgroups/index';

const INNER = process.argv.includes('--mountns-inner');
/** The tests, but in the inner run (the file re-run in a private mount namespace), which only reports. */
const itest = (INNER ? () => {} : test) as typeof test;
const w = new World('tsrun-test-replay-sound');
after(() => w.cleanup());

const call = (args: string[], env: NodeJS.ProcessEnv = {}): Result => w.tsrun(args, { dataDir: false, env: { ...TRACE, ...env } });
const plain = (name: string, args: string[], edit: (s: any) => void = () => {}) =>
  w.bundle((s) => {
    s.process.args = args;
    s.process.terminal = false;
    edit(s);
  }, name);
const recordFile = (name: string) => path.join(w.root, '.replay', name);
/** The one record under this world's root made since `before` (the names then). */
function newRecord(before: string[]): string {
  const made = recordsOf(w).filter((n) => !before.includes(n));
  assert.equal(made.length, 1, `one new record: ${made}`);
  return recordFile(made[0]);
}
const tag = (file: string, t: number) => readTlv(fs.readFileSync(file)).find((e) => e.tag === t)?.value;
const RP_INPUTS = 2;
const RP_PLAN = 10;

itest('case 1: a replay killed before it saw the cgroup free leaves a state dir whose delete --force spares the container that uses it', async () => {
  const shared = `/tsrun-test-${process.pid}-rpshared-${crypto.randomBytes(4).toString('hex')}`;
  const id = uniqueId('rp-claim');
  const b = plain(id, ['true'], (s) => (s.linux.cgroupsPath = shared));
  const first = call(['run', '--bundle', b, id]);
  assert.equal(first.code, 0, first.stderr);
  // another container now runs in that cgroup (Node refuses a busy cgroup for a create; a crash does not ask)
  const other = uniqueId('rp-other');
  const ob = plain(other, ['sleep', '100'], (s) => (s.linux.cgroupsPath = shared));
  assert.equal(call(['create', '--bundle', ob, other], { TSRUN_NO_REPLAY: '1' }).code, 0);
  const victim = w.state(other).pid;
  try {
    // killed after state.json was written, before the check of the cgroup
    const killed = call(['run', '--bundle', b, id], { TSRUN_TEST_REPLAY_KILL_AT: 'layers' });
    assert.equal(killed.code, 137, `the replay was killed: ${killed.stderr}`);
    const state = JSON.parse(fs.readFileSync(path.join(w.root, id, 'state.json'), 'utf8'));
    assert.equal(state.cgroup, undefined, 'state.json does not name a cgroup not yet known to be free');
    const d = call(['delete', '--force', id]);
    assert.equal(d.code, 0, d.stderr);
    assert.ok(alive(victim), 'the other container\'s process lives');
    // and without the crash: the busy cgroup sends the create to Node, which refuses it
    const r = call(['run', '--bundle', b, id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^tsrun: .*is not empty/m);
    assert.ok(alive(victim));
  } finally {
    call(['delete', '--force', other]);
  }
  assert.deepEqual(leftovers(w, id), []);
  assert.deepEqual(leftovers(w, other, [victim]), []);
  for (const c of ['pids', 'memory', 'unified']) assert.ok(!fs.existsSync(path.join('/sys/fs/cgroup', c, shared)), `no ${c} cgroup left`);
});

itest('case 2: a record is read from what was checked: a .replay put in place while the front looks at it is not used', async () => {
  const id = uniqueId('rp-swap');
  const script = 'test -e /host/etc/os-release && echo HOST || echo clean';
  const b = plain(id, ['sh', '-c', script]);
  let before = recordsOf(w);
  assert.equal(call(['run', '--bundle', b, id]).stdout, 'clean\n');
  const real = newRecord(before);
  // the attacker's: the same inputs and config.json, the plan of a container that has the host's / at /host
  const hb = plain(`${id}-host`, ['sh', '-c', script], (s) => s.mounts.push({ destination: '/host', type: 'bind', source: '/', options: ['rbind', 'ro'] }));
  before = recordsOf(w);
  assert.equal(call(['run', '--bundle', hb, id]).stdout, 'HOST\n');
  const hostPlan = tag(newRecord(before), RP_PLAN)!;
  const forged = Buffer.concat(readTlv(fs.readFileSync(real)).map((e) => tlvEntry(e.tag, e.tag === RP_PLAN ? hostPlan : e.value)));
  const dir = path.join(w.root, '.replay');
  const theirs = path.join(w.root, '.theirs');
  fs.mkdirSync(theirs, { mode: 0o700 });
  fs.writeFileSync(path.join(theirs, path.basename(real)), forged, { mode: 0o600 });
  fs.chownSync(theirs, 65534, 65534); // someone else's directory
  const kept = path.join(w.root, '.replay-kept');
  // the front stops (SIGSTOP, strace) right after its first system call on <root>/.replay;
  // then .replay is swapped for theirs, and the front goes on
  const log = path.join(w.dir, `${id}.strace`);
  const calls = 'open,openat,stat,lstat,newfstatat,statx';
  const p = spawn('strace', ['-f', '-o', log, '-P', dir, '-e', `trace=${calls}`, '-e', `inject=${calls}:signal=SIGSTOP`, TSRUN, ...w.args(['run', '--bundle', b, id], { dataDir: false })], {
    env: { ...process.env, ...TRACE },
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (c) => (out += c));
  p.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((res) => p.once('exit', (c) => res(c)));
  let done = false;
  void exited.then(() => (done = true));
  let swapped = false;
  const stopped = (pid: number) => {
    try {
      return /^State:\s+[tT]/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  };
  // not a time limit on tsrun: a guard against a test that waits forever for a stop strace never reports
  const giveUp = Date.now() + 120000;
  try {
    while (!done) {
      if (Date.now() > giveUp) p.kill('SIGKILL');
      const stops = fs.existsSync(log) ? [...fs.readFileSync(log, 'utf8').matchAll(/^(\d+) +--- stopped by SIGSTOP ---$/gm)] : [];
      if (stops.length && !swapped) {
        fs.renameSync(dir, kept);
        fs.renameSync(theirs, dir);
        swapped = true;
      }
      // until it runs again: a SIGCONT that comes while strace still handles the stop is not enough
      // (one that comes in a syscall stop of strace's is harmless)
      for (const pid of new Set(stops.map((m) => Number(m[1])))) if (stopped(pid)) process.kill(pid, 'SIGCONT');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await exited, 0, err);
    assert.ok(swapped, `the front was stopped at its first look at .replay: ${fs.readFileSync(log, 'utf8')}`);
    assert.equal(out, 'clean\n', `the container is the bundle's, not the swapped record's: ${err}`);
    assert.deepEqual(fs.readdirSync(dir), [path.basename(real)], 'Node wrote nothing into a .replay it did not check');
  } finally {
    if (swapped) {
      fs.renameSync(dir, theirs);
      fs.renameSync(kept, dir);
    }
  }
  assert.ok(replayed(call(['run', '--bundle', b, id])), 'the real record is used again');
  assert.deepEqual(leftovers(w, id), []);
});

/** A TLV entry as protocol.h encodes it: u16 tag, u32 length (little endian), the bytes. */
function tlvEntry(t: number, value: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt16LE(t, 0);
  h.writeUInt32LE(value.length, 2);
  return Buffer.concat([h, value]);
}

itest('case 3: a net.* sysctl in a network namespace joined by path is not replayed: re-pointed at the caller\'s namespace, Node refuses it', async (t) => {
  const id = uniqueId('rp-netns');
  const file = '/proc/sys/net/unix/max_dgram_qlen';
  const host = fs.readFileSync(file, 'utf8').trim();
  t.after(() => {
    if (fs.readFileSync(file, 'utf8').trim() !== host) fs.writeFileSync(file, host);
  });
  const holder = spawn('unshare', ['-n', 'sleep', '1000'], { stdio: 'ignore' });
  t.after(() => holder.kill('SIGKILL'));
  const own = fs.statSync('/proc/self/ns/net').ino;
  await waitFor(() => {
    try {
      return fs.statSync(`/proc/${holder.pid}/ns/net`).ino !== own;
    } catch {
      return false;
    }
  }, 10000, 'a network namespace of its own');
  const link = path.join(w.dir, `${id}-netns`);
  fs.symlinkSync(`/proc/${holder.pid}/ns/net`, link);
  const value = String(Number(host) + 7);
  const b = plain(id, ['cat', file], (s) => {
    s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'network').concat([{ type: 'network', path: link }]);
    s.linux.sysctl = { 'net.unix.max_dgram_qlen': value };
  });
  const first = call(['run', '--bundle', b, id]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `${value}\n`, 'set in the joined namespace');
  fs.unlinkSync(link);
  fs.symlinkSync(`/proc/${process.pid}/ns/net`, link); // the caller's (the host's)
  const again = call(['run', '--bundle', b, id]);
  assert.ok(!replayed(again), again.stderr);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /^tsrun: .*would change the host's network namespace/m);
  assert.equal(fs.readFileSync(file, 'utf8').trim(), host, 'the host\'s sysctl is unchanged');
  assert.deepEqual(leftovers(w, id), []);
});

itest('case 4: a container without a RLIMIT_NOFILE of its own gets the same limit from a replay as from Node', () => {
  const id = uniqueId('rp-nofile');
  const b = plain(id, ['sh', '-c', 'ulimit -n'], (s) => delete s.process.rlimits);
  // the caller's soft limit below its hard one: Node raises its own to the hard limit at start
  const run = () => {
    const r = spawnSync('prlimit', ['--nofile=1024:4096', TSRUN, ...w.args(['run', '--bundle', b, id], { dataDir: false })], {
      encoding: 'utf8',
      env: { ...process.env, ...TRACE },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr } as Result;
  };
  const first = run();
  assert.equal(first.code, 0, first.stderr);
  assert.ok(viaNode(first), first.stderr);
  const second = run();
  assert.equal(second.code, 0, second.stderr);
  assert.ok(replayed(second), second.stderr);
  assert.equal(second.stdout, first.stdout, 'the same limit as under Node');
  assert.deepEqual(leftovers(w, id), []);
});

itest('case 5: a config.json that names the id through an escape (a duplicate key hiding a plain one) is not served to another id', () => {
  const hexId = () => crypto.randomBytes(32).toString('hex');
  // a letter first: "\u0039" holds a 9 where the id would start, and the escape would then hold the id itself
  const first = `a${hexId().slice(1)}`;
  // as a generator that substitutes the id where it writes it plainly would make it for each id
  const runAs = (id: string) => {
    const b = w.bundle((s) => {
      s.process.args = ['hostname'];
      s.process.terminal = false;
      s.hostname = '@HOSTNAME@';
      s.linux.cgroupsPath = `/tsrun/${id}`;
    }, id);
    const cfg = path.join(b, 'config.json');
    const escaped = `\\u00${first.charCodeAt(0).toString(16)}${first.slice(1)}`;
    // {"hostname": "<id>", ..., "hostname": "\u00XX<the first id, but its first letter>"}: the last one counts
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace(/^\{/, `{\n  "hostname": "${id}",`).replace('"@HOSTNAME@"', `"${escaped}"`));
    return w.tsrun(['run', '--bundle', b, id], { dataDir: false, env: TRACE });
  };
  const made = runAs(first);
  assert.equal(made.code, 0, made.stderr);
  assert.equal(made.stdout, `${first}\n`);
  const next = hexId();
  const r = runAs(next);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${first}\n`, 'the hostname config.json gives (the escaped one), as Node sets it');
  assert.ok(viaNode(r), r.stderr);
  assert.deepEqual(leftovers(w, first), []);
  assert.deepEqual(leftovers(w, next), []);
});

itest('case 6: which v1 hierarchies are mounted is part of the key (a private mount namespace where pids comes and goes)', { skip: detectMode() === 'v2' ? 'needs cgroup v1 hierarchies' : false }, () => {
  // the report in a file: node:test prints its own summary on stdout
  const out = path.join(w.dir, 'mountns-report.json');
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --make-rprivate / && exec "$@"', 'sh', process.execPath, __filename, '--mountns-inner', out], {
    encoding: 'utf8',
    timeout: 120000,
  });
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(rep.error, undefined, rep.error);
  const [without, withPids, again] = rep.runs;
  assert.ok(viaNode(without), without.stderr);
  assert.doesNotMatch(without.stdout, new RegExp(`pids:/tsrun/${rep.id}$`, 'm'), 'no pids hierarchy, no pids cgroup');
  assert.match(withPids.stdout, new RegExp(`pids:/tsrun/${rep.id}$`, 'm'), `mounted again: the container is in its pids cgroup, as Node puts it: ${withPids.stderr}`);
  assert.ok(viaNode(withPids), withPids.stderr);
  assert.ok(replayed(again), `and that layout is recorded: ${again.stderr}`);
  assert.equal(again.stdout, withPids.stdout);
  assert.deepEqual(rep.left, []);
});

if (INNER) {
  const report: Record<string, unknown> = {};
  const iw = new World('tsrun-test-replay-sound-ns');
  try {
    const id = uniqueId('rp-layout');
    report.id = id;
    const b = iw.bundle((s) => {
      s.process.args = ['cat', '/proc/self/cgroup'];
      s.process.terminal = false;
      // the cgroup paths as the host names them
      s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'cgroup');
    }, id);
    const run = () => iw.tsrun(['run', '--bundle', b, id], { dataDir: false, env: TRACE });
    execFileSync('umount', ['/sys/fs/cgroup/pids']);
    const runs = [run()];
    execFileSync('mount', ['-t', 'cgroup', '-o', 'pids', 'cgroup', '/sys/fs/cgroup/pids']);
    runs.push(run(), run());
    report.runs = runs;
    report.left = leftovers(iw, id);
  } catch (err) {
    report.error = (err as Error).stack;
  } finally {
    iw.cleanup();
    w.cleanup();
  }
  fs.writeFileSync(process.argv[process.argv.indexOf('--mountns-inner') + 1], JSON.stringify(report));
}

itest('case 7: a replay undone is followed by a Node create that records anew', () => {
  const id = uniqueId('rp-rerecord');
  const b = plain(id, ['true']);
  const before = recordsOf(w);
  assert.equal(call(['run', '--bundle', b, id]).code, 0);
  const file = newRecord(before);
  const ino = fs.statSync(file).ino;
  // an empty cgroup of that path (left by someone): the replay is undone, Node uses it
  const leaf = `/sys/fs/cgroup/pids/tsrun/${id}`;
  fs.mkdirSync(leaf, { recursive: true });
  try {
    const r = call(['run', '--bundle', b, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^tsrun-front: node: replay undone: /m);
  } finally {
    if (fs.existsSync(leaf)) fs.rmdirSync(leaf);
  }
  assert.notEqual(fs.statSync(file).ino, ino, 'Node wrote the record again (a guard that failed would fail every replay)');
  assert.ok(replayed(call(['run', '--bundle', b, id])));
  assert.deepEqual(leftovers(w, id), []);
});

itest('case 8: Node records only for the inputs of its own call (TSRUN_REPLAY from elsewhere is not taken)', () => {
  const id = uniqueId('rp-inputs');
  const b = plain(id, ['sh', '-c', 'exit 3']);
  const before = recordsOf(w);
  const first = call(['run', '--bundle', b, id]);
  assert.equal(first.code, 3, first.stderr);
  const file = newRecord(before);
  const runInputs = tag(file, RP_INPUTS)!;
  const ino = fs.statSync(file).ino;
  // Node called as `create`, told it is the front's `run` (another verb: the shim would not stay the process's parent)
  // stdio to a file, not a pipe: the created container inherits it (World.tsrun does the same)
  const log = path.join(w.dir, `${id}.node`);
  const fd = fs.openSync(log, 'w');
  let r;
  try {
    r = spawnSync(process.execPath, [path.join(TOP, 'dist', 'tsrun.js'), ...w.args(['create', '--bundle', b, id], { dataDir: false })], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, TSRUN_REPLAY: runInputs.toString('hex') },
    });
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(r.status, 0, fs.readFileSync(log, 'utf8'));
  assert.equal(call(['delete', '--force', id]).code, 0);
  assert.equal(fs.statSync(file).ino, ino, 'the run\'s record is not replaced by what a create made');
  const again = call(['run', '--bundle', b, id]);
  assert.ok(replayed(again), again.stderr);
  assert.equal(again.code, 3, `the container's exit status, as the run waits for it: ${again.stderr}`);
  assert.deepEqual(leftovers(w, id), []);
});
