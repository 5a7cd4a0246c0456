/*
 * fileio.h - the small process and file helpers the shim (src/) and the C
 * front end (front/) both need; src/fileio.c, linked into both.
 */
#ifndef TSRUN_FILEIO_H
#define TSRUN_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* The whole file, malloc'd and NUL-terminated, of at most max bytes:
 * 0, or -errno (-EFBIG when longer than max).  len_out may be NULL. */
int read_whole_file (const char *path, char **out, size_t *len_out, size_t max);

/* A wait status as a shell reports it: the exit code, 128 + the signal, else 1. */
int exit_code (int status);

/* waitpid(2) for pid, again after EINTR: exit_code of its status; 1 when waitpid fails. */
int wait_exit_code (pid_t pid);

#endif /* TSRUN_FILEIO_H */
