/* Wire protocol codec: framing, attribute writer and iterator, and the typed
 * messages.  See proto.h for the layout and doc/protocol.md for the rules.
 *
 * The writer keeps w->len <= w->cap at all times; a put that would not fit
 * sets the sticky overflow flag and writes nothing.  The iterator checks each
 * attribute header and value against the bytes left before exposing it. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "proto.h"

/* FLOW value sizes: family, proto, sport, dport, then two addresses. */
#define FLOW_FIXED_LEN	6
#define FLOW_V4_LEN	(FLOW_FIXED_LEN + 2 * 4)
#define FLOW_V6_LEN	(FLOW_FIXED_LEN + 2 * 16)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

const char *nu_proto_strerror(enum nu_proto_status status)
{
	switch (status) {
	case NU_PROTO_OK:
		return "ok";
	case NU_PROTO_TRUNCATED:
		return "truncated message";
	case NU_PROTO_BAD_VERSION:
		return "unsupported protocol version";
	case NU_PROTO_BAD_LEN:
		return "bad message length";
	case NU_PROTO_BAD_ATTR:
		return "malformed attribute or unexpected message type";
	case NU_PROTO_MISSING_ATTR:
		return "mandatory attribute missing";
	case NU_PROTO_NO_SPACE:
		return "message does not fit";
	}
	return "unknown protocol status";
}

const char *nu_msg_type_name(uint8_t type)
{
	switch (type) {
	case NU_MSG_HELLO:
		return "HELLO";
	case NU_MSG_ERROR:
		return "ERROR";
	case NU_MSG_KEEPALIVE:
		return "KEEPALIVE";
	case NU_MSG_PACKET_ASK:
		return "PACKET_ASK";
	case NU_MSG_DECISION:
		return "DECISION";
	case NU_MSG_CONN_END:
		return "CONN_END";
	case NU_MSG_LOGOUT:
		return "LOGOUT";
	case NU_MSG_CONN_DESTROY:
		return "CONN_DESTROY";
	case NU_MSG_CONN_EXPIRES:
		return "CONN_EXPIRES";
	case NU_MSG_GW_STATS:
		return "GW_STATS";
	case NU_MSG_AUTH_START:
		return "AUTH_START";
	case NU_MSG_AUTH_STEP:
		return "AUTH_STEP";
	case NU_MSG_AUTH_RESULT:
		return "AUTH_RESULT";
	case NU_MSG_CLIENT_INFO:
		return "CLIENT_INFO";
	case NU_MSG_ANNOUNCE:
		return "ANNOUNCE";
	case NU_MSG_PUSH:
		return "PUSH";
	case NU_MSG_NOTICE:
		return "NOTICE";
	case NU_MSG_NEEDS:
		return "NEEDS";
	}
	return "UNKNOWN";
}

enum nu_proto_status nu_msg_peek_header(const uint8_t *buf, size_t len,
					struct nu_msg_header *hdr)
{
	struct nu_msg_header h;

	if (!buf || len < NU_MSG_HEADER_LEN)
		return NU_PROTO_TRUNCATED;
	h.version = buf[0];
	h.type = buf[1];
	h.length = rd16(buf + 2);
	h.id = rd32(buf + 4);
	if (hdr)
		*hdr = h;
	if (h.version != NU_PROTO_VERSION)
		return NU_PROTO_BAD_VERSION;
	if (h.length < NU_MSG_HEADER_LEN || h.length > NU_MSG_MAX_LEN)
		return NU_PROTO_BAD_LEN;
	return NU_PROTO_OK;
}

/* ---- Encoding --------------------------------------------------------- */

void nu_msg_begin(struct nu_msg_writer *w, uint8_t *buf, size_t cap,
		  uint8_t type, uint32_t id)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
	if (!buf || cap < NU_MSG_HEADER_LEN) {
		w->overflow = true;
		return;
	}
	w->buf[0] = NU_PROTO_VERSION;
	w->buf[1] = type;
	wr16(w->buf + 2, 0);
	wr32(w->buf + 4, id);
	w->len = NU_MSG_HEADER_LEN;
}

/* Appends an attribute header for vlen bytes of value; returns where the
 * value goes, or NULL (and sets overflow) when it does not fit. */
static uint8_t *attr_reserve(struct nu_msg_writer *w, uint16_t attr, size_t vlen)
{
	uint8_t *p;

	if (w->overflow)
		return NULL;
	if (vlen > UINT16_MAX || w->len > w->cap ||
	    w->cap - w->len < NU_ATTR_HEADER_LEN + vlen) {
		w->overflow = true;
		return NULL;
	}
	p = w->buf + w->len;
	wr16(p, attr);
	wr16(p + 2, (uint16_t)vlen);
	w->len += NU_ATTR_HEADER_LEN + vlen;
	return p + NU_ATTR_HEADER_LEN;
}

void nu_msg_put_u8(struct nu_msg_writer *w, uint16_t attr, uint8_t v)
{
	uint8_t *p = attr_reserve(w, attr, 1);

	if (p)
		p[0] = v;
}

void nu_msg_put_u32(struct nu_msg_writer *w, uint16_t attr, uint32_t v)
{
	uint8_t *p = attr_reserve(w, attr, 4);

	if (p)
		wr32(p, v);
}

