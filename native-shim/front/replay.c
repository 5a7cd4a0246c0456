/*
 * replay.c - `create` and `run` without Node: repeat what TypeScript recorded
 * the first time the same inputs came (include/replay.h is the contract).
 *
 * front_replay builds the inputs (replay_inputs), finds the record by the
 * hash of inputs + config.json, checks it is byte for byte about these
 * inputs, then makes what create.ts makes, in its order.  Before the record
 * is accepted nothing exists: a miss runs Node with TSRUN_REPLAY (it
 * records).  After, any surprise undoes what the replay made and runs Node,
 * with TSRUN_REPLAY too: Node does the create again, says what is wrong, or
 * records anew what it made (a guard that failed: the host changed).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "front.h"
#include "protocol.h"
#include "replay.h"
#include "tlv.h"

#define REPLAY_MAX_SIZE (16 << 20)
#define REPLAY_MAX_OPS 1024
#define FORWARD_WAIT_MS 10000
#define DEFAULT_DATA_DIR "/var/lib/tsrun"
#define MAX_ID_COPY 1025 /* front.c MAX_ID_LENGTH + 1 */

/* ---- the inputs and the key ---- */

/* front_find_top, once */
static const char *
top_dir (void)
{
  static char top[PATH_MAX];
  static int state; /* 0 unknown, 1 found, -1 not */
  if (state == 0)
    state = front_find_top (top, sizeof top) == 0 ? 1 : -1;
  return state > 0 ? top : NULL;
}

/* "<st_dev>:<st_ino>:<st_size>:<mtime sec>.<mtime nsec>" of path (stat follows links). */
static int
stat_line (FILE *f, const char *name, const char *path, struct front_why *why)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return front_fail (why, "replay: stat \"%s\": %s", path, strerror (errno));
  fprintf (f, "%s %llu:%llu:%lld:%lld.%ld\n", name, (unsigned long long) st.st_dev, (unsigned long long) st.st_ino,
           (long long) st.st_size, (long long) st.st_mtim.tv_sec, (long) st.st_mtim.tv_nsec);
  return 0;
}

/* statfs f_type of path, 0 when there is nothing to stat. */
static unsigned long
fs_type (const char *path)
{
  struct statfs sfs;
  return statfs (path, &sfs) == 0 ? (unsigned long) sfs.f_type : 0;
}

#define CGROUP_SUPER_MAGIC_V1 0x27e0eb
#define CGROUP2_SUPER_MAGIC_V2 0x63677270

static int
by_name (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The v1 hierarchies setupCgroup would find (cgroups/index.ts v1Hierarchies):
 * each entry of /sys/fs/cgroup, sorted, as "name type" for a dir and "name>
 * target type" for a link (statfs follows it); "+procs" when a dir that is
 * not a cgroup file system has a cgroup.procs.  A link out of /sys/fs/cgroup
 * (its target has a '/') is not replayed: Node names the hierarchy by where
 * it leads. */
static int
cgroup_v1_line (FILE *f, struct front_why *why)
{
  static const char top[] = "/sys/fs/cgroup";
  char *names[256], path[PATH_MAX], target[PATH_MAX];
  size_t n = 0, i;
  struct dirent *e;
  int ret = 0;
  DIR *d = opendir (top);
  if (d == NULL)
    return front_fail (why, "replay: opendir %s: %s", top, strerror (errno));
  while ((e = readdir (d)) != NULL && ret == 0)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (n == sizeof names / sizeof names[0] || (names[n] = strdup (e->d_name)) == NULL)
        ret = front_fail (why, "replay: %s: too many entries", top);
      else
        n++;
    }
  closedir (d);
  qsort (names, n, sizeof names[0], by_name);
  fputs ("cgroup-v1", f);
  for (i = 0; i < n && ret == 0; i++)
    {
      unsigned long type;
      ssize_t len;
      snprintf (path, sizeof path, "%s/%s", top, names[i]);
      len = readlink (path, target, sizeof target - 1);
      type = fs_type (path);
      if (len >= 0)
        {
          target[len] = '\0';
          if (strchr (target, '/') || strchr (target, ' '))
            ret = front_fail (why, "replay: %s links to \"%s\"", path, target);
          else
            fprintf (f, " %s>%s %lx", names[i], target, type);
        }
      else
        fprintf (f, " %s %lx", names[i], type);
      if (ret == 0 && strchr (names[i], ' '))
        ret = front_fail (why, "replay: %s has a blank", path);
      if (ret == 0 && type != CGROUP_SUPER_MAGIC_V1)
        {
          snprintf (path, sizeof path, "%s/%s/cgroup.procs", top, names[i]);
          if (access (path, F_OK) == 0)
            fputs ("+procs", f);
        }
    }
  fputc ('\n', f);
  for (i = 0; i < n; i++)
    free (names[i]);
  return ret;
}

/* The inputs text (replay.h): what makes two creates the same, but config.json. */
static int
replay_inputs (const struct front_call *c, const char *bundle, char **out, size_t *len, struct front_why *why)
{
  const char *top = top_dir ();
  char path[PATH_MAX + 64];
  char *cg = NULL;
  size_t cglen, i;
  struct utsname uts;
  struct rlimit nofile;
  unsigned long cgfs;
  int ret;
  FILE *f;

  if (top == NULL)
    return front_fail (why, "replay: no dist/tsrun.js found");
  if (uname (&uts) < 0 || getrlimit (RLIMIT_NOFILE, &nofile) < 0)
    return front_fail (why, "replay: uname or getrlimit: %s", strerror (errno));
  if (strchr (uts.release, '\n') || strchr (uts.version, '\n'))
    return front_fail (why, "replay: a newline in uname");
  ret = read_whole_file ("/proc/self/cgroup", &cg, &cglen, 1 << 20);
  if (ret < 0)
    return front_fail (why, "replay: read /proc/self/cgroup: %s", strerror (-ret));
  for (i = 0; i < cglen; i++)
    if (cg[i] == '\n')
      cg[i] = ';';
  f = open_memstream (out, len);
  if (f == NULL)
    {
      free (cg);
      return front_fail (why, "replay: open_memstream: %s", strerror (errno));
    }
  fprintf (f, "tsrun-replay %d\nverb %s\ndetach %d\nroot %s\ndata-dir %s\nbundle %s\nid %s\n", REPLAY_VERSION, c->verb,
           c->detach, c->root, c->data_dir, bundle, c->id);
  ret = stat_line (f, "front", "/proc/self/exe", why);
  if (ret == 0)
    {
      snprintf (path, sizeof path, "%s/dist/tsrun-cli.js", top);
      ret = stat_line (f, "cli", path, why);
    }
  if (ret == 0)
    {
      snprintf (path, sizeof path, "%s/native-shim/build/tsrun-shim", top);
      ret = stat_line (f, "shim", path, why);
    }
  fprintf (f, "cgroup %s\n", cg);
  free (cg);
  /* the layout setupCgroup detects (detectMode): the same /proc/self/cgroup
   * can be a hybrid host or a pure v2 one (a mount namespace away) */
  cgfs = fs_type ("/sys/fs/cgroup");
  fprintf (f, "cgroupfs %lx %lx\n", cgfs, fs_type ("/sys/fs/cgroup/unified"));
  /* and on v1 or hybrid which hierarchies are mounted there */
  if (ret == 0 && cgfs != CGROUP2_SUPER_MAGIC_V2)
    ret = cgroup_v1_line (f, why);
  /* the kernel: which cgroup files exist, what a write accepts */
  fprintf (f, "kernel %s %s\n", uts.release, uts.version);
  /* Node's shim has Node's RLIMIT_NOFILE, which Node derives from this (RP_NOFILE_*) */
  fprintf (f, "nofile %llu %llu\n", (unsigned long long) nofile.rlim_cur, (unsigned long long) nofile.rlim_max);
  if (fclose (f) != 0 && ret == 0)
    ret = front_fail (why, "replay: inputs: %s", strerror (errno));
  if (ret < 0)
    {
      free (*out);
      *out = NULL;
    }
  return ret;
}

