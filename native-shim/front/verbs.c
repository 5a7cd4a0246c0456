/* verbs.c - status, state, start, kill, delete: the plain success cases of
 * src/runtime/{container,status,start,kill,delete}.ts; anything else returns
 * < 0 and the caller runs the TypeScript CLI. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "front.h"
#include "tlv.h"

const char *
front_status_name (enum front_status s)
{
  switch (s)
    {
    case STATUS_CREATED:
      return "created";
    case STATUS_RUNNING:
      return "running";
    case STATUS_PAUSED:
      return "paused";
    default:
      return "stopped";
    }
}

/* proc.ts readProcStat: state letter and field 22; -1 when unreadable (null there). */
int
front_read_proc_stat (long pid, char *state, unsigned long long *start_time)
{
  char path[64], buf[1024];
  char *close_paren, *f;
  int field;
  snprintf (path, sizeof path, "/proc/%ld/stat", pid);
  if (front_read_small (path, buf, sizeof buf) < 0)
    return -1;
  close_paren = strrchr (buf, ')');
  if (close_paren == NULL || close_paren[1] != ' ')
    return -1;
  f = close_paren + 2;
  *state = *f;
  /* field 3 is the state; walk to field 22 */
  for (field = 3; field < 22; field++)
    {
      f = strchr (f, ' ');
      if (f == NULL)
        return -1;
      f++;
    }
  *start_time = strtoull (f, NULL, 10);
  return 0;
}

int
front_is_alive (long pid, unsigned long long start_time)
{
  char state;
  unsigned long long st;
  if (front_read_proc_stat (pid, &state, &st) < 0)
    return 0;
  return state != 'Z' && state != 'X' && st == start_time;
}

/* cgroups isFrozen; < 0 (fall back) for errors it would have swallowed. */
static int
is_frozen (const struct front_record *rec, int *frozen, struct front_why *why)
{
  char path[4200], buf[4096];
  int ret;
  *frozen = 0;
  if (rec->freezer == FREEZER_NONE)
    return 0;
  /* v1 freezer.state "FROZEN"; v2 cgroup.freeze "1", then cgroup.events says whether it is done */
  snprintf (path, sizeof path, "%s/%s", rec->freezer_dir, rec->freezer == FREEZER_V1 ? "freezer.state" : "cgroup.freeze");
  ret = front_read_small (path, buf, sizeof buf);
  if (ret == -ENOENT || ret == -ENOTDIR)
    return 0;
  if (ret < 0)
    return front_fail (why, "read \"%s\": %s", path, strerror (-ret));
  if (rec->freezer == FREEZER_V1)
    {
      *frozen = strcmp (buf, "FROZEN") == 0;
      return 0;
    }
  if (strcmp (buf, "1") != 0)
    return 0;
  snprintf (path, sizeof path, "%s/cgroup.events", rec->freezer_dir);
  ret = front_read_small (path, buf, sizeof buf);
  if (ret < 0)
    return front_fail (why, "read \"%s\": %s", path, strerror (-ret));
  *frozen = strncmp (buf, "frozen 1", 8) == 0 && (buf[8] == '\0' || buf[8] == '\n');
  if (!*frozen)
    {
      const char *l = strstr (buf, "\nfrozen 1");
      *frozen = l != NULL && (l[9] == '\0' || l[9] == '\n');
    }
  return 0;
}

int
front_status (const struct front_record *rec, const char *dir, enum front_status *out, struct front_why *why)
{
  char path[4200];
  int frozen, ret;
  if (!front_is_alive (rec->pid, rec->start_time))
    {
      *out = STATUS_STOPPED;
      return 0;
    }
  ret = is_frozen (rec, &frozen, why);
  if (ret < 0)
    return ret;
  if (frozen)
    {
      *out = STATUS_PAUSED;
      return 0;
    }
  snprintf (path, sizeof path, "%s/exec.fifo", dir);
  if (access (path, F_OK) == 0)
    *out = STATUS_CREATED;
  else if (errno == ENOENT)
    *out = STATUS_RUNNING;
  else
    return front_fail (why, "access \"%s\": %s", path, strerror (errno));
  return 0;
}

