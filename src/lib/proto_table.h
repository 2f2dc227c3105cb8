/* Wire protocol codec, inside src/lib: the table-driven machinery the
 * typed messages share (proto_table.c).  Most messages are a fixed set of
 * attributes, each stored in one field of the message's struct; each has a
 * table of rows, and proto_decode_msg / proto_encode_msg do the work. */
#ifndef NU_PROTO_TABLE_H
#define NU_PROTO_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* A set of small values (roles, verdicts, result codes): below 32. */
#define BIT(v) (UINT32_C(1) << (v))
/* A set of attribute types, which are below 64. */
typedef uint64_t attr_set;
#define ABIT(t) (UINT64_C(1) << (t))
#define HAS(seen, t) (((seen) & ABIT(t)) != 0)

enum attr_kind {
	KIND_U8,	/* uint8_t field */
	KIND_U32,	/* uint32_t field */
	KIND_U64,	/* uint64_t field */
	KIND_STR,	/* char array of size bytes, NUL-terminated */
	KIND_FLOW,	/* struct nu_flow field */
	KIND_BYTES,	/* const uint8_t * into the message, length at len_off */
	KIND_FIXED,	/* uint8_t array of exactly size bytes (a digest) */
};

enum {
	ATTR_MANDATORY	= 1 << 0,	/* decode: must be present; encode: always sent */
	ATTR_NONEMPTY	= 1 << 1,	/* decode: an empty string is BAD_ATTR */
	ATTR_ASKED	= 1 << 2,	/* encode: sent only when the caller asks */
};

struct attr_row {
	uint16_t type;		/* NU_ATTR_*; 0 ends a table */
	enum attr_kind kind;
	unsigned flags;		/* ATTR_* */
	size_t off;		/* offsetof the field in the message struct */
	size_t size;		/* sizeof the field; BYTES: the most bytes taken */
	uint32_t allowed;	/* U8: BIT(v) for each valid value v; 0: any */
	size_t len_off;		/* BYTES: offsetof the size_t receiving the length */
};

/* Takes the offset and size from the struct itself, so that a string's
 * capacity can never disagree with its declaration. */
#define ROW(attr, k, fl, st, field)					\
	.type = (attr), .kind = (k), .flags = (fl),			\
	.off = offsetof(st, field), .size = sizeof(((st *)0)->field)

enum nu_proto_status proto_msg_open(const uint8_t *msg, size_t len,
				    uint8_t type1, uint8_t type2,
				    struct nu_msg_header *hdr,
				    struct nu_attr_iter *it);
bool proto_field_ok(const char *s, size_t cap);
enum nu_proto_status proto_decode_attrs(struct nu_attr_iter *it,
					const struct attr_row *tab, void *base,
					attr_set *seen);
enum nu_proto_status proto_decode_msg(const uint8_t *msg, size_t len,
				      uint8_t type, const struct attr_row *tab,
				      void *base, uint32_t *id, attr_set *seen);
bool proto_attrs_sendable(const struct attr_row *tab, const void *base);
void proto_put_attrs(struct nu_msg_writer *w, const struct attr_row *tab,
		     const void *base, attr_set asked);
enum nu_proto_status proto_encode_msg(uint8_t *buf, size_t cap, uint8_t type,
				      uint32_t id, const struct attr_row *tab,
				      const void *base, attr_set asked,
				      size_t *out_len);

#endif