void nu_msg_put_u64(struct nu_msg_writer *w, uint16_t attr, uint64_t v)
{
	uint8_t *p = attr_reserve(w, attr, 8);

	if (p) {
		wr32(p, (uint32_t)(v >> 32));
		wr32(p + 4, (uint32_t)v);
	}
}

void nu_msg_put_bytes(struct nu_msg_writer *w, uint16_t attr,
		      const void *data, size_t len)
{
	uint8_t *p;

	if (len > 0 && !data) {
		w->overflow = true;
		return;
	}
	p = attr_reserve(w, attr, len);
	if (p && len > 0)
		memcpy(p, data, len);
}

/* A NULL string is sent as the empty string. */
void nu_msg_put_str(struct nu_msg_writer *w, uint16_t attr, const char *s)
{
	nu_msg_put_bytes(w, attr, s ? s : "", s ? strlen(s) : 0);
}

/* A family other than AF_INET / AF_INET6 cannot be encoded: the writer is
 * marked failed, so nu_msg_finish reports NU_PROTO_NO_SPACE. */
void nu_msg_put_flow(struct nu_msg_writer *w, uint16_t attr,
		     const struct nu_flow *flow)
{
	bool v4;
	size_t alen;
	uint8_t *p;

	if (flow->family == AF_INET)
		v4 = true;
	else if (flow->family == AF_INET6)
		v4 = false;
	else {
		w->overflow = true;
		return;
	}
	alen = v4 ? 4 : 16;
	p = attr_reserve(w, attr, FLOW_FIXED_LEN + 2 * alen);
	if (!p)
		return;
	p[0] = v4 ? 4 : 6;
	p[1] = flow->proto;
	wr16(p + 2, flow->sport);
	wr16(p + 4, flow->dport);
	memcpy(p + FLOW_FIXED_LEN, flow->saddr.s6_addr + 16 - alen, alen);
	memcpy(p + FLOW_FIXED_LEN + alen, flow->daddr.s6_addr + 16 - alen, alen);
}

size_t nu_msg_nest_start(struct nu_msg_writer *w, uint16_t attr)
{
	size_t mark = w->len;

	attr_reserve(w, attr, 0);
	return mark;
}

void nu_msg_nest_end(struct nu_msg_writer *w, size_t mark)
{
	size_t vlen;

	if (w->overflow)
		return;
	if (mark > w->len || w->len - mark < NU_ATTR_HEADER_LEN) {
		w->overflow = true;
		return;
	}
	vlen = w->len - mark - NU_ATTR_HEADER_LEN;
	if (vlen > UINT16_MAX) {
		w->overflow = true;
		return;
	}
	wr16(w->buf + mark + 2, (uint16_t)vlen);
}

enum nu_proto_status nu_msg_finish(struct nu_msg_writer *w, size_t *out_len)
{
	if (out_len)
		*out_len = 0;
	if (w->overflow || w->len < NU_MSG_HEADER_LEN || w->len > NU_MSG_MAX_LEN) {
		w->overflow = true;
		return NU_PROTO_NO_SPACE;
	}
	wr16(w->buf + 2, (uint16_t)w->len);
	if (out_len)
		*out_len = w->len;
	return NU_PROTO_OK;
}

/* ---- Decoding ---------------------------------------------------------- */

void nu_attr_iter_init(struct nu_attr_iter *it, const uint8_t *data, size_t len)
{
	it->pos = data;
	it->end = data ? data + len : data;
}

int nu_attr_next(struct nu_attr_iter *it, struct nu_attr *attr)
{
	size_t left;
	uint16_t alen;

	if (it->pos == it->end)
		return 0;
	if (!it->pos || it->pos > it->end)
		return -1;
	left = (size_t)(it->end - it->pos);
	if (left < NU_ATTR_HEADER_LEN)
		return -1;
	alen = rd16(it->pos + 2);
	/* compare lengths, never pointers that could run past end */
	if (alen > left - NU_ATTR_HEADER_LEN)
		return -1;
	attr->type = rd16(it->pos);
	attr->len = alen;
	attr->value = it->pos + NU_ATTR_HEADER_LEN;
	it->pos += NU_ATTR_HEADER_LEN + alen;
	return 1;
}

bool nu_attr_get_u8(const struct nu_attr *a, uint8_t *v)
{
	if (a->len != 1)
		return false;
	*v = a->value[0];
	return true;
}

bool nu_attr_get_u32(const struct nu_attr *a, uint32_t *v)
{
	if (a->len != 4)
		return false;
	*v = rd32(a->value);
	return true;
}

bool nu_attr_get_u64(const struct nu_attr *a, uint64_t *v)
{
	if (a->len != 8)
		return false;
	*v = (uint64_t)rd32(a->value) << 32 | rd32(a->value + 4);
	return true;
}

