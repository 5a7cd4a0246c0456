/*
 * front.c - bin/tsrun: the command line, and the fallback to Node.
 *
 * Taken here: `[globals] state|start|kill|delete|rm ID` (kill: [SIGNAL],
 * delete: --force/-f), globals --root, --data-dir, --log, --log-format
 * (text|json) anywhere on the line, as src/cli/fast.ts parses them.  Anything
 * else execs `node <dir of bin/tsrun>/../dist/tsrun.js ARGS...` unchanged.
 * TSRUN_FRONT_TRACE=1 prints the path taken to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front.h"

#define DEFAULT_ROOT "/run/tsrun"
#define MAX_ID_LENGTH 1024

extern char **environ;

static int trace;

static void
trace_msg (const char *what, const char *detail)
{
  if (trace)
    dprintf (2, "tsrun-front: %s%s%s\n", what, detail && *detail ? ": " : "", detail ? detail : "");
}

/* execv(node, [node, <top>/dist/tsrun.js, args...]); never returns. */
static void __attribute__ ((noreturn))
exec_node (int argc, char **argv)
{
  char self[PATH_MAX], script[PATH_MAX + 32], node[PATH_MAX];
  const char *path = getenv ("PATH");
  char **args;
  ssize_t n;
  char *slash;
  int i, found = 0;

  n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    {
      dprintf (2, "tsrun: readlink /proc/self/exe: %s\n", strerror (n < 0 ? errno : ENOENT));
      _exit (127);
    }
  self[n] = '\0';
  /* <top>/bin/tsrun -> <top>/dist/tsrun.js (also from <top>/native-shim/build/tsrun) */
  script[0] = '\0';
  for (i = 0; i < 3; i++)
    {
      char candidate[sizeof script];
      slash = strrchr (self, '/');
      if (slash == NULL)
        break;
      *slash = '\0';
      if (i == 0)
        continue;
      snprintf (candidate, sizeof candidate, "%s/dist/tsrun.js", self);
      if (script[0] == '\0' || access (candidate, F_OK) == 0)
        strcpy (script, candidate);
      if (access (candidate, F_OK) == 0)
        break;
    }

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

/* fast.ts parseFast, narrowed to what the front takes. */
static int
parse_args (int argc, char **argv, struct front_call *c, struct front_why *why)
{
  const char *positionals[3];
  int npos = 0, i;
  int seen_root = 0, seen_data = 0, seen_log = 0, seen_format = 0, seen_force = 0;

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
          int *seen = NULL;
          if (nlen == 6 && strncmp (a, "--root", 6) == 0)
            seen = &seen_root;
          else if (nlen == 10 && strncmp (a, "--data-dir", 10) == 0)
            seen = &seen_data;
          else if (nlen == 5 && strncmp (a, "--log", 5) == 0)
            seen = &seen_log;
          else if (nlen == 12 && strncmp (a, "--log-format", 12) == 0)
            seen = &seen_format;
          if (seen)
            {
              if (eq && eq > a)
                value = eq + 1;
              else if (i + 1 < argc && argv[i + 1][0] != '-')
                value = argv[++i];
              else
                return front_fail (why, "%s without a value", a);
              if (*seen)
                return front_fail (why, "%.*s given twice", (int) nlen, a);
              *seen = 1;
              if (*value == '\0')
                return front_fail (why, "%.*s is empty", (int) nlen, a);
              if (seen == &seen_format && strcmp (value, "text") != 0 && strcmp (value, "json") != 0)
                return front_fail (why, "--log-format %s", value);
              if (seen == &seen_root)
                c->root = value;
              continue;
            }
          if (c->verb && strcmp (c->verb, "delete") == 0 && (strcmp (a, "--force") == 0 || strcmp (a, "-f") == 0))
            {
              if (seen_force++)
                return front_fail (why, "--force given twice");
              c->force = 1;
              continue;
            }
          return front_fail (why, "flag %s", a);
        }
      if (c->verb == NULL)
        {
          if (strcmp (a, "state") == 0 || strcmp (a, "start") == 0 || strcmp (a, "kill") == 0
              || strcmp (a, "delete") == 0)
            c->verb = a;
          else if (strcmp (a, "rm") == 0)
            c->verb = "delete";
          else
            return front_fail (why, "command \"%s\"", a);
          continue;
        }
      if (npos == 3)
        return front_fail (why, "too many arguments");
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
  if (!plain_root (c->root))
    return front_fail (why, "root \"%s\" has a \"..\"", c->root);
  if ((size_t) snprintf (c->dir, sizeof c->dir, "%s/%s", c->root, c->id) >= sizeof c->dir - 64)
    return front_fail (why, "path too long");
  return 0;
}

/* The test crash points (TSRUN_TEST_*) are TypeScript's. */
static int
check_env (struct front_why *why)
{
  char **e;
  for (e = environ; *e; e++)
    if (strncmp (*e, "TSRUN_TEST_", 11) == 0)
      return front_fail (why, "%.*s is set", (int) strcspn (*e, "="), *e);
  return 0;
}

int
main (int argc, char **argv)
{
  struct front_call c;
  struct front_why why = { { 0 } };
  const char *t = getenv ("TSRUN_FRONT_TRACE");
  int ret;

  trace = t != NULL && *t != '\0' && strcmp (t, "0") != 0;
  ret = parse_args (argc, argv, &c, &why);
  if (ret == 0)
    ret = check_env (&why);
  if (ret == 0)
    {
      if (strcmp (c.verb, "state") == 0)
        ret = front_state (&c, &why);
      else if (strcmp (c.verb, "start") == 0)
        ret = front_start (&c, &why);
      else if (strcmp (c.verb, "kill") == 0)
        ret = front_kill (&c, &why);
      else
        ret = front_delete (&c, &why);
    }
  if (ret >= 0)
    {
      trace_msg (ret == 0 ? "fast" : "failed", c.verb);
      return ret;
    }
  trace_msg ("node", why.text);
  exec_node (argc, argv);
}