/* store.ts lockDir: flock on the directory, then make sure it is still the
 * container's.  *gone is set when TypeScript would say NotFoundError (the
 * directory does not exist, or was deleted while we waited). */
int
front_lock_dir (const char *dir, int *fd_out, int *gone, struct front_why *why)
{
  struct stat a, b;
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *gone = 0;
  if (fd < 0)
    {
      *gone = errno == ENOENT;
      return front_fail (why, "open \"%s\": %s", dir, strerror (errno));
    }
  while (flock (fd, LOCK_EX) < 0)
    {
      if (errno != EINTR)
        {
          close (fd);
          return front_fail (why, "flock \"%s\": %s", dir, strerror (errno));
        }
    }
  if (fstat (fd, &a) < 0 || stat (dir, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev || a.st_nlink == 0)
    {
      close (fd);
      *gone = 1;
      return front_fail (why, "\"%s\" was deleted while waiting for its lock", dir);
    }
  *fd_out = fd;
  return 0;
}

/* What every fast verb starts with: the lock, the front record, the status.
 * On failure nothing is left open (*gone: the container does not exist). */
static int
open_container (struct front_call *c, int *lock, int *gone, struct front_record *rec, enum front_status *status,
                struct front_why *why)
{
  int ret = front_lock_dir (c->dir, lock, gone, why);
  if (ret < 0)
    return ret;
  ret = front_record_read (*lock, c->dir, rec, why);
  if (ret == 0)
    {
      ret = front_status (rec, c->dir, status, why);
      if (ret < 0)
        free (rec->buf);
    }
  if (ret < 0)
    close (*lock);
  return ret;
}

int
front_state (struct front_call *c, struct front_why *why)
{
  struct front_record rec;
  enum front_status status;
  int ret = front_record_read (-1, c->dir, &rec, why);
  if (ret < 0)
    return ret;
  ret = front_status (&rec, c->dir, &status, why);
  if (ret == 0)
    {
      /* one write, as node does for one string */
      const char *name = front_status_name (status);
      size_t nlen = strlen (name);
      if (status == STATUS_STOPPED)
        ret = fd_write_all (1, rec.stopped, rec.stopped_len);
      else
        {
          size_t len = rec.live_head_len + nlen + rec.live_tail_len;
          char *out = malloc (len);
          if (out == NULL)
            ret = front_fail (why, "out of memory");
          else
            {
              memcpy (out, rec.live_head, rec.live_head_len);
              memcpy (out + rec.live_head_len, name, nlen);
              memcpy (out + rec.live_head_len + nlen, rec.live_tail, rec.live_tail_len);
              ret = fd_write_all (1, out, len);
              free (out);
            }
        }
      if (ret < 0 && why->text[0] == '\0')
        ret = 1; /* stdout is gone: nothing to fall back for */
    }
  free (rec.buf);
  return ret;
}

/* start.ts: read the byte the container process writes into the exec fifo. */
int
front_start (struct front_call *c, struct front_why *why)
{
  struct front_record rec;
  enum front_status status;
  char fifo[4200], b;
  int lock, fd, ret, gone;

  ret = open_container (c, &lock, &gone, &rec, &status, why);
  if (ret < 0)
    return ret;
  if (status != STATUS_CREATED || !rec.start_fast)
    {
      ret = front_fail (why, "start: status %s, start-fast %d", front_status_name (status), rec.start_fast);
      goto out;
    }
  snprintf (fifo, sizeof fifo, "%s/exec.fifo", c->dir);
  fd = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      ret = front_fail (why, "open \"%s\": %s", fifo, strerror (errno));
      goto out;
    }
  for (;;)
    {
      ssize_t n = read (fd, &b, 1);
      if (n == 1)
        break;
      /* 0: the process has not opened its end yet; EAGAIN: opened, byte not yet written */
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        {
          ret = front_fail (why, "read \"%s\": %s", fifo, strerror (errno));
          close (fd);
          goto out;
        }
      if (!front_is_alive (rec.pid, rec.start_time))
        {
          /* it may have written, exec'd and exited in between: the byte waits */
          if (read (fd, &b, 1) == 1)
            break;
          /* nothing read: TypeScript says what happened */
          ret = front_fail (why, "start: the container process exited before it was started");
          close (fd);
          goto out;
        }
      /* Wait for the byte rather than sleep: poll on a FIFO's read end waits
       * while no writer has come (no POLLHUP before one did).  A writer that
       * came and went without writing leaves POLLHUP set: sleep then, the
       * liveness check above decides. */
      {
        struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
        if (poll (&pfd, 1, 10) > 0 && !(pfd.revents & POLLIN))
          front_sleep_ms (1);
      }
    }
  close (fd);
  /* the point of no return: the process runs now */
  if (unlink (fifo) < 0 && errno != ENOENT)
    {
      dprintf (2, "tsrun: unlink \"%s\": %s\n", fifo, strerror (errno));
      ret = 1;
      goto out;
    }
  ret = 0;
out:
  free (rec.buf);
  close (lock);
  return ret;
}

