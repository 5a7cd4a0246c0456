/*
 * main.c - tsrun-shim, the stage-1 helper of tsrun.
 *
 *   tsrun-shim create <ctl-fd>     create the container init (see protocol.h)
 *   tsrun-shim exec <ctl-fd>       start a process inside a running container
 *
 * P is the shim process started by tsrun; C is the process it clones (the
 * container init, or the exec'd process).  P joins cgroups and namespaces,
 * creates C, maps its ids and reports its pid; C sets up everything else and
 * reports READY or ERROR itself on the control fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "protocol.h"
#include "security.h"
#include "shim.h"
#include "tlv.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* ---- re-exec from a sealed memfd (runc CVE-2019-5736) ---- */

static int
ensure_cloned_binary (char **argv, struct shim_error *err)
{
  int exe = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe < 0)
    return shim_fail_errno (err, "re-exec", "/proc/self/exe");
  if (fcntl (exe, F_GET_SEALS) == SEALS)
    {
      close (exe);
      return 0;
    }
  /* a container process can open /proc/<our pid>/exe; if that were the host
     binary it could overwrite it.  Run from a sealed, anonymous copy. */
  int mfd = memfd_create ("tsrun-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0)
    return shim_fail (err, errno, "re-exec", NULL, "memfd_create: %s", strerror (errno));
  struct stat st;
  if (fstat (exe, &st) < 0)
    return shim_fail_errno (err, "re-exec", "/proc/self/exe");
  off_t left = st.st_size;
  while (left > 0)
    {
      ssize_t n = sendfile (mfd, exe, NULL, (size_t) left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return shim_fail (err, n < 0 ? errno : EIO, "re-exec", "/proc/self/exe", "copy the shim binary: %s",
                          strerror (n < 0 ? errno : EIO));
      left -= n;
    }
  close (exe);
  if (fcntl (mfd, F_ADD_SEALS, SEALS) < 0)
    return shim_fail (err, errno, "re-exec", NULL, "seal the shim copy: %s", strerror (errno));
  syscall (SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
  return shim_fail (err, errno, "re-exec", NULL, "execveat the shim copy: %s", strerror (errno));
}

/* ---- helpers ---- */

/* For tests only: TSRUN_TEST_SHIM_KILL_AT=<step> (tsrun passes it through
   from its own environment) makes the shim SIGKILL itself at that step, as a
   crash at the worst moment would.  The steps are listed in
   src/runtime/crashpoint.ts (SHIM_STEPS). */
static void
test_kill_point (const char *step)
{
  static const char *at;
  static int checked;
  if (!checked)
    {
      at = getenv ("TSRUN_TEST_SHIM_KILL_AT");
      checked = 1;
    }
  if (at != NULL && strcmp (at, step) == 0)
    {
      /* the init of a new pid namespace ignores even its own SIGKILL:
         there, die at once by exiting with the status SIGKILL would give */
      if (getpid () == 1)
        syscall (SYS_exit_group, 128 + SIGKILL);
      kill (getpid (), SIGKILL);
      for (;;)
        pause ();
    }
}

/* Every signal at its default, none blocked: what the container process must
 * start with whoever started us (posix_spawn in glibc leaves its two internal
 * signals, 32 and 33, ignored; glibc's sigaction refuses to touch them, so the
 * raw system call). */
static void
default_signals (void)
{
  struct {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
  } ksa = { SIG_DFL, 0, NULL, 0 };
  uint64_t none = 0;
  for (int sig = 1; sig < 65; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      syscall (SYS_rt_sigaction, sig, &ksa, NULL, sizeof ksa.mask);
  syscall (SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

static void
ignore_signals (void)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2,
                              SIGPIPE, SIGWINCH };
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    signal (sigs[i], SIG_IGN);
}

static ssize_t
read_retry (int fd, void *buf, size_t n)
{
  ssize_t r;
  do
    r = read (fd, buf, n);
  while (r < 0 && errno == EINTR);
  return r;
}

static void
write_byte (int fd, char b)
{
  if (fd >= 0)
    while (write (fd, &b, 1) < 0 && errno == EINTR)
      ;
}

/* The container's cgroup when it is a cgroup v2 one alone (a pure v2 host),
 * opened for clone3's CLONE_INTO_CGROUP; -1 otherwise (v1 and hybrid hosts
 * write cgroup.procs files). */
static int
open_v2_cgroup (struct plan *p)
{
  char dir[4096];
  struct statfs sfs;
  if (p->cgroup_procs.n != 1)
    return -1;
  snprintf (dir, sizeof dir, "%s", p->cgroup_procs.v[0]);
  char *slash = strrchr (dir, '/');
  if (slash == NULL || strcmp (slash, "/cgroup.procs") != 0)
    return -1;
  *slash = '\0';
  if (statfs (dir, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
    return -1;
  return open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Moves pid into the cgroup dir cgfd is open on. */
static int
join_cgroup_fd (int cgfd, pid_t pid, struct shim_error *err)
{
  char val[24];
  int n = snprintf (val, sizeof val, "%d", pid);
  int ret = write_file_at (cgfd, "cgroup.procs", val, (size_t) n, err);
  if (ret < 0)
    return shim_fail (err, err->errnum, "cgroup", "cgroup.procs", "join cgroup: %s", strerror (err->errnum));
  return 0;
}

static int
join_cgroups (struct plan *p, pid_t who, struct shim_error *err)
{
  char pid[24];
  int n = snprintf (pid, sizeof pid, "%d", who);
  for (size_t i = 0; i < p->cgroup_procs.n; i++)
    {
      int ret = write_file (p->cgroup_procs.v[i], pid, (size_t) n, err);
      if (ret < 0)
        return shim_fail (err, err->errnum, "cgroup", p->cgroup_procs.v[i], "join cgroup \"%s\": %s",
                          p->cgroup_procs.v[i], strerror (err->errnum));
    }
  return 0;
}

/* C: report an error to TS and to P, then exit */
static __attribute__ ((noreturn)) void
child_fail (struct ctx *c, const struct shim_error *err)
{
  send_error (c, err);
  write_byte (c->st_wr, '1');
  _exit (1);
}

/* C: wait for P's go (P has mapped our ids); P sends our host pid */
static pid_t
child_wait_go (struct ctx *c)
{
  pid_t hostpid;
  struct shim_error err;
  close (c->go_wr);
  close (c->st_rd);
  if (read_retry (c->go_rd, &hostpid, sizeof hostpid) != (ssize_t) sizeof hostpid)
    _exit (1); /* P failed and reported it */
  if (c->mode == SHIM_MODE_EXEC)
    {
      close (c->go_rd);
      c->go_rd = -1;
    }
  c->hostpid = hostpid;
  /* in a user namespace our ids are still the host's (unmapped there: files
     we create would fail with EOVERFLOW): become the namespace's root */
  if (c->in_userns && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    child_fail (c, (shim_fail (&err, errno, "setuid", NULL, "become root in the user namespace: %s",
                               strerror (errno)), &err));
  if (c->unshare_ipcns && unshare (CLONE_NEWIPC) < 0)
    child_fail (c, (shim_fail (&err, errno, "unshare", "ipc", "unshare the IPC namespace: %s", strerror (errno)), &err));
  return hostpid;
}

/* C (create): wait until P has moved us into the container's cgroups.  P
 * does that while we set up the mounts: on cgroup v1 the first write to a
 * cgroup.procs waits for an RCU grace period (10-20 ms), which would
 * otherwise come before all of our work.  Called before the first thing that
 * must happen inside the cgroups (a cgroup mount, hooks, the READY report);
 * then the cgroup namespace is made, so that its root is the container's
 * cgroup (runc unshares it at the same point, for the same reason). */
void
child_wait_cgroups (struct ctx *c)
{
  struct shim_error err;
  char b = 0;
  if (c->go_rd < 0)
    return;
  if (read_retry (c->go_rd, &b, 1) != 1 || b != 'c')
    _exit (1); /* P failed and reported it */
  close (c->go_rd);
  c->go_rd = -1;
  c->host_cgroups = read_file ("/proc/self/cgroup", NULL);
  if (c->unshare_cgroupns && unshare (CLONE_NEWCGROUP) < 0)
    child_fail (c, (shim_fail (&err, errno, "unshare", "cgroup", "unshare cgroup namespace: %s", strerror (errno)),
                    &err));
}

static int
join_session_keyring (struct plan *p, struct shim_error *err)
{
  if (p->flags & PLAN_FLAG_NO_NEW_KEYRING)
    return 0;
  if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
    return shim_fail (err, errno, "keyctl", NULL, "join session keyring: %s", strerror (errno));
  return 0;
}

static int
early_attrs (struct plan *p, struct shim_error *err)
{
  int ret;
  if (p->has_personality)
    {
      ret = apply_personality (p->personality, err);
      if (ret < 0)
        return ret;
    }
  ret = apply_scheduler (p->scheduler.val, p->scheduler.len, err);
  if (ret < 0)
    return ret;
  return apply_ioprio (p->ioprio.val, p->ioprio.len, err);
}

/* C, right after loading the filter: a notify filter's fd goes to the
 * listenerPath, with the container process state (runtime-spec "seccomp
 * notify"); nothing else may come first, or a notified syscall of ours would
 * wait for a listener that has no fd yet. */
static int
send_seccomp_listener (struct ctx *c, struct shim_error *err)
{
  int sock = c->seccomp_sock;
  c->seccomp_sock = -1;
  return seccomp_listener_send (c->seccomp, sock, c->plan->seccomp_listener, c->plan->seccomp_state, c->hostpid, err);
}

/* P, first thing (on the host, as root, before joining any namespace): the
 * connection to the seccomp listener, which C inherits. */
static int
connect_seccomp_listener (struct ctx *c, struct shim_error *err)
{
  if (c->plan->seccomp_listener == NULL || c->plan->seccomp.val == NULL)
    return 0;
  int fd = seccomp_listener_connect (c->plan->seccomp_listener, err);
  if (fd < 0)
    return fd;
  c->seccomp_sock = fd;
  return 0;
}

/* C, common tail (after pivot_root / chroot): security attributes, user,
 * cwd, executable lookup, fds.  Order from security.h. */
static int
finish_process (struct ctx *c, char **resolved, struct shim_error *err)
{
  struct plan *p = c->plan;
  struct caps_masks caps;
  int ret = caps_parse (p->caps.val, p->caps.len, &caps, err);
  if (ret < 0)
    return ret;
  if (p->apparmor)
    {
      ret = apply_apparmor (p->apparmor, err);
      if (ret < 0)
        return ret;
    }
  if (p->selinux_label)
    {
      ret = apply_selinux_label (p->selinux_label, err);
      if (ret < 0)
        return ret;
    }
  ret = process_default_home (p, err);
  if (ret < 0)
    return ret;
  /* rlimits before the user switch: raising a hard limit needs privileges */
  ret = process_rlimits (p, err);
  if (ret < 0)
    return ret;
  /* before the filter: without no_new_privs it is loaded here, and a profile
     written for the container's process need not allow close_range (runtime-
     tools' default, docker profiles older than close_range) */
  ret = process_close_fds (c, err);
  if (ret < 0)
    return ret;
  if (p->flags & PLAN_FLAG_NO_NEW_PRIVS)
    {
      ret = apply_no_new_privs (err);
      if (ret < 0)
        return ret;
    }
  else
    {
      /* without no_new_privs loading a filter needs CAP_SYS_ADMIN: now */
      ret = seccomp_filter_load (c->seccomp, err);
      if (ret < 0)
        return ret;
      ret = send_seccomp_listener (c, err);
      if (ret < 0)
        return ret;
    }
  ret = caps_drop_bounding (&caps, err);
  if (ret < 0)
    return ret;
  ret = process_fix_stdio (c, err);
  if (ret < 0)
    return ret;
  ret = process_switch_user (c, err);
  if (ret < 0)
    return ret;
  ret = caps_apply (&caps, err);
  if (ret < 0)
    return ret;
  umask (p->has_umask ? p->umask : c->saved_umask);
  ret = process_chdir (c, err);
  if (ret < 0)
    return ret;
  /* after the user switch, so the permission check is the process's own */
  return process_lookup (p, resolved, err);
}

static __attribute__ ((noreturn)) void
do_exec (struct ctx *c, const char *resolved)
{
  struct shim_error err;
  struct plan *p = c->plan;
  if (p->flags & PLAN_FLAG_NO_NEW_PRIVS)
    {
      /* as late as possible: the filter then need not allow the shim's own
         syscalls (except execve) */
      if (seccomp_filter_load (c->seccomp, &err) < 0 || send_seccomp_listener (c, &err) < 0)
        {
          dprintf (2, "tsrun: %s\n", err.msg);
          _exit (127);
        }
    }
  execve (resolved, p->args.v, p->env.v);
  dprintf (2, "tsrun: exec \"%s\": %s\n", p->args.v[0], strerror (errno));
  _exit (127);
}

/* ---- create: C ---- */

static int
open_exec_fifo_for_write (struct ctx *c, int extra_flags)
{
  char buf[32];
  int fd = open (procfd (c->fifo_fd, buf), O_WRONLY | O_CLOEXEC | extra_flags);
  if (fd < 0 && errno != ENXIO && c->fifo_dirfd >= 0)
    {
      const char *base = strrchr (c->plan->exec_fifo, '/');
      fd = openat (c->fifo_dirfd, base ? base + 1 : c->plan->exec_fifo, O_WRONLY | O_CLOEXEC | extra_flags);
    }
  return fd;
}

/* MSG_CONTINUE: optional PLAN_HOOK_STATE / PLAN_HOOK_STATE_START */
static int
continue_decode (struct plan *p, const uint8_t *payload, uint32_t len, struct shim_error *err)
{
  struct tlv_reader r;
  struct tlv t;
  int ret;
  tlv_reader_init (&r, payload, len);
  while ((ret = tlv_next (&r, &t)) > 0)
    {
      if (t.tag == PLAN_HOOK_STATE)
        {
          free (p->hook_state);
          p->hook_state = tlv_strdup (&t);
        }
      else if (t.tag == PLAN_HOOK_STATE_START)
        {
          free (p->hook_state_start);
          p->hook_state_start = tlv_strdup (&t);
        }
    }
  if (ret < 0)
    return shim_fail (err, EINVAL, "protocol", NULL, "malformed MSG_CONTINUE");
  return 0;
}

static int
create_child_setup (struct ctx *c, pid_t hostpid, char **resolved, struct shim_error *err)
{
  struct plan *p = c->plan;
  int ret;

  /* a. device nodes and directories get exactly the modes asked for; the
     process's umask is set in finish_process */
  umask (0);
  if (setsid () < 0)
    return shim_fail (err, errno, "setsid", NULL, "setsid: %s", strerror (errno));
  ret = join_session_keyring (p, err);
  if (ret < 0)
    return ret;
  ret = early_attrs (p, err);
  if (ret < 0)
    return ret;
  ret = ns_loopback_up (c, err);
  if (ret < 0)
    return ret;
  /* libseccomp may need files of the host: build the filter before pivot
     (and before the cgroup wait: it is pure work, done while P joins) */
  ret = seccomp_prepare (p->seccomp.val, p->seccomp.len, &c->seccomp, err);
  if (ret < 0)
    return ret;
  /* b-e: mounts and devices, all under the rootfs on the host side (a cgroup
     mount waits for the cgroups to be joined) */
  ret = rootfs_prepare (c, err);
  if (ret < 0)
    return ret;
  test_kill_point ("child-rootfs");
  /* hooks see the process in its cgroups, and so does TS at READY */
  child_wait_cgroups (c);
  /* f. TS runs prestart/createRuntime hooks now: namespaces exist, the
     rootfs is mounted but not yet pivoted */
  if (p->flags & PLAN_FLAG_SYNC_HOOKS)
    {
      uint16_t msg;
      uint8_t *payload = NULL;
      uint32_t len;
      ret = send_pid_msg (c, MSG_HOOKS, hostpid, err);
      if (ret < 0)
        return ret;
      ret = frame_read (c->ctl, &msg, &payload, &len, err);
      if (ret <= 0 || msg != MSG_CONTINUE)
        {
          write_byte (c->st_wr, '1'); /* quietly: TS aborted */
          _exit (1);
        }
      /* the hook state, now with our pid */
      ret = continue_decode (p, payload, len, err);
      free (payload);
      if (ret < 0)
        return ret;
    }
  /* g. createContainer hooks: in the container namespaces, before
     pivot_root so that the hook path is a host path */
  ret = hooks_run (p, HOOK_KIND_CREATE_CONTAINER, err);
  if (ret < 0)
    return ret;
  /* h. */
  ret = rootfs_pivot (c, err);
  if (ret < 0)
    return ret;
  /* i. before /dev may become read-only */
  if (p->flags & PLAN_FLAG_TERMINAL)
    {
      ret = terminal_setup (c, true, err);
      if (ret < 0)
        return ret;
    }
  /* j. sysctls before the read-only paths (/proc/sys usually is one) */
  ret = process_hostname_sysctl (c, err);
  if (ret < 0)
    return ret;
  ret = rootfs_finalize (c, err);
  if (ret < 0)
    return ret;
  /* k-n. (no process: nothing to prepare, it never runs) */
  if (p->args.n == 0)
    return 0;
  ret = finish_process (c, resolved, err);
  if (ret < 0)
    return ret;
  /* o. the fifo must be openable by the process user (TS makes it 0622):
     check now, while errors can still be reported */
  if (c->fifo_fd >= 0)
    {
      int fd = open_exec_fifo_for_write (c, O_NONBLOCK);
      if (fd < 0 && errno != ENXIO)
        return shim_fail (err, errno, "exec fifo", p->exec_fifo, "open exec fifo \"%s\": %s", p->exec_fifo,
                          strerror (errno));
      if (fd >= 0)
        close (fd);
    }
  return 0;
}

static __attribute__ ((noreturn)) void
create_child (struct ctx *c)
{
  struct shim_error err;
  struct plan *p = c->plan;
  char *resolved = NULL;

  pid_t hostpid = child_wait_go (c);
  if (create_child_setup (c, hostpid, &resolved, &err) < 0)
    child_fail (c, &err);
  test_kill_point ("child-ready");

  if (send_pid_msg (c, MSG_READY, hostpid, &err) < 0)
    child_fail (c, &err);
  write_byte (c->st_wr, '0');
  close (c->st_wr);
  close (c->ctl);
  c->ctl = -1;

  /* no process (config.json has none): hold the namespaces until delete;
     `tsrun start` refuses such a container and never opens the fifo */
  if (p->args.n == 0)
    for (;;)
      pause ();

  int fifo = -1;
  if (c->fifo_fd >= 0)
    {
      /* blocks until `tsrun start` opens the fifo for reading */
      fifo = open_exec_fifo_for_write (c, 0);
      if (fifo < 0)
        {
          dprintf (2, "tsrun: exec fifo \"%s\": %s\n", p->exec_fifo, strerror (errno));
          _exit (1);
        }
      close (c->fifo_fd);
      if (c->fifo_dirfd >= 0)
        close (c->fifo_dirfd);
    }
  /* p. startContainer hooks are part of start: `tsrun start` waits for them
     (it reads the fifo byte only after them), and when one fails the fifo
     closes without the byte, so that start fails */
  if (hooks_run (p, HOOK_KIND_START_CONTAINER, &err) < 0)
    {
      dprintf (2, "tsrun: %s\n", err.msg);
      _exit (1);
    }
  if (fifo >= 0)
    {
      if (write (fifo, "0", 1) != 1)
        {
          dprintf (2, "tsrun: exec fifo \"%s\": %s\n", p->exec_fifo, strerror (errno));
          _exit (1);
        }
      close (fifo);
    }
  do_exec (c, resolved);
}

/* ---- create: P ---- */

static int
p_fail (struct ctx *c, pid_t child, const struct shim_error *err)
{
  if (child > 0)
    {
      kill (child, SIGKILL);
      waitpid (child, NULL, 0);
    }
  send_error (c, err);
  return 1;
}

/* P after the clone: wait for C's READY/ERROR.  Returns the status byte, or
 * 0 when C died without reporting (P then reports for it). */
static char
p_wait_ready (struct ctx *c, pid_t pid)
{
  char b = 0;
  struct shim_error err;
  if (read_retry (c->st_rd, &b, 1) != 1)
    {
      int status = 0;
      waitpid (pid, &status, 0);
      if (WIFSIGNALED (status))
        shim_fail (&err, 0, "init", NULL, "container process %d was killed by signal %d before it was ready", pid,
                   WTERMSIG (status));
      else
        shim_fail (&err, 0, "init", NULL, "container process %d exited with status %d before it was ready", pid,
                   exit_code (status));
      send_error (c, &err);
      return 0;
    }
  return b;
}

static int
create_main (struct ctx *c)
{
  struct shim_error err;
  struct plan *p = c->plan;
  int ret;

  if (p->rootfs == NULL)
    return p_fail (c, 0, (shim_fail (&err, EINVAL, "plan", NULL, "plan: no rootfs"), &err));
  ret = connect_seccomp_listener (c, &err);
  if (ret < 0)
    return p_fail (c, 0, &err);
  ret = ns_open_joins (c, &err);
  if (ret < 0)
    return p_fail (c, 0, &err);
  if (p->exec_fifo)
    {
      char dir[4096];
      c->fifo_fd = open (p->exec_fifo, O_PATH | O_CLOEXEC);
      if (c->fifo_fd < 0)
        return p_fail (c, 0, (shim_fail_errno (&err, "exec fifo", p->exec_fifo), &err));
      snprintf (dir, sizeof dir, "%s", p->exec_fifo);
      c->fifo_dirfd = open (dirname (dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
  ret = ns_join_parent (c, &err);
  if (ret < 0)
    return p_fail (c, 0, &err);
  ret = ns_time_offsets (c, &err);
  if (ret < 0)
    return p_fail (c, 0, &err);

  unsigned long flags = p->ns_new & ~(uint64_t) CLONE_NEWTIME;
  c->new_userns = flags & CLONE_NEWUSER;
  c->in_userns |= c->new_userns;
  c->has_mntns |= (flags & CLONE_NEWNS) != 0;
  c->has_cgroupns |= (flags & CLONE_NEWCGROUP) != 0;
  /* C makes its cgroup namespace once it is in its cgroups (child_wait_cgroups) */
  c->unshare_cgroupns = (flags & CLONE_NEWCGROUP) != 0;
  flags &= ~(unsigned long) CLONE_NEWCGROUP;
  /* with a new user namespace, the IPC namespace is made by C once it is the
     namespace's root (child_wait_go): its mqueue file system's root takes the
     creator's ids, which at clone(2) time are the host's, unmapped in the
     container (/dev/mqueue would belong to 65534); runc unshares it late too */
  c->unshare_ipcns = c->new_userns && (flags & CLONE_NEWIPC);
  if (c->unshare_ipcns)
    flags &= ~(unsigned long) CLONE_NEWIPC;

  int go[2], st[2];
  if (pipe2 (go, O_CLOEXEC) < 0 || pipe2 (st, O_CLOEXEC) < 0)
    return p_fail (c, 0, (shim_fail (&err, errno, "pipe", NULL, "pipe: %s", strerror (errno)), &err));
  c->go_rd = go[0], c->go_wr = go[1], c->st_rd = st[0], c->st_wr = st[1];

  /* v2: born in the cgroup; else (or on a kernel without clone3) joined below */
  int cgfd = open_v2_cgroup (p);
  pid_t pid = -1;
  if (cgfd >= 0)
    {
      /* any failure (no clone3, an older kernel's E2BIG...): clone, then
         the cgroup.procs write, whose error then says what is wrong */
      pid = ns_clone_into (flags, cgfd);
      if (pid == 0)
        create_child (c);
      if (pid > 0)
        c->born_in_cgroup = true;
      close (cgfd);
    }
  if (pid < 0)
    pid = ns_clone (flags);
  if (pid < 0)
    return p_fail (c, 0, (shim_fail (&err, errno, "clone", NULL, "clone: %s", strerror (errno)), &err));
  if (pid == 0)
    create_child (c);
  test_kill_point ("clone");

  /* P */
  close (c->go_rd);
  close (c->st_wr);
  if (c->fifo_fd >= 0)
    close (c->fifo_fd);
  if (c->fifo_dirfd >= 0)
    close (c->fifo_dirfd);
  if (c->mntns_fd >= 0)
    close (c->mntns_fd);
  if (p->console_socket >= 0)
    close (p->console_socket);
  if (c->seccomp_sock >= 0)
    close (c->seccomp_sock);
  if (p->flags & PLAN_FLAG_KEEP_PARENT)
    ignore_signals (); /* after the clone: C must not inherit SIG_IGN */
  else
    signal (SIGPIPE, SIG_IGN);

  ret = send_pid_msg (c, MSG_PID, pid, &err);
  if (ret < 0)
    return p_fail (c, pid, &err);
  test_kill_point ("pid-sent");
  if (c->new_userns)
    {
      ret = ns_write_idmaps (c, pid, &err);
      if (ret < 0)
        return p_fail (c, pid, &err);
    }
  if (p->has_oom_score_adj)
    {
      char path[64], val[24];
      snprintf (path, sizeof path, "/proc/%d/oom_score_adj", pid);
      int n = snprintf (val, sizeof val, "%lld", (long long) p->oom_score_adj);
      ret = write_file (path, val, (size_t) n, &err);
      if (ret < 0 && (err.errnum == EACCES || err.errnum == EPERM))
        {
          /* the kernel refuses values below the current one without CAP_SYS_RESOURCE */
          char *cur = read_file ("/proc/self/oom_score_adj", NULL);
          int e = err.errnum;
          if (cur)
            cur[strcspn (cur, "\n")] = 0;
          shim_fail (&err, e, "oom_score_adj", path,
                     "oomScoreAdj %lld: lowering it below the runtime's own (%s) needs CAP_SYS_RESOURCE: %s",
                     (long long) p->oom_score_adj, cur ? cur : "?", strerror (e));
          free (cur);
        }
      if (ret < 0)
        return p_fail (c, pid, &err);
    }
  if (write (c->go_wr, &pid, sizeof pid) != (ssize_t) sizeof pid)
    return p_fail (c, pid, (shim_fail (&err, errno, "sync", NULL, "release the container process: %s",
                                       strerror (errno)), &err));
  /* C sets up its mounts meanwhile (see child_wait_cgroups); P itself stays
     outside the container's cgroups, as runc's parent does */
  ret = c->born_in_cgroup ? 0 : join_cgroups (p, pid, &err);
  if (ret < 0)
    return p_fail (c, pid, &err);
  test_kill_point ("cgroup");
  write_byte (c->go_wr, 'c');
  close (c->go_wr);

  char b = p_wait_ready (c, pid);
  close (c->ctl);
  c->ctl = -1;
  if (b != '0')
    {
      if (b)
        waitpid (pid, NULL, 0); /* C exits right after reporting its error */
      return 1;
    }
  if (!(p->flags & PLAN_FLAG_KEEP_PARENT))
    return 0;
  return wait_exit_code (pid);
}

/* ---- exec ---- */

static __attribute__ ((noreturn)) void
exec_child (struct ctx *c)
{
  struct shim_error err;
  struct plan *p = c->plan;
  char *resolved = NULL;
  int ret;

  pid_t hostpid = child_wait_go (c);
  /* setns(mnt) in P set our root to the namespace's root mount; the
     container may have pivoted or chrooted elsewhere: use its real root */
  if (fchdir (c->proc_root_fd) < 0 || chroot (".") < 0 || chdir ("/") < 0)
    child_fail (c, (shim_fail (&err, errno, "chroot", "/", "enter the container root: %s", strerror (errno)), &err));
  close (c->proc_root_fd);
  if ((p->flags & PLAN_FLAG_TERMINAL) && setsid () < 0)
    child_fail (c, (shim_fail (&err, errno, "setsid", NULL, "setsid: %s", strerror (errno)), &err));
  if ((ret = join_session_keyring (p, &err)) < 0 || (ret = early_attrs (p, &err)) < 0
      || (ret = process_cpu_affinity (p, &err)) < 0)
    child_fail (c, &err);
  if ((p->flags & PLAN_FLAG_TERMINAL) && terminal_setup (c, false, &err) < 0)
    child_fail (c, &err);
  if (seccomp_prepare (p->seccomp.val, p->seccomp.len, &c->seccomp, &err) < 0)
    child_fail (c, &err);
  if (finish_process (c, &resolved, &err) < 0)
    child_fail (c, &err);
  if (send_pid_msg (c, MSG_READY, hostpid, &err) < 0)
    child_fail (c, &err);
  write_byte (c->st_wr, '0');
  close (c->st_wr);
  close (c->ctl);
  do_exec (c, resolved);
}

static int
exec_main (struct ctx *c)
{
  struct shim_error err;
  struct plan *p = c->plan;
  int ret;

  if (p->join_pid <= 0)
    return p_fail (c, 0, (shim_fail (&err, EINVAL, "plan", NULL, "plan: exec without a container pid"), &err));
  ret = connect_seccomp_listener (c, &err);
  if (ret < 0)
    return p_fail (c, 0, &err);
  /* v2: the process is cloned into the cgroup (opened now, while paths are
     the host's); else P joins and the fork inherits it */
  int cgfd = open_v2_cgroup (p);
  if (cgfd < 0)
    {
      ret = join_cgroups (p, getpid (), &err);
      if (ret < 0)
        return p_fail (c, 0, &err);
    }
  ret = ns_open_exec (c, p->join_pid, &err);
  if (ret < 0)
    return p_fail (c, 0, &err);
  /* opened now: after joining a user namespace we may not create it */
  if (p->pid_file)
    {
      c->pidfile_fd = open (p->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (c->pidfile_fd < 0)
        return p_fail (c, 0, (shim_fail_errno (&err, "pid file", p->pid_file), &err));
    }
  ret = ns_join_parent (c, &err);
  if (ret < 0)
    return p_fail (c, 0, &err);

  int go[2], st[2];
  if (pipe2 (go, O_CLOEXEC) < 0 || pipe2 (st, O_CLOEXEC) < 0)
    return p_fail (c, 0, (shim_fail (&err, errno, "pipe", NULL, "pipe: %s", strerror (errno)), &err));
  c->go_rd = go[0], c->go_wr = go[1], c->st_rd = st[0], c->st_wr = st[1];

  /* fork after setns(pid): only children enter the pid namespace */
  pid_t pid = cgfd >= 0 ? ns_clone_into (0, cgfd) : fork ();
  if (pid < 0 && cgfd >= 0)
    {
      /* no clone3: fork, then move the process through the fd (the paths
         are the container's now) */
      pid = fork ();
      if (pid > 0 && join_cgroup_fd (cgfd, pid, &err) < 0)
        return p_fail (c, pid, &err);
    }
  if (cgfd >= 0 && pid != 0)
    close (cgfd);
  if (pid < 0)
    return p_fail (c, 0, (shim_fail (&err, errno, "fork", NULL, "fork: %s", strerror (errno)), &err));
  if (pid == 0)
    exec_child (c);

  close (c->go_rd);
  close (c->st_wr);
  close (c->proc_root_fd);
  if (p->console_socket >= 0)
    close (p->console_socket);
  if (c->seccomp_sock >= 0)
    close (c->seccomp_sock);
  if (!(p->flags & PLAN_FLAG_DETACH))
    ignore_signals ();
  else
    signal (SIGPIPE, SIG_IGN);
  ret = send_pid_msg (c, MSG_PID, pid, &err);
  if (ret < 0)
    return p_fail (c, pid, &err);
  if (write (c->go_wr, &pid, sizeof pid) != (ssize_t) sizeof pid)
    return p_fail (c, pid, (shim_fail (&err, errno, "sync", NULL, "release the process: %s", strerror (errno)), &err));
  close (c->go_wr);

  char b = p_wait_ready (c, pid);
  if (b == '0' && c->pidfile_fd >= 0)
    {
      char val[24];
      int n = snprintf (val, sizeof val, "%d", pid);
      if (write (c->pidfile_fd, val, (size_t) n) != n)
        {
          shim_fail_errno (&err, "pid file", p->pid_file);
          send_error (c, &err);
        }
      close (c->pidfile_fd);
    }
  close (c->ctl);
  c->ctl = -1;
  if (b != '0')
    {
      if (b)
        waitpid (pid, NULL, 0);
      return 1;
    }
  if (p->flags & PLAN_FLAG_DETACH)
    return 0;
  return wait_exit_code (pid);
}

/* ---- main ---- */

int
main (int argc, char **argv)
{
  struct shim_error err;
  struct ctx c;
  struct plan plan;

  default_signals ();
  memset (&c, 0, sizeof c);
  c.ctl = c.mntns_fd = c.fifo_fd = c.fifo_dirfd = c.proc_root_fd = c.pidfile_fd = -1;
  c.go_rd = c.go_wr = c.st_rd = c.st_wr = c.seccomp_sock = -1;
  c.plan = &plan;

  if (argc != 3 || (strcmp (argv[1], "create") != 0 && strcmp (argv[1], "exec") != 0))
    {
      dprintf (2, "usage: tsrun-shim create|exec <ctl-fd>\n");
      return 2;
    }
  c.mode = strcmp (argv[1], "create") == 0 ? SHIM_MODE_CREATE : SHIM_MODE_EXEC;
  char *end;
  long fd = strtol (argv[2], &end, 10);
  if (*end || fd < 0 || fd > 1 << 20 || fcntl ((int) fd, F_GETFD) < 0)
    {
      dprintf (2, "tsrun-shim: bad control fd \"%s\"\n", argv[2]);
      return 2;
    }
  c.ctl = (int) fd;

  if (ensure_cloned_binary (argv, &err) < 0)
    {
      send_error (&c, &err);
      return 1;
    }

  uint16_t msg;
  uint8_t *payload;
  uint32_t len;
  int ret = frame_read (c.ctl, &msg, &payload, &len, &err);
  if (ret == 0)
    return 1; /* TS went away */
  if (ret < 0)
    return p_fail (&c, 0, &err);
  if (msg != MSG_PLAN)
    return p_fail (&c, 0, (shim_fail (&err, EINVAL, "plan", NULL, "expected MSG_PLAN, got message %u", msg), &err));
  if (plan_decode (&plan, payload, len, &err) < 0)
    return p_fail (&c, 0, &err);
  if (c.mode == SHIM_MODE_CREATE)
    test_kill_point ("plan");
  c.saved_umask = umask (0);
  umask (c.saved_umask);

  return c.mode == SHIM_MODE_CREATE ? create_main (&c) : exec_main (&c);
}
