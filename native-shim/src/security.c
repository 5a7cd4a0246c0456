/*
 * security.c - capabilities, no_new_privs, personality, I/O priority,
 * scheduler, AppArmor and SELinux for the container process.  See
 * include/security.h for the order in which the core calls these.
 * (seccomp lives in seccomp.c.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "protocol.h"
#include "security.h"
#include "tlv.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* ---- helpers ---------------------------------------------------------- */

/* Reads a small file into buf (NUL terminated, trailing newline stripped).
 * Returns the length, or -1 with errno set. */
static ssize_t
read_small_file (const char *path, char *buf, size_t size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n;
  do
    n = read (fd, buf, size - 1);
  while (n < 0 && errno == EINTR);
  int saved = errno;
  close (fd);
  if (n < 0)
    {
      errno = saved;
      return -1;
    }
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return n;
}

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

static int
fd_on_procfs (int fd)
{
  struct statfs sfs;
  return fstatfs (fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

/* Writes the whole string with one write(2) (required by the /proc/self/attr files).
 * Returns 0, or -1 with errno set. */
static int
write_attr_file (const char *path, const char *data)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  /* the container's /proc could be anything a rootfs or volume put there:
     a label written to a fake file would silently not apply (CVE-2019-16884) */
  if (fd_on_procfs (fd) != 1)
    {
      close (fd);
      errno = EXDEV;
      return -1;
    }
  size_t len = strlen (data);
  ssize_t n;
  do
    n = write (fd, data, len);
  while (n < 0 && errno == EINTR);
  int saved = errno;
  close (fd);
  if (n < 0)
    {
      errno = saved;
      return -1;
    }
  if ((size_t) n != len)
    {
      errno = EIO;
      return -1;
    }
  return 0;
}

static int
path_exists (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0;
}

/* ---- capabilities ----------------------------------------------------- */

int
caps_parse (const uint8_t *tlv, size_t len, struct caps_masks *m, struct shim_error *err)
{
  struct tlv_reader r;
  struct tlv t;
  int ret;

  memset (m, 0, sizeof *m);
  if (tlv == NULL)
    return 0;
  m->present = true;
  tlv_reader_init (&r, tlv, len);
  while ((ret = tlv_next (&r, &t)) > 0)
    {
      switch (t.tag)
        {
        case CAPS_BOUNDING:
          m->bounding = tlv_u64 (&t);
          break;
        case CAPS_EFFECTIVE:
          m->effective = tlv_u64 (&t);
          break;
        case CAPS_PERMITTED:
          m->permitted = tlv_u64 (&t);
          break;
        case CAPS_INHERITABLE:
          m->inheritable = tlv_u64 (&t);
          break;
        case CAPS_AMBIENT:
          m->ambient = tlv_u64 (&t);
          break;
        default:
          break;
        }
    }
  if (ret < 0)
    return shim_fail (err, EINVAL, "capabilities", NULL, "capabilities: malformed plan group");
  return 0;
}

/* The highest capability number the running kernel knows. */
static int
cap_last_cap (void)
{
  static int cached = -1;
  char buf[32];

  if (cached >= 0)
    return cached;
  if (read_small_file ("/proc/sys/kernel/cap_last_cap", buf, sizeof buf) > 0)
    {
      char *end;
      long v = strtol (buf, &end, 10);
      if (*end == '\0' && v >= 0 && v < 64)
        return cached = (int) v;
    }
  /* /proc not readable: probe the bounding set, which answers EINVAL for
     numbers the kernel does not know. */
  int last = 0;
  for (int c = 0; c < 64; c++)
    {
      if (prctl (PR_CAPBSET_READ, c, 0, 0, 0) < 0)
        break;
      last = c;
    }
  return cached = last;
}

int
caps_drop_bounding (const struct caps_masks *m, struct shim_error *err)
{
  int ret;

  if (!m->present)
    return 0;
  int last = cap_last_cap ();
  for (int c = 0; c <= last; c++)
    {
      if (m->bounding & (UINT64_C (1) << c))
        continue;
      ret = prctl (PR_CAPBSET_READ, c, 0, 0, 0);
      if (ret < 0 && errno == EINVAL)
        continue; /* not known to this kernel */
      if (ret == 0)
        continue; /* already dropped */
      if (prctl (PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        return shim_fail (err, errno, "prctl PR_CAPBSET_DROP", NULL,
                          "prctl PR_CAPBSET_DROP %d: %s", c, strerror (errno));
    }
  return 0;
}

int
caps_apply (const struct caps_masks *caps, struct shim_error *err)
{
  struct caps_masks m = *caps;

  if (!m.present)
    return 0;
  /* Capabilities the kernel does not know cannot be set: capset answers
     EINVAL... or silently masks them.  Mask them ourselves. */
  int last = cap_last_cap ();
  uint64_t known = last >= 63 ? ~UINT64_C (0) : (UINT64_C (1) << (last + 1)) - 1;
  m.effective &= known;
  m.permitted &= known;
  m.inheritable &= known;
  m.ambient &= known;

  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset (data, 0, sizeof data);
  for (int i = 0; i < 2; i++)
    {
      data[i].effective = (uint32_t) (m.effective >> (32 * i));
      data[i].permitted = (uint32_t) (m.permitted >> (32 * i));
      data[i].inheritable = (uint32_t) (m.inheritable >> (32 * i));
    }
  if (syscall (SYS_capset, &hdr, data) < 0)
    {
      if (errno == EPERM)
        return shim_fail (err, errno, "capset", NULL,
                          "capset: %s (effective 0x%llx must be within permitted 0x%llx, and both within the "
                          "capabilities the process still has)",
                          strerror (errno), (unsigned long long) m.effective, (unsigned long long) m.permitted);
      return shim_fail_errno (err, "capset", NULL);
    }

  /* Ambient: clear what might have been inherited, then raise each one.
     The kernel raises only a capability that is both permitted and
     inheritable; runc's and crun's default specs (and buildah's) list ambient
     capabilities that are not inheritable, and both runtimes leave those
     unraised without an error: so does tsrun. */
  m.ambient &= m.permitted & m.inheritable;
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    {
      if (errno == EINVAL && m.ambient == 0)
        return 0; /* kernel without ambient capabilities (< 4.3) */
      return shim_fail_errno (err, "prctl PR_CAP_AMBIENT_CLEAR_ALL", NULL);
    }
  for (int c = 0; c <= last; c++)
    {
      if (!(m.ambient & (UINT64_C (1) << c)))
        continue;
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
        {
          if (errno == EINVAL || errno == EPERM)
            continue; /* like crun: a capability the kernel cannot raise is ignored */
          return shim_fail (err, errno, "prctl PR_CAP_AMBIENT_RAISE", NULL, "prctl PR_CAP_AMBIENT_RAISE %d: %s", c,
                            strerror (errno));
        }
    }
  return 0;
}

/* ---- no_new_privs, personality ---------------------------------------- */

int
apply_no_new_privs (struct shim_error *err)
{
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return shim_fail_errno (err, "prctl PR_SET_NO_NEW_PRIVS", NULL);
  return 0;
}

int
apply_personality (uint64_t domain, struct shim_error *err)
{
  if (personality ((unsigned long) domain) < 0)
    return shim_fail (err, errno, "personality", NULL, "personality 0x%llx: %s", (unsigned long long) domain,
                      strerror (errno));
  return 0;
}

/* ---- I/O priority ----------------------------------------------------- */

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13

int
apply_ioprio (const uint8_t *tlv, size_t len, struct shim_error *err)
{
  struct tlv_reader r;
  struct tlv t;
  uint64_t klass = 0, level = 0;
  int ret;

  if (tlv == NULL)
    return 0;
  tlv_reader_init (&r, tlv, len);
  while ((ret = tlv_next (&r, &t)) > 0)
    {
      if (t.tag == IOP_CLASS)
        klass = tlv_u64 (&t);
      else if (t.tag == IOP_LEVEL)
        level = tlv_u64 (&t);
    }
  if (ret < 0)
    return shim_fail (err, EINVAL, "ioprio_set", NULL, "ioprio_set: malformed plan group");
  if (klass > 7 || level > 7)
    return shim_fail (err, EINVAL, "ioprio_set", NULL, "ioprio_set: invalid class %llu or level %llu",
                      (unsigned long long) klass, (unsigned long long) level);

  int prio = (int) ((klass << IOPRIO_CLASS_SHIFT) | level);
  if (syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, prio) < 0)
    return shim_fail (err, errno, "ioprio_set", NULL, "ioprio_set class %llu level %llu: %s",
                      (unsigned long long) klass, (unsigned long long) level, strerror (errno));
  return 0;
}

/* ---- scheduler -------------------------------------------------------- */

/* include/uapi/linux/sched/types.h, SCHED_ATTR_SIZE_VER0 */
struct tsrun_sched_attr
{
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

#ifndef SYS_sched_setattr
#ifdef __x86_64__
#define SYS_sched_setattr 314
#elif defined(__aarch64__)
#define SYS_sched_setattr 274
#endif
#endif

int
apply_scheduler (const uint8_t *tlv, size_t len, struct shim_error *err)
{
  struct tlv_reader r;
  struct tlv t;
  struct tsrun_sched_attr attr;
  int ret;

  if (tlv == NULL)
    return 0;
  memset (&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  tlv_reader_init (&r, tlv, len);
  while ((ret = tlv_next (&r, &t)) > 0)
    {
      switch (t.tag)
        {
        case SCHD_POLICY:
          attr.sched_policy = (uint32_t) tlv_u64 (&t);
          break;
        case SCHD_NICE:
          attr.sched_nice = (int32_t) (int64_t) tlv_u64 (&t);
          break;
        case SCHD_PRIORITY:
          attr.sched_priority = (uint32_t) tlv_u64 (&t);
          break;
        case SCHD_FLAGS:
          attr.sched_flags = tlv_u64 (&t);
          break;
        case SCHD_RUNTIME:
          attr.sched_runtime = tlv_u64 (&t);
          break;
        case SCHD_DEADLINE:
          attr.sched_deadline = tlv_u64 (&t);
          break;
        case SCHD_PERIOD:
          attr.sched_period = tlv_u64 (&t);
          break;
        default:
          break;
        }
    }
  if (ret < 0)
    return shim_fail (err, EINVAL, "sched_setattr", NULL, "sched_setattr: malformed plan group");

  if (syscall (SYS_sched_setattr, 0, &attr, 0) < 0)
    return shim_fail (err, errno, "sched_setattr", NULL, "sched_setattr policy %u priority %u nice %d: %s",
                      attr.sched_policy, attr.sched_priority, attr.sched_nice, strerror (errno));
  return 0;
}

/* ---- AppArmor --------------------------------------------------------- */

int
apply_apparmor (const char *profile, struct shim_error *err)
{
  char buf[16];
  char *data;

  if (profile == NULL || *profile == '\0')
    return 0;

  /* Is AppArmor enabled?  When /sys is not mounted in the container we cannot
     tell here, so try the write and explain a failure. */
  int sys_known = path_exists ("/sys/module");
  int enabled = read_small_file ("/sys/module/apparmor/parameters/enabled", buf, sizeof buf) > 0 && buf[0] == 'Y';
  if (sys_known && !enabled)
    return shim_fail (err, EOPNOTSUPP, "apparmor", NULL,
                      "apparmor profile \"%s\" requested but AppArmor is not enabled on this host", profile);

  if (asprintf (&data, "exec %s", profile) < 0)
    abort ();
  const char *path = "/proc/self/attr/apparmor/exec";
  int ret = write_attr_file (path, data);
  if (ret < 0 && errno == ENOENT)
    {
      path = "/proc/self/attr/exec";
      ret = write_attr_file (path, data);
    }
  int saved = errno;
  free (data);
  if (ret < 0)
    {
      if (!sys_known && !path_exists ("/proc/self/attr/apparmor"))
        return shim_fail (err, saved, "apparmor", path,
                          "apparmor profile \"%s\" requested but AppArmor is not enabled on this host", profile);
      return shim_fail (err, saved, "apparmor", path, "apparmor: set exec profile \"%s\" (write \"%s\"): %s", profile,
                        path, strerror (saved));
    }
  return 0;
}

/* ---- SELinux ---------------------------------------------------------- */

/* 1 enabled, 0 disabled, -1 cannot tell. */
static int
selinux_enabled (void)
{
  if (path_exists ("/sys/fs/selinux/enforce"))
    return 1;
  /* selinuxfs not mounted (or /sys not there in the container): a kernel
     without SELinux does not list selinuxfs at all. */
  FILE *f = fopen ("/proc/filesystems", "re");
  if (f == NULL)
    return -1;
  char line[256];
  int listed = 0;
  while (fgets (line, sizeof line, f))
    if (strstr (line, "\tselinuxfs"))
      listed = 1;
  fclose (f);
  if (!listed)
    return 0;
  return path_exists ("/sys/fs") ? 0 : -1;
}

int
apply_selinux_label (const char *label, struct shim_error *err)
{
  if (label == NULL || *label == '\0')
    return 0;

  int enabled = selinux_enabled ();
  if (enabled == 0)
    return shim_fail (err, EOPNOTSUPP, "selinux", NULL,
                      "selinux label \"%s\" requested but SELinux is not enabled on this host", label);

  const char *path = "/proc/self/attr/exec";
  if (write_attr_file (path, label) < 0)
    {
      int saved = errno;
      if (enabled < 0 && saved == EINVAL)
        return shim_fail (err, saved, "selinux", path,
                          "selinux label \"%s\" requested but SELinux is not enabled on this host", label);
      return shim_fail (err, saved, "selinux", path, "selinux: set exec label \"%s\" (write \"%s\"): %s", label, path,
                        strerror (saved));
    }
  return 0;
}
