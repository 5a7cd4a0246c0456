// Mount options of config.json lowered to mount(2) flags, as runc parses them.

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  I_VERSION: 0x800000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  ATIME_MASK: 0x70,
  NODIRATIME: 0x80,
  IDMAP: 0x100000,
  NOSYMFOLLOW: 0x200000,
} as const;

/** [clear?, flag] for each flag option */
const FLAGS: Record<string, [boolean, number]> = {
  acl: [false, 0],
  async: [true, MS.SYNCHRONOUS],
  atime: [true, MS.NOATIME],
  bind: [false, MS.BIND],
  defaults: [false, 0],
  dev: [true, MS.NODEV],
  diratime: [true, MS.NODIRATIME],
  dirsync: [false, MS.DIRSYNC],
  exec: [true, MS.NOEXEC],
  iversion: [false, MS.I_VERSION],
  lazytime: [false, MS.LAZYTIME],
  loud: [true, MS.SILENT],
  mand: [false, MS.MANDLOCK],
  noatime: [false, MS.NOATIME],
  nodev: [false, MS.NODEV],
  nodiratime: [false, MS.NODIRATIME],
  noexec: [false, MS.NOEXEC],
  noiversion: [true, MS.I_VERSION],
  nolazytime: [true, MS.LAZYTIME],
  nomand: [true, MS.MANDLOCK],
  norelatime: [true, MS.RELATIME],
  nostrictatime: [true, MS.STRICTATIME],
  nosuid: [false, MS.NOSUID],
  nosymfollow: [false, MS.NOSYMFOLLOW],
  rbind: [false, MS.BIND | MS.REC],
  relatime: [false, MS.RELATIME],
  remount: [false, MS.REMOUNT],
  ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY],
  silent: [false, MS.SILENT],
  strictatime: [false, MS.STRICTATIME],
  suid: [true, MS.NOSUID],
  sync: [false, MS.SYNCHRONOUS],
  symfollow: [true, MS.NOSYMFOLLOW],
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** [clear?, MOUNT_ATTR] for the recursive ("r"-prefixed) options, applied with mount_setattr */
const RECURSIVE: Record<string, [boolean, number]> = {
  rro: [false, MOUNT_ATTR.RDONLY],
  rrw: [true, MOUNT_ATTR.RDONLY],
  rnosuid: [false, MOUNT_ATTR.NOSUID],
  rsuid: [true, MOUNT_ATTR.NOSUID],
  rnodev: [false, MOUNT_ATTR.NODEV],
  rdev: [true, MOUNT_ATTR.NODEV],
  rnoexec: [false, MOUNT_ATTR.NOEXEC],
  rexec: [true, MOUNT_ATTR.NOEXEC],
  rnodiratime: [false, MOUNT_ATTR.NODIRATIME],
  rdiratime: [true, MOUNT_ATTR.NODIRATIME],
  rrelatime: [false, MOUNT_ATTR.RELATIME],
  rnorelatime: [true, MOUNT_ATTR.RELATIME],
  rnoatime: [false, MOUNT_ATTR.NOATIME],
  ratime: [true, MOUNT_ATTR.NOATIME],
  rstrictatime: [false, MOUNT_ATTR.STRICTATIME],
  rnostrictatime: [true, MOUNT_ATTR.STRICTATIME],
  rnosymfollow: [false, MOUNT_ATTR.NOSYMFOLLOW],
  rsymfollow: [true, MOUNT_ATTR.NOSYMFOLLOW],
};

export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  attrSet: number;
  attrClear: number;
  /** everything else, for the filesystem: "mode=755,size=65536k" */
  data: string;
  /** options tsrun understood but the kernel need not see (tmpcopyup, idmap, X-*) */
  extensions: string[];
}

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  let attrSet = 0;
  let attrClear = 0;
  const data: string[] = [];
  const extensions: string[] = [];
  for (const opt of options) {
    const f = FLAGS[opt];
    if (f) {
      if (f[0]) flags &= ~f[1];
      else flags |= f[1];
      continue;
    }
    if (opt in PROPAGATION) {
      propagation = PROPAGATION[opt];
      continue;
    }
    const r = RECURSIVE[opt];
    if (r) {
      // the atime options form one field in MOUNT_ATTR: setting one clears the others
      if (!r[0] && r[1] & MOUNT_ATTR.ATIME_MASK) attrClear |= MOUNT_ATTR.ATIME_MASK;
      if (r[0]) attrClear |= r[1];
      else attrSet |= r[1];
      if (opt === 'rrelatime') attrClear |= MOUNT_ATTR.ATIME_MASK;
      continue;
    }
    if (opt === 'tmpcopyup' || opt === 'idmap' || opt === 'ridmap' || opt.startsWith('X-') || opt.startsWith('x-')) {
      extensions.push(opt);
      continue;
    }
    data.push(opt);
  }
  return { flags, propagation, attrSet, attrClear, data: data.join(','), extensions };
}

export const KNOWN_MOUNT_OPTIONS: readonly string[] = [
  ...Object.keys(FLAGS),
  ...Object.keys(PROPAGATION),
  ...Object.keys(RECURSIVE),
  'tmpcopyup',
  'idmap',
  'ridmap',
].sort();

export function propagationFlags(name: string): number | undefined {
  return PROPAGATION[name];
}
