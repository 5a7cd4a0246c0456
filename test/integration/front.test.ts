// The front for people at a terminal (issue 8): made-up ids and --name,
// config overrides per container, logs, stop, list columns, the terminal
// tsrun relays itself (under tmux), help and hints.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { TSRUN, World, waitFor } from '../helpers/tsrun';

const w = new World('tsrun-test-front');
after(() => w.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bundle all tests share, and its config.json bytes: no flag may change them. */
const B = w.bundle((s) => (s.process.args = ['sleep', '1000']), 'front');
const CONFIG = fs.readFileSync(path.join(B, 'config.json'));
const assertConfigUntouched = () => assert.deepEqual(fs.readFileSync(path.join(B, 'config.json')), CONFIG, 'the bundle config.json is untouched');

/** Output of a foreground run of `sh -c script` with extra flags. */
function sh(flags: string[], script: string): string {
  return w.ok(['run', '-b', B, ...flags, '--', 'sh', '-c', script]);
}

interface Rec {
  pid: number;
  cgroup?: { paths: Record<string, string> };
}
const record = (id: string): Rec => JSON.parse(fs.readFileSync(path.join(w.root, id, 'state.json'), 'utf8'));

/** A cgroup file of the container: the v1 controller's name, else the v2 one. */
function cgroupValue(id: string, v1: [string, string], v2: string): string {
  const paths = record(id).cgroup!.paths;
  const f1 = paths[v1[0]] && path.join(paths[v1[0]], v1[1]);
  if (f1 && fs.existsSync(f1)) return fs.readFileSync(f1, 'utf8').trim();
  const dir = paths.unified ?? Object.values(paths)[0];
  return fs.readFileSync(path.join(dir, v2), 'utf8').trim();
}

test('process flags (-e, -w, -u, --hostname, command) change only that container; config.json stays', () => {
  const script = 'echo "$FOO|$(pwd)|$(id -u):$(id -g)|$(hostname)"';
  const base = sh([], script).trim();
  assert.equal(base, '|/|0:0|busybox', 'the bundle as it is');
  assert.equal(sh(['-e', 'FOO=bar', '-e', 'PATH=/bin'], script).trim(), 'bar|/|0:0|busybox');
  assert.equal(sh(['-w', '/tmp'], script).trim(), '|/tmp|0:0|busybox');
  assert.equal(sh(['--cwd', '/etc', '-u', '1000:1001'], script).trim(), '|/etc|1000:1001|busybox');
  assert.equal(sh(['--hostname', 'front1'], script).trim(), '|/|0:0|front1');
  // the next container has none of it
  assert.equal(sh([], script).trim(), base);
  assertConfigUntouched();
});

test('-v HOST:CTR[:ro] binds a host dir into that container only', () => {
  const host = path.join(w.dir, 'vol');
  fs.mkdirSync(host, { recursive: true });
  fs.writeFileSync(path.join(host, 'f'), 'from-host');
  assert.equal(sh(['-v', `${host}:/home`], 'cat /home/f; echo x > /home/g').trim(), 'from-host');
  assert.equal(fs.readFileSync(path.join(host, 'g'), 'utf8'), 'x\n', 'rw: the container wrote to the host dir');
  const ro = w.tsrun(['run', '-b', B, '-v', `${host}:/home:ro`, '--', 'sh', '-c', 'cat /home/f; echo y > /home/h']);
  assert.equal(ro.stdout, 'from-host');
  assert.notEqual(ro.code, 0, 'a write to a :ro volume fails');
  assert.ok(!fs.existsSync(path.join(host, 'h')));
  assert.equal(sh([], 'ls /home | wc -l').trim(), '0', 'another container does not see the volume');
  assertConfigUntouched();
});

test('resource flags (-m, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit) set that container\'s cgroup only', () => {
  w.ok(['run', '-d', '-b', B, '-m', '64m', '--cpus', '1.5', '--cpu-shares', '512', '--cpuset-cpus', '0', '--pids-limit', '20', 'lim1']);
  w.ok(['run', '-d', '-b', B, 'lim0']);
  try {
    assert.equal(cgroupValue('lim1', ['memory', 'memory.limit_in_bytes'], 'memory.max'), String(64 * 1024 * 1024));
    assert.equal(cgroupValue('lim1', ['pids', 'pids.max'], 'pids.max'), '20');
    assert.equal(cgroupValue('lim1', ['cpuset', 'cpuset.cpus'], 'cpuset.cpus'), '0');
    const quota = cgroupValue('lim1', ['cpu', 'cpu.cfs_quota_us'], 'cpu.max');
    assert.ok(quota === '150000' || quota === '150000 100000', `quota ${quota}`);
    const shares = cgroupValue('lim1', ['cpu', 'cpu.shares'], 'cpu.weight');
    assert.ok(shares === '512' || Number(shares) < 100, `shares ${shares}`);
    // the container without flags has the defaults
    assert.notEqual(cgroupValue('lim0', ['memory', 'memory.limit_in_bytes'], 'memory.max'), String(64 * 1024 * 1024));
    assert.equal(cgroupValue('lim0', ['pids', 'pids.max'], 'pids.max'), 'max');
    assert.notEqual(cgroupValue('lim0', ['cpu', 'cpu.cfs_quota_us'], 'cpu.max').split(' ')[0], '150000');
  } finally {
    w.tsrun(['rm', '-f', 'lim1']);
    w.tsrun(['rm', '-f', 'lim0']);
  }
  assertConfigUntouched();
});

test('bad flag values are refused before anything is made, saying what to give', () => {
  for (const [flags, msg] of [
    [['-m', 'lots'], /--memory: invalid size "lots"/],
    [['--cpus', '0'], /--cpus "0": give a positive number/],
    [['-u', 'nobody'], /--user "nobody": give a numeric uid\[:gid\]/],
    [['-w', 'rel'], /--cwd "rel": give an absolute path/],
    [['-v', 'nocolon'], /-v "nocolon": expected HOST:CONTAINER\[:ro\]/],
  ] as [string[], RegExp][]) {
    const r = w.tsrun(['run', '-b', B, ...flags, 'bad1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, msg);
  }
  assert.ok(!fs.existsSync(path.join(w.root, 'bad1')));
  assertConfigUntouched();
});

test('a made-up id is printed when detached and works in every later command', async () => {
  const out = w.ok(['run', '-d', '--logs', '-b', B, '--', 'sh', '-c', 'echo started; exec sleep 1000']);
  const id = out.trim();
  assert.match(id, /^[0-9a-f]{12}$/);
  assert.equal(w.state(id).status, 'running');
  assert.ok(w.ok(['list', '-q']).split('\n').includes(id));
  assert.equal(w.ok(['exec', id, 'echo', 'in']).trim(), 'in');
  assert.deepEqual(JSON.parse(w.ok(['ps', '--format', 'json', id])), [w.state(id).pid]);
  await waitFor(() => w.ok(['logs', id]) === 'started\n', 5000, 'the log');
  w.ok(['pause', id]);
  assert.equal(w.state(id).status, 'paused');
  w.ok(['resume', id]);
  assert.ok(JSON.parse(w.ok(['events', '--stats', id])).data);
  w.ok(['update', '--pids-limit', '50', id]);
  w.ok(['kill', id, 'CONT']);
  w.ok(['stop', '-t', '1', id]);
  assert.equal(w.state(id).status, 'stopped');
  w.ok(['rm', id]);
  assert.match(w.tsrun(['state', id]).stderr, /does not exist/);
  // two made-up ids differ; --name is the id
  const a = w.ok(['run', '-d', '-b', B, '--', 'sleep', '1000']).trim();
  const b = w.ok(['run', '-d', '-b', B, '--', 'sleep', '1000']).trim();
  w.ok(['create', '-b', B, '--name', 'named1', 'echo', 'hi']);
  try {
    assert.notEqual(a, b);
    assert.match(b, /^[0-9a-f]{12}$/);
    assert.equal(w.state('named1').status, 'created');
    const l = JSON.parse(w.ok(['list', '--format', 'json'])) as { id: string; args: string[] }[];
    assert.deepEqual(l.find((c) => c.id === 'named1')!.args, ['echo', 'hi'], 'with --name every word is the command');
  } finally {
    for (const id of [a, b, 'named1']) w.tsrun(['rm', '-f', id]);
  }
});

test('list: ID STATUS PID COMMAND IMAGE CREATED; json has the same fields and runc\'s; --format runc is runc\'s table', () => {
  w.ok(['run', '-d', '-b', B, 'l1', 'sleep', '999']);
  try {
    const lines = w.ok(['list']).trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+STATUS\s+PID\s+COMMAND\s+IMAGE\s+CREATED$/);
    const row = lines.find((l) => l.startsWith('l1 '))!;
    assert.match(row, /^l1\s+running\s+\d+\s+"sleep 999"\s+\S+rootfs\s+(Less than a second|\d+ seconds?) ago$/);
    const j = (JSON.parse(w.ok(['list', '--format', 'json'])) as Record<string, unknown>[]).find((c) => c.id === 'l1')!;
    for (const k of ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner', 'command', 'image', 'args']) assert.ok(k in j, k);
    assert.equal(j.command, 'sleep 999');
    assert.equal(j.status, 'running');
    assert.equal(j.image, j.rootfs, 'no layers: the image is the rootfs');
    const runc = w.ok(['list', '--format', 'runc']).split('\n');
    assert.match(runc[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    assert.match(runc.find((l) => l.startsWith('l1 '))!, /^l1\s+\d+\s+running\s+\S+\s+\d{4}-\d\d-\d\dT\S+Z\s+root$/);
  } finally {
    w.tsrun(['rm', '-f', 'l1']);
  }
});

test('logs prints what the container printed (stdout and stderr); -f ends when it stops', async () => {
  w.ok(['run', '-d', '--logs', '-b', B, '--name', 'lg1', 'sh', '-c', 'echo one; echo two >&2; sleep 1; echo three']);
  try {
    await waitFor(() => w.ok(['logs', 'lg1']) === 'one\ntwo\n', 5000, 'the first lines');
    // the container stops by itself: -f must return then (status 0, not killed by the timeout)
    const f = spawnSync(TSRUN, w.args(['logs', '-f', 'lg1']), { encoding: 'utf8', timeout: 60000 });
    assert.equal(f.status, 0, '-f returned once the container stopped');
    assert.equal(f.stdout, 'one\ntwo\nthree\n');
    assert.equal(w.state('lg1').status, 'stopped');
    // without --logs there is no log, and the message says how to get one
    w.ok(['run', '-d', '-b', B, 'nolog']);
    const r = w.tsrun(['logs', 'nolog']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /has no log: .*--logs/);
    const fg = w.tsrun(['run', '--logs', '-b', B, 'fg1']);
    assert.match(fg.stderr, /--logs is for detached containers: add -d/);
  } finally {
    w.tsrun(['rm', '-f', 'lg1']);
    w.tsrun(['rm', '-f', 'nolog']);
  }
});

test('stop: a process that ignores SIGTERM ends by SIGKILL after the timeout', () => {
  w.ok(['run', '-d', '-b', B, '--name', 'st1', 'sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done']);
  try {
    const t0 = Date.now();
    w.ok(['stop', '-t', '1', 'st1']);
    const took = Date.now() - t0;
    // never before the timeout; the upper bound only tells SIGKILL from no SIGKILL (the loop never ends)
    assert.ok(took >= 1000 && took < 20000, `stop took ${took} ms`);
    assert.equal(w.state('st1').status, 'stopped');
    w.ok(['stop', 'st1']); // stopped: nothing to do
  } finally {
    w.tsrun(['rm', '-f', 'st1']);
  }
});

test('stop uses the stopSignal annotation; rm refuses a running container, rm -f does not', () => {
  const b = w.bundle((s) => {
    s.annotations = { 'org.opencontainers.image.stopSignal': 'SIGUSR1' };
    s.process.args = ['sh', '-c', 'trap "" TERM; trap "exit 0" USR1; while :; do sleep 0.1; done'];
  }, 'usr1');
  w.ok(['run', '-d', '-b', b, 'st2']);
  try {
    // SIGUSR1 ends it: SIGTERM is ignored, and SIGKILL would come only after
    // 120 s, long after the 30 s w.ok allows stop
    w.ok(['stop', '-t', '120', 'st2']);
    assert.equal(w.state('st2').status, 'stopped');
    w.ok(['run', '-d', '-b', B, 'st3']);
    const r = w.tsrun(['rm', 'st3']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`not stopped: running .*"tsrun --root ${w.root} stop st3"`));
    w.ok(['rm', '-f', 'st3']);
    assert.match(w.tsrun(['state', 'st3']).stderr, /does not exist/);
  } finally {
    w.tsrun(['rm', '-f', 'st2']);
    w.tsrun(['rm', '-f', 'st3']);
  }
});

test('an unknown id says "does not exist" (what podman and containerd match) and to look at list', () => {
  for (const verb of [['state'], ['logs'], ['stop'], ['kill'], ['delete'], ['exec', '--', 'true']]) {
    const args = verb[0] === 'exec' ? ['exec', 'ghost', 'true'] : [...verb, 'ghost'];
    const r = w.tsrun(args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.equal(r.stderr, `tsrun: container "ghost" does not exist (see "tsrun --root ${w.root} list")\n`, args.join(' '));
  }
});

test('every verb has --help with an example', () => {
  const top = w.ok(['--help']);
  const verbs = [...top.matchAll(/^ {2}tsrun (\S+)/gm)].map((m) => m[1]);
  for (const v of ['run', 'create', 'stop', 'logs', 'list', 'exec', 'delete', 'kill', 'state', 'start', 'spec']) assert.ok(verbs.includes(v), v);
  for (const v of verbs) {
    const h = w.ok([v, '--help']);
    assert.match(h, /Examples:\n\s+tsrun /, `tsrun ${v} --help has an example`);
  }
  assert.match(w.ok(['run', '--help']), /run \[flags\] --name ID \[COMMAND\.\.\.\] +with --name every word is the command/);
});

// ---- the terminal, under tmux ----

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** A tmux session running bash, in its own server socket. */
class Tmux {
  readonly sock = path.join(w.dir, 'tmux.sock');
  readonly name = 'front';
  constructor(cols: number, rows: number) {
    this.tmux(['new-session', '-d', '-s', this.name, '-x', String(cols), '-y', String(rows), 'bash --norc --noprofile']);
    // keep the pane when its shell exits, so a failure can still be read
    this.tmux(['set-option', '-t', this.name, 'remain-on-exit', 'on']);
  }
  tmux(args: string[]): string {
    return execFileSync('tmux', ['-S', this.sock, ...args], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm' } });
  }
  type(text: string): void {
    this.tmux(['send-keys', '-t', this.name, '-l', text]);
    this.tmux(['send-keys', '-t', this.name, 'Enter']);
  }
  keys(...k: string[]): void {
    this.tmux(['send-keys', '-t', this.name, ...k]);
  }
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-t', this.name]);
  }
  async waitScreen(re: RegExp, what: string, timeoutMs = 10000): Promise<void> {
    try {
      await waitFor(() => re.test(this.screen()), timeoutMs, what);
    } catch (e) {
      throw new Error(`${(e as Error).message}; screen:\n${this.screen()}`);
    }
  }
  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      /* already gone */
    }
  }
}

test('run -ti: an interactive shell runs commands, follows resizes, exits with the terminal restored', { skip: !hasTmux && 'no tmux' }, async () => {
  const t = new Tmux(100, 30);
  try {
    const before = path.join(w.dir, 'stty.before');
    const afterF = path.join(w.dir, 'stty.after');
    const cmd = [TSRUN, ...w.args(['run', '-ti', '-b', B, '--name', 'tty1', '--', 'sh'])].map((a) => `'${a}'`).join(' ');
    t.type(`unset NODE_EXTRA_CA_CERTS; stty -g > ${before}; ${cmd}; echo "exit=$?"; stty -g > ${afterF}; echo DO""NE`);
    await t.waitScreen(/^\/ # ?$/m, 'the prompt');
    t.type('echo hello-$((6*7)); stty size; tty');
    await t.waitScreen(/^hello-42\n30 100\n\/dev\/pts\/\d+$/m, 'the output and the size');
    t.tmux(['resize-window', '-t', t.name, '-x', '120', '-y', '40']);
    await sleep(300);
    t.type('stty size');
    await t.waitScreen(/^40 120$/m, 'the new size');
    // vi: full-screen, raw keys, escape
    t.type('vi /dev/shm/vitest');
    await t.waitScreen(/~/, 'vi');
    // one step at a time: vi reads ESC followed quickly by more as an escape sequence
    t.keys('i');
    await sleep(200);
    t.keys('-l', 'typed in vi');
    await sleep(200);
    t.keys('Escape');
    await sleep(500);
    t.keys('-l', ':wq');
    t.keys('Enter');
    await t.waitScreen(/^\/ # ?$/m, 'back at the prompt after vi');
    t.type('cat /dev/shm/vitest; exit 3');
    await t.waitScreen(/^DONE$/m, 'tsrun to return');
    const screen = t.screen();
    assert.match(screen, /^typed in vi$/m);
    assert.match(screen, /^exit=3$/m, 'the exit status of the shell');
    assert.equal(fs.readFileSync(afterF, 'utf8'), fs.readFileSync(before, 'utf8'), 'stty settings before == after');
    assert.match(w.tsrun(['state', 'tty1']).stderr, /does not exist/, 'the foreground container is removed');
  } finally {
    t.kill();
    w.tsrun(['rm', '-f', 'tty1']);
  }
});

test('exec -ti: a shell in a running container, terminal restored', { skip: !hasTmux && 'no tmux' }, async () => {
  w.ok(['run', '-d', '-b', B, 'tty2']);
  const t = new Tmux(90, 25);
  try {
    const before = path.join(w.dir, 'stty2.before');
    const afterF = path.join(w.dir, 'stty2.after');
    const cmd = [TSRUN, ...w.args(['exec', '-ti', 'tty2', 'sh'])].map((a) => `'${a}'`).join(' ');
    t.type(`unset NODE_EXTRA_CA_CERTS; stty -g > ${before}; ${cmd}; echo "exit=$?"; stty -g > ${afterF}; echo DO""NE`);
    await t.waitScreen(/^\/ # ?$/m, 'the prompt');
    t.type('stty size; ps | grep -c "[s]leep 1000"');
    await t.waitScreen(/^25 90\n1$/m, 'size and the container\'s process');
    t.keys('C-d');
    await t.waitScreen(/^DONE$/m, 'tsrun to return');
    assert.match(t.screen(), /^exit=0$/m);
    assert.equal(fs.readFileSync(afterF, 'utf8'), fs.readFileSync(before, 'utf8'), 'stty settings before == after');
    assert.equal(w.state('tty2').status, 'running', 'the container goes on');
  } finally {
    t.kill();
    w.tsrun(['rm', '-f', 'tty2']);
  }
});

// ---- leaving a foreground container: the detach keys ----

const quoted = (args: string[]) => [TSRUN, ...w.args(args)].map((a) => `'${a}'`).join(' ');

/** The keepers of detached terminals: /bin/cat processes reading a pty master (/dev/ptmx, or /dev/pts/ptmx of a devpts instance). */
function keepers(): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (!/\/cat$/.test(fs.readlinkSync(`/proc/${p}/exe`))) continue;
      if (/\/ptmx$/.test(fs.readlinkSync(`/proc/${p}/fd/0`))) out.push(Number(p));
    } catch {
      /* gone, or a kernel thread */
    }
  }
  return out;
}

/** A process that is gone or a zombie (exited, waiting for init to reap it). */
function ended(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] === 'Z';
  } catch {
    return true;
  }
}

test('run -ti: ctrl-c does not end a process that ignores it; ctrl-p ctrl-q detaches, the container runs on, its output to the log', { skip: !hasTmux && 'no tmux' }, async () => {
  const id = `detach1-${process.pid}`;
  const t = new Tmux(300, 30);
  const before = keepers();
  let keeper: number | undefined;
  try {
    const sttyBefore = path.join(w.dir, 'stty3.before');
    const sttyAfter = path.join(w.dir, 'stty3.after');
    // ticks in the background; cat records the bytes the container gets (no echo, no line buffering)
    const script =
      'trap "" INT; stty -echo -icanon -ixon -iexten min 1; (i=0; while :; do i=$((i+1)); echo tick$i; sleep 1; done) & echo READY; exec cat > /dev/shm/keys';
    t.type(`unset NODE_EXTRA_CA_CERTS; stty -g > ${sttyBefore}; ${quoted(['run', '-ti', '-b', B, '--name', id, 'sh', '-c', script])}; echo "exit=$?"; stty -g > ${sttyAfter}; echo DO""NE`);
    await t.waitScreen(/^READY/m, 'the container');
    t.keys('C-c');
    // a partial sequence and what breaks it reach the container; ctrl-p ctrl-p ctrl-q: the first ctrl-p too
    for (const k of ['a', 'C-p', 'b', 'C-p', 'C-p', 'C-q']) t.keys(k);
    await t.waitScreen(/^DONE$/m, 'tsrun to return');
    const screen = t.tmux(['capture-pane', '-p', '-J', '-t', t.name]);
    const cmd = (...words: string[]) => `"tsrun --root ${w.root} ${words.join(' ')}"`;
    assert.ok(
      screen.includes(`tsrun: detached: container "${id}" keeps running; its output: ${cmd('logs', id)}; stop it: ${cmd('stop', id)}; remove it: ${cmd('rm', '-f', id)}\n`),
      `the detach line; screen:\n${screen}`,
    );
    assert.match(screen, /^exit=0$/m);
    assert.equal(fs.readFileSync(sttyAfter, 'utf8'), fs.readFileSync(sttyBefore, 'utf8'), 'stty settings before == after');
    assert.equal(w.state(id).status, 'running', 'the container keeps running (not deleted)');
    // ctrl-c was the line discipline's (ignored SIGINT), the detach keys never arrived
    await waitFor(() => w.ok(['exec', id, 'od', '-An', '-tx1', '/dev/shm/keys']).trim() === '61 10 62 10', 10000, 'the keys the container got');
    // what it prints from now on goes to the log, without end (the keeper drains the terminal)
    const ticks = () => [...w.ok(['logs', id]).matchAll(/tick(\d+)/g)].map((m) => Number(m[1]));
    await waitFor(() => ticks().length > 0, 20000, 'a tick in the log');
    const first = ticks()[0];
    await waitFor(() => Math.max(...ticks()) >= first + 2, 20000, 'more ticks in the log');
    const mine = keepers().filter((p) => !before.includes(p));
    assert.equal(mine.length, 1, 'one keeper holds the terminal');
    keeper = mine[0];
    w.ok(['rm', '-f', id]);
    await waitFor(() => ended(keeper!), 20000, 'the keeper to end with the container');
  } finally {
    t.kill();
    w.tsrun(['rm', '-f', id]);
    if (keeper !== undefined && !ended(keeper)) process.kill(keeper, 'SIGKILL');
  }
});

test('exec -ti --detach-keys: only those keys detach; the process runs on until its hint ends it', { skip: !hasTmux && 'no tmux' }, async () => {
  const id = `detach2-${process.pid}`;
  w.ok(['run', '-d', '-b', B, id]);
  const t = new Tmux(300, 25);
  let pid: number | undefined;
  try {
    t.type(`unset NODE_EXTRA_CA_CERTS; ${quoted(['exec', '-ti', '--detach-keys', 'ctrl-x,d', id, 'sh'])}; echo "exit=$?"; echo DO""NE`);
    await t.waitScreen(/^\/ # ?$/m, 'the prompt');
    // the default keys are the shell's now; ctrl-c cancels the line they are on
    t.keys('C-p');
    t.keys('C-q');
    t.keys('C-c');
    t.type('echo still-$((1+1))');
    await t.waitScreen(/^still-2$/m, 'the shell, still attached');
    t.keys('C-x');
    t.keys('d');
    await t.waitScreen(/^DONE$/m, 'tsrun to return');
    const screen = t.tmux(['capture-pane', '-p', '-J', '-t', t.name]);
    const m = new RegExp(
      `^tsrun: detached: process (\\d+) keeps running in container "${id}" \\(its output is discarded\\); end it: "kill -HUP \\d+"; the container: "tsrun --root ${w.root} stop ${id}"$`,
      'm',
    ).exec(screen);
    assert.ok(m, `the detach line; screen:\n${screen}`);
    assert.match(screen, /^exit=0$/m);
    pid = Number(m[1]);
    assert.ok(!ended(pid), 'the shell runs on');
    assert.equal(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'sh');
    process.kill(pid, 'SIGHUP');
    await waitFor(() => ended(pid!), 20000, 'the shell to end on the hint\'s signal');
    assert.equal(w.state(id).status, 'running', 'the container goes on');
  } finally {
    t.kill();
    if (pid !== undefined && !ended(pid)) process.kill(pid, 'SIGKILL');
    w.tsrun(['rm', '-f', id]);
  }
});

test('--detach-keys: a bad key, or without -ti, is refused before anything is made', () => {
  const id = `detach3-${process.pid}`;
  const bad = w.tsrun(['run', '-ti', '--detach-keys', 'ctrl-1', '-b', B, id]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /^tsrun: --detach-keys "ctrl-1": "ctrl-1" is not a key: give keys separated by commas, each ctrl-<a-z, @, \[, \\, \], \^ or _> or one character/);
  const noTi = w.tsrun(['run', '-d', '--detach-keys', 'ctrl-x', '-b', B, id]);
  assert.notEqual(noTi.code, 0);
  assert.match(noTi.stderr, /^tsrun: run: --detach-keys is for -ti in the foreground/);
  assert.ok(!fs.existsSync(path.join(w.root, id)), 'no container');
});

// ---- run -d at a terminal ----

const hasScript = spawnSync('script', ['--version']).status === 0;

test('run -d at a terminal sends the output to "tsrun logs", not over the prompt; with stdout a file it is inherited, as from runc', { skip: !hasScript && 'no script(1)' }, async () => {
  const b = w.bundle((s) => (s.process.args = ['sh', '-c', 'echo hello-$((6*7)); exec sleep 1000']), 'logdefault');
  // 64 hex digits: one replay record of the C front serves every id (as containerd's)
  const hex = () => randomBytes(32).toString('hex');
  const [a, replayedId, atTerminal] = [hex(), hex(), hex()];
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  let madeUp: string | undefined;
  try {
    w.ok(['run', '-d', '-b', b, a]);
    const r = w.tsrun(['run', '-d', '-b', b, replayedId], { env: { TSRUN_FRONT_TRACE: '1' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^tsrun-front: replay\b/m, 'the front replays this run -d');
    for (const id of [a, replayedId]) assert.match(w.tsrun(['logs', id]).stderr, /has no log/, 'stdout a file: the container inherits it');
    // the same command line with a terminal as stdout: not replayed, logged
    const s = spawnSync('script', ['-qec', quoted(['run', '-d', '-b', b, atTerminal]), '/dev/null'], { encoding: 'utf8', timeout: 60000, env });
    assert.equal(s.status, 0, s.stdout);
    assert.equal(s.stdout, '', 'nothing printed on the terminal');
    await waitFor(() => w.ok(['logs', atTerminal]) === 'hello-42\n', 20000, 'the output in the log');
    // a made-up id is printed as before
    const s2 = spawnSync('script', ['-qec', quoted(['run', '-d', '-b', b]), '/dev/null'], { encoding: 'utf8', timeout: 60000, env });
    assert.equal(s2.status, 0, s2.stdout);
    madeUp = s2.stdout.trim();
    assert.match(madeUp, /^[0-9a-f]{12}$/, 'the id, and nothing else');
    await waitFor(() => w.ok(['logs', madeUp!]) === 'hello-42\n', 20000, 'the output in the log');
  } finally {
    for (const id of [a, replayedId, atTerminal, madeUp]) if (id) w.tsrun(['rm', '-f', id]);
  }
});