struct sig_name
{
  const char *name;
  int num;
};

/* node's os.constants.signals on Linux */
static const struct sig_name SIGNALS[] = {
  { "SIGHUP", 1 },    { "SIGINT", 2 },     { "SIGQUIT", 3 },  { "SIGILL", 4 },    { "SIGTRAP", 5 },   { "SIGABRT", 6 },
  { "SIGIOT", 6 },    { "SIGBUS", 7 },     { "SIGFPE", 8 },   { "SIGKILL", 9 },   { "SIGUSR1", 10 },  { "SIGSEGV", 11 },
  { "SIGUSR2", 12 },  { "SIGPIPE", 13 },   { "SIGALRM", 14 }, { "SIGTERM", 15 },  { "SIGCHLD", 17 },  { "SIGSTKFLT", 16 },
  { "SIGCONT", 18 },  { "SIGSTOP", 19 },   { "SIGTSTP", 20 }, { "SIGTTIN", 21 },  { "SIGTTOU", 22 },  { "SIGURG", 23 },
  { "SIGXCPU", 24 },  { "SIGXFSZ", 25 },   { "SIGVTALRM", 26 }, { "SIGPROF", 27 }, { "SIGWINCH", 28 }, { "SIGIO", 29 },
  { "SIGPOLL", 29 },  { "SIGPWR", 30 },    { "SIGSYS", 31 },
};

/* digits only, at most 64 (so no overflow); -1 otherwise */
static int
small_number (const char *s)
{
  int n = 0;
  if (*s == '\0')
    return -1;
  for (; *s; s++)
    {
      if (*s < '0' || *s > '9')
        return -1;
      n = n * 10 + (*s - '0');
      if (n > 1000)
        n = 1000;
    }
  return n;
}

