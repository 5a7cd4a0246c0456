// Device cgroup rules: the effective rule list (deny all, runc's default
// allow-list, linux.devices, linux.resources.devices), the cgroup v1
// devices.allow/deny lines, and the cgroup v2 BPF_PROG_TYPE_CGROUP_DEVICE
// program.  Everything here is pure (no I/O) and unit-tested.
import type { Device, DeviceCgroup } from '../spec/types';
import { ConfigError } from '../errors';

export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  /** -1 = wildcard */
  major: number;
  minor: number;
  /** subset of "rwm" */
  access: string;
  /** its index in linux.resources.devices, for a rule the config wrote */
  configIndex?: number;
}

const rule = (type: 'a' | 'c' | 'b', major: number, minor: number, access: string, allow = true): DeviceRule => ({
  allow,
  type,
  major,
  minor,
  access,
});

/** runc's specconv.AllowedDevices (as rules). */
export const DEFAULT_ALLOWED: readonly DeviceRule[] = [
  rule('c', -1, -1, 'm'), // mknod of any char device
  rule('b', -1, -1, 'm'), // mknod of any block device
  rule('c', 1, 3, 'rwm'), // /dev/null
  rule('c', 1, 8, 'rwm'), // /dev/random
  rule('c', 1, 7, 'rwm'), // /dev/full
  rule('c', 5, 0, 'rwm'), // /dev/tty
  rule('c', 1, 5, 'rwm'), // /dev/zero
  rule('c', 1, 9, 'rwm'), // /dev/urandom
  rule('c', 136, -1, 'rwm'), // /dev/pts/*
  rule('c', 5, 2, 'rwm'), // /dev/ptmx
  rule('c', 5, 1, 'rwm'), // /dev/console
];

function normAccess(a: string | undefined, where: string): string {
  const s = a ?? 'rwm';
  let out = '';
  for (const ch of 'rwm') if (s.includes(ch)) out += ch;
  if ([...s].some((ch) => !'rwm'.includes(ch))) throw new ConfigError([`${where}: invalid access "${s}" (allowed: r, w, m)`]);
  return out;
}

/** One linux.resources.devices entry as a rule. */
export function fromSpec(d: DeviceCgroup, i: number): DeviceRule {
  const where = `linux.resources.devices[${i}]`;
  const type = d.type ?? 'a';
  if (type !== 'a' && type !== 'c' && type !== 'b') throw new ConfigError([`${where}: invalid type "${String(type)}"`]);
  return {
    allow: !!d.allow,
    type,
    major: d.major ?? -1,
    minor: d.minor ?? -1,
    access: normAccess(d.access, where),
    configIndex: i,
  };
}

/**
 * The full ordered rule list: deny all, runc's default allow-list, an allow
 * rwm for each linux.devices node, then linux.resources.devices in order (so a
 * config rule can deny a default device, e.g. /dev/full).  runc appends the
 * defaults after the config's rules instead; crun's order (ours) is what lets
 * a config deny take effect.  A config "deny all" is followed by the defaults
 * again, so they stay allowed as with runc (podman sends only the deny all).
 */
export function effectiveRules(resDevices: DeviceCgroup[] = [], linuxDevices: Device[] = []): DeviceRule[] {
  const baseline = (): DeviceRule[] => {
    const b = DEFAULT_ALLOWED.map((r) => ({ ...r }));
    for (const d of linuxDevices) {
      if ((d.type === 'c' || d.type === 'b' || d.type === 'u') && d.major !== undefined && d.minor !== undefined) {
        b.push(rule(d.type === 'b' ? 'b' : 'c', d.major, d.minor, 'rwm'));
      }
    }
    return b;
  };
  const out: DeviceRule[] = [rule('a', -1, -1, 'rwm', false), ...baseline()];
  resDevices.forEach((d, i) => {
    const r = fromSpec(d, i);
    out.push(r);
    // a config "deny all" (podman sends only that, relying on runc appending
    // its defaults) would reset the defaults: they come back right after it
    if (r.type === 'a' && !r.allow && r.access === 'rwm') out.push(...baseline());
  });
  return out;
}

const num = (n: number): string => (n < 0 ? '*' : String(n));

/** cgroup v1 "type major:minor access" line. */
export function v1Line(r: DeviceRule): string {
  if (r.type === 'a') return 'a';
  return `${r.type} ${num(r.major)}:${num(r.minor)} ${r.access}`;
}

/**
 * cgroup v1 writes, in order: [file, value].  Not the rule list itself but
 * what it amounts to (emulate): the default ("a"), then each exception once.
 * The kernel ends in the same state either way; this order is what
 * devices.list shows, so it lists the config's own rules first, in the
 * config's order, then tsrun's defaults (runtime-tools checks that
 * linux.resources.devices is applied in the listed order).
 */
export function v1Writes(rules: DeviceRule[]): Array<['devices.allow' | 'devices.deny', string]> {
  const { defaultAllow, exceptions } = emulate(rules);
  const fromConfig = exceptions.filter((r) => r.configIndex !== undefined).sort((a, b) => a.configIndex! - b.configIndex!);
  const others = exceptions.filter((r) => r.configIndex === undefined);
  const file = (allow: boolean) => (allow ? 'devices.allow' : 'devices.deny');
  return [[file(defaultAllow), 'a'], ...[...fromConfig, ...others].map((r) => [file(r.allow), v1Line(r)] as ['devices.allow' | 'devices.deny', string])];
}

