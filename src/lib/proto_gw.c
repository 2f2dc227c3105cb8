/* Wire protocol codec: the gateway's messages: PACKET_ASK, DECISION, CONN_END,
 * CONN_DESTROY, CONN_EXPIRES, GW_STATS (doc/protocol.md).  Each is a table of
 * rows for proto_table.c, plus what a row cannot say, written by hand. */
#include "config.h"

#include <string.h>

#include "proto_table.h"

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
	{ ROW(NU_ATTR_SRC_MAC, KIND_FIXED, ATTR_ASKED, struct nu_packet_ask, src_mac) },
	{ .type = 0 }
};

enum nu_proto_status nu_packet_ask_encode(uint8_t *buf, size_t cap,
					  const struct nu_packet_ask *m,
					  size_t *out_len)
{
	attr_set asked = 0;

	if (m->flow.proto == IPPROTO_ICMP || m->flow.proto == IPPROTO_ICMPV6)
		asked |= ABIT(NU_ATTR_ICMP_TYPE);
	if (m->has_src_mac)
		asked |= ABIT(NU_ATTR_SRC_MAC);
	return proto_encode_msg(buf, cap, NU_MSG_PACKET_ASK, m->packet_id,
				packet_ask_attrs, m, asked, out_len);
}

enum nu_proto_status nu_packet_ask_decode(const uint8_t *msg, size_t len,
					  struct nu_packet_ask *m)
{
	attr_set seen = 0;
	enum nu_proto_status st;

	memset(m, 0, sizeof(*m));
	st = proto_decode_msg(msg, len, NU_MSG_PACKET_ASK, packet_ask_attrs, m, &m->packet_id,
			      &seen);
	m->has_src_mac = st == NU_PROTO_OK && HAS(seen, NU_ATTR_SRC_MAC);
	return st;
}

/* An unknown verdict value is BAD_ATTR: a gateway must never guess.  MARK is
 * sent when has_mark says so (a new mark of 0 is meaningful). */
#define VERDICTS (BIT(NU_VERDICT_DROP) | BIT(NU_VERDICT_ACCEPT) | BIT(NU_VERDICT_REJECT))

static const struct attr_row decision_attrs[] = {
	{ ROW(NU_ATTR_VERDICT, KIND_U8, ATTR_MANDATORY, struct nu_decision, verdict),
	  .allowed = VERDICTS },
	{ ROW(NU_ATTR_MARK, KIND_U32, ATTR_ASKED, struct nu_decision, mark) },
	{ ROW(NU_ATTR_EXPIRES, KIND_U32, ATTR_ASKED, struct nu_decision, expires_in) },
	{ ROW(NU_ATTR_NOT_OWNER, KIND_U8, ATTR_ASKED, struct nu_decision, not_owner),
	  .allowed = 0x3 },
	{ ROW(NU_ATTR_SESSION, KIND_U64, ATTR_ASKED, struct nu_decision, session) },
	{ .type = 0 }
};

enum nu_proto_status nu_decision_encode(uint8_t *buf, size_t cap,
					const struct nu_decision *m,
					size_t *out_len)
{
	return proto_encode_msg(buf, cap, NU_MSG_DECISION, m->packet_id,
				decision_attrs, m,
				(m->has_mark ? ABIT(NU_ATTR_MARK) : 0) |
				(m->has_expires ? ABIT(NU_ATTR_EXPIRES) : 0) |
				(m->not_owner ? ABIT(NU_ATTR_NOT_OWNER) : 0) |
				(m->session ? ABIT(NU_ATTR_SESSION) : 0), out_len);
}

enum nu_proto_status nu_decision_decode(const uint8_t *msg, size_t len,
					struct nu_decision *m)
{
	enum nu_proto_status st;
	attr_set seen = 0;

	memset(m, 0, sizeof(*m));
	st = proto_decode_msg(msg, len, NU_MSG_DECISION, decision_attrs, m,
			      &m->packet_id, &seen);
	m->has_mark = HAS(seen, NU_ATTR_MARK);
	m->has_expires = HAS(seen, NU_ATTR_EXPIRES);
	return st;
}

