// Replay on a pure cgroup v2 host (replay.h CGOP_ENABLE, CGOP_DEVICE_FILTER):
// tested on this hybrid host through a private mount namespace whose
// /sys/fs/cgroup is a plain cgroup2 mount, as cgroups-v2.test.ts does.  The
// host's unified hierarchy has no v1-bound controller but hugetlb (when the
// host enabled it in the root's subtree_control): enough to see the parent's
// controller delegation and a limit that needs it.  The test re-runs this file
// inside `unshare -m` with --v2-inner; the inner run prints a JSON report the
// outer test checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { detectMode } from '../../src/cgroups/index';
import { World, waitFor, type Result } from '../helpers/tsrun';
import { inPureV2 } from '../helpers/purev2';
import { alive, uniqueId } from '../helpers/leftovers';

const INNER = process.argv.includes('--v2-inner');
const TRACE = { TSRUN_FRONT_TRACE: '1' };
const replayed = (r: Result) => /^tsrun-front: replay\b/m.test(r.stderr);
const viaNode = (r: Result) => /^tsrun-front: node\b/m.test(r.stderr);
const HUGE_LIMIT = 4 * 1024 * 1024;

// reads one byte of an allowed device, of a denied one, writes /dev/null
const SCRIPT = 'head -c1 /dev/zero | wc -c; head -c1 /dev/full | wc -c; echo x > /dev/null && echo null-ok; exit 3';

