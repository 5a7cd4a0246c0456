import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BPF_DEVCG_ACC_MKNOD as M,
  BPF_DEVCG_ACC_READ as R,
  BPF_DEVCG_ACC_WRITE as W,
  BPF_DEVCG_DEV_BLOCK as BLK,
  BPF_DEVCG_DEV_CHAR as CHR,
  DEFAULT_ALLOWED,
  DeviceRule,
  Insn,
  OP,
  deviceFilter,
  effectiveRules,
  emulate,
  v1Line,
  encode,
  v1Writes,
} from '../../src/cgroups/devices';

/** A tiny interpreter for the instructions deviceFilter emits. */
function run(prog: Insn[], type: number, access: number, major: number, minor: number): number {
  const ctx = [((access << 16) | type) >>> 0, major >>> 0, minor >>> 0];
  const r = new Array<number>(11).fill(0);
  let pc = 0;
  for (let steps = 0; steps < 10000; steps++) {
    const i = prog[pc];
    assert.ok(i, `pc ${pc} out of program`);
    pc++;
    switch (i.code) {
      case OP.LDXW:
        assert.equal(i.src, 1);
        r[i.dst] = ctx[i.off / 4];
        break;
      case OP.AND32_K:
        r[i.dst] = (r[i.dst] & i.imm) >>> 0;
        break;
      case OP.RSH32_K:
        r[i.dst] = r[i.dst] >>> i.imm;
        break;
      case OP.MOV32_X:
        r[i.dst] = r[i.src] >>> 0;
        break;
      case OP.MOV32_K:
        r[i.dst] = i.imm >>> 0;
        break;
      case OP.JNE_K:
        if (r[i.dst] !== i.imm >>> 0) pc += i.off;
        break;
      case OP.JNE_X:
        if (r[i.dst] !== r[i.src]) pc += i.off;
        break;
      case OP.JEQ_K:
        if (r[i.dst] === i.imm >>> 0) pc += i.off;
        break;
      case OP.EXIT:
        return r[0];
      default:
        assert.fail(`unknown opcode ${i.code.toString(16)}`);
    }
  }
  assert.fail('program did not terminate');
}

const allowed = (rules: DeviceRule[], type: number, access: number, major: number, minor: number): boolean =>
  run(deviceFilter(rules), type, access, major, minor) === 1;

