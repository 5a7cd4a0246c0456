/* rootfs.c - the container's mounts, device nodes, pivot_root, read-only and
 * masked paths.  Everything before pivot_root resolves container paths with
 * resolve_in_root() so a symlink in the image can never point a mount at the
 * host (runc CVE-2021-30465). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "protocol.h"
#include "shim.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
/* flags a bind mount only gets through a remount */
#define REMOUNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME \
                       | MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS | MS_MANDLOCK | MS_DIRSYNC)

static int
mount_fail (struct shim_error *err, const char *type, const char *dest)
{
  int e = errno;
  return shim_fail (err, e, "mount", dest, "mount %s to \"%s\": %s", type && *type ? type : "bind", dest,
                    strerror (e));
}

/* MS_REMOUNT|MS_BIND with FLAGS; in a user namespace some flags of the
 * source mount are locked (EPERM when dropped), so like runc retry with the
 * mount's current statfs flags added. */
static int
remount_bind (const char *target, unsigned long flags, const char *dest, struct shim_error *err)
{
  unsigned long f = MS_REMOUNT | MS_BIND | (flags & REMOUNT_FLAGS);
  if (mount (NULL, target, NULL, f, NULL) == 0)
    return 0;
  if (errno == EPERM)
    {
      struct statfs sfs;
      if (statfs (target, &sfs) == 0)
        {
          f |= (unsigned long) sfs.f_flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME
                                              | MS_NODIRATIME | MS_RELATIME);
          if (mount (NULL, target, NULL, f, NULL) == 0)
            return 0;
        }
    }
  int e = errno;
  return shim_fail (err, e, "mount", dest, "remount \"%s\": %s", dest, strerror (e));
}

static int
make_parent_private (const char *rootfs, struct shim_error *err)
{
  /* pivot_root fails when the parent of the new root is shared: make the
     mount point containing the rootfs private (runc's rootfsParentMountPrivate).
     That is the rootfs itself when it is a mount point (containerd's overlay
     rootfs): with rootfsPropagation rshared it is shared too, and so would be
     its bind below.  EINVAL: not a mount point, go up. */
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s", rootfs);
  for (;;)
    {
      if (mount (NULL, path, NULL, MS_PRIVATE, NULL) == 0)
        return 0;
      if (errno != EINVAL)
        return shim_fail (err, errno, "mount", path, "make \"%s\" private: %s", path, strerror (errno));
      if (strcmp (path, "/") == 0)
        return 0;
      char *slash = strrchr (path, '/');
      if (slash == NULL)
        return 0;
      if (slash == path)
        slash[1] = '\0';
      else
        *slash = '\0';
    }
}

static int
mount_idmapped (struct mount_entry *m, const char *target, struct shim_error *err)
{
  int userns = open (m->idmap_userns, O_RDONLY | O_CLOEXEC);
  if (userns < 0)
    return shim_fail (err, errno, "mount", m->idmap_userns, NULL);
  int tree = (int) syscall (SYS_open_tree, AT_FDCWD, m->source,
                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((m->flags & MS_REC) ? AT_RECURSIVE : 0));
  if (tree < 0)
    {
      close (userns);
      return mount_fail (err, "bind", m->dest);
    }
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns };
  int ret = (int) syscall (SYS_mount_setattr, tree, "", AT_EMPTY_PATH | ((m->flags & MS_REC) ? AT_RECURSIVE : 0),
                           &attr, sizeof attr);
  if (ret == 0)
    ret = (int) syscall (SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
  int e = errno;
  close (tree);
  close (userns);
  if (ret < 0)
    {
      errno = e;
      return shim_fail (err, e, "mount", m->dest, "idmapped mount to \"%s\": %s", m->dest, strerror (e));
    }
  return 0;
}

/* ---- /proc ---- */

/* runc's checkProcMount, by what the destination really is: a bind mount on
 * /proc itself must come from a procfs (lxcfs-style setups bind a procfs);
 * anything under /proc must land on the container's procfs (so a rootfs or
 * a volume that put something else at /proc cannot make masked paths, LSM
 * attribute files or sysctls point at files of its choosing); and a
 * destination outside /proc must not resolve (through a symlink) into a
 * procfs. */
