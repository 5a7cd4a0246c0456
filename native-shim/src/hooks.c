/* hooks.c - createContainer / startContainer hooks run by the shim. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"
#include "shim.h"

static int
run_hook (const char *s, struct hook *h, const char *kind, struct shim_error *err)
{
  /* the state goes through a memfd, not a pipe: no SIGPIPE and no deadlock
     when the hook does not read its stdin */
  int state = memfd_create ("hook-state", MFD_CLOEXEC);
  if (state < 0)
    return shim_fail (err, errno, "hook", h->path, "%s hook \"%s\": memfd_create: %s", kind, h->path, strerror (errno));
  if (s == NULL)
    s = "";
  size_t len = strlen (s);
  while (len > 0)
    {
      ssize_t w = write (state, s, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          close (state);
          return shim_fail (err, errno, "hook", h->path, "%s hook \"%s\": write state: %s", kind, h->path,
                            strerror (errno));
        }
      s += w;
      len -= (size_t) w;
    }
  lseek (state, 0, SEEK_SET);

  pid_t pid = fork ();
  if (pid < 0)
    {
      close (state);
      return shim_fail (err, errno, "hook", h->path, "%s hook \"%s\": fork: %s", kind, h->path, strerror (errno));
    }
  if (pid == 0)
    {
      if (dup2 (state, 0) < 0)
        _exit (127);
      execve (h->path, h->args, h->env);
      _exit (127);
    }
  close (state);

  int status = 0;
  if (h->timeout > 0)
    {
      int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
      if (pidfd >= 0)
        {
          struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
          long long ms = (long long) h->timeout * 1000;
          struct timespec t0, t1;
          clock_gettime (CLOCK_MONOTONIC, &t0);
          int r;
          for (;;)
            {
              r = poll (&pfd, 1, ms > 0x7fffffff ? 0x7fffffff : (int) ms);
              if (r >= 0 || errno != EINTR)
                break;
              clock_gettime (CLOCK_MONOTONIC, &t1);
              ms = (long long) h->timeout * 1000 - ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
              if (ms < 0)
                ms = 0;
            }
          close (pidfd);
          if (r == 0)
            {
              kill (pid, SIGKILL);
              while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
                ;
              return shim_fail (err, ETIMEDOUT, "hook", h->path, "%s hook \"%s\": timeout after %llu seconds",
                                kind, h->path, (unsigned long long) h->timeout);
            }
        }
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return shim_fail (err, errno, "hook", h->path, "%s hook \"%s\": wait: %s", kind, h->path, strerror (errno));
  if (WIFEXITED (status) && WEXITSTATUS (status) != 0)
    return shim_fail (err, 0, "hook", h->path, "%s hook \"%s\": exit status %d", kind, h->path, WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return shim_fail (err, 0, "hook", h->path, "%s hook \"%s\": killed by signal %d", kind, h->path,
                      WTERMSIG (status));
  return 0;
}

int
hooks_run (struct plan *p, int kind, struct shim_error *err)
{
  const char *name = kind == HOOK_KIND_CREATE_CONTAINER ? "createContainer" : "startContainer";
  const char *state = kind == HOOK_KIND_START_CONTAINER && p->hook_state_start ? p->hook_state_start : p->hook_state;
  for (size_t i = 0; i < p->n_hooks; i++)
    if (p->hooks[i].kind == kind)
      {
        int ret = run_hook (state, &p->hooks[i], name, err);
        if (ret < 0)
          return ret;
      }
  return 0;
}
