/*
 * security_test.c - checks security.c and seccomp.c against the real kernel.
 * Needs root.  Build and run (from the repository top):
 *
 *   gcc -Wall -Wextra -Werror -Inative-shim/include native-shim/src/tlv.c \
 *     native-shim/src/error.c native-shim/src/security.c native-shim/src/seccomp.c \
 *     native-shim/test/security_test.c -l:libseccomp.a -static -o build/security_test
 *   build/security_test
 *
 * Each case runs in a forked child (filters and capabilities cannot be
 * undone); the child reports through its exit status and stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol.h"
#include "security.h"
#include "tlv.h"

static int failures;

#define CHECK(cond, ...)                                                                                              \
  do                                                                                                                  \
    {                                                                                                                 \
      if (!(cond))                                                                                                    \
        {                                                                                                             \
          fprintf (stderr, "  FAIL %s:%d: ", __FILE__, __LINE__);                                                     \
          fprintf (stderr, __VA_ARGS__);                                                                              \
          fprintf (stderr, "\n");                                                                                     \
          _exit (1);                                                                                                  \
        }                                                                                                             \
    }                                                                                                                 \
  while (0)

/* Runs fn in a child; expect_signal 0 means it must exit 0. */
static void
run_case (const char *name, void (*fn) (void), int expect_signal)
{
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    {
      perror ("fork");
      exit (2);
    }
  if (pid == 0)
    {
      fn ();
      _exit (0);
    }
  int status;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  int ok;
  if (expect_signal)
    ok = WIFSIGNALED (status) && WTERMSIG (status) == expect_signal;
  else
    ok = WIFEXITED (status) && WEXITSTATUS (status) == 0;
  printf ("%s %s\n", ok ? "ok  " : "FAIL", name);
  if (!ok)
    {
      if (WIFSIGNALED (status))
        printf ("     (killed by signal %d)\n", WTERMSIG (status));
      failures++;
    }
}

/* ---- plan builders ---------------------------------------------------- */

static void
put_group (struct tlv_buf *outer, uint16_t tag, struct tlv_buf *inner)
{
  tlvb_put (outer, tag, inner->data, (uint32_t) inner->len);
  tlvb_free (inner);
}

struct argspec
{
  uint64_t index, value, value_two, op;
};

static void
add_rule (struct tlv_buf *sc, const char *const *names, uint64_t action, int64_t errnum, const struct argspec *args,
          size_t nargs)
{
  struct tlv_buf rule = { 0 };
  for (const char *const *n = names; *n; n++)
    tlvb_str (&rule, RULE_NAME, *n);
  tlvb_u64 (&rule, RULE_ACTION, action);
  if (errnum >= 0)
    tlvb_u64 (&rule, RULE_ERRNO, (uint64_t) errnum);
  for (size_t i = 0; i < nargs; i++)
    {
      struct tlv_buf a = { 0 };
      tlvb_u64 (&a, ARG_INDEX, args[i].index);
      tlvb_u64 (&a, ARG_VALUE, args[i].value);
      tlvb_u64 (&a, ARG_VALUE_TWO, args[i].value_two);
      tlvb_u64 (&a, ARG_OP, args[i].op);
      put_group (&rule, RULE_ARG, &a);
    }
  put_group (sc, SC_RULE, &rule);
}

static void
prepare_and_load (struct tlv_buf *sc)
{
  struct shim_error err = { 0 };
  struct seccomp_filter *f = NULL;
  int ret = seccomp_prepare (sc->data, sc->len, &f, &err);
  CHECK (ret == 0, "seccomp_prepare: %s", err.msg);
  CHECK (f != NULL, "seccomp_prepare returned no filter");
  ret = seccomp_filter_load (f, &err);
  CHECK (ret == 0, "seccomp_filter_load: %s", err.msg);
  seccomp_filter_free (f);
}

/* ---- seccomp cases ---------------------------------------------------- */

