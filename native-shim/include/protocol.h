/*
 * protocol.h - the one definition of how tsrun (TypeScript) talks to its
 * stage-1 shim.  src/shim/protocol.ts mirrors every constant below and
 * test/unit/protocol.test.ts checks that the two agree, so change both.
 *
 * Transport: one AF_UNIX stream socket, the "control fd", whose number is
 * given to the shim as argv[2] ("tsrun-shim <mode> <ctl-fd>").
 *
 * Frames (both directions):   u32 payload_len | u16 msg | u16 zero | payload
 * The payload of every frame is a TLV list:  u16 tag | u32 len | len bytes
 * All integers are little endian.  Integer values are 8 bytes (u64/i64).
 * Strings are raw bytes without a terminating NUL.  A tag that repeats forms
 * a list, in order.  A "group" tag carries a nested TLV list as its value.
 *
 * Sequence for create / run:
 *   TS  -> shim  MSG_PLAN            (the whole plan, once)
 *   shim -> TS   MSG_PID             (host pid of the container init, as soon
 *                                     as it exists, so TS can always clean up)
 *   shim -> TS   MSG_HOOKS           (only when PLAN_FLAG_SYNC_HOOKS is set:
 *                                     namespaces exist, rootfs not yet pivoted;
 *                                     TS runs prestart + createRuntime hooks)
 *   TS  -> shim  MSG_CONTINUE | MSG_ABORT
 *                                    (MSG_CONTINUE may carry PLAN_HOOK_STATE
 *                                     and PLAN_HOOK_STATE_START: the state
 *                                     JSON, now with the pid, for the hooks
 *                                     the shim runs; TS sets SYNC_HOOKS when
 *                                     there are createContainer/startContainer
 *                                     hooks so that they get the pid)
 *   shim -> TS   MSG_READY | MSG_ERROR  (init waits on the exec fifo)
 * then every shim process closes the control fd; TS reads until EOF.
 *
 * Sequence for exec: the same, without MSG_HOOKS; MSG_READY means the
 * process is about to execve (or has been started, with PLAN_FLAG_DETACH).
 */
#ifndef TSRUN_PROTOCOL_H
#define TSRUN_PROTOCOL_H

#define TSRUN_PROTOCOL_VERSION 1

/* ---- frame header ---- */
#define TSRUN_FRAME_HEADER_LEN 8
#define TSRUN_TLV_HEADER_LEN 6
#define TSRUN_MAX_FRAME_LEN 16777216

/* ---- messages ---- */
#define MSG_PLAN 1
#define MSG_PID 2
#define MSG_READY 3
#define MSG_ERROR 4
#define MSG_HOOKS 5
#define MSG_CONTINUE 6
#define MSG_ABORT 7

/* ---- shim modes (argv[1]) ---- */
#define SHIM_MODE_CREATE 1
#define SHIM_MODE_EXEC 2

/* ---- MSG_PID / MSG_READY payload ---- */
#define PID_PID 1                 /* u64 host pid of the container process */

/* ---- MSG_ERROR payload ---- */
#define ERR_MESSAGE 1             /* string: whole message, e.g. 'mount "/proc": Operation not permitted' */
#define ERR_ERRNO 2               /* u64: errno, 0 when none */
#define ERR_STEP 3                /* string: the step that failed ("mount", "pivot_root", "exec", ...) */
#define ERR_PATH 4                /* string: the path involved, may be empty */

