/*
 * seccomp.c - build the container's seccomp filter from the plan's
 * PLAN_SECCOMP group (protocol.h, SC_*) with libseccomp, and load it.
 *
 * As crun does, seccomp_prepare compiles the filter to BPF while the host's
 * files are still reachable and keeps only the program; seccomp_filter_load then
 * installs it with seccomp(2) directly, so the filter flags (LOG,
 * SPEC_ALLOW, TSYNC) do not depend on what the libseccomp version knows.
 * Semantics follow runc: unknown syscall names are skipped, a rule whose
 * action equals the default action is skipped, ERRNO/TRACE actions without
 * an errno use EPERM, several conditions on one rule must all match unless
 * two of them test the same argument (then each condition is its own rule).
 * SCMP_ACT_NOTIFY: the filter is loaded with NEW_LISTENER and the listener fd
 * goes, with the container process state, to linux.seccomp.listenerPath
 * (seccomp_listener_connect / seccomp_listener_send; runtime-spec "seccomp
 * notify").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol.h"
#include "security.h"
#include "tlv.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define MAX_ARGS 6

struct seccomp_filter
{
  struct sock_filter *insns;
  unsigned short count;
  unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  int listener;       /* notify fd after a load with NEW_LISTENER, else -1 */
};

struct rule_arg
{
  unsigned int index;
  enum scmp_compare op;
  uint64_t value, value_two;
};

static const struct
{
  const char *name;
  unsigned int flag;
} filter_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

/* SCA_* + errno -> libseccomp action.  errno_set says whether an errno came
 * with the action; without one ERRNO and TRACE use EPERM (as runc). */
static int
map_action (uint64_t sca, int errno_set, uint64_t errnum, uint32_t *out, struct shim_error *err)
{
  uint32_t e = errno_set ? (uint32_t) errnum : EPERM;
  switch (sca)
    {
    case SCA_KILL:
    case SCA_KILL_THREAD:
      *out = SCMP_ACT_KILL_THREAD;
      return 0;
    case SCA_KILL_PROCESS:
      *out = SCMP_ACT_KILL_PROCESS;
      return 0;
    case SCA_TRAP:
      *out = SCMP_ACT_TRAP;
      return 0;
    case SCA_ERRNO:
      *out = SCMP_ACT_ERRNO (e);
      return 0;
    case SCA_TRACE:
      *out = SCMP_ACT_TRACE (e);
      return 0;
    case SCA_ALLOW:
      *out = SCMP_ACT_ALLOW;
      return 0;
    case SCA_LOG:
      *out = SCMP_ACT_LOG;
      return 0;
    case SCA_NOTIFY:
      *out = SCMP_ACT_NOTIFY;
      return 0;
    default:
      return shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: unknown action %llu in the plan",
                        (unsigned long long) sca);
    }
}

static int
map_op (uint64_t sco, enum scmp_compare *out, struct shim_error *err)
{
  switch (sco)
    {
    case SCO_NE:
      *out = SCMP_CMP_NE;
      return 0;
    case SCO_LT:
      *out = SCMP_CMP_LT;
      return 0;
    case SCO_LE:
      *out = SCMP_CMP_LE;
      return 0;
    case SCO_EQ:
      *out = SCMP_CMP_EQ;
      return 0;
    case SCO_GE:
      *out = SCMP_CMP_GE;
      return 0;
    case SCO_GT:
      *out = SCMP_CMP_GT;
      return 0;
    case SCO_MASKED_EQ:
      *out = SCMP_CMP_MASKED_EQ;
      return 0;
    default:
      return shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: unknown argument operator %llu in the plan",
                        (unsigned long long) sco);
    }
}

