/* record.c - read <root>/<id>/front (format: src/runtime/front-record.ts). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front.h"

#define FRONT_VERSION "1"
#define FRONT_MAX_SIZE (16 << 20)

int
front_fail (struct front_why *why, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (why->text, sizeof why->text, fmt, ap);
  va_end (ap);
  return -1;
}

/* The next line of [*p, end): NUL-terminated in place, *p moved past it. */
static char *
next_line (char **p, char *end)
{
  char *s = *p;
  char *nl;
  if (s >= end)
    return NULL;
  nl = memchr (s, '\n', (size_t) (end - s));
  if (nl == NULL)
    return NULL;
  *nl = '\0';
  *p = nl + 1;
  return s;
}

/* "key rest": rest when line starts with key and a space, else NULL. */
static const char *
value_of (const char *line, const char *key)
{
  size_t n = strlen (key);
  if (strncmp (line, key, n) != 0 || line[n] != ' ')
    return NULL;
  return line + n + 1;
}

/* A decimal number filling all of s. */
static int
parse_u64 (const char *s, unsigned long long *out)
{
  unsigned long long v = 0;
  if (*s == '\0')
    return -1;
  for (; *s; s++)
    {
      if (*s < '0' || *s > '9' || v > (~0ULL - 9) / 10)
        return -1;
      v = v * 10 + (unsigned) (*s - '0');
    }
  *out = v;
  return 0;
}

/* "<n> <rest>": n into *n, rest into *rest. */
static int
parse_num_rest (const char *s, unsigned long long *n, const char **rest)
{
  const char *sp = strchr (s, ' ');
  char num[24];
  if (sp == NULL || (size_t) (sp - s) >= sizeof num)
    return -1;
  memcpy (num, s, (size_t) (sp - s));
  num[sp - s] = '\0';
  *rest = sp + 1;
  return parse_u64 (num, n);
}

/* A blob: n bytes at *p, then "\n". */
static int
take_blob (char **p, char *end, size_t n, const char **out)
{
  if ((size_t) (end - *p) < n + 1 || (*p)[n] != '\n')
    return -1;
  *out = *p;
  *p += n + 1;
  return 0;
}