static uint64_t
fnv1a (uint64_t h, const void *data, size_t len)
{
  const unsigned char *p = data;
  size_t i;
  for (i = 0; i < len; i++)
    {
      h ^= p[i];
      h *= 0x100000001b3ULL;
    }
  return h;
}

/* Whether a record for this id may serve other ids (replay.h "Other ids"). */
static int
id_parametric (const char *id)
{
  size_t i, len = strlen (id);
  if (len < REPLAY_ID_MIN)
    return 0;
  for (i = 0; i < len; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
      return 0;
  return 1;
}

/* The next occurrence of id in [p, end), or NULL. */
static const char *
next_id (const char *p, const char *end, const char *id, size_t id_len)
{
  return p < end ? memmem (p, (size_t) (end - p), id, id_len) : NULL;
}

/* FNV-1a of G(data) (replay.h): id NULL means G is the identity. */
static uint64_t
fnv1a_g (uint64_t h, const char *data, size_t len, const char *id)
{
  static const char mark[2] = { REPLAY_MARK, MARK_ID };
  const char *p = data, *end = data + len, *m;
  size_t id_len = id ? strlen (id) : 0;
  if (id == NULL)
    return fnv1a (h, data, len);
  while ((m = next_id (p, end, id, id_len)) != NULL)
    {
      h = fnv1a (fnv1a (h, p, (size_t) (m - p)), mark, sizeof mark);
      p = m + id_len;
    }
  return fnv1a (h, p, (size_t) (end - p));
}

/* G(a, ida) == G(b, idb), the ids of the same length. */
static int
g_equal (const char *a, size_t alen, const char *ida, const char *b, size_t blen, const char *idb)
{
  const char *ae = a + alen, *be = b + blen;
  size_t n = strlen (ida);
  for (;;)
    {
      const char *ma = next_id (a, ae, ida, n), *mb = next_id (b, be, idb, n);
      const char *sa = ma ? ma : ae, *sb = mb ? mb : be;
      if (sa - a != sb - b || memcmp (a, b, (size_t) (sa - a)) != 0 || (ma == NULL) != (mb == NULL))
        return 0;
      if (ma == NULL)
        return 1;
      a = ma + n;
      b = mb + n;
    }
}

static char *
hex_encode (const char *s, size_t len)
{
  static const char digits[] = "0123456789abcdef";
  char *out = malloc (len * 2 + 1);
  size_t i;
  if (out == NULL)
    return NULL;
  for (i = 0; i < len; i++)
    {
      out[2 * i] = digits[(unsigned char) s[i] >> 4];
      out[2 * i + 1] = digits[(unsigned char) s[i] & 15];
    }
  out[len * 2] = '\0';
  return out;
}

/* ---- the record ---- */

/* An RP_CGROUP_OP or RP_DATA_OP group, read (parse_op). */
struct rec_op
{
  int op;             /* CGOP_* or DOPK_* */
  char *path;
  char *parent;       /* CGO_PARENT; NULL when none */
  struct tlv value;   /* CGO_VALUE / DOP_VALUE; val NULL when none */
  unsigned long long mode; /* DOP_MODE */
  int have_mode;
  unsigned long long err; /* CGO_ERRNO */
  int have_err;
};

struct replay_rec
{
  char *buf;
  size_t len;
  struct tlv tags[RP_LAST + 1]; /* the single ones, by tag (RP_ID: val NULL when none) */
  char *leaves[FRONT_MAX_DIRS];
  int n_leaves;
  struct rec_op ops[REPLAY_MAX_OPS];
  int n_ops;
  char *data_lock; /* RP_DATA_LOCK; NULL when none */
  struct rec_op dops[REPLAY_MAX_OPS];
  int n_dops;
};

/* A template's markers are known letters; P and S only once the pid is. */
static int
check_template (const struct tlv *t, int pid_known)
{
  uint32_t i;
  for (i = 0; i < t->len; i++)
    {
      if (t->val[i] != REPLAY_MARK)
        continue;
      if (++i == t->len)
        return -1;
      switch (t->val[i])
        {
        case MARK_PID:
        case MARK_START_TIME:
          if (!pid_known)
            return -1;
          break;
        case MARK_CREATED:
        case MARK_CREATOR_PID:
        case MARK_CREATOR_START_TIME:
          break;
        default:
          return -1;
        }
    }
  return 0;
}

/* An absolute path without NUL or newline, malloc'd; NULL otherwise. */
static char *
tlv_path (const struct tlv *t)
{
  if (t->len == 0 || t->val[0] != '/' || memchr (t->val, '\0', t->len) || memchr (t->val, '\n', t->len))
    return NULL;
  return tlv_strdup (t);
}

/* The tags of a group's fields (0: the group has no such field). */
struct op_tags
{
  uint32_t op, path, parent, value, mode, err;
};

static const struct op_tags CG_TAGS = { CGO_OP, CGO_PATH, CGO_PARENT, CGO_VALUE, 0, CGO_ERRNO };
static const struct op_tags DATA_TAGS = { DOP_OP, DOP_PATH, 0, DOP_VALUE, DOP_MODE, 0 };

/* Which fields an op of a kind has: 1 required, 0 absent. */
struct op_shape
{
  int op, parent, value, mode, err;
};

/* replay.h: CGOP_* then DOPK_* */
static const struct op_shape CG_SHAPES[] = {
  { CGOP_MKDIR, 0, 0, 0, 0 },  { CGOP_INHERIT, 1, 0, 0, 0 }, { CGOP_WRITE, 0, 1, 0, 0 },
  { CGOP_ENABLE, 0, 0, 0, 0 }, { CGOP_DEVICE_FILTER, 0, 1, 0, 0 }, { CGOP_EXISTS, 0, 0, 0, 0 },
  { CGOP_ABSENT, 0, 0, 0, 0 }, { CGOP_READ, 0, 1, 0, 0 },    { CGOP_WRITE_FAILS, 0, 1, 0, 1 },
  { 0, 0, 0, 0, 0 },
};
static const struct op_shape DATA_SHAPES[] = {
  { DOPK_SAME, 0, 1, 0, 0 }, { DOPK_DIR, 0, 0, 0, 0 }, { DOPK_ABSENT, 0, 0, 0, 0 },
  { DOPK_MKDIR, 0, 0, 1, 0 }, { DOPK_WRITE, 0, 1, 0, 0 }, { 0, 0, 0, 0, 0 },
};

/* One op group: each field at most once, a path always, and exactly the
 * fields its kind has (shapes); -1 otherwise. */
static int
parse_op (const struct tlv *t, const struct op_tags *tags, const struct op_shape *shapes, struct rec_op *op)
{
  struct tlv_reader r;
  struct tlv e;
  int n;
  memset (op, 0, sizeof *op);
  tlv_reader_init (&r, t->val, t->len);
  while ((n = tlv_next (&r, &e)) > 0)
    {
      if (e.tag == tags->op && e.len == 8 && op->op == 0)
        op->op = (int) tlv_u64 (&e);
      else if (e.tag == tags->path && op->path == NULL && (op->path = tlv_path (&e)) != NULL)
        ;
      else if (tags->parent && e.tag == tags->parent && op->parent == NULL && (op->parent = tlv_path (&e)) != NULL)
        ;
      else if (e.tag == tags->value && op->value.val == NULL)
        op->value = e;
      else if (tags->mode && e.tag == tags->mode && e.len == 8 && !op->have_mode)
        op->mode = tlv_u64 (&e), op->have_mode = 1;
      else if (tags->err && e.tag == tags->err && e.len == 8 && !op->have_err)
        op->err = tlv_u64 (&e), op->have_err = 1;
      else
        return -1;
    }
  if (n < 0 || op->path == NULL)
    return -1;
  for (; shapes->op != 0; shapes++)
    if (shapes->op == op->op)
      return shapes->parent == (op->parent != NULL) && shapes->value == (op->value.val != NULL)
                     && shapes->mode == op->have_mode && shapes->err == op->have_err
                 ? 0
                 : -1;
  return -1;
}

/* What parse_op cannot say about a cgroup op: a device filter is whole
 * struct bpf_insn, at least one. */
static int
parse_cg_op (const struct tlv *t, struct rec_op *op)
{
  if (parse_op (t, &CG_TAGS, CG_SHAPES, op) < 0)
    return -1;
  if (op->op == CGOP_DEVICE_FILTER && (op->value.len == 0 || op->value.len % sizeof (struct bpf_insn) != 0))
    return -1;
  /* an expected failure is an errno; a value read is text (compared as a string) */
  if (op->have_err && (op->err == 0 || op->err > 4095))
    return -1;
  if (op->op == CGOP_READ && memchr (op->value.val, '\0', op->value.len))
    return -1;
  return 0;
}

/* ... and about a data op: a mode is permission bits. */
static int
parse_data_op (const struct tlv *t, struct rec_op *op)
{
  if (parse_op (t, &DATA_TAGS, DATA_SHAPES, op) < 0)
    return -1;
  return op->have_mode && op->mode > 07777 ? -1 : 0;
}

/* A top-level tag of the record, unparsed; -1 when absent. */
static int
find_tag (const struct replay_rec *rec, uint32_t tag, struct tlv *out)
{
  struct tlv_reader r;
  struct tlv t;
  tlv_reader_init (&r, (const uint8_t *) rec->buf, rec->len);
  while (tlv_next (&r, &t) > 0)
    if (t.tag == tag)
      {
        *out = t;
        return 0;
      }
  return -1;
}

/*
 * A record made for another id (RP_ID) becomes this id's (replay.h "Other
 * ids"): checked, then every occurrence of its id replaced in place.  A
 * record without RP_ID, or made for this id, is left as it is (the exact
 * comparison of inputs and config follows).  g_id: the id when the key was
 * G's, else NULL.
 */
static int
reparameterize (struct replay_rec *rec, const char *g_id, const char *inputs, size_t inputs_len, const char *config,
                size_t config_len, struct front_why *why)
{
  struct tlv rid, rin, rcf;
  char old[MAX_ID_COPY];
  size_t n;
  char *p, *end, *m, *next;

  if (find_tag (rec, RP_ID, &rid) < 0)
    return 0;
  if (g_id == NULL || rid.len != strlen (g_id))
    return front_fail (why, "replay miss: a record for another id");
  if (memcmp (rid.val, g_id, rid.len) == 0)
    return 0;
  n = rid.len;
  memcpy (old, rid.val, n);
  old[n] = '\0';
  if (strlen (old) != n || !id_parametric (old) || find_tag (rec, RP_INPUTS, &rin) < 0 || find_tag (rec, RP_CONFIG, &rcf) < 0)
    return front_fail (why, "replay miss: bad RP_ID");
  if (!g_equal ((const char *) rin.val, rin.len, old, inputs, inputs_len, g_id)
      || !g_equal ((const char *) rcf.val, rcf.len, old, config, config_len, g_id))
    return front_fail (why, "replay miss: the record of %s is about other inputs", old);
  end = rec->buf + rec->len;
  if (next_id (rec->buf, end, g_id, n) != NULL)
    return front_fail (why, "replay miss: the record of %s holds %s", old, g_id);
  /* check every occurrence before replacing any: no half-changed record */
  for (p = rec->buf; (m = (char *) next_id (p, end, old, n)) != NULL; p = m + n)
    {
      /* one starting inside this one ends before m + 2n - 1 */
      const char *reach = (size_t) (end - m) > 2 * n - 1 ? m + 2 * n - 1 : end;
      if ((next = (char *) next_id (m + 1, reach, old, n)) != NULL)
        return front_fail (why, "replay miss: %s overlaps itself in its record", old);
    }
  for (p = rec->buf; (m = (char *) next_id (p, end, old, n)) != NULL; p = m + n)
    memcpy (m, g_id, n);
  front_trace ("replay: record of", old);
  return 0;
}

/* Parse and check the whole record before anything is made: a record that is
 * not exactly what this front understands is a miss. */
static int
parse_record (struct replay_rec *rec, struct front_why *why)
{
  struct tlv_reader r;
  struct tlv t;
  int n, tag;

  tlv_reader_init (&r, (const uint8_t *) rec->buf, rec->len);
  while ((n = tlv_next (&r, &t)) > 0)
    {
      if (t.tag == RP_LEAF)
        {
          if (rec->n_leaves == FRONT_MAX_DIRS || (rec->leaves[rec->n_leaves] = tlv_path (&t)) == NULL)
            return front_fail (why, "replay miss: bad RP_LEAF");
          rec->n_leaves++;
        }
      else if (t.tag == RP_CGROUP_OP)
        {
          if (rec->n_ops == REPLAY_MAX_OPS || parse_cg_op (&t, &rec->ops[rec->n_ops]) < 0)
            return front_fail (why, "replay miss: bad RP_CGROUP_OP");
          rec->n_ops++;
        }
      else if (t.tag == RP_DATA_OP)
        {
          if (rec->n_dops == REPLAY_MAX_OPS || parse_data_op (&t, &rec->dops[rec->n_dops]) < 0)
            return front_fail (why, "replay miss: bad RP_DATA_OP");
          rec->n_dops++;
        }
      else if (t.tag == RP_DATA_LOCK && rec->data_lock == NULL)
        {
          if ((rec->data_lock = tlv_path (&t)) == NULL)
            return front_fail (why, "replay miss: bad RP_DATA_LOCK");
        }
      else if (t.tag >= RP_VERSION && t.tag <= RP_LAST && t.tag != RP_DATA_LOCK && rec->tags[t.tag].val == NULL)
        rec->tags[t.tag] = t;
      else
        return front_fail (why, "replay miss: unknown or repeated tag %u", t.tag);
    }
  if (n < 0)
    return front_fail (why, "replay miss: malformed TLV");
  if ((rec->n_dops > 0) != (rec->data_lock != NULL))
    return front_fail (why, "replay miss: RP_DATA_OP without RP_DATA_LOCK, or the reverse");
  for (tag = RP_VERSION; tag <= RP_LAST; tag++)
    if (tag != RP_LEAF && tag != RP_CGROUP_OP && tag != RP_DATA_LOCK && tag != RP_DATA_OP && tag != RP_ID
        && rec->tags[tag].val == NULL)
      return front_fail (why, "replay miss: no tag %d", tag);
  if (rec->tags[RP_VERSION].len != 8 || tlv_u64 (&rec->tags[RP_VERSION]) != REPLAY_VERSION)
    return front_fail (why, "replay miss: not version %d", REPLAY_VERSION);
  if (rec->tags[RP_NOFILE_CUR].len != 8 || rec->tags[RP_NOFILE_MAX].len != 8
      || tlv_u64 (&rec->tags[RP_NOFILE_CUR]) > tlv_u64 (&rec->tags[RP_NOFILE_MAX]))
    return front_fail (why, "replay miss: bad RP_NOFILE_*");
  if (check_template (&rec->tags[RP_STATE_CLAIMED], 0) < 0 || check_template (&rec->tags[RP_STATE_CGROUP], 0) < 0)
    return front_fail (why, "replay miss: bad template RP_STATE_CLAIMED or RP_STATE_CGROUP");
  for (tag = RP_STATE_PID; tag <= RP_FRONT_STOPPED; tag++)
    if (tag != RP_CONFIG_COPY && tag != RP_LEAF && tag != RP_CGROUP_OP && tag != RP_PLAN
        && check_template (&rec->tags[tag], 1) < 0)
      return front_fail (why, "replay miss: bad template %d", tag);
  return 0;
}

/* ---- the replay ---- */

struct replay
{
  struct front_call *c;
  struct replay_rec *rec;
  int lock;      /* the state dir, flocked; -1 */
  int made_dir;  /* <root>/<id> is ours to remove */
  const char *made_cg[REPLAY_MAX_OPS]; /* cgroup dirs mkdir created, in order */
  int n_made_cg;
  const char *absent[REPLAY_MAX_OPS]; /* DOPK_ABSENT paths found absent: ours to remove */
  int n_absent;
  pid_t shim;    /* 0 before the fork */
  int ctl;       /* our end of the control socket; -1 */
  long pid;      /* the container process; 0 before MSG_PID */
  unsigned long long start_time;
  char created[128];
  char self_pid[24];
  char self_start[24];
};

/* A template with its markers replaced (malloc'd). */
static int
expand (struct replay *rp, int tag, char **out, size_t *out_len, struct front_why *why)
{
  const struct tlv *t = &rp->rec->tags[tag];
  char pid[24], start[24];
  size_t cap = t->len + 1, len = 0;
  uint32_t i;
  char *buf;

  snprintf (pid, sizeof pid, "%ld", rp->pid);
  snprintf (start, sizeof start, "%llu", rp->start_time);
  for (i = 0; i < t->len; i++)
    if (t->val[i] == REPLAY_MARK)
      cap += sizeof rp->created;
  buf = malloc (cap);
  if (buf == NULL)
    return front_fail (why, "out of memory");
  for (i = 0; i < t->len; i++)
    {
      const char *v;
      size_t n;
      if (t->val[i] != REPLAY_MARK)
        {
          buf[len++] = (char) t->val[i];
          continue;
        }
      switch (t->val[++i])
        {
        case MARK_PID:
          v = pid;
          break;
        case MARK_START_TIME:
          v = start;
          break;
        case MARK_CREATED:
          v = rp->created;
          break;
        case MARK_CREATOR_PID:
          v = rp->self_pid;
          break;
        default:
          v = rp->self_start;
          break;
        }
      n = strlen (v);
      memcpy (buf + len, v, n);
      len += n;
    }
  *out = buf;
  *out_len = len;
  return 0;
}

static int
write_template (struct replay *rp, const char *name, int tag, struct front_why *why)
{
  char path[4200], *data;
  size_t len;
  int ret = expand (rp, tag, &data, &len, why);
  if (ret < 0)
    return ret;
  snprintf (path, sizeof path, "%s/%s", rp->c->dir, name);
  ret = front_write_atomic (path, data, len, why);
  free (data);
  return ret;
}

/* <root>/<id>/front: the head, then the state texts with their lengths (front-record.ts). */
static int
write_front_record (struct replay *rp, struct front_why *why)
{
  char *part[4], path[4200], *out = NULL;
  size_t len[4], olen = 0;
  int i, ret = 0;
  FILE *f;

  for (i = 0; i < 4; i++)
    part[i] = NULL;
  for (i = 0; i < 4 && ret == 0; i++)
    ret = expand (rp, RP_FRONT_HEAD + i, &part[i], &len[i], why);
  if (ret == 0)
    {
      f = open_memstream (&out, &olen);
      if (f == NULL)
        ret = front_fail (why, "open_memstream: %s", strerror (errno));
      else
        {
          fwrite (part[0], 1, len[0], f);
          fprintf (f, "state-live %zu %zu\n", len[1], len[2]);
          fwrite (part[1], 1, len[1], f);
          fwrite (part[2], 1, len[2], f);
          fprintf (f, "\nstate-stopped %zu\n", len[3]);
          fwrite (part[3], 1, len[3], f);
          fputs ("\nend\n", f);
          if (fclose (f) != 0)
            ret = front_fail (why, "front record: %s", strerror (errno));
        }
    }
  if (ret == 0)
    {
      snprintf (path, sizeof path, "%s/front", rp->c->dir);
      ret = front_write_atomic (path, out, olen, why);
    }
  free (out);
  for (i = 0; i < 4; i++)
    free (part[i]);
  return ret;
}

/* mkdir -p with mode (fs.mkdirSync recursive). */
static int
mkdir_p (const char *dir, mode_t mode)
{
  char buf[PATH_MAX];
  char *p;
  /* the root usually exists: one syscall */
  if (mkdir (dir, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return -1;
  snprintf (buf, sizeof buf, "%s", dir);
  for (p = buf + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (buf, mode) < 0 && errno != EEXIST)
          return -1;
        *p = '/';
      }
  if (mkdir (buf, mode) < 0 && errno != EEXIST)
    return -1;
  return 0;
}

/* A cgroup file trimmed as cgroups/fs.ts readFile: 0, 1 when missing, -1 on error. */
static int
read_cg (const char *dir, const char *name, char *buf, size_t size)
{
  char path[4200];
  size_t skip = 0;
  int ret;
  snprintf (path, sizeof path, "%s/%s", dir, name);
  ret = front_read_small (path, buf, size);
  if (ret == -ENOENT || ret == -ENOTDIR)
    return 1;
  /* a file that fills buf may have been cut */
  if (ret < 0 || (size_t) ret >= size - 1)
    return -1;
  while (buf[skip] == ' ' || buf[skip] == '\t' || buf[skip] == '\n')
    skip++;
  memmove (buf, buf + skip, (size_t) ret - skip + 1);
  return 0;
}

/* open PATH O_WRONLY|O_TRUNC, one write(2): 0, or the errno of what failed (cgroups/fs.ts writeFile). */
static int
cg_write_errno (const char *path, const void *value, size_t len)
{
  ssize_t w;
  int e, fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0)
    return errno;
  w = write (fd, value, len);
  e = w < 0 ? errno : EIO;
  close (fd);
  return w == (ssize_t) len ? 0 : e;
}

static int
cg_write (const char *path, const void *value, size_t len, struct front_why *why)
{
  int e = cg_write_errno (path, value, len);
  return e == 0 ? 0 : front_fail (why, "write \"%s\": %s", path, strerror (e));
}

/* Whether word is one of the blank-separated words of list. */
static int
has_word (const char *list, const char *word)
{
  size_t n = strlen (word);
  const char *p = list;
  while ((p = strstr (p, word)) != NULL)
    {
      int starts = p == list || strchr (" \t\n", p[-1]) != NULL;
      int ends = p[n] == '\0' || strchr (" \t\n", p[n]) != NULL;
      if (starts && ends)
        return 1;
      p += n;
    }
  return 0;
}

/* CGOP_ENABLE: cgroups/index.ts enableControllers, step for step.  Its
 * writes are best effort there too: a controller that cannot be enabled
 * makes the resource write that needs it fail, and that one undoes. */
static int
cg_enable (const char *dir, struct front_why *why)
{
  char avail[4096], enabled[4096], want[4096 + 64], file[4200], one[80];
  char *c, *save = NULL;
  size_t len = 0;
  struct stat st;
  int ret;

  /* the root cgroup (no cgroup.events): not ours to change */
  snprintf (file, sizeof file, "%s/cgroup.events", dir);
  if (stat (file, &st) < 0)
    return 0;
  /* missing files read as empty (readFile ?? ''), other errors are failures as there */
  ret = read_cg (dir, "cgroup.controllers", avail, sizeof avail);
  if (ret < 0)
    return front_fail (why, "read \"%s/cgroup.controllers\"", dir);
  if (ret > 0)
    avail[0] = '\0';
  ret = read_cg (dir, "cgroup.subtree_control", enabled, sizeof enabled);
  if (ret < 0)
    return front_fail (why, "read \"%s/cgroup.subtree_control\"", dir);
  if (ret > 0)
    enabled[0] = '\0';
  want[0] = '\0';
  for (c = strtok_r (avail, " \t\n", &save); c != NULL; c = strtok_r (NULL, " \t\n", &save))
    {
      if (has_word (enabled, c))
        continue;
      len += (size_t) snprintf (want + len, sizeof want - len, "%s+%s", len ? " " : "", c);
      if (len >= sizeof want)
        return front_fail (why, "\"%s/cgroup.controllers\": too many controllers", dir);
    }
  if (len == 0)
    return 0;
  snprintf (file, sizeof file, "%s/cgroup.subtree_control", dir);
  if (cg_write (file, want, len, why) == 0)
    return 0;
  /* one refused controller fails the whole write: the others one by one */
  save = NULL;
  for (c = strtok_r (want, " ", &save); c != NULL; c = strtok_r (NULL, " ", &save))
    {
      snprintf (one, sizeof one, "%s", c);
      cg_write (file, one, strlen (one), why);
    }
  why->text[0] = '\0';
  return 0;
}

static long
sys_bpf (int cmd, union bpf_attr *attr)
{
  return syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

/* CGOP_DEVICE_FILTER: sys/bpf.ts loadDeviceProgram + attachDeviceProgram.
 * Nothing to detach first: the cgroup is new (its leaf did not exist).  The
 * attached program lives as long as the cgroup: removing the dir (undo,
 * delete) detaches it, and our fds can go. */
static int
cg_device_filter (const char *dir, const struct tlv *insns, struct front_why *why)
{
  /* as bpf.ts: the kernel wants a license string, this one is not GPL (no GPL-only helper is used) */
  static const char license[] = "Apache-2.0";
  union bpf_attr attr;
  int prog, cg;
  long ret;

  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insn_cnt = insns->len / sizeof (struct bpf_insn);
  attr.insns = (uint64_t) (uintptr_t) insns->val;
  attr.license = (uint64_t) (uintptr_t) license;
  memcpy (attr.prog_name, "tsrun_dev", sizeof "tsrun_dev");
  prog = (int) sys_bpf (BPF_PROG_LOAD, &attr);
  if (prog < 0)
    return front_fail (why, "bpf(BPF_PROG_LOAD) for \"%s\": %s", dir, strerror (errno));
  cg = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0)
    {
      int e = errno;
      close (prog);
      return front_fail (why, "open \"%s\": %s", dir, strerror (e));
    }
  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t) cg;
  attr.attach_bpf_fd = (uint32_t) prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  ret = sys_bpf (BPF_PROG_ATTACH, &attr);
  if (ret < 0)
    {
      int e = errno;
      close (cg);
      close (prog);
      return front_fail (why, "bpf(BPF_PROG_ATTACH) \"%s\": %s", dir, strerror (e));
    }
  close (cg);
  close (prog);
  return 0;
}