static int
parse_arg (const struct tlv *group, struct rule_arg *a, struct shim_error *err)
{
  struct tlv_reader r;
  struct tlv t;
  int ret, have_op = 0;

  memset (a, 0, sizeof *a);
  tlv_reader_init (&r, group->val, group->len);
  while ((ret = tlv_next (&r, &t)) > 0)
    {
      switch (t.tag)
        {
        case ARG_INDEX:
          {
            uint64_t idx = tlv_u64 (&t);
            if (idx >= MAX_ARGS)
              return shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: argument index %llu out of range (0-5)",
                                (unsigned long long) idx);
            a->index = (unsigned int) idx;
            break;
          }
        case ARG_VALUE:
          a->value = tlv_u64 (&t);
          break;
        case ARG_VALUE_TWO:
          a->value_two = tlv_u64 (&t);
          break;
        case ARG_OP:
          ret = map_op (tlv_u64 (&t), &a->op, err);
          if (ret < 0)
            return ret;
          have_op = 1;
          break;
        default:
          break;
        }
    }
  if (ret < 0)
    return shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: malformed argument group in the plan");
  if (!have_op)
    return shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: argument without an operator in the plan");
  return 0;
}

static struct scmp_arg_cmp
to_cmp (const struct rule_arg *a)
{
  struct scmp_arg_cmp c = { .arg = a->index, .op = a->op, .datum_a = a->value, .datum_b = a->value_two };
  return c;
}

/* Does this SC_RULE group use SCMP_ACT_NOTIFY? */
static int
rule_is_notify (const struct tlv *group)
{
  struct tlv_reader r;
  struct tlv t;
  tlv_reader_init (&r, group->val, group->len);
  while (tlv_next (&r, &t) > 0)
    if (t.tag == RULE_ACTION && tlv_u64 (&t) == SCA_NOTIFY)
      return 1;
  return 0;
}

/* One SC_RULE group: its names, action and conditions, added to ctx. */
static int
add_rule (scmp_filter_ctx ctx, const struct tlv *group, uint32_t default_action, struct shim_error *err)
{
  struct tlv_reader r;
  struct tlv t;
  struct rule_arg args[MAX_ARGS * 4];
  size_t nargs = 0;
  uint64_t sca = 0, errnum = 0;
  int errno_set = 0, have_action = 0, ret;

  /* first pass: action, errno, conditions */
  tlv_reader_init (&r, group->val, group->len);
  while ((ret = tlv_next (&r, &t)) > 0)
    {
      switch (t.tag)
        {
        case RULE_ACTION:
          sca = tlv_u64 (&t);
          have_action = 1;
          break;
        case RULE_ERRNO:
          errnum = tlv_u64 (&t);
          errno_set = 1;
          break;
        case RULE_ARG:
          if (nargs == sizeof args / sizeof args[0])
            return shim_fail (err, E2BIG, "seccomp", NULL, "seccomp: too many argument conditions on one rule");
          ret = parse_arg (&t, &args[nargs], err);
          if (ret < 0)
            return ret;
          nargs++;
          break;
        default:
          break;
        }
    }
  if (ret < 0)
    return shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: malformed rule group in the plan");
  if (!have_action)
    return shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: rule without an action in the plan");

  uint32_t action;
  ret = map_action (sca, errno_set, errnum, &action, err);
  if (ret < 0)
    return ret;
  /* libseccomp refuses a rule with the default action; it changes nothing */
  if (action == default_action)
    return 0;

  /* runc: several conditions on the same argument are OR-ed (one rule each);
     otherwise all conditions go on one rule (AND). */
  int same_index = 0;
  for (size_t i = 0; i < nargs && !same_index; i++)
    for (size_t j = i + 1; j < nargs; j++)
      if (args[i].index == args[j].index)
        {
          same_index = 1;
          break;
        }
  if (!same_index && nargs > MAX_ARGS)
    return shim_fail (err, E2BIG, "seccomp", NULL, "seccomp: too many argument conditions on one rule");

  /* second pass: the names */
  tlv_reader_init (&r, group->val, group->len);
  while (tlv_next (&r, &t) > 0)
    {
      if (t.tag != RULE_NAME)
        continue;
      char *name = tlv_strdup (&t);
      int nr = seccomp_syscall_resolve_name (name);
      if (nr == __NR_SCMP_ERROR)
        {
          /* not a syscall libseccomp knows (newer or other arch): skip, as runc */
          free (name);
          continue;
        }
      if (nargs == 0)
        ret = seccomp_rule_add (ctx, action, nr, 0);
      else if (!same_index)
        {
          struct scmp_arg_cmp cmps[MAX_ARGS];
          for (size_t i = 0; i < nargs; i++)
            cmps[i] = to_cmp (&args[i]);
          ret = seccomp_rule_add_array (ctx, action, nr, (unsigned int) nargs, cmps);
        }
      else
        {
          ret = 0;
          for (size_t i = 0; i < nargs && ret == 0; i++)
            {
              struct scmp_arg_cmp c = to_cmp (&args[i]);
              ret = seccomp_rule_add_array (ctx, action, nr, 1, &c);
            }
        }
      if (ret < 0)
        {
          shim_fail (err, -ret, "seccomp_rule_add", NULL, "seccomp_rule_add \"%s\": %s", name, strerror (-ret));
          free (name);
          return -1;
        }
      free (name);
    }
  return 0;
}

