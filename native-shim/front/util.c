/* util.c - the front's small file and path helpers, shared by the verbs
 * (verbs.c) and the replay (replay.c).  Each returns < 0 on failure as its
 * comment in front.h says; none prints anything. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "front.h"
#include "tlv.h"

void
front_sleep_ms (int ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* 0 in the host's (initial) user namespace, whose /proc/self/uid_map is the
 * one line "0 0 4294967295"; -1 (why filled) in any other: there uid 0 is
 * not root (rootless podman runs its runtime so) and the default --root is
 * the user's, which only TypeScript (src/runtime/paths.ts) decides. */
int
front_host_userns (struct front_why *why)
{
  char buf[256];
  unsigned long inside, outside, count;
  int end = 0;
  int r = front_read_small ("/proc/self/uid_map", buf, sizeof buf);
  if (r < 0)
    return front_fail (why, "read /proc/self/uid_map: %s", strerror (-r));
  if (sscanf (buf, " %lu %lu %lu %n", &inside, &outside, &count, &end) != 3 || buf[end] != '\0' || inside != 0 || outside != 0
      || count != 4294967295UL)
    return front_fail (why, "in a user namespace (uid_map \"%s\")", buf);
  return 0;
}

/* A small file into buf (NUL-terminated, trailing whitespace trimmed as
 * cgroups/fs.ts readFile does); -errno on failure. */
int
front_read_small (const char *path, char *buf, size_t size)
{
  size_t len = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  for (;;)
    {
      ssize_t r = read (fd, buf + len, size - 1 - len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          close (fd);
          return -e;
        }
      if (r == 0 || len + (size_t) r >= size - 1)
        {
          len += (size_t) r;
          break;
        }
      len += (size_t) r;
    }
  close (fd);
  buf[len] = '\0';
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
    buf[--len] = '\0';
  return (int) len;
}

int
front_resolve_path (const char *in, char *out, size_t size)
{
  char buf[PATH_MAX * 2];
  size_t len = 0;
  char *p, *save = NULL;

  if (in[0] == '/')
    snprintf (buf, sizeof buf, "%s", in);
  else
    {
      char cwd[PATH_MAX];
      if (getcwd (cwd, sizeof cwd) == NULL)
        return -1;
      if ((size_t) snprintf (buf, sizeof buf, "%s/%s", cwd, in) >= sizeof buf)
        return -1;
    }
  if (strlen (buf) >= sizeof buf - 1 || size < 2)
    return -1;
  out[0] = '\0';
  for (p = strtok_r (buf, "/", &save); p != NULL; p = strtok_r (NULL, "/", &save))
    {
      size_t n = strlen (p);
      if (strcmp (p, ".") == 0)
        continue;
      if (strcmp (p, "..") == 0)
        {
          char *slash = len ? strrchr (out, '/') : NULL;
          len = slash ? (size_t) (slash - out) : 0;
          out[len] = '\0';
          continue;
        }
      if (len + 1 + n + 1 > size)
        return -1;
      out[len++] = '/';
      memcpy (out + len, p, n + 1);
      len += n;
    }
  if (len == 0)
    strcpy (out, "/");
  return 0;
}

/* file written as `<file>.<pid>.tmp` + rename (store.ts writeFileAtomic). */
int
front_write_atomic (const char *file, const void *data, size_t len, struct front_why *why)
{
  char tmp[PATH_MAX + 32];
  int fd;
  snprintf (tmp, sizeof tmp, "%s.%d.tmp", file, (int) getpid ());
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return front_fail (why, "open \"%s\": %s", tmp, strerror (errno));
  if (fd_write_all (fd, data, len) < 0)
    {
      int e = errno;
      close (fd);
      unlink (tmp);
      return front_fail (why, "write \"%s\": %s", tmp, strerror (e));
    }
  if (close (fd) < 0 || rename (tmp, file) < 0)
    {
      int e = errno;
      unlink (tmp);
      return front_fail (why, "write \"%s\": %s", file, strerror (e));
    }
  return 0;
}

