/* fileio.c - see include/fileio.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"

int
read_whole_file (const char *path, char **out, size_t *len_out, size_t max)
{
  size_t len = 0, cap = 4096;
  char *buf = malloc (cap);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || buf == NULL)
    {
      int e = fd < 0 ? errno : ENOMEM;
      if (fd >= 0)
        close (fd);
      free (buf);
      return -e;
    }
  for (;;)
    {
      ssize_t r;
      if (len + 1 >= cap)
        {
          char *nb = cap >= max ? NULL : realloc (buf, cap * 2);
          if (nb == NULL)
            {
              close (fd);
              free (buf);
              return -EFBIG;
            }
          buf = nb;
          cap *= 2;
        }
      r = read (fd, buf + len, cap - 1 - len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          close (fd);
          free (buf);
          return -e;
        }
      if (r == 0)
        break;
      len += (size_t) r;
    }
  close (fd);
  buf[len] = '\0';
  *out = buf;
  if (len_out)
    *len_out = len;
  return 0;
}

int
exit_code (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return 1;
}

int
wait_exit_code (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return 1;
  return exit_code (status);
}
