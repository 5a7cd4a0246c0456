import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exitCode, posixSpawn, spawnKeepsSameFd, waitExit } from '../../src/sys/spawn';
import { socketpair } from '../../src/sys/socket';

test('exitCode: exit statuses and signals as Node reports them', () => {
  assert.equal(exitCode(0), 0);
  assert.equal(exitCode(7 << 8), 7);
  assert.equal(exitCode(255 << 8), 255);
  assert.equal(exitCode(9), 137); // killed by SIGKILL
  assert.equal(exitCode(15 | 0x80), 143); // SIGTERM, core flag set
});

test('posixSpawn: argv, env, dup2 of fds (also onto themselves), default signals, exit code', { skip: !spawnKeepsSameFd() && 'glibc < 2.29' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-spawn-test-'));
  const out = path.join(dir, 'out');
  const fd = fs.openSync(out, 'w');
  const [mine, theirs] = socketpair();
  try {
    // fd 1 -> the file; the socket's other end at 3; SigIgn shows ignored signals (Node ignores SIGPIPE)
    const script = 'echo "$0 $FOO"; grep -E "^Sig(Ign|Blk)" /proc/self/status; ls /proc/self/fd; echo x >&3; exit 5';
    const pid = posixSpawn('/bin/sh', ['/bin/sh', '-c', script, 'arg0'], ['FOO=bar'], [[0, 0], [fd, 1], [2, 2], [theirs, 3]]);
    assert.equal(await waitExit(pid), 5);
    const text = fs.readFileSync(out, 'utf8');
    assert.match(text, /^arg0 bar$/m);
    // signals 1-31 at their default (Node ignores SIGPIPE); glibc leaves its internal 32 and 33
    // ignored in a posix_spawn child: the shim resets those itself (default_signals)
    const ign = BigInt('0x' + /^SigIgn:\s+([0-9a-f]+)$/m.exec(text)![1]);
    assert.equal(ign & 0x7fffffffn, 0n, `ignored: ${ign.toString(16)}`);
    assert.match(text, /^SigBlk:\s+0+$/m, 'no signal blocked');
    const fds = text.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    assert.deepEqual(fds.filter((n) => n <= 3), [0, 1, 2, 3], 'stdio (Node marks it close-on-exec) and the socket');
    // beyond those, ls's own directory (4) and what this process inherited itself (its parent has it
    // too): nothing Node opened leaks into the child
    const leaked = fds.filter((n) => n > 4 && !fs.existsSync(`/proc/${process.ppid}/fd/${n}`));
    assert.deepEqual(leaked, [], 'fds of ours in the child');
    const buf = Buffer.alloc(8);
    assert.equal(fs.readSync(mine, buf, 0, 8, null), 2);
    assert.equal(buf.subarray(0, 2).toString(), 'x\n');
  } finally {
    fs.closeSync(fd);
    fs.closeSync(mine);
    fs.closeSync(theirs);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('posixSpawn: a missing program is an error naming it (ENOENT)', () => {
  assert.throws(
    () => posixSpawn('/nonexistent/prog', ['x'], [], []),
    (e: Error & { errno?: number }) => /posix_spawn "\/nonexistent\/prog": No such file or directory/.test(e.message) && e.errno === 2,
  );
});
