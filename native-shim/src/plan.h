/*
 * plan.h - the decoded MSG_PLAN (see protocol.h for every field's meaning).
 * Strings are strdup'ed; group blobs that security.c parses itself (caps,
 * seccomp, ioprio, scheduler) point into plan->raw, which stays allocated.
 */
#ifndef TSRUN_PLAN_H
#define TSRUN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

struct blob {
  const uint8_t *val;          /* NULL: absent */
  size_t len;
};

struct mount_entry {
  char *source, *dest, *type, *data, *chdir, *idmap_userns;
  uint64_t flags, propagation, attr_set, attr_clear;
};

struct device_entry {
  char *path;
  int type;                    /* 'c', 'b', 'p' */
  uint64_t major, minor, mode, uid, gid;
  bool has_uid, has_gid;
};

struct kv { char *key, *value; };
struct ns_join { uint64_t type; char *path; };
struct rlimit_entry { int resource; uint64_t soft, hard; };
struct time_offset { char *clock; int64_t secs; uint64_t nsecs; };

struct hook {
  int kind;
  char *path;
  char **args;                 /* NULL-terminated */
  char **env;                  /* NULL-terminated */
  uint64_t timeout;
};

/* NULL-terminated string vector with a count */
struct strv { char **v; size_t n; };

struct plan {
  uint8_t *raw;
  uint32_t raw_len;

  uint64_t flags;
  char *rootfs;
  uint64_t rootfs_propagation;  /* 0: default MS_SLAVE|MS_REC */
  uint64_t ns_new;
  struct ns_join *ns_join; size_t n_ns_join;
  char *uid_map, *gid_map, *uid_map_helper, *gid_map_helper, *hostname, *domainname;
  struct mount_entry *rootfs_mount;   /* NULL: bind PLAN_ROOTFS onto itself */
  struct mount_entry *mounts; size_t n_mounts;
  struct device_entry *devices; size_t n_devices;
  struct strv masked, readonly, cgroup_procs, args, env;
  struct kv *sysctl; size_t n_sysctl;
  char *exec_fifo;
  char *cwd;
  uid_t uid; gid_t gid;
  gid_t *groups; size_t n_groups;
  bool has_umask; mode_t umask;
  struct rlimit_entry *rlimits; size_t n_rlimits;
  struct blob caps, seccomp, ioprio, scheduler;
  bool has_oom_score_adj; int64_t oom_score_adj;
  char *apparmor, *selinux_label, *mount_label;
  bool has_personality; uint64_t personality;
  struct hook *hooks; size_t n_hooks;
  char *hook_state;
  char *hook_state_start;     /* startContainer hooks; NULL: hook_state */
  uint64_t preserve_fds;
  int console_socket;           /* -1: none */
  pid_t join_pid;               /* exec mode */
  struct time_offset *time_offsets; size_t n_time_offsets;
  char *pid_file, *cpu_affinity, *seccomp_listener, *seccomp_state;
};

/* Decode a MSG_PLAN payload; takes ownership of raw. */
int plan_decode (struct plan *p, uint8_t *raw, uint32_t len, struct shim_error *err);
/* The value of NAME in a "K=V" vector, or NULL. */
const char *strv_getenv (const struct strv *env, const char *name);
/* Appends str (owned) to a NULL-terminated vector. */
void strv_push (struct strv *s, char *str);

#endif
