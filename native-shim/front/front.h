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

#include "fileio.h"

#define FRONT_MAX_DIRS 64
#define FRONT_MAX_UPS 512

struct front_why
{
  char text[512];
};

/* Fill why (printf style) and return -1. */
int front_fail (struct front_why *why, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* 0 in the host's user namespace, -1 (why filled) in another (util.c). */
int front_host_userns (struct front_why *why);

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
  const char *write_layer;       /* NULL when none */
  const char *write_layer_owner; /* set with write_layer */
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
  const char *verb; /* "state", "start", "kill", "delete", "create", "run" */
  const char *root;
  const char *id;
  const char *signal;   /* kill: NULL for the default */
  int all;              /* kill --all */
  int force;            /* delete */
  const char *bundle;   /* create/run: as given ("." by default) */
  const char *pid_file; /* create/run: NULL when none */
  int detach;           /* run -d */
  const char *data_dir; /* create/run: --data-dir as given, NULL when none */
  const char *log;        /* --log, NULL when none */
  const char *log_format; /* --log-format, NULL when none */
  char dir[4096];       /* <root>/<id> */
};

int front_state (struct front_call *c, struct front_why *why);
int front_start (struct front_call *c, struct front_why *why);
int front_kill (struct front_call *c, struct front_why *why);
int front_delete (struct front_call *c, struct front_why *why);

/* Signal as src/runtime/signals.ts parseSignal; < 0 for what it refuses. */
int front_parse_signal (const char *s, int *sig);

/* Shared by the verbs and the replay (verbs.c). */
int front_read_proc_stat (long pid, char *state, unsigned long long *start_time);
int front_lock_dir (const char *dir, int *fd_out, int *gone, struct front_why *why);
int front_remove_state_dir (int dirfd, const char *dir, struct front_why *why);

/* Small file and path helpers (util.c). */
void front_sleep_ms (int ms);
/* A small file into buf (NUL-terminated, trailing whitespace trimmed as
 * cgroups/fs.ts readFile does): its length, or -errno. */
int front_read_small (const char *path, char *buf, size_t size);
/* file written as `<file>.<pid>.tmp` + rename, mode 0644 (store.ts writeFileAtomic) */
int front_write_atomic (const char *file, const void *data, size_t len, struct front_why *why);
/* path.resolve of Node: cwd-joined when relative, ".", ".." and repeated
 * or trailing '/' removed; no symlink is resolved.  -1 when too long. */
int front_resolve_path (const char *in, char *out, size_t size);
/* Whether /proc/self/mountinfo has a mount at dir or under it: 1, 0; -1 unreadable. */
int front_mounted_under (const char *dir);
/* rm -r of path (absolute) without following a symlink and without leaving
 * path's file system (another one under it fails); 0 also when path does not exist. */
int front_remove_tree (const char *path, struct front_why *why);

/* front.c: TSRUN_FRONT_TRACE */
void front_trace (const char *what, const char *detail);

/* The checkout's top dir: the one whose dist/tsrun.js runs the TypeScript
 * CLI (bin/tsrun -> <top>, native-shim/build/tsrun -> <top>).  0 when found;
 * -1 otherwise, top then holds the first candidate (for Node's message). */
int front_find_top (char *top, size_t size);

/* exec Node with dist/tsrun.js and argv[1..]; never returns. */
void front_exec_node (int argc, char **argv) __attribute__ ((noreturn));

/* The replay of a recorded create/run (replay.c, replay.h): >= 0 the exit
 * code, all done; < 0 run Node, with TSRUN_REPLAY=*inputs_hex when it is set
 * (a miss, or a replay undone: Node records), without it otherwise. */
int front_replay (struct front_call *c, char **inputs_hex, struct front_why *why);

#endif
