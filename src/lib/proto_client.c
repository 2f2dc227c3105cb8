/* Wire protocol codec: the client's messages: AUTH_START, AUTH_STEP, AUTH_RESULT,
 * CLIENT_INFO, ANNOUNCE, PUSH, NOTICE, NEEDS (doc/protocol.md).  Each is a table of
 * rows for proto_table.c, plus what a row cannot say, written by hand. */
#include "config.h"

#include <string.h>

#include "proto_table.h"

/* ---- AUTH_START, AUTH_STEP and AUTH_RESULT ---- */

enum nu_proto_status nu_auth_start_encode(uint8_t *buf, size_t cap,
					  const char *mech, const uint8_t *data,
					  size_t data_len, bool has_data,
					  const uint8_t *resume, size_t *out_len)
{
	struct nu_msg_writer w;

	if (out_len)
		*out_len = 0;
	if (!mech || !proto_field_ok(mech, NU_NAME_MAX) || mech[0] == '\0' ||
	    (has_data && data_len > NU_SASL_DATA_MAX))
		return NU_PROTO_BAD_ATTR;
	nu_msg_begin(&w, buf, cap, NU_MSG_AUTH_START, 0);
	nu_msg_put_str(&w, NU_ATTR_MECH, mech);
	if (has_data)
		nu_msg_put_bytes(&w, NU_ATTR_SASL_DATA, data, data_len);
	if (resume)
		nu_msg_put_bytes(&w, NU_ATTR_RESUME, resume, NU_RESUME_LEN);
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
	{ ROW(NU_ATTR_RESUME, KIND_FIXED, 0, struct nu_auth, resume) },
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
	st = proto_msg_open(msg, len, NU_MSG_AUTH_START, NU_MSG_AUTH_STEP, &hdr, &it);
	if (st != NU_PROTO_OK)
		return st;
	st = proto_decode_attrs(&it, hdr.type == NU_MSG_AUTH_START ?
				auth_start_attrs : auth_step_attrs, m, &seen);
	m->has_data = HAS(seen, NU_ATTR_SASL_DATA);
	m->has_resume = HAS(seen, NU_ATTR_RESUME);
	return st;
}

#define AUTH_CODES (BIT(NU_AUTH_OK) | BIT(NU_AUTH_FAILED) | BIT(NU_AUTH_ERROR) | \
		    BIT(NU_AUTH_OTHER_MECH))

static const struct attr_row auth_result_attrs[] = {
	{ ROW(NU_ATTR_RESULT, KIND_U8, ATTR_MANDATORY, struct nu_auth_result, result),
	  .allowed = AUTH_CODES },
	{ ROW(NU_ATTR_USER, KIND_STR, 0, struct nu_auth_result, user) },
	{ ROW(NU_ATTR_TEXT, KIND_STR, 0, struct nu_auth_result, text) },
	{ ROW(NU_ATTR_RESUME, KIND_FIXED, ATTR_ASKED, struct nu_auth_result, resume) },
	{ .type = 0 }
};

enum nu_proto_status nu_auth_result_encode(uint8_t *buf, size_t cap,
					   const struct nu_auth_result *m,
					   size_t *out_len)
{
	return proto_encode_msg(buf, cap, NU_MSG_AUTH_RESULT, 0, auth_result_attrs,
				m, m->has_resume ? ABIT(NU_ATTR_RESUME) : 0, out_len);
}

enum nu_proto_status nu_auth_result_decode(const uint8_t *msg, size_t len,
					   struct nu_auth_result *m)
{
	enum nu_proto_status st;
	attr_set seen = 0;

	memset(m, 0, sizeof(*m));
	st = proto_decode_msg(msg, len, NU_MSG_AUTH_RESULT, auth_result_attrs, m, NULL, &seen);
	m->has_resume = HAS(seen, NU_ATTR_RESUME);
	return st;
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
	return proto_encode_msg(buf, cap, NU_MSG_CLIENT_INFO, 0, client_info_attrs,
				m, 0, out_len);
}

enum nu_proto_status nu_client_info_decode(const uint8_t *msg, size_t len,
					   struct nu_client_info *m)
{
	memset(m, 0, sizeof(*m));
	return proto_decode_msg(msg, len, NU_MSG_CLIENT_INFO, client_info_attrs, m,
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

	if (w->overflow || !proto_attrs_sendable(conn_attrs, c))
		return false;
	mark = nu_msg_nest_start(w, NU_ATTR_CONN);
	proto_put_attrs(w, conn_attrs, c, c->has_app_sha256 ? ABIT(NU_ATTR_APP_SHA256) : 0);
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
	st = proto_msg_open(msg, len, NU_MSG_ANNOUNCE, NU_MSG_ANNOUNCE, &hdr, &it->attrs);
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
		if (proto_decode_attrs(&conn, conn_attrs, c, &seen) != NU_PROTO_OK) {
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
	st = proto_decode_msg(msg, len, NU_MSG_PUSH, push_attrs, flow, NULL, &seen);
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
	return proto_encode_msg(buf, cap, NU_MSG_NOTICE, 0, notice_attrs, m, 0, out_len);
}

enum nu_proto_status nu_notice_decode(const uint8_t *msg, size_t len,
				      struct nu_notice *m)
{
	memset(m, 0, sizeof(*m));
	return proto_decode_msg(msg, len, NU_MSG_NOTICE, notice_attrs, m, NULL, NULL);
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
	return proto_encode_msg(buf, cap, NU_MSG_NEEDS, 0, needs_attrs, &needs, 0, out_len);
}

enum nu_proto_status nu_needs_decode(const uint8_t *msg, size_t len, uint32_t *needs)
{
	*needs = 0;
	return proto_decode_msg(msg, len, NU_MSG_NEEDS, needs_attrs, needs, NULL, NULL);
}
