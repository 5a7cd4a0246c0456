/* process.c - the process's environment: hostname, sysctls, rlimits, user,
 * cwd, PATH lookup, file descriptors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fileio.h"
#include "protocol.h"
#include "shim.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int
process_hostname_sysctl (struct ctx *c, struct shim_error *err)
{
  struct plan *p = c->plan;
  bool uts = (p->ns_new & CLONE_NEWUTS) != 0;
  for (size_t i = 0; i < p->n_ns_join; i++)
    uts |= p->ns_join[i].type == CLONE_NEWUTS;
  /* never the host's name */
  if ((p->hostname || p->domainname) && !uts)
    return shim_fail (err, EINVAL, "sethostname", NULL, "unable to set the hostname without a private UTS namespace");
  if (p->hostname && sethostname (p->hostname, strlen (p->hostname)) < 0)
    return shim_fail_errno (err, "sethostname", p->hostname);
  if (p->domainname && setdomainname (p->domainname, strlen (p->domainname)) < 0)
    return shim_fail_errno (err, "setdomainname", p->domainname);
  for (size_t i = 0; i < p->n_sysctl; i++)
    {
      char path[PATH_MAX];
      int n = snprintf (path, sizeof path, "/proc/sys/%s", p->sysctl[i].key);
      if (n < 0 || (size_t) n >= sizeof path)
        return shim_fail (err, ENAMETOOLONG, "sysctl", p->sysctl[i].key, NULL);
      for (char *s = path + 10; *s; s++)
        if (*s == '.')
          *s = '/';
      if (strstr (path, "/../") || strstr (path, "/./"))
        return shim_fail (err, EINVAL, "sysctl", p->sysctl[i].key, "sysctl \"%s\": invalid key", p->sysctl[i].key);
      int ret = write_file (path, p->sysctl[i].value, strlen (p->sysctl[i].value), err);
      if (ret < 0)
        return shim_fail (err, err->errnum, "sysctl", path, "sysctl \"%s\": %s", p->sysctl[i].key,
                          strerror (err->errnum));
    }
  return 0;
}

static const char *const rlimit_names[] = {
  "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
  "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
  "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

int
process_rlimits (struct plan *p, struct shim_error *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      struct rlimit rl = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };
      if (prlimit (0, (__rlimit_resource_t) p->rlimits[i].resource, &rl, NULL) < 0)
        {
          int e = errno;
          int res = p->rlimits[i].resource;
          const char *name = res >= 0 && res < (int) (sizeof rlimit_names / sizeof rlimit_names[0])
                                 ? rlimit_names[res] : "RLIMIT_?";
          struct rlimit cur;
          if (e == EPERM && prlimit (0, (__rlimit_resource_t) res, NULL, &cur) == 0 && rl.rlim_max > cur.rlim_max)
            return shim_fail (err, e, "setrlimit", NULL,
                              "rlimit %s: hard limit %llu is above the current hard limit %llu; raising a hard "
                              "limit needs CAP_SYS_RESOURCE: %s",
                              name, (unsigned long long) rl.rlim_max, (unsigned long long) cur.rlim_max, strerror (e));
          return shim_fail (err, e, "setrlimit", NULL, "rlimit %s (soft %llu, hard %llu): %s", name,
                            (unsigned long long) rl.rlim_cur, (unsigned long long) rl.rlim_max, strerror (e));
        }
    }
  return 0;
}

int
process_fix_stdio (struct ctx *c, struct shim_error *err)
{
  /* like runc's fixStdioPermissions: a non-root process must be able to
     reopen its stdio through /proc/self/fd */
  (void) err;
  struct plan *p = c->plan;
  if (p->uid == 0)
    return 0;
  for (int fd = 0; fd < 3; fd++)
    {
      struct stat st;
      if (fstat (fd, &st) < 0)
        continue;
      if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (1, 3))
        continue; /* /dev/null */
      if (st.st_uid == p->uid)
        continue;
      if (fchown (fd, p->uid, p->gid) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
        return shim_fail (err, errno, "chown", "stdio", "fix stdio permissions: %s", strerror (errno));
    }
  return 0;
}

/* HOME, when the config's env has none: the user's home in the container's
   /etc/passwd, else "/" (runc and crun do the same; shells and many programs
   need it).  After the pivot: the container's passwd, not the host's. */
int
process_default_home (struct plan *p, struct shim_error *err)
{
  if (strv_getenv (&p->env, "HOME") != NULL)
    return 0;
  const char *home = "/";
  /* the container's own file: only a regular one, of sane size (a FIFO
     there would block the exec; O_PATH then the fd's magic link, so what
     was checked is what is read) */
  char *passwd = NULL;
  int pfd = open ("/etc/passwd", O_PATH | O_CLOEXEC);
  struct stat st;
  if (pfd >= 0 && fstat (pfd, &st) == 0 && S_ISREG (st.st_mode))
    {
      char buf[32];
      if (read_whole_file (procfd (pfd, buf), &passwd, NULL, 1 << 20) < 0)
        passwd = NULL;
    }
  if (pfd >= 0)
    close (pfd);
  char *found = NULL;
  for (char *line = passwd, *next; line && *line; line = next)
    {
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      /* name:password:uid:gid:gecos:home:shell */
      char *f[7];
      int n = 0;
      for (char *s = line; n < 7; n++)
        {
          f[n] = s;
          s = strchr (s, ':');
          if (s == NULL)
            {
              n++;
              break;
            }
          *s++ = '\0';
        }
      char *end;
      if (n >= 6 && *f[2] && strtoul (f[2], &end, 10) == p->uid && *end == '\0' && *f[5])
        {
          found = f[5];
          break;
        }
    }
  if (found)
    home = found;
  char *kv = NULL;
  if (asprintf (&kv, "HOME=%s", home) < 0)
    kv = NULL;
  free (passwd);
  if (kv == NULL)
    return shim_fail (err, ENOMEM, "HOME", NULL, "HOME: out of memory");
  strv_push (&p->env, kv);
  return 0;
}

