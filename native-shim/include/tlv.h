/*
 * tlv.h - reading and writing the frames and TLV lists defined in protocol.h.
 */
#ifndef TSRUN_TLV_H
#define TSRUN_TLV_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct tlv {
  uint16_t tag;
  uint32_t len;
  const uint8_t *val;
};

struct tlv_reader {
  const uint8_t *p;
  const uint8_t *end;
};

void tlv_reader_init (struct tlv_reader *r, const uint8_t *buf, size_t len);
/* 1: *t holds the next entry; 0: end of list; -1: malformed (entry overruns the list). */
int tlv_next (struct tlv_reader *r, struct tlv *t);
/* The value as an integer (8 bytes little endian; shorter values are zero-extended). */
uint64_t tlv_u64 (const struct tlv *t);
/* A malloc'd NUL-terminated copy of the value (never NULL: aborts on OOM). */
char *tlv_strdup (const struct tlv *t);

/* A growable buffer for building a TLV list. */
struct tlv_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
};
void tlvb_put (struct tlv_buf *b, uint16_t tag, const void *val, uint32_t len);
void tlvb_u64 (struct tlv_buf *b, uint16_t tag, uint64_t v);
void tlvb_str (struct tlv_buf *b, uint16_t tag, const char *s);
void tlvb_free (struct tlv_buf *b);

/* All of buf to fd, retrying on EINTR and short writes: 0, or -1 with errno
 * (the front end uses it too). */
int fd_write_all (int fd, const void *buf, size_t n);

/* Frames: u32 payload_len | u16 msg | u16 0 | payload.  Both retry on EINTR and
 * handle short reads/writes.  frame_read returns 0 on a clean EOF before any
 * byte, 1 on a frame (payload malloc'd, caller frees), -1 on error/truncation. */
int frame_write (int fd, uint16_t msg, const void *payload, uint32_t len, struct shim_error *err);
int frame_read (int fd, uint16_t *msg, uint8_t **payload, uint32_t *len, struct shim_error *err);

#endif
