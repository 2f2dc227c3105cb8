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

/* ---- Typed messages ---------------------------------------------------- */

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

/* Records that attribute type t was seen; false when it was seen before (a
 * repeated attribute is ambiguous and rejected). */
static bool seen_once(uint32_t *seen, uint16_t t)
{
	uint32_t bit;

	if (t >= 32)
		return true;
	bit = UINT32_C(1) << t;
	if (*seen & bit)
		return false;
	*seen |= bit;
	return true;
}

#define HAS(seen, t) (((seen) & (UINT32_C(1) << (t))) != 0)

/* True when a fixed-size string field is NUL-terminated within cap. */
static bool field_ok(const char *s, size_t cap)
{
	return strnlen(s, cap) < cap;
}

enum nu_proto_status nu_hello_encode(uint8_t *buf, size_t cap,
				     const struct nu_hello *m, size_t *out_len)
{
	struct nu_msg_writer w;

	if (out_len)
		*out_len = 0;
	if (!field_ok(m->software, sizeof(m->software)) ||
	    !field_ok(m->mech_list, sizeof(m->mech_list)))
		return NU_PROTO_BAD_ATTR;
	nu_msg_begin(&w, buf, cap, NU_MSG_HELLO, 0);
	nu_msg_put_u8(&w, NU_ATTR_VERSION_MIN, m->version_min);
	nu_msg_put_u8(&w, NU_ATTR_VERSION_MAX, m->version_max);
	nu_msg_put_u8(&w, NU_ATTR_ROLE, m->role);
	if (m->software[0])
		nu_msg_put_str(&w, NU_ATTR_SOFTWARE, m->software);
	if (m->mech_list[0])
		nu_msg_put_str(&w, NU_ATTR_MECH_LIST, m->mech_list);
	return nu_msg_finish(&w, out_len);
}

enum nu_proto_status nu_hello_decode(const uint8_t *msg, size_t len,
				     struct nu_hello *m)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	struct nu_attr a;
	enum nu_proto_status st;
	uint32_t seen = 0;
	bool ok;
	int rc;

	memset(m, 0, sizeof(*m));
	st = msg_open(msg, len, NU_MSG_HELLO, NU_MSG_HELLO, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	while ((rc = nu_attr_next(&it, &a)) == 1) {
		switch (a.type) {
		case NU_ATTR_VERSION_MIN:
			ok = nu_attr_get_u8(&a, &m->version_min);
			break;
		case NU_ATTR_VERSION_MAX:
			ok = nu_attr_get_u8(&a, &m->version_max);
			break;
		case NU_ATTR_ROLE:
			ok = nu_attr_get_u8(&a, &m->role) &&
			     m->role >= NU_ROLE_GATEWAY && m->role <= NU_ROLE_SERVER;
			break;
		case NU_ATTR_SOFTWARE:
			ok = nu_attr_get_str(&a, m->software, sizeof(m->software));
			break;
		case NU_ATTR_MECH_LIST:
			ok = nu_attr_get_str(&a, m->mech_list, sizeof(m->mech_list));
			break;
		default:
			continue;
		}
		if (!ok || !seen_once(&seen, a.type))
			return NU_PROTO_BAD_ATTR;
	}
	if (rc < 0)
		return NU_PROTO_BAD_ATTR;
	if (!HAS(seen, NU_ATTR_VERSION_MIN) || !HAS(seen, NU_ATTR_VERSION_MAX) ||
	    !HAS(seen, NU_ATTR_ROLE))
		return NU_PROTO_MISSING_ATTR;
	if (m->version_min > m->version_max)
		return NU_PROTO_BAD_ATTR;
	return NU_PROTO_OK;
}

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

enum nu_proto_status nu_error_decode(const uint8_t *msg, size_t len,
				     char *text, size_t cap)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	struct nu_attr a;
	enum nu_proto_status st;
	uint32_t seen = 0;
	int rc;

	if (text && cap > 0)
		text[0] = '\0';
	st = msg_open(msg, len, NU_MSG_ERROR, NU_MSG_ERROR, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	while ((rc = nu_attr_next(&it, &a)) == 1) {
		if (a.type != NU_ATTR_TEXT)
			continue;
		if (!nu_attr_get_str(&a, text, cap) || !seen_once(&seen, a.type))
			return NU_PROTO_BAD_ATTR;
	}
	if (rc < 0)
		return NU_PROTO_BAD_ATTR;
	if (!HAS(seen, NU_ATTR_TEXT))
		return NU_PROTO_MISSING_ATTR;
	return NU_PROTO_OK;
}

enum nu_proto_status nu_keepalive_encode(uint8_t *buf, size_t cap, uint32_t id,
					 size_t *out_len)
{
	struct nu_msg_writer w;

	nu_msg_begin(&w, buf, cap, NU_MSG_KEEPALIVE, id);
	return nu_msg_finish(&w, out_len);
}

