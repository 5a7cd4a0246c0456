// The comparison producers.test.ts makes between what a container saw under
// runc and under tsrun: a difference must show, what differs by design of the
// test (run dir, cgroup path, mount ids, peer group numbers) must not.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { diffProbes, mountLine, parseProbe } from '../helpers/producers';

const MI = (id: number, parent: number, root: string, point: string, opts: string, tags: string, type: string, src: string, superOpts: string) =>
  `${id} ${parent} 0:${id} ${root} ${point} ${opts} ${tags}${tags ? ' ' : ''}- ${type} ${src} ${superOpts}`;

test('mountLine keeps point, root, options, propagation, type and fs options; drops ids, devices, peer group numbers, source', () => {
  assert.equal(
    mountLine(MI(612, 600, '/', '/dev', 'rw,nosuid', 'shared:310', 'tmpfs', 'tmpfs', 'rw,size=65536k,mode=755')),
    '/dev root=/ rw,nosuid shared tmpfs rw,size=65536k,mode=755',
  );
  assert.equal(mountLine(MI(7, 1, '/bus', '/proc/bus', 'ro', '', 'proc', 'proc', 'rw')), '/proc/bus root=/bus ro private proc rw');
  assert.equal(
    mountLine(MI(8, 1, '/', '/x', 'rw', 'shared:4 master:2', 'ext4', '/dev/sda1', 'rw')),
    '/x root=/ rw shared,master ext4 rw',
  );
});

test('parseProbe splits the sections and replaces what differs from run to run', () => {
  const out = [
    '== status',
    'CapEff:\t00000000a80425fb',
    '== hostname',
    'h1',
    '== mountinfo',
    MI(2, 1, '/', '/', 'rw', 'shared:9', 'overlay', 'overlay', 'rw,upperdir=/tmp/w/runc-x/layer/upper'),
    MI(3, 2, '/t/runc-x', '/sys/fs/cgroup/pids', 'ro', '', 'cgroup', 'cgroup', 'rw,pids'),
    '',
  ].join('\n');
  const p = parseProbe(out, [
    ['/tmp/w/runc-x', '<run>'],
    ['/t/runc-x', '<cgroup>'],
  ]);
  assert.deepEqual(p, {
    status: ['CapEff:\t00000000a80425fb'],
    hostname: ['h1'],
    mounts: ['/ root=/ rw shared overlay rw,upperdir=<run>/layer/upper', '/sys/fs/cgroup/pids root=<cgroup> ro private cgroup rw,pids'],
  });
});

test('diffProbes is empty for equal views and names each differing line and a missing section', () => {
  const a = { status: ['CapAmb:\t0'], env: ['HOME=/root', 'PATH=/bin'], lo: ['0x9'] };
  assert.equal(diffProbes(a, structuredClone(a)), '');
  const d = diffProbes(a, { status: ['CapAmb:\t0'], env: ['PATH=/bin'] });
  assert.match(d, /^ {2}env:\n {4}runc : HOME=\/root$/m);
  assert.match(d, /^ {2}lo:\n {4}runc : 0x9\n {4}tsrun: \(no section\)$/m);
  assert.doesNotMatch(d, /status/);
  // the same lines, a different count
  assert.match(diffProbes({ x: ['a', 'a'] }, { x: ['a'] }), /2 lines in runc's, 1 in tsrun's/);
});