/* "SCMP_ARCH_X86_64" -> libseccomp token, 0 when unknown. */
static uint32_t
resolve_arch (const char *name)
{
  char lower[64];
  size_t i;

  if (strncmp (name, "SCMP_ARCH_", 10) == 0)
    name += 10;
  for (i = 0; name[i] && i < sizeof lower - 1; i++)
    lower[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char) (name[i] - 'A' + 'a') : name[i];
  lower[i] = '\0';
  return seccomp_arch_resolve_name (lower);
}

/* Compile ctx to BPF and copy the program into f. */
static int
export_bpf (scmp_filter_ctx ctx, struct seccomp_filter *f, struct shim_error *err)
{
  int fd = memfd_create ("tsrun-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    {
      FILE *tmp = tmpfile ();
      if (tmp == NULL)
        return shim_fail_errno (err, "memfd_create", NULL);
      fd = dup (fileno (tmp));
      fclose (tmp);
      if (fd < 0)
        return shim_fail_errno (err, "dup", NULL);
    }
  int ret = seccomp_export_bpf (ctx, fd);
  if (ret < 0)
    {
      close (fd);
      return shim_fail (err, -ret, "seccomp_export_bpf", NULL, "seccomp_export_bpf: %s", strerror (-ret));
    }
  off_t size = lseek (fd, 0, SEEK_END);
  if (size < 0)
    {
      ret = shim_fail_errno (err, "lseek", NULL);
      close (fd);
      return ret;
    }
  if (size == 0 || size % (off_t) sizeof (struct sock_filter) != 0
      || size / (off_t) sizeof (struct sock_filter) > BPF_MAXINSNS)
    {
      close (fd);
      return shim_fail (err, E2BIG, "seccomp_export_bpf", NULL,
                        "seccomp_export_bpf: the filter has %lld bytes (at most %d instructions allowed)",
                        (long long) size, BPF_MAXINSNS);
    }
  f->insns = malloc ((size_t) size);
  if (f->insns == NULL)
    abort ();
  size_t got = 0;
  while (got < (size_t) size)
    {
      ssize_t n = pread (fd, (char *) f->insns + got, (size_t) size - got, (off_t) got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          ret = shim_fail (err, n < 0 ? errno : EIO, "read seccomp filter", NULL, "read seccomp filter: %s",
                           strerror (n < 0 ? errno : EIO));
          close (fd);
          return ret;
        }
      got += (size_t) n;
    }
  close (fd);
  f->count = (unsigned short) (size / (off_t) sizeof (struct sock_filter));
  return 0;
}

