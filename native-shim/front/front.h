/*
 * front.h - the C front end installed as bin/tsrun (issue 6).
 *
 * It answers the plain success cases of `state`, `start`, `kill` and
 * `delete` from the front record TypeScript writes next to state.json
 * (src/runtime/front-record.ts describes the format), and execs Node with
 * dist/tsrun.js, same arguments, for everything else.  Every function that
 * can decide "not the simple case" returns int < 0 and says why in
 * struct front_why (shown with TSRUN_FRONT_TRACE=1); the caller then falls
 * back to Node.  No message for the user is ever made here: errors are
 * TypeScript's.
 */
#ifndef TSRUN_FRONT_H
#define TSRUN_FRONT_H

#include <stddef.h>

#define FRONT_MAX_DIRS 64
#define FRONT_MAX_UPS 512

struct front_why
{
  char text[512];
};

/* Fill why (printf style) and return -1. */
int front_fail (struct front_why *why, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

enum front_freezer
{
  FREEZER_NONE,
  FREEZER_V1,
  FREEZER_V2,
};

struct front_up
{
  int chain;
  const char *dir;
};

/* The parsed front record; every pointer points into buf. */
struct front_record
{
  char *buf;
  long pid;
  unsigned long long start_time;
  enum front_freezer freezer;
  const char *freezer_dir;
  int start_fast;
  int delete_fast;
  const char *rmdirs[FRONT_MAX_DIRS];
  int n_rmdirs;
  struct front_up ups[FRONT_MAX_UPS];
  int n_ups;
  const char *live_head;
  size_t live_head_len;
  const char *live_tail;
  size_t live_tail_len;
  const char *stopped;
  size_t stopped_len;
};

/* Reads and parses <dir>/front (dirfd: the state dir, or -1 to open dir by path). */
int front_record_read (int dirfd, const char *dir, struct front_record *rec, struct front_why *why);

enum front_status
{
  STATUS_CREATED,
  STATUS_RUNNING,
  STATUS_PAUSED,
  STATUS_STOPPED,
};

const char *front_status_name (enum front_status s);

/* deriveStatus + statusOf of src/runtime: /proc/<pid>/stat, the freezer, the exec fifo. */
int front_status (const struct front_record *rec, const char *dir, enum front_status *out, struct front_why *why);

/* Whether pid is the live (not zombie) process that started at start_time (proc.ts isAlive). */
int front_is_alive (long pid, unsigned long long start_time);

/* The verbs: 0 when done (exit 0); < 0 to fall back to Node (before any side
 * effect, or, for delete, after steps Node redoes harmlessly); > 0: the exit
 * code after a failure past the point of no return (start read the byte). */
struct front_call
{
  const char *verb; /* "state", "start", "kill", "delete" */
  const char *root;
  const char *id;
  const char *signal; /* kill: NULL for the default */
  int force;          /* delete */
  char dir[4096];     /* <root>/<id> */
};

int front_state (struct front_call *c, struct front_why *why);
int front_start (struct front_call *c, struct front_why *why);
int front_kill (struct front_call *c, struct front_why *why);
int front_delete (struct front_call *c, struct front_why *why);

/* Signal as src/runtime/signals.ts parseSignal; < 0 for what it refuses. */
int front_parse_signal (const char *s, int *sig);

#endif
