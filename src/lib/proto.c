/* Wire protocol codec: framing, attribute writer and iterator.  The typed
 * messages are in proto_table.c (what they share), proto_link.c, proto_gw.c
 * and proto_client.c.  See proto.h for the layout and doc/protocol.md for
 * the rules.
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

/* NULL for a type this version does not know. */
static const char *known_type_name(uint8_t type)
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
	case NU_MSG_SESSION_END:
		return "SESSION_END";
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
	return NULL;
}

const char *nu_msg_type_name(uint8_t type)
{
	const char *name = known_type_name(type);

	return name ? name : "UNKNOWN";
}

bool nu_msg_type_known(uint8_t type)
{
	return known_type_name(type) != NULL;
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