static int
cgroup_op (struct replay *rp, const struct rec_op *op, struct front_why *why)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  char cur[4096], parent[4096], path[4200];
  int i, ret;

  switch (op->op)
    {
    case CGOP_MKDIR:
      if (mkdir (op->path, 0777) == 0)
        rp->made_cg[rp->n_made_cg++] = op->path;
      else if (errno != EEXIST)
        return front_fail (why, "mkdir \"%s\": %s", op->path, strerror (errno));
      return 0;
    case CGOP_INHERIT:
      for (i = 0; i < 2; i++)
        {
          ret = read_cg (op->path, files[i], cur, sizeof cur);
          if (ret < 0)
            return front_fail (why, "read \"%s/%s\"", op->path, files[i]);
          if (ret > 0 || cur[0] != '\0')
            continue;
          ret = read_cg (op->parent, files[i], parent, sizeof parent);
          if (ret < 0)
            return front_fail (why, "read \"%s/%s\"", op->parent, files[i]);
          if (ret > 0 || parent[0] == '\0')
            continue;
          snprintf (path, sizeof path, "%s/%s", op->path, files[i]);
          ret = cg_write (path, parent, strlen (parent), why);
          if (ret < 0)
            return ret;
        }
      return 0;
    case CGOP_ENABLE:
      return cg_enable (op->path, why);
    case CGOP_DEVICE_FILTER:
      return cg_device_filter (op->path, &op->value, why);
    case CGOP_EXISTS:
    case CGOP_ABSENT:
      {
        struct stat st;
        int found = stat (op->path, &st) == 0;
        if (found != (op->op == CGOP_EXISTS))
          return front_fail (why, "\"%s\" %s now", op->path, found ? "exists" : "does not exist");
        return 0;
      }
    case CGOP_READ:
      {
        char dir[4200], *slash;
        snprintf (dir, sizeof dir, "%s", op->path);
        slash = strrchr (dir, '/');
        *slash = '\0';
        ret = read_cg (dir, slash + 1, cur, sizeof cur);
        if (ret != 0 || strlen (cur) != op->value.len || memcmp (cur, op->value.val, op->value.len) != 0)
          return front_fail (why, "\"%s\" no longer reads \"%.*s\"", op->path, (int) op->value.len,
                             (const char *) op->value.val);
        return 0;
      }
    case CGOP_WRITE_FAILS:
      ret = cg_write_errno (op->path, op->value.val, op->value.len);
      if ((unsigned long long) ret != op->err)
        return front_fail (why, "write \"%s\": %s, recorded %s", op->path, ret ? strerror (ret) : "done",
                           strerror ((int) op->err));
      return 0;
    default:
      return cg_write (op->path, op->value.val, op->value.len, why);
    }
}

