/* ns.c - namespaces: joining, creating (clone), id maps, time offsets. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"
#include "protocol.h"
#include "shim.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE 0xb703 /* _IO (0xb7, 0x3), linux/nsfs.h */
#endif

static const char *
ns_name (long type)
{
  switch (type)
    {
    case CLONE_NEWUSER: return "user";
    case CLONE_NEWNET: return "network";
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWUTS: return "uts";
    case CLONE_NEWCGROUP: return "cgroup";
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWTIME: return "time";
    case CLONE_NEWNS: return "mount";
    default: return "unknown";
    }
}

/* user first: joining it grants the capabilities needed to join the others
   (runc's nsexec order); mnt last: it changes our root and cwd, and C needs
   the host paths until then. */
static const int join_order[] = { CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS,
                                  CLONE_NEWCGROUP, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWNS };

int
ns_open_joins (struct ctx *c, struct shim_error *err)
{
  struct plan *p = c->plan;
  for (size_t i = 0; i < p->n_ns_join; i++)
    {
      int fd = open (p->ns_join[i].path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return shim_fail (err, errno, "setns", p->ns_join[i].path, "open namespace \"%s\": %s",
                          p->ns_join[i].path, strerror (errno));
      /* a clear error for a path of another kind of namespace (setns would say EINVAL) */
      long kind = ioctl (fd, NS_GET_NSTYPE);
      if (kind < 0 && errno == ENOTTY)
        {
          close (fd);
          return shim_fail (err, EINVAL, "setns", p->ns_join[i].path,
                            "%s namespace path \"%s\" is not a namespace file", ns_name ((long) p->ns_join[i].type),
                            p->ns_join[i].path);
        }
      if (kind >= 0 && kind != (long) p->ns_join[i].type)
        {
          close (fd);
          return shim_fail (err, EINVAL, "setns", p->ns_join[i].path,
                            "%s namespace path \"%s\" is a %s namespace", ns_name ((long) p->ns_join[i].type),
                            p->ns_join[i].path, ns_name (kind));
        }
      if (p->ns_join[i].type == CLONE_NEWNS)
        {
          /* the mount namespace is joined by C itself (step b) */
          c->mntns_fd = fd;
          c->has_mntns = true;
          continue;
        }
      if (c->n_ns >= MAX_NS_JOIN)
        return shim_fail (err, EINVAL, "setns", NULL, "setns: too many namespaces to join");
      if (p->ns_join[i].type == CLONE_NEWUSER)
        c->in_userns = true;
      if (p->ns_join[i].type == CLONE_NEWCGROUP)
        c->has_cgroupns = true;
      c->ns_type[c->n_ns] = (int) p->ns_join[i].type;
      c->ns_fd[c->n_ns++] = fd;
    }
  return 0;
}

int
ns_join_parent (struct ctx *c, struct shim_error *err)
{
  for (size_t o = 0; o < sizeof join_order / sizeof join_order[0]; o++)
    for (int i = 0; i < c->n_ns; i++)
      {
        if (c->ns_type[i] != join_order[o])
          continue;
        if (setns (c->ns_fd[i], c->ns_type[i]) < 0)
          {
            char path[64];
            snprintf (path, sizeof path, "/proc/self/fd/%d", c->ns_fd[i]);
            char target[512] = "";
            ssize_t n = readlink (path, target, sizeof target - 1);
            if (n > 0)
              target[n] = '\0';
            return shim_fail (err, errno, "setns", target, "setns %s: %s", target, strerror (errno));
          }
        close (c->ns_fd[i]);
        c->ns_fd[i] = -1;
      }
  c->n_ns = 0;
  return 0;
}

int
ns_time_offsets (struct ctx *c, struct shim_error *err)
{
  struct plan *p = c->plan;
  if (!(p->ns_new & CLONE_NEWTIME))
    return 0;
  /* a new time namespace only applies to children: P unshares it and C,
     created next, is born inside; offsets must be written before that */
  if (unshare (CLONE_NEWTIME) < 0)
    return shim_fail (err, errno, "unshare", NULL, "unshare time namespace: %s", strerror (errno));
  if (p->n_time_offsets == 0)
    return 0;
  char buf[1024];
  size_t len = 0;
  for (size_t i = 0; i < p->n_time_offsets; i++)
    {
      int n = snprintf (buf + len, sizeof buf - len, "%s %lld %llu\n", p->time_offsets[i].clock,
                        (long long) p->time_offsets[i].secs, (unsigned long long) p->time_offsets[i].nsecs);
      if (n < 0 || (size_t) n >= sizeof buf - len)
        return shim_fail (err, EINVAL, "timens_offsets", NULL, "too many time offsets");
      len += (size_t) n;
    }
  return write_file ("/proc/self/timens_offsets", buf, len, err);
}

pid_t
ns_clone (unsigned long flags)
{
  /* fork semantics (no new stack), but with CLONE_NEW* flags, which fork()
     cannot pass */
  return (pid_t) syscall (SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* struct clone_args as of Linux 5.7 (CLONE_INTO_CGROUP) */
struct clone_args_v2 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

pid_t
ns_clone_into (unsigned long flags, int cgroup_fd)
{
#ifdef SYS_clone3
  /* the child is born in the cgroup: no cgroup.procs write, so none of the
     RCU grace period the first migration waits for (cgroup v2, crun does
     the same) */
  struct clone_args_v2 args = { 0 };
  args.flags = flags | CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = (uint64_t) cgroup_fd;
  return (pid_t) syscall (SYS_clone3, &args, sizeof args);
#else
  (void) flags, (void) cgroup_fd;
  errno = ENOSYS;
  return -1;
#endif
}

/* P, rootless with /etc/subuid ranges: "<helper> <pid> <container host size>..."
 * (newuidmap(1)/newgidmap(1), setuid root, check the ranges and write the
 * map).  Its output is kept for the error message. */
static int
run_map_helper (const char *helper, pid_t pid, const char *map, struct shim_error *err)
{
  size_t max = 3, n = 0;
  for (const char *s = map; *s; s++)
    max += (*s == ' ' || *s == '\n');
  char **argv = calloc (max + 1, sizeof *argv);
  char *copy = strdup (map);
  char pidbuf[24], out[256] = "";
  int pfd[2] = { -1, -1 }, ret = 0;
  if (argv == NULL || copy == NULL)
    {
      ret = shim_fail (err, ENOMEM, "idmap", helper, "%s: %s", helper, strerror (ENOMEM));
      goto out;
    }
  snprintf (pidbuf, sizeof pidbuf, "%d", pid);
  argv[n++] = (char *) helper;
  argv[n++] = pidbuf;
  for (char *tok = strtok (copy, " \n"); tok && n < max; tok = strtok (NULL, " \n"))
    argv[n++] = tok;
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    {
      ret = shim_fail (err, errno, "pipe", NULL, "pipe: %s", strerror (errno));
      goto out;
    }
  pid_t h = fork ();
  if (h < 0)
    {
      ret = shim_fail (err, errno, "fork", helper, "fork (to run %s): %s", helper, strerror (errno));
      goto out;
    }
  if (h == 0)
    {
      if (dup2 (pfd[1], 1) < 0 || dup2 (pfd[1], 2) < 0)
        _exit (127);
      execv (helper, argv);
      dprintf (2, "exec: %s", strerror (errno));
      _exit (127);
    }
  close (pfd[1]);
  pfd[1] = -1;
  size_t len = 0;
  ssize_t r;
  while ((r = read (pfd[0], out + len, sizeof out - 1 - len)) != 0)
    {
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0 || (len += (size_t) r) == sizeof out - 1)
        break;
    }
  out[len] = '\0';
  out[strcspn (out, "\n")] = '\0';
  int code = wait_exit_code (h);
  if (code != 0)
    ret = shim_fail (err, EPERM, "idmap", helper, "%s %d: %s", helper, pid,
                     *out ? out : code == 127 ? "could not be run" : "failed");
out:
  if (pfd[0] >= 0)
    close (pfd[0]);
  if (pfd[1] >= 0)
    close (pfd[1]);
  free (copy);
  free (argv);
  return ret;
}

int
ns_write_idmaps (struct ctx *c, pid_t pid, struct shim_error *err)
{
  struct plan *p = c->plan;
  char path[64];
  int ret;
  /* setgroups must be "deny" before gid_map is written by an unprivileged
     mapper; written first, as the kernel requires (newgidmap does it itself
     when it must) */
  if ((p->flags & PLAN_FLAG_SETGROUPS_DENY) && !p->gid_map_helper)
    {
      snprintf (path, sizeof path, "/proc/%d/setgroups", pid);
      ret = write_file (path, "deny", 4, err);
      if (ret < 0)
        return ret;
    }
  if (p->gid_map)
    {
      snprintf (path, sizeof path, "/proc/%d/gid_map", pid);
      ret = p->gid_map_helper ? run_map_helper (p->gid_map_helper, pid, p->gid_map, err)
                              : write_file (path, p->gid_map, strlen (p->gid_map), err);
      if (ret < 0)
        return ret;
    }
  if (p->uid_map)
    {
      snprintf (path, sizeof path, "/proc/%d/uid_map", pid);
      ret = p->uid_map_helper ? run_map_helper (p->uid_map_helper, pid, p->uid_map, err)
                              : write_file (path, p->uid_map, strlen (p->uid_map), err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

int
ns_open_exec (struct ctx *c, pid_t target, struct shim_error *err)
{
  static const struct { const char *name; int type; } nss[] = {
    { "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
    { "net", CLONE_NEWNET },   { "pid", CLONE_NEWPID }, { "cgroup", CLONE_NEWCGROUP },
    { "time", CLONE_NEWTIME }, { "mnt", CLONE_NEWNS },
  };
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/root", target);
  c->proc_root_fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c->proc_root_fd < 0)
    return shim_fail (err, errno, "exec", path, "open \"%s\": %s", path, strerror (errno));
  for (size_t i = 0; i < sizeof nss / sizeof nss[0]; i++)
    {
      struct stat theirs, ours;
      char self[64];
      snprintf (path, sizeof path, "/proc/%d/ns/%s", target, nss[i].name);
      snprintf (self, sizeof self, "/proc/self/ns/%s", nss[i].name);
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT)
        {
          /* the process is gone, or the kernel lacks this namespace type */
          if (kill (target, 0) < 0)
            return shim_fail (err, ESRCH, "exec", path, "container process %d: %s", target, strerror (ESRCH));
          continue;
        }
      if (fd < 0)
        return shim_fail (err, errno, "setns", path, "open \"%s\": %s", path, strerror (errno));
      if (fstat (fd, &theirs) == 0 && stat (self, &ours) == 0 && theirs.st_ino == ours.st_ino
          && theirs.st_dev == ours.st_dev)
        {
          close (fd);
          continue;
        }
      if (nss[i].type == CLONE_NEWUSER)
        c->in_userns = true;
      if (nss[i].type == CLONE_NEWNS)
        c->has_mntns = true;
      c->ns_type[c->n_ns] = nss[i].type;
      c->ns_fd[c->n_ns++] = fd;
    }
  return 0;
}

/* C, in a network namespace it created: bring "lo" up, as runc and crun do
   (a new namespace has only lo, and down: a server in the container would
   be unreachable even from inside it). */
int
ns_loopback_up (struct ctx *c, struct shim_error *err)
{
  if (!(c->plan->ns_new & CLONE_NEWNET))
    return 0;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return shim_fail (err, errno, "socket", "lo", "socket AF_INET (to bring lo up): %s", strerror (errno));
  struct ifreq ifr;
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, "lo");
  int ret = ioctl (fd, SIOCGIFFLAGS, &ifr);
  if (ret == 0 && !(ifr.ifr_flags & IFF_UP))
    {
      ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
      ret = ioctl (fd, SIOCSIFFLAGS, &ifr);
    }
  int saved = errno;
  close (fd);
  if (ret < 0)
    return shim_fail (err, saved, "ioctl SIOCSIFFLAGS", "lo", "bring lo up: %s", strerror (saved));
  return 0;
}
