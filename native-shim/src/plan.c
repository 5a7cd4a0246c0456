/* plan.c - decode MSG_PLAN into struct plan. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "protocol.h"
#include "tlv.h"

static void *
xrealloc (void *p, size_t n)
{
  p = realloc (p, n ? n : 1);
  if (p == NULL)
    abort ();
  return p;
}

/* grow an array by one element and return a pointer to the new (zeroed) slot */
#define PUSH(arr, n) \
  ((arr) = xrealloc ((arr), ((n) + 1) * sizeof *(arr)), memset (&(arr)[(n)], 0, sizeof *(arr)), &(arr)[(n)++])

void
strv_push (struct strv *s, char *str)
{
  s->v = xrealloc (s->v, (s->n + 2) * sizeof *s->v);
  s->v[s->n++] = str;
  s->v[s->n] = NULL;
}

static void
strv_init (struct strv *s)
{
  if (s->v == NULL)
    {
      s->v = xrealloc (NULL, sizeof *s->v);
      s->v[0] = NULL;
    }
}

const char *
strv_getenv (const struct strv *env, const char *name)
{
  size_t l = strlen (name);
  for (size_t i = 0; i < env->n; i++)
    if (strncmp (env->v[i], name, l) == 0 && env->v[i][l] == '=')
      return env->v[i] + l + 1;
  return NULL;
}

static int
malformed (struct shim_error *err, const char *what)
{
  return shim_fail (err, EINVAL, "plan", NULL, "plan: malformed %s", what);
}

static int
decode_mount (struct mount_entry *m, const struct tlv *g, struct shim_error *err)
{
  struct tlv_reader r;
  struct tlv t;
  int ret;
  tlv_reader_init (&r, g->val, g->len);
  while ((ret = tlv_next (&r, &t)) > 0)
    switch (t.tag)
      {
      case MT_SOURCE: m->source = tlv_strdup (&t); break;
      case MT_DEST: m->dest = tlv_strdup (&t); break;
      case MT_TYPE: m->type = tlv_strdup (&t); break;
      case MT_FLAGS: m->flags = tlv_u64 (&t); break;
      case MT_DATA: m->data = tlv_strdup (&t); break;
      case MT_PROPAGATION: m->propagation = tlv_u64 (&t); break;
      case MT_ATTR_SET: m->attr_set = tlv_u64 (&t); break;
      case MT_ATTR_CLEAR: m->attr_clear = tlv_u64 (&t); break;
      case MT_CHDIR: m->chdir = tlv_strdup (&t); break;
      case MT_IDMAP_USERNS: m->idmap_userns = tlv_strdup (&t); break;
      }
  if (ret < 0)
    return malformed (err, "mount");
  if (m->dest == NULL)
    m->dest = strdup (""); /* PLAN_MOUNT entries are checked in plan_decode */
  if (m->type == NULL)
    m->type = strdup ("");
  return 0;
}

static int
decode_device (struct device_entry *d, const struct tlv *g, struct shim_error *err)
{
  struct tlv_reader r;
  struct tlv t;
  int ret;
  tlv_reader_init (&r, g->val, g->len);
  d->mode = 0666;
  while ((ret = tlv_next (&r, &t)) > 0)
    switch (t.tag)
      {
      case DV_PATH: d->path = tlv_strdup (&t); break;
      case DV_TYPE: d->type = (int) tlv_u64 (&t); break;
      case DV_MAJOR: d->major = tlv_u64 (&t); break;
      case DV_MINOR: d->minor = tlv_u64 (&t); break;
      case DV_MODE: d->mode = tlv_u64 (&t); break;
      case DV_UID: d->uid = tlv_u64 (&t); d->has_uid = true; break;
      case DV_GID: d->gid = tlv_u64 (&t); d->has_gid = true; break;
      }
  if (ret < 0 || d->path == NULL)
    return malformed (err, "device");
  return 0;
}

static int
decode_hook (struct hook *h, const struct tlv *g, struct shim_error *err)
{
  struct tlv_reader r;
  struct tlv t;
  struct strv args = { 0 }, env = { 0 };
  int ret;
  tlv_reader_init (&r, g->val, g->len);
  while ((ret = tlv_next (&r, &t)) > 0)
    switch (t.tag)
      {
      case HOOK_KIND: h->kind = (int) tlv_u64 (&t); break;
      case HOOK_PATH: h->path = tlv_strdup (&t); break;
      case HOOK_ARG: strv_push (&args, tlv_strdup (&t)); break;
      case HOOK_ENV: strv_push (&env, tlv_strdup (&t)); break;
      case HOOK_TIMEOUT: h->timeout = tlv_u64 (&t); break;
      }
  if (ret < 0 || h->path == NULL)
    return malformed (err, "hook");
  if (args.n == 0)
    strv_push (&args, strdup (h->path));
  strv_init (&env);
  h->args = args.v;
  h->env = env.v;
  return 0;
}