static int
build (const uint8_t *tlv, size_t len, scmp_filter_ctx *pctx, struct seccomp_filter *f, struct shim_error *err)
{
  struct tlv_reader r;
  struct tlv t;
  uint64_t default_sca = 0, default_errno = 0;
  int have_default = 0, default_errno_set = 0, ret;

  /* first pass: default action and flags */
  tlv_reader_init (&r, tlv, len);
  while ((ret = tlv_next (&r, &t)) > 0)
    {
      if (t.tag == SC_DEFAULT_ACTION)
        {
          default_sca = tlv_u64 (&t);
          have_default = 1;
        }
      else if (t.tag == SC_DEFAULT_ERRNO)
        {
          default_errno = tlv_u64 (&t);
          default_errno_set = 1;
        }
      else if (t.tag == SC_FLAG)
        {
          char *name = tlv_strdup (&t);
          size_t i;
          for (i = 0; i < sizeof filter_flags / sizeof filter_flags[0]; i++)
            if (strcmp (name, filter_flags[i].name) == 0)
              break;
          if (i == sizeof filter_flags / sizeof filter_flags[0])
            {
              shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: unknown flag \"%s\"", name);
              free (name);
              return -1;
            }
          f->flags |= filter_flags[i].flag;
          free (name);
        }
    }
  if (ret < 0)
    return shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: malformed plan group");
  if (!have_default)
    return shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: no default action in the plan");
  /* a notify rule: the kernel gives us a listener fd (sent to listenerPath).
     WAIT_KILLABLE_RECV only means something with a listener (the kernel
     refuses it without one), as runc: drop it then. */
  tlv_reader_init (&r, tlv, len);
  while (tlv_next (&r, &t) > 0)
    if (t.tag == SC_RULE && rule_is_notify (&t))
      f->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  if (!(f->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER))
    f->flags &= ~(unsigned int) SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;

  uint32_t default_action;
  ret = map_action (default_sca, default_errno_set, default_errno, &default_action, err);
  if (ret < 0)
    return ret;

  scmp_filter_ctx ctx = seccomp_init (default_action);
  if (ctx == NULL)
    return shim_fail (err, EINVAL, "seccomp_init", NULL, "seccomp_init: cannot create a filter (default action 0x%x)",
                      default_action);
  *pctx = ctx;

  /* The core decides about no_new_privs; libseccomp must not force it. */
  ret = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (ret < 0)
    return shim_fail (err, -ret, "seccomp_attr_set", NULL, "seccomp_attr_set SCMP_FLTATR_CTL_NNP: %s", strerror (-ret));

  /* architectures (the native one is always there) */
  tlv_reader_init (&r, tlv, len);
  while (tlv_next (&r, &t) > 0)
    {
      if (t.tag != SC_ARCH)
        continue;
      char *name = tlv_strdup (&t);
      uint32_t arch = resolve_arch (name);
      if (arch == 0)
        {
          shim_fail (err, EINVAL, "seccomp", NULL, "seccomp: unknown architecture \"%s\"", name);
          free (name);
          return -1;
        }
      ret = seccomp_arch_add (ctx, arch);
      if (ret < 0 && ret != -EEXIST)
        {
          shim_fail (err, -ret, "seccomp_arch_add", NULL, "seccomp_arch_add \"%s\": %s", name, strerror (-ret));
          free (name);
          return -1;
        }
      free (name);
    }

  /* rules */
  tlv_reader_init (&r, tlv, len);
  while (tlv_next (&r, &t) > 0)
    {
      if (t.tag != SC_RULE)
        continue;
      ret = add_rule (ctx, &t, default_action, err);
      if (ret < 0)
        return ret;
    }

  return export_bpf (ctx, f, err);
}

int
seccomp_prepare (const uint8_t *tlv, size_t len, struct seccomp_filter **out, struct shim_error *err)
{
  *out = NULL;
  if (tlv == NULL)
    return 0;

  struct seccomp_filter *f = calloc (1, sizeof *f);
  if (f == NULL)
    abort ();
  f->listener = -1;
  scmp_filter_ctx ctx = NULL;
  int ret = build (tlv, len, &ctx, f, err);
  if (ctx)
    seccomp_release (ctx);
  if (ret < 0)
    {
      seccomp_filter_free (f);
      return ret;
    }
  *out = f;
  return 0;
}

