/* libFuzzer harness for the wire protocol (src/lib/proto.c).
 *
 * The input is a byte stream, cut into messages as a link cuts it
 * (nu_msg_peek_header).  Each whole message is copied to a buffer of its
 * exact size and given to the typed decoder its header names; what decodes
 * is checked, re-encoded (the encoder must fit a buffer of exactly the size
 * it reports and refuse one byte less) and decoded again: both decodes must
 * agree.  The raw attribute iterator walks every message, and every decoder
 * is also given the whole input, where it must refuse what is not exactly
 * one message of its type. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "flow.h"
#include "proto.h"
#include "fuzz.h"

#define STR_OK(s) (strnlen((s), sizeof(s)) < sizeof(s))

static void use_flow(const struct nu_flow *f)
{
	char text[256];

	FUZZ_CHECK(f->family == AF_INET || f->family == AF_INET6);
	nu_flow_format(f, text, sizeof(text));
	FUZZ_CHECK(strlen(text) < NU_FLOW_STRLEN);
	nu_flow_format(f, text, NU_FLOW_STRLEN);
	(void)nu_flow_hash(f);
	FUZZ_CHECK(nu_flow_equal(f, f));
	/* IPv4 flows are held v4-mapped, both ends. */
	if (f->family == AF_INET)
		FUZZ_CHECK(nu_addr_is_v4(&f->saddr, NULL) && nu_addr_is_v4(&f->daddr, NULL));
}

/* Encoders under one signature, so that reencode() can check them all. */
typedef enum nu_proto_status (*encode_fn)(uint8_t *buf, size_t cap, const void *m,
					  size_t *out_len);

/* Encodes m three times: into a large buffer (must succeed), into a heap
 * buffer of exactly the reported size (must succeed, same bytes) and into
 * one byte less (must be NO_SPACE).  Returns the exact-size copy (g_free),
 * its length in *len. */
static uint8_t *reencode(encode_fn enc, const void *m, size_t *len)
{
	static uint8_t big[NU_MSG_MAX_LEN + 64];
	uint8_t *exact, *tight;
	size_t n = 0, n2 = 0, n3 = 1;

	FUZZ_CHECK(enc(big, sizeof(big), m, &n) == NU_PROTO_OK);
	FUZZ_CHECK(n >= NU_MSG_HEADER_LEN && n <= NU_MSG_MAX_LEN);
	exact = g_malloc(n);
	FUZZ_CHECK(enc(exact, n, m, &n2) == NU_PROTO_OK && n2 == n);
	FUZZ_CHECK(memcmp(exact, big, n) == 0);
	tight = g_malloc(n - 1);
	FUZZ_CHECK(enc(tight, n - 1, m, &n3) == NU_PROTO_NO_SPACE && n3 == 0);
	g_free(tight);
	*len = n;
	return exact;
}

static enum nu_proto_status enc_hello(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_hello_encode(b, c, m, n);
}

static enum nu_proto_status enc_error(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_error_encode(b, c, m, n);
}

static enum nu_proto_status enc_packet_ask(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_packet_ask_encode(b, c, m, n);
}

static enum nu_proto_status enc_decision(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_decision_encode(b, c, m, n);
}

static enum nu_proto_status enc_conn_end(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_conn_end_encode(b, c, m, n);
}

static enum nu_proto_status enc_conn_destroy(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_conn_destroy_encode(b, c, m, n);
}

static enum nu_proto_status enc_conn_expires(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_conn_expires_encode(b, c, m, n);
}

static enum nu_proto_status enc_gw_stats(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_gw_stats_encode(b, c, m, n);
}

static enum nu_proto_status enc_auth_start(uint8_t *b, size_t c, const void *m, size_t *n)
{
	const struct nu_auth *a = m;

	return nu_auth_start_encode(b, c, a->mech, a->data, a->data_len, a->has_data,
				    a->has_resume ? a->resume : NULL, n);
}

static enum nu_proto_status enc_auth_step(uint8_t *b, size_t c, const void *m, size_t *n)
{
	const struct nu_auth *a = m;

	return nu_auth_step_encode(b, c, a->data, a->data_len, n);
}

static enum nu_proto_status enc_auth_result(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_auth_result_encode(b, c, m, n);
}

static enum nu_proto_status enc_client_info(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_client_info_encode(b, c, m, n);
}

static enum nu_proto_status enc_push(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_push_encode(b, c, m, n);
}

static enum nu_proto_status enc_notice(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_notice_encode(b, c, m, n);
}

