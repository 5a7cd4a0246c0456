#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol.h"
#include "tlv.h"

static uint16_t
get16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t
get32 (const uint8_t *p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static void
put16 (uint8_t *p, uint16_t v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static void
put32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

void
tlv_reader_init (struct tlv_reader *r, const uint8_t *buf, size_t len)
{
  r->p = buf;
  r->end = buf + len;
}

int
tlv_next (struct tlv_reader *r, struct tlv *t)
{
  if (r->p == r->end)
    return 0;
  if ((size_t) (r->end - r->p) < TSRUN_TLV_HEADER_LEN)
    return -1;
  t->tag = get16 (r->p);
  t->len = get32 (r->p + 2);
  if ((size_t) (r->end - r->p - TSRUN_TLV_HEADER_LEN) < t->len)
    return -1;
  t->val = r->p + TSRUN_TLV_HEADER_LEN;
  r->p = t->val + t->len;
  return 1;
}

uint64_t
tlv_u64 (const struct tlv *t)
{
  uint64_t v = 0;
  for (uint32_t i = 0; i < t->len && i < 8; i++)
    v |= (uint64_t) t->val[i] << (8 * i);
  return v;
}

char *
tlv_strdup (const struct tlv *t)
{
  char *s = malloc (t->len + 1);
  if (s == NULL)
    abort ();
  memcpy (s, t->val, t->len);
  s[t->len] = '\0';
  return s;
}

void
tlvb_put (struct tlv_buf *b, uint16_t tag, const void *val, uint32_t len)
{
  size_t need = b->len + TSRUN_TLV_HEADER_LEN + len;
  if (need > b->cap)
    {
      size_t cap = b->cap ? b->cap * 2 : 256;
      while (cap < need)
        cap *= 2;
      b->data = realloc (b->data, cap);
      if (b->data == NULL)
        abort ();
      b->cap = cap;
    }
  put16 (b->data + b->len, tag);
  put32 (b->data + b->len + 2, len);
  if (len)
    memcpy (b->data + b->len + TSRUN_TLV_HEADER_LEN, val, len);
  b->len = need;
}

void
tlvb_u64 (struct tlv_buf *b, uint16_t tag, uint64_t v)
{
  uint8_t le[8];
  for (int i = 0; i < 8; i++)
    le[i] = (v >> (8 * i)) & 0xff;
  tlvb_put (b, tag, le, 8);
}

void
tlvb_str (struct tlv_buf *b, uint16_t tag, const char *s)
{
  tlvb_put (b, tag, s, (uint32_t) strlen (s));
}

void
tlvb_free (struct tlv_buf *b)
{
  free (b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

int
fd_write_all (int fd, const void *buf, size_t n)
{
  const uint8_t *p = buf;
  while (n > 0)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      p += w;
      n -= (size_t) w;
    }
  return 0;
}

/* 1 on success, 0 on EOF before the first byte, -1 on error or short read. */
static int
read_all (int fd, uint8_t *p, size_t n)
{
  size_t got = 0;
  while (got < n)
    {
      ssize_t r = read (fd, p + got, n - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -1;
      if (r == 0)
        {
          if (got == 0)
            return 0;
          errno = EPIPE;
          return -1;
        }
      got += (size_t) r;
    }
  return 1;
}

int
frame_write (int fd, uint16_t msg, const void *payload, uint32_t len, struct shim_error *err)
{
  /* one write(2) for the whole frame, so that frames from two processes
     sharing the socket never interleave */
  uint8_t stackbuf[4096];
  size_t total = TSRUN_FRAME_HEADER_LEN + (size_t) len;
  uint8_t *buf = total <= sizeof stackbuf ? stackbuf : malloc (total);
  if (buf == NULL)
    abort ();
  put32 (buf, len);
  put16 (buf + 4, msg);
  put16 (buf + 6, 0);
  if (len)
    memcpy (buf + TSRUN_FRAME_HEADER_LEN, payload, len);
  int ret = fd_write_all (fd, buf, total);
  if (buf != stackbuf)
    free (buf);
  if (ret < 0)
    return shim_fail_errno (err, "write control socket", NULL);
  return 0;
}

int
frame_read (int fd, uint16_t *msg, uint8_t **payload, uint32_t *len, struct shim_error *err)
{
  uint8_t hdr[TSRUN_FRAME_HEADER_LEN];
  int ret = read_all (fd, hdr, sizeof hdr);
  if (ret == 0)
    return 0;
  if (ret < 0)
    return shim_fail_errno (err, "read control socket", NULL);
  *len = get32 (hdr);
  *msg = get16 (hdr + 4);
  if (*len > TSRUN_MAX_FRAME_LEN)
    return shim_fail (err, EINVAL, "read control socket", NULL, "read control socket: frame of %u bytes is too large", *len);
  *payload = malloc (*len ? *len : 1);
  if (*payload == NULL)
    abort ();
  if (*len && read_all (fd, *payload, *len) != 1)
    {
      free (*payload);
      *payload = NULL;
      return shim_fail (err, errno ? errno : EPIPE, "read control socket", NULL, "read control socket: truncated frame");
    }
  return 1;
}