int
process_switch_user (struct ctx *c, struct shim_error *err)
{
  struct plan *p = c->plan;
  bool deny = false;
  if (c->in_userns)
    {
      char *s = read_file ("/proc/self/setgroups", NULL);
      deny = s && strncmp (s, "deny", 4) == 0;
      free (s);
    }
  if (p->n_groups > 0 || !deny)
    if (setgroups (p->n_groups, p->groups) < 0)
      return shim_fail (err, errno, "setgroups", NULL, "setgroups: %s", strerror (errno));
  /* keep the permitted set across the uid change; caps_apply sets the final
     sets right after */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return shim_fail (err, errno, "prctl", NULL, "prctl PR_SET_KEEPCAPS: %s", strerror (errno));
  if (setresgid (p->gid, p->gid, p->gid) < 0)
    return shim_fail (err, errno, "setgid", NULL, "setresgid %u: %s", (unsigned) p->gid, strerror (errno));
  if (setresuid (p->uid, p->uid, p->uid) < 0)
    return shim_fail (err, errno, "setuid", NULL, "setresuid %u: %s", (unsigned) p->uid, strerror (errno));
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return shim_fail (err, errno, "prctl", NULL, "prctl PR_SET_KEEPCAPS: %s", strerror (errno));
  return 0;
}

int
process_chdir (struct ctx *c, struct shim_error *err)
{
  if (chdir (c->plan->cwd) < 0)
    return shim_fail (err, errno, "chdir", c->plan->cwd, "chdir to cwd (\"%s\") set in config.json failed: %s",
                      c->plan->cwd, strerror (errno));
  return 0;
}

static int
is_executable (const char *path, int *eno)
{
  struct stat st;
  if (stat (path, &st) < 0)
    {
      *eno = errno;
      return 0;
    }
  if (!S_ISREG (st.st_mode))
    {
      *eno = EACCES;
      return 0;
    }
  if (access (path, X_OK) < 0)
    {
      *eno = errno;
      return 0;
    }
  return 1;
}

int
process_lookup (struct plan *p, char **resolved, struct shim_error *err)
{
  const char *arg0 = p->args.v[0];
  int eno = 0;
  if (strchr (arg0, '/'))
    {
      if (!is_executable (arg0, &eno))
        return shim_fail (err, eno, "exec", arg0, NULL);
      *resolved = strdup (arg0);
      return 0;
    }
  const char *path = strv_getenv (&p->env, "PATH");
  if (path == NULL)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (*arg0)
    for (const char *s = path;;)
      {
        const char *e = strchr (s, ':');
        size_t n = e ? (size_t) (e - s) : strlen (s);
        char cand[PATH_MAX];
        /* an empty entry means the current directory */
        int l = n == 0 ? snprintf (cand, sizeof cand, "./%s", arg0)
                       : snprintf (cand, sizeof cand, "%.*s/%s", (int) n, s, arg0);
        if (l > 0 && (size_t) l < sizeof cand && is_executable (cand, &eno))
          {
            *resolved = strdup (cand);
            return 0;
          }
        if (!e)
          break;
        s = e + 1;
      }
  return shim_fail (err, ENOENT, "exec", arg0, "exec \"%s\": executable file not found in $PATH", arg0);
}

int
process_close_fds (struct ctx *c, struct shim_error *err)
{
  unsigned int keep = 3 + (unsigned int) c->plan->preserve_fds;
  for (unsigned int fd = 3; fd < keep; fd++)
    fd_cloexec ((int) fd, false);
  /* everything else is closed by execve; the control fd is closed after READY */
  (void) err;
  /* ENOSYS/EINVAL on old kernels, EPERM under a seccomp profile that does not
     list it: mark each open fd instead */
  if (close_range (keep, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = (int) keep; fd < 65536; fd++)
      fd_cloexec (fd, true);
  if (c->ctl >= 0)
    fd_cloexec (c->ctl, true);
  return 0;
}

int
process_cpu_affinity (struct plan *p, struct shim_error *err)
{
  if (p->cpu_affinity == NULL || *p->cpu_affinity == '\0')
    return 0;
  cpu_set_t set;
  CPU_ZERO (&set);
  for (const char *s = p->cpu_affinity; *s;)
    {
      char *end;
      unsigned long a = strtoul (s, &end, 10), b = a;
      if (end == s)
        goto bad;
      if (*end == '-')
        {
          s = end + 1;
          b = strtoul (s, &end, 10);
          if (end == s || b < a)
            goto bad;
        }
      for (unsigned long i = a; i <= b && i < CPU_SETSIZE; i++)
        CPU_SET (i, &set);
      s = end;
      if (*s == ',')
        s++;
      else if (*s)
        goto bad;
    }
  if (sched_setaffinity (0, sizeof set, &set) < 0)
    return shim_fail (err, errno, "sched_setaffinity", NULL, "sched_setaffinity \"%s\": %s", p->cpu_affinity,
                      strerror (errno));
  return 0;
bad:
  return shim_fail (err, EINVAL, "sched_setaffinity", NULL, "invalid cpu list \"%s\"", p->cpu_affinity);
}
