/* Wire protocol codec: the messages of every link: HELLO, ERROR, KEEPALIVE, LOGOUT (doc/protocol.md).  Each is a table of
 * rows for proto_table.c, plus what a row cannot say, written by hand. */
#include "config.h"

#include <string.h>

#include "proto_table.h"

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
	return proto_encode_msg(buf, cap, NU_MSG_HELLO, 0, hello_attrs, m, 0, out_len);
}

enum nu_proto_status nu_hello_decode(const uint8_t *msg, size_t len,
				     struct nu_hello *m)
{
	enum nu_proto_status st;

	memset(m, 0, sizeof(*m));
	st = proto_decode_msg(msg, len, NU_MSG_HELLO, hello_attrs, m, NULL, NULL);
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
	return proto_decode_msg(msg, len, NU_MSG_ERROR, text_attrs,
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