int
seccomp_filter_load (struct seccomp_filter *filter, struct shim_error *err)
{
  if (filter == NULL)
    return 0;

  struct sock_fprog prog = { .len = filter->count, .filter = filter->insns };
  long r = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter->flags, &prog);
  if (r >= 0)
    {
      /* with NEW_LISTENER the result is the notify fd (the kernel makes it
         close-on-exec) */
      if (filter->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
        filter->listener = (int) r;
      return 0;
    }
  int e = errno;
  if (e == ENOSYS && filter->flags == 0)
    {
      /* kernel < 3.17: no seccomp(2) */
      if (prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
        return 0;
      e = errno;
    }
  if (e == EACCES)
    return shim_fail (err, e, "seccomp", NULL,
                      "seccomp: load filter: %s (needs no_new_privs or CAP_SYS_ADMIN)", strerror (e));
  if (e == EINVAL && filter->flags != 0)
    return shim_fail (err, e, "seccomp", NULL,
                      "seccomp: load filter with flags 0x%x: %s (does the kernel support these flags?)", filter->flags,
                      strerror (e));
  return shim_fail (err, e, "seccomp", NULL, "seccomp: load filter: %s", strerror (e));
}

void
seccomp_filter_free (struct seccomp_filter *filter)
{
  if (filter == NULL)
    return;
  if (filter->listener >= 0)
    close (filter->listener);
  free (filter->insns);
  free (filter);
}

int
seccomp_listener_connect (const char *path, struct shim_error *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof addr.sun_path)
    return shim_fail (err, ENAMETOOLONG, "seccomp listener", path,
                      "seccomp listenerPath \"%s\": longer than %zu bytes", path, sizeof addr.sun_path - 1);
  strcpy (addr.sun_path, path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return shim_fail (err, errno, "seccomp listener", path, "seccomp listener: socket: %s", strerror (errno));
  int ret;
  do
    ret = connect (fd, (struct sockaddr *) &addr, sizeof addr);
  while (ret < 0 && errno == EINTR);
  if (ret < 0)
    {
      int e = errno;
      close (fd);
      return shim_fail (err, e, "seccomp listener", path, "connect to seccomp listenerPath \"%s\": %s", path,
                        strerror (e));
    }
  return fd;
}

int
seccomp_listener_send (struct seccomp_filter *filter, int sock, const char *path, const char *state, pid_t pid,
                       struct shim_error *err)
{
  int ret = 0;
  if (filter != NULL && filter->listener >= 0 && sock >= 0)
    {
      /* the state with every 0x01 byte replaced by our host pid */
      char num[24];
      size_t nlen = (size_t) snprintf (num, sizeof num, "%d", (int) pid);
      const char *src = state ? state : "{}";
      size_t n = 0, cap = strlen (src) * (nlen > 0 ? nlen : 1) + 1;
      char *buf = malloc (cap);
      if (buf == NULL)
        abort ();
      for (const char *s = src; *s; s++)
        {
          if (*s == '\x01')
            {
              memcpy (buf + n, num, nlen);
              n += nlen;
            }
          else
            buf[n++] = *s;
        }
      struct iovec iov = { .iov_base = buf, .iov_len = n };
      union
      {
        char buf[CMSG_SPACE (sizeof (int))];
        struct cmsghdr align;
      } control;
      memset (&control, 0, sizeof control);
      struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                            .msg_controllen = sizeof control.buf };
      struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (cmsg), &filter->listener, sizeof (int));
      /* one sendmsg carries the fd and the first bytes; the rest follows */
      size_t off = 0;
      while (off < n)
        {
          ssize_t w = sendmsg (sock, &msg, MSG_NOSIGNAL);
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            {
              ret = shim_fail (err, errno, "seccomp listener", path, "send the seccomp fd to listenerPath \"%s\": %s",
                               path, strerror (errno));
              break;
            }
          off += (size_t) w;
          iov.iov_base = buf + off;
          iov.iov_len = n - off;
          msg.msg_control = NULL;
          msg.msg_controllen = 0;
        }
      free (buf);
    }
  if (filter != NULL && filter->listener >= 0)
    {
      close (filter->listener);
      filter->listener = -1;
    }
  if (sock >= 0)
    close (sock);
  return ret;
}