bool nu_attr_get_flow(const struct nu_attr *a, struct nu_flow *flow)
{
	const uint8_t *p = a->value;
	struct nu_flow f;
	uint32_t v4;

	if (a->len < FLOW_FIXED_LEN)
		return false;
	memset(&f, 0, sizeof(f));
	f.proto = p[1];
	f.sport = rd16(p + 2);
	f.dport = rd16(p + 4);
	p += FLOW_FIXED_LEN;
	if (a->value[0] == 4 && a->len == FLOW_V4_LEN) {
		f.family = AF_INET;
		memcpy(&v4, p, 4);
		nu_addr_from_v4(&f.saddr, v4);
		memcpy(&v4, p + 4, 4);
		nu_addr_from_v4(&f.daddr, v4);
	} else if (a->value[0] == 6 && a->len == FLOW_V6_LEN) {
		f.family = AF_INET6;
		memcpy(f.saddr.s6_addr, p, 16);
		memcpy(f.daddr.s6_addr, p + 16, 16);
	} else {
		return false;
	}
	*flow = f;
	return true;
}

bool nu_attr_get_str(const struct nu_attr *a, char *dst, size_t cap)
{
	if (!dst || cap == 0 || a->len > cap - 1)
		return false;
	if (a->len > 0 && memchr(a->value, '\0', a->len))
		return false;
	if (a->len > 0)
		memcpy(dst, a->value, a->len);
	dst[a->len] = '\0';
	return true;
}

/* ---- Typed messages ---------------------------------------------------- *
 * Most messages are a fixed set of attributes, each stored in one field of
 * the message's struct.  Each such message has a table of rows (attribute,
 * kind, field, mandatory or not) ending with a zero row, and decode_attrs /
 * put_attrs below do the work for every table.  What does not fit a row
 * (the header id, has_* flags, cross-field checks, ANNOUNCE's nesting) is
 * written by hand in the message's own functions. */

/* Checks the framing of a whole message of the given type and points the
 * iterator at its attributes.  A buffer shorter than the header's length is
 * TRUNCATED, a longer one BAD_LEN; a message of another type is BAD_ATTR. */