static int
check_proc_mount (struct mount_entry *m, int fd, int bind, struct shim_error *err)
{
  int rel = proc_relation (m->dest);
  if (rel == PROC_ITSELF)
    {
      if (!bind)
        return 0;
      int src = open (m->source, O_PATH | O_CLOEXEC);
      if (src < 0)
        return shim_fail (err, errno, "mount", m->dest, "mount bind \"%s\" to \"%s\": %s", m->source, m->dest,
                          strerror (errno));
      int onproc = fd_on_procfs (src);
      close (src);
      if (onproc != 1)
        return shim_fail (err, EPERM, "mount", m->dest,
                          "mount bind \"%s\" to \"%s\": only a procfs may be bound on /proc", m->source, m->dest);
      return 0;
    }
  int onproc = fd_on_procfs (fd);
  if (onproc < 0)
    return shim_fail (err, errno, "mount", m->dest, "statfs \"%s\": %s", m->dest, strerror (errno));
  if (rel == PROC_UNDER && !onproc)
    return shim_fail (err, EPERM, "mount", m->dest,
                      "mount to \"%s\": the target is not on the container's procfs (is /proc mounted first?)",
                      m->dest);
  if (rel == PROC_OUTSIDE && onproc)
    return shim_fail (err, EPERM, "mount", m->dest, "mount to \"%s\": it resolves into a procfs", m->dest);
  return 0;
}

/* ---- cgroup mounts ---- */

static const char *
host_cgroup_path (const char *cgroups, const char *controllers)
{
  /* "N:controllers:/path" lines; returns a static copy of the path */
  static char out[PATH_MAX];
  size_t cl = strlen (controllers);
  for (const char *l = cgroups; l && *l;)
    {
      const char *nl = strchr (l, '\n');
      const char *c1 = strchr (l, ':');
      const char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (c2 && (!nl || c2 < nl) && (size_t) (c2 - c1 - 1) == cl && strncmp (c1 + 1, controllers, cl) == 0)
        {
          size_t n = nl ? (size_t) (nl - c2 - 1) : strlen (c2 + 1);
          if (n >= sizeof out)
            n = sizeof out - 1;
          memcpy (out, c2 + 1, n);
          out[n] = '\0';
          return out;
        }
      l = nl ? nl + 1 : NULL;
    }
  return "/";
}

