/*
 * front.c - bin/tsrun: the command line, and the fallback to Node.
 *
 * Taken here: `[globals] state|start|kill|delete|rm ID` (kill: [SIGNAL],
 * delete: --force/-f), globals --root, --data-dir, --log, --log-format
 * (text|json) anywhere on the line, as src/cli/fast.ts parses them; and
 * `[globals] create|run [--bundle|-b B] [--pid-file F] [-d|--detach (run)]
 * ID` for a replay (replay.c), the id last (not run -d with a terminal as
 * stdout).  Anything
 * else execs `node <dir of bin/tsrun>/../dist/tsrun.js ARGS...` unchanged.
 * TSRUN_FRONT_TRACE=1 prints the path taken to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front.h"
#include "replay.h"

#define DEFAULT_ROOT "/run/tsrun"
#define MAX_ID_LENGTH 1024

extern char **environ;

static int trace;

void
front_trace (const char *what, const char *detail)
{
  if (trace)
    dprintf (2, "tsrun-front: %s%s%s\n", what, detail && *detail ? ": " : "", detail ? detail : "");
}

int
front_find_top (char *top, size_t size)
{
  char self[PATH_MAX];
  ssize_t n;
  char *slash;
  int i;

  top[0] = '\0';
  n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return -1;
  self[n] = '\0';
  /* <top>/bin/tsrun -> <top>/dist/tsrun.js (also from <top>/native-shim/build/tsrun) */
  for (i = 0; i < 3; i++)
    {
      char candidate[PATH_MAX + 32];
      slash = strrchr (self, '/');
      if (slash == NULL)
        break;
      *slash = '\0';
      if (i == 0)
        continue;
      snprintf (candidate, sizeof candidate, "%s/dist/tsrun.js", self);
      if (top[0] == '\0' || access (candidate, F_OK) == 0)
        snprintf (top, size, "%s", self);
      if (access (candidate, F_OK) == 0)
        return 0;
    }
  return -1;
}

/* execv(node, [node, <top>/dist/tsrun.js, args...]); never returns. */
void
front_exec_node (int argc, char **argv)
{
  char top[PATH_MAX], script[PATH_MAX + 32], node[PATH_MAX];
  const char *path = getenv ("PATH");
  char **args;
  int i, found = 0;

  if (front_find_top (top, sizeof top) < 0 && top[0] == '\0')
    {
      dprintf (2, "tsrun: readlink /proc/self/exe: %s\n", strerror (errno ? errno : ENOENT));
      _exit (127);
    }
  snprintf (script, sizeof script, "%s/dist/tsrun.js", top);

  /* PATH as env(1) searches it */
  if (path == NULL)
    path = "/usr/local/bin:/usr/bin:/bin";
  while (!found)
    {
      const char *end = strchrnul (path, ':');
      size_t len = (size_t) (end - path);
      struct stat st;
      if (len == 0)
        snprintf (node, sizeof node, "node");
      else
        snprintf (node, sizeof node, "%.*s/node", (int) len, path);
      if (access (node, X_OK) == 0 && stat (node, &st) == 0 && S_ISREG (st.st_mode))
        found = 1;
      if (*end == '\0')
        break;
      path = end + 1;
    }
  if (!found)
    {
      dprintf (2, "tsrun: node not found in PATH (the TypeScript CLI runs on it)\n");
      _exit (127);
    }

  args = calloc ((size_t) argc + 2, sizeof *args);
  if (args == NULL)
    _exit (127);
  args[0] = node;
  args[1] = script;
  for (i = 1; i < argc; i++)
    args[i + 1] = argv[i];
  execv (node, args);
  dprintf (2, "tsrun: exec \"%s\": %s\n", node, strerror (errno));
  _exit (127);
}

/* id.ts validateId, to decide only: an id it refuses goes to TypeScript for the message. */
static int
valid_id (const char *id)
{
  size_t i, len = strlen (id);
  if (len == 0 || len > MAX_ID_LENGTH)
    return 0;
  for (i = 0; i < len; i++)
    {
      char ch = id[i];
      int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
      if (!alnum && (i == 0 || (ch != '_' && ch != '+' && ch != '-' && ch != '.')))
        return 0;
    }
  return 1;
}

