// linux.resources through real containers on this host's cgroups (hybrid
// here: v1 controllers + an empty unified hierarchy), and the pure cgroup v2
// paths in a private mount namespace whose /sys/fs/cgroup is a plain cgroup2
// mount (this file re-runs itself there with --config-v2-inner).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { World } from '../helpers/tsrun';
import { inPureV2 } from '../helpers/purev2';
import { detectMode } from '../../src/cgroups/index';
import type { Spec } from '../../src/spec/types';
import { stateDirs } from '../helpers/leftovers';

const INNER = process.argv.includes('--config-v2-inner');
// the inner run is told its parent: its own pid differs
const PARENT = INNER ? process.argv[process.argv.indexOf('--config-v2-inner') + 1] : `tsrun-test-config-cg-${process.pid}`;
const MODE = detectMode();
const CGROUP_MOUNT = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] };
const TMP_MOUNT = { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] };

/** Removes PARENT (and children left by a failed test) from every hierarchy. */
function removeParent(parent: string): void {
  const rm = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(path.join(d, e.name));
    try {
      fs.rmdirSync(d);
    } catch {
      /* the leak check reports it */
    }
  };
  const roots = MODE === 'v2' || INNER ? ['/sys/fs/cgroup'] : fs.readdirSync('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}`);
  for (const r of roots) rm(path.join(r, parent));
}

function bundle(w: World, id: string, edit: (s: Spec) => void): string {
  return w.bundle((s: Spec) => {
    s.mounts!.push(TMP_MOUNT, CGROUP_MOUNT);
    s.linux!.cgroupsPath = `/${PARENT}/${id}`;
    edit(s);
  }, id);
}

// ---------------------------------------------------------------- pure v2, inside
function inner(): void {
  const w = new World('tsrun-test-config-cg-v2');
  const report: Record<string, unknown> = {};
  try {
    report.mode = detectMode();
    // placement, device BPF program, cgroup mount
    const b1 = bundle(w, 'dev', (s) => {
      s.linux!.resources = { devices: [{ allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }] };
    });
    const r1 = w.tsrun(['run', '--bundle', b1, 'dev', 'sh', '-c', 'cat /proc/self/cgroup; ls /sys/fs/cgroup; head -c1 /dev/full; echo full=$?; head -c1 /dev/zero | wc -c']);
    report.dev = r1;
    // placement from the host side, freeze, removal
    const b2 = bundle(w, 'sleeper', (s) => {
      s.process!.args = ['sleep', '1000'];
    });
    w.ok(['run', '--detach', '--bundle', b2, 'sleeper']);
    const st = w.state('sleeper');
    const dir = `/sys/fs/cgroup/${PARENT}/sleeper`;
    report.pid = st.pid;
    report.procCgroup = fs.readFileSync(`/proc/${st.pid}/cgroup`, 'utf8');
    report.procs = fs.readFileSync(`${dir}/cgroup.procs`, 'utf8');
    // an exec'd process lands in the container's cgroup (cloned into it), the waiting shim does not
    const ex = w.tsrun(['exec', 'sleeper', 'sh', '-c', 'cat /proc/self/cgroup; cat /proc/1/cgroup']);
    report.exec = { code: ex.code, stdout: ex.stdout, stderr: ex.stderr };
    w.ok(['pause', 'sleeper']);
    report.paused = w.state('sleeper').status;
    report.freeze = fs.readFileSync(`${dir}/cgroup.freeze`, 'utf8').trim();
    report.events = fs.readFileSync(`${dir}/cgroup.events`, 'utf8');
    w.ok(['resume', 'sleeper']);
    report.resumed = w.state('sleeper').status;
    report.thawed = fs.readFileSync(`${dir}/cgroup.freeze`, 'utf8').trim();
    w.ok(['delete', '--force', 'sleeper']);
    report.removed = !fs.existsSync(dir);
    // limits whose controllers this hierarchy lacks: a clear error, nothing left
    report.limits = {};
    for (const [name, res] of [
      ['memory', { memory: { limit: 64 << 20 } }],
      ['pids', { pids: { limit: 10 } }],
      ['cpu', { cpu: { quota: 50000, period: 100000 } }],
    ] as const) {
      const b = bundle(w, `lim-${name}`, (s) => {
        s.linux!.resources = res as never;
      });
      const r = w.tsrun(['run', '--bundle', b, `lim-${name}`, 'echo', 'should-not-run']);
      (report.limits as Record<string, unknown>)[name] = { ...r, left: fs.existsSync(`/sys/fs/cgroup/${PARENT}/lim-${name}`) };
    }
    report.stateLeft = stateDirs(w.root);
  } catch (err) {
    report.error = (err as Error).stack;
  } finally {
    w.cleanup();
    removeParent(PARENT);
  }
  process.stdout.write(JSON.stringify(report));
}

