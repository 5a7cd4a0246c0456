// Fuzz through the real CLI: mutated configs (and config.json files that are
// not UTF-8 at all) given to `tsrun create`.  Each ends in a created
// container (then delete --force) or an error whose every line is
// "tsrun: ..." (no stack trace), within a timeout (no hang), and leaves
// nothing behind.  TSRUN_FUZZ_CLI_CASES (default 200) and TSRUN_FUZZ_SEED.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { World, BUSYBOX_BUNDLE, BUSYBOX_ROOTFS, type Result } from '../helpers/tsrun';
import { leftovers, uniqueId } from '../helpers/leftovers';
import { mutate, rng } from '../helpers/fuzz';

const SEED = Number(process.env.TSRUN_FUZZ_SEED ?? 7);
const CASES = Number(process.env.TSRUN_FUZZ_CLI_CASES ?? 200);
const PARALLEL = 4;

const w = new World('tsrun-test-fuzz');
after(() => w.cleanup());
// a private rootfs: mount destinations the fuzz invents are made in it
const rootfs = path.join(w.dir, 'rootfs');
execFileSync('cp', ['-a', BUSYBOX_ROOTFS, rootfs]);
const base = JSON.parse(fs.readFileSync(path.join(BUSYBOX_BUNDLE, 'config.json'), 'utf8'));
delete base.tsrun;
base.root = { path: rootfs };
base.process.args = ['sleep', '1000'];

function checkError(r: Result, what: string): void {
  assert.notEqual(r.code, 137, `${what}: killed by the timeout (a hang)`);
  const lines = r.stderr.split('\n');
  assert.equal(lines.pop(), '', `${what}: stderr ends with a newline`);
  assert.ok(lines.length >= 1, `${what}: an error message`);
  for (const l of lines) assert.match(l, /^tsrun: \S/, `${what}: every line is an error line: ${JSON.stringify(l.slice(0, 200))}`);
  assert.ok(!/^\s+at /m.test(r.stderr), `${what}: no stack trace`);
  assert.ok(lines.length <= 25, `${what}: a short error (${lines.length} lines)`);
}

async function one(i: number, config: Buffer, what: string): Promise<'created' | 'refused'> {
  const dir = path.join(w.dir, `b${i}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), config);
  const id = uniqueId(`fz${i}`);
  const r = await w.tsrunAsync(['create', '--bundle', dir, id], { timeout: 20000 });
  let outcome: 'created' | 'refused';
  if (r.code === 0) {
    const d = await w.tsrunAsync(['delete', '--force', id]);
    assert.equal(d.code, 0, `case ${i} (${what}): delete --force: ${d.stderr}`);
    outcome = 'created';
  } else {
    checkError(r, `case ${i} (${what})`);
    assert.ok(!fs.existsSync(path.join(w.root, id)), `case ${i} (${what}): no state dir after a failed create`);
    outcome = 'refused';
  }
  assert.deepEqual(leftovers(w, id), [], `case ${i} (${what})`);
  fs.rmSync(dir, { recursive: true, force: true });
  return outcome;
}

test(`fuzz: ${CASES} mutated configs through tsrun create: a container or a clean error, no leftovers (seed ${SEED})`, async () => {
  const r = rng(SEED);
  const cases: { config: Buffer; what: string }[] = [];
  for (let i = 0; i < CASES; i++) {
    const { spec, what } = mutate(base, r);
    delete spec?.linux?.cgroupsPath; // cgroup paths the fuzz invents would be host cgroups outside tsrun/
    cases.push({ config: Buffer.from(JSON.stringify(spec)), what: what.join('; ') });
  }
  // bytes that are not UTF-8, and not JSON
  const good = JSON.stringify(base);
  cases.push({ config: Buffer.concat([Buffer.from(good.slice(0, 20)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(good.slice(20))]), what: 'invalid UTF-8 bytes' });
  cases.push({ config: Buffer.from(good.replace('"sleep"', '"sl\xffeep"'), 'latin1'), what: 'invalid UTF-8 in a string' });
  cases.push({ config: Buffer.from('{"ociVersion": "1.2.0", '.repeat(1) + '['.repeat(100000)), what: 'deep unterminated nesting' });
  cases.push({ config: Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from(good)]), what: 'UTF-8 BOM' });
  cases.push({ config: Buffer.alloc(0), what: 'empty file' });
  const counts = { created: 0, refused: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < cases.length) {
        const i = next++;
        counts[await one(i, cases[i].config, cases[i].what)]++;
      }
    }),
  );
  assert.equal(counts.created + counts.refused, cases.length);
  assert.ok(counts.refused > 0 && counts.created > 0, JSON.stringify(counts));
  assert.equal(w.ok(['list', '-q']), '');
});