/* ---- plan: top-level tags ---- */
#define PLAN_VERSION 1            /* u64 TSRUN_PROTOCOL_VERSION */
#define PLAN_FLAGS 2              /* u64 PLAN_FLAG_* */
#define PLAN_ROOTFS 3             /* string: absolute host path of the root */
#define PLAN_ROOTFS_PROPAGATION 4 /* u64: MS_* propagation for "/" (default MS_SLAVE|MS_REC) */
#define PLAN_NS_NEW 5             /* u64: CLONE_NEW* flags of namespaces to create */
#define PLAN_NS_JOIN 6            /* group NSJ_*: a namespace to join by path (repeat) */
#define PLAN_UID_MAP 7            /* string: contents written to /proc/PID/uid_map */
#define PLAN_GID_MAP 8            /* string: contents written to /proc/PID/gid_map */
#define PLAN_HOSTNAME 9           /* string */
#define PLAN_DOMAINNAME 10        /* string */
#define PLAN_ROOTFS_MOUNT 11      /* group MT_*: mounted onto PLAN_ROOTFS first (overlay of image layers) */
#define PLAN_MOUNT 12             /* group MT_*: config.mounts, in order (repeat) */
#define PLAN_DEVICE 13            /* group DV_*: device node to create in /dev (repeat) */
#define PLAN_MASKED_PATH 14       /* string (repeat) */
#define PLAN_READONLY_PATH 15     /* string (repeat) */
#define PLAN_SYSCTL 16            /* group KV_* (repeat) */
#define PLAN_CGROUP_PROCS 17      /* string: cgroup.procs file the shim joins before clone (repeat) */
#define PLAN_EXEC_FIFO 18         /* string: absolute host path of the exec fifo (create mode) */
#define PLAN_ARG 19               /* string (repeat): process.args */
#define PLAN_ENV 20               /* string (repeat): process.env, "K=V" */
#define PLAN_CWD 21               /* string */
#define PLAN_UID 22               /* u64 */
#define PLAN_GID 23               /* u64 */
#define PLAN_ADDITIONAL_GID 24    /* u64 (repeat) */
#define PLAN_UMASK 25             /* u64; absent: leave the umask alone */
#define PLAN_RLIMIT 26            /* group RL_* (repeat) */
#define PLAN_CAPS 27              /* group CAPS_*: absent means keep all */
#define PLAN_OOM_SCORE_ADJ 28     /* i64 as u64 */
#define PLAN_SECCOMP 29           /* group SC_*, see below */
#define PLAN_APPARMOR 30          /* string: profile for the exec */
#define PLAN_SELINUX_LABEL 31     /* string: exec label */
#define PLAN_PERSONALITY 32       /* u64: personality(2) domain */
#define PLAN_IOPRIO 33            /* group IOP_* */
#define PLAN_SCHEDULER 34         /* group SCHD_* */
#define PLAN_HOOK 35              /* group HOOK_*: createContainer / startContainer hooks (repeat) */
#define PLAN_HOOK_STATE 36        /* string: the state JSON given to hooks the shim runs */
#define PLAN_PRESERVE_FDS 37      /* u64: fds 3 .. 3+N-1 pass to the process */
#define PLAN_CONSOLE_SOCKET 38    /* u64: fd of a connected AF_UNIX socket for the pty master */
#define PLAN_JOIN_PID 39          /* u64: exec mode: pid whose namespaces are joined */
#define PLAN_TIME_OFFSET 40       /* group TOFF_* (repeat): time namespace offsets */
#define PLAN_MOUNT_LABEL 41       /* string: SELinux mount label */
#define PLAN_PID_FILE 42          /* string: exec mode: file to write the process pid to */
#define PLAN_CPU_AFFINITY 43      /* string: exec mode: cpu list for sched_setaffinity, e.g. "0-1,3" */
#define PLAN_SECCOMP_LISTENER 44  /* string: listenerPath for SCMP_ACT_NOTIFY (unused unless set) */
#define PLAN_HOOK_STATE_START 45  /* string: the state JSON given to startContainer hooks (default: PLAN_HOOK_STATE) */
#define PLAN_SECCOMP_STATE 46     /* string: container process state JSON sent with the notify fd; each 0x01 byte is replaced by the process's host pid */
#define PLAN_UID_MAP_HELPER 47    /* string: path of newuidmap(1): P runs "<it> <pid> <PLAN_UID_MAP's numbers>" instead of writing uid_map (rootless, /etc/subuid ranges) */
#define PLAN_GID_MAP_HELPER 48    /* string: path of newgidmap(1), the same for gid_map (it denies setgroups itself when no /etc/subgid range is used) */

/* PLAN_FLAGS bits */
#define PLAN_FLAG_KEEP_PARENT 0x1     /* the shim parent waits for the process and exits with its status (run/exec in the foreground) */
#define PLAN_FLAG_NO_PIVOT 0x2        /* MS_MOVE + chroot instead of pivot_root (--no-pivot) */
#define PLAN_FLAG_ROOT_READONLY 0x4   /* root.readonly */
#define PLAN_FLAG_TERMINAL 0x8        /* process.terminal */
#define PLAN_FLAG_NO_NEW_PRIVS 0x10   /* process.noNewPrivileges */
#define PLAN_FLAG_SYNC_HOOKS 0x20     /* stop at MSG_HOOKS: prestart/createRuntime hooks, hook state with the pid */
#define PLAN_FLAG_SETGROUPS_DENY 0x40 /* write "deny" to /proc/PID/setgroups before gid_map */
#define PLAN_FLAG_DETACH 0x80         /* exec mode: do not wait for the process */
#define PLAN_FLAG_NO_NEW_KEYRING 0x100 /* do not create a session keyring */
#define PLAN_FLAG_NO_DEFAULT_DEVICES 0x200 /* /dev is a bind mount: create no device nodes */

/* NSJ_* (PLAN_NS_JOIN) */
#define NSJ_TYPE 1                /* u64: the CLONE_NEW* flag of the namespace */
#define NSJ_PATH 2                /* string */

/* MT_* (PLAN_MOUNT, PLAN_ROOTFS_MOUNT) */
#define MT_SOURCE 1              /* string */
#define MT_DEST 2                /* string: absolute path inside the container root */
#define MT_TYPE 3                /* string: fstype; "bind" for bind mounts */
#define MT_FLAGS 4               /* u64: MS_* flags for mount(2) */
#define MT_DATA 5                /* string: fs-specific options ("mode=755,size=65536k") */
#define MT_PROPAGATION 6         /* u64: MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE [|MS_REC], applied after */
#define MT_ATTR_SET 7            /* u64: MOUNT_ATTR_* set recursively (mount_setattr), e.g. rro */
#define MT_ATTR_CLEAR 8          /* u64: MOUNT_ATTR_* cleared recursively */
#define MT_CHDIR 9               /* string: directory to chdir to before mounting (short overlay lowerdirs) */
#define MT_IDMAP_USERNS 10       /* string: path of a user namespace for an idmapped mount */

