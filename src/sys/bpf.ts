// bpf(2) for cgroup v2 device control: load a BPF_PROG_TYPE_CGROUP_DEVICE
// program, attach it to a cgroup directory (BPF_F_ALLOW_MULTI), list and
// detach the programs already attached.  koffi is loaded lazily via libc.ts.
import * as fs from 'fs';
import { SystemError } from '../errors';
import { check, errno, fn, koffi } from './libc';

const NR_BPF: Record<string, number> = { x64: 321, arm64: 280, ia32: 357, arm: 386, riscv64: 280, ppc64: 361, s390x: 351 };

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 2;

function bpf(cmd: number, attr: Buffer): number {
  const nr = NR_BPF[process.arch];
  if (nr === undefined) throw new SystemError(`bpf: unsupported architecture ${process.arch}`);
  const sys = fn('long syscall(long number, ...)');
  return Number(sys(nr, 'int', cmd, 'void *', attr, 'unsigned int', attr.length));
}

/** Address of a Buffer's memory (the attr fields are u64 pointers). */
function addr(b: Buffer): bigint {
  const k = koffi();
  return BigInt(k.address(b) as unknown as bigint);
}

/**
 * Loads a program (insns = struct bpf_insn[] bytes).  Returns its fd.  On a
 * verifier error the message carries the verifier log.
 */
export function loadDeviceProgram(insns: Buffer, license = 'Apache-2.0'): number {
  const lic = Buffer.from(license + '\0');
  const log = Buffer.alloc(64 * 1024);
  const attr = Buffer.alloc(72); // up to expected_attach_type
  attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0);
  attr.writeUInt32LE(insns.length / 8, 4);
  attr.writeBigUInt64LE(addr(insns), 8);
  attr.writeBigUInt64LE(addr(lic), 16);
  attr.write('tsrun_dev', 48);
  // load without a verifier log first (a verbose log can overflow the buffer:
  // ENOSPC); only on failure load again with the log, to report it
  let fd = bpf(BPF_PROG_LOAD, attr);
  if (fd < 0) {
    const e = errno();
    attr.writeUInt32LE(1, 24); // log_level
    attr.writeUInt32LE(log.length, 28);
    attr.writeBigUInt64LE(addr(log), 32);
    fd = bpf(BPF_PROG_LOAD, attr);
    if (fd >= 0) return fd;
    const text = log.toString('utf8', 0, Math.max(0, log.indexOf(0))).trim();
    try {
      check(-1, 'bpf(BPF_PROG_LOAD)');
    } catch (err) {
      throw new SystemError((err as Error).message + (text ? `; verifier log:\n${text}` : ''), e);
    }
  }
  // the kernel has copied insns/license by now; keep them referenced until here
  void insns.length;
  void lic.length;
  return fd;
}

function openDir(dir: string): number {
  try {
    return fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (err) {
    throw new SystemError(`open "${dir}": ${(err as Error).message}`, 0, { cause: err });
  }
}

/** union bpf_attr for BPF_PROG_ATTACH / BPF_PROG_DETACH: target_fd, attach_bpf_fd, attach_type, attach_flags. */
function attachAttr(cgroupFd: number, progFd: number, flags: number): Buffer {
  const attr = Buffer.alloc(20);
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
  attr.writeUInt32LE(flags, 12);
  return attr;
}

export function attachDeviceProgram(cgroupDir: string, progFd: number): void {
  const dfd = openDir(cgroupDir);
  try {
    check(bpf(BPF_PROG_ATTACH, attachAttr(dfd, progFd, BPF_F_ALLOW_MULTI)), 'bpf(BPF_PROG_ATTACH)', cgroupDir);
  } finally {
    fs.closeSync(dfd);
  }
}

/** Ids of the device programs attached directly to cgroupDir. */
export function queryDevicePrograms(cgroupDir: string): number[] {
  const dfd = openDir(cgroupDir);
  try {
    const ids = Buffer.alloc(4 * 64);
    const attr = Buffer.alloc(32);
    attr.writeUInt32LE(dfd, 0);
    attr.writeUInt32LE(BPF_CGROUP_DEVICE, 4);
    attr.writeBigUInt64LE(addr(ids), 16);
    attr.writeUInt32LE(64, 24);
    check(bpf(BPF_PROG_QUERY, attr), 'bpf(BPF_PROG_QUERY)', cgroupDir);
    const n = attr.readUInt32LE(24);
    return Array.from({ length: Math.min(n, 64) }, (_, i) => ids.readUInt32LE(i * 4));
  } finally {
    fs.closeSync(dfd);
  }
}

export function detachDeviceProgram(cgroupDir: string, progId: number): void {
  const a = Buffer.alloc(12);
  a.writeUInt32LE(progId, 0);
  const pfd = check(bpf(BPF_PROG_GET_FD_BY_ID, a), 'bpf(BPF_PROG_GET_FD_BY_ID)', cgroupDir);
  const dfd = openDir(cgroupDir);
  try {
    check(bpf(BPF_PROG_DETACH, attachAttr(dfd, pfd, 0)), 'bpf(BPF_PROG_DETACH)', cgroupDir);
  } finally {
    fs.closeSync(dfd);
    fs.closeSync(pfd);
  }
}

/**
 * Loads insns and attaches them to cgroupDir, then detaches the device
 * programs that were attached before (so an update replaces the filter
 * without a window where no filter applies).
 */
export function setDeviceFilter(cgroupDir: string, insns: Buffer): void {
  const old = queryDevicePrograms(cgroupDir);
  const pfd = loadDeviceProgram(insns);
  try {
    attachDeviceProgram(cgroupDir, pfd);
  } finally {
    fs.closeSync(pfd);
  }
  for (const id of old) detachDeviceProgram(cgroupDir, id);
}
