/*
 * security.h - the process's security attributes, applied by the container
 * process (create) or the exec'd process (exec) just before execve.
 * Implemented in src/security.c and src/seccomp.c; called by the process
 * set-up code in this order:
 *
 *   apply_personality, apply_scheduler, apply_ioprio      (any time after clone)
 *   seccomp_prepare          before pivot_root (builds the filter, loads nothing)
 *   apply_apparmor / apply_selinux_label                   (after pivot_root)
 *   apply_no_new_privs       if PLAN_FLAG_NO_NEW_PRIVS
 *   seccomp_filter_load      here when NOT no_new_privs (needs CAP_SYS_ADMIN)
 *   caps_drop_bounding       before the user switch
 *   [core: PR_SET_KEEPCAPS, setgroups, setresgid, setresuid]
 *   caps_apply               effective/permitted/inheritable/ambient
 *   [core: wait for start on the exec fifo, startContainer hooks]
 *   seccomp_filter_load      here when no_new_privs (as late as possible)
 *   execve
 *
 * The tlv/len arguments are the value of the plan's group tag (PLAN_SECCOMP,
 * PLAN_IOPRIO, PLAN_SCHEDULER; PLAN_CAPS goes through caps_parse once); a
 * NULL tlv means "not in the plan" and the function does nothing and
 * returns 0.
 */
#ifndef TSRUN_SECURITY_H
#define TSRUN_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

struct seccomp_filter;

int seccomp_prepare (const uint8_t *tlv, size_t len, struct seccomp_filter **out, struct shim_error *err);
/* Not "seccomp_load": libseccomp (linked in statically) owns that name. */
int seccomp_filter_load (struct seccomp_filter *filter, struct shim_error *err);
void seccomp_filter_free (struct seccomp_filter *filter);
/* Seccomp notify (SCMP_ACT_NOTIFY): connect to the listenerPath (on the host,
 * before any namespace is joined); after seccomp_filter_load, send the
 * listener fd with the container process state (0x01 bytes in state become
 * pid) and close both fds.  Without a notify rule send only closes sock. */
int seccomp_listener_connect (const char *path, struct shim_error *err);
int seccomp_listener_send (struct seccomp_filter *filter, int sock, const char *path, const char *state, pid_t pid,
                           struct shim_error *err);

/* The plan's PLAN_CAPS group, parsed once (present false: not in the plan,
 * and the two calls below do nothing). */
struct caps_masks
{
  bool present;
  uint64_t bounding, effective, permitted, inheritable, ambient;
};
int caps_parse (const uint8_t *tlv, size_t len, struct caps_masks *m, struct shim_error *err);
int caps_drop_bounding (const struct caps_masks *m, struct shim_error *err);
int caps_apply (const struct caps_masks *m, struct shim_error *err);

int apply_no_new_privs (struct shim_error *err);
int apply_personality (uint64_t domain, struct shim_error *err);
int apply_ioprio (const uint8_t *tlv, size_t len, struct shim_error *err);
int apply_scheduler (const uint8_t *tlv, size_t len, struct shim_error *err);
int apply_apparmor (const char *profile, struct shim_error *err);
int apply_selinux_label (const char *label, struct shim_error *err);

#endif