/**
 * Emulates the cgroup v1 device controller over a rule list: returns the
 * default (allow or deny) and the exceptions to it, merged by (type, major,
 * minor).  Any "a" rule resets (as in the kernel, which ignores the rest of an
 * "a" line).  A rule with the default's polarity removes access bits from an
 * identical exception.
 */
export function emulate(rules: DeviceRule[]): { defaultAllow: boolean; exceptions: DeviceRule[] } {
  let defaultAllow = true; // a fresh v1 cgroup under an allow-all parent
  let ex = new Map<string, DeviceRule>();
  for (const r of rules) {
    if (r.type === 'a') {
      defaultAllow = r.allow;
      ex = new Map();
      continue;
    }
    const key = `${r.type} ${r.major} ${r.minor}`;
    const cur = ex.get(key);
    if (r.allow === defaultAllow) {
      if (!cur) continue;
      const left = [...cur.access].filter((c) => !r.access.includes(c)).join('');
      if (left) cur.access = left;
      else ex.delete(key);
    } else if (r.access) {
      const merged = cur ? [...'rwm'].filter((c) => cur.access.includes(c) || r.access.includes(c)).join('') : r.access;
      ex.delete(key); // re-insert: most recent last
      ex.set(key, { ...r, allow: !defaultAllow, access: merged });
    }
  }
  return { defaultAllow, exceptions: [...ex.values()] };
}

// ---- BPF ---------------------------------------------------------------------
// struct bpf_cgroup_dev_ctx { u32 access_type /* (ACC << 16) | DEV */; u32 major; u32 minor; }
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// opcodes
export const OP = {
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  AND32_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RSH32_K: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  MOV32_X: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  MOV32_K: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  JNE_K: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  JNE_X: 0x5d, // BPF_JMP | BPF_JNE | BPF_X
  JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

function accessBits(a: string): number {
  let b = 0;
  if (a.includes('r')) b |= BPF_DEVCG_ACC_READ;
  if (a.includes('w')) b |= BPF_DEVCG_ACC_WRITE;
  if (a.includes('m')) b |= BPF_DEVCG_ACC_MKNOD;
  return b;
}

/**
 * The BPF_PROG_TYPE_CGROUP_DEVICE program for a rule list (runc devicefilter
 * layout).  R2 = device type, R3 = requested access, R4 = major, R5 = minor;
 * one block per exception, each ending in "return allow"; the last block
 * returns the default.  Exceptions are emitted newest first, so the last
 * matching rule wins.  An allow exception matches when the requested access is
 * a subset of its access bits; a deny exception when they overlap (as the
 * v1 kernel does for deny exceptions).
 */
export function deviceFilter(rules: DeviceRule[]): Insn[] {
  const { defaultAllow, exceptions } = emulate(rules);
  const p: Insn[] = [
    I(OP.LDXW, 2, 1, 0), // r2 = ctx->access_type
    I(OP.AND32_K, 2, 0, 0, 0xffff), // r2 &= 0xffff (type)
    I(OP.LDXW, 3, 1, 0), // r3 = ctx->access_type
    I(OP.RSH32_K, 3, 0, 0, 16), // r3 >>= 16 (access)
    I(OP.LDXW, 4, 1, 4), // r4 = ctx->major
    I(OP.LDXW, 5, 1, 8), // r5 = ctx->minor
  ];
  for (const r of [...exceptions].reverse()) {
    const block: Insn[] = [];
    // each jump targets the start of the next block: patched below via "next" marker (-1)
    block.push(I(OP.JNE_K, 2, 0, -1, r.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
    const bits = accessBits(r.access);
    if (r.allow) {
      if (bits !== 7) {
        // if ((r3 & bits) != r3) goto next
        block.push(I(OP.MOV32_X, 1, 3), I(OP.AND32_K, 1, 0, 0, bits), I(OP.JNE_X, 1, 3, -1));
      }
    } else if (bits !== 7) {
      // if ((r3 & bits) == 0) goto next
      block.push(I(OP.MOV32_X, 1, 3), I(OP.AND32_K, 1, 0, 0, bits), I(OP.JEQ_K, 1, 0, -1, 0));
    }
    if (r.major >= 0) block.push(I(OP.JNE_K, 4, 0, -1, r.major));
    if (r.minor >= 0) block.push(I(OP.JNE_K, 5, 0, -1, r.minor));
    block.push(I(OP.MOV32_K, 0, 0, 0, r.allow ? 1 : 0), I(OP.EXIT));
    // patch jumps: offset is relative to the next instruction
    block.forEach((ins, idx) => {
      if (ins.off === -1 && ins.code !== OP.MOV32_K) ins.off = block.length - idx - 1;
    });
    p.push(...block);
  }
  p.push(I(OP.MOV32_K, 0, 0, 0, defaultAllow ? 1 : 0), I(OP.EXIT));
  return p;
}

/** struct bpf_insn[] bytes (little-endian). */
export function encode(insns: Insn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((ins, i) => {
    b.writeUInt8(ins.code, i * 8);
    b.writeUInt8((ins.dst & 0xf) | ((ins.src & 0xf) << 4), i * 8 + 1);
    b.writeInt16LE(ins.off, i * 8 + 2);
    b.writeInt32LE(ins.imm | 0, i * 8 + 4);
  });
  return b;
}