async function inner(parent: string): Promise<void> {
  const report: Record<string, unknown> = {};
  const w = new World('tsrun-test-replay-v2');
  const call = (args: string[], env: NodeJS.ProcessEnv = {}): Result => w.tsrun(args, { dataDir: false, env: { ...TRACE, ...env } });
  const cg = (rel: string) => path.join('/sys/fs/cgroup', parent, rel);
  const read = (rel: string) => (fs.existsSync(cg(rel)) ? fs.readFileSync(cg(rel), 'utf8').trim() : undefined);
  try {
    report.mode = detectMode();
    // hugetlb only when the host lets the root's children have it (never ours to change)
    const huge = /\bhugetlb\b/.test(fs.readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8'));
    report.huge = huge;
    const id = uniqueId('rpv2');
    const b = w.bundle((s) => {
      s.process.args = ['sh', '-c', SCRIPT];
      s.process.terminal = false;
      s.linux.cgroupsPath = `/${parent}/${id}`;
      s.linux.resources = {
        devices: [{ allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }],
        unified: { 'cgroup.max.descendants': '3' },
        ...(huge ? { hugepageLimits: [{ pageSize: '2MB', limit: HUGE_LIMIT }] } : {}),
      };
    }, id);
    const runs = [call(['run', '--bundle', b, id]), call(['run', '--bundle', b, id])];
    report.runs = runs.map((r) => ({ ...r, node: viaNode(r), replayed: replayed(r) }));
    report.afterRuns = { state: fs.existsSync(path.join(w.root, id)), parent: fs.existsSync(cg('')) };

    // a replayed create: the cgroup as the container has it, seen from outside
    const creates: unknown[] = [];
    for (let round = 0; round < 2; round++) {
      const r = call(['create', '--bundle', b, id]);
      const state = r.code === 0 ? w.state(id) : undefined;
      creates.push({
        code: r.code,
        stderr: r.stderr,
        node: viaNode(r),
        replayed: replayed(r),
        status: state?.status,
        procs: read(`${id}/cgroup.procs`),
        pid: state?.pid,
        subtreeControl: read('cgroup.subtree_control'),
        controllers: read(`${id}/cgroup.controllers`),
        hugeMax: read(`${id}/hugetlb.2MB.max`),
        maxDescendants: read(`${id}/cgroup.max.descendants`),
        // bpf.ts is the one reader of attached programs (koffi: the inner run only)
        programs: (await import('../../src/sys/bpf')).queryDevicePrograms(cg(id)).length,
      });
      if (state) {
        call(['start', id]);
        await waitFor(() => !alive(state.pid), 5000, 'the container to exit');
        call(['delete', id]);
      }
    }
    report.creates = creates;
    report.left = { state: fs.existsSync(path.join(w.root, id)), parent: fs.existsSync(cg('')) };

    if (huge) {
      // a process in the parent: the kernel refuses to delegate there (no
      // internal processes), the enable goes on, and the guard that the new
      // cgroup offers hugetlb (recorded when Node read cgroup.controllers)
      // fails before the limit is written: the replay is undone and Node says why
      fs.mkdirSync(cg(''));
      const sleeper = spawn('sleep', ['100'], { stdio: 'ignore' });
      try {
        fs.writeFileSync(cg('cgroup.procs'), String(sleeper.pid));
        const r = call(['run', '--bundle', b, id]);
        report.busyParent = { ...r, leaf: fs.existsSync(cg(id)), state: fs.existsSync(path.join(w.root, id)) };
      } finally {
        sleeper.kill('SIGKILL');
        await new Promise((res) => sleeper.once('exit', res));
        await waitFor(() => read('cgroup.procs') === '', 5000, 'the parent to empty');
        fs.rmdirSync(cg(''));
      }
    }
  } catch (err) {
    report.error = (err as Error).stack;
  } finally {
    try {
      w.cleanup();
    } catch (err) {
      report.cleanupError = (err as Error).message;
    }
  }
  process.stdout.write(JSON.stringify(report));
}

if (INNER) {
  void inner(process.argv[process.argv.indexOf('--v2-inner') + 1]);
} else {
  const hybrid = detectMode() === 'hybrid';
  test(
    'replay on pure cgroup v2 (private mount ns): the second run and create are replayed, with the device filter, the delegated controllers and the limits in force; nothing left',
    { skip: process.getuid?.() !== 0 || !hybrid ? 'needs root on a hybrid host' : false },
    (t) => {
      const parent = `tsrun-test-${process.pid}-rpv2${Date.now().toString(36)}`;
      const host = `/sys/fs/cgroup/unified/${parent}`; // the same hierarchy as seen from the host
      t.after(() => {
        if (!fs.existsSync(host)) return;
        for (const d of fs.readdirSync(host, { withFileTypes: true })) if (d.isDirectory()) fs.rmdirSync(path.join(host, d.name));
        fs.rmdirSync(host);
      });
      const r = inPureV2(__filename, ['--v2-inner', parent], 60000);
      assert.equal(r.status, 0, r.stderr);
      const rep = JSON.parse(r.stdout);
      assert.equal(rep.error, undefined, rep.error);
      assert.equal(rep.cleanupError, undefined);
      assert.equal(rep.mode, 'v2');

      const [first, second] = rep.runs;
      assert.ok(first.node, `the first run goes to Node: ${first.stderr}`);
      assert.ok(second.replayed, `the second run is replayed: ${second.stderr}`);
      for (const run of rep.runs) {
        assert.equal(run.code, 3, run.stderr);
        // /dev/zero and /dev/null allowed, /dev/full denied by the device filter
        assert.equal(run.stdout, '1\n0\nnull-ok\n');
        assert.match(run.stderr, /head: \/dev\/full: Operation not permitted/);
      }
      assert.deepEqual(rep.afterRuns, { state: false, parent: false }, 'a run leaves nothing, parents included');

      const [made, again] = rep.creates;
      assert.ok(made.node, made.stderr);
      assert.ok(again.replayed, `the second create is replayed: ${again.stderr}`);
      for (const c of rep.creates) {
        assert.equal(c.code, 0, c.stderr);
        assert.equal(c.status, 'created');
        assert.equal(c.procs, String(c.pid), 'the container process is in its cgroup');
        assert.equal(c.programs, 1, 'one device program attached to the container cgroup');
        assert.equal(c.maxDescendants, '3');
        if (rep.huge) {
          assert.match(c.subtreeControl, /\bhugetlb\b/, 'the parent delegates hugetlb (CGOP_ENABLE)');
          assert.match(c.controllers, /\bhugetlb\b/);
          assert.equal(c.hugeMax, String(HUGE_LIMIT));
        }
      }
      assert.deepEqual({ ...again, pid: 0, procs: '', stderr: '', node: false, replayed: false }, { ...made, pid: 0, procs: '', stderr: '', node: false, replayed: false });
      assert.deepEqual(rep.left, { state: false, parent: false });
      if (rep.huge) {
        const r = rep.busyParent;
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /^tsrun-front: node: replay undone: .*cgroup\.controllers" no longer reads "hugetlb"/m, 'the replay failed at its guard, then was undone');
        assert.match(r.stderr, /^tsrun: .*hugetlb/m, 'Node says what is wrong');
        assert.equal(r.leaf, false, 'the container cgroup is gone');
        assert.equal(r.state, false, 'the state dir is gone');
      }
      assert.ok(!fs.existsSync(host), 'no cgroup left on the host');
    },
  );
}
