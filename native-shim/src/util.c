/* util.c - files, safe path resolution inside the container root, messages. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"
#include "protocol.h"
#include "shim.h"
#include "tlv.h"

int
write_file_at (int dirfd, const char *path, const char *data, size_t len, struct shim_error *err)
{
  int fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC | O_TRUNC);
  if (fd < 0)
    return shim_fail (err, errno, "open", path, "open \"%s\": %s", path, strerror (errno));
  while (len > 0)
    {
      ssize_t w = write (fd, data, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          int e = errno;
          close (fd);
          return shim_fail (err, e, "write", path, "write \"%s\": %s", path, strerror (e));
        }
      data += w;
      len -= (size_t) w;
    }
  if (close (fd) < 0)
    return shim_fail (err, errno, "write", path, "write \"%s\": %s", path, strerror (errno));
  return 0;
}

int
write_file (const char *path, const char *data, size_t len, struct shim_error *err)
{
  return write_file_at (AT_FDCWD, path, data, len, err);
}

char *
read_file (const char *path, size_t *len_out)
{
  char *buf;
  int ret = read_whole_file (path, &buf, len_out, 64 << 20);
  if (ret < 0)
    {
      errno = -ret;
      return NULL;
    }
  return buf;
}

const char *
procfd (int fd, char buf[32])
{
  snprintf (buf, 32, "/proc/self/fd/%d", fd);
  return buf;
}

int
fd_cloexec (int fd, bool on)
{
  int fl = fcntl (fd, F_GETFD);
  if (fl < 0)
    return -1;
  return fcntl (fd, F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC);
}

static int
openat2_in_root (int rootfd, const char *path, int flags, mode_t mode)
{
  struct open_how how = {
    .flags = (uint64_t) (flags | O_CLOEXEC),
    .mode = mode,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  for (int tries = 0;; tries++)
    {
      long fd = syscall (SYS_openat2, rootfd, path, &how, sizeof how);
      /* EAGAIN: a concurrent rename raced the lookup; retry a few times */
      if (fd < 0 && errno == EAGAIN && tries < 16)
        continue;
      return (int) fd;
    }
}

int
resolve_in_root (int rootfd, const char *path, int create, struct shim_error *err)
{
  int fd = openat2_in_root (rootfd, path, O_PATH, 0);
  if (fd >= 0 || errno != ENOENT || !create)
    {
      if (fd < 0)
        return shim_fail (err, errno, "open", path, "open \"%s\" in the container root: %s", path, strerror (errno));
      return fd;
    }

  /* mkdir -p, one component at a time, every prefix re-resolved from the root
     so that a symlink anywhere on the way stays inside the root */
  char buf[PATH_MAX];
  if (snprintf (buf, sizeof buf, "%s", path) >= (int) sizeof buf)
    return shim_fail (err, ENAMETOOLONG, "open", path, NULL);
  int parent = openat2_in_root (rootfd, "/", O_PATH, 0);
  if (parent < 0)
    return shim_fail (err, errno, "open", "/", NULL);
  char *p = buf;
  while (*p)
    {
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      char *comp = p;
      while (*p && *p != '/')
        p++;
      char save = *p;
      *p = '\0';
      bool last = true;
      for (char *q = p + (save ? 1 : 0); save && *q; q++)
        if (*q != '/')
          {
            last = false;
            break;
          }
      fd = openat2_in_root (rootfd, buf, O_PATH, 0);
      if (fd < 0 && errno == ENOENT)
        {
          if (last && create == RIR_MKFILE)
            {
              int f = openat (parent, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
              if (f < 0 && errno != EEXIST)
                goto fail;
              if (f >= 0)
                close (f);
            }
          else if (mkdirat (parent, comp, 0755) < 0 && errno != EEXIST)
            goto fail;
          fd = openat2_in_root (rootfd, buf, O_PATH, 0);
        }
      if (fd < 0)
        goto fail;
      close (parent);
      parent = fd;
      *p = save;
    }
  return parent;

fail:
  {
    int e = errno;
    close (parent);
    return shim_fail (err, e, "mkdir", path, "create \"%s\" in the container root: %s", path, strerror (e));
  }
}

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

int
proc_relation (const char *path)
{
  /* compare component by component: "", "." are skipped; ".." is never
     lexically inside /proc (the plan's paths are absolute; openat2 with
     RESOLVE_IN_ROOT clamps ".." at the root anyway) */
  const char *p = path;
  int first = 1;
  for (;;)
    {
      while (*p == '/')
        p++;
      if (*p == '\0')
        return first ? PROC_OUTSIDE : PROC_ITSELF;
      const char *e = p;
      while (*e && *e != '/')
        e++;
      size_t n = (size_t) (e - p);
      if (n == 1 && p[0] == '.')
        {
          p = e;
          continue;
        }
      if (first)
        {
          if (n != 4 || strncmp (p, "proc", 4) != 0)
            return PROC_OUTSIDE;
          first = 0;
          p = e;
          continue;
        }
      if (n == 2 && p[0] == '.' && p[1] == '.')
        return PROC_OUTSIDE;
      return PROC_UNDER;
    }
}

int
fd_on_procfs (int fd)
{
  struct statfs sfs;
  if (fstatfs (fd, &sfs) < 0)
    return -1;
  return sfs.f_type == PROC_SUPER_MAGIC;
}

int
send_error (struct ctx *c, const struct shim_error *err)
{
  struct tlv_buf b = { 0 };
  struct shim_error ignored;
  if (c->ctl < 0)
    return -1;
  tlvb_str (&b, ERR_MESSAGE, err->msg);
  tlvb_u64 (&b, ERR_ERRNO, (uint64_t) err->errnum);
  tlvb_str (&b, ERR_STEP, err->step);
  tlvb_str (&b, ERR_PATH, err->path);
  int ret = frame_write (c->ctl, MSG_ERROR, b.data, (uint32_t) b.len, &ignored);
  tlvb_free (&b);
  return ret;
}

int
send_pid_msg (struct ctx *c, int msg, pid_t pid, struct shim_error *err)
{
  struct tlv_buf b = { 0 };
  tlvb_u64 (&b, PID_PID, (uint64_t) pid);
  int ret = frame_write (c->ctl, (uint16_t) msg, b.data, (uint32_t) b.len, err);
  tlvb_free (&b);
  return ret;
}