test('effectiveRules: deny all, then the default allow-list, then the config rules', () => {
  const rules = effectiveRules([{ allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }], [
    { type: 'c', path: '/dev/fuse', major: 10, minor: 229 },
  ]);
  assert.deepEqual(rules[0], { allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' });
  assert.equal(rules.length, 1 + DEFAULT_ALLOWED.length + 2);
  assert.deepEqual(rules.at(-2), { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
  assert.deepEqual(rules.at(-1), { allow: false, type: 'c', major: 1, minor: 7, access: 'rwm', configIndex: 0 });
});

test('effectiveRules: defaults for a spec rule without type/major/minor/access; invalid access rejected', () => {
  const r = effectiveRules([{ allow: true }]).at(-1);
  assert.deepEqual(r, { allow: true, type: 'a', major: -1, minor: -1, access: 'rwm', configIndex: 0 });
  assert.throws(() => effectiveRules([{ allow: true, type: 'c', access: 'rx' }]), /invalid access "rx"/);
});

test('v1Writes: deny a, then the allowed exceptions in cgroup v1 syntax; a config deny removes a default', () => {
  const w = v1Writes(effectiveRules([{ allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }]));
  assert.deepEqual(w[0], ['devices.deny', 'a']);
  assert.deepEqual(w[1], ['devices.allow', 'c *:* m']);
  assert.deepEqual(w[2], ['devices.allow', 'b *:* m']);
  assert.ok(w.some(([f, l]) => f === 'devices.allow' && l === 'c 136:* rwm'));
  assert.ok(w.some(([f, l]) => f === 'devices.allow' && l === 'c 1:3 rwm'));
  assert.ok(!w.some(([, l]) => l.startsWith('c 1:7 ')), '/dev/full: denied by the config, so never allowed');
  assert.equal(w.filter(([, l]) => l === 'a').length, 1);
});

test('v1Writes: the config\'s own rules come first, in its order (devices.list shows the write order), defaults after', () => {
  // runtime-tools' linux_cgroups_devices: deny all, then three allows
  const w = v1Writes(
    effectiveRules([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
      { allow: true, type: 'b', major: 8, minor: 20, access: 'rw' },
      { allow: true, type: 'b', major: 10, minor: 200, access: 'r' },
    ]),
  );
  assert.deepEqual(w.slice(0, 4), [
    ['devices.deny', 'a'],
    ['devices.allow', 'c 10:229 rwm'],
    ['devices.allow', 'b 8:20 rw'],
    ['devices.allow', 'b 10:200 r'],
  ]);
  assert.deepEqual(w[4], ['devices.allow', 'c *:* m'], 'then the defaults');
  // the same access as the rule list itself, by the emulator
  const rules = effectiveRules([{ allow: true, type: 'c', major: 4, minor: 1, access: 'r' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
  const replayed = emulate(w2rules(v1Writes(rules)));
  assert.deepEqual(
    new Set(replayed.exceptions.map(v1Line)),
    new Set(emulate(rules).exceptions.map(v1Line)),
  );
});

/** v1 writes back to rules (the kernel's view of them). */
function w2rules(w: Array<[string, string]>) {
  return w.map(([f, l]) => {
    const allow = f === 'devices.allow';
    if (l === 'a') return { allow, type: 'a' as const, major: -1, minor: -1, access: 'rwm' };
    const [type, mm, access] = l.split(' ');
    const [ma, mi] = mm.split(':').map((x) => (x === '*' ? -1 : Number(x)));
    return { allow, type: type as 'c' | 'b', major: ma, minor: mi, access };
  });
}

test('emulate: "a" resets, same-polarity rules remove access, exceptions merge', () => {
  const e = emulate([
    { allow: true, type: 'c', major: 1, minor: 1, access: 'r' },
    { allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'w' },
    { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 7, access: 'w' },
    { allow: true, type: 'c', major: 1, minor: 9, access: 'rw' },
    { allow: false, type: 'c', major: 1, minor: 9, access: 'rw' },
  ]);
  assert.equal(e.defaultAllow, false);
  assert.deepEqual(
    e.exceptions.map((x) => `${x.type} ${x.major}:${x.minor} ${x.access}`),
    ['c 1:3 rw', 'c 1:7 rm'],
  );
});

test('deviceFilter: default list allows /dev/null rw, mknod of anything, pts; denies others', () => {
  const rules = effectiveRules();
  assert.ok(allowed(rules, CHR, R | W, 1, 3));
  assert.ok(allowed(rules, CHR, R, 1, 7));
  assert.ok(allowed(rules, CHR, R | W, 136, 42));
  assert.ok(allowed(rules, CHR, M, 8, 1));
  assert.ok(allowed(rules, BLK, M, 8, 0));
  assert.ok(!allowed(rules, BLK, R, 8, 0));
  assert.ok(!allowed(rules, CHR, R, 10, 229));
  assert.ok(!allowed(rules, CHR, R, 4, 1));
});

test('effectiveRules: podman\'s lone "deny all" keeps the default devices allowed (as runc)', () => {
  const rules = effectiveRules([{ allow: false, access: 'rwm' }]);
  assert.ok(allowed(rules, CHR, R | W, 1, 3), '/dev/null');
  assert.ok(allowed(rules, CHR, R, 1, 5), '/dev/zero');
  assert.ok(allowed(rules, CHR, R | W, 136, 0), '/dev/pts/0');
  assert.ok(!allowed(rules, CHR, R, 10, 229), 'others stay denied');
  const w = v1Writes(rules);
  const lastDeny = w.map(([f, l]) => `${f} ${l}`).lastIndexOf('devices.deny a');
  assert.ok(w.slice(lastDeny).some(([f, l]) => f === 'devices.allow' && l === 'c 1:3 rwm'));
});

test('deviceFilter: a config deny overrides a default allow (last matching rule wins)', () => {
  const rules = effectiveRules([{ allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }]);
  assert.ok(!allowed(rules, CHR, R, 1, 7));
  assert.ok(!allowed(rules, CHR, W, 1, 7));
  assert.ok(allowed(rules, CHR, R, 1, 5));
});

test('deviceFilter: partial access and wildcards', () => {
  const rules = effectiveRules([
    { allow: true, type: 'c', major: 10, minor: 229, access: 'r' },
    { allow: true, type: 'b', major: 8, access: 'rw' },
  ]);
  assert.ok(allowed(rules, CHR, R, 10, 229));
  assert.ok(!allowed(rules, CHR, W, 10, 229));
  assert.ok(!allowed(rules, CHR, R | W, 10, 229));
  assert.ok(allowed(rules, BLK, R | W, 8, 17));
  assert.ok(!allowed(rules, BLK, R, 9, 0));
});

test('deviceFilter: allow-all default with deny exceptions (overlap denies)', () => {
  const rules: DeviceRule[] = [
    { allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 7, access: 'w' },
  ];
  assert.ok(allowed(rules, CHR, R, 1, 7));
  assert.ok(!allowed(rules, CHR, W, 1, 7));
  assert.ok(!allowed(rules, CHR, R | W, 1, 7));
  assert.ok(allowed(rules, BLK, R | W, 8, 0));
  const prog = deviceFilter(rules);
  assert.equal(prog.at(-2)!.imm, 1); // default: allow
});

test('encode: struct bpf_insn layout', () => {
  const b = encode([
    { code: OP.LDXW, dst: 2, src: 1, off: 4, imm: 0 },
    { code: OP.JNE_K, dst: 4, src: 0, off: -3, imm: 0x80000001 },
  ]);
  assert.equal(b.length, 16);
  assert.deepEqual([...b.subarray(0, 8)], [0x61, 0x12, 4, 0, 0, 0, 0, 0]);
  assert.equal(b[8], 0x55);
  assert.equal(b[9], 0x04);
  assert.equal(b.readInt16LE(10), -3);
  assert.equal(b.readUInt32LE(12), 0x80000001);
});
