/* terminal.c - the container's pty; the master goes to the console socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "protocol.h"
#include "shim.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO ('T', 0x41)
#endif

static int
send_fd (int sock, int fd, const char *name, struct shim_error *err)
{
  struct iovec iov = { .iov_base = (void *) name, .iov_len = strlen (name) };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  memset (&u, 0, sizeof u);
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cm), &fd, sizeof (int));
  ssize_t r;
  do
    r = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return shim_fail (err, errno, "terminal", NULL, "send the pty master to the console socket: %s", strerror (errno));
  return 0;
}

int
terminal_setup (struct ctx *c, bool console, struct shim_error *err)
{
  struct plan *p = c->plan;
  char name[64];
  int ret;
  if (p->console_socket < 0)
    return shim_fail (err, EINVAL, "terminal", NULL, "terminal requested but no console socket given");
  int master = open ("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 && errno == ENOENT)
    master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return shim_fail_errno (err, "terminal", "/dev/pts/ptmx");
  int unlock = 0, n;
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0 || ioctl (master, TIOCGPTN, &n) < 0)
    {
      ret = shim_fail (err, errno, "terminal", "/dev/pts/ptmx", "unlockpt: %s", strerror (errno));
      goto fail;
    }
  snprintf (name, sizeof name, "/dev/pts/%d", n);
  int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    {
      ret = shim_fail_errno (err, "terminal", name);
      goto fail;
    }
  if (console)
    {
      int f = open ("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (f >= 0)
        close (f);
      if (f < 0 || mount (name, "/dev/console", NULL, MS_BIND, NULL) < 0)
        {
          ret = shim_fail (err, errno, "mount", "/dev/console", "mount bind to \"/dev/console\": %s", strerror (errno));
          close (slave);
          goto fail;
        }
    }
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    {
      ret = shim_fail (err, errno, "terminal", name, "TIOCSCTTY \"%s\": %s", name, strerror (errno));
      close (slave);
      goto fail;
    }
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (slave, fd) < 0)
      {
        ret = shim_fail (err, errno, "terminal", name, "dup2 the pty to %d: %s", fd, strerror (errno));
        close (slave);
        goto fail;
      }
  close (slave);
  ret = send_fd (p->console_socket, master, name, err);
  if (ret < 0)
    goto fail;
  close (master);
  close (p->console_socket);
  p->console_socket = -1;
  return 0;
fail:
  close (master);
  return ret;
}
