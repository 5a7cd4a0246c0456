/*
 * shim.h - internal interfaces between the shim's source files.
 */
#ifndef TSRUN_SHIM_H
#define TSRUN_SHIM_H

#include <stdbool.h>
#include <sys/types.h>
#include "error.h"
#include "plan.h"

#define MAX_NS_JOIN 16

struct seccomp_filter;

/* Everything the parent (P) prepares for the container process (C). */
struct ctx {
  struct plan *plan;
  int mode;                  /* SHIM_MODE_* */
  int ctl;                   /* control fd; -1 once closed */
  int go_rd, go_wr;          /* P -> C: C's host pid once ids are mapped, then 'c' once C is in its cgroups */
  int st_rd, st_wr;          /* C -> P: '0' ready, '1' error; EOF = C gone */
  int ns_fd[MAX_NS_JOIN];    /* opened PLAN_NS_JOIN paths (or /proc/PID/ns/X in exec) */
  int ns_type[MAX_NS_JOIN];
  int n_ns;
  int mntns_fd;              /* the mount namespace C joins, -1: none */
  int fifo_fd;               /* O_PATH fd of the exec fifo, -1: none */
  int fifo_dirfd;            /* O_PATH dir of the exec fifo (fallback), -1: none */
  int proc_root_fd;          /* exec mode: /proc/PID/root */
  int pidfile_fd;            /* exec mode: pre-opened PLAN_PID_FILE */
  char *host_cgroups;        /* C's /proc/self/cgroup (host view) once in its cgroups, for cgroup mounts */
  bool new_userns;           /* C lives in a user namespace created for it */
  bool in_userns;            /* C lives in any non-initial user namespace */
  bool has_mntns;            /* C lives in a new or joined mount namespace */
  bool has_cgroupns;
  bool unshare_cgroupns;     /* C makes its cgroup namespace after joining its cgroups */
  bool unshare_ipcns;        /* C makes its IPC namespace once it is root in its new user namespace */
  bool born_in_cgroup;       /* P: C was cloned into its (v2) cgroup, nothing to join */
  mode_t saved_umask;
  struct seccomp_filter *seccomp;
  int seccomp_sock;          /* connected to PLAN_SECCOMP_LISTENER, -1: none */
  pid_t hostpid;             /* C: its own pid in the host's pid namespace */
};

/* main.c */
void child_wait_cgroups (struct ctx *c);

/* util.c */
int write_file (const char *path, const char *data, size_t len, struct shim_error *err);
int write_file_at (int dirfd, const char *path, const char *data, size_t len, struct shim_error *err);
/* read_whole_file (fileio.h) of at most 64 MiB, NULL with errno on failure */
char *read_file (const char *path, size_t *len_out);
/* O_PATH fd of PATH (absolute, inside the root) resolved with RESOLVE_IN_ROOT:
 * symlinks can never leave rootfd.  create: 0, RIR_MKDIR (mkdir -p), RIR_MKFILE
 * (parents + empty file). */
#define RIR_MKDIR 1
#define RIR_MKFILE 2
int resolve_in_root (int rootfd, const char *path, int create, struct shim_error *err);
/* Where a container path lies relative to /proc, lexically ("//proc/./x/"
 * counts): PROC_OUTSIDE, PROC_ITSELF ("/proc") or PROC_UNDER ("/proc/..."). */
enum { PROC_OUTSIDE = 0, PROC_ITSELF = 1, PROC_UNDER = 2 };
int proc_relation (const char *path);
/* 1 when fd is on a procfs, 0 when not, -1 (errno) when fstatfs fails */
int fd_on_procfs (int fd);
const char *procfd (int fd, char buf[32]);
int send_error (struct ctx *c, const struct shim_error *err);
int send_pid_msg (struct ctx *c, int msg, pid_t pid, struct shim_error *err);
int fd_cloexec (int fd, bool on);

/* ns.c */
int ns_open_joins (struct ctx *c, struct shim_error *err);
int ns_join_parent (struct ctx *c, struct shim_error *err);
int ns_time_offsets (struct ctx *c, struct shim_error *err);
pid_t ns_clone (unsigned long flags);
/* clone3 with CLONE_INTO_CGROUP (cgroup v2): -1 with errno when it cannot */
pid_t ns_clone_into (unsigned long flags, int cgroup_fd);
int ns_loopback_up (struct ctx *c, struct shim_error *err);
int ns_write_idmaps (struct ctx *c, pid_t pid, struct shim_error *err);
int ns_open_exec (struct ctx *c, pid_t target, struct shim_error *err);

/* rootfs.c */
int rootfs_prepare (struct ctx *c, struct shim_error *err);   /* b-e, before hooks */
int rootfs_pivot (struct ctx *c, struct shim_error *err);     /* h */
int rootfs_finalize (struct ctx *c, struct shim_error *err);  /* j: ro root, ro/masked paths */

/* process.c */
int process_hostname_sysctl (struct ctx *c, struct shim_error *err);
int process_rlimits (struct plan *p, struct shim_error *err);
int process_switch_user (struct ctx *c, struct shim_error *err);
int process_chdir (struct ctx *c, struct shim_error *err);
int process_lookup (struct plan *p, char **resolved, struct shim_error *err);
int process_fix_stdio (struct ctx *c, struct shim_error *err);
int process_close_fds (struct ctx *c, struct shim_error *err);
int process_default_home (struct plan *p, struct shim_error *err);
int process_cpu_affinity (struct plan *p, struct shim_error *err);

/* hooks.c */
int hooks_run (struct plan *p, int kind, struct shim_error *err);

/* terminal.c */
int terminal_setup (struct ctx *c, bool console, struct shim_error *err);

#endif
