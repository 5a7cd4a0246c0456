// Mirror of native-shim/include/protocol.h (the definition); test/unit/protocol.test.ts
// checks that every constant here equals the header's. Change both together.

export const TSRUN = {
  PROTOCOL_VERSION: 1,
  FRAME_HEADER_LEN: 8,
  TLV_HEADER_LEN: 6,
  MAX_FRAME_LEN: 16777216,
} as const;

export const MSG = {
  PLAN: 1,
  PID: 2,
  READY: 3,
  ERROR: 4,
  HOOKS: 5,
  CONTINUE: 6,
  ABORT: 7,
} as const;

export const SHIM_MODE = {
  CREATE: 1,
  EXEC: 2,
} as const;

export const PID = {
  PID: 1,
} as const;

export const ERR = {
  MESSAGE: 1,
  ERRNO: 2,
  STEP: 3,
  PATH: 4,
} as const;

export const PLAN = {
  VERSION: 1,
  FLAGS: 2,
  ROOTFS: 3,
  ROOTFS_PROPAGATION: 4,
  NS_NEW: 5,
  NS_JOIN: 6,
  UID_MAP: 7,
  GID_MAP: 8,
  HOSTNAME: 9,
  DOMAINNAME: 10,
  ROOTFS_MOUNT: 11,
  MOUNT: 12,
  DEVICE: 13,
  MASKED_PATH: 14,
  READONLY_PATH: 15,
  SYSCTL: 16,
  CGROUP_PROCS: 17,
  EXEC_FIFO: 18,
  ARG: 19,
  ENV: 20,
  CWD: 21,
  UID: 22,
  GID: 23,
  ADDITIONAL_GID: 24,
  UMASK: 25,
  RLIMIT: 26,
  CAPS: 27,
  OOM_SCORE_ADJ: 28,
  SECCOMP: 29,
  APPARMOR: 30,
  SELINUX_LABEL: 31,
  PERSONALITY: 32,
  IOPRIO: 33,
  SCHEDULER: 34,
  HOOK: 35,
  HOOK_STATE: 36,
  PRESERVE_FDS: 37,
  CONSOLE_SOCKET: 38,
  JOIN_PID: 39,
  TIME_OFFSET: 40,
  MOUNT_LABEL: 41,
  PID_FILE: 42,
  CPU_AFFINITY: 43,
  SECCOMP_LISTENER: 44,
  HOOK_STATE_START: 45,
  SECCOMP_STATE: 46,
  UID_MAP_HELPER: 47,
  GID_MAP_HELPER: 48,
} as const;

export const PLAN_FLAG = {
  KEEP_PARENT: 0x1,
  NO_PIVOT: 0x2,
  ROOT_READONLY: 0x4,
  TERMINAL: 0x8,
  NO_NEW_PRIVS: 0x10,
  SYNC_HOOKS: 0x20,
  SETGROUPS_DENY: 0x40,
  DETACH: 0x80,
  NO_NEW_KEYRING: 0x100,
  NO_DEFAULT_DEVICES: 0x200,
} as const;

export const NSJ = {
  TYPE: 1,
  PATH: 2,
} as const;

export const MT = {
  SOURCE: 1,
  DEST: 2,
  TYPE: 3,
  FLAGS: 4,
  DATA: 5,
  PROPAGATION: 6,
  ATTR_SET: 7,
  ATTR_CLEAR: 8,
  CHDIR: 9,
  IDMAP_USERNS: 10,
} as const;

export const DV = {
  PATH: 1,
  TYPE: 2,
  MAJOR: 3,
  MINOR: 4,
  MODE: 5,
  UID: 6,
  GID: 7,
} as const;

export const KV = {
  KEY: 1,
  VALUE: 2,
} as const;

export const RL = {
  RESOURCE: 1,
  SOFT: 2,
  HARD: 3,
} as const;

export const CAPS = {
  BOUNDING: 1,
  EFFECTIVE: 2,
  PERMITTED: 3,
  INHERITABLE: 4,
  AMBIENT: 5,
} as const;

export const IOP = {
  CLASS: 1,
  LEVEL: 2,
} as const;

export const SCHD = {
  POLICY: 1,
  NICE: 2,
  PRIORITY: 3,
  FLAGS: 4,
  RUNTIME: 5,
  DEADLINE: 6,
  PERIOD: 7,
} as const;

export const HOOK = {
  KIND: 1,
  PATH: 2,
  ARG: 3,
  ENV: 4,
  TIMEOUT: 5,
} as const;

export const HOOK_KIND = {
  CREATE_CONTAINER: 1,
  START_CONTAINER: 2,
} as const;

export const TOFF = {
  CLOCK: 1,
  SECS: 2,
  NANOSECS: 3,
} as const;

export const SC = {
  DEFAULT_ACTION: 1,
  DEFAULT_ERRNO: 2,
  ARCH: 3,
  FLAG: 4,
  RULE: 5,
} as const;

export const RULE = {
  NAME: 1,
  ACTION: 2,
  ERRNO: 3,
  ARG: 4,
} as const;

export const ARG = {
  INDEX: 1,
  VALUE: 2,
  VALUE_TWO: 3,
  OP: 4,
} as const;

export const SCA = {
  KILL: 1,
  KILL_PROCESS: 2,
  TRAP: 3,
  ERRNO: 4,
  TRACE: 5,
  ALLOW: 6,
  LOG: 7,
  NOTIFY: 8,
  KILL_THREAD: 9,
} as const;

export const SCO = {
  NE: 1,
  LT: 2,
  LE: 3,
  EQ: 4,
  GE: 5,
  GT: 6,
  MASKED_EQ: 7,
} as const;