enum nu_proto_status nu_packet_ask_encode(uint8_t *buf, size_t cap,
					  const struct nu_packet_ask *m,
					  size_t *out_len)
{
	struct nu_msg_writer w;

	if (out_len)
		*out_len = 0;
	if ((m->flow.family != AF_INET && m->flow.family != AF_INET6) ||
	    !field_ok(m->indev, sizeof(m->indev)) ||
	    !field_ok(m->outdev, sizeof(m->outdev)))
		return NU_PROTO_BAD_ATTR;
	nu_msg_begin(&w, buf, cap, NU_MSG_PACKET_ASK, m->packet_id);
	nu_msg_put_flow(&w, NU_ATTR_FLOW, &m->flow);
	if (m->mark)
		nu_msg_put_u32(&w, NU_ATTR_MARK, m->mark);
	if (m->flow.proto == IPPROTO_ICMP || m->flow.proto == IPPROTO_ICMPV6)
		nu_msg_put_u8(&w, NU_ATTR_ICMP_TYPE, m->icmp_type);
	if (m->indev[0])
		nu_msg_put_str(&w, NU_ATTR_INDEV, m->indev);
	if (m->outdev[0])
		nu_msg_put_str(&w, NU_ATTR_OUTDEV, m->outdev);
	return nu_msg_finish(&w, out_len);
}

enum nu_proto_status nu_packet_ask_decode(const uint8_t *msg, size_t len,
					  struct nu_packet_ask *m)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	struct nu_attr a;
	enum nu_proto_status st;
	uint32_t seen = 0;
	bool ok;
	int rc;

	memset(m, 0, sizeof(*m));
	st = msg_open(msg, len, NU_MSG_PACKET_ASK, NU_MSG_PACKET_ASK, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	m->packet_id = hdr.id;
	while ((rc = nu_attr_next(&it, &a)) == 1) {
		switch (a.type) {
		case NU_ATTR_FLOW:
			ok = nu_attr_get_flow(&a, &m->flow);
			break;
		case NU_ATTR_MARK:
			ok = nu_attr_get_u32(&a, &m->mark);
			break;
		case NU_ATTR_ICMP_TYPE:
			ok = nu_attr_get_u8(&a, &m->icmp_type);
			break;
		case NU_ATTR_INDEV:
			ok = nu_attr_get_str(&a, m->indev, sizeof(m->indev));
			break;
		case NU_ATTR_OUTDEV:
			ok = nu_attr_get_str(&a, m->outdev, sizeof(m->outdev));
			break;
		default:
			continue;
		}
		if (!ok || !seen_once(&seen, a.type))
			return NU_PROTO_BAD_ATTR;
	}
	if (rc < 0)
		return NU_PROTO_BAD_ATTR;
	if (!HAS(seen, NU_ATTR_FLOW))
		return NU_PROTO_MISSING_ATTR;
	return NU_PROTO_OK;
}

static bool verdict_known(uint8_t v)
{
	return v == NU_VERDICT_DROP || v == NU_VERDICT_ACCEPT ||
	       v == NU_VERDICT_REJECT;
}

enum nu_proto_status nu_decision_encode(uint8_t *buf, size_t cap,
					const struct nu_decision *m,
					size_t *out_len)
{
	struct nu_msg_writer w;

	nu_msg_begin(&w, buf, cap, NU_MSG_DECISION, m->packet_id);
	nu_msg_put_u8(&w, NU_ATTR_VERDICT, m->verdict);
	if (m->has_mark)
		nu_msg_put_u32(&w, NU_ATTR_MARK, m->mark);
	return nu_msg_finish(&w, out_len);
}

/* An unknown verdict value is BAD_ATTR: a gateway must never guess. */
enum nu_proto_status nu_decision_decode(const uint8_t *msg, size_t len,
					struct nu_decision *m)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	struct nu_attr a;
	enum nu_proto_status st;
	uint32_t seen = 0;
	bool ok;
	int rc;

	memset(m, 0, sizeof(*m));
	st = msg_open(msg, len, NU_MSG_DECISION, NU_MSG_DECISION, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	m->packet_id = hdr.id;
	while ((rc = nu_attr_next(&it, &a)) == 1) {
		switch (a.type) {
		case NU_ATTR_VERDICT:
			ok = nu_attr_get_u8(&a, &m->verdict) &&
			     verdict_known(m->verdict);
			break;
		case NU_ATTR_MARK:
			ok = nu_attr_get_u32(&a, &m->mark);
			m->has_mark = ok;
			break;
		default:
			continue;
		}
		if (!ok || !seen_once(&seen, a.type))
			return NU_PROTO_BAD_ATTR;
	}
	if (rc < 0)
		return NU_PROTO_BAD_ATTR;
	if (!HAS(seen, NU_ATTR_VERDICT))
		return NU_PROTO_MISSING_ATTR;
	return NU_PROTO_OK;
}

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

