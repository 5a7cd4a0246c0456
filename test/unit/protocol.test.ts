// The shim protocol is defined once, in native-shim/include/protocol.h; the
// TypeScript mirror must agree with it constant for constant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as protocol from '../../src/shim/protocol';
import { encodeFrame, FrameReader, readTlv, TlvWriter, tlvU64 } from '../../src/shim/tlv';

const TOP = path.resolve(__dirname, '..', '..', '..');
const header = fs.readFileSync(path.join(TOP, 'native-shim/include/protocol.h'), 'utf8');

function headerConstants(): Map<string, number> {
  const m = new Map<string, number>();
  for (const [, name, value] of header.matchAll(/^#define ([A-Z][A-Z0-9_]+) (0x[0-9a-fA-F]+|\d+)\b/gm)) m.set(name, Number(value));
  return m;
}

function tsConstants(): Map<string, number> {
  const m = new Map<string, number>();
  for (const [group, values] of Object.entries(protocol)) {
    for (const [k, v] of Object.entries(values as Record<string, number>)) m.set(`${group}_${k}`, v);
  }
  return m;
}

test('every constant of protocol.h has the same value in protocol.ts, and nothing more', () => {
  const c = headerConstants();
  const ts = tsConstants();
  assert.ok(c.size > 100, 'the header parsed');
  for (const [name, value] of c) assert.equal(ts.get(name), value, `${name} in protocol.ts`);
  for (const [name, value] of ts) assert.equal(c.get(name), value, `${name} in protocol.h`);
});

test('TLV lists round-trip, nested groups included', () => {
  const w = new TlvWriter();
  w.u64(1, 42).str(2, 'héllo').group(3, (g) => g.u64(1, -1).str(2, ''));
  const entries = readTlv(w.toBuffer());
  assert.deepEqual(entries.map((e) => e.tag), [1, 2, 3]);
  assert.equal(tlvU64(entries[0].value), 42n);
  assert.equal(entries[1].value.toString('utf8'), 'héllo');
  const inner = readTlv(entries[2].value);
  assert.equal(tlvU64(inner[0].value), 0xffffffffffffffffn, 'negative numbers are two\'s complement');
  assert.equal(inner[1].value.length, 0);
});

test('a TLV entry that overruns its list is refused', () => {
  const b = Buffer.from([1, 0, 10, 0, 0, 0, 1, 2]);
  assert.throws(() => readTlv(b), /overruns/);
});

test('frames are reassembled from arbitrary chunks', () => {
  const a = encodeFrame(protocol.MSG.PID, new TlvWriter().u64(protocol.PID.PID, 1234).toBuffer());
  const b = encodeFrame(protocol.MSG.READY);
  const all = Buffer.concat([a, b]);
  const r = new FrameReader();
  const got = [];
  for (let i = 0; i < all.length; i += 3) got.push(...r.push(all.subarray(i, i + 3)));
  assert.deepEqual(got.map((f) => f.msg), [protocol.MSG.PID, protocol.MSG.READY]);
  assert.equal(tlvU64(readTlv(got[0].payload)[0].value), 1234n);
  assert.equal(r.pending, 0);
});

// The replay record (native-shim/include/replay.h) has a mirror too: src/runtime/replay.ts.
test('every constant of replay.h has the same value in replay.ts, and nothing more', async () => {
  const replay = await import('../../src/runtime/replay');
  const text = fs.readFileSync(path.join(TOP, 'native-shim/include/replay.h'), 'utf8');
  const c = new Map<string, number | string>();
  for (const [, name, value] of text.matchAll(/^#define ([A-Z][A-Z0-9_]+) (0x[0-9a-fA-F]+|\d+|'.'|"[^"]*")/gm)) {
    c.set(name, /^['"]/.test(value) ? value.slice(1, -1) : Number(value));
  }
  const ts = new Map<string, number | string>([
    ['REPLAY_DIR', replay.REPLAY_DIR],
    ['REPLAY_ENV', replay.REPLAY_ENV],
  ]);
  for (const [group, values] of Object.entries({ REPLAY: replay.REPLAY, RP: replay.RP, CGO: replay.CGO, CGOP: replay.CGOP, DOP: replay.DOP, DOPK: replay.DOPK, MARK: replay.MARK })) {
    for (const [k, v] of Object.entries(values)) ts.set(`${group}_${k}`, v);
  }
  assert.ok(c.size > 25, 'the header parsed');
  for (const [name, value] of c) assert.equal(ts.get(name), value, `${name} in replay.ts`);
  for (const [name, value] of ts) assert.equal(c.get(name), value, `${name} in replay.h`);
});