/* DV_* (PLAN_DEVICE) */
#define DV_PATH 1                /* string: absolute path inside the container, e.g. /dev/null */
#define DV_TYPE 2                /* u64: 'c', 'b', 'p' (fifo) */
#define DV_MAJOR 3               /* u64 */
#define DV_MINOR 4               /* u64 */
#define DV_MODE 5                /* u64: permission bits */
#define DV_UID 6                 /* u64 */
#define DV_GID 7                 /* u64 */

/* KV_* (PLAN_SYSCTL) */
#define KV_KEY 1                  /* string: "net.ipv4.ip_forward" */
#define KV_VALUE 2                /* string */

/* RL_* (PLAN_RLIMIT) */
#define RL_RESOURCE 1           /* u64: RLIMIT_* number */
#define RL_SOFT 2               /* u64 */
#define RL_HARD 3               /* u64 */

/* CAPS_* (PLAN_CAPS): u64 bit masks, bit N = capability number N */
#define CAPS_BOUNDING 1
#define CAPS_EFFECTIVE 2
#define CAPS_PERMITTED 3
#define CAPS_INHERITABLE 4
#define CAPS_AMBIENT 5

/* IOP_* (PLAN_IOPRIO) */
#define IOP_CLASS 1            /* u64: IOPRIO_CLASS_RT=1, BE=2, IDLE=3 */
#define IOP_LEVEL 2            /* u64 */

/* SCHD_* (PLAN_SCHEDULER) */
#define SCHD_POLICY 1            /* u64: SCHED_OTHER=0, FIFO=1, RR=2, BATCH=3, IDLE=5, DEADLINE=6 */
#define SCHD_NICE 2              /* i64 as u64 */
#define SCHD_PRIORITY 3          /* u64 */
#define SCHD_FLAGS 4             /* u64: SCHED_FLAG_* */
#define SCHD_RUNTIME 5           /* u64 ns */
#define SCHD_DEADLINE 6          /* u64 ns */
#define SCHD_PERIOD 7            /* u64 ns */

/* HOOK_* (PLAN_HOOK) */
#define HOOK_KIND 1               /* u64: HOOK_KIND_* */
#define HOOK_PATH 2               /* string */
#define HOOK_ARG 3                /* string (repeat) */
#define HOOK_ENV 4                /* string (repeat) */
#define HOOK_TIMEOUT 5            /* u64 seconds, 0 = none */
#define HOOK_KIND_CREATE_CONTAINER 1
#define HOOK_KIND_START_CONTAINER 2

/* TOFF_* (PLAN_TIME_OFFSET) */
#define TOFF_CLOCK 1              /* string: "monotonic" | "boottime" */
#define TOFF_SECS 2               /* i64 as u64 */
#define TOFF_NANOSECS 3           /* u64 */

/*
 * SC_* (PLAN_SECCOMP): the OCI seccomp object lowered to numbers.  Actions
 * are libseccomp's SCMP_ACT_* base values below; the errno of an ERRNO/TRACE
 * action travels separately.  Syscall names stay strings: libseccomp resolves
 * them per architecture, and an unknown name is skipped as runc does.
 */
#define SC_DEFAULT_ACTION 1     /* u64 SCA_* */
#define SC_DEFAULT_ERRNO 2      /* u64 */
#define SC_ARCH 3               /* string (repeat): "SCMP_ARCH_X86_64" */
#define SC_FLAG 4               /* string (repeat): "SECCOMP_FILTER_FLAG_LOG" */
#define SC_RULE 5               /* group RULE_* (repeat) */
#define RULE_NAME 1               /* string (repeat): syscall names */
#define RULE_ACTION 2             /* u64 SCA_* */
#define RULE_ERRNO 3              /* u64; absent = EPERM for ERRNO actions */
#define RULE_ARG 4                /* group ARG_* (repeat) */
#define ARG_INDEX 1               /* u64 */
#define ARG_VALUE 2               /* u64 */
#define ARG_VALUE_TWO 3           /* u64 */
#define ARG_OP 4                  /* u64 SCO_* */

#define SCA_KILL 1        /* SCMP_ACT_KILL (kill thread) */
#define SCA_KILL_PROCESS 2
#define SCA_TRAP 3
#define SCA_ERRNO 4
#define SCA_TRACE 5
#define SCA_ALLOW 6
#define SCA_LOG 7
#define SCA_NOTIFY 8
#define SCA_KILL_THREAD 9

#define SCO_NE 1
#define SCO_LT 2
#define SCO_LE 3
#define SCO_EQ 4
#define SCO_GE 5
#define SCO_GT 6
#define SCO_MASKED_EQ 7

#endif /* TSRUN_PROTOCOL_H */