static int
bind_cgroup_dir (const char *host, const char *target, const char *dest, unsigned long flags,
                 struct shim_error *err)
{
  if (mount (host, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return mount_fail (err, "cgroup", dest);
  return remount_bind (target, flags, dest, err);
}

static int
mount_cgroup (struct ctx *c, int rootfd, struct mount_entry *m, struct shim_error *err)
{
  /* the mount shows the container's cgroups: it must be in them */
  child_wait_cgroups (c);
  char fdbuf[32], host[PATH_MAX + 32];
  unsigned long flags = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME | MS_NOATIME);
  struct statfs sfs;
  bool v2 = statfs ("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
  int ret, fd = resolve_in_root (rootfd, m->dest, RIR_MKDIR, err);
  if (fd < 0)
    return fd;
  const char *target = procfd (fd, fdbuf);

  if (v2 || strcmp (m->type, "cgroup2") == 0)
    {
      /* a cgroup2 mount shows the cgroup namespace's root: only correct with one */
      if (c->has_cgroupns && mount ("cgroup2", target, "cgroup2", flags, NULL) == 0)
        goto out;
      snprintf (host, sizeof host, "%s%s", v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified",
                host_cgroup_path (c->host_cgroups, ""));
      ret = bind_cgroup_dir (host, target, m->dest, flags, err);
      close (fd);
      return ret;
    }

  /* cgroup v1 / hybrid, like runc: a tmpfs with one directory per hierarchy */
  if (mount ("tmpfs", target, "tmpfs", (flags & ~MS_RDONLY), "mode=755") < 0)
    {
      ret = mount_fail (err, "cgroup", m->dest);
      close (fd);
      return ret;
    }
  close (fd);
  fd = resolve_in_root (rootfd, m->dest, 0, err);
  if (fd < 0)
    return fd;
  for (const char *l = c->host_cgroups; l && *l;)
    {
      const char *nl = strchr (l, '\n');
      char line[PATH_MAX];
      size_t n = nl ? (size_t) (nl - l) : strlen (l);
      if (n >= sizeof line)
        n = sizeof line - 1;
      memcpy (line, l, n);
      line[n] = '\0';
      l = nl ? nl + 1 : NULL;
      char *c1 = strchr (line, ':');
      char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (!c2)
        continue;
      *c2 = '\0';
      const char *ctrls = c1 + 1, *path = c2 + 1;
      const char *name = *ctrls == '\0' ? "unified" : strncmp (ctrls, "name=", 5) == 0 ? ctrls + 5 : ctrls;
      snprintf (host, sizeof host, "/sys/fs/cgroup/%s", name);
      if (access (host, F_OK) < 0)
        continue;
      if (mkdirat (fd, name, 0755) < 0 && errno != EEXIST)
        {
          ret = shim_fail (err, errno, "mkdir", m->dest, "mkdir \"%s/%s\": %s", m->dest, name, strerror (errno));
          goto fail;
        }
      char sub[PATH_MAX + 64], subdest[2 * PATH_MAX];
      snprintf (sub, sizeof sub, "/proc/self/fd/%d/%s", fd, name);
      snprintf (subdest, sizeof subdest, "%s/%s", m->dest, name);
      bool mounted = false;
      if (c->has_cgroupns)
        mounted = *ctrls == '\0' ? mount ("cgroup2", sub, "cgroup2", flags, NULL) == 0
                                 : mount ("cgroup", sub, "cgroup", flags, ctrls) == 0;
      if (!mounted)
        {
          char src[2 * PATH_MAX + 32];
          snprintf (src, sizeof src, "%s%s", host, strcmp (path, "/") == 0 ? "" : path);
          ret = bind_cgroup_dir (src, sub, subdest, flags, err);
          if (ret < 0)
            goto fail;
        }
      /* co-mounted controllers: cpu -> cpu,cpuacct */
      if (strchr (name, ',') && strncmp (ctrls, "name=", 5) != 0)
        {
          char tmp[256];
          snprintf (tmp, sizeof tmp, "%s", name);
          for (char *s = strtok (tmp, ","); s; s = strtok (NULL, ","))
            if (symlinkat (name, fd, s) < 0 && errno != EEXIST)
              {
                ret = shim_fail (err, errno, "symlink", subdest, NULL);
                goto fail;
              }
        }
    }
  if (flags & MS_RDONLY)
    {
      target = procfd (fd, fdbuf);
      if (mount (NULL, target, NULL, MS_REMOUNT | flags, "mode=755") < 0)
        {
          ret = mount_fail (err, "cgroup", m->dest);
          goto fail;
        }
    }
out:
  close (fd);
  return 0;
fail:
  close (fd);
  return ret;
}

/* ---- config.mounts ---- */

static int
mount_one (struct ctx *c, int rootfd, struct mount_entry *m, struct shim_error *err)
{
  char fdbuf[32];
  bool bind = strcmp (m->type, "bind") == 0 || (m->flags & MS_BIND);
  int create = RIR_MKDIR, ret;

  if (!bind && (strcmp (m->type, "cgroup") == 0 || strcmp (m->type, "cgroup2") == 0))
    {
      ret = mount_cgroup (c, rootfd, m, err);
      if (ret < 0)
        return ret;
      goto after;
    }
  if (bind)
    {
      struct stat st;
      if (m->source == NULL || stat (m->source, &st) < 0)
        return shim_fail (err, m->source ? errno : EINVAL, "mount", m->dest, "mount bind \"%s\" to \"%s\": %s",
                          m->source ? m->source : "", m->dest, strerror (m->source ? errno : EINVAL));
      if (!S_ISDIR (st.st_mode))
        create = RIR_MKFILE;
    }
  int fd = resolve_in_root (rootfd, m->dest, create, err);
  if (fd < 0)
    return fd;
  ret = check_proc_mount (m, fd, bind, err);
  if (ret < 0)
    {
      close (fd);
      return ret;
    }
  const char *target = procfd (fd, fdbuf);

  if (m->chdir && chdir (m->chdir) < 0)
    {
      close (fd);
      return shim_fail (err, errno, "mount", m->chdir, "chdir \"%s\": %s", m->chdir, strerror (errno));
    }
  if (m->idmap_userns && bind)
    ret = mount_idmapped (m, target, err);
  else if (bind)
    ret = mount (m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0 ? mount_fail (err, "bind", m->dest)
                                                                                   : 0;
  else
    ret = mount (m->source ? m->source : m->type, target, m->type, m->flags & ~(PROPAGATION_FLAGS | MS_BIND),
                 m->data) < 0
              ? mount_fail (err, m->type, m->dest)
              : 0;
  close (fd);
  if (m->chdir && chdir ("/") < 0)
    return shim_fail_errno (err, "chdir", "/");
  if (ret < 0)
    return ret;

after:
  /* re-open: the old fd points under the new mount, not at its root */
  fd = resolve_in_root (rootfd, m->dest, 0, err);
  if (fd < 0)
    return fd;
  target = procfd (fd, fdbuf);
  ret = 0;
  if (bind && (m->flags & REMOUNT_FLAGS))
    ret = remount_bind (target, m->flags, m->dest, err);
  if (ret == 0 && m->propagation && mount (NULL, target, NULL, m->propagation, NULL) < 0)
    ret = shim_fail (err, errno, "mount", m->dest, "set propagation of \"%s\": %s", m->dest, strerror (errno));
  if (ret == 0 && (m->attr_set || m->attr_clear))
    {
      struct mount_attr attr = { .attr_set = m->attr_set, .attr_clr = m->attr_clear };
      if (syscall (SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        ret = shim_fail (err, errno, "mount", m->dest, "mount_setattr \"%s\": %s", m->dest, strerror (errno));
    }
  close (fd);
  return ret;
}

/* ---- devices ---- */

static int
split_parent (int rootfd, const char *path, const char **base, struct shim_error *err)
{
  char dir[PATH_MAX];
  const char *slash = strrchr (path, '/');
  if (slash == NULL)
    return shim_fail (err, EINVAL, "mknod", path, NULL);
  snprintf (dir, sizeof dir, "%.*s", (int) (slash - path), path);
  *base = slash + 1;
  return resolve_in_root (rootfd, dir[0] ? dir : "/", RIR_MKDIR, err);
}

static int
create_device (struct ctx *c, int rootfd, struct device_entry *d, struct shim_error *err)
{
  const char *base;
  char fdbuf[32];
  int dir = split_parent (rootfd, d->path, &base, err);
  if (dir < 0)
    return dir;
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  int ret = 0;
  if (!c->in_userns)
    {
      dev_t dv = makedev (d->major, d->minor);
      ret = mknodat (dir, base, type | (d->mode & 07777), dv);
      if (ret < 0 && errno == EEXIST && unlinkat (dir, base, 0) == 0)
        ret = mknodat (dir, base, type | (d->mode & 07777), dv);
      if (ret == 0)
        {
          if (fchownat (dir, base, d->has_uid ? (uid_t) d->uid : 0, d->has_gid ? (gid_t) d->gid : 0,
                        AT_SYMLINK_NOFOLLOW) < 0)
            ret = shim_fail (err, errno, "chown", d->path, NULL);
          goto out;
        }
      if (errno != EPERM)
        {
          ret = shim_fail (err, errno, "mknod", d->path, NULL);
          goto out;
        }
      ret = 0;
    }
  /* in a user namespace mknod is not allowed: bind the host's node onto an
     empty file, as runc does */
  {
    int f = openat (dir, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
    if (f < 0)
      {
        ret = shim_fail (err, errno, "mknod", d->path, NULL);
        goto out;
      }
    close (f);
    f = openat (dir, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (f < 0 || mount (d->path, procfd (f, fdbuf), NULL, MS_BIND, NULL) < 0)
      ret = mount_fail (err, "bind", d->path);
    if (f >= 0)
      close (f);
  }
out:
  close (dir);
  return ret;
}

static int
create_devices (struct ctx *c, int rootfd, struct shim_error *err)
{
  struct plan *p = c->plan;
  int ret;
  if (p->flags & PLAN_FLAG_NO_DEFAULT_DEVICES)
    return 0;
  for (size_t i = 0; i < p->n_devices; i++)
    {
      ret = create_device (c, rootfd, &p->devices[i], err);
      if (ret < 0)
        return ret;
    }
  int dev = resolve_in_root (rootfd, "/dev", RIR_MKDIR, err);
  if (dev < 0)
    return dev;
  static const char *const links[][2] = {
    { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
  };
  ret = 0;
  for (size_t i = 0; i < 4 && ret == 0; i++)
    if (symlinkat (links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
      ret = shim_fail (err, errno, "symlink", links[i][1], "symlink \"/dev/%s\": %s", links[i][1], strerror (errno));
  struct stat st;
  if (ret == 0 && fstatat (dev, "pts", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
    {
      if (unlinkat (dev, "ptmx", 0) < 0 && errno != ENOENT)
        ret = shim_fail (err, errno, "symlink", "/dev/ptmx", "remove \"/dev/ptmx\": %s", strerror (errno));
      else if (symlinkat ("pts/ptmx", dev, "ptmx") < 0)
        ret = shim_fail (err, errno, "symlink", "/dev/ptmx", NULL);
    }
  if (ret == 0 && access ("/proc/kcore", F_OK) == 0 && symlinkat ("/proc/kcore", dev, "core") < 0 && errno != EEXIST)
    ret = shim_fail (err, errno, "symlink", "/dev/core", NULL);
  close (dev);
  return ret;
}

/* ---- b..e ---- */

int
rootfs_prepare (struct ctx *c, struct shim_error *err)
{
  struct plan *p = c->plan;
  int ret;

  if (!c->has_mntns)
    return 0;
  if (c->mntns_fd >= 0)
    {
      if (setns (c->mntns_fd, CLONE_NEWNS) < 0)
        return shim_fail (err, errno, "setns", "mnt", "setns mount namespace: %s", strerror (errno));
      close (c->mntns_fd);
      c->mntns_fd = -1;
    }
  /* first, so that nothing we mount below propagates back to the host */
  unsigned long prop = p->rootfs_propagation ? p->rootfs_propagation : MS_SLAVE | MS_REC;
  if (mount (NULL, "/", NULL, prop, NULL) < 0)
    return shim_fail (err, errno, "mount", "/", "set propagation of \"/\": %s", strerror (errno));
  ret = make_parent_private (p->rootfs, err);
  if (ret < 0)
    return ret;

  if (p->rootfs_mount)
    {
      struct mount_entry *m = p->rootfs_mount;
      if (m->chdir && chdir (m->chdir) < 0)
        return shim_fail (err, errno, "mount", m->chdir, "chdir \"%s\": %s", m->chdir, strerror (errno));
      if (mount (m->source ? m->source : m->type, p->rootfs, m->type, m->flags & ~PROPAGATION_FLAGS, m->data) < 0)
        return mount_fail (err, m->type, p->rootfs);
      if (m->chdir && chdir ("/") < 0)
        return shim_fail_errno (err, "chdir", "/");
    }
  else if (mount (p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return mount_fail (err, "bind", p->rootfs);

  int rootfd = open (p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return shim_fail_errno (err, "open", p->rootfs);
  for (size_t i = 0; i < p->n_mounts; i++)
    {
      ret = mount_one (c, rootfd, &p->mounts[i], err);
      if (ret < 0)
        goto out;
    }
  ret = create_devices (c, rootfd, err);
  if (ret < 0)
    goto out;
  /* like runc: a missing cwd is created (as root, before the user switch) */
  if (p->cwd && strcmp (p->cwd, "/") != 0)
    {
      int fd = resolve_in_root (rootfd, p->cwd, RIR_MKDIR, err);
      if (fd < 0)
        {
          ret = fd;
          goto out;
        }
      close (fd);
    }
out:
  close (rootfd);
  return ret;
}

/* ---- h ---- */

/* rootfsPropagation for the container's own root.  Only now: before the
   pivot the root was a bind of a mount made private (make_parent_private,
   which pivot_root needs); "/" given shared before the pivot would have been
   the host's.  Private is what it already is. */
static int
apply_root_propagation (struct plan *p, struct shim_error *err)
{
  if (p->rootfs_propagation == 0 || (p->rootfs_propagation & MS_PRIVATE))
    return 0;
  if (mount (NULL, "/", NULL, p->rootfs_propagation, NULL) < 0)
    return shim_fail (err, errno, "mount", "/", "set rootfsPropagation of the container's \"/\": %s",
                      strerror (errno));
  return 0;
}

int
rootfs_pivot (struct ctx *c, struct shim_error *err)
{
  struct plan *p = c->plan;
  if (!c->has_mntns)
    {
      if (chroot (p->rootfs) < 0)
        return shim_fail_errno (err, "chroot", p->rootfs);
      if (chdir ("/") < 0)
        return shim_fail_errno (err, "chdir", "/");
      return 0;
    }
  if (chdir (p->rootfs) < 0)
    return shim_fail_errno (err, "chdir", p->rootfs);
  if (p->flags & PLAN_FLAG_NO_PIVOT)
    {
      if (mount (p->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
        return shim_fail (err, errno, "mount", p->rootfs, "move \"%s\" to \"/\": %s", p->rootfs, strerror (errno));
      if (chroot (".") < 0)
        return shim_fail_errno (err, "chroot", p->rootfs);
      if (chdir ("/") < 0)
        return shim_fail_errno (err, "chdir", "/");
      return apply_root_propagation (p, err);
    }
  /* runc's trick: pivot_root(".", ".") stacks the old root on top of the new
     one, so no put_old directory is needed (works on a read-only rootfs) */
  int oldroot = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0)
    return shim_fail_errno (err, "pivot_root", "/");
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    {
      close (oldroot);
      return shim_fail_errno (err, "pivot_root", p->rootfs);
    }
  /* the old root is now at "."; make it a slave so unmounting it cannot
     propagate to the host, then detach it */
  if (fchdir (oldroot) < 0)
    return shim_fail_errno (err, "pivot_root", "/");
  close (oldroot);
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return shim_fail (err, errno, "pivot_root", "/", "make the old root a slave: %s", strerror (errno));
  if (umount2 (".", MNT_DETACH) < 0)
    return shim_fail (err, errno, "pivot_root", "/", "unmount the old root: %s", strerror (errno));
  if (chdir ("/") < 0)
    return shim_fail_errno (err, "chdir", "/");
  return apply_root_propagation (p, err);
}

/* ---- j ---- */

/* read-only remount keeping nosuid/nodev/noexec, like runc's readonlyPath */
static int
remount_ro (const char *path, struct shim_error *err)
{
  struct statfs sfs;
  unsigned long keep = 0;
  if (statfs (path, &sfs) == 0)
    keep = (unsigned long) sfs.f_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  return remount_bind (path, MS_RDONLY | keep, path, err);
}

int
rootfs_finalize (struct ctx *c, struct shim_error *err)
{
  struct plan *p = c->plan;
  int ret;
  if (!c->has_mntns)
    return 0;
  if (p->flags & PLAN_FLAG_ROOT_READONLY)
    {
      ret = remount_ro ("/", err);
      if (ret < 0)
        return ret;
    }
  for (size_t i = 0; i < p->readonly.n; i++)
    {
      const char *path = p->readonly.v[i];
      if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
        {
          if (errno == ENOENT)
            continue;
          return mount_fail (err, "bind", path);
        }
      ret = remount_ro (path, err);
      if (ret < 0)
        return ret;
    }
  for (size_t i = 0; i < p->masked.n; i++)
    {
      const char *path = p->masked.v[i];
      struct stat st;
      if (stat (path, &st) < 0)
        {
          if (errno == ENOENT)
            continue;
          return shim_fail_errno (err, "mask", path);
        }
      if (S_ISDIR (st.st_mode))
        {
          if (mount ("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
            return mount_fail (err, "tmpfs", path);
        }
      else if (mount ("/dev/null", path, NULL, MS_BIND, NULL) < 0)
        return mount_fail (err, "bind", path);
    }
  return 0;
}