static enum nu_proto_status msg_open(const uint8_t *msg, size_t len,
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

/* A set of small values (roles, verdicts, result codes): below 32. */
#define BIT(v) (UINT32_C(1) << (v))
/* A set of attribute types, which are below 64. */
typedef uint64_t attr_set;
#define ABIT(t) (UINT64_C(1) << (t))
#define HAS(seen, t) (((seen) & ABIT(t)) != 0)

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
static bool field_ok(const char *s, size_t cap)
{
	return strnlen(s, cap) < cap;
}

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
static enum nu_proto_status decode_attrs(struct nu_attr_iter *it,
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
static enum nu_proto_status decode_msg(const uint8_t *msg, size_t len,
				       uint8_t type, const struct attr_row *tab,
				       void *base, uint32_t *id, attr_set *seen)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	enum nu_proto_status st;
	attr_set unused;

	st = msg_open(msg, len, type, type, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	if (id)
		*id = hdr.id;
	return decode_attrs(&it, tab, base, seen ? seen : &unused);
}

/* False when a field cannot be sent: a string that is not NUL-terminated
 * within its array, or a flow whose family the wire cannot carry. */
static bool attrs_sendable(const struct attr_row *tab, const void *base)
{
	const struct attr_row *d;
	const void *f;
	const struct nu_flow *flow;

	for (d = tab; d->type != 0; d++) {
		f = (const uint8_t *)base + d->off;
		flow = f;
		if (d->kind == KIND_STR && !field_ok(f, d->size))
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

/* Appends the wanted rows in table order.  Call attrs_sendable first. */
static void put_attrs(struct nu_msg_writer *w, const struct attr_row *tab,
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
static enum nu_proto_status encode_msg(uint8_t *buf, size_t cap, uint8_t type,
				       uint32_t id, const struct attr_row *tab,
				       const void *base, attr_set asked,
				       size_t *out_len)
{
	struct nu_msg_writer w;

	if (out_len)
		*out_len = 0;
	if (!attrs_sendable(tab, base))
		return NU_PROTO_BAD_ATTR;
	nu_msg_begin(&w, buf, cap, type, id);
	put_attrs(&w, tab, base, asked);
	return nu_msg_finish(&w, out_len);
}

/* ---- HELLO ---- */

#define ROLES	(BIT(NU_ROLE_GATEWAY) | BIT(NU_ROLE_CLIENT) | BIT(NU_ROLE_SERVER))

static const struct attr_row hello_attrs[] = {
	{ ROW(NU_ATTR_VERSION_MIN, KIND_U8, ATTR_MANDATORY, struct nu_hello, version_min) },
	{ ROW(NU_ATTR_VERSION_MAX, KIND_U8, ATTR_MANDATORY, struct nu_hello, version_max) },
	{ ROW(NU_ATTR_ROLE, KIND_U8, ATTR_MANDATORY, struct nu_hello, role),
	  .allowed = ROLES },
	{ ROW(NU_ATTR_SOFTWARE, KIND_STR, 0, struct nu_hello, software) },
	{ ROW(NU_ATTR_MECH_LIST, KIND_STR, 0, struct nu_hello, mech_list) },
	{ .type = 0 }
};

enum nu_proto_status nu_hello_encode(uint8_t *buf, size_t cap,
				     const struct nu_hello *m, size_t *out_len)
{
	return encode_msg(buf, cap, NU_MSG_HELLO, 0, hello_attrs, m, 0, out_len);
}

enum nu_proto_status nu_hello_decode(const uint8_t *msg, size_t len,
				     struct nu_hello *m)
{
	enum nu_proto_status st;

	memset(m, 0, sizeof(*m));
	st = decode_msg(msg, len, NU_MSG_HELLO, hello_attrs, m, NULL, NULL);
	if (st == NU_PROTO_OK && m->version_min > m->version_max)
		return NU_PROTO_BAD_ATTR;
	return st;
}

/* ---- ERROR and KEEPALIVE ---- */

/* Text longer than NU_TEXT_MAX - 1 bytes is cut: an error report should
 * never fail to be sent because of its wording. */
enum nu_proto_status nu_error_encode(uint8_t *buf, size_t cap, const char *text,
				     size_t *out_len)
{
	struct nu_msg_writer w;
	const char *t = text ? text : "";

	nu_msg_begin(&w, buf, cap, NU_MSG_ERROR, 0);
	nu_msg_put_bytes(&w, NU_ATTR_TEXT, t, strnlen(t, NU_TEXT_MAX - 1));
	return nu_msg_finish(&w, out_len);
}

/* The caller's buffer is the only field, so its row is built here.  Without
 * a buffer the row points at a dummy of capacity 0, which refuses any TEXT
 * (BAD_ATTR) while a missing TEXT is still MISSING_ATTR. */
enum nu_proto_status nu_error_decode(const uint8_t *msg, size_t len,
				     char *text, size_t cap)
{
	char none;
	const struct attr_row text_attrs[] = {
		{ .type = NU_ATTR_TEXT, .kind = KIND_STR, .flags = ATTR_MANDATORY,
		  .off = 0, .size = text ? cap : 0 },
		{ .type = 0 }
	};

	if (text && cap > 0)
		text[0] = '\0';
	return decode_msg(msg, len, NU_MSG_ERROR, text_attrs,
			  text ? text : &none, NULL, NULL);
}

enum nu_proto_status nu_keepalive_encode(uint8_t *buf, size_t cap, uint32_t id,
					 size_t *out_len)
{
	struct nu_msg_writer w;

	nu_msg_begin(&w, buf, cap, NU_MSG_KEEPALIVE, id);
	return nu_msg_finish(&w, out_len);
}

enum nu_proto_status nu_logout_encode(uint8_t *buf, size_t cap, size_t *out_len)
{
	struct nu_msg_writer w;

	nu_msg_begin(&w, buf, cap, NU_MSG_LOGOUT, 0);
	return nu_msg_finish(&w, out_len);
}

/* ---- PACKET_ASK and DECISION ---- */

/* ICMP_TYPE is ATTR_ASKED rather than "sent when non-zero": it goes with
 * ICMP packets only, where 0 (echo reply) is a real type. */
static const struct attr_row packet_ask_attrs[] = {
	{ ROW(NU_ATTR_FLOW, KIND_FLOW, ATTR_MANDATORY, struct nu_packet_ask, flow) },
	{ ROW(NU_ATTR_MARK, KIND_U32, 0, struct nu_packet_ask, mark) },
	{ ROW(NU_ATTR_ICMP_TYPE, KIND_U8, ATTR_ASKED, struct nu_packet_ask, icmp_type) },
	{ ROW(NU_ATTR_INDEV, KIND_STR, 0, struct nu_packet_ask, indev) },
	{ ROW(NU_ATTR_OUTDEV, KIND_STR, 0, struct nu_packet_ask, outdev) },
	{ ROW(NU_ATTR_PHYSINDEV, KIND_STR, 0, struct nu_packet_ask, physindev) },
	{ ROW(NU_ATTR_PHYSOUTDEV, KIND_STR, 0, struct nu_packet_ask, physoutdev) },
	{ .type = 0 }
};

enum nu_proto_status nu_packet_ask_encode(uint8_t *buf, size_t cap,
					  const struct nu_packet_ask *m,
					  size_t *out_len)
{
	attr_set asked = 0;

	if (m->flow.proto == IPPROTO_ICMP || m->flow.proto == IPPROTO_ICMPV6)
		asked |= ABIT(NU_ATTR_ICMP_TYPE);
	return encode_msg(buf, cap, NU_MSG_PACKET_ASK, m->packet_id,
			  packet_ask_attrs, m, asked, out_len);
}

enum nu_proto_status nu_packet_ask_decode(const uint8_t *msg, size_t len,
					  struct nu_packet_ask *m)
{
	memset(m, 0, sizeof(*m));
	return decode_msg(msg, len, NU_MSG_PACKET_ASK, packet_ask_attrs, m,
			  &m->packet_id, NULL);
}

/* An unknown verdict value is BAD_ATTR: a gateway must never guess.  MARK is
 * sent when has_mark says so (a new mark of 0 is meaningful). */
#define VERDICTS (BIT(NU_VERDICT_DROP) | BIT(NU_VERDICT_ACCEPT) | BIT(NU_VERDICT_REJECT))

static const struct attr_row decision_attrs[] = {
	{ ROW(NU_ATTR_VERDICT, KIND_U8, ATTR_MANDATORY, struct nu_decision, verdict),
	  .allowed = VERDICTS },
	{ ROW(NU_ATTR_MARK, KIND_U32, ATTR_ASKED, struct nu_decision, mark) },
	{ ROW(NU_ATTR_EXPIRES, KIND_U32, ATTR_ASKED, struct nu_decision, expires_in) },
	{ .type = 0 }
};

enum nu_proto_status nu_decision_encode(uint8_t *buf, size_t cap,
					const struct nu_decision *m,
					size_t *out_len)
{
	return encode_msg(buf, cap, NU_MSG_DECISION, m->packet_id,
			  decision_attrs, m,
			  (m->has_mark ? ABIT(NU_ATTR_MARK) : 0) |
			  (m->has_expires ? ABIT(NU_ATTR_EXPIRES) : 0), out_len);
}

enum nu_proto_status nu_decision_decode(const uint8_t *msg, size_t len,
					struct nu_decision *m)
{
	enum nu_proto_status st;
	attr_set seen = 0;

	memset(m, 0, sizeof(*m));
	st = decode_msg(msg, len, NU_MSG_DECISION, decision_attrs, m,
			&m->packet_id, &seen);
	m->has_mark = HAS(seen, NU_ATTR_MARK);
	m->has_expires = HAS(seen, NU_ATTR_EXPIRES);
	return st;
}

/* ---- AUTH_START, AUTH_STEP and AUTH_RESULT ---- */

enum nu_proto_status nu_auth_start_encode(uint8_t *buf, size_t cap,
					  const char *mech, const uint8_t *data,
					  size_t data_len, bool has_data,
					  size_t *out_len)
{
	struct nu_msg_writer w;

	if (out_len)
		*out_len = 0;
	if (!mech || !field_ok(mech, NU_NAME_MAX) || mech[0] == '\0' ||
	    (has_data && data_len > NU_SASL_DATA_MAX))
		return NU_PROTO_BAD_ATTR;
	nu_msg_begin(&w, buf, cap, NU_MSG_AUTH_START, 0);
	nu_msg_put_str(&w, NU_ATTR_MECH, mech);
	if (has_data)
		nu_msg_put_bytes(&w, NU_ATTR_SASL_DATA, data, data_len);
	return nu_msg_finish(&w, out_len);
}

enum nu_proto_status nu_auth_step_encode(uint8_t *buf, size_t cap,
					 const uint8_t *data, size_t data_len,
					 size_t *out_len)
{
	struct nu_msg_writer w;

	if (out_len)
		*out_len = 0;
	if (data_len > NU_SASL_DATA_MAX)
		return NU_PROTO_BAD_ATTR;
	nu_msg_begin(&w, buf, cap, NU_MSG_AUTH_STEP, 0);
	nu_msg_put_bytes(&w, NU_ATTR_SASL_DATA, data, data_len);
	return nu_msg_finish(&w, out_len);
}

/* SASL_DATA points into the message; it may be empty, so has_data (set from
 * the attributes seen) tells "empty" from "absent". */
#define SASL_DATA_ROW(fl)						\
	{ .type = NU_ATTR_SASL_DATA, .kind = KIND_BYTES, .flags = (fl),	\
	  .off = offsetof(struct nu_auth, data), .size = NU_SASL_DATA_MAX, \
	  .len_off = offsetof(struct nu_auth, data_len) }

static const struct attr_row auth_start_attrs[] = {
	{ ROW(NU_ATTR_MECH, KIND_STR, ATTR_MANDATORY | ATTR_NONEMPTY, struct nu_auth, mech) },
	SASL_DATA_ROW(0),
	{ .type = 0 }
};

/* No MECH row: in AUTH_STEP a MECH attribute is skipped like any unknown. */
static const struct attr_row auth_step_attrs[] = {
	SASL_DATA_ROW(ATTR_MANDATORY),
	{ .type = 0 }
};

/* Reads AUTH_START and AUTH_STEP; the caller tells them apart by the header
 * type. */
enum nu_proto_status nu_auth_decode(const uint8_t *msg, size_t len,
				    struct nu_auth *m)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	enum nu_proto_status st;
	attr_set seen;

	memset(m, 0, sizeof(*m));
	st = msg_open(msg, len, NU_MSG_AUTH_START, NU_MSG_AUTH_STEP, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	st = decode_attrs(&it, hdr.type == NU_MSG_AUTH_START ?
			  auth_start_attrs : auth_step_attrs, m, &seen);
	m->has_data = HAS(seen, NU_ATTR_SASL_DATA);
	return st;
}

#define AUTH_CODES (BIT(NU_AUTH_OK) | BIT(NU_AUTH_FAILED) | BIT(NU_AUTH_ERROR) | \
		    BIT(NU_AUTH_OTHER_MECH))

static const struct attr_row auth_result_attrs[] = {
	{ ROW(NU_ATTR_RESULT, KIND_U8, ATTR_MANDATORY, struct nu_auth_result, result),
	  .allowed = AUTH_CODES },
	{ ROW(NU_ATTR_USER, KIND_STR, 0, struct nu_auth_result, user) },
	{ ROW(NU_ATTR_TEXT, KIND_STR, 0, struct nu_auth_result, text) },
	{ .type = 0 }
};

enum nu_proto_status nu_auth_result_encode(uint8_t *buf, size_t cap,
					   const struct nu_auth_result *m,
					   size_t *out_len)
{
	return encode_msg(buf, cap, NU_MSG_AUTH_RESULT, 0, auth_result_attrs,
			  m, 0, out_len);
}

enum nu_proto_status nu_auth_result_decode(const uint8_t *msg, size_t len,
					   struct nu_auth_result *m)
{
	memset(m, 0, sizeof(*m));
	return decode_msg(msg, len, NU_MSG_AUTH_RESULT, auth_result_attrs, m,
			  NULL, NULL);
}

/* ---- CLIENT_INFO ---- */

/* OS_SYSNAME is mandatory (and so sent even when empty); OS_RELEASE and
 * OS_VERSION are optional. */
static const struct attr_row client_info_attrs[] = {
	{ ROW(NU_ATTR_OS_SYSNAME, KIND_STR, ATTR_MANDATORY, struct nu_client_info, sysname) },
	{ ROW(NU_ATTR_OS_RELEASE, KIND_STR, 0, struct nu_client_info, release) },
	{ ROW(NU_ATTR_OS_VERSION, KIND_STR, 0, struct nu_client_info, version) },
	{ .type = 0 }
};

enum nu_proto_status nu_client_info_encode(uint8_t *buf, size_t cap,
					   const struct nu_client_info *m,
					   size_t *out_len)
{
	return encode_msg(buf, cap, NU_MSG_CLIENT_INFO, 0, client_info_attrs,
			  m, 0, out_len);
}

enum nu_proto_status nu_client_info_decode(const uint8_t *msg, size_t len,
					   struct nu_client_info *m)
{
	memset(m, 0, sizeof(*m));
	return decode_msg(msg, len, NU_MSG_CLIENT_INFO, client_info_attrs, m,
			  NULL, NULL);
}

/* ---- ANNOUNCE ---- */

/* The value of one CONN attribute: FLOW mandatory, APP and APP_SHA256
 * optional (the hash is sent when has_app_sha256 says so). */
static const struct attr_row conn_attrs[] = {
	{ ROW(NU_ATTR_FLOW, KIND_FLOW, ATTR_MANDATORY, struct nu_announce_conn, flow) },
	{ ROW(NU_ATTR_APP, KIND_STR, 0, struct nu_announce_conn, app) },
	{ ROW(NU_ATTR_APP_SHA256, KIND_FIXED, ATTR_ASKED, struct nu_announce_conn, app_sha256) },
	{ .type = 0 }
};

void nu_announce_begin(struct nu_msg_writer *w, uint8_t *buf, size_t cap)
{
	nu_msg_begin(w, buf, cap, NU_MSG_ANNOUNCE, 0);
}

/* Rolls back to the previous length on failure, so that the message stays
 * complete and sendable.  A writer that had already overflowed is left as
 * it was.  The connection also counts as not fitting when the message would
 * pass NU_MSG_MAX_LEN, so nu_msg_finish cannot fail for that reason. */
bool nu_announce_add(struct nu_msg_writer *w, const struct nu_announce_conn *c)
{
	size_t saved = w->len, mark;

	if (w->overflow || !attrs_sendable(conn_attrs, c))
		return false;
	mark = nu_msg_nest_start(w, NU_ATTR_CONN);
	put_attrs(w, conn_attrs, c, c->has_app_sha256 ? ABIT(NU_ATTR_APP_SHA256) : 0);
	nu_msg_nest_end(w, mark);
	if (w->overflow || w->len > NU_MSG_MAX_LEN) {
		w->len = saved;
		w->overflow = false;
		return false;
	}
	return true;
}

enum nu_proto_status nu_announce_iter_init(struct nu_announce_iter *it,
					   const uint8_t *msg, size_t len)
{
	struct nu_msg_header hdr;
	enum nu_proto_status st;

	nu_attr_iter_init(&it->attrs, NULL, 0);
	st = msg_open(msg, len, NU_MSG_ANNOUNCE, NU_MSG_ANNOUNCE, &hdr, &it->attrs);
	if (st != NU_PROTO_OK)
		nu_attr_iter_init(&it->attrs, NULL, 0);
	return st;
}

bool nu_announce_add_not_mine(struct nu_msg_writer *w, const struct nu_flow *flow)
{
	size_t saved = w->len;

	if (w->overflow || (flow->family != AF_INET && flow->family != AF_INET6))
		return false;
	nu_msg_put_flow(w, NU_ATTR_NOT_MINE, flow);
	if (w->overflow || w->len > NU_MSG_MAX_LEN) {
		w->len = saved;
		w->overflow = false;
		return false;
	}
	return true;
}

/* Top-level attributes other than CONN and NOT_MINE are skipped.  After -1
 * the iterator keeps answering -1. */
int nu_announce_next_item(struct nu_announce_iter *it, struct nu_announce_conn *c,
			  bool *not_mine)
{
	struct nu_attr_iter conn;
	struct nu_attr a;
	attr_set seen;
	int rc;

	while ((rc = nu_attr_next(&it->attrs, &a)) == 1) {
		if (a.type == NU_ATTR_NOT_MINE) {
			memset(c, 0, sizeof(*c));
			if (!nu_attr_get_flow(&a, &c->flow)) {
				it->attrs.pos = NULL;
				return -1;
			}
			*not_mine = true;
			return 1;
		}
		if (a.type != NU_ATTR_CONN)
			continue;
		memset(c, 0, sizeof(*c));
		nu_attr_iter_init(&conn, a.value, a.len);
		if (decode_attrs(&conn, conn_attrs, c, &seen) != NU_PROTO_OK) {
			/* a NULL position keeps nu_attr_next answering -1 */
			it->attrs.pos = NULL;
			return -1;
		}
		c->has_app_sha256 = HAS(seen, NU_ATTR_APP_SHA256);
		*not_mine = false;
		return 1;
	}
	return rc;
}

int nu_announce_next(struct nu_announce_iter *it, struct nu_announce_conn *c)
{
	bool not_mine;
	int rc;

	while ((rc = nu_announce_next_item(it, c, &not_mine)) == 1 && not_mine)
		;
	return rc;
}

/* ---- CONN_END and CONN_DESTROY ---- */

static const struct attr_row conn_end_attrs[] = {
	{ ROW(NU_ATTR_FLOW, KIND_FLOW, ATTR_MANDATORY, struct nu_conn_end, flow) },
	{ ROW(NU_ATTR_MARK, KIND_U32, 0, struct nu_conn_end, mark) },
	{ ROW(NU_ATTR_PACKETS_OUT, KIND_U64, 0, struct nu_conn_end, packets_out) },
	{ ROW(NU_ATTR_BYTES_OUT, KIND_U64, 0, struct nu_conn_end, bytes_out) },
	{ ROW(NU_ATTR_PACKETS_IN, KIND_U64, 0, struct nu_conn_end, packets_in) },
	{ ROW(NU_ATTR_BYTES_IN, KIND_U64, 0, struct nu_conn_end, bytes_in) },
	{ .type = 0 }
};

enum nu_proto_status nu_conn_end_encode(uint8_t *buf, size_t cap,
					const struct nu_conn_end *m, size_t *out_len)
{
	return encode_msg(buf, cap, NU_MSG_CONN_END, 0, conn_end_attrs, m, 0, out_len);
}

enum nu_proto_status nu_conn_end_decode(const uint8_t *msg, size_t len,
					struct nu_conn_end *m)
{
	memset(m, 0, sizeof(*m));
	return decode_msg(msg, len, NU_MSG_CONN_END, conn_end_attrs, m, NULL, NULL);
}

static const struct attr_row flow_only_attrs[] = {
	{ .type = NU_ATTR_FLOW, .kind = KIND_FLOW, .flags = ATTR_MANDATORY,
	  .off = 0, .size = sizeof(struct nu_flow) },
	{ .type = 0 }
};

enum nu_proto_status nu_conn_destroy_encode(uint8_t *buf, size_t cap,
					    const struct nu_flow *flow, size_t *out_len)
{
	return encode_msg(buf, cap, NU_MSG_CONN_DESTROY, 0, flow_only_attrs, flow, 0, out_len);
}

enum nu_proto_status nu_conn_destroy_decode(const uint8_t *msg, size_t len,
					    struct nu_flow *flow)
{
	memset(flow, 0, sizeof(*flow));
	return decode_msg(msg, len, NU_MSG_CONN_DESTROY, flow_only_attrs, flow, NULL, NULL);
}

static const struct attr_row conn_expires_attrs[] = {
	{ ROW(NU_ATTR_FLOW, KIND_FLOW, ATTR_MANDATORY, struct nu_conn_expires, flow) },
	{ ROW(NU_ATTR_EXPIRES, KIND_U32, ATTR_ASKED, struct nu_conn_expires, expires_in) },
	{ .type = 0 }
};

enum nu_proto_status nu_conn_expires_encode(uint8_t *buf, size_t cap,
					    const struct nu_conn_expires *m, size_t *out_len)
{
	return encode_msg(buf, cap, NU_MSG_CONN_EXPIRES, 0, conn_expires_attrs, m,
			  m->has_expires ? ABIT(NU_ATTR_EXPIRES) : 0, out_len);
}

enum nu_proto_status nu_conn_expires_decode(const uint8_t *msg, size_t len,
					    struct nu_conn_expires *m)
{
	enum nu_proto_status st;
	attr_set seen = 0;

	memset(m, 0, sizeof(*m));
	st = decode_msg(msg, len, NU_MSG_CONN_EXPIRES, conn_expires_attrs, m, NULL, &seen);
	m->has_expires = HAS(seen, NU_ATTR_EXPIRES);
	return st;
}

/* ---- GW_STATS ---- */

static const struct attr_row gw_stats_attrs[] = {
	{ ROW(NU_ATTR_QUEUE, KIND_U32, ATTR_MANDATORY, struct nu_gw_stats, queue) },
	{ ROW(NU_ATTR_STAT_ASKED, KIND_U64, 0, struct nu_gw_stats, asked) },
	{ ROW(NU_ATTR_STAT_ACCEPTED, KIND_U64, 0, struct nu_gw_stats, accepted) },
	{ ROW(NU_ATTR_STAT_DROPPED, KIND_U64, 0, struct nu_gw_stats, dropped) },
	{ ROW(NU_ATTR_STAT_REJECTED, KIND_U64, 0, struct nu_gw_stats, rejected) },
	{ ROW(NU_ATTR_STAT_TIMEOUTS, KIND_U64, 0, struct nu_gw_stats, timeouts) },
	{ ROW(NU_ATTR_STAT_OVERRUNS, KIND_U64, 0, struct nu_gw_stats, overruns) },
	{ ROW(NU_ATTR_STAT_KERNEL_QUEUE_FULL, KIND_U64, 0, struct nu_gw_stats,
	      kernel_queue_full) },
	{ ROW(NU_ATTR_STAT_KERNEL_FAILED, KIND_U64, 0, struct nu_gw_stats, kernel_failed) },
	{ .type = 0 }
};

enum nu_proto_status nu_gw_stats_encode(uint8_t *buf, size_t cap,
					const struct nu_gw_stats *m, size_t *out_len)
{
	return encode_msg(buf, cap, NU_MSG_GW_STATS, 0, gw_stats_attrs, m, 0, out_len);
}

enum nu_proto_status nu_gw_stats_decode(const uint8_t *msg, size_t len,
					struct nu_gw_stats *m)
{
	memset(m, 0, sizeof(*m));
	return decode_msg(msg, len, NU_MSG_GW_STATS, gw_stats_attrs, m, NULL, NULL);
}

/* ---- PUSH ---- */

enum nu_proto_status nu_push_encode(uint8_t *buf, size_t cap,
				    const struct nu_flow *flow_or_null,
				    size_t *out_len)
{
	struct nu_msg_writer w;

	if (out_len)
		*out_len = 0;
	if (flow_or_null && flow_or_null->family != AF_INET &&
	    flow_or_null->family != AF_INET6)
		return NU_PROTO_BAD_ATTR;
	nu_msg_begin(&w, buf, cap, NU_MSG_PUSH, 0);
	if (flow_or_null)
		nu_msg_put_flow(&w, NU_ATTR_FLOW, flow_or_null);
	return nu_msg_finish(&w, out_len);
}

/* The flow is the whole "struct" here: one row at offset 0. */
static const struct attr_row push_attrs[] = {
	{ .type = NU_ATTR_FLOW, .kind = KIND_FLOW, .off = 0,
	  .size = sizeof(struct nu_flow) },
	{ .type = 0 }
};

enum nu_proto_status nu_push_decode(const uint8_t *msg, size_t len,
				    bool *has_flow, struct nu_flow *flow)
{
	enum nu_proto_status st;
	attr_set seen = 0;

	memset(flow, 0, sizeof(*flow));
	st = decode_msg(msg, len, NU_MSG_PUSH, push_attrs, flow, NULL, &seen);
	*has_flow = st == NU_PROTO_OK && HAS(seen, NU_ATTR_FLOW);
	return st;
}

/* ---- NOTICE ---- */

/* Only refusals are noticed: an accept here is a confused sender. */
static const struct attr_row notice_attrs[] = {
	{ ROW(NU_ATTR_FLOW, KIND_FLOW, ATTR_MANDATORY, struct nu_notice, flow) },
	{ ROW(NU_ATTR_VERDICT, KIND_U8, ATTR_MANDATORY, struct nu_notice, verdict),
	  .allowed = BIT(NU_VERDICT_DROP) | BIT(NU_VERDICT_REJECT) },
	{ ROW(NU_ATTR_APP, KIND_STR, 0, struct nu_notice, app) },
	{ ROW(NU_ATTR_TEXT, KIND_STR, 0, struct nu_notice, text) },
	{ .type = 0 }
};

enum nu_proto_status nu_notice_encode(uint8_t *buf, size_t cap,
				      const struct nu_notice *m, size_t *out_len)
{
	if (m->verdict != NU_VERDICT_DROP && m->verdict != NU_VERDICT_REJECT) {
		if (out_len)
			*out_len = 0;
		return NU_PROTO_BAD_ATTR;
	}
	return encode_msg(buf, cap, NU_MSG_NOTICE, 0, notice_attrs, m, 0, out_len);
}

enum nu_proto_status nu_notice_decode(const uint8_t *msg, size_t len,
				      struct nu_notice *m)
{
	memset(m, 0, sizeof(*m));
	return decode_msg(msg, len, NU_MSG_NOTICE, notice_attrs, m, NULL, NULL);
}

/* ---- NEEDS ---- */

static const struct attr_row needs_attrs[] = {
	{ .type = NU_ATTR_NEEDS, .kind = KIND_U32, .flags = ATTR_MANDATORY,
	  .off = 0, .size = sizeof(uint32_t) },
	{ .type = 0 }
};

enum nu_proto_status nu_needs_encode(uint8_t *buf, size_t cap, uint32_t needs,
				     size_t *out_len)
{
	return encode_msg(buf, cap, NU_MSG_NEEDS, 0, needs_attrs, &needs, 0, out_len);
}

enum nu_proto_status nu_needs_decode(const uint8_t *msg, size_t len, uint32_t *needs)
{
	*needs = 0;
	return decode_msg(msg, len, NU_MSG_NEEDS, needs_attrs, needs, NULL, NULL);
}