static void
case_seccomp_errno_rules (void)
{
  struct tlv_buf sc = { 0 };
  tlvb_u64 (&sc, SC_DEFAULT_ACTION, SCA_ALLOW);
  tlvb_str (&sc, SC_ARCH, "SCMP_ARCH_X86_64");
  tlvb_str (&sc, SC_ARCH, "SCMP_ARCH_X86");
  tlvb_str (&sc, SC_ARCH, "SCMP_ARCH_X32");
  tlvb_str (&sc, SC_FLAG, "SECCOMP_FILTER_FLAG_LOG");
  tlvb_str (&sc, SC_FLAG, "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
  tlvb_str (&sc, SC_FLAG, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");

  /* mkdir/mkdirat -> ENOMEDIUM (123); an unknown name in the list is skipped */
  add_rule (&sc, (const char *[]){ "tsrun_no_such_syscall", "mkdir", "mkdirat", NULL }, SCA_ERRNO, ENOMEDIUM, NULL, 0);
  /* chmod without errnoRet -> EPERM */
  add_rule (&sc, (const char *[]){ "chmod", "fchmodat", NULL }, SCA_ERRNO, -1, NULL, 0);
  /* AND: getpriority(0, 4242) -> EXDEV, other combinations pass */
  struct argspec and_args[] = { { 0, 0, 0, SCO_EQ }, { 1, 4242, 0, SCO_EQ } };
  add_rule (&sc, (const char *[]){ "getpriority", NULL }, SCA_ERRNO, EXDEV, and_args, 2);
  /* OR on the same argument: umask(0022) and umask(0077) -> ENOTTY */
  struct argspec or_args[] = { { 0, 022, 0, SCO_EQ }, { 0, 077, 0, SCO_EQ } };
  add_rule (&sc, (const char *[]){ "umask", NULL }, SCA_ERRNO, ENOTTY, or_args, 2);
  /* MASKED_EQ: setpriority(which, who, prio) with (prio & 0xf0) == 0x10 -> EDOM */
  struct argspec masked[] = { { 2, 0xf0, 0x10, SCO_MASKED_EQ } };
  add_rule (&sc, (const char *[]){ "setpriority", NULL }, SCA_ERRNO, EDOM, masked, 1);
  /* a rule with the default action is skipped (libseccomp would refuse it) */
  add_rule (&sc, (const char *[]){ "getpid", NULL }, SCA_ALLOW, -1, NULL, 0);

  prepare_and_load (&sc);
  tlvb_free (&sc);

  errno = 0;
  CHECK (mkdir ("/tmp/tsrun-seccomp-test-never", 0700) < 0 && errno == ENOMEDIUM, "mkdir: errno %d, want %d", errno,
         ENOMEDIUM);
  errno = 0;
  CHECK (chmod ("/", 0755) < 0 && errno == EPERM, "chmod: errno %d, want EPERM", errno);
  errno = 0;
  CHECK (syscall (SYS_getpriority, 0, 4242) < 0 && errno == EXDEV, "getpriority(0,4242): errno %d, want EXDEV", errno);
  errno = 0;
  CHECK (syscall (SYS_getpriority, 0, 0) >= 0, "getpriority(0,0) failed: %s", strerror (errno));
  errno = 0;
  CHECK (syscall (SYS_getpriority, 1, 4242) < 0 && errno != EXDEV, "getpriority(1,4242): errno %d", errno);
  errno = 0;
  CHECK (syscall (SYS_umask, 022) < 0 && errno == ENOTTY, "umask(022): errno %d, want ENOTTY", errno);
  errno = 0;
  CHECK (syscall (SYS_umask, 077) < 0 && errno == ENOTTY, "umask(077): errno %d, want ENOTTY", errno);
  CHECK (syscall (SYS_umask, 033) >= 0, "umask(033) failed: %s", strerror (errno));
  errno = 0;
  CHECK (syscall (SYS_setpriority, 0, 0, 0x13) < 0 && errno == EDOM, "setpriority(.., 0x13): errno %d, want EDOM",
         errno);
  CHECK (syscall (SYS_setpriority, 0, 0, 0x3) == 0, "setpriority(.., 3) failed: %s", strerror (errno));
  CHECK (getpid () > 0, "getpid");
}

static void
case_seccomp_default_errno (void)
{
  /* deny-by-default like podman's profile: default ERRNO(ENOSYS... here ENOANO) */
  struct tlv_buf sc = { 0 };
  tlvb_u64 (&sc, SC_DEFAULT_ACTION, SCA_ERRNO);
  tlvb_u64 (&sc, SC_DEFAULT_ERRNO, ENOANO);
  add_rule (&sc, (const char *[]){ "write", "exit", "exit_group", "rt_sigreturn", "getpid", NULL }, SCA_ALLOW, -1,
            NULL, 0);
  prepare_and_load (&sc);
  tlvb_free (&sc);
  CHECK (getpid () > 0, "getpid must be allowed");
  errno = 0;
  CHECK (syscall (SYS_getppid) < 0 && errno == ENOANO, "getppid: errno %d, want ENOANO", errno);
  errno = 0;
  CHECK (syscall (SYS_getuid) < 0 && errno == ENOANO, "getuid: errno %d, want ENOANO", errno);
}

static void
case_seccomp_kill_process (void)
{
  struct tlv_buf sc = { 0 };
  tlvb_u64 (&sc, SC_DEFAULT_ACTION, SCA_ALLOW);
  add_rule (&sc, (const char *[]){ "getppid", NULL }, SCA_KILL_PROCESS, -1, NULL, 0);
  prepare_and_load (&sc);
  tlvb_free (&sc);
  syscall (SYS_getppid);
  CHECK (0, "still alive after getppid");
}

static void
case_seccomp_errors (void)
{
  struct shim_error err = { 0 };
  struct seccomp_filter *f = NULL;

  /* NOTIFY compiles (the listener fd is made at load time) */
  struct tlv_buf sc = { 0 };
  tlvb_u64 (&sc, SC_DEFAULT_ACTION, SCA_ALLOW);
  add_rule (&sc, (const char *[]){ "mkdir", NULL }, SCA_NOTIFY, -1, NULL, 0);
  CHECK (seccomp_prepare (sc.data, sc.len, &f, &err) == 0, "NOTIFY refused: %s", err.msg);
  CHECK (f != NULL, "no filter for NOTIFY");
  seccomp_filter_free (f);
  f = NULL;
  tlvb_free (&sc);

  /* unknown architecture */
  tlvb_u64 (&sc, SC_DEFAULT_ACTION, SCA_ALLOW);
  tlvb_str (&sc, SC_ARCH, "SCMP_ARCH_VAX");
  CHECK (seccomp_prepare (sc.data, sc.len, &f, &err) < 0, "unknown arch accepted");
  CHECK (strstr (err.msg, "unknown architecture \"SCMP_ARCH_VAX\"") != NULL, "message: %s", err.msg);
  tlvb_free (&sc);

  /* unknown flag */
  tlvb_u64 (&sc, SC_DEFAULT_ACTION, SCA_ALLOW);
  tlvb_str (&sc, SC_FLAG, "SECCOMP_FILTER_FLAG_BOGUS");
  CHECK (seccomp_prepare (sc.data, sc.len, &f, &err) < 0, "unknown flag accepted");
  CHECK (strstr (err.msg, "SECCOMP_FILTER_FLAG_BOGUS") != NULL, "message: %s", err.msg);
  tlvb_free (&sc);

  /* argument index out of range */
  tlvb_u64 (&sc, SC_DEFAULT_ACTION, SCA_ALLOW);
  struct argspec bad[] = { { 6, 0, 0, SCO_EQ } };
  add_rule (&sc, (const char *[]){ "mkdir", NULL }, SCA_ERRNO, -1, bad, 1);
  CHECK (seccomp_prepare (sc.data, sc.len, &f, &err) < 0, "arg index 6 accepted");
  CHECK (strstr (err.msg, "argument index 6") != NULL, "message: %s", err.msg);
  tlvb_free (&sc);

  /* NULL tlv: nothing */
  CHECK (seccomp_prepare (NULL, 0, &f, &err) == 0 && f == NULL, "NULL plan");
  CHECK (seccomp_filter_load (NULL, &err) == 0, "load NULL");
}

/* ---- capabilities ----------------------------------------------------- */

static uint64_t
status_field (const char *field)
{
  FILE *f = fopen ("/proc/self/status", "re");
  CHECK (f != NULL, "open /proc/self/status");
  char line[256];
  size_t flen = strlen (field);
  uint64_t v = ~UINT64_C (0);
  while (fgets (line, sizeof line, f))
    if (strncmp (line, field, flen) == 0 && line[flen] == ':')
      v = strtoull (line + flen + 1, NULL, 16);
  fclose (f);
  CHECK (v != ~UINT64_C (0), "no %s in /proc/self/status", field);
  return v;
}

#define BIT(n) (UINT64_C (1) << (n))
#define C_CHOWN 0
#define C_KILL 5
#define C_SETGID 6
#define C_SETUID 7
#define C_SETPCAP 8
#define C_NET_BIND_SERVICE 10
#define C_NET_RAW 13
#define C_SYS_ADMIN 21

static void
caps_group (struct tlv_buf *g, uint64_t bnd, uint64_t eff, uint64_t perm, uint64_t inh, uint64_t amb)
{
  tlvb_u64 (g, CAPS_BOUNDING, bnd);
  tlvb_u64 (g, CAPS_EFFECTIVE, eff);
  tlvb_u64 (g, CAPS_PERMITTED, perm);
  tlvb_u64 (g, CAPS_INHERITABLE, inh);
  tlvb_u64 (g, CAPS_AMBIENT, amb);
}

/* the plan's PLAN_CAPS group, parsed as finish_process does */
static struct caps_masks
parsed (const struct tlv_buf *g)
{
  struct shim_error err = { 0 };
  struct caps_masks m;
  CHECK (caps_parse (g ? g->data : NULL, g ? g->len : 0, &m, &err) == 0, "caps_parse: %s", err.msg);
  return m;
}

static void
case_caps (void)
{
  struct shim_error err = { 0 };
  struct caps_masks m;
  struct tlv_buf g = { 0 };
  uint64_t bnd = BIT (C_CHOWN) | BIT (C_KILL) | BIT (C_NET_BIND_SERVICE) | BIT (C_SETPCAP);
  uint64_t perm = BIT (C_CHOWN) | BIT (C_KILL) | BIT (C_NET_BIND_SERVICE);
  uint64_t eff = BIT (C_CHOWN) | BIT (C_KILL);
  uint64_t inh = BIT (C_NET_BIND_SERVICE);
  uint64_t amb = BIT (C_NET_BIND_SERVICE);
  caps_group (&g, bnd, eff, perm, inh, amb);
  m = parsed (&g);

  CHECK (caps_drop_bounding (&m, &err) == 0, "caps_drop_bounding: %s", err.msg);
  CHECK (status_field ("CapBnd") == bnd, "CapBnd %llx, want %llx", (unsigned long long) status_field ("CapBnd"),
         (unsigned long long) bnd);
  CHECK (caps_apply (&m, &err) == 0, "caps_apply: %s", err.msg);
  CHECK (status_field ("CapEff") == eff, "CapEff %llx", (unsigned long long) status_field ("CapEff"));
  CHECK (status_field ("CapPrm") == perm, "CapPrm %llx", (unsigned long long) status_field ("CapPrm"));
  CHECK (status_field ("CapInh") == inh, "CapInh %llx", (unsigned long long) status_field ("CapInh"));
  CHECK (status_field ("CapAmb") == amb, "CapAmb %llx", (unsigned long long) status_field ("CapAmb"));
  CHECK (status_field ("CapBnd") == bnd, "CapBnd changed");
  tlvb_free (&g);
}

static void
case_caps_after_setuid (void)
{
  /* the core's sequence for a non-root user: bounding, keepcaps, setuid, apply */
  struct shim_error err = { 0 };
  struct caps_masks m;
  struct tlv_buf g = { 0 };
  uint64_t set = BIT (C_NET_BIND_SERVICE) | BIT (C_NET_RAW);
  caps_group (&g, set, set, set, 0, 0);
  m = parsed (&g);
  CHECK (caps_drop_bounding (&m, &err) == 0, "caps_drop_bounding: %s", err.msg);
  CHECK (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0, "keepcaps");
  CHECK (setresgid (1000, 1000, 1000) == 0, "setresgid");
  CHECK (setresuid (1000, 1000, 1000) == 0, "setresuid");
  CHECK (caps_apply (&m, &err) == 0, "caps_apply: %s", err.msg);
  CHECK (status_field ("CapEff") == set, "CapEff %llx", (unsigned long long) status_field ("CapEff"));
  CHECK (status_field ("CapPrm") == set, "CapPrm %llx", (unsigned long long) status_field ("CapPrm"));
  CHECK (status_field ("CapBnd") == set, "CapBnd %llx", (unsigned long long) status_field ("CapBnd"));
  tlvb_free (&g);
}

static void
case_caps_empty (void)
{
  struct shim_error err = { 0 };
  struct caps_masks m;
  struct tlv_buf g = { 0 };
  caps_group (&g, 0, 0, 0, 0, 0);
  m = parsed (&g);
  CHECK (caps_drop_bounding (&m, &err) == 0, "caps_drop_bounding: %s", err.msg);
  CHECK (caps_apply (&m, &err) == 0, "caps_apply: %s", err.msg);
  CHECK (status_field ("CapBnd") == 0 && status_field ("CapEff") == 0 && status_field ("CapPrm") == 0,
         "capabilities left");
  tlvb_free (&g);
  /* not in the plan: keep all */
  struct caps_masks none = parsed (NULL);
  CHECK (caps_drop_bounding (&none, &err) == 0 && caps_apply (&none, &err) == 0, "NULL group");
}

static void
case_caps_errors (void)
{
  struct shim_error err = { 0 };
  struct caps_masks m;
  struct tlv_buf g = { 0 };
  /* ambient without inheritable (runc's and crun's default spec, buildah):
     not raised, no error, as runc and crun do */
  caps_group (&g, BIT (C_KILL), BIT (C_KILL), BIT (C_KILL), 0, BIT (C_KILL));
  m = parsed (&g);
  CHECK (caps_apply (&m, &err) == 0, "ambient without inheritable refused: %s", err.msg);
  CHECK (status_field ("CapAmb") == 0 && status_field ("CapPrm") == BIT (C_KILL), "CapAmb %llx CapPrm %llx",
         (unsigned long long) status_field ("CapAmb"), (unsigned long long) status_field ("CapPrm"));
  tlvb_free (&g);
  /* effective outside permitted */
  caps_group (&g, BIT (C_KILL), BIT (C_SYS_ADMIN), BIT (C_KILL), 0, 0);
  m = parsed (&g);
  CHECK (caps_apply (&m, &err) < 0, "effective outside permitted accepted");
  CHECK (strncmp (err.msg, "capset: ", 8) == 0 && err.errnum == EPERM, "message: %s", err.msg);
  tlvb_free (&g);
}

/* ---- the rest --------------------------------------------------------- */

static void
case_misc (void)
{
  struct shim_error err = { 0 };

  CHECK (apply_no_new_privs (&err) == 0, "apply_no_new_privs: %s", err.msg);
  CHECK (status_field ("NoNewPrivs") == 1, "NoNewPrivs not set");

  CHECK (apply_personality (0x8, &err) == 0, "apply_personality: %s", err.msg);
  CHECK (personality (0xffffffff) == 0x8, "personality is %x", personality (0xffffffff));

  struct tlv_buf g = { 0 };
  tlvb_u64 (&g, IOP_CLASS, 2);
  tlvb_u64 (&g, IOP_LEVEL, 5);
  CHECK (apply_ioprio (g.data, g.len, &err) == 0, "apply_ioprio: %s", err.msg);
  long prio = syscall (SYS_ioprio_get, 1, 0);
  CHECK (prio == ((2 << 13) | 5), "ioprio is %lx", prio);
  tlvb_free (&g);

  tlvb_u64 (&g, SCHD_POLICY, 3); /* SCHED_BATCH */
  tlvb_u64 (&g, SCHD_NICE, 7);
  CHECK (apply_scheduler (g.data, g.len, &err) == 0, "apply_scheduler: %s", err.msg);
  CHECK (sched_getscheduler (0) == 3, "policy is %d", sched_getscheduler (0));
  CHECK (getpriority (PRIO_PROCESS, 0) == 7, "nice is %d", getpriority (PRIO_PROCESS, 0));
  tlvb_free (&g);

  /* negative nice travels as i64 */
  tlvb_u64 (&g, SCHD_POLICY, 0);
  tlvb_u64 (&g, SCHD_NICE, (uint64_t) (int64_t) -3);
  CHECK (apply_scheduler (g.data, g.len, &err) == 0, "apply_scheduler: %s", err.msg);
  CHECK (getpriority (PRIO_PROCESS, 0) == -3, "nice is %d", getpriority (PRIO_PROCESS, 0));
  tlvb_free (&g);

  tlvb_u64 (&g, SCHD_POLICY, 6); /* SCHED_DEADLINE without parameters: EINVAL, message names the call */
  CHECK (apply_scheduler (g.data, g.len, &err) < 0, "bad deadline accepted");
  CHECK (strncmp (err.msg, "sched_setattr", 13) == 0, "message: %s", err.msg);
  tlvb_free (&g);

  CHECK (apply_apparmor (NULL, &err) == 0 && apply_apparmor ("", &err) == 0, "empty apparmor profile");
  CHECK (apply_selinux_label (NULL, &err) == 0, "empty selinux label");
  if (access ("/sys/module/apparmor/parameters/enabled", F_OK) != 0)
    {
      CHECK (apply_apparmor ("tsrun-test", &err) < 0, "apparmor accepted on a host without it");
      CHECK (strcmp (err.msg, "apparmor profile \"tsrun-test\" requested but AppArmor is not enabled on this host")
                 == 0,
             "message: %s", err.msg);
    }
  if (access ("/sys/fs/selinux/enforce", F_OK) != 0)
    {
      CHECK (apply_selinux_label ("system_u:system_r:container_t:s0", &err) < 0, "selinux accepted");
      CHECK (strstr (err.msg, "SELinux is not enabled on this host") != NULL, "message: %s", err.msg);
    }
}

/* security_test --seccomp-plan FILE [--nnp] -- ARGV...: FILE holds the value of a
 * PLAN_SECCOMP group (as lowered by src/shim/lower-security.ts); load it and exec. */
static int
exec_with_plan (int argc, char **argv)
{
  const char *file = argv[2];
  int i = 3, nnp = 0;
  if (i < argc && strcmp (argv[i], "--nnp") == 0)
    {
      nnp = 1;
      i++;
    }
  if (i >= argc || strcmp (argv[i], "--") != 0 || i + 1 >= argc)
    {
      fprintf (stderr, "usage: security_test --seccomp-plan FILE [--nnp] -- ARGV...\n");
      return 2;
    }
  FILE *f = fopen (file, "re");
  if (f == NULL)
    {
      perror (file);
      return 2;
    }
  static uint8_t buf[1 << 20];
  size_t len = fread (buf, 1, sizeof buf, f);
  fclose (f);
  struct shim_error err = { 0 };
  struct seccomp_filter *filter = NULL;
  if (seccomp_prepare (buf, len, &filter, &err) < 0 || (nnp && apply_no_new_privs (&err) < 0)
      || seccomp_filter_load (filter, &err) < 0)
    {
      fprintf (stderr, "security_test: %s\n", err.msg);
      return 3;
    }
  seccomp_filter_free (filter);
  execv (argv[i + 1], argv + i + 1);
  perror ("execv");
  return 127;
}

int
main (int argc, char **argv)
{
  if (argc > 2 && strcmp (argv[1], "--seccomp-plan") == 0)
    return exec_with_plan (argc, argv);
  if (geteuid () != 0)
    {
      fprintf (stderr, "security_test: needs root\n");
      return 77;
    }
  run_case ("seccomp: errno rules, AND/OR/masked args, archs, flags", case_seccomp_errno_rules, 0);
  run_case ("seccomp: default errno", case_seccomp_default_errno, 0);
  run_case ("seccomp: kill process", case_seccomp_kill_process, SIGSYS);
  run_case ("seccomp: errors", case_seccomp_errors, 0);
  run_case ("caps: bounding/effective/permitted/inheritable/ambient", case_caps, 0);
  run_case ("caps: after setuid with keepcaps", case_caps_after_setuid, 0);
  run_case ("caps: empty set", case_caps_empty, 0);
  run_case ("caps: errors", case_caps_errors, 0);
  run_case ("no_new_privs, personality, ioprio, scheduler, apparmor, selinux", case_misc, 0);
  printf (failures ? "%d FAILED\n" : "all passed\n", failures);
  return failures ? 1 : 0;
}