/* Reads AUTH_START and AUTH_STEP; the caller tells them apart by the header
 * type.  MECH is read in AUTH_START only (in AUTH_STEP it is skipped). */
enum nu_proto_status nu_auth_decode(const uint8_t *msg, size_t len,
				    struct nu_auth *m)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	struct nu_attr a;
	enum nu_proto_status st;
	uint32_t seen = 0;
	bool ok;
	int rc;

	memset(m, 0, sizeof(*m));
	st = msg_open(msg, len, NU_MSG_AUTH_START, NU_MSG_AUTH_STEP, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	while ((rc = nu_attr_next(&it, &a)) == 1) {
		if (a.type == NU_ATTR_MECH && hdr.type == NU_MSG_AUTH_START) {
			ok = nu_attr_get_str(&a, m->mech, sizeof(m->mech)) &&
			     m->mech[0] != '\0';
		} else if (a.type == NU_ATTR_SASL_DATA) {
			ok = a.len <= NU_SASL_DATA_MAX;
			m->has_data = true;
			m->data = a.value;
			m->data_len = a.len;
		} else {
			continue;
		}
		if (!ok || !seen_once(&seen, a.type))
			return NU_PROTO_BAD_ATTR;
	}
	if (rc < 0)
		return NU_PROTO_BAD_ATTR;
	if (hdr.type == NU_MSG_AUTH_START && !HAS(seen, NU_ATTR_MECH))
		return NU_PROTO_MISSING_ATTR;
	if (hdr.type == NU_MSG_AUTH_STEP && !HAS(seen, NU_ATTR_SASL_DATA))
		return NU_PROTO_MISSING_ATTR;
	return NU_PROTO_OK;
}

enum nu_proto_status nu_auth_result_encode(uint8_t *buf, size_t cap,
					   const struct nu_auth_result *m,
					   size_t *out_len)
{
	struct nu_msg_writer w;

	if (out_len)
		*out_len = 0;
	if (!field_ok(m->user, sizeof(m->user)) ||
	    !field_ok(m->text, sizeof(m->text)))
		return NU_PROTO_BAD_ATTR;
	nu_msg_begin(&w, buf, cap, NU_MSG_AUTH_RESULT, 0);
	nu_msg_put_u8(&w, NU_ATTR_RESULT, m->result);
	if (m->user[0])
		nu_msg_put_str(&w, NU_ATTR_USER, m->user);
	if (m->text[0])
		nu_msg_put_str(&w, NU_ATTR_TEXT, m->text);
	return nu_msg_finish(&w, out_len);
}

enum nu_proto_status nu_auth_result_decode(const uint8_t *msg, size_t len,
					   struct nu_auth_result *m)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	struct nu_attr a;
	enum nu_proto_status st;
	uint32_t seen = 0;
	bool ok;
	int rc;

	memset(m, 0, sizeof(*m));
	st = msg_open(msg, len, NU_MSG_AUTH_RESULT, NU_MSG_AUTH_RESULT, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	while ((rc = nu_attr_next(&it, &a)) == 1) {
		switch (a.type) {
		case NU_ATTR_RESULT:
			ok = nu_attr_get_u8(&a, &m->result) &&
			     m->result <= NU_AUTH_ERROR;
			break;
		case NU_ATTR_USER:
			ok = nu_attr_get_str(&a, m->user, sizeof(m->user));
			break;
		case NU_ATTR_TEXT:
			ok = nu_attr_get_str(&a, m->text, sizeof(m->text));
			break;
		default:
			continue;
		}
		if (!ok || !seen_once(&seen, a.type))
			return NU_PROTO_BAD_ATTR;
	}
	if (rc < 0)
		return NU_PROTO_BAD_ATTR;
	if (!HAS(seen, NU_ATTR_RESULT))
		return NU_PROTO_MISSING_ATTR;
	return NU_PROTO_OK;
}

/* OS_SYSNAME is mandatory; OS_RELEASE and OS_VERSION are optional. */
enum nu_proto_status nu_client_info_encode(uint8_t *buf, size_t cap,
					   const struct nu_client_info *m,
					   size_t *out_len)
{
	struct nu_msg_writer w;

	if (out_len)
		*out_len = 0;
	if (!field_ok(m->sysname, sizeof(m->sysname)) ||
	    !field_ok(m->release, sizeof(m->release)) ||
	    !field_ok(m->version, sizeof(m->version)))
		return NU_PROTO_BAD_ATTR;
	nu_msg_begin(&w, buf, cap, NU_MSG_CLIENT_INFO, 0);
	nu_msg_put_str(&w, NU_ATTR_OS_SYSNAME, m->sysname);
	if (m->release[0])
		nu_msg_put_str(&w, NU_ATTR_OS_RELEASE, m->release);
	if (m->version[0])
		nu_msg_put_str(&w, NU_ATTR_OS_VERSION, m->version);
	return nu_msg_finish(&w, out_len);
}