/* ---- SESSION_END ---- */

static const struct attr_row session_only_attrs[] = {
	{ .type = NU_ATTR_SESSION, .kind = KIND_U64, .flags = ATTR_MANDATORY,
	  .off = 0, .size = sizeof(uint64_t) },
	{ .type = 0 }
};

enum nu_proto_status nu_session_end_encode(uint8_t *buf, size_t cap, uint64_t session,
					   size_t *out_len)
{
	if (out_len)
		*out_len = 0;
	if (!session)
		return NU_PROTO_BAD_ATTR;
	return proto_encode_msg(buf, cap, NU_MSG_SESSION_END, 0, session_only_attrs, &session, 0,
				out_len);
}

/* A tag of 0 names no session: malformed. */
enum nu_proto_status nu_session_end_decode(const uint8_t *msg, size_t len, uint64_t *session)
{
	enum nu_proto_status st;

	*session = 0;
	st = proto_decode_msg(msg, len, NU_MSG_SESSION_END, session_only_attrs, session, NULL, NULL);
	return st == NU_PROTO_OK && !*session ? NU_PROTO_BAD_ATTR : st;
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
	return proto_encode_msg(buf, cap, NU_MSG_CONN_END, 0, conn_end_attrs, m, 0, out_len);
}

enum nu_proto_status nu_conn_end_decode(const uint8_t *msg, size_t len,
					struct nu_conn_end *m)
{
	memset(m, 0, sizeof(*m));
	return proto_decode_msg(msg, len, NU_MSG_CONN_END, conn_end_attrs, m, NULL, NULL);
}

static const struct attr_row flow_only_attrs[] = {
	{ .type = NU_ATTR_FLOW, .kind = KIND_FLOW, .flags = ATTR_MANDATORY,
	  .off = 0, .size = sizeof(struct nu_flow) },
	{ .type = 0 }
};

enum nu_proto_status nu_conn_destroy_encode(uint8_t *buf, size_t cap,
					    const struct nu_flow *flow, size_t *out_len)
{
	return proto_encode_msg(buf, cap, NU_MSG_CONN_DESTROY, 0, flow_only_attrs, flow, 0, out_len);
}

enum nu_proto_status nu_conn_destroy_decode(const uint8_t *msg, size_t len,
					    struct nu_flow *flow)
{
	memset(flow, 0, sizeof(*flow));
	return proto_decode_msg(msg, len, NU_MSG_CONN_DESTROY, flow_only_attrs, flow, NULL, NULL);
}

static const struct attr_row conn_expires_attrs[] = {
	{ ROW(NU_ATTR_FLOW, KIND_FLOW, ATTR_MANDATORY, struct nu_conn_expires, flow) },
	{ ROW(NU_ATTR_EXPIRES, KIND_U32, ATTR_ASKED, struct nu_conn_expires, expires_in) },
	{ .type = 0 }
};

enum nu_proto_status nu_conn_expires_encode(uint8_t *buf, size_t cap,
					    const struct nu_conn_expires *m, size_t *out_len)
{
	return proto_encode_msg(buf, cap, NU_MSG_CONN_EXPIRES, 0, conn_expires_attrs, m,
				m->has_expires ? ABIT(NU_ATTR_EXPIRES) : 0, out_len);
}

enum nu_proto_status nu_conn_expires_decode(const uint8_t *msg, size_t len,
					    struct nu_conn_expires *m)
{
	enum nu_proto_status st;
	attr_set seen = 0;

	memset(m, 0, sizeof(*m));
	st = proto_decode_msg(msg, len, NU_MSG_CONN_EXPIRES, conn_expires_attrs, m, NULL, &seen);
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
	return proto_encode_msg(buf, cap, NU_MSG_GW_STATS, 0, gw_stats_attrs, m, 0, out_len);
}

enum nu_proto_status nu_gw_stats_decode(const uint8_t *msg, size_t len,
					struct nu_gw_stats *m)
{
	memset(m, 0, sizeof(*m));
	return proto_decode_msg(msg, len, NU_MSG_GW_STATS, gw_stats_attrs, m, NULL, NULL);
}