int
front_parse_signal (const char *s, int *sig)
{
  char name[32];
  size_t i, len = strlen (s);
  int n;
  if (len == 0 || len + 4 > sizeof name)
    return -1;
  n = small_number (s);
  if (n >= 0)
    {
      if (n > 64)
        return -1;
      *sig = n;
      return 0;
    }
  /* upper case (ASCII only: JavaScript's toUpperCase maps more) */
  i = 0;
  if (strncasecmp (s, "SIG", 3) != 0)
    {
      memcpy (name, "SIG", 3);
      i = 3;
    }
  for (; *s; s++)
    {
      if ((unsigned char) *s >= 0x80)
        return -1;
      name[i++] = (char) (*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
    }
  name[i] = '\0';
  if (strncmp (name, "SIGRTMIN", 8) == 0 || strncmp (name, "SIGRTMAX", 8) == 0)
    {
      int min = name[6] == 'I';
      const char *rest = name + 8;
      int off = 0;
      if (*rest != '\0')
        {
          if (*rest != (min ? '+' : '-'))
            return -1;
          off = small_number (rest + 1);
          if (off < 0)
            return -1;
        }
      n = min ? 34 + off : 64 - off;
      if (n < 34 || n > 64)
        return -1;
      *sig = n;
      return 0;
    }
  for (i = 0; i < sizeof SIGNALS / sizeof SIGNALS[0]; i++)
    if (strcmp (name, SIGNALS[i].name) == 0)
      {
        *sig = SIGNALS[i].num;
        return 0;
      }
  return -1;
}

/* Signals every process in dir and its child cgroups (cgroups' pidsIn):
   ESRCH is a process already gone.  0, or < 0 with why filled. */
static int
signal_cgroup_tree (const char *dir, int sig, int depth, struct front_why *why)
{
  char path[4200];
  if (depth > 32)
    return front_fail (why, "kill --all: cgroups nested too deep under \"%s\"", dir);
  snprintf (path, sizeof path, "%s/cgroup.procs", dir);
  char *procs = NULL;
  int ret = read_whole_file (path, &procs, NULL, 1 << 20);
  if (ret == -ENOENT)
    return 0; /* a hierarchy whose dir is already gone */
  if (ret < 0)
    return front_fail (why, "kill --all: read \"%s\": %s", path, strerror (-ret));
  for (char *s = procs, *end; *s; s = end)
    {
      long pid = strtol (s, &end, 10);
      if (end == s)
        break;
      if (pid > 1 && pid != (long) getpid () && kill ((pid_t) pid, sig) < 0 && errno != ESRCH)
        {
          ret = front_fail (why, "kill %ld: %s", pid, strerror (errno));
          break;
        }
    }
  free (procs);
  if (ret < 0)
    return ret;
  DIR *d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : front_fail (why, "kill --all: opendir \"%s\": %s", dir, strerror (errno));
  struct dirent *e;
  while (ret == 0 && (e = readdir (d)) != NULL)
    if (e->d_type == DT_DIR && strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      {
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        ret = signal_cgroup_tree (path, sig, depth + 1, why);
      }
  closedir (d);
  return ret;
}

/* kill.ts: a created or running container's init; with --all every process
   in its cgroups too, and, once the init has exited, what is left in them
   (containerd's shim calls that at the init's exit; runc succeeds there).
   --all takes only records whose cgroup dirs delete may remove itself
   (delete-fast: none protected); paused containers go to Node (the thaw). */
int
front_kill (struct front_call *c, struct front_why *why)
{
  struct front_record rec;
  enum front_status status;
  int lock, ret, gone, sig;

  if (front_parse_signal (c->signal ? c->signal : "SIGTERM", &sig) < 0)
    return front_fail (why, "kill: signal \"%s\" is not a plain one", c->signal);
  ret = open_container (c, &lock, &gone, &rec, &status, why);
  if (ret < 0)
    return ret;
  int init_gone = status == STATUS_STOPPED;
  if (status == STATUS_PAUSED || (init_gone && !c->all))
    {
      ret = front_fail (why, "kill: status %s", front_status_name (status));
      goto out;
    }
  if (c->all && (rec.n_rmdirs == 0 || !rec.delete_fast))
    {
      ret = front_fail (why, "kill --all: no cgroup of its own in the record (delete-fast %d)", rec.delete_fast);
      goto out;
    }
  ret = 0;
  /* the cgroups first, as kill.ts (its pid list is read before it signals) */
  for (int i = 0; c->all && ret == 0 && i < rec.n_rmdirs; i++)
    ret = signal_cgroup_tree (rec.rmdirs[i], sig, 0, why);
  /* the init's pid only while it is the init: a stopped container's pid may
     be another process's now.  A failed kill changed nothing: TypeScript
     tries again and reports it */
  if (ret == 0 && !init_gone && kill ((pid_t) rec.pid, sig) < 0 && !(c->all && errno == ESRCH))
    ret = front_fail (why, "kill %ld: %s", rec.pid, strerror (errno));
out:
  free (rec.buf);
  close (lock);
  return ret;
}

/* Whether a cgroup dir has no child cgroup and no process; -errno when unreadable. */
static int
cgroup_empty (const char *dir, int *empty)
{
  char path[4200], buf[64];
  struct dirent *e;
  DIR *d = opendir (dir);
  int ret;
  *empty = 1;
  if (d == NULL)
    return -errno;
  while ((e = readdir (d)) != NULL)
    {
      if (e->d_type == DT_DIR && strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
        *empty = 0;
      if (e->d_type == DT_UNKNOWN)
        *empty = 0;
    }
  closedir (d);
  snprintf (path, sizeof path, "%s/cgroup.procs", dir);
  ret = front_read_small (path, buf, sizeof buf);
  if (ret < 0)
    return ret;
  if (ret > 0)
    *empty = 0;
  return 0;
}

/* A DIR stream over the state dir, from the start, leaving dirfd open. */
static int
open_state_dir (int dirfd, DIR **out, struct front_why *why)
{
  int fd = dup (dirfd);
  if (fd < 0)
    return front_fail (why, "dup: %s", strerror (errno));
  *out = fdopendir (fd);
  if (*out == NULL)
    {
      close (fd);
      return front_fail (why, "fdopendir: %s", strerror (errno));
    }
  rewinddir (*out);
  return 0;
}

/* Whether the state dir holds only files (st.remove's rm -rf is then unlink each + rmdir). */
static int
state_dir_flat (int dirfd, struct front_why *why)
{
  struct dirent *e;
  DIR *d;
  int ret = open_state_dir (dirfd, &d, why);
  if (ret < 0)
    return ret;
  while ((e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)
        {
          closedir (d);
          return front_fail (why, "delete: \"%s\" in the state dir is a directory", e->d_name);
        }
    }
  closedir (d);
  return 0;
}

int
front_remove_state_dir (int dirfd, const char *dir, struct front_why *why)
{
  struct dirent *e;
  DIR *d;
  int ret;
  /* the front record first: a `state` meanwhile asks TypeScript */
  if (unlinkat (dirfd, "front", 0) < 0 && errno != ENOENT)
    return front_fail (why, "unlink front record: %s", strerror (errno));
  ret = open_state_dir (dirfd, &d, why);
  if (ret < 0)
    return ret;
  while ((e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (unlinkat (dirfd, e->d_name, 0) < 0 && errno != ENOENT)
        {
          int err = errno;
          closedir (d);
          return front_fail (why, "unlink \"%s/%s\": %s", dir, e->d_name, strerror (err));
        }
    }
  closedir (d);
  if (rmdir (dir) < 0 && errno != ENOENT)
    return front_fail (why, "rmdir \"%s\": %s", dir, strerror (errno));
  return 0;
}

/*
 * releaseRootfs of rootfs.ts, checked: *remove is set when the write layer
 * exists and is this --root's, with nothing mounted under it; 0 with
 * *remove unset when there is none; < 0 (Node decides) otherwise.
 */
static int
check_write_layer (const struct front_call *c, const struct front_record *rec, int *remove, struct front_why *why)
{
  char root[4096], *owner;
  size_t len, olen = strlen (rec->write_layer_owner);
  struct stat st;
  int ret;

  *remove = 0;
  if (lstat (rec->write_layer, &st) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return front_fail (why, "lstat \"%s\": %s", rec->write_layer, strerror (errno));
    }
  if (!S_ISDIR (st.st_mode))
    return front_fail (why, "delete: write layer \"%s\" is not a directory", rec->write_layer);
  if (front_resolve_path (c->root, root, sizeof root) < 0 || strcmp (root, rec->write_layer_owner) != 0)
    return front_fail (why, "delete: --root \"%s\" is not the write layer's owner \"%s\"", c->root,
                       rec->write_layer_owner);
  {
    char path[4200];
    snprintf (path, sizeof path, "%s/owner", rec->write_layer);
    ret = read_whole_file (path, &owner, &len, 1 << 20);
    if (ret < 0)
      return front_fail (why, "delete: read \"%s\": %s", path, strerror (-ret));
  }
  /* JSON.stringify({root, layers}) of rootfs.ts; the record's root needs no escape */
  ret = len > 9 + olen + 2 && strncmp (owner, "{\"root\":\"", 9) == 0 && strncmp (owner + 9, rec->write_layer_owner, olen) == 0
        && owner[9 + olen] == '"' && (owner[10 + olen] == ',' || owner[10 + olen] == '}');
  free (owner);
  if (!ret)
    return front_fail (why, "delete: \"%s/owner\" does not name the root \"%s\"", rec->write_layer, rec->write_layer_owner);
  ret = front_mounted_under (rec->write_layer);
  if (ret != 0)
    return front_fail (why, "delete: %s under \"%s\"", ret > 0 ? "a mount" : "mountinfo unreadable", rec->write_layer);
  *remove = 1;
  return 0;
}

/*
 * delete.ts of a stopped container whose record says delete may be fast
 * (and delete --force of one that does not exist: podman and containerd
 * call it after every container):
 * destroyContainer is then destroyCgroup (rmdir the container's cgroup dirs,
 * then their parents left empty), releaseRootfs (rm -r of the write layer
 * when this --root owns it) and st.remove.  Everything is checked
 * before the first rmdir; a race after it (a process joined the cgroup)
 * falls back to TypeScript, which redoes what is left (each step is
 * idempotent).
 */
int
front_delete (struct front_call *c, struct front_why *why)
{
  struct front_record rec;
  enum front_status status;
  int exists[FRONT_MAX_DIRS] = { 0 };
  int lock, ret, gone, i, remove_layer = 0;

  ret = open_container (c, &lock, &gone, &rec, &status, why);
  /* delete --force of a container that does not exist: nothing to do, exit 0 */
  if (ret < 0 && gone && c->force)
    return 0;
  if (ret < 0)
    return ret;
  if (status != STATUS_STOPPED || !rec.delete_fast)
    {
      ret = front_fail (why, "delete: status %s, delete-fast %d", front_status_name (status), rec.delete_fast);
      goto out;
    }
  /* destroyCgroup thaws a v1 freezer first */
  if (rec.freezer == FREEZER_V1)
    {
      char path[4200], buf[64];
      snprintf (path, sizeof path, "%s/freezer.state", rec.freezer_dir);
      ret = front_read_small (path, buf, sizeof buf);
      if ((ret < 0 && ret != -ENOENT && ret != -ENOTDIR) || (ret >= 0 && strcmp (buf, "THAWED") != 0))
        {
          ret = front_fail (why, "delete: \"%s\" is not THAWED", path);
          goto out;
        }
    }
  for (i = 0; i < rec.n_rmdirs; i++)
    {
      int empty;
      ret = cgroup_empty (rec.rmdirs[i], &empty);
      if (ret == -ENOENT)
        continue;
      if (ret < 0 || !empty)
        {
          ret = front_fail (why, "delete: cgroup \"%s\" is not empty (or unreadable)", rec.rmdirs[i]);
          goto out;
        }
      exists[i] = 1;
    }
  if (rec.write_layer)
    {
      ret = check_write_layer (c, &rec, &remove_layer, why);
      if (ret < 0)
        goto out;
    }
  ret = state_dir_flat (lock, why);
  if (ret < 0)
    goto out;

  for (i = 0; i < rec.n_rmdirs; i++)
    if (exists[i] && rmdir (rec.rmdirs[i]) < 0 && errno != ENOENT)
      {
        ret = front_fail (why, "rmdir \"%s\": %s", rec.rmdirs[i], strerror (errno));
        goto out;
      }
  /* removeEmptyParents: each chain stops at its first parent still in use (or gone) */
  {
    int stopped[FRONT_MAX_DIRS] = { 0 };
    for (i = 0; i < rec.n_ups; i++)
      {
        int ch = rec.ups[i].chain;
        if (!exists[ch] || stopped[ch])
          continue;
        if (rmdir (rec.ups[i].dir) < 0)
          stopped[ch] = 1;
      }
  }
  if (remove_layer)
    {
      ret = front_remove_tree (rec.write_layer, why);
      if (ret < 0)
        goto out;
    }
  ret = front_remove_state_dir (lock, c->dir, why);
out:
  free (rec.buf);
  close (lock);
  return ret;
}