enum nu_proto_status nu_client_info_decode(const uint8_t *msg, size_t len,
					   struct nu_client_info *m)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	struct nu_attr a;
	enum nu_proto_status st;
	uint32_t seen = 0;
	bool ok;
	int rc;

	memset(m, 0, sizeof(*m));
	st = msg_open(msg, len, NU_MSG_CLIENT_INFO, NU_MSG_CLIENT_INFO, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	while ((rc = nu_attr_next(&it, &a)) == 1) {
		switch (a.type) {
		case NU_ATTR_OS_SYSNAME:
			ok = nu_attr_get_str(&a, m->sysname, sizeof(m->sysname));
			break;
		case NU_ATTR_OS_RELEASE:
			ok = nu_attr_get_str(&a, m->release, sizeof(m->release));
			break;
		case NU_ATTR_OS_VERSION:
			ok = nu_attr_get_str(&a, m->version, sizeof(m->version));
			break;
		default:
			continue;
		}
		if (!ok || !seen_once(&seen, a.type))
			return NU_PROTO_BAD_ATTR;
	}
	if (rc < 0)
		return NU_PROTO_BAD_ATTR;
	if (!HAS(seen, NU_ATTR_OS_SYSNAME))
		return NU_PROTO_MISSING_ATTR;
	return NU_PROTO_OK;
}

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

	if (w->overflow)
		return false;
	if (!field_ok(c->app, sizeof(c->app)) ||
	    (c->flow.family != AF_INET && c->flow.family != AF_INET6))
		return false;
	mark = nu_msg_nest_start(w, NU_ATTR_CONN);
	nu_msg_put_flow(w, NU_ATTR_FLOW, &c->flow);
	if (c->app[0])
		nu_msg_put_str(w, NU_ATTR_APP, c->app);
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

/* Parses one CONN value: FLOW mandatory, APP optional, others skipped. */
static bool parse_conn(const struct nu_attr *conn, struct nu_announce_conn *c)
{
	struct nu_attr_iter it;
	struct nu_attr a;
	uint32_t seen = 0;
	bool ok;
	int rc;

	memset(c, 0, sizeof(*c));
	nu_attr_iter_init(&it, conn->value, conn->len);
	while ((rc = nu_attr_next(&it, &a)) == 1) {
		switch (a.type) {
		case NU_ATTR_FLOW:
			ok = nu_attr_get_flow(&a, &c->flow);
			break;
		case NU_ATTR_APP:
			ok = nu_attr_get_str(&a, c->app, sizeof(c->app));
			break;
		default:
			continue;
		}
		if (!ok || !seen_once(&seen, a.type))
			return false;
	}
	return rc == 0 && HAS(seen, NU_ATTR_FLOW);
}

/* Top-level attributes other than CONN are skipped.  After -1 the iterator
 * keeps answering -1. */
int nu_announce_next(struct nu_announce_iter *it, struct nu_announce_conn *c)
{
	struct nu_attr a;
	int rc;

	while ((rc = nu_attr_next(&it->attrs, &a)) == 1) {
		if (a.type != NU_ATTR_CONN)
			continue;
		if (!parse_conn(&a, c)) {
			/* a NULL position keeps nu_attr_next answering -1 */
			it->attrs.pos = NULL;
			return -1;
		}
		return 1;
	}
	return rc;
}

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

enum nu_proto_status nu_push_decode(const uint8_t *msg, size_t len,
				    bool *has_flow, struct nu_flow *flow)
{
	struct nu_msg_header hdr;
	struct nu_attr_iter it;
	struct nu_attr a;
	enum nu_proto_status st;
	uint32_t seen = 0;
	int rc;

	*has_flow = false;
	memset(flow, 0, sizeof(*flow));
	st = msg_open(msg, len, NU_MSG_PUSH, NU_MSG_PUSH, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	while ((rc = nu_attr_next(&it, &a)) == 1) {
		if (a.type != NU_ATTR_FLOW)
			continue;
		if (!nu_attr_get_flow(&a, flow) || !seen_once(&seen, a.type))
			return NU_PROTO_BAD_ATTR;
		*has_flow = true;
	}
	if (rc < 0)
		return NU_PROTO_BAD_ATTR;
	return NU_PROTO_OK;
}