if (INNER) {
  inner();
} else {
  const w = new World('tsrun-test-config-cg');
  after(() => {
    w.cleanup();
    removeParent(PARENT);
  });

  /** Host-side cgroup dir of a container for a v1 controller (or 'unified'). */
  const hostDir = (ctrl: string, id: string) => `/sys/fs/cgroup/${ctrl}/${PARENT}/${id}`;
  const v1 = MODE !== 'v2';

  test('a process allocating past its memory limit is OOM-killed (exit 137)', () => {
    const id = 'oom';
    const b = bundle(w, id, (s) => {
      // swap == limit: no swap, the limit is hard
      s.linux!.resources = { memory: { limit: 32 << 20, swap: 32 << 20 } };
    });
    // the shell itself (pid 1) grows: command substitution keeps 100 MB in memory
    const r = w.tsrun(['run', '--bundle', b, id, 'sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived ${#x}']);
    assert.equal(r.code, 137, `exit ${r.code}: ${r.stdout} ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /survived/);
    // without the limit the same work succeeds
    const b2 = bundle(w, 'nooom', () => {});
    const r2 = w.tsrun(['run', '--bundle', b2, 'nooom', 'sh', '-c', 'x=$(head -c 50000000 /dev/zero | tr "\\0" a); echo survived ${#x}']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /^survived 50000000$/m);
  });

  test('a fork loop stops at the pids limit', () => {
    const id = 'pids';
    const b = bundle(w, id, (s) => {
      s.linux!.resources = { pids: { limit: 10 } };
    });
    // the loop runs in a subshell (it dies at the first failed fork); then
    // count processes with a glob only: no fork needed
    const script =
      '(for i in $(seq 40); do sleep 1000 & done) 2>/tmp/err; ' +
      'n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo procs=$n; cat /tmp/err; cat /sys/fs/cgroup/pids/pids.max';
    const r = w.tsrun(['run', '--bundle', b, id, 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const n = Number(/^procs=(\d+)$/m.exec(r.stdout)?.[1]);
    assert.ok(n >= 2 && n <= 10, `processes in the container: ${n}\n${r.stdout}`);
    assert.match(r.stdout, /can't fork: Resource temporarily unavailable/);
    if (v1) assert.match(r.stdout, /^10$/m, 'pids.max seen inside');
  });

  test('cpu quota, shares, cpuset and memory values are in the cgroup files, inside and on the host', { skip: !v1 ? 'v1/hybrid host only (pure v2: see the private-namespace test)' : false }, () => {
    const id = 'cpu';
    const b = bundle(w, id, (s) => {
      s.process!.args = ['sleep', '1000'];
      s.linux!.resources = {
        cpu: { quota: 50000, period: 100000, shares: 512, cpus: '0', mems: '0' },
        memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20, swappiness: 10 },
        pids: { limit: 50 },
      };
    });
    w.ok(['run', '--detach', '--bundle', b, id]);
    const { pid } = w.state(id);
    const files: Array<[string, string, string]> = [
      ['cpu', 'cpu.cfs_quota_us', '50000'],
      ['cpu', 'cpu.cfs_period_us', '100000'],
      ['cpu', 'cpu.shares', '512'],
      ['cpuset', 'cpuset.cpus', '0'],
      ['cpuset', 'cpuset.mems', '0'],
      ['memory', 'memory.limit_in_bytes', String(64 << 20)],
      ['memory', 'memory.soft_limit_in_bytes', String(32 << 20)],
      ['memory', 'memory.swappiness', '10'],
      ['pids', 'pids.max', '50'],
    ];
    if (fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')) files.push(['memory', 'memory.memsw.limit_in_bytes', String(96 << 20)]);
    const inside = w.ok(['exec', id, 'sh', '-c', files.map(([c, f]) => `echo "${c}/${f}=$(cat /sys/fs/cgroup/${c}/${f})"`).join('; ')]);
    for (const [c, f, want] of files) {
      assert.equal(fs.readFileSync(path.join(hostDir(c, id), f), 'utf8').trim(), want, `host ${c}/${f}`);
      assert.match(inside, new RegExp(`^${c}/${f.replace(/\./g, '\\.')}=${want}$`, 'm'), `inside ${c}/${f}`);
    }
    // placed in every v1 controller and, on a hybrid host, in the unified hierarchy too
    const ctrls = ['cpu', 'cpuset', 'memory', 'pids', 'devices', 'freezer', 'blkio', ...(MODE === 'hybrid' ? ['unified'] : [])];
    for (const c of ctrls) {
      if (!fs.existsSync(`/sys/fs/cgroup/${c}`)) continue;
      assert.match(fs.readFileSync(path.join(hostDir(c, id), 'cgroup.procs'), 'utf8'), new RegExp(`^${pid}$`, 'm'), `${c}/cgroup.procs`);
    }
    w.ok(['delete', '--force', id]);
    for (const c of ctrls) assert.ok(!fs.existsSync(hostDir(c, id)), `${c} cgroup removed`);
  });

  test('blockIO throttles and device rules on this host (v1 devices.allow/deny, linux.devices allowed)', { skip: !v1 ? 'v1/hybrid host only' : false }, () => {
    const id = 'devio';
    const blk = fs.readdirSync('/sys/block').map((d) => fs.readFileSync(`/sys/block/${d}/dev`, 'utf8').trim())[0];
    const [major, minor] = blk.split(':').map(Number);
    const b = bundle(w, id, (s) => {
      s.process!.args = ['sleep', '1000'];
      s.linux!.devices = [{ path: '/dev/extra-urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666 }];
      s.linux!.resources = {
        devices: [
          { allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' },
          { allow: true, type: 'c', major: 10, minor: 200, access: 'r' },
        ],
        blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 1048576 }], throttleWriteIOPSDevice: [{ major, minor, rate: 100 }] },
      };
    });
    w.ok(['run', '--detach', '--bundle', b, id]);
    const out = w.tsrun(['exec', id, 'sh', '-c', 'head -c1 /dev/full; echo full=$?; head -c1 /dev/zero | wc -c; head -c4 /dev/extra-urandom | wc -c']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /\/dev\/full: Operation not permitted/);
    assert.match(out.stdout, /^full=1$/m);
    assert.deepEqual(out.stdout.trim().split('\n').slice(1), ['1', '4']);
    const list = fs.readFileSync(path.join(hostDir('devices', id), 'devices.list'), 'utf8');
    assert.doesNotMatch(list, /^a /m, 'not everything allowed');
    assert.doesNotMatch(list, /^c 1:7 /m, '/dev/full denied');
    assert.match(list, /^c 1:9 rwm$/m, 'linux.devices node allowed');
    assert.equal(list.split('\n')[0], 'c 10:200 r', 'the config\'s own rules first, in its order (runtime-tools)');
    assert.equal(fs.readFileSync(path.join(hostDir('blkio', id), 'blkio.throttle.read_bps_device'), 'utf8').trim(), `${blk} 1048576`);
    assert.equal(fs.readFileSync(path.join(hostDir('blkio', id), 'blkio.throttle.write_iops_device'), 'utf8').trim(), `${blk} 100`);
    w.ok(['delete', '--force', id]);
  });

  test('--systemd-cgroup and "slice:prefix:name" cgroupsPath: a clear "needs systemd" error, nothing left', () => {
    const b = bundle(w, 'sd', () => {});
    const r = w.tsrun(['--systemd-cgroup', 'run', '--bundle', b, 'sd', 'echo', 'should-not-run']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^tsrun: systemd cgroup driver requested .*(not running systemd|only implements the cgroupfs driver)/m);
    assert.doesNotMatch(r.stdout, /should-not-run/);
    const b2 = bundle(w, 'slice', (s) => {
      s.linux!.cgroupsPath = 'system.slice:tsrun:slice-test';
    });
    const r2 = w.tsrun(['run', '--bundle', b2, 'slice', 'echo', 'should-not-run']);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /systemd cgroup driver requested/);
    assert.deepEqual(stateDirs(w.root), []);
  });

  test('pure cgroup v2 (private mount namespace): placement, freeze, device BPF, clear errors for missing controllers', { skip: MODE !== 'hybrid' ? 'needs a hybrid host (its unified hierarchy stands in for a pure v2 one)' : false }, () => {
    const r = inPureV2(__filename, ['--config-v2-inner', PARENT], 120000);
    // the same hierarchy seen from the host, if the inner run left anything
    removeParent(PARENT);
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.error, undefined, rep.error);
    assert.equal(rep.mode, 'v2');
    assert.equal(rep.dev.code, 0, rep.dev.stderr);
    assert.match(rep.dev.stdout, /^0::\/$/m, 'cgroup namespace: the container sees its cgroup as the root');
    assert.match(rep.dev.stdout, /^cgroup\.procs$/m, 'the cgroup2 mount inside');
    assert.match(rep.dev.stderr, /\/dev\/full: Operation not permitted/);
    assert.match(rep.dev.stdout, /^full=1$/m);
    assert.match(rep.dev.stdout, /^1$/m, '/dev/zero readable');
    assert.match(rep.procCgroup, new RegExp(`^0::/${PARENT}/sleeper$`, 'm'));
    assert.equal(rep.procs.trim(), String(rep.pid));
    assert.equal(rep.exec.code, 0, rep.exec.stderr);
    // (the v1 lines stay: the host is hybrid, only the mount is v2)
    const v2lines = rep.exec.stdout.split('\n').filter((l: string) => l.startsWith('0::'));
    assert.deepEqual(v2lines, ['0::/', '0::/'], 'exec: in the container cgroup (its namespace root), as the init');
    assert.equal(rep.paused, 'paused');
    assert.equal(rep.freeze, '1');
    assert.match(rep.events, /^frozen 1$/m);
    assert.equal(rep.resumed, 'running');
    assert.equal(rep.thawed, '0');
    assert.equal(rep.removed, true);
    for (const name of ['memory', 'pids', 'cpu']) {
      const l = rep.limits[name];
      assert.notEqual(l.code, 0, name);
      assert.match(l.stderr, new RegExp(`needs the cgroup v2 "${name}" controller, which is not available in /sys/fs/cgroup/${PARENT}/lim-${name}`));
      assert.doesNotMatch(l.stdout, /should-not-run/);
      assert.equal(l.left, false, `${name}: cgroup removed`);
    }
    assert.deepEqual(rep.stateLeft, []);
    assert.ok(!fs.existsSync(`/sys/fs/cgroup/unified/${PARENT}`));
  });
}