static void check_notice(const uint8_t *msg, size_t len)
{
	static struct nu_notice a, b;
	uint8_t *again;
	size_t n;

	if (nu_notice_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	use_flow(&a.flow);
	FUZZ_CHECK(a.verdict == NU_VERDICT_DROP || a.verdict == NU_VERDICT_REJECT);
	FUZZ_CHECK(STR_OK(a.app) && STR_OK(a.text));
	again = reencode(enc_notice, &a, &n);
	FUZZ_CHECK(nu_notice_decode(again, n, &b) == NU_PROTO_OK);
	FUZZ_CHECK(nu_flow_equal(&a.flow, &b.flow) && a.verdict == b.verdict);
	FUZZ_CHECK(strcmp(a.app, b.app) == 0 && strcmp(a.text, b.text) == 0);
	g_free(again);
}

static void check_hello(const uint8_t *msg, size_t len)
{
	struct nu_hello a, b;
	uint8_t *again;
	size_t n;

	if (nu_hello_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	FUZZ_CHECK(a.version_min <= a.version_max);
	FUZZ_CHECK(a.role >= NU_ROLE_GATEWAY && a.role <= NU_ROLE_SERVER);
	FUZZ_CHECK(STR_OK(a.software) && STR_OK(a.mech_list));
	again = reencode(enc_hello, &a, &n);
	FUZZ_CHECK(nu_hello_decode(again, n, &b) == NU_PROTO_OK);
	FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	g_free(again);
}

static void check_error(const uint8_t *msg, size_t len)
{
	char text[NU_TEXT_MAX], small[8], again_text[NU_TEXT_MAX];
	enum nu_proto_status st, st_small;
	uint8_t *again;
	size_t n;

	st = nu_error_decode(msg, len, text, sizeof(text));
	st_small = nu_error_decode(msg, len, small, sizeof(small));
	(void)nu_error_decode(msg, len, NULL, 0);
	if (st_small == NU_PROTO_OK)
		FUZZ_CHECK(st == NU_PROTO_OK && strcmp(small, text) == 0);
	if (st != NU_PROTO_OK)
		return;
	FUZZ_CHECK(STR_OK(text));
	again = reencode(enc_error, text, &n);
	FUZZ_CHECK(nu_error_decode(again, n, again_text, sizeof(again_text)) == NU_PROTO_OK);
	FUZZ_CHECK(strcmp(text, again_text) == 0);
	g_free(again);
}

static void check_keepalive(const struct nu_msg_header *hdr)
{
	uint8_t buf[NU_MSG_HEADER_LEN];
	struct nu_msg_header h;
	size_t n;

	FUZZ_CHECK(nu_keepalive_encode(buf, sizeof(buf), hdr->id, &n) == NU_PROTO_OK);
	FUZZ_CHECK(n == NU_MSG_HEADER_LEN);
	FUZZ_CHECK(nu_msg_peek_header(buf, n, &h) == NU_PROTO_OK);
	FUZZ_CHECK(h.type == NU_MSG_KEEPALIVE && h.id == hdr->id && h.length == n);
}

static void check_packet_ask(const uint8_t *msg, size_t len)
{
	struct nu_packet_ask a, b;
	uint8_t *again;
	size_t n;

	if (nu_packet_ask_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	use_flow(&a.flow);
	FUZZ_CHECK(STR_OK(a.indev) && STR_OK(a.outdev));
	FUZZ_CHECK(STR_OK(a.physindev) && STR_OK(a.physoutdev));
	again = reencode(enc_packet_ask, &a, &n);
	FUZZ_CHECK(nu_packet_ask_decode(again, n, &b) == NU_PROTO_OK);
	FUZZ_CHECK(a.packet_id == b.packet_id && nu_flow_equal(&a.flow, &b.flow));
	FUZZ_CHECK(a.mark == b.mark);
	FUZZ_CHECK(strcmp(a.indev, b.indev) == 0 && strcmp(a.outdev, b.outdev) == 0);
	FUZZ_CHECK(strcmp(a.physindev, b.physindev) == 0 &&
		   strcmp(a.physoutdev, b.physoutdev) == 0);
	/* ICMP_TYPE is only sent for ICMP flows. */
	if (a.flow.proto == IPPROTO_ICMP || a.flow.proto == IPPROTO_ICMPV6)
		FUZZ_CHECK(a.icmp_type == b.icmp_type);
	else
		FUZZ_CHECK(b.icmp_type == 0);
	g_free(again);
}

static void check_decision(const uint8_t *msg, size_t len)
{
	struct nu_decision a, b;
	uint8_t *again;
	size_t n;

	if (nu_decision_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	FUZZ_CHECK(a.verdict == NU_VERDICT_DROP || a.verdict == NU_VERDICT_ACCEPT ||
		   a.verdict == NU_VERDICT_REJECT);
	FUZZ_CHECK(a.has_mark || a.mark == 0);
	again = reencode(enc_decision, &a, &n);
	FUZZ_CHECK(nu_decision_decode(again, n, &b) == NU_PROTO_OK);
	FUZZ_CHECK(a.packet_id == b.packet_id && a.verdict == b.verdict);
	FUZZ_CHECK(a.has_mark == b.has_mark && a.mark == b.mark);
	FUZZ_CHECK(a.session == b.session);
	g_free(again);
}

static void check_conn_end(const uint8_t *msg, size_t len)
{
	struct nu_conn_end a, b;
	uint8_t *again;
	size_t n;

	if (nu_conn_end_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	use_flow(&a.flow);
	again = reencode(enc_conn_end, &a, &n);
	FUZZ_CHECK(nu_conn_end_decode(again, n, &b) == NU_PROTO_OK);
	FUZZ_CHECK(nu_flow_equal(&a.flow, &b.flow) && a.mark == b.mark &&
		   a.packets_out == b.packets_out && a.bytes_out == b.bytes_out &&
		   a.packets_in == b.packets_in && a.bytes_in == b.bytes_in);
	g_free(again);
}

static void check_conn_destroy(const uint8_t *msg, size_t len)
{
	struct nu_flow a, b;
	uint8_t *again;
	size_t n;

	if (nu_conn_destroy_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	use_flow(&a);
	again = reencode(enc_conn_destroy, &a, &n);
	FUZZ_CHECK(nu_conn_destroy_decode(again, n, &b) == NU_PROTO_OK && nu_flow_equal(&a, &b));
	g_free(again);
}

static void check_session_end(const uint8_t *msg, size_t len)
{
	uint64_t a, b;
	uint8_t again[64];
	size_t n;

	if (nu_session_end_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	FUZZ_CHECK(a != 0);
	FUZZ_CHECK(nu_session_end_encode(again, sizeof(again), a, &n) == NU_PROTO_OK);
	FUZZ_CHECK(nu_session_end_decode(again, n, &b) == NU_PROTO_OK && a == b);
}

static void check_conn_expires(const uint8_t *msg, size_t len)
{
	struct nu_conn_expires a, b;
	uint8_t *again;
	size_t n;

	if (nu_conn_expires_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	use_flow(&a.flow);
	FUZZ_CHECK(a.has_expires || a.expires_in == 0);
	again = reencode(enc_conn_expires, &a, &n);
	FUZZ_CHECK(nu_conn_expires_decode(again, n, &b) == NU_PROTO_OK);
	FUZZ_CHECK(nu_flow_equal(&a.flow, &b.flow) && a.has_expires == b.has_expires &&
		   a.expires_in == b.expires_in);
	g_free(again);
}

static void check_gw_stats(const uint8_t *msg, size_t len)
{
	struct nu_gw_stats a, b;
	uint8_t *again;
	size_t n;

	if (nu_gw_stats_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	again = reencode(enc_gw_stats, &a, &n);
	FUZZ_CHECK(nu_gw_stats_decode(again, n, &b) == NU_PROTO_OK);
	FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	g_free(again);
}

static void check_auth(const uint8_t *msg, size_t len, uint8_t type)
{
	struct nu_auth a, b;
	uint8_t *again;
	size_t n;
	unsigned sum = 0;
	size_t i;

	if (nu_auth_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	FUZZ_CHECK(STR_OK(a.mech));
	FUZZ_CHECK(a.data_len <= NU_SASL_DATA_MAX);
	FUZZ_CHECK(a.has_data || a.data_len == 0);
	if (a.data_len > 0) {
		/* data points into msg: every byte must be inside it */
		FUZZ_CHECK(a.data >= msg && a.data + a.data_len <= msg + len);
		for (i = 0; i < a.data_len; i++)
			sum += a.data[i];
	}
	(void)sum;
	if (type == NU_MSG_AUTH_START) {
		FUZZ_CHECK(a.mech[0] != '\0');
		again = reencode(enc_auth_start, &a, &n);
	} else {
		FUZZ_CHECK(a.has_data);
		again = reencode(enc_auth_step, &a, &n);
	}
	FUZZ_CHECK(nu_auth_decode(again, n, &b) == NU_PROTO_OK);
	FUZZ_CHECK(strcmp(a.mech, b.mech) == 0);
	FUZZ_CHECK(a.has_data == b.has_data && a.data_len == b.data_len);
	FUZZ_CHECK(a.data_len == 0 || memcmp(a.data, b.data, a.data_len) == 0);
	FUZZ_CHECK(type != NU_MSG_AUTH_START || (a.has_resume == b.has_resume &&
		   memcmp(a.resume, b.resume, sizeof(a.resume)) == 0));
	g_free(again);
}

static void check_auth_result(const uint8_t *msg, size_t len)
{
	struct nu_auth_result a, b;
	uint8_t *again;
	size_t n;

	if (nu_auth_result_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	FUZZ_CHECK(a.result <= NU_AUTH_OTHER_MECH);
	FUZZ_CHECK(STR_OK(a.user) && STR_OK(a.text));
	again = reencode(enc_auth_result, &a, &n);
	FUZZ_CHECK(nu_auth_result_decode(again, n, &b) == NU_PROTO_OK);
	FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	g_free(again);
}

static void check_client_info(const uint8_t *msg, size_t len)
{
	struct nu_client_info a, b;
	uint8_t *again;
	size_t n;

	if (nu_client_info_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	FUZZ_CHECK(STR_OK(a.sysname) && STR_OK(a.release) && STR_OK(a.version));
	again = reencode(enc_client_info, &a, &n);
	FUZZ_CHECK(nu_client_info_decode(again, n, &b) == NU_PROTO_OK);
	FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	g_free(again);
}

/* Walks every item (claimed connections and NOT_MINE flows), re-encodes
 * them in a new ANNOUNCE (each must fit: the copy is never longer than the
 * original), then walks both together; nu_announce_next must see the claims
 * alone. */
static void check_announce(const uint8_t *msg, size_t len)
{
	static struct nu_announce_conn a, b;
	static uint8_t buf[NU_MSG_MAX_LEN];
	struct nu_announce_iter it, it2;
	struct nu_msg_writer w;
	uint8_t *again;
	size_t n;
	int rc, rc2;
	unsigned count = 0, claims = 0, i;
	bool nm, nm2;

	if (nu_announce_iter_init(&it, msg, len) != NU_PROTO_OK) {
		FUZZ_CHECK(nu_announce_next(&it, &a) <= 0);
		FUZZ_CHECK(nu_announce_next_item(&it, &a, &nm) <= 0);
		return;
	}
	nu_announce_begin(&w, buf, sizeof(buf));
	while ((rc = nu_announce_next_item(&it, &a, &nm)) == 1) {
		use_flow(&a.flow);
		FUZZ_CHECK(STR_OK(a.app));
		if (nm) {
			FUZZ_CHECK(a.app[0] == 0 && !a.has_app_sha256);
			FUZZ_CHECK(nu_announce_add_not_mine(&w, &a.flow));
		} else {
			FUZZ_CHECK(nu_announce_add(&w, &a));
			claims++;
		}
		count++;
	}
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1)
		FUZZ_CHECK(nu_announce_next_item(&it, &a, &nm) == -1);
	FUZZ_CHECK(nu_msg_finish(&w, &n) == NU_PROTO_OK && n <= len);
	again = g_memdup2(buf, n);

	FUZZ_CHECK(nu_announce_iter_init(&it, msg, len) == NU_PROTO_OK);
	FUZZ_CHECK(nu_announce_iter_init(&it2, again, n) == NU_PROTO_OK);
	for (i = 0; i < count; i++) {
		FUZZ_CHECK(nu_announce_next_item(&it, &a, &nm) == 1);
		FUZZ_CHECK(nu_announce_next_item(&it2, &b, &nm2) == 1);
		FUZZ_CHECK(nm == nm2);
		FUZZ_CHECK(nu_flow_equal(&a.flow, &b.flow) && strcmp(a.app, b.app) == 0);
		FUZZ_CHECK(a.has_app_sha256 == b.has_app_sha256);
		FUZZ_CHECK(memcmp(a.app_sha256, b.app_sha256, NU_SHA256_LEN) == 0);
		if (!a.has_app_sha256)
			FUZZ_CHECK(a.app_sha256[0] == 0 && a.app_sha256[NU_SHA256_LEN - 1] == 0);
	}
	rc2 = nu_announce_next_item(&it2, &b, &nm2);
	FUZZ_CHECK(rc2 == 0);
	/* the claims alone, in the copy */
	FUZZ_CHECK(nu_announce_iter_init(&it2, again, n) == NU_PROTO_OK);
	for (i = 0; i < claims; i++)
		FUZZ_CHECK(nu_announce_next(&it2, &b) == 1);
	FUZZ_CHECK(nu_announce_next(&it2, &b) == 0);
	g_free(again);
}

static enum nu_proto_status enc_needs(uint8_t *b, size_t c, const void *m, size_t *n)
{
	return nu_needs_encode(b, c, *(const uint32_t *)m, n);
}

static void check_needs(const uint8_t *msg, size_t len)
{
	uint32_t a, b;
	uint8_t *again;
	size_t n;

	if (nu_needs_decode(msg, len, &a) != NU_PROTO_OK)
		return;
	again = reencode(enc_needs, &a, &n);
	FUZZ_CHECK(nu_needs_decode(again, n, &b) == NU_PROTO_OK && a == b);
	g_free(again);
}

static void check_push(const uint8_t *msg, size_t len)
{
	struct nu_flow a, b;
	bool has_a, has_b;
	uint8_t *again;
	size_t n;

	if (nu_push_decode(msg, len, &has_a, &a) != NU_PROTO_OK) {
		FUZZ_CHECK(!has_a);
		return;
	}
	if (has_a)
		use_flow(&a);
	again = reencode(enc_push, has_a ? &a : NULL, &n);
	FUZZ_CHECK(nu_push_decode(again, n, &has_b, &b) == NU_PROTO_OK);
	FUZZ_CHECK(has_a == has_b && (!has_a || nu_flow_equal(&a, &b)));
	g_free(again);
}

/* Every typed getter on every attribute in [data, data + len); CONN values
 * are walked as nested attribute lists. */
static void walk_attrs(const uint8_t *data, size_t len, int depth)
{
	struct nu_attr_iter it;
	struct nu_attr a;
	struct nu_flow flow;
	char small[4], big[NU_APP_MAX];
	uint8_t u8;
	uint32_t u32;
	int rc;

	nu_attr_iter_init(&it, data, len);
	while ((rc = nu_attr_next(&it, &a)) == 1) {
		FUZZ_CHECK(a.value >= data && a.value + a.len <= data + len);
		if (nu_attr_get_u8(&a, &u8))
			FUZZ_CHECK(a.len == 1);
		if (nu_attr_get_u32(&a, &u32))
			FUZZ_CHECK(a.len == 4);
		if (nu_attr_get_flow(&a, &flow))
			use_flow(&flow);
		if (nu_attr_get_str(&a, small, sizeof(small)))
			FUZZ_CHECK(strlen(small) == a.len);
		if (nu_attr_get_str(&a, big, sizeof(big)))
			FUZZ_CHECK(strlen(big) == a.len);
		if (a.type == NU_ATTR_CONN && depth < 2)
			walk_attrs(a.value, a.len, depth + 1);
	}
	FUZZ_CHECK(rc == 0 || rc == -1);
}

/* One whole message, in a buffer of exactly its size. */
static void check_message(const uint8_t *msg, size_t len)
{
	struct nu_msg_header hdr;

	FUZZ_CHECK(nu_msg_peek_header(msg, len, &hdr) == NU_PROTO_OK && hdr.length == len);
	(void)nu_msg_type_name(hdr.type);
	walk_attrs(msg + NU_MSG_HEADER_LEN, len - NU_MSG_HEADER_LEN, 0);
	switch (hdr.type) {
	case NU_MSG_HELLO:
		check_hello(msg, len);
		break;
	case NU_MSG_ERROR:
		check_error(msg, len);
		break;
	case NU_MSG_KEEPALIVE:
		check_keepalive(&hdr);
		break;
	case NU_MSG_PACKET_ASK:
		check_packet_ask(msg, len);
		break;
	case NU_MSG_DECISION:
		check_decision(msg, len);
		break;
	case NU_MSG_CONN_END:
		check_conn_end(msg, len);
		break;
	case NU_MSG_CONN_DESTROY:
		check_conn_destroy(msg, len);
		break;
	case NU_MSG_CONN_EXPIRES:
		check_conn_expires(msg, len);
		break;
	case NU_MSG_SESSION_END:
		check_session_end(msg, len);
		break;
	case NU_MSG_GW_STATS:
		check_gw_stats(msg, len);
		break;
	case NU_MSG_AUTH_START:
	case NU_MSG_AUTH_STEP:
		check_auth(msg, len, hdr.type);
		break;
	case NU_MSG_AUTH_RESULT:
		check_auth_result(msg, len);
		break;
	case NU_MSG_CLIENT_INFO:
		check_client_info(msg, len);
		break;
	case NU_MSG_ANNOUNCE:
		check_announce(msg, len);
		break;
	case NU_MSG_PUSH:
		check_push(msg, len);
		break;
	case NU_MSG_NOTICE:
		check_notice(msg, len);
		break;
	case NU_MSG_NEEDS:
		check_needs(msg, len);
		break;
	}
}

/* Every decoder on buf, which need not be one whole message: a decoder may
 * only succeed on exactly one message of its own type. */
static void check_strict(const uint8_t *buf, size_t len)
{
	struct nu_msg_header hdr;
	enum nu_proto_status framing;
	struct nu_hello hello;
	char text[NU_TEXT_MAX];
	struct nu_packet_ask ask;
	struct nu_decision decision;
	struct nu_auth auth;
	struct nu_auth_result result;
	struct nu_client_info info;
	struct nu_announce_iter ann;
	struct nu_flow flow;
	static struct nu_notice notice;
	struct nu_conn_end conn_end;
	struct nu_conn_expires conn_expires;
	struct nu_gw_stats gw_stats;
	uint64_t session;
	bool has_flow;
	bool whole;
	uint32_t needs;

	framing = nu_msg_peek_header(buf, len, &hdr);
	(void)nu_proto_strerror(framing);
	whole = framing == NU_PROTO_OK && hdr.length == len;
#define ONLY_IF(st, t) FUZZ_CHECK((st) != NU_PROTO_OK || (whole && hdr.type == (t)))
	ONLY_IF(nu_hello_decode(buf, len, &hello), NU_MSG_HELLO);
	ONLY_IF(nu_error_decode(buf, len, text, sizeof(text)), NU_MSG_ERROR);
	ONLY_IF(nu_packet_ask_decode(buf, len, &ask), NU_MSG_PACKET_ASK);
	ONLY_IF(nu_decision_decode(buf, len, &decision), NU_MSG_DECISION);
	ONLY_IF(nu_auth_result_decode(buf, len, &result), NU_MSG_AUTH_RESULT);
	ONLY_IF(nu_client_info_decode(buf, len, &info), NU_MSG_CLIENT_INFO);
	ONLY_IF(nu_announce_iter_init(&ann, buf, len), NU_MSG_ANNOUNCE);
	ONLY_IF(nu_push_decode(buf, len, &has_flow, &flow), NU_MSG_PUSH);
	ONLY_IF(nu_notice_decode(buf, len, &notice), NU_MSG_NOTICE);
	ONLY_IF(nu_needs_decode(buf, len, &needs), NU_MSG_NEEDS);
	ONLY_IF(nu_conn_end_decode(buf, len, &conn_end), NU_MSG_CONN_END);
	ONLY_IF(nu_conn_destroy_decode(buf, len, &flow), NU_MSG_CONN_DESTROY);
	ONLY_IF(nu_conn_expires_decode(buf, len, &conn_expires), NU_MSG_CONN_EXPIRES);
	ONLY_IF(nu_gw_stats_decode(buf, len, &gw_stats), NU_MSG_GW_STATS);
	ONLY_IF(nu_session_end_decode(buf, len, &session), NU_MSG_SESSION_END);
#undef ONLY_IF
	FUZZ_CHECK(nu_auth_decode(buf, len, &auth) != NU_PROTO_OK ||
		   (whole && (hdr.type == NU_MSG_AUTH_START || hdr.type == NU_MSG_AUTH_STEP)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nu_msg_header hdr;
	size_t off = 0;

	check_strict(data, size);
	walk_attrs(data, size, 0);

	/* The stream: whole messages one after the other, as a link cuts it. */
	while (size - off >= NU_MSG_HEADER_LEN) {
		uint8_t *msg;

		if (nu_msg_peek_header(data + off, size - off, &hdr) != NU_PROTO_OK)
			break;
		FUZZ_CHECK(hdr.length >= NU_MSG_HEADER_LEN && hdr.length <= NU_MSG_MAX_LEN);
		if (hdr.length > size - off)
			break;
		msg = g_memdup2(data + off, hdr.length);
		check_message(msg, hdr.length);
		g_free(msg);
		off += hdr.length;
	}
	return 0;
}