int
plan_decode (struct plan *p, uint8_t *raw, uint32_t len, struct shim_error *err)
{
  struct tlv_reader r, gr;
  struct tlv t, g;
  int ret;
  uint64_t version = 0;

  memset (p, 0, sizeof *p);
  p->raw = raw;
  p->raw_len = len;
  p->console_socket = -1;
  tlv_reader_init (&r, raw, len);
  while ((ret = tlv_next (&r, &t)) > 0)
    {
      switch (t.tag)
        {
        case PLAN_VERSION: version = tlv_u64 (&t); break;
        case PLAN_FLAGS: p->flags = tlv_u64 (&t); break;
        case PLAN_ROOTFS: p->rootfs = tlv_strdup (&t); break;
        case PLAN_ROOTFS_PROPAGATION: p->rootfs_propagation = tlv_u64 (&t); break;
        case PLAN_NS_NEW: p->ns_new = tlv_u64 (&t); break;
        case PLAN_NS_JOIN:
          {
            struct ns_join *j = PUSH (p->ns_join, p->n_ns_join);
            tlv_reader_init (&gr, t.val, t.len);
            while ((ret = tlv_next (&gr, &g)) > 0)
              if (g.tag == NSJ_TYPE)
                j->type = tlv_u64 (&g);
              else if (g.tag == NSJ_PATH)
                j->path = tlv_strdup (&g);
            if (ret < 0 || j->path == NULL || j->type == 0)
              return malformed (err, "namespace");
            break;
          }
        case PLAN_UID_MAP: p->uid_map = tlv_strdup (&t); break;
        case PLAN_GID_MAP: p->gid_map = tlv_strdup (&t); break;
        case PLAN_UID_MAP_HELPER: p->uid_map_helper = tlv_strdup (&t); break;
        case PLAN_GID_MAP_HELPER: p->gid_map_helper = tlv_strdup (&t); break;
        case PLAN_HOSTNAME: p->hostname = tlv_strdup (&t); break;
        case PLAN_DOMAINNAME: p->domainname = tlv_strdup (&t); break;
        case PLAN_ROOTFS_MOUNT:
          p->rootfs_mount = xrealloc (NULL, sizeof *p->rootfs_mount);
          memset (p->rootfs_mount, 0, sizeof *p->rootfs_mount);
          ret = decode_mount (p->rootfs_mount, &t, err);
          if (ret < 0)
            return ret;
          break;
        case PLAN_MOUNT:
          ret = decode_mount (PUSH (p->mounts, p->n_mounts), &t, err);
          if (ret < 0)
            return ret;
          if (p->mounts[p->n_mounts - 1].dest[0] != '/')
            return malformed (err, "mount (destination is not absolute)");
          break;
        case PLAN_DEVICE:
          ret = decode_device (PUSH (p->devices, p->n_devices), &t, err);
          if (ret < 0)
            return ret;
          break;
        case PLAN_MASKED_PATH: strv_push (&p->masked, tlv_strdup (&t)); break;
        case PLAN_READONLY_PATH: strv_push (&p->readonly, tlv_strdup (&t)); break;
        case PLAN_SYSCTL:
          {
            struct kv *kv = PUSH (p->sysctl, p->n_sysctl);
            tlv_reader_init (&gr, t.val, t.len);
            while ((ret = tlv_next (&gr, &g)) > 0)
              if (g.tag == KV_KEY)
                kv->key = tlv_strdup (&g);
              else if (g.tag == KV_VALUE)
                kv->value = tlv_strdup (&g);
            if (ret < 0 || kv->key == NULL)
              return malformed (err, "sysctl");
            if (kv->value == NULL)
              kv->value = strdup ("");
            break;
          }
        case PLAN_CGROUP_PROCS: strv_push (&p->cgroup_procs, tlv_strdup (&t)); break;
        case PLAN_EXEC_FIFO: p->exec_fifo = tlv_strdup (&t); break;
        case PLAN_ARG: strv_push (&p->args, tlv_strdup (&t)); break;
        case PLAN_ENV: strv_push (&p->env, tlv_strdup (&t)); break;
        case PLAN_CWD: p->cwd = tlv_strdup (&t); break;
        case PLAN_UID: p->uid = (uid_t) tlv_u64 (&t); break;
        case PLAN_GID: p->gid = (gid_t) tlv_u64 (&t); break;
        case PLAN_ADDITIONAL_GID: *PUSH (p->groups, p->n_groups) = (gid_t) tlv_u64 (&t); break;
        case PLAN_UMASK: p->has_umask = true; p->umask = (mode_t) tlv_u64 (&t); break;
        case PLAN_RLIMIT:
          {
            struct rlimit_entry *rl = PUSH (p->rlimits, p->n_rlimits);
            tlv_reader_init (&gr, t.val, t.len);
            while ((ret = tlv_next (&gr, &g)) > 0)
              if (g.tag == RL_RESOURCE)
                rl->resource = (int) tlv_u64 (&g);
              else if (g.tag == RL_SOFT)
                rl->soft = tlv_u64 (&g);
              else if (g.tag == RL_HARD)
                rl->hard = tlv_u64 (&g);
            if (ret < 0)
              return malformed (err, "rlimit");
            break;
          }
        case PLAN_CAPS: p->caps.val = t.val; p->caps.len = t.len; break;
        case PLAN_OOM_SCORE_ADJ: p->has_oom_score_adj = true; p->oom_score_adj = (int64_t) tlv_u64 (&t); break;
        case PLAN_SECCOMP: p->seccomp.val = t.val; p->seccomp.len = t.len; break;
        case PLAN_APPARMOR: p->apparmor = tlv_strdup (&t); break;
        case PLAN_SELINUX_LABEL: p->selinux_label = tlv_strdup (&t); break;
        case PLAN_PERSONALITY: p->has_personality = true; p->personality = tlv_u64 (&t); break;
        case PLAN_IOPRIO: p->ioprio.val = t.val; p->ioprio.len = t.len; break;
        case PLAN_SCHEDULER: p->scheduler.val = t.val; p->scheduler.len = t.len; break;
        case PLAN_HOOK:
          ret = decode_hook (PUSH (p->hooks, p->n_hooks), &t, err);
          if (ret < 0)
            return ret;
          break;
        case PLAN_HOOK_STATE: p->hook_state = tlv_strdup (&t); break;
        case PLAN_HOOK_STATE_START: p->hook_state_start = tlv_strdup (&t); break;
        case PLAN_PRESERVE_FDS: p->preserve_fds = tlv_u64 (&t); break;
        case PLAN_CONSOLE_SOCKET: p->console_socket = (int) tlv_u64 (&t); break;
        case PLAN_JOIN_PID: p->join_pid = (pid_t) tlv_u64 (&t); break;
        case PLAN_TIME_OFFSET:
          {
            struct time_offset *to = PUSH (p->time_offsets, p->n_time_offsets);
            tlv_reader_init (&gr, t.val, t.len);
            while ((ret = tlv_next (&gr, &g)) > 0)
              if (g.tag == TOFF_CLOCK)
                to->clock = tlv_strdup (&g);
              else if (g.tag == TOFF_SECS)
                to->secs = (int64_t) tlv_u64 (&g);
              else if (g.tag == TOFF_NANOSECS)
                to->nsecs = tlv_u64 (&g);
            if (ret < 0 || to->clock == NULL)
              return malformed (err, "time offset");
            break;
          }
        case PLAN_MOUNT_LABEL: p->mount_label = tlv_strdup (&t); break;
        case PLAN_PID_FILE: p->pid_file = tlv_strdup (&t); break;
        case PLAN_CPU_AFFINITY: p->cpu_affinity = tlv_strdup (&t); break;
        case PLAN_SECCOMP_LISTENER: p->seccomp_listener = tlv_strdup (&t); break;
        case PLAN_SECCOMP_STATE: p->seccomp_state = tlv_strdup (&t); break;
        default: break; /* unknown tags are ignored: newer TS, older shim */
        }
      if (ret < 0)
        return malformed (err, "group");
    }
  if (ret < 0)
    return malformed (err, "list");
  if (version != 1)
    return shim_fail (err, EINVAL, "plan", NULL, "plan: protocol version %llu, the shim speaks 1",
                      (unsigned long long) version);
  strv_init (&p->args);
  strv_init (&p->env);
  /* a create plan without a process is a container that can never start
     (config.json without "process": `tsrun start` refuses it) */
  if (p->args.n == 0 && p->join_pid > 0)
    return shim_fail (err, EINVAL, "plan", NULL, "plan: process.args is empty");
  if (p->cwd == NULL)
    p->cwd = strdup ("/");
  return 0;
}