/* A root path.join would not normalize differently from the kernel: no ".." component. */
static int
plain_root (const char *root)
{
  const char *p = root;
  while ((p = strstr (p, "..")) != NULL)
    {
      if ((p == root || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
        return 0;
      p += 2;
    }
  return 1;
}

/* A string flag of create/run (after the verb): &c->bundle or &c->pid_file, else NULL. */
static const char **
create_flag (struct front_call *c, const char *a, size_t nlen)
{
  if (c->verb == NULL || (strcmp (c->verb, "create") != 0 && strcmp (c->verb, "run") != 0))
    return NULL;
  if ((nlen == 8 && strncmp (a, "--bundle", 8) == 0) || (nlen == 2 && strncmp (a, "-b", 2) == 0))
    return &c->bundle;
  if (nlen == 10 && strncmp (a, "--pid-file", 10) == 0)
    return &c->pid_file;
  return NULL;
}

/* fast.ts parseFast, narrowed to what the front takes. */
static int
parse_args (int argc, char **argv, struct front_call *c, struct front_why *why)
{
  const char *positionals[3];
  int npos = 0, i, id_at = 0;
  int seen_root = 0, seen_data = 0, seen_log = 0, seen_format = 0, seen_force = 0, seen_detach = 0;

  memset (c, 0, sizeof *c);
  c->root = DEFAULT_ROOT;
  for (i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (a[0] == '-')
        {
          const char *eq = strchr (a, '=');
          size_t nlen = eq && eq > a ? (size_t) (eq - a) : strlen (a);
          const char *value = NULL;
          const char **slot = create_flag (c, a, nlen);
          int *seen = NULL;
          if (nlen == 6 && strncmp (a, "--root", 6) == 0)
            seen = &seen_root;
          else if (nlen == 10 && strncmp (a, "--data-dir", 10) == 0)
            seen = &seen_data;
          else if (nlen == 5 && strncmp (a, "--log", 5) == 0)
            seen = &seen_log;
          else if (nlen == 12 && strncmp (a, "--log-format", 12) == 0)
            seen = &seen_format;
          if (seen || slot)
            {
              if (eq && eq > a)
                value = eq + 1;
              else if (i + 1 < argc && argv[i + 1][0] != '-')
                value = argv[++i];
              else
                return front_fail (why, "%s without a value", a);
              if (seen ? *seen : *slot != NULL)
                return front_fail (why, "%.*s given twice", (int) nlen, a);
              if (seen)
                *seen = 1;
              if (*value == '\0')
                return front_fail (why, "%.*s is empty", (int) nlen, a);
              if (seen == &seen_format && strcmp (value, "text") != 0 && strcmp (value, "json") != 0)
                return front_fail (why, "--log-format %s", value);
              if (seen == &seen_root)
                c->root = value;
              if (seen == &seen_data)
                c->data_dir = value;
              if (seen == &seen_log)
                c->log = value;
              if (seen == &seen_format)
                c->log_format = value;
              if (slot)
                *slot = value;
              continue;
            }
          if (c->verb && strcmp (c->verb, "delete") == 0 && (strcmp (a, "--force") == 0 || strcmp (a, "-f") == 0))
            {
              if (seen_force++)
                return front_fail (why, "--force given twice");
              c->force = 1;
              continue;
            }
          if (c->verb && strcmp (c->verb, "kill") == 0 && (strcmp (a, "--all") == 0 || strcmp (a, "-a") == 0))
            {
              if (c->all++)
                return front_fail (why, "--all given twice");
              continue;
            }
          if (c->verb && strcmp (c->verb, "run") == 0 && (strcmp (a, "--detach") == 0 || strcmp (a, "-d") == 0))
            {
              if (seen_detach++)
                return front_fail (why, "--detach given twice");
              c->detach = 1;
              continue;
            }
          return front_fail (why, "flag %s", a);
        }
      if (c->verb == NULL)
        {
          if (strcmp (a, "state") == 0 || strcmp (a, "start") == 0 || strcmp (a, "kill") == 0
              || strcmp (a, "delete") == 0 || strcmp (a, "create") == 0 || strcmp (a, "run") == 0)
            c->verb = a;
          else if (strcmp (a, "rm") == 0)
            c->verb = "delete";
          else
            return front_fail (why, "command \"%s\"", a);
          continue;
        }
      if (npos == 3)
        return front_fail (why, "too many arguments");
      if (npos == 0)
        id_at = i;
      positionals[npos++] = a;
    }
  if (c->verb == NULL)
    return front_fail (why, "no command");
  if (npos < 1 || npos > (strcmp (c->verb, "kill") == 0 ? 2 : 1))
    return front_fail (why, "%d arguments for %s", npos, c->verb);
  c->id = positionals[0];
  if (npos == 2)
    {
      c->signal = positionals[1];
      if (*c->signal == '\0')
        return front_fail (why, "empty signal");
    }
  if (!valid_id (c->id))
    return front_fail (why, "id \"%s\"", c->id);
  if (strcmp (c->verb, "create") == 0 || strcmp (c->verb, "run") == 0)
    {
      /* run: the words after the id are the command (flags too); create: a
       * flag after the id is for yargs to take or refuse */
      if (id_at != argc - 1)
        return front_fail (why, "%s: arguments after the id", c->verb);
      /* --log/--log-format: a create that succeeds logs nothing (Node's
       * neither: only --debug would), so they are not replay inputs; the
       * replay passes them to any Node it runs */
      /* run -d by a person at a terminal: TypeScript sends the output to
       * the log instead (src/cli/commands/run.ts logsByDefault); a replay
       * would give the container this terminal */
      if (c->detach && isatty (1))
        return front_fail (why, "run -d with a terminal as stdout");
      if (c->bundle == NULL)
        c->bundle = ".";
      /* replay.c normalizes the root and sets c->dir */
      return 0;
    }
  if (!plain_root (c->root))
    return front_fail (why, "root \"%s\" has a \"..\"", c->root);
  if ((size_t) snprintf (c->dir, sizeof c->dir, "%s/%s", c->root, c->id) >= sizeof c->dir - 64)
    return front_fail (why, "path too long");
  return 0;
}

/* The test crash points (TSRUN_TEST_*) are TypeScript's, but the replay's
 * own (TSRUN_TEST_REPLAY_KILL_AT, replay.c kill_point); TSRUN_SHIM names
 * another shim than the one a replay record was made with; TSRUN_NO_REPLAY
 * turns replays off. */
static int
check_env (const struct front_call *c, struct front_why *why)
{
  int replay = strcmp (c->verb, "create") == 0 || strcmp (c->verb, "run") == 0;
  char **e;
  for (e = environ; *e; e++)
    if ((strncmp (*e, "TSRUN_TEST_", 11) == 0 && !(replay && strncmp (*e, "TSRUN_TEST_REPLAY_KILL_AT=", 26) == 0))
        || (replay && (strncmp (*e, "TSRUN_SHIM=", 11) == 0 || strncmp (*e, "TSRUN_NO_REPLAY=", 16) == 0)))
      return front_fail (why, "%.*s is set", (int) strcspn (*e, "="), *e);
  return 0;
}

int
main (int argc, char **argv)
{
  struct front_call c;
  struct front_why why = { { 0 } };
  const char *t = getenv ("TSRUN_FRONT_TRACE");
  char *inputs_hex = NULL;
  int ret;

  trace = t != NULL && *t != '\0' && strcmp (t, "0") != 0;
  /* another user than root, or root of a user namespace that is not the
     host's: Node, always (its defaults are per-user dirs, and a replay record
     must never serve another user than the one it was made by) */
  if (geteuid () != 0)
    ret = front_fail (&why, "not root");
  else
    ret = front_host_userns (&why);
  if (ret == 0)
    ret = parse_args (argc, argv, &c, &why);
  if (ret == 0)
    ret = check_env (&c, &why);
  if (ret == 0)
    {
      if (strcmp (c.verb, "state") == 0)
        ret = front_state (&c, &why);
      else if (strcmp (c.verb, "start") == 0)
        ret = front_start (&c, &why);
      else if (strcmp (c.verb, "kill") == 0)
        ret = front_kill (&c, &why);
      else if (strcmp (c.verb, "delete") == 0)
        ret = front_delete (&c, &why);
      else
        ret = front_replay (&c, &inputs_hex, &why);
    }
  if (ret >= 0)
    {
      if (strcmp (c.verb, "create") == 0 || strcmp (c.verb, "run") == 0)
        {
          char code[32];
          snprintf (code, sizeof code, "exit %d", ret);
          front_trace ("replayed", code);
        }
      else
        front_trace (ret == 0 ? "fast" : "failed", c.verb);
      return ret;
    }
  front_trace ("node", why.text);
  /* a replay ignores SIGPIPE while it talks to the shim; Node starts as from a shell */
  signal (SIGPIPE, SIG_DFL);
  /* TSRUN_REPLAY only after a replay miss or undo: then Node records what it does */
  if (inputs_hex != NULL)
    setenv (REPLAY_ENV, inputs_hex, 1);
  else
    unsetenv (REPLAY_ENV);
  front_exec_node (argc, argv);
}