/* DOPK_SAME and DOPK_DIR: checks only. */
static int
data_check (const struct rec_op *op, struct front_why *why)
{
  struct stat st;
  char value[128];
  int n;

  if (op->op == DOPK_SAME)
    {
      if (stat (op->path, &st) < 0)
        return front_fail (why, "stat \"%s\": %s", op->path, strerror (errno));
      /* "<dev>:<ino>:<size>:<mtime ns>" as Node's bigint stat */
      n = snprintf (value, sizeof value, "%llu:%llu:%lld:%lld", (unsigned long long) st.st_dev,
                    (unsigned long long) st.st_ino, (long long) st.st_size,
                    (long long) st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
      if ((size_t) n != op->value.len || memcmp (value, op->value.val, (size_t) n) != 0)
        return front_fail (why, "\"%s\" changed: %s, recorded %.*s", op->path, value, (int) op->value.len,
                           (const char *) op->value.val);
      return 0;
    }
  if (stat (op->path, &st) < 0)
    return front_fail (why, "stat \"%s\": %s", op->path, strerror (errno));
  if (!S_ISDIR (st.st_mode))
    return front_fail (why, "\"%s\" is not a directory", op->path);
  return 0;
}

/* Before anything is made: a layer changed or pruned since the record is a
 * miss (Node records anew), not a replay to undo. */
static int
data_precheck (const struct replay_rec *rec, struct front_why *why)
{
  int i, ret;
  for (i = 0; i < rec->n_dops; i++)
    if (rec->dops[i].op == DOPK_SAME || rec->dops[i].op == DOPK_DIR)
      {
        ret = data_check (&rec->dops[i], why);
        if (ret < 0)
          return ret;
      }
  return 0;
}

/* One DOPK_* operation (replay.h). */
static int
data_op (struct replay *rp, const struct rec_op *op, struct front_why *why)
{
  struct stat st;
  int fd;

  switch (op->op)
    {
    case DOPK_SAME:
    case DOPK_DIR:
      return data_check (op, why);
    case DOPK_ABSENT:
      if (lstat (op->path, &st) == 0 || errno != ENOENT)
        return front_fail (why, "\"%s\" exists", op->path);
      rp->absent[rp->n_absent++] = op->path;
      return 0;
    case DOPK_MKDIR:
      if (mkdir (op->path, (mode_t) op->mode) < 0 && errno != EEXIST)
        return front_fail (why, "mkdir \"%s\": %s", op->path, strerror (errno));
      return 0;
    default:
      fd = open (op->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (fd < 0)
        return front_fail (why, "open \"%s\": %s", op->path, strerror (errno));
      if (fd_write_all (fd, op->value.val, op->value.len) < 0)
        {
          int e = errno;
          close (fd);
          return front_fail (why, "write \"%s\": %s", op->path, strerror (e));
        }
      /* close once, whatever it returns (a second close could hit another fd) */
      if (close (fd) < 0)
        return front_fail (why, "close \"%s\": %s", op->path, strerror (errno));
      return 0;
    }
}

/* 2b: the data ops with the store lock held shared (prune holds it exclusively). */
static int
data_ops (struct replay *rp, struct front_why *why)
{
  int fd, i, ret = 0;
  if (rp->rec->n_dops == 0)
    return 0;
  /* making it is Node's job */
  fd = open (rp->rec->data_lock, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return front_fail (why, "open \"%s\": %s", rp->rec->data_lock, strerror (errno));
  while (flock (fd, LOCK_SH) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        close (fd);
        return front_fail (why, "flock \"%s\": %s", rp->rec->data_lock, strerror (e));
      }
  for (i = 0; i < rp->rec->n_dops && ret == 0; i++)
    ret = data_op (rp, &rp->rec->dops[i], why);
  close (fd);
  return ret;
}

/* The shim with fds 0-2, the control socket as 3 and nothing else, as runShim. */
static int
spawn_shim (struct replay *rp, struct front_why *why)
{
  const char *top = top_dir ();
  char shim[PATH_MAX + 64];
  int sv[2];
  pid_t pid;

  if (top == NULL)
    return front_fail (why, "no dist/tsrun.js");
  snprintf (shim, sizeof shim, "%s/native-shim/build/tsrun-shim", top);
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return front_fail (why, "socketpair: %s", strerror (errno));
  pid = fork ();
  if (pid < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return front_fail (why, "fork: %s", strerror (errno));
    }
  if (pid == 0)
    {
      char *argv[] = { shim, "create", "3", NULL };
      char *envp[] = { NULL };
      /* the limit Node's shim had: Node raises its own soft RLIMIT_NOFILE at
       * start, the shim (and a container without a limit of its own) inherits it */
      struct rlimit nofile = { (rlim_t) tlv_u64 (&rp->rec->tags[RP_NOFILE_CUR]), (rlim_t) tlv_u64 (&rp->rec->tags[RP_NOFILE_MAX]) };
      if (setrlimit (RLIMIT_NOFILE, &nofile) < 0)
        _exit (127);
      /* dup2 onto itself would keep FD_CLOEXEC */
      if (sv[1] == 3 ? fcntl (3, F_SETFD, 0) < 0 : dup2 (sv[1], 3) < 0)
        _exit (127);
      /* nor any fd our caller left open without FD_CLOEXEC: 0-2 and 3 only */
      close_range (4, ~0U, 0);
      execve (shim, argv, envp);
      _exit (127);
    }
  close (sv[1]);
  rp->shim = pid;
  rp->ctl = sv[0];
  return 0;
}

/* Tests: TSRUN_TEST_REPLAY_KILL_AT=<step> SIGKILLs the front at that step
 * of the replay, as TSRUN_TEST_KILL_AT does for create.ts (the step names
 * are crashpoint.ts CREATE_STEPS), so that a crash anywhere in a replay is
 * shown to leave what `state` and `delete --force` handle; "undone" right
 * after an undo, before Node, so that a test sees what the undo left. */
static void
kill_point (const char *step)
{
  const char *at = getenv ("TSRUN_TEST_REPLAY_KILL_AT");
  if (at == NULL || strcmp (at, step) != 0)
    return;
  kill (getpid (), SIGKILL);
  for (;;)
    pause ();
}

/* MSG_PLAN, then MSG_PID and MSG_READY; anything else is a failure. */
static int
converse (struct replay *rp, struct front_why *why)
{
  struct shim_error err;
  const struct tlv *plan = &rp->rec->tags[RP_PLAN];
  int ret = frame_write (rp->ctl, MSG_PLAN, plan->val, plan->len, &err);
  if (ret < 0)
    return front_fail (why, "shim: %s", err.msg);
  for (;;)
    {
      uint16_t msg;
      uint8_t *payload;
      uint32_t len;
      struct tlv_reader r;
      struct tlv t;
      char state;
      long pid = 0;

      ret = frame_read (rp->ctl, &msg, &payload, &len, &err);
      if (ret < 0)
        return front_fail (why, "shim: %s", err.msg);
      if (ret == 0)
        return front_fail (why, "shim: end of the control socket before READY");
      tlv_reader_init (&r, payload, len);
      while (tlv_next (&r, &t) > 0)
        if (t.tag == PID_PID)
          pid = (long) tlv_u64 (&t);
      free (payload);
      if (msg == MSG_PID && rp->pid == 0 && pid > 0)
        {
          rp->pid = pid;
          if (front_read_proc_stat (pid, &state, &rp->start_time) < 0)
            return front_fail (why, "read /proc/%ld/stat", pid);
          ret = write_template (rp, "state.json", RP_STATE_PID, why);
          if (ret < 0)
            return ret;
          kill_point ("pid");
          continue;
        }
      if (msg == MSG_READY && rp->pid > 0)
        {
          kill_point ("before-ready");
          ret = write_template (rp, "state.json", RP_STATE_READY, why);
          if (ret < 0)
            return ret;
          return write_front_record (rp, why);
        }
      return front_fail (why, "shim: message %u%s", msg, msg == MSG_ERROR ? " (error)" : "");
    }
}

/* replay.h steps 1-6 but the lock release. */
static int
replay_steps (struct replay *rp, struct front_why *why)
{
  struct front_call *c = rp->c;
  char path[4200];
  int i, gone, ret;

  /* 1 */
  if (mkdir_p (c->root, 0711) < 0)
    return front_fail (why, "mkdir \"%s\": %s", c->root, strerror (errno));
  if (mkdir (c->dir, 0711) < 0)
    return front_fail (why, "mkdir \"%s\": %s", c->dir, strerror (errno));
  rp->made_dir = 1;
  ret = front_lock_dir (c->dir, &rp->lock, &gone, why);
  if (ret < 0)
    {
      /* another tsrun removed it meanwhile: it is not ours any more */
      rp->made_dir = !gone;
      return ret;
    }
  kill_point ("claimed");
  /* 2 */
  ret = write_template (rp, "state.json", RP_STATE_CLAIMED, why);
  if (ret < 0)
    return ret;
  snprintf (path, sizeof path, "%s/config.json", c->dir);
  ret = front_write_atomic (path, rp->rec->tags[RP_CONFIG_COPY].val, rp->rec->tags[RP_CONFIG_COPY].len, why);
  if (ret < 0)
    return ret;
  kill_point ("state-written");
  /* 2b */
  ret = data_ops (rp, why);
  if (ret < 0)
    return ret;
  kill_point ("layers");
  /* 3: a leaf that exists may be another container's: Node checks */
  for (i = 0; i < rp->rec->n_leaves; i++)
    {
      struct stat st;
      if (lstat (rp->rec->leaves[i], &st) == 0 || errno != ENOENT)
        return front_fail (why, "cgroup \"%s\" exists", rp->rec->leaves[i]);
    }
  /* only now may state.json name the cgroup: before, a crash would leave a
   * state dir whose delete --force kills what another container runs there */
  ret = write_template (rp, "state.json", RP_STATE_CGROUP, why);
  if (ret < 0)
    return ret;
  for (i = 0; i < rp->rec->n_ops; i++)
    {
      ret = cgroup_op (rp, &rp->rec->ops[i], why);
      if (ret < 0)
        return ret;
    }
  kill_point ("cgroup");
  /* 4: 0622 as runc; chmod because the umask trims what mkfifo sets */
  snprintf (path, sizeof path, "%s/exec.fifo", c->dir);
  if (mkfifo (path, 0622) < 0 || chmod (path, 0622) < 0)
    return front_fail (why, "mkfifo \"%s\": %s", path, strerror (errno));
  kill_point ("fifo");
  /* 5 */
  ret = spawn_shim (rp, why);
  if (ret < 0)
    return ret;
  kill_point ("shim-spawned");
  ret = converse (rp, why);
  close (rp->ctl);
  rp->ctl = -1;
  if (ret < 0)
    return ret;
  /* 6 */
  if (c->pid_file)
    {
      char file[PATH_MAX], pid[24];
      int n = snprintf (pid, sizeof pid, "%ld", rp->pid);
      if (front_resolve_path (c->pid_file, file, sizeof file) < 0)
        return front_fail (why, "--pid-file \"%s\": path too long", c->pid_file);
      ret = front_write_atomic (file, pid, (size_t) n, why);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* Remove what replay_steps made, so that Node starts from nothing. */
static void
undo (struct replay *rp)
{
  struct front_why ignored;
  int i, waited;

  if (rp->ctl >= 0)
    close (rp->ctl);
  rp->ctl = -1;
  if (rp->pid > 0)
    {
      kill ((pid_t) rp->pid, SIGKILL);
      for (waited = 0; waited < FORWARD_WAIT_MS && front_is_alive (rp->pid, rp->start_time); waited += 5)
        front_sleep_ms (5);
    }
  /* the shim joined the cgroups too: gone before they are removed */
  if (rp->shim > 0)
    {
      for (waited = 0; waitpid (rp->shim, NULL, WNOHANG) == 0; waited += 5)
        {
          if (waited >= FORWARD_WAIT_MS)
            {
              kill (rp->shim, SIGKILL);
              while (waitpid (rp->shim, NULL, 0) < 0 && errno == EINTR)
                ;
              break;
            }
          front_sleep_ms (5);
        }
    }
  for (i = rp->n_made_cg - 1; i >= 0; i--)
    for (waited = 0; rmdir (rp->made_cg[i]) < 0 && errno == EBUSY && waited < 1000; waited += 10)
      front_sleep_ms (10);
  /* the write layer (releaseRootfs): its overlay was in the container's
   * mount namespace only; a mount here on the host is not ours to undo */
  for (i = 0; i < rp->n_absent; i++)
    if (front_mounted_under (rp->absent[i]) == 0)
      front_remove_tree (rp->absent[i], &ignored);
  if (rp->made_dir && rp->lock >= 0)
    front_remove_state_dir (rp->lock, rp->c->dir, &ignored);
  else if (rp->made_dir)
    rmdir (rp->c->dir);
  if (rp->lock >= 0)
    close (rp->lock);
  rp->lock = -1;
}

/* ---- after READY ---- */

static const int FORWARDED[] = {
  SIGHUP,  SIGINT,  SIGQUIT, SIGTERM,   SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGPIPE, SIGTSTP,   SIGTTIN,
  SIGTTOU, SIGURG,  SIGVTALRM, SIGPROF, SIGIO,   SIGPWR,  SIGSYS,   SIGTRAP, SIGABRT, SIGXCPU, SIGXFSZ, SIGSTKFLT,
};

static volatile pid_t forward_to;

static void
forward (int sig)
{
  int e = errno;
  kill (forward_to, sig);
  errno = e;
}

/* run.ts forwardSignals */
static void
forward_signals (pid_t pid)
{
  struct sigaction sa;
  size_t i;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  sigemptyset (&sa.sa_mask);
  forward_to = pid;
  for (i = 0; i < sizeof FORWARDED / sizeof FORWARDED[0]; i++)
    sigaction (FORWARDED[i], &sa, NULL);
}

/* `tsrun --root R VERB [--force] ID` through Node, waited for: its exit code. */
static int
node_verb (const struct front_call *c, const char *root, const char *verb, int force)
{
  char *argv[12];
  int n = 0;
  pid_t pid;
  argv[n++] = "tsrun";
  argv[n++] = "--root";
  argv[n++] = (char *) root;
  /* the caller's log (containerd's log.json) gets what Node says */
  if (c->log)
    {
      argv[n++] = "--log";
      argv[n++] = (char *) c->log;
    }
  if (c->log_format)
    {
      argv[n++] = "--log-format";
      argv[n++] = (char *) c->log_format;
    }
  argv[n++] = (char *) verb;
  if (force)
    argv[n++] = "--force";
  argv[n++] = (char *) c->id;
  argv[n] = NULL;
  pid = fork ();
  if (pid < 0)
    return 1;
  if (pid == 0)
    {
      signal (SIGPIPE, SIG_DFL);
      unsetenv (REPLAY_ENV);
      front_exec_node (n, argv);
    }
  return wait_exit_code (pid);
}

/* create returns; run starts (and in the foreground waits and deletes), as run.ts. */
static int
after_ready (struct replay *rp, const char *root)
{
  struct front_call *c = rp->c;
  struct front_why why = { { 0 } };
  int ret, code;

  if (strcmp (c->verb, "create") == 0)
    return 0;
  /* a signal as the process starts must reach it, not end us */
  if (!c->detach)
    forward_signals ((pid_t) rp->pid);
  ret = front_start (c, &why);
  if (ret < 0)
    {
      front_trace ("replay: start through node", why.text);
      ret = node_verb (c, root, "start", 0);
    }
  if (ret != 0)
    {
      node_verb (c, root, "delete", 1);
      return ret;
    }
  if (c->detach)
    return 0;
  code = wait_exit_code (rp->shim);
  c->force = 1;
  why.text[0] = '\0';
  if (front_delete (c, &why) < 0)
    {
      front_trace ("replay: delete through node", why.text);
      ret = node_verb (c, root, "delete", 1);
      if (ret != 0)
        return ret;
    }
  return code;
}

/* ---- the entry ---- */

/* 2026-11-23T10:05:02.538123456Z.  Not gmtime_r: it links glibc's time zone
 * code (and sscanf) into the static binary, ~60 KB for a UTC date. */
static void
rfc3339 (const struct timespec *ts, char *out, size_t size)
{
  /* days to civil (proleptic Gregorian), H. Hinnant's algorithm */
  long long days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400;
  long long z = days + 719468, era = z / 146097;
  unsigned doe = (unsigned) (z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  long long y = (long long) yoe + era * 400 + (m <= 2);
  snprintf (out, size, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09ldZ", y, m, d, secs / 3600, secs / 60 % 60, secs % 60,
            ts->tv_nsec);
}

/* Whether st is owned by us (root) and no one else can write it. */
static int
only_ours (const struct stat *st)
{
  return st->st_uid == geteuid () && (st->st_mode & 022) == 0;
}

/*
 * A record says which plan the shim runs as root: only one that we own and no
 * one else can write, in a directory the same holds for, is used.  Checked on
 * what is read, not on a path: <root>/.replay opened (O_NOFOLLOW) and its fd
 * checked, the record opened under that fd (O_NOFOLLOW) and its fd checked,
 * then read from that fd.  Whoever can rename entries in <root> can put
 * another directory there, but not between the check and the read.  The
 * record: malloc'd into rec->buf.
 */
static int
read_record (const char *root, const char *key, struct replay_rec *rec, struct front_why *why)
{
  char dir[PATH_MAX + 64];
  struct stat st;
  size_t cap;
  int dfd, fd;

  snprintf (dir, sizeof dir, "%s/" REPLAY_DIR, root);
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return front_fail (why, "replay miss: open \"%s\": %s", dir, strerror (errno));
  if (fstat (dfd, &st) < 0 || !S_ISDIR (st.st_mode) || !only_ours (&st))
    {
      close (dfd);
      return front_fail (why, "replay miss: \"%s\" is not a directory only we can write", dir);
    }
  /* O_NONBLOCK: a fifo put there must not block the open (it is refused below) */
  fd = openat (dfd, key, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  close (dfd);
  if (fd < 0)
    return front_fail (why, "replay miss: %s: %s", key, strerror (errno));
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || !only_ours (&st) || st.st_size > REPLAY_MAX_SIZE)
    {
      close (fd);
      return front_fail (why, "replay miss: \"%s/%s\" is not a file only we can write", dir, key);
    }
  cap = (size_t) st.st_size + 1;
  rec->buf = malloc (cap);
  rec->len = 0;
  if (rec->buf == NULL)
    {
      close (fd);
      return front_fail (why, "replay: out of memory");
    }
  /* the size fstat gave; a record rewritten meanwhile is renamed over, not written in place */
  for (;;)
    {
      ssize_t r = read (fd, rec->buf + rec->len, cap - rec->len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          close (fd);
          return front_fail (why, "replay miss: read %s: %s", key, strerror (e));
        }
      if (r == 0)
        break;
      rec->len += (size_t) r;
      if (rec->len == cap)
        {
          close (fd);
          return front_fail (why, "replay miss: %s grew while read", key);
        }
    }
  close (fd);
  return 0;
}

int
front_replay (struct front_call *c, char **inputs_hex, struct front_why *why)
{
  static char root[PATH_MAX], data_dir[PATH_MAX];
  const char *given_root = c->root;
  char bundle[PATH_MAX], path[PATH_MAX + 64], key[17];
  struct replay_rec *rec;
  struct replay rp;
  char *inputs, *config;
  const char *g_id;
  size_t inputs_len, config_len;
  uint64_t h;
  struct timespec now;
  char stat_state;
  int i, ret;

  *inputs_hex = NULL;
  for (i = 0; i < 3; i++)
    if (fcntl (i, F_GETFD) < 0)
      return front_fail (why, "replay: fd %d is not open", i);
  /* the plan holds paths under the root as given: a relative one means
   * another file from another cwd */
  if (c->root[0] != '/')
    return front_fail (why, "replay: relative --root");
  if (front_resolve_path (c->root, root, sizeof root) < 0 || front_resolve_path (c->bundle, bundle, sizeof bundle) < 0
      || front_resolve_path (c->data_dir ? c->data_dir : DEFAULT_DATA_DIR, data_dir, sizeof data_dir) < 0)
    return front_fail (why, "replay: path too long");
  if (strchr (root, '\n') || strchr (bundle, '\n') || strchr (data_dir, '\n') || (c->pid_file && strchr (c->pid_file, '\n')))
    return front_fail (why, "replay: a path with a newline");
  c->root = root;
  c->data_dir = data_dir;
  if ((size_t) snprintf (c->dir, sizeof c->dir, "%s/%s", root, c->id) >= sizeof c->dir - 64)
    return front_fail (why, "replay: path too long");

  ret = replay_inputs (c, bundle, &inputs, &inputs_len, why);
  if (ret < 0)
    return ret;
  snprintf (path, sizeof path, "%s/config.json", bundle);
  ret = read_whole_file (path, &config, &config_len, REPLAY_MAX_SIZE);
  if (ret < 0)
    return front_fail (why, "replay: read \"%s\": %s", path, strerror (-ret));
  /* the key is G's when a record of this id may serve others (replay.h) */
  g_id = id_parametric (c->id) && !memchr (inputs, REPLAY_MARK, inputs_len) && !memchr (config, REPLAY_MARK, config_len)
             ? c->id
             : NULL;
  h = fnv1a_g (fnv1a_g (0xcbf29ce484222325ULL, inputs, inputs_len, g_id), config, config_len, g_id);
  snprintf (key, sizeof key, "%016llx", (unsigned long long) h);

  /* from here a failure to use the record is a miss: Node records */
  *inputs_hex = hex_encode (inputs, inputs_len);
  if (*inputs_hex == NULL)
    return front_fail (why, "replay: out of memory");
  rec = calloc (1, sizeof *rec);
  if (rec == NULL)
    return front_fail (why, "replay: out of memory");
  ret = read_record (root, key, rec, why);
  if (ret < 0)
    return ret;
  ret = reparameterize (rec, g_id, inputs, inputs_len, config, config_len, why);
  if (ret < 0)
    return ret;
  ret = parse_record (rec, why);
  if (ret < 0)
    return ret;
  if (rec->tags[RP_INPUTS].len != inputs_len || memcmp (rec->tags[RP_INPUTS].val, inputs, inputs_len) != 0
      || rec->tags[RP_CONFIG].len != config_len || memcmp (rec->tags[RP_CONFIG].val, config, config_len) != 0)
    return front_fail (why, "replay miss: %s is about other inputs", key);
  ret = data_precheck (rec, why);
  if (ret < 0)
    {
      struct front_why step = *why;
      return front_fail (why, "replay miss: %s", step.text);
    }

  memset (&rp, 0, sizeof rp);
  rp.c = c;
  rp.rec = rec;
  rp.lock = -1;
  rp.ctl = -1;
  clock_gettime (CLOCK_REALTIME, &now);
  rfc3339 (&now, rp.created, sizeof rp.created);
  {
    unsigned long long st;
    if (front_read_proc_stat (getpid (), &stat_state, &st) < 0)
      return front_fail (why, "replay: read /proc/self/stat");
    snprintf (rp.self_pid, sizeof rp.self_pid, "%d", (int) getpid ());
    snprintf (rp.self_start, sizeof rp.self_start, "%llu", st);
  }

  /* EPIPE, not death, when the shim is gone */
  signal (SIGPIPE, SIG_IGN);
  ret = replay_steps (&rp, why);
  if (ret < 0)
    {
      struct front_why step = *why;
      int made = rp.made_dir || rp.n_made_cg > 0 || rp.shim > 0 || rp.n_absent > 0;
      undo (&rp);
      /* a test sees what the undo left, before Node (which would mend it) */
      kill_point ("undone");
      /* *inputs_hex stays: Node records anew what it makes (a host fact a
       * guard found changed would otherwise fail every replay of the record) */
      return front_fail (why, "replay %s: %s", made ? "undone" : "not started", step.text);
    }
  free (*inputs_hex);
  *inputs_hex = NULL;
  close (rp.lock);
  rp.lock = -1;
  signal (SIGPIPE, SIG_DFL);
  front_trace ("replay", key);
  return after_ready (&rp, given_root);
}