/* A mountinfo path field with its octal escapes (\040 ...) undone, in place. */
static void
unescape_octal (char *s)
{
  char *o = s;
  for (; *s; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
        {
          *o++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
          s += 3;
        }
      else
        *o++ = *s;
    }
  *o = '\0';
}

int
front_mounted_under (const char *dir)
{
  size_t dlen = strlen (dir), len;
  char *buf, *line, *save = NULL;
  int ret = read_whole_file ("/proc/self/mountinfo", &buf, &len, 16 << 20), found = 0;
  if (ret < 0)
    return -1;
  for (line = strtok_r (buf, "\n", &save); line != NULL && !found; line = strtok_r (NULL, "\n", &save))
    {
      /* id parent major:minor root MOUNT-POINT ... */
      char *f = line, *end;
      int i;
      for (i = 0; i < 4 && f != NULL; i++)
        if ((f = strchr (f, ' ')) != NULL)
          f++;
      if (f == NULL)
        continue;
      if ((end = strchr (f, ' ')) != NULL)
        *end = '\0';
      unescape_octal (f);
      found = strncmp (f, dir, dlen) == 0 && (f[dlen] == '\0' || f[dlen] == '/');
    }
  free (buf);
  return found;
}

#define REMOVE_MAX_DEPTH 256

/* rm -r of name in dirfd, not leaving the file system dev. */
static int
remove_at (int dirfd, const char *name, const char *top, dev_t dev, int depth, struct front_why *why)
{
  struct stat st, dst;
  struct dirent *e;
  DIR *d;
  int fd, pass;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : front_fail (why, "lstat \"%s\" (under \"%s\"): %s", name, top, strerror (errno));
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dirfd, name, 0) < 0 && errno != ENOENT)
        return front_fail (why, "unlink \"%s\" (under \"%s\"): %s", name, top, strerror (errno));
      return 0;
    }
  if (st.st_dev != dev)
    return front_fail (why, "\"%s\" (under \"%s\") is on another file system", name, top);
  /* most dirs of a write layer are empty (merged, work/work, often upper) */
  if (unlinkat (dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
    return 0;
  if (errno != ENOTEMPTY && errno != EEXIST)
    return front_fail (why, "rmdir \"%s\" (under \"%s\"): %s", name, top, strerror (errno));
  if (depth >= REMOVE_MAX_DEPTH)
    return front_fail (why, "\"%s\": deeper than %d", top, REMOVE_MAX_DEPTH);
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return front_fail (why, "open \"%s\" (under \"%s\"): %s", name, top, strerror (errno));
  /* the dir we looked at, not one put in its place since */
  if (fstat (fd, &dst) < 0 || dst.st_dev != st.st_dev || dst.st_ino != st.st_ino)
    {
      close (fd);
      return front_fail (why, "\"%s\" (under \"%s\") changed while being removed", name, top);
    }
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return front_fail (why, "fdopendir \"%s\": %s", name, strerror (errno));
    }
  /* entries removed while reading may hide others from readdir: read again until empty */
  for (pass = 0;; pass++)
    {
      while ((e = readdir (d)) != NULL)
        {
          int ret;
          if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
            continue;
          ret = remove_at (fd, e->d_name, top, dev, depth + 1, why);
          if (ret < 0)
            {
              closedir (d);
              return ret;
            }
        }
      if (unlinkat (dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
        break;
      if ((errno != ENOTEMPTY && errno != EEXIST) || pass == 2)
        {
          int err = errno;
          closedir (d);
          return front_fail (why, "rmdir \"%s\" (under \"%s\"): %s", name, top, strerror (err));
        }
      rewinddir (d);
    }
  closedir (d);
  return 0;
}

int
front_remove_tree (const char *path, struct front_why *why)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    return errno == ENOENT ? 0 : front_fail (why, "lstat \"%s\": %s", path, strerror (errno));
  return remove_at (AT_FDCWD, path, path, st.st_dev, 0, why);
}
