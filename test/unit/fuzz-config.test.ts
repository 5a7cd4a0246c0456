// Fuzz, in process: thousands of mutated configs through validateSpec and
// lowerSpec (what create does before any side effect).  Each must come back
// as a spec/plan or as a TsrunError, never another exception, and quickly.
// Deterministic: TSRUN_FUZZ_SEED picks the seed, TSRUN_FUZZ_CASES the count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { TsrunError } from '../../src/errors';
import { validateSpec } from '../../src/spec/validate';
import { lowerSpec } from '../../src/shim/lower';
import { mutate, rng } from '../helpers/fuzz';

const TOP = path.resolve(__dirname, '..', '..', '..');
const SEED = Number(process.env.TSRUN_FUZZ_SEED ?? 20261123);
const CASES = Number(process.env.TSRUN_FUZZ_CASES ?? 3000);

function seeds(): { name: string; spec: any; bundle: string }[] {
  const out = [{ name: 'busybox', spec: JSON.parse(fs.readFileSync(path.join(TOP, 'bundles/busybox/config.json'), 'utf8')), bundle: path.join(TOP, 'bundles/busybox') }];
  const ex = '/work/shared/clients/examples';
  for (const f of ['podman-config.json', 'containerd-config.json']) {
    const p = path.join(ex, f);
    if (!fs.existsSync(p)) continue;
    const spec = JSON.parse(fs.readFileSync(p, 'utf8'));
    spec.root = { path: path.join(TOP, 'bundles/busybox/rootfs') };
    out.push({ name: f, spec, bundle: path.join(TOP, 'bundles/busybox') });
  }
  return out;
}

test(`fuzz: ${CASES} mutated configs through validateSpec + lowerSpec end in a spec or a TsrunError (seed ${SEED})`, () => {
  const r = rng(SEED);
  const bases = seeds();
  let accepted = 0;
  let refused = 0;
  for (let i = 0; i < CASES; i++) {
    const base = bases[i % bases.length];
    const { spec, what } = mutate(base.spec, r);
    try {
      const s = validateSpec(spec, base.bundle);
      const plan = lowerSpec(s, { rootfs: '/nonexistent/rootfs', execFifo: '/nonexistent/exec.fifo', cgroupProcs: [], hookState: '{}' });
      assert.ok(Buffer.isBuffer(plan));
      accepted++;
    } catch (e) {
      if (!(e instanceof TsrunError)) {
        assert.fail(`case ${i} (${base.name}: ${what.join('; ')}) threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.stack ?? e}`);
      }
      assert.ok(e.message.length > 0 && !/\n\s+at /.test(e.message), `case ${i}: a message, not a stack`);
      refused++;
    }
  }
  assert.equal(accepted + refused, CASES);
  assert.ok(refused > CASES / 4, `most mutations are refused (${refused})`);
});