static int
read_all (int fd, char **buf_out, size_t *len_out, struct front_why *why)
{
  struct stat st;
  char *buf;
  size_t len = 0;
  if (fstat (fd, &st) < 0)
    return front_fail (why, "fstat front record: %s", strerror (errno));
  if (!S_ISREG (st.st_mode) || st.st_size <= 0 || st.st_size > FRONT_MAX_SIZE)
    return front_fail (why, "front record: not a regular file of a sane size");
  buf = malloc ((size_t) st.st_size + 1);
  if (buf == NULL)
    return front_fail (why, "front record: out of memory");
  while (len < (size_t) st.st_size)
    {
      ssize_t r = read (fd, buf + len, (size_t) st.st_size - len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        {
          free (buf);
          return front_fail (why, "read front record: %s", r < 0 ? strerror (errno) : "short");
        }
      len += (size_t) r;
    }
  buf[len] = '\0';
  *buf_out = buf;
  *len_out = len;
  return 0;
}

static int
parse (struct front_record *rec, char *buf, size_t len, struct front_why *why)
{
  char *p = buf, *end = buf + len, *line;
  const char *v;
  unsigned long long n, m;

#define NEXT()                                                                                                         \
  do                                                                                                                   \
    {                                                                                                                  \
      line = next_line (&p, end);                                                                                      \
      if (line == NULL)                                                                                                \
        return front_fail (why, "front record: truncated");                                                           \
    }                                                                                                                  \
  while (0)

  NEXT ();
  if (strcmp (line, "tsrun-front " FRONT_VERSION) != 0)
    return front_fail (why, "front record: not version " FRONT_VERSION);

  NEXT ();
  if ((v = value_of (line, "pid")) == NULL || parse_u64 (v, &n) < 0 || n == 0 || n > 0x3fffffff)
    return front_fail (why, "front record: bad pid line");
  rec->pid = (long) n;

  NEXT ();
  if ((v = value_of (line, "start-time")) == NULL || parse_u64 (v, &rec->start_time) < 0)
    return front_fail (why, "front record: bad start-time line");

  NEXT ();
  if (strcmp (line, "freezer none") == 0)
    rec->freezer = FREEZER_NONE;
  else if ((v = value_of (line, "freezer v1")) != NULL && *v == '/')
    rec->freezer = FREEZER_V1, rec->freezer_dir = v;
  else if ((v = value_of (line, "freezer v2")) != NULL && *v == '/')
    rec->freezer = FREEZER_V2, rec->freezer_dir = v;
  else
    return front_fail (why, "front record: bad freezer line");

  NEXT ();
  if ((v = value_of (line, "start-fast")) == NULL || (strcmp (v, "0") != 0 && strcmp (v, "1") != 0))
    return front_fail (why, "front record: bad start-fast line");
  rec->start_fast = *v == '1';

  NEXT ();
  if ((v = value_of (line, "delete-fast")) == NULL || (strcmp (v, "0") != 0 && strcmp (v, "1") != 0))
    return front_fail (why, "front record: bad delete-fast line");
  rec->delete_fast = *v == '1';

  for (;;)
    {
      NEXT ();
      if ((v = value_of (line, "rmdir")) != NULL)
        {
          if (*v != '/' || rec->n_rmdirs >= FRONT_MAX_DIRS)
            return front_fail (why, "front record: bad or too many rmdir lines");
          rec->rmdirs[rec->n_rmdirs++] = v;
          continue;
        }
      if ((v = value_of (line, "up")) != NULL)
        {
          const char *dir;
          if (parse_num_rest (v, &n, &dir) < 0 || (long long) n >= rec->n_rmdirs || *dir != '/'
              || rec->n_ups >= FRONT_MAX_UPS)
            return front_fail (why, "front record: bad or too many up lines");
          rec->ups[rec->n_ups].chain = (int) n;
          rec->ups[rec->n_ups++].dir = dir;
          continue;
        }
      if ((v = value_of (line, "write-layer")) != NULL)
        {
          if (*v != '/' || rec->write_layer != NULL)
            return front_fail (why, "front record: bad or repeated write-layer line");
          rec->write_layer = v;
          NEXT ();
          if ((v = value_of (line, "write-layer-owner")) == NULL || *v != '/')
            return front_fail (why, "front record: no write-layer-owner after write-layer");
          rec->write_layer_owner = v;
          continue;
        }
      break;
    }

  if ((v = value_of (line, "state-live")) == NULL || parse_num_rest (v, &n, &v) < 0 || parse_u64 (v, &m) < 0
      || n > len || m > len || take_blob (&p, end, (size_t) (n + m), &rec->live_head) < 0)
    return front_fail (why, "front record: bad state-live");
  rec->live_head_len = (size_t) n;
  rec->live_tail = rec->live_head + n;
  rec->live_tail_len = (size_t) m;

  NEXT ();
  if ((v = value_of (line, "state-stopped")) == NULL || parse_u64 (v, &n) < 0 || n > len
      || take_blob (&p, end, (size_t) n, &rec->stopped) < 0)
    return front_fail (why, "front record: bad state-stopped");
  rec->stopped_len = (size_t) n;

  NEXT ();
  if (strcmp (line, "end") != 0 || p != end)
    return front_fail (why, "front record: no end line");
#undef NEXT
  return 0;
}

int
front_record_read (int dirfd, const char *dir, struct front_record *rec, struct front_why *why)
{
  char *buf = NULL;
  size_t len = 0;
  int fd, ret;

  memset (rec, 0, sizeof *rec);
  if (dirfd >= 0)
    fd = openat (dirfd, "front", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  else
    {
      char path[4200];
      snprintf (path, sizeof path, "%s/front", dir);
      fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
  if (fd < 0)
    return front_fail (why, "no front record in \"%s\": %s", dir, strerror (errno));
  ret = read_all (fd, &buf, &len, why);
  close (fd);
  if (ret < 0)
    return ret;
  ret = parse (rec, buf, len, why);
  if (ret < 0)
    {
      free (buf);
      return ret;
    }
  rec->buf = buf;
  return 0;
}
