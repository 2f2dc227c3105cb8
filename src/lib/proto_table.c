/* Wire protocol codec: the table-driven machinery every typed message
 * shares (proto_table.h).  The messages themselves are in proto_link.c,
 * proto_gw.c and proto_client.c. */
#include "config.h"

#include <string.h>

#include "proto_table.h"

/* ---- Typed messages ---------------------------------------------------- *
 * Most messages are a fixed set of attributes, each stored in one field of
 * the message's struct.  Each such message has a table of rows (attribute,
 * kind, field, mandatory or not) ending with a zero row, and proto_decode_attrs /
 * proto_put_attrs below do the work for every table.  What does not fit a row
 * (the header id, has_* flags, cross-field checks, ANNOUNCE's nesting) is
 * written by hand in the message's own functions. */

/* Checks the framing of a whole message of the given type and points the
 * iterator at its attributes.  A buffer shorter than the header's length is
 * TRUNCATED, a longer one BAD_LEN; a message of another type is BAD_ATTR. */
enum nu_proto_status proto_msg_open(const uint8_t *msg, size_t len,
				    uint8_t type1, uint8_t type2,
				    struct nu_msg_header *hdr,
				    struct nu_attr_iter *it)
{
	enum nu_proto_status st;

	st = nu_msg_peek_header(msg, len, hdr);
	if (st != NU_PROTO_OK)
		return st;
	if (len < hdr->length)
		return NU_PROTO_TRUNCATED;
	if (len > hdr->length)
		return NU_PROTO_BAD_LEN;
	if (hdr->type != type1 && hdr->type != type2)
		return NU_PROTO_BAD_ATTR;
	nu_attr_iter_init(it, msg + NU_MSG_HEADER_LEN,
			  hdr->length - NU_MSG_HEADER_LEN);
	return NU_PROTO_OK;
}

/* Records that attribute type t was seen; false when it was seen before (a
 * repeated attribute is ambiguous and rejected). */
static bool seen_once(attr_set *seen, uint16_t t)
{
	if (t >= 64)
		return true;
	if (HAS(*seen, t))
		return false;
	*seen |= ABIT(t);
	return true;
}

/* True when a fixed-size string field is NUL-terminated within cap. */
bool proto_field_ok(const char *s, size_t cap)
{
	return strnlen(s, cap) < cap;
}

/* Reads attribute a into the field row d describes; false when the value has
 * the wrong size or content (the typed getters check the length). */
static bool get_field(const struct attr_row *d, const struct nu_attr *a,
		      void *base)
{
	void *f = (uint8_t *)base + d->off;
	uint8_t *u8 = f;
	char *str = f;

	switch (d->kind) {
	case KIND_U8:
		return nu_attr_get_u8(a, u8) &&
		       (d->allowed == 0 || (*u8 < 32 && HAS(d->allowed, *u8)));
	case KIND_U32:
		return nu_attr_get_u32(a, f);
	case KIND_U64:
		return nu_attr_get_u64(a, f);
	case KIND_STR:
		return nu_attr_get_str(a, str, d->size) &&
		       (!(d->flags & ATTR_NONEMPTY) || str[0] != '\0');
	case KIND_FLOW:
		return nu_attr_get_flow(a, f);
	case KIND_FIXED:
		if (a->len != d->size)
			return false;
		memcpy(f, a->value, d->size);
		return true;
	case KIND_BYTES:
		/* no copy: the value stays in the caller's message buffer */
		if (a->len > d->size)
			return false;
		*(const uint8_t **)f = a->value;
		*(size_t *)((uint8_t *)base + d->len_off) = a->len;
		return true;
	}
	return false;
}

/* The one decode loop: every attribute the table names is read into its
 * field once (a second copy is BAD_ATTR), attributes it does not name are
 * skipped (their length was still checked by nu_attr_next), and then every
 * mandatory row must have been seen.  *seen returns the types read. */
