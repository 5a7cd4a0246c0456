/*
 * error.h - how shim functions report failure, in crun's style: every function
 * that can fail returns int (< 0 on failure) and fills a struct shim_error, so
 * each call site is a single `if (ret < 0) return ret;`.
 */
#ifndef TSRUN_ERROR_H
#define TSRUN_ERROR_H

#include <stddef.h>

struct shim_error {
  int errnum;          /* errno of the failing syscall, 0 when none */
  char step[48];       /* "mount", "pivot_root", "exec", ... */
  char path[512];      /* the path involved, may be empty */
  char msg[1024];      /* the complete message shown to the user */
};

/* Fill err and return -1.  With fmt == NULL the message is
 * `<step> "<path>": <strerror(errnum)>` (or `<step>: <strerror>` without a path).
 * With fmt, the message is the formatted text. */
int shim_fail (struct shim_error *err, int errnum, const char *step, const char *path,
               const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

/* shim_fail with errno as errnum and the default message. */
int shim_fail_errno (struct shim_error *err, const char *step, const char *path);

#endif
