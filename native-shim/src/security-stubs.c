/* security-stubs.c - weak no-op versions of security.h, overridden by
 * security.c / seccomp.c when they are linked in. */
#include <stddef.h>
#include <stdint.h>

#include "security.h"

#define WEAK __attribute__ ((weak))

WEAK int
seccomp_prepare (const uint8_t *tlv, size_t len, struct seccomp_filter **out, struct shim_error *err)
{
  (void) tlv, (void) len, (void) err;
  *out = NULL;
  return 0;
}

WEAK int
seccomp_filter_load (struct seccomp_filter *filter, struct shim_error *err)
{
  (void) filter, (void) err;
  return 0;
}

WEAK void
seccomp_filter_free (struct seccomp_filter *filter)
{
  (void) filter;
}

WEAK int
caps_drop_bounding (const uint8_t *tlv, size_t len, struct shim_error *err)
{
  (void) tlv, (void) len, (void) err;
  return 0;
}

WEAK int
caps_apply (const uint8_t *tlv, size_t len, struct shim_error *err)
{
  (void) tlv, (void) len, (void) err;
  return 0;
}

WEAK int
apply_no_new_privs (struct shim_error *err)
{
  (void) err;
  return 0;
}

WEAK int
apply_personality (uint64_t domain, struct shim_error *err)
{
  (void) domain, (void) err;
  return 0;
}

WEAK int
apply_ioprio (const uint8_t *tlv, size_t len, struct shim_error *err)
{
  (void) tlv, (void) len, (void) err;
  return 0;
}

WEAK int
apply_scheduler (const uint8_t *tlv, size_t len, struct shim_error *err)
{
  (void) tlv, (void) len, (void) err;
  return 0;
}

WEAK int
apply_apparmor (const char *profile, struct shim_error *err)
{
  (void) profile, (void) err;
  return 0;
}

WEAK int
apply_selinux_label (const char *label, struct shim_error *err)
{
  (void) label, (void) err;
  return 0;
}
