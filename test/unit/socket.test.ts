import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { closeFd, getWinSize, recvFd, setWinSize, socketpair } from '../../src/sys/socket';

test('socket: recvFd receives an fd sent with SCM_RIGHTS, and null without one', async () => {
  const [mine, theirs] = socketpair();
  try {
    assert.equal(recvFd(mine), null, 'nothing sent yet: null without blocking');
    // python sends its stdout (a file we know) with a name, as the shim sends the pty master
    const file = `/tmp/tsrun-socket-test-${process.pid}`;
    fs.writeFileSync(file, 'marker');
    try {
      const py = spawn(
        'python3',
        ['-c', 'import socket,os; s=socket.socket(fileno=3); socket.send_fds(s,[b"/dev/pts/7"],[os.open("' + file + '", os.O_RDONLY)])'],
        { stdio: ['ignore', 'inherit', 'inherit', theirs] },
      );
      const code = await new Promise<number | null>((r) => py.once('exit', r));
      assert.equal(code, 0);
      const got = recvFd(mine, true);
      assert.ok(got, 'an fd arrived');
      assert.equal(got.data, '/dev/pts/7');
      assert.equal(fs.readFileSync(got.fd, 'utf8'), 'marker', 'the fd is the file python opened');
      closeFd(got.fd);
    } finally {
      fs.rmSync(file, { force: true });
    }
  } finally {
    closeFd(mine);
    closeFd(theirs);
  }
});

test('socket: recvFd returns null when the peer closes without an fd', () => {
  const [a, b] = socketpair();
  closeFd(b);
  assert.equal(recvFd(a, true), null);
  closeFd(a);
});

test('socket: window size set on a pty master is read back', () => {
  const master = fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  try {
    setWinSize(master, { rows: 33, cols: 101 });
    assert.deepEqual(getWinSize(master), { rows: 33, cols: 101 });
    assert.equal(getWinSize(fs.openSync('/dev/null', 'r')), null, 'not a terminal');
  } finally {
    fs.closeSync(master);
  }
});