enum nu_proto_status proto_decode_attrs(struct nu_attr_iter *it,
					const struct attr_row *tab, void *base,
					attr_set *seen)
{
	const struct attr_row *d;
	struct nu_attr a;
	int rc;

	*seen = 0;
	while ((rc = nu_attr_next(it, &a)) == 1) {
		for (d = tab; d->type != 0 && d->type != a.type; d++)
			;	/* find a.type's row */
		if (d->type == 0)
			continue;
		if (!get_field(d, &a, base) || !seen_once(seen, a.type))
			return NU_PROTO_BAD_ATTR;
	}
	if (rc < 0)
		return NU_PROTO_BAD_ATTR;
	for (d = tab; d->type != 0; d++)
		if ((d->flags & ATTR_MANDATORY) && !HAS(*seen, d->type))
			return NU_PROTO_MISSING_ATTR;
	return NU_PROTO_OK;
}

/* Decodes a whole message of one type into base.  When not NULL, *id gets
 * the header id once the framing is good (before the attributes are read),
 * and *seen the attribute types read. */
enum nu_proto_status proto_decode_msg(const uint8_t *msg, size_t len,
				      uint8_t type, const struct attr_row *tab,
				      void *base, uint32_t *id, attr_set *seen)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	enum nu_proto_status st;
	attr_set unused;

	st = proto_msg_open(msg, len, type, type, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	if (id)
		*id = hdr.id;
	return proto_decode_attrs(&it, tab, base, seen ? seen : &unused);
}

/* False when a field cannot be sent: a string that is not NUL-terminated
 * within its array, or a flow whose family the wire cannot carry. */
bool proto_attrs_sendable(const struct attr_row *tab, const void *base)
{
	const struct attr_row *d;
	const void *f;
	const struct nu_flow *flow;

	for (d = tab; d->type != 0; d++) {
		f = (const uint8_t *)base + d->off;
		flow = f;
		if (d->kind == KIND_STR && !proto_field_ok(f, d->size))
			return false;
		if (d->kind == KIND_FLOW &&
		    flow->family != AF_INET && flow->family != AF_INET6)
			return false;
	}
	return true;
}

/* Mandatory rows are always sent and ATTR_ASKED rows when their bit is in
 * asked.  The other optional rows are strings or integers, sent when
 * non-empty or non-zero: the decoder reads an absent one as "" or 0 anyway. */
static bool row_wanted(const struct attr_row *d, const void *f, attr_set asked)
{
	if (d->flags & ATTR_MANDATORY)
		return true;
	if (d->flags & ATTR_ASKED)
		return HAS(asked, d->type);
	if (d->kind == KIND_STR)
		return *(const char *)f != '\0';
	if (d->kind == KIND_U64)
		return *(const uint64_t *)f != 0;
	return d->kind == KIND_U32 && *(const uint32_t *)f != 0;
}

/* Appends the wanted rows in table order.  Call proto_attrs_sendable first. */
void proto_put_attrs(struct nu_msg_writer *w, const struct attr_row *tab,
		     const void *base, attr_set asked)
{
	const struct attr_row *d;
	const void *f;

	for (d = tab; d->type != 0; d++) {
		f = (const uint8_t *)base + d->off;
		if (!row_wanted(d, f, asked))
			continue;
		switch (d->kind) {
		case KIND_U8:
			nu_msg_put_u8(w, d->type, *(const uint8_t *)f);
			break;
		case KIND_U32:
			nu_msg_put_u32(w, d->type, *(const uint32_t *)f);
			break;
		case KIND_U64:
			nu_msg_put_u64(w, d->type, *(const uint64_t *)f);
			break;
		case KIND_STR:
			nu_msg_put_str(w, d->type, f);
			break;
		case KIND_FLOW:
			nu_msg_put_flow(w, d->type, f);
			break;
		case KIND_FIXED:
			nu_msg_put_bytes(w, d->type, f, d->size);
			break;
		case KIND_BYTES:	/* decode only: AUTH_* are encoded by hand */
			w->overflow = true;
			break;
		}
	}
}

/* Encodes a whole message from its table; BAD_ATTR when a field cannot be
 * sent, NO_SPACE when cap is too small. */
enum nu_proto_status proto_encode_msg(uint8_t *buf, size_t cap, uint8_t type,
				      uint32_t id, const struct attr_row *tab,
				      const void *base, attr_set asked,
				      size_t *out_len)
{
	struct nu_msg_writer w;

	if (out_len)
		*out_len = 0;
	if (!proto_attrs_sendable(tab, base))
		return NU_PROTO_BAD_ATTR;
	nu_msg_begin(&w, buf, cap, type, id);
	proto_put_attrs(&w, tab, base, asked);
	return nu_msg_finish(&w, out_len);
}
