#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int
shim_fail (struct shim_error *err, int errnum, const char *step, const char *path, const char *fmt, ...)
{
  err->errnum = errnum;
  snprintf (err->step, sizeof err->step, "%s", step ? step : "");
  snprintf (err->path, sizeof err->path, "%s", path ? path : "");
  if (fmt)
    {
      va_list ap;
      va_start (ap, fmt);
      vsnprintf (err->msg, sizeof err->msg, fmt, ap);
      va_end (ap);
    }
  else if (path && *path)
    snprintf (err->msg, sizeof err->msg, "%s \"%s\": %s", err->step, path, strerror (errnum));
  else
    snprintf (err->msg, sizeof err->msg, "%s: %s", err->step, strerror (errnum));
  return -1;
}

int
shim_fail_errno (struct shim_error *err, const char *step, const char *path)
{
  return shim_fail (err, errno, step, path, NULL);
}
