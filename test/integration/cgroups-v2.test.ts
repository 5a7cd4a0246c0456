// Pure cgroup v2, tested on this hybrid host through a private mount
// namespace whose /sys/fs/cgroup is a plain cgroup2 mount (the host's unified
// hierarchy, which has no controllers: only core files, freezer and BPF device
// programs).  The test re-runs this file inside `unshare -m` with --v2-inner;
// the inner run prints a JSON report the outer test checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { OP, deviceFilter, effectiveRules, encode } from '../../src/cgroups/devices';
import { loadDeviceProgram } from '../../src/sys/bpf';
import { CgroupRecord, cgroupPids, destroyCgroup, detectMode, freeze, isFrozen, procsFiles, setupCgroup, stats, thaw, updateResources } from '../../src/cgroups/index';
import { inPureV2 } from '../helpers/purev2';

const INNER = process.argv.includes('--v2-inner');

function inner(parent: string): void {
  const report: Record<string, unknown> = {};
  let rec: CgroupRecord | undefined;
  const sleep = spawn('sleep', ['100'], { stdio: 'ignore' });
  try {
    report.mode = detectMode();
    rec = setupCgroup({
      id: 'c1',
      cgroupsPath: `/${parent}/c1`,
      resources: { devices: [{ allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }] },
    });
    report.paths = rec.paths;
    report.procsFiles = procsFiles(rec);
    const probe = (): { zero: string; full: string } => {
      const r = spawnSync('sh', ['-c', `echo $$ > ${procsFiles(rec!)[0]}; head -c1 /dev/zero | wc -c; head -c1 /dev/full | wc -c`], { encoding: 'utf8' });
      const [zero, full] = r.stdout.trim().split('\n');
      return { zero, full: r.stderr.includes('Operation not permitted') ? 'EPERM' : full };
    };
    report.devicesBefore = probe();
    fs.writeFileSync(procsFiles(rec)[0], String(sleep.pid));
    report.sleepPid = sleep.pid;
    report.pids = cgroupPids(rec);
    freeze(rec);
    report.frozen = isFrozen(rec);
    report.events = fs.readFileSync(path.join(rec.paths.unified, 'cgroup.events'), 'utf8');
    report.sleepState = fs.readFileSync(`/proc/${sleep.pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    thaw(rec);
    report.thawed = !isFrozen(rec);
    report.stats = stats(rec);
    updateResources(rec, { devices: [{ allow: true, type: 'c', major: 1, minor: 7, access: 'r' }] });
    report.devicesAfter = probe();
    const dir = rec.paths.unified;
    destroyCgroup(rec);
    report.removed = !fs.existsSync(dir);
    report.sleepAlive = fs.existsSync(`/proc/${sleep.pid}`) && !fs.readFileSync(`/proc/${sleep.pid}/stat`, 'utf8').includes(') Z');
  } catch (err) {
    report.error = (err as Error).stack;
  } finally {
    sleep.kill('SIGKILL');
    try {
      if (rec) destroyCgroup(rec);
      if (fs.existsSync(`/sys/fs/cgroup/${parent}`)) fs.rmdirSync(`/sys/fs/cgroup/${parent}`);
    } catch (err) {
      report.cleanupError = (err as Error).message;
    }
  }
  process.stdout.write(JSON.stringify(report));
}

if (INNER) {
  inner(process.argv[process.argv.indexOf('--v2-inner') + 1]);
} else {
  const hybrid = detectMode() === 'hybrid';
  test('pure v2 (private mount ns): create, join, BPF device filter, freeze, pids, update, destroy', { skip: process.getuid?.() !== 0 || !hybrid ? 'needs root on a hybrid host' : false }, (t) => {
    const parent = `tsrun-test-${process.pid}-v2${Date.now().toString(36)}`;
    t.after(() => {
      // the same hierarchy as seen from the host
      const host = `/sys/fs/cgroup/unified/${parent}`;
      if (fs.existsSync(`${host}/c1`)) fs.rmdirSync(`${host}/c1`);
      if (fs.existsSync(host)) fs.rmdirSync(host);
    });
    const r = inPureV2(__filename, ['--v2-inner', parent], 30000);
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.error, undefined, rep.error);
    assert.equal(rep.cleanupError, undefined);
    assert.equal(rep.mode, 'v2');
    assert.deepEqual(rep.paths, { unified: `/sys/fs/cgroup/${parent}/c1` });
    assert.deepEqual(rep.procsFiles, [`/sys/fs/cgroup/${parent}/c1/cgroup.procs`]);
    assert.deepEqual(rep.devicesBefore, { zero: '1', full: 'EPERM' });
    assert.deepEqual(rep.pids, [rep.sleepPid]);
    assert.equal(rep.frozen, true);
    assert.match(rep.events, /^frozen 1$/m);
    assert.equal(rep.thawed, true);
    assert.equal(typeof rep.stats.cpu.usage, 'object');
    assert.deepEqual(rep.devicesAfter, { zero: '1', full: '1' });
    assert.equal(rep.removed, true);
    assert.equal(rep.sleepAlive, false);
    assert.ok(!fs.existsSync(`/sys/fs/cgroup/unified/${parent}/c1`));
  });

  test('bpf: the generated program passes the verifier; a bad one reports the verifier log', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
    const fd = loadDeviceProgram(encode(deviceFilter(effectiveRules([{ allow: true, type: 'b', major: 8, access: 'rw' }]))));
    assert.ok(fd > 0);
    fs.closeSync(fd);
    assert.throws(
      () => loadDeviceProgram(encode([{ code: OP.MOV32_K, dst: 0, src: 0, off: 0, imm: 1 }])),
      (e: Error) => e.message.startsWith('bpf(BPF_PROG_LOAD): ') && /verifier log:\n/.test(e.message),
    );
  });
}
