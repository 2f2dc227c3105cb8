/* Unit tests for src/lib/proto.c: framing, writer, iterator, typed getters,
 * every message type's round trip, truncation at every length, capacity at
 * every size, malformed attributes, ANNOUNCE roll-back, and a randomized
 * mutation loop.  Inputs are copied to exact-size heap buffers so that the
 * sanitizer build catches any read past the end. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <glib.h>

#include "proto.h"
#include "unit.h"

#define BUFSZ (NU_MSG_MAX_LEN + 64)

static uint8_t *dup_exact(const uint8_t *src, size_t len)
{
	uint8_t *p = g_malloc(len ? len : 1);

	if (len)
		memcpy(p, src, len);
	return p;
}

static struct nu_flow flow4(uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct nu_flow f;

	memset(&f, 0, sizeof(f));
	f.family = AF_INET;
	f.proto = proto;
	f.sport = sport;
	f.dport = dport;
	nu_addr_from_v4(&f.saddr, htonl(0x0ac90002));
	nu_addr_from_v4(&f.daddr, htonl(0x0aca0002));
	return f;
}

static struct nu_flow flow6(uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct nu_flow f;

	memset(&f, 0, sizeof(f));
	f.family = AF_INET6;
	f.proto = proto;
	f.sport = sport;
	f.dport = dport;
	CHECK(inet_pton(AF_INET6, "2001:db8::1", &f.saddr) == 1);
	CHECK(inet_pton(AF_INET6, "2001:db8:ffff::abcd", &f.daddr) == 1);
	return f;
}

/* Decodes a message with the decoder its header type names; ANNOUNCE is
 * walked to its end (-1 maps to BAD_ATTR); KEEPALIVE only needs framing. */
static enum nu_proto_status decode_any(const uint8_t *msg, size_t len,
				       uint8_t type)
{
	union {
		struct nu_hello hello;
		struct nu_packet_ask ask;
		struct nu_decision dec;
		struct nu_auth auth;
		struct nu_auth_result res;
		struct nu_client_info info;
		struct nu_announce_conn conn;
		char text[NU_TEXT_MAX];
	} u;
	struct nu_announce_iter it;
	struct nu_msg_header hdr;
	struct nu_flow f;
	enum nu_proto_status st;
	bool has;
	int rc;

	switch (type) {
	case NU_MSG_HELLO:
		return nu_hello_decode(msg, len, &u.hello);
	case NU_MSG_ERROR:
		return nu_error_decode(msg, len, u.text, sizeof(u.text));
	case NU_MSG_KEEPALIVE:
		st = nu_msg_peek_header(msg, len, &hdr);
		if (st == NU_PROTO_OK && len < hdr.length)
			st = NU_PROTO_TRUNCATED;
		else if (st == NU_PROTO_OK && len > hdr.length)
			st = NU_PROTO_BAD_LEN;
		return st;
	case NU_MSG_PACKET_ASK:
		return nu_packet_ask_decode(msg, len, &u.ask);
	case NU_MSG_DECISION:
		return nu_decision_decode(msg, len, &u.dec);
	case NU_MSG_AUTH_START:
	case NU_MSG_AUTH_STEP:
		return nu_auth_decode(msg, len, &u.auth);
	case NU_MSG_AUTH_RESULT:
		return nu_auth_result_decode(msg, len, &u.res);
	case NU_MSG_CLIENT_INFO:
		return nu_client_info_decode(msg, len, &u.info);
	case NU_MSG_ANNOUNCE:
		st = nu_announce_iter_init(&it, msg, len);
		if (st != NU_PROTO_OK)
			return st;
		while ((rc = nu_announce_next(&it, &u.conn)) == 1)
			;
		return rc < 0 ? NU_PROTO_BAD_ATTR : NU_PROTO_OK;
	case NU_MSG_PUSH:
		return nu_push_decode(msg, len, &has, &f);
	}
	return NU_PROTO_BAD_ATTR;
}

static enum nu_proto_status decode_exact(const uint8_t *msg, size_t len,
					 uint8_t type)
{
	uint8_t *copy = dup_exact(msg, len);
	enum nu_proto_status st = decode_any(len ? copy : NULL, len, type);

	g_free(copy);
	return st;
}

/* ---- Sample messages ---------------------------------------------------- */

struct sample {
	uint8_t type;
	uint8_t buf[2048];
	size_t len;
};

#define NSAMPLES 20
static struct sample samples[NSAMPLES];
static int nsamples;

/* Encodes sample i into buf with capacity cap. */
static enum nu_proto_status encode_sample(int i, uint8_t *buf, size_t cap,
					  size_t *out_len)
{
	static const uint8_t sasl[] = { 0, 1, 2, 'n', 'u', 0, 0xff };
	struct nu_hello h;
	struct nu_packet_ask a;
	struct nu_decision d;
	struct nu_auth_result r;
	struct nu_client_info ci;
	struct nu_flow f;
	struct nu_msg_writer w;
	struct nu_announce_conn c;
	enum nu_proto_status st;

	switch (i) {
	case 0:
		memset(&h, 0, sizeof(h));
		h.version_min = 1;
		h.version_max = 1;
		h.role = NU_ROLE_GATEWAY;
		strcpy(h.software, "nufw 3.0");
		return nu_hello_encode(buf, cap, &h, out_len);
	case 1:
		memset(&h, 0, sizeof(h));
		h.version_min = 1;
		h.version_max = 4;
		h.role = NU_ROLE_SERVER;
		strcpy(h.mech_list, "PLAIN SCRAM-SHA-256 EXTERNAL");
		return nu_hello_encode(buf, cap, &h, out_len);
	case 2:
		return nu_error_encode(buf, cap, "no common protocol version", out_len);
	case 3:
		return nu_keepalive_encode(buf, cap, 0xdeadbeef, out_len);
	case 4:
		memset(&a, 0, sizeof(a));
		a.packet_id = 77;
		a.flow = flow4(IPPROTO_TCP, 40000, 80);
		a.mark = 0x1234;
		strcpy(a.indev, "eth0");
		strcpy(a.outdev, "eth1");
		return nu_packet_ask_encode(buf, cap, &a, out_len);
	case 5:
		memset(&a, 0, sizeof(a));
		a.packet_id = 0xffffffff;
		a.flow = flow6(IPPROTO_ICMPV6, 0, 0);
		a.icmp_type = 128;
		return nu_packet_ask_encode(buf, cap, &a, out_len);
	case 6:
		memset(&d, 0, sizeof(d));
		d.packet_id = 77;
		d.verdict = NU_VERDICT_ACCEPT;
		d.has_mark = true;
		d.mark = 1000;
		d.has_expires = true;
		d.expires_in = 3600;
		return nu_decision_encode(buf, cap, &d, out_len);
	case 7:
		memset(&d, 0, sizeof(d));
		d.packet_id = 78;
		d.verdict = NU_VERDICT_REJECT;
		return nu_decision_encode(buf, cap, &d, out_len);
	case 8:
		return nu_auth_start_encode(buf, cap, "PLAIN", sasl, sizeof(sasl),
					    true, NULL, out_len);
	case 9:
		return nu_auth_start_encode(buf, cap, "SCRAM-SHA-256", NULL, 0,
					    false, NULL, out_len);
	case 10:
		return nu_auth_step_encode(buf, cap, sasl, sizeof(sasl), out_len);
	case 11:
		return nu_auth_step_encode(buf, cap, NULL, 0, out_len);
	case 12:
		memset(&r, 0, sizeof(r));
		r.result = NU_AUTH_OK;
		strcpy(r.user, "alice");
		strcpy(r.text, "welcome");
		return nu_auth_result_encode(buf, cap, &r, out_len);
	case 13:
		memset(&ci, 0, sizeof(ci));
		strcpy(ci.sysname, "Linux");
		strcpy(ci.release, "6.8.0");
		strcpy(ci.version, "#1 SMP PREEMPT_DYNAMIC");
		return nu_client_info_encode(buf, cap, &ci, out_len);
	case 14:
		f = flow6(IPPROTO_TCP, 50000, 22);
		return nu_push_encode(buf, cap, &f, out_len);
	case 15:
		return nu_push_encode(buf, cap, NULL, out_len);
	case 16:
		nu_announce_begin(&w, buf, cap);
		memset(&c, 0, sizeof(c));
		c.flow = flow4(IPPROTO_TCP, 40001, 443);
		strcpy(c.app, "/usr/bin/firefox");
		nu_announce_add(&w, &c);
		c.flow = flow6(IPPROTO_UDP, 5353, 53);
		c.app[0] = '\0';
		nu_announce_add(&w, &c);
		st = nu_msg_finish(&w, out_len);
		/* a message that holds fewer CONNs than asked is a failure
		 * for this test's purposes */
		if (st == NU_PROTO_OK && *out_len < 8 + 4 + 4 + 14 + 4 + 16 + 4 + 4 + 38)
			return NU_PROTO_NO_SPACE;
		return st;
	}
	return NU_PROTO_NO_SPACE;
}

static void build_samples(void)
{
	int i;

	for (i = 0; i <= 16; i++) {
		struct sample *s = &samples[nsamples];

		CHECK(encode_sample(i, s->buf, sizeof(s->buf), &s->len) == NU_PROTO_OK);
		s->type = s->buf[1];
		nsamples++;
	}
}

/* ---- Framing ------------------------------------------------------------ */

static void test_header(void)
{
	uint8_t b[8] = { 1, NU_MSG_DECISION, 0, 8, 0, 0, 1, 2 };
	struct nu_msg_header h;
	size_t n;

	CHECK(nu_msg_peek_header(b, sizeof(b), &h) == NU_PROTO_OK);
	CHECK(h.version == 1 && h.type == NU_MSG_DECISION && h.length == 8);
	CHECK(h.id == 0x102);
	for (n = 0; n < 8; n++)
		CHECK(nu_msg_peek_header(b, n, &h) == NU_PROTO_TRUNCATED);
	CHECK(nu_msg_peek_header(NULL, 0, &h) == NU_PROTO_TRUNCATED);
	b[0] = 2;
	CHECK(nu_msg_peek_header(b, sizeof(b), &h) == NU_PROTO_BAD_VERSION);
	b[0] = 0;
	CHECK(nu_msg_peek_header(b, sizeof(b), &h) == NU_PROTO_BAD_VERSION);
	b[0] = 1;
	b[2] = 0; b[3] = 7;
	CHECK(nu_msg_peek_header(b, sizeof(b), &h) == NU_PROTO_BAD_LEN);
	b[3] = 0;
	CHECK(nu_msg_peek_header(b, sizeof(b), &h) == NU_PROTO_BAD_LEN);
	b[2] = 0x40; b[3] = 0x00;		/* 16384: largest allowed */
	CHECK(nu_msg_peek_header(b, sizeof(b), &h) == NU_PROTO_OK);
	CHECK(h.length == NU_MSG_MAX_LEN);
	b[3] = 0x01;				/* 16385 */
	CHECK(nu_msg_peek_header(b, sizeof(b), &h) == NU_PROTO_BAD_LEN);
	b[2] = 0xff; b[3] = 0xff;
	CHECK(nu_msg_peek_header(b, sizeof(b), &h) == NU_PROTO_BAD_LEN);
}

static void test_strings(void)
{
	int s;

	for (s = NU_PROTO_OK; s <= NU_PROTO_NO_SPACE; s++)
		CHECK(nu_proto_strerror((enum nu_proto_status)s) != NULL);
	CHECK(nu_proto_strerror((enum nu_proto_status)77) != NULL);
	CHECK(strcmp(nu_msg_type_name(NU_MSG_PACKET_ASK), "PACKET_ASK") == 0);
	CHECK(strcmp(nu_msg_type_name(NU_MSG_PUSH), "PUSH") == 0);
	CHECK(strcmp(nu_msg_type_name(200), "UNKNOWN") == 0);
}

/* ---- Writer ------------------------------------------------------------- */

static void test_writer(void)
{
	static uint8_t big[BUFSZ], src[2 * NU_MSG_MAX_LEN];
	uint8_t buf[64];
	struct nu_msg_writer w;
	struct nu_attr_iter it, in;
	struct nu_attr a, b;
	size_t len, mark, mark2;
	uint32_t v32;
	uint8_t v8;

	/* nested attributes, two levels */
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_ANNOUNCE, 5);
	nu_msg_put_u8(&w, 100, 9);
	mark = nu_msg_nest_start(&w, 101);
	nu_msg_put_u32(&w, 102, 0xa1b2c3d4);
	mark2 = nu_msg_nest_start(&w, 103);
	nu_msg_put_str(&w, 104, "x");
	nu_msg_nest_end(&w, mark2);
	nu_msg_nest_end(&w, mark);
	nu_msg_put_bytes(&w, 105, NULL, 0);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(len == 8 + 5 + 4 + 8 + 4 + 5 + 4);
	CHECK(buf[0] == 1 && buf[1] == NU_MSG_ANNOUNCE);
	CHECK(buf[2] == 0 && buf[3] == len && buf[7] == 5);
	nu_attr_iter_init(&it, buf + 8, len - 8);
	CHECK(nu_attr_next(&it, &a) == 1 && a.type == 100 && nu_attr_get_u8(&a, &v8) && v8 == 9);
	CHECK(nu_attr_next(&it, &a) == 1 && a.type == 101 && a.len == 8 + 4 + 5);
	nu_attr_iter_init(&in, a.value, a.len);
	CHECK(nu_attr_next(&in, &b) == 1 && b.type == 102 &&
	      nu_attr_get_u32(&b, &v32) && v32 == 0xa1b2c3d4);
	CHECK(nu_attr_next(&in, &b) == 1 && b.type == 103 && b.len == 5);
	CHECK(nu_attr_next(&in, &b) == 0);
	CHECK(nu_attr_next(&it, &a) == 1 && a.type == 105 && a.len == 0);
	CHECK(nu_attr_next(&it, &a) == 0);

	/* sticky overflow: a later small put does not write */
	nu_msg_begin(&w, buf, 16, NU_MSG_HELLO, 0);
	nu_msg_put_u32(&w, 1, 1);	/* 16 bytes: fits exactly */
	CHECK(!w.overflow && w.len == 16);
	nu_msg_put_u8(&w, 2, 1);
	CHECK(w.overflow && w.len == 16);
	nu_msg_begin(&w, buf, 20, NU_MSG_HELLO, 0);
	nu_msg_put_bytes(&w, 1, "0123456789", 10);
	nu_msg_put_u8(&w, 2, 1);	/* would fit after the failed put */
	CHECK(w.overflow && w.len == 8);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_NO_SPACE && len == 0);

	/* capacity below the header */
	nu_msg_begin(&w, buf, 7, NU_MSG_HELLO, 0);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_NO_SPACE);
	nu_msg_begin(&w, NULL, 0, NU_MSG_HELLO, 0);
	nu_msg_put_u8(&w, 1, 1);
	CHECK(nu_msg_finish(&w, NULL) == NU_PROTO_NO_SPACE);

	/* NU_MSG_MAX_LEN: exactly fits, one more does not */
	nu_msg_begin(&w, big, sizeof(big), NU_MSG_AUTH_STEP, 0);
	nu_msg_put_bytes(&w, NU_ATTR_SASL_DATA, src, NU_MSG_MAX_LEN - 12);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK && len == NU_MSG_MAX_LEN);
	nu_msg_begin(&w, big, sizeof(big), NU_MSG_AUTH_STEP, 0);
	nu_msg_put_bytes(&w, NU_ATTR_SASL_DATA, src, NU_MSG_MAX_LEN - 11);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_NO_SPACE);
	/* an attribute value above 65535 cannot be described */
	nu_msg_begin(&w, big, sizeof(big), NU_MSG_AUTH_STEP, 0);
	nu_msg_put_bytes(&w, NU_ATTR_SASL_DATA, src, 70000);
	CHECK(w.overflow && w.len == 8);

	/* a flow of unknown family cannot be encoded */
	{
		struct nu_flow f = flow4(IPPROTO_TCP, 1, 2);

		f.family = 0;
		nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_PUSH, 0);
		nu_msg_put_flow(&w, NU_ATTR_FLOW, &f);
		CHECK(nu_msg_finish(&w, &len) == NU_PROTO_NO_SPACE);
		CHECK(nu_push_encode(buf, sizeof(buf), &f, &len) == NU_PROTO_BAD_ATTR);
	}
}

/* ---- Iterator and getters ---------------------------------------------- */

static void test_iter(void)
{
	uint8_t raw[16];
	uint8_t *p;
	struct nu_attr_iter it;
	struct nu_attr a;
	size_t n;

	nu_attr_iter_init(&it, raw, 0);
	CHECK(nu_attr_next(&it, &a) == 0);
	nu_attr_iter_init(&it, NULL, 0);
	CHECK(nu_attr_next(&it, &a) == 0);

	/* one attribute of 4 value bytes, 8 bytes in all */
	memcpy(raw, "\x00\x07\x00\x04\x01\x02\x03\x04", 8);
	for (n = 1; n < 8; n++) {
		p = dup_exact(raw, n);
		nu_attr_iter_init(&it, p, n);
		CHECK(nu_attr_next(&it, &a) == -1);
		CHECK(nu_attr_next(&it, &a) == -1);	/* stays malformed */
		g_free(p);
	}
	p = dup_exact(raw, 8);
	nu_attr_iter_init(&it, p, 8);
	CHECK(nu_attr_next(&it, &a) == 1 && a.type == 7 && a.len == 4 && a.value == p + 4);
	CHECK(nu_attr_next(&it, &a) == 0);
	g_free(p);

	/* lengths that would run the pointer far past the end */
	memcpy(raw, "\x00\x07\xff\xff\x01\x02\x03\x04", 8);
	p = dup_exact(raw, 8);
	nu_attr_iter_init(&it, p, 8);
	CHECK(nu_attr_next(&it, &a) == -1);
	g_free(p);
	memcpy(raw, "\x00\x07\x00\x05\x01\x02\x03\x04", 8);
	p = dup_exact(raw, 8);
	nu_attr_iter_init(&it, p, 8);
	CHECK(nu_attr_next(&it, &a) == -1);
	g_free(p);
	/* a good attribute followed by 3 stray bytes */
	memcpy(raw, "\x00\x01\x00\x00\x00\x02\x00", 7);
	p = dup_exact(raw, 7);
	nu_attr_iter_init(&it, p, 7);
	CHECK(nu_attr_next(&it, &a) == 1 && a.len == 0);
	CHECK(nu_attr_next(&it, &a) == -1);
	g_free(p);
}

static void test_getters(void)
{
	uint8_t v[64];
	struct nu_attr a = { .type = 1, .value = v };
	struct nu_flow f, want;
	char s[8];
	uint8_t u8;
	uint32_t u32;
	uint16_t n;

	memset(v, 0x41, sizeof(v));
	for (n = 0; n < 8; n++) {
		a.len = n;
		CHECK(nu_attr_get_u8(&a, &u8) == (n == 1));
		CHECK(nu_attr_get_u32(&a, &u32) == (n == 4));
	}
	v[0] = 1; v[1] = 2; v[2] = 3; v[3] = 4;
	a.len = 4;
	CHECK(nu_attr_get_u32(&a, &u32) && u32 == 0x01020304);

	/* strings: the value must fit cap - 1 and hold no NUL */
	memset(v, 'a', sizeof(v));
	a.len = 7;
	CHECK(nu_attr_get_str(&a, s, sizeof(s)) && strcmp(s, "aaaaaaa") == 0);
	a.len = 8;
	CHECK(!nu_attr_get_str(&a, s, sizeof(s)));
	a.len = 0;
	CHECK(nu_attr_get_str(&a, s, sizeof(s)) && s[0] == '\0');
	CHECK(!nu_attr_get_str(&a, s, 0));
	a.len = 3;
	v[1] = '\0';
	CHECK(!nu_attr_get_str(&a, s, sizeof(s)));
	v[1] = 'a';
	a.len = 1;
	v[0] = '\0';
	CHECK(!nu_attr_get_str(&a, s, sizeof(s)));

	/* flows: exact sizes per family */
	memset(v, 0, sizeof(v));
	v[0] = 4; v[1] = IPPROTO_UDP; v[2] = 0x12; v[3] = 0x34; v[4] = 0; v[5] = 53;
	v[6] = 192; v[7] = 0; v[8] = 2; v[9] = 1;
	v[10] = 198; v[11] = 51; v[12] = 100; v[13] = 7;
	want = flow4(IPPROTO_UDP, 0x1234, 53);
	nu_addr_from_v4(&want.saddr, htonl(0xc0000201));
	nu_addr_from_v4(&want.daddr, htonl(0xc6336407));
	for (n = 0; n < 64; n++) {
		a.len = n;
		CHECK(nu_attr_get_flow(&a, &f) == (n == 14));
	}
	a.len = 14;
	CHECK(nu_attr_get_flow(&a, &f) && nu_flow_equal(&f, &want));
	v[0] = 6;
	for (n = 0; n < 64; n++) {
		a.len = n;
		CHECK(nu_attr_get_flow(&a, &f) == (n == 38));
	}
	a.len = 38;
	CHECK(nu_attr_get_flow(&a, &f) && f.family == AF_INET6 && f.sport == 0x1234);
	v[0] = 5;
	CHECK(!nu_attr_get_flow(&a, &f));
	v[0] = 0;
	a.len = 14;
	CHECK(!nu_attr_get_flow(&a, &f));
}

/* ---- Round trips --------------------------------------------------------- */

static void test_roundtrips(void)
{
	struct nu_hello h;
	struct nu_packet_ask a;
	struct nu_decision d;
	struct nu_auth au;
	struct nu_auth_result r;
	struct nu_client_info ci;
	struct nu_msg_header hdr;
	struct nu_flow f;
	char text[NU_TEXT_MAX];
	bool has;
	int i;

	CHECK(nu_hello_decode(samples[0].buf, samples[0].len, &h) == NU_PROTO_OK);
	CHECK(h.version_min == 1 && h.version_max == 1 && h.role == NU_ROLE_GATEWAY);
	CHECK(strcmp(h.software, "nufw 3.0") == 0 && h.mech_list[0] == '\0');
	CHECK(nu_hello_decode(samples[1].buf, samples[1].len, &h) == NU_PROTO_OK);
	CHECK(h.version_max == 4 && h.role == NU_ROLE_SERVER && h.software[0] == '\0');
	CHECK(strcmp(h.mech_list, "PLAIN SCRAM-SHA-256 EXTERNAL") == 0);

	CHECK(nu_error_decode(samples[2].buf, samples[2].len, text, sizeof(text)) == NU_PROTO_OK);
	CHECK(strcmp(text, "no common protocol version") == 0);
	CHECK(nu_error_decode(samples[2].buf, samples[2].len, text, 5) == NU_PROTO_BAD_ATTR);

	CHECK(samples[3].len == 8);
	CHECK(nu_msg_peek_header(samples[3].buf, 8, &hdr) == NU_PROTO_OK);
	CHECK(hdr.type == NU_MSG_KEEPALIVE && hdr.id == 0xdeadbeef && hdr.length == 8);

	CHECK(nu_packet_ask_decode(samples[4].buf, samples[4].len, &a) == NU_PROTO_OK);
	f = flow4(IPPROTO_TCP, 40000, 80);
	CHECK(a.packet_id == 77 && nu_flow_equal(&a.flow, &f) && a.mark == 0x1234);
	CHECK(strcmp(a.indev, "eth0") == 0 && strcmp(a.outdev, "eth1") == 0);
	CHECK(samples[4].len == 8 + 4 + 14 + 4 + 4 + 4 + 4 + 4 + 4);
	CHECK(nu_packet_ask_decode(samples[5].buf, samples[5].len, &a) == NU_PROTO_OK);
	f = flow6(IPPROTO_ICMPV6, 0, 0);
	CHECK(a.packet_id == 0xffffffff && nu_flow_equal(&a.flow, &f));
	CHECK(a.mark == 0 && a.icmp_type == 128 && a.indev[0] == '\0');

	CHECK(nu_decision_decode(samples[6].buf, samples[6].len, &d) == NU_PROTO_OK);
	CHECK(d.packet_id == 77 && d.verdict == NU_VERDICT_ACCEPT && d.has_mark && d.mark == 1000);
	CHECK(d.has_expires && d.expires_in == 3600);
	CHECK(samples[6].len == 8 + 4 + 1 + 4 + 4 + 4 + 4);
	CHECK(nu_decision_decode(samples[7].buf, samples[7].len, &d) == NU_PROTO_OK);
	CHECK(d.packet_id == 78 && d.verdict == NU_VERDICT_REJECT && !d.has_mark && !d.has_expires);
	CHECK(d.not_owner == 0);
	{
		/* a cluster node's "not mine" (NOT_OWNER): 5 more bytes, and
		 * only 0 or 1 */
		struct nu_decision nm = { .packet_id = 79, .verdict = NU_VERDICT_DROP,
					  .not_owner = 1 };
		uint8_t b[64];
		size_t n;

		CHECK(nu_decision_encode(b, sizeof(b), &nm, &n) == NU_PROTO_OK && n == 8 + 5 + 5);
		CHECK(nu_decision_decode(b, n, &d) == NU_PROTO_OK && d.not_owner == 1 &&
		      d.packet_id == 79 && d.verdict == NU_VERDICT_DROP && !d.has_mark);
		b[n - 1] = 2;
		CHECK(nu_decision_decode(b, n, &d) == NU_PROTO_BAD_ATTR);
	}
	{
		/* an accept for a client session: SESSION, 12 more bytes */
		struct nu_decision ac = { .packet_id = 80, .verdict = NU_VERDICT_ACCEPT,
					  .session = 0x0102030405060708ull };
		uint8_t b[64];
		size_t n;

		CHECK(nu_decision_encode(b, sizeof(b), &ac, &n) == NU_PROTO_OK && n == 8 + 5 + 12);
		CHECK(nu_decision_decode(b, n, &d) == NU_PROTO_OK &&
		      d.session == 0x0102030405060708ull && !d.not_owner);
		/* SESSION_END: the tag alone; 0 is no tag */
		CHECK(nu_session_end_encode(b, sizeof(b), 0, &n) == NU_PROTO_BAD_ATTR);
		CHECK(nu_session_end_encode(b, sizeof(b), 42, &n) == NU_PROTO_OK && n == 8 + 12);
		{
			uint64_t tag;

			CHECK(nu_session_end_decode(b, n, &tag) == NU_PROTO_OK && tag == 42);
			CHECK(nu_session_end_decode(b, n - 1, &tag) != NU_PROTO_OK);
			memset(b + n - 8, 0, 8);
			CHECK(nu_session_end_decode(b, n, &tag) == NU_PROTO_BAD_ATTR);
			b[1] = NU_MSG_CONN_DESTROY;
			CHECK(nu_session_end_decode(b, n, &tag) != NU_PROTO_OK);
		}
		CHECK(strcmp(nu_msg_type_name(NU_MSG_SESSION_END), "SESSION_END") == 0);
	}
	CHECK(nu_auth_decode(samples[8].buf, samples[8].len, &au) == NU_PROTO_OK);
	CHECK(strcmp(au.mech, "PLAIN") == 0 && au.has_data && au.data_len == 7);
	CHECK(au.data == samples[8].buf + samples[8].len - 7);
	CHECK(memcmp(au.data, "\0\1\2nu\0\xff", 7) == 0);
	CHECK(nu_auth_decode(samples[9].buf, samples[9].len, &au) == NU_PROTO_OK);
	CHECK(strcmp(au.mech, "SCRAM-SHA-256") == 0 && !au.has_data);
	CHECK(nu_auth_decode(samples[10].buf, samples[10].len, &au) == NU_PROTO_OK);
	CHECK(au.mech[0] == '\0' && au.has_data && au.data_len == 7);
	CHECK(nu_auth_decode(samples[11].buf, samples[11].len, &au) == NU_PROTO_OK);
	CHECK(au.has_data && au.data_len == 0);

	CHECK(nu_auth_result_decode(samples[12].buf, samples[12].len, &r) == NU_PROTO_OK);
	CHECK(r.result == NU_AUTH_OK && strcmp(r.user, "alice") == 0 &&
	      strcmp(r.text, "welcome") == 0);

	CHECK(nu_client_info_decode(samples[13].buf, samples[13].len, &ci) == NU_PROTO_OK);
	CHECK(strcmp(ci.sysname, "Linux") == 0 && strcmp(ci.release, "6.8.0") == 0);
	CHECK(strcmp(ci.version, "#1 SMP PREEMPT_DYNAMIC") == 0);

	CHECK(nu_push_decode(samples[14].buf, samples[14].len, &has, &f) == NU_PROTO_OK);
	{
		struct nu_flow want = flow6(IPPROTO_TCP, 50000, 22);

		CHECK(has && nu_flow_equal(&f, &want));
	}
	CHECK(nu_push_decode(samples[15].buf, samples[15].len, &has, &f) == NU_PROTO_OK);
	CHECK(!has && samples[15].len == 8);

	{
		struct nu_announce_iter it;
		struct nu_announce_conn c;
		struct nu_flow w1 = flow4(IPPROTO_TCP, 40001, 443);
		struct nu_flow w2 = flow6(IPPROTO_UDP, 5353, 53);

		CHECK(nu_announce_iter_init(&it, samples[16].buf, samples[16].len) == NU_PROTO_OK);
		CHECK(nu_announce_next(&it, &c) == 1);
		CHECK(nu_flow_equal(&c.flow, &w1) && strcmp(c.app, "/usr/bin/firefox") == 0);
		CHECK(nu_announce_next(&it, &c) == 1);
		CHECK(nu_flow_equal(&c.flow, &w2) && c.app[0] == '\0');
		CHECK(nu_announce_next(&it, &c) == 0);
	}

	/* every sample: header agrees with the buffer */
	for (i = 0; i < nsamples; i++) {
		CHECK(nu_msg_peek_header(samples[i].buf, samples[i].len, &hdr) == NU_PROTO_OK);
		CHECK(hdr.length == samples[i].len && hdr.version == NU_PROTO_VERSION);
		CHECK(decode_exact(samples[i].buf, samples[i].len, samples[i].type) == NU_PROTO_OK);
	}

	/* each verdict */
	for (i = 0; i < 256; i++) {
		uint8_t buf[32];
		size_t len;

		memset(&d, 0, sizeof(d));
		d.verdict = (uint8_t)i;
		CHECK(nu_decision_encode(buf, sizeof(buf), &d, &len) == NU_PROTO_OK);
		if (i == NU_VERDICT_DROP || i == NU_VERDICT_ACCEPT || i == NU_VERDICT_REJECT)
			CHECK(nu_decision_decode(buf, len, &d) == NU_PROTO_OK && d.verdict == i);
		else
			CHECK(nu_decision_decode(buf, len, &d) == NU_PROTO_BAD_ATTR);
	}
}

static void test_encoder_limits(void)
{
	uint8_t buf[BUFSZ];
	struct nu_hello h;
	char longtext[600];
	char text[NU_TEXT_MAX];
	static uint8_t data[NU_SASL_DATA_MAX + 1];
	struct nu_auth au;
	size_t len;

	/* ERROR text is cut to NU_TEXT_MAX - 1 */
	memset(longtext, 'e', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	CHECK(nu_error_encode(buf, sizeof(buf), longtext, &len) == NU_PROTO_OK);
	CHECK(nu_error_decode(buf, len, text, sizeof(text)) == NU_PROTO_OK);
	CHECK(strlen(text) == NU_TEXT_MAX - 1);
	CHECK(nu_error_encode(buf, sizeof(buf), NULL, &len) == NU_PROTO_OK);

	/* an unterminated field is refused */
	memset(&h, 0, sizeof(h));
	h.version_min = h.version_max = 1;
	h.role = NU_ROLE_CLIENT;
	memset(h.software, 'x', sizeof(h.software));
	CHECK(nu_hello_encode(buf, sizeof(buf), &h, &len) == NU_PROTO_BAD_ATTR);
	h.software[sizeof(h.software) - 1] = '\0';
	CHECK(nu_hello_encode(buf, sizeof(buf), &h, &len) == NU_PROTO_OK);

	/* SASL data bounds and mechanism names */
	CHECK(nu_auth_step_encode(buf, sizeof(buf), data, NU_SASL_DATA_MAX, &len) == NU_PROTO_OK);
	CHECK(nu_auth_decode(buf, len, &au) == NU_PROTO_OK && au.data_len == NU_SASL_DATA_MAX);
	CHECK(nu_auth_step_encode(buf, sizeof(buf), data, NU_SASL_DATA_MAX + 1, &len) == NU_PROTO_BAD_ATTR);
	CHECK(nu_auth_start_encode(buf, sizeof(buf), "", NULL, 0, false, NULL, &len) == NU_PROTO_BAD_ATTR);
	CHECK(nu_auth_start_encode(buf, sizeof(buf), NULL, NULL, 0, false, NULL, &len) == NU_PROTO_BAD_ATTR);
	memset(longtext, 'M', NU_NAME_MAX);
	longtext[NU_NAME_MAX] = '\0';
	CHECK(nu_auth_start_encode(buf, sizeof(buf), longtext, NULL, 0, false, NULL, &len) == NU_PROTO_BAD_ATTR);
	longtext[NU_NAME_MAX - 1] = '\0';
	CHECK(nu_auth_start_encode(buf, sizeof(buf), longtext, NULL, 0, false, NULL, &len) == NU_PROTO_OK);
	/* an oversized SASL_DATA written by hand is refused by the decoder */
	{
		struct nu_msg_writer w;

		nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_AUTH_STEP, 0);
		nu_msg_put_bytes(&w, NU_ATTR_SASL_DATA, data, NU_SASL_DATA_MAX + 1);
		CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
		CHECK(nu_auth_decode(buf, len, &au) == NU_PROTO_BAD_ATTR);
	}
}

/* Every capacity below the encoded size fails without writing past it. */
static void test_capacities(void)
{
	int i, bad = 0;
	size_t cap, len;

	for (i = 0; i < nsamples; i++) {
		for (cap = 0; cap <= samples[i].len; cap++) {
			uint8_t *buf = g_malloc(cap + 1);
			enum nu_proto_status st;

			buf[cap] = 0xee;
			len = 12345;
			st = encode_sample(i, cap ? buf : NULL, cap, &len);
			if (cap < samples[i].len) {
				if (st != NU_PROTO_NO_SPACE || buf[cap] != 0xee)
					bad++;
			} else if (st != NU_PROTO_OK || len != samples[i].len ||
				   memcmp(buf, samples[i].buf, len) != 0) {
				bad++;
			}
			g_free(buf);
		}
	}
	CHECK(bad == 0);
}

/* Truncation, trailing bytes, wrong type, wrong version, and a header length
 * that cuts the attributes. */
static void test_malformed_framing(void)
{
	uint8_t tmp[2048 + 1];
	int i, bad = 0;
	size_t n;

	for (i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];
		struct nu_attr_iter it;
		struct nu_attr a;
		size_t bounds[64];
		int nb = 0, k;
		bool at_bound;

		for (n = 0; n < s->len; n++)
			if (decode_exact(s->buf, n, s->type) != NU_PROTO_TRUNCATED)
				bad++;

		memcpy(tmp, s->buf, s->len);
		tmp[s->len] = 0;
		if (decode_exact(tmp, s->len + 1, s->type) != NU_PROTO_BAD_LEN)
			bad++;

		memcpy(tmp, s->buf, s->len);
		tmp[0] = 2;
		if (decode_exact(tmp, s->len, s->type) != NU_PROTO_BAD_VERSION)
			bad++;

		/* the header type differs from the decoder's */
		memcpy(tmp, s->buf, s->len);
		tmp[1] = s->type == NU_MSG_PUSH ? NU_MSG_HELLO : NU_MSG_PUSH;
		if (s->type != NU_MSG_KEEPALIVE &&
		    decode_any(tmp, s->len, s->type) != NU_PROTO_BAD_ATTR)
			bad++;

		/* header length cut short: mid-attribute is BAD_ATTR */
		nu_attr_iter_init(&it, s->buf + 8, s->len - 8);
		bounds[nb++] = 8;
		while (nu_attr_next(&it, &a) == 1 && nb < 64)
			bounds[nb++] = (size_t)(a.value + a.len - s->buf);
		for (n = 8; n < s->len; n++) {
			enum nu_proto_status st;

			memcpy(tmp, s->buf, n);
			tmp[2] = (uint8_t)(n >> 8);
			tmp[3] = (uint8_t)n;
			st = decode_exact(tmp, n, s->type);
			at_bound = false;
			for (k = 0; k < nb; k++)
				at_bound |= bounds[k] == n;
			if (!at_bound && st != NU_PROTO_BAD_ATTR)
				bad++;
			if (at_bound && st != NU_PROTO_OK && st != NU_PROTO_MISSING_ATTR)
				bad++;
		}
	}
	CHECK(bad == 0);
}

/* Hand-built messages with a writer, for the attribute-level rules. */
static size_t build(uint8_t *buf, uint8_t type, const uint8_t *attrs, size_t alen)
{
	buf[0] = NU_PROTO_VERSION;
	buf[1] = type;
	buf[2] = (uint8_t)((8 + alen) >> 8);
	buf[3] = (uint8_t)(8 + alen);
	memset(buf + 4, 0, 4);
	memcpy(buf + 8, attrs, alen);
	return 8 + alen;
}

#define ATTRS(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static void test_attr_rules(void)
{
	uint8_t m[256];
	struct nu_hello h;
	struct nu_decision d;
	struct nu_auth au;
	struct nu_auth_result r;
	struct nu_client_info ci;
	struct nu_packet_ask a;
	struct nu_flow f;
	char text[64];
	bool has;
	size_t n;

	/* HELLO: unknown attributes (999, and MARK which HELLO does not use)
	 * are skipped */
	n = build(m, NU_MSG_HELLO, ATTRS(0x03, 0xe7, 0, 3, 'a', 'b', 'c',
					 0, 1, 0, 1, 1,
					 0, 7, 0, 4, 1, 2, 3, 4,
					 0, 2, 0, 1, 3,
					 0, 3, 0, 1, 2,
					 0x80, 0, 0, 0));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_OK);
	CHECK(h.version_min == 1 && h.version_max == 3 && h.role == NU_ROLE_CLIENT);
	/* wrong-size typed attributes */
	n = build(m, NU_MSG_HELLO, ATTRS(0, 1, 0, 2, 0, 1, 0, 2, 0, 1, 1, 0, 3, 0, 1, 2));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_BAD_ATTR);
	n = build(m, NU_MSG_HELLO, ATTRS(0, 1, 0, 1, 1, 0, 2, 0, 0, 0, 3, 0, 1, 2));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_BAD_ATTR);
	/* role out of range, min > max, duplicates, missing */
	n = build(m, NU_MSG_HELLO, ATTRS(0, 1, 0, 1, 1, 0, 2, 0, 1, 1, 0, 3, 0, 1, 9));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_BAD_ATTR);
	n = build(m, NU_MSG_HELLO, ATTRS(0, 1, 0, 1, 2, 0, 2, 0, 1, 1, 0, 3, 0, 1, 2));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_BAD_ATTR);
	n = build(m, NU_MSG_HELLO, ATTRS(0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 2, 0, 1, 1,
					 0, 3, 0, 1, 2));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_BAD_ATTR);
	n = build(m, NU_MSG_HELLO, ATTRS(0, 1, 0, 1, 1, 0, 2, 0, 1, 1));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_MISSING_ATTR);
	n = build(m, NU_MSG_HELLO, ATTRS(0));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_BAD_ATTR);
	/* a string attribute with a NUL inside */
	n = build(m, NU_MSG_HELLO, ATTRS(0, 1, 0, 1, 1, 0, 2, 0, 1, 1, 0, 3, 0, 1, 2,
					 0, 4, 0, 3, 'a', 0, 'b'));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_BAD_ATTR);
	/* attribute length running past the end of the message */
	n = build(m, NU_MSG_HELLO, ATTRS(0, 1, 0, 1, 1, 0, 2, 0, 1, 1, 0, 3, 0, 2, 2));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_BAD_ATTR);
	n = build(m, NU_MSG_HELLO, ATTRS(0, 1, 0xff, 0xff, 1));
	CHECK(nu_hello_decode(m, n, &h) == NU_PROTO_BAD_ATTR);

	n = build(m, NU_MSG_ERROR, ATTRS(0, 99, 0, 0));
	CHECK(nu_error_decode(m, n, text, sizeof(text)) == NU_PROTO_MISSING_ATTR);
	n = build(m, NU_MSG_ERROR, ATTRS(0, 5, 0, 0));
	CHECK(nu_error_decode(m, n, text, sizeof(text)) == NU_PROTO_OK && text[0] == '\0');

	n = build(m, NU_MSG_PACKET_ASK, ATTRS(0, 7, 0, 4, 0, 0, 0, 1));
	CHECK(nu_packet_ask_decode(m, n, &a) == NU_PROTO_MISSING_ATTR);
	n = build(m, NU_MSG_PACKET_ASK, ATTRS(0, 6, 0, 13, 4, 6, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2));
	CHECK(nu_packet_ask_decode(m, n, &a) == NU_PROTO_BAD_ATTR);
	n = build(m, NU_MSG_PACKET_ASK, ATTRS(0, 6, 0, 14, 4, 6, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2,
					      0, 9, 0, 16, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
					      'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'));
	CHECK(nu_packet_ask_decode(m, n, &a) == NU_PROTO_BAD_ATTR);	/* INDEV too long */
	n = build(m, NU_MSG_PACKET_ASK, ATTRS(0, 6, 0, 14, 4, 6, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2,
					      0, 7, 0, 2, 0, 1));
	CHECK(nu_packet_ask_decode(m, n, &a) == NU_PROTO_BAD_ATTR);	/* MARK u16 */

	n = build(m, NU_MSG_DECISION, ATTRS(0, 7, 0, 4, 0, 0, 0, 1));
	CHECK(nu_decision_decode(m, n, &d) == NU_PROTO_MISSING_ATTR);
	n = build(m, NU_MSG_DECISION, ATTRS(0, 8, 0, 1, 1, 0, 8, 0, 1, 0));
	CHECK(nu_decision_decode(m, n, &d) == NU_PROTO_BAD_ATTR);	/* twice */
	n = build(m, NU_MSG_DECISION, ATTRS(0, 8, 0, 4, 0, 0, 0, 1));
	CHECK(nu_decision_decode(m, n, &d) == NU_PROTO_BAD_ATTR);

	n = build(m, NU_MSG_AUTH_START, ATTRS(0, 13, 0, 1, 'x'));
	CHECK(nu_auth_decode(m, n, &au) == NU_PROTO_MISSING_ATTR);
	n = build(m, NU_MSG_AUTH_START, ATTRS(0, 11, 0, 0));
	CHECK(nu_auth_decode(m, n, &au) == NU_PROTO_BAD_ATTR);	/* empty MECH */
	n = build(m, NU_MSG_AUTH_STEP, ATTRS(0, 11, 0, 1, 'P'));
	CHECK(nu_auth_decode(m, n, &au) == NU_PROTO_MISSING_ATTR);

	n = build(m, NU_MSG_AUTH_RESULT, ATTRS(0, 15, 0, 1, 'u'));
	CHECK(nu_auth_result_decode(m, n, &r) == NU_PROTO_MISSING_ATTR);
	n = build(m, NU_MSG_AUTH_RESULT, ATTRS(0, 14, 0, 1, 3));
	CHECK(nu_auth_result_decode(m, n, &r) == NU_PROTO_OK && r.result == NU_AUTH_OTHER_MECH);
	n = build(m, NU_MSG_AUTH_RESULT, ATTRS(0, 14, 0, 1, 4));
	CHECK(nu_auth_result_decode(m, n, &r) == NU_PROTO_BAD_ATTR);

	n = build(m, NU_MSG_CLIENT_INFO, ATTRS(0, 19, 0, 1, '6'));
	CHECK(nu_client_info_decode(m, n, &ci) == NU_PROTO_MISSING_ATTR);
	n = build(m, NU_MSG_CLIENT_INFO, ATTRS(0, 18, 0, 1, 'L'));
	CHECK(nu_client_info_decode(m, n, &ci) == NU_PROTO_OK && strcmp(ci.sysname, "L") == 0);

	n = build(m, NU_MSG_PUSH, ATTRS(0, 6, 0, 3, 4, 6, 0));
	CHECK(nu_push_decode(m, n, &has, &f) == NU_PROTO_BAD_ATTR);
	n = build(m, NU_MSG_PUSH, ATTRS(0, 99, 0, 3, 4, 6, 0));
	CHECK(nu_push_decode(m, n, &has, &f) == NU_PROTO_OK && !has);
}

/* ---- ANNOUNCE -------------------------------------------------------------- */

static void test_announce_rollback(void)
{
	static uint8_t big[BUFSZ];
	uint8_t buf[200];
	struct nu_msg_writer w;
	struct nu_announce_conn c, got;
	struct nu_announce_iter it;
	size_t before, len;
	int added = 0, seen = 0, rc;
	bool ok = true;

	memset(&c, 0, sizeof(c));
	strcpy(c.app, "/usr/bin/ssh");
	nu_announce_begin(&w, buf, sizeof(buf));
	for (;;) {
		c.flow = flow4(IPPROTO_TCP, (uint16_t)(1000 + added), 22);
		before = w.len;
		if (!nu_announce_add(&w, &c))
			break;
		added++;
	}
	CHECK(added == (int)((sizeof(buf) - 8) / (4 + 4 + 14 + 4 + 12)));
	CHECK(w.len == before && !w.overflow);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_announce_iter_init(&it, buf, len) == NU_PROTO_OK);
	while ((rc = nu_announce_next(&it, &got)) == 1) {
		struct nu_flow f = flow4(IPPROTO_TCP, (uint16_t)(1000 + seen), 22);

		ok &= nu_flow_equal(&got.flow, &f) && strcmp(got.app, "/usr/bin/ssh") == 0;
		seen++;
	}
	CHECK(rc == 0 && ok && seen == added);

	/* the message size cap, not only the buffer, bounds the CONNs */
	memset(c.app, 'p', NU_APP_MAX - 1);
	c.app[NU_APP_MAX - 1] = '\0';
	nu_announce_begin(&w, big, sizeof(big));
	added = 0;
	while (nu_announce_add(&w, &c))
		added++;
	CHECK(!w.overflow && w.len <= NU_MSG_MAX_LEN);
	CHECK(added == (NU_MSG_MAX_LEN - 8) / (4 + 4 + 38 - 24 + 4 + NU_APP_MAX - 1));
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_announce_iter_init(&it, big, len) == NU_PROTO_OK);
	seen = 0;
	while (nu_announce_next(&it, &got) == 1)
		seen++;
	CHECK(seen == added);

	/* an empty ANNOUNCE is valid; a CONN that can never fit is refused */
	nu_announce_begin(&w, buf, 20);
	CHECK(!nu_announce_add(&w, &c));
	CHECK(w.len == 8 && !w.overflow);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK && len == 8);
	CHECK(nu_announce_iter_init(&it, buf, len) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &got) == 0);
	/* an unterminated app or a bad family is refused, nothing written */
	nu_announce_begin(&w, big, sizeof(big));
	memset(c.app, 'q', sizeof(c.app));
	CHECK(!nu_announce_add(&w, &c) && w.len == 8 && !w.overflow);
	c.app[0] = '\0';
	c.flow.family = 99;
	CHECK(!nu_announce_add(&w, &c) && w.len == 8 && !w.overflow);
}

static void test_announce_nested(void)
{
	uint8_t m[256];
	struct nu_announce_iter it;
	struct nu_announce_conn c;
	size_t n;
	const uint8_t fl[] = { 0, 6, 0, 14, 4, 6, 0x9c, 0x40, 0, 80,
			       10, 0, 0, 1, 10, 0, 0, 2 };

	/* unknown top-level and inner attributes are skipped */
	n = build(m, NU_MSG_ANNOUNCE, ATTRS(
		0, 99, 0, 2, 'z', 'z',
		0, 16, 0, 18 + 4 + 9,
			0, 6, 0, 14, 4, 6, 0x9c, 0x40, 0, 80, 10, 0, 0, 1, 10, 0, 0, 2,
			0, 77, 0, 0,
			0, 17, 0, 5, '/', 'b', 'i', 'n', 'x',
		0, 16, 0, 18,
			0, 6, 0, 14, 4, 17, 0, 53, 0, 53, 10, 0, 0, 3, 10, 0, 0, 4));
	CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &c) == 1);
	CHECK(c.flow.family == AF_INET && c.flow.proto == IPPROTO_TCP);
	CHECK(c.flow.sport == 40000 && c.flow.dport == 80 && strcmp(c.app, "/binx") == 0);
	CHECK(nu_announce_next(&it, &c) == 1);
	CHECK(c.flow.proto == IPPROTO_UDP && c.app[0] == '\0');
	CHECK(nu_announce_next(&it, &c) == 0);

	/* CONN without FLOW */
	n = build(m, NU_MSG_ANNOUNCE, ATTRS(0, 16, 0, 5, 0, 17, 0, 1, 'a'));
	CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &c) == -1);
	CHECK(nu_announce_next(&it, &c) == -1);
	/* inner attribute running past the CONN (but not the message) */
	n = build(m, NU_MSG_ANNOUNCE, ATTRS(0, 16, 0, 18,
		0, 6, 0, 15, 4, 6, 0x9c, 0x40, 0, 80, 10, 0, 0, 1, 10, 0, 0, 2,
		0, 99, 0, 0));
	CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &c) == -1);
	/* two FLOWs in a CONN */
	{
		uint8_t two[4 + 2 * sizeof(fl)] = { 0, 16, 0, 2 * sizeof(fl) };

		memcpy(two + 4, fl, sizeof(fl));
		memcpy(two + 4 + sizeof(fl), fl, sizeof(fl));
		n = build(m, NU_MSG_ANNOUNCE, two, sizeof(two));
	}
	CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &c) == -1);
	/* stray bytes after the CONNs */
	n = build(m, NU_MSG_ANNOUNCE, ATTRS(0, 16, 0, 18,
		0, 6, 0, 14, 4, 6, 0x9c, 0x40, 0, 80, 10, 0, 0, 1, 10, 0, 0, 2,
		0, 16));
	CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &c) == 1);
	CHECK(nu_announce_next(&it, &c) == -1);
	/* APP with a NUL */
	n = build(m, NU_MSG_ANNOUNCE, ATTRS(0, 16, 0, 24,
		0, 6, 0, 14, 4, 6, 0x9c, 0x40, 0, 80, 10, 0, 0, 1, 10, 0, 0, 2,
		0, 17, 0, 2, 'a', 0));
	CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &c) == -1);
	/* iterator on a bad message */
	CHECK(nu_announce_iter_init(&it, m, n - 1) == NU_PROTO_TRUNCATED);
	CHECK(nu_announce_next(&it, &c) <= 0);
	m[1] = NU_MSG_PUSH;
	CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_BAD_ATTR);
}

/* NOT_MINE: a client's "none of my user's sockets" for a pushed flow, in
 * the same ANNOUNCE as its claims, in order. */
static void test_announce_not_mine(void)
{
	static uint8_t big[BUFSZ];
	uint8_t m[256];
	struct nu_msg_writer w;
	struct nu_announce_conn c, got;
	struct nu_announce_iter it;
	struct nu_flow f4 = flow4(IPPROTO_TCP, 40001, 7006), f6 = flow6(IPPROTO_UDP, 5353, 53);
	bool nm = true;
	size_t len, n;
	int added = 0, seen = 0, rc;

	memset(&c, 0, sizeof(c));
	c.flow = flow4(IPPROTO_TCP, 40000, 80);
	strcpy(c.app, "/usr/bin/curl");
	nu_announce_begin(&w, big, sizeof(big));
	CHECK(nu_announce_add_not_mine(&w, &f4));
	CHECK(nu_announce_add(&w, &c));
	CHECK(nu_announce_add_not_mine(&w, &f6));
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(len == 8 + (4 + 14) + (4 + 4 + 14 + 4 + 13) + (4 + 38));
	/* every item, in order */
	CHECK(nu_announce_iter_init(&it, big, len) == NU_PROTO_OK);
	CHECK(nu_announce_next_item(&it, &got, &nm) == 1 && nm && nu_flow_equal(&got.flow, &f4));
	CHECK(got.app[0] == '\0' && !got.has_app_sha256);
	CHECK(nu_announce_next_item(&it, &got, &nm) == 1 && !nm &&
	      nu_flow_equal(&got.flow, &c.flow) && strcmp(got.app, "/usr/bin/curl") == 0);
	CHECK(nu_announce_next_item(&it, &got, &nm) == 1 && nm && nu_flow_equal(&got.flow, &f6));
	CHECK(nu_announce_next_item(&it, &got, &nm) == 0);
	/* nu_announce_next gives the claims only */
	CHECK(nu_announce_iter_init(&it, big, len) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &got) == 1 && nu_flow_equal(&got.flow, &c.flow));
	CHECK(nu_announce_next(&it, &got) == 0);
	/* every truncation of the message is refused, never read past */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = dup_exact(big, cut);

		CHECK(nu_announce_iter_init(&it, cut ? copy : NULL, cut) != NU_PROTO_OK);
		g_free(copy);
	}

	/* a bad family is refused, nothing written; the cap rolls back */
	nu_announce_begin(&w, big, sizeof(big));
	f4.family = 99;
	CHECK(!nu_announce_add_not_mine(&w, &f4) && w.len == 8 && !w.overflow);
	f4.family = AF_INET;
	nu_announce_begin(&w, m, 8 + 17);
	CHECK(!nu_announce_add_not_mine(&w, &f4) && w.len == 8 && !w.overflow);
	nu_announce_begin(&w, big, sizeof(big));
	while (nu_announce_add_not_mine(&w, &f6))
		added++;
	CHECK(!w.overflow && w.len <= NU_MSG_MAX_LEN);
	CHECK(added == (NU_MSG_MAX_LEN - 8) / (4 + 38));
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_announce_iter_init(&it, big, len) == NU_PROTO_OK);
	while ((rc = nu_announce_next_item(&it, &got, &nm)) == 1 && nm)
		seen++;
	CHECK(rc == 0 && seen == added);

	/* a NOT_MINE of the wrong size, or with a bad family: malformed, for
	 * both iterators, and malformed from then on */
	n = build(m, NU_MSG_ANNOUNCE, ATTRS(0, 40, 0, 13, 4, 6, 0x9c, 0x40, 0, 80,
					    10, 0, 0, 1, 10, 0, 0));
	CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_OK);
	CHECK(nu_announce_next_item(&it, &got, &nm) == -1);
	CHECK(nu_announce_next_item(&it, &got, &nm) == -1);
	n = build(m, NU_MSG_ANNOUNCE, ATTRS(0, 40, 0, 14, 5, 6, 0x9c, 0x40, 0, 80,
					    10, 0, 0, 1, 10, 0, 0, 2));
	CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &got) == -1);
	/* one running past the message */
	n = build(m, NU_MSG_ANNOUNCE, ATTRS(0, 40, 0, 38, 4, 6, 0x9c, 0x40, 0, 80,
					    10, 0, 0, 1, 10, 0, 0, 2));
	CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_OK);
	CHECK(nu_announce_next_item(&it, &got, &nm) == -1);
}

/* ---- Randomized mutations ---------------------------------------------------- */

static void test_fuzz(void)
{
	GRand *r = g_rand_new_with_seed(4128);
	uint8_t tmp[2048];
	int i, j, weird = 0;

	for (i = 0; i < 20000; i++) {
		const struct sample *s = &samples[g_rand_int_range(r, 0, nsamples)];
		size_t len = s->len;
		int flips = g_rand_int_range(r, 1, 6);
		uint8_t type;
		enum nu_proto_status st;

		memcpy(tmp, s->buf, len);
		for (j = 0; j < flips; j++) {
			size_t at = (size_t)g_rand_int_range(r, 0, (gint32)len);

			/* leave the header alone most of the time so that the
			 * attribute code is what gets exercised */
			if (at < 4 && g_rand_int_range(r, 0, 8) != 0)
				at = 8 + at % (len > 8 ? len - 8 : 1);
			if (at >= len)
				continue;
			switch (g_rand_int_range(r, 0, 3)) {
			case 0:
				tmp[at] = (uint8_t)g_rand_int_range(r, 0, 256);
				break;
			case 1:
				tmp[at] ^= (uint8_t)(1u << g_rand_int_range(r, 0, 8));
				break;
			default:
				tmp[at] = g_rand_boolean(r) ? 0xff : 0;
				break;
			}
		}
		if (g_rand_int_range(r, 0, 4) == 0) {
			/* keep the framing consistent with a new length */
			len = (size_t)g_rand_int_range(r, 8, (gint32)len + 1);
			tmp[2] = (uint8_t)(len >> 8);
			tmp[3] = (uint8_t)len;
		}
		/* feed it to the decoder of its type, and to another one */
		type = tmp[1];
		st = decode_exact(tmp, len, type);
		if (st > NU_PROTO_NO_SPACE)
			weird++;
		st = decode_exact(tmp, len, s->type);
		if (st > NU_PROTO_NO_SPACE)
			weird++;
	}
	/* random attribute soup inside a valid header */
	for (i = 0; i < 5000; i++) {
		size_t len = 8 + (size_t)g_rand_int_range(r, 0, 200);
		uint8_t types[] = { NU_MSG_HELLO, NU_MSG_ERROR, NU_MSG_PACKET_ASK,
				    NU_MSG_DECISION, NU_MSG_AUTH_START, NU_MSG_AUTH_STEP,
				    NU_MSG_AUTH_RESULT, NU_MSG_CLIENT_INFO,
				    NU_MSG_ANNOUNCE, NU_MSG_PUSH };
		uint8_t type = types[g_rand_int_range(r, 0, (gint32)sizeof(types))];
		size_t k;

		for (k = 8; k < len; k++)
			tmp[k] = (uint8_t)g_rand_int_range(r, 0, g_rand_boolean(r) ? 24 : 256);
		tmp[0] = NU_PROTO_VERSION;
		tmp[1] = type;
		tmp[2] = (uint8_t)(len >> 8);
		tmp[3] = (uint8_t)len;
		if (decode_exact(tmp, len, type) > NU_PROTO_NO_SPACE)
			weird++;
	}
	CHECK(weird == 0);
	g_rand_free(r);
}

static bool gw_stats_equal(const struct nu_gw_stats *a, const struct nu_gw_stats *b)
{
	return a->queue == b->queue && a->asked == b->asked && a->accepted == b->accepted &&
	       a->dropped == b->dropped && a->rejected == b->rejected &&
	       a->timeouts == b->timeouts && a->overruns == b->overruns &&
	       a->kernel_queue_full == b->kernel_queue_full && a->kernel_failed == b->kernel_failed;
}

/* GW_STATS: every counter round-trips, every truncation fails, QUEUE is
 * mandatory, a counter of the wrong size is malformed. */
static void test_gw_stats(void)
{
	struct nu_gw_stats s = { .queue = 3, .asked = 10, .accepted = 6, .dropped = 4,
				 .rejected = 1, .timeouts = 2, .overruns = 0x100000000ULL,
				 .kernel_queue_full = 5, .kernel_failed = 9 };
	struct nu_gw_stats got;
	struct nu_flow f = { .family = AF_INET, .proto = IPPROTO_TCP };
	uint8_t buf[256];
	size_t len, n;

	CHECK(nu_gw_stats_encode(buf, sizeof(buf), &s, &len) == NU_PROTO_OK);
	CHECK(nu_gw_stats_decode(buf, len, &got) == NU_PROTO_OK);
	CHECK(gw_stats_equal(&s, &got));
	for (n = 0; n < len; n++)
		CHECK(nu_gw_stats_decode(buf, n, &got) != NU_PROTO_OK);
	for (n = NU_MSG_HEADER_LEN; n < len; n++)
		CHECK(nu_gw_stats_encode(buf, n, &s, &len) == NU_PROTO_NO_SPACE);
	CHECK(nu_gw_stats_encode(buf, sizeof(buf), &s, &len) == NU_PROTO_OK);
	/* the last counter (kernel_failed) made 7 bytes long */
	buf[len - 8 - 1] = 7;
	CHECK(nu_gw_stats_decode(buf, len, &got) != NU_PROTO_OK);
	/* zero counters are left out and come back as 0; QUEUE 0 is sent */
	memset(&s, 0, sizeof(s));
	CHECK(nu_gw_stats_encode(buf, sizeof(buf), &s, &len) == NU_PROTO_OK);
	CHECK(len == NU_MSG_HEADER_LEN + 4 + 4);
	CHECK(nu_gw_stats_decode(buf, len, &got) == NU_PROTO_OK && gw_stats_equal(&s, &got));
	/* without QUEUE: malformed */
	CHECK(nu_conn_destroy_encode(buf, sizeof(buf), &f, &len) == NU_PROTO_OK);
	buf[1] = NU_MSG_GW_STATS;
	CHECK(nu_gw_stats_decode(buf, len, &got) != NU_PROTO_OK);
	/* a GW_STATS is not a CONN_END */
	{
		struct nu_conn_end e;

		s.queue = 1;
		CHECK(nu_gw_stats_encode(buf, sizeof(buf), &s, &len) == NU_PROTO_OK);
		CHECK(nu_conn_end_decode(buf, len, &e) != NU_PROTO_OK);
	}
	CHECK(strcmp(nu_msg_type_name(NU_MSG_GW_STATS), "GW_STATS") == 0);
}

/* CONN_END, CONN_DESTROY, CONN_EXPIRES and LOGOUT, and every truncation of
 * them. */
static void test_connection_messages(void)
{
	struct nu_conn_end e = { .mark = 1001, .packets_out = 3, .bytes_out = 0x123456789aULL,
				 .packets_in = 0, .bytes_in = 7 };
	struct nu_conn_end got;
	struct nu_flow f = { .family = AF_INET6, .proto = IPPROTO_UDP, .sport = 5353, .dport = 53 };
	struct nu_flow fgot;
	uint8_t buf[256];
	size_t len, n;

	f.saddr.s6_addr[0] = 0xfd;
	f.saddr.s6_addr[15] = 2;
	f.daddr.s6_addr[0] = 0xfd;
	f.daddr.s6_addr[15] = 9;
	e.flow = f;
	CHECK(nu_conn_end_encode(buf, sizeof(buf), &e, &len) == NU_PROTO_OK);
	CHECK(nu_conn_end_decode(buf, len, &got) == NU_PROTO_OK);
	CHECK(nu_flow_equal(&got.flow, &f) && got.mark == 1001 && got.packets_out == 3 &&
	      got.bytes_out == 0x123456789aULL && got.packets_in == 0 && got.bytes_in == 7);
	for (n = 0; n < len; n++)
		CHECK(nu_conn_end_decode(buf, n, &got) != NU_PROTO_OK);
	for (n = 0; n < len; n++)
		CHECK(nu_conn_end_encode(buf, n, &e, &len) == NU_PROTO_NO_SPACE ||
		      n < NU_MSG_HEADER_LEN);
	CHECK(nu_conn_end_encode(buf, sizeof(buf), &e, &len) == NU_PROTO_OK);
	/* a u64 of the wrong size */
	buf[len - 9 - 4 + 3] = 7;
	CHECK(nu_conn_end_decode(buf, len, &got) != NU_PROTO_OK);

	CHECK(nu_conn_destroy_encode(buf, sizeof(buf), &f, &len) == NU_PROTO_OK);
	CHECK(nu_conn_destroy_decode(buf, len, &fgot) == NU_PROTO_OK && nu_flow_equal(&fgot, &f));
	for (n = 0; n < len; n++)
		CHECK(nu_conn_destroy_decode(buf, n, &fgot) != NU_PROTO_OK);
	/* a CONN_END is not a CONN_DESTROY */
	CHECK(nu_conn_end_encode(buf, sizeof(buf), &e, &len) == NU_PROTO_OK);
	CHECK(nu_conn_destroy_decode(buf, len, &fgot) != NU_PROTO_OK);

	/* CONN_EXPIRES: with a new end time, and with none. */
	{
		struct nu_conn_expires x = { .flow = f, .has_expires = true, .expires_in = 3600 };
		struct nu_conn_expires xgot;

		CHECK(nu_conn_expires_encode(buf, sizeof(buf), &x, &len) == NU_PROTO_OK);
		CHECK(nu_conn_expires_decode(buf, len, &xgot) == NU_PROTO_OK &&
		      nu_flow_equal(&xgot.flow, &f) && xgot.has_expires && xgot.expires_in == 3600);
		for (n = 0; n < len; n++)
			CHECK(nu_conn_expires_decode(buf, n, &xgot) != NU_PROTO_OK);
		/* an EXPIRES of the wrong size */
		buf[len - 4 - 1] = 3;
		CHECK(nu_conn_expires_decode(buf, len, &xgot) != NU_PROTO_OK);
		x.has_expires = false;
		x.expires_in = 77;
		CHECK(nu_conn_expires_encode(buf, sizeof(buf), &x, &len) == NU_PROTO_OK);
		CHECK(nu_conn_expires_decode(buf, len, &xgot) == NU_PROTO_OK &&
		      !xgot.has_expires && xgot.expires_in == 0);
		/* not a CONN_DESTROY, and FLOW is mandatory */
		CHECK(nu_conn_destroy_decode(buf, len, &fgot) != NU_PROTO_OK);
		CHECK(nu_conn_destroy_encode(buf, sizeof(buf), &f, &len) == NU_PROTO_OK);
		buf[1] = NU_MSG_CONN_EXPIRES;
		CHECK(nu_conn_expires_decode(buf, len, &xgot) == NU_PROTO_OK && !xgot.has_expires);
		CHECK(nu_logout_encode(buf, sizeof(buf), &len) == NU_PROTO_OK);
		buf[1] = NU_MSG_CONN_EXPIRES;
		CHECK(nu_conn_expires_decode(buf, len, &xgot) != NU_PROTO_OK);
		CHECK(strcmp(nu_msg_type_name(NU_MSG_CONN_EXPIRES), "CONN_EXPIRES") == 0);
	}

	CHECK(nu_logout_encode(buf, sizeof(buf), &len) == NU_PROTO_OK && len == NU_MSG_HEADER_LEN);
	CHECK(buf[1] == NU_MSG_LOGOUT);
	CHECK(strcmp(nu_msg_type_name(NU_MSG_CONN_END), "CONN_END") == 0);
}

/* NOTICE: round trip (v4 and v6), optional fields absent, every truncation
 * and capacity, an accept verdict refused both ways, a missing VERDICT, a
 * repeated TEXT, an over-long APP, an unknown attribute skipped. */
static void test_notice(void)
{
	struct nu_notice m, got;
	struct nu_msg_writer w;
	uint8_t buf[BUFSZ], *exact;
	char longapp[NU_APP_MAX + 8];
	size_t len, n;

	memset(&m, 0, sizeof(m));
	m.flow = flow4(IPPROTO_TCP, 40000, 9090);
	m.verdict = NU_VERDICT_DROP;
	strcpy(m.app, "/usr/bin/curl");
	strcpy(m.text, "acl web only");
	CHECK(nu_notice_encode(buf, sizeof(buf), &m, &len) == NU_PROTO_OK);
	CHECK(buf[1] == NU_MSG_NOTICE);
	exact = dup_exact(buf, len);
	CHECK(nu_notice_decode(exact, len, &got) == NU_PROTO_OK);
	CHECK(nu_flow_equal(&got.flow, &m.flow) && got.verdict == NU_VERDICT_DROP &&
	      strcmp(got.app, m.app) == 0 && strcmp(got.text, m.text) == 0);
	for (n = 0; n < len; n++)
		CHECK(nu_notice_decode(exact, n, &got) != NU_PROTO_OK);
	g_free(exact);
	for (n = 0; n < len; n++)
		CHECK(nu_notice_encode(buf, n, &m, &len) == NU_PROTO_NO_SPACE);
	CHECK(strcmp(nu_msg_type_name(NU_MSG_NOTICE), "NOTICE") == 0);

	/* v6, reject, no APP and no TEXT */
	memset(&m, 0, sizeof(m));
	m.flow = flow6(IPPROTO_UDP, 5353, 53);
	m.verdict = NU_VERDICT_REJECT;
	CHECK(nu_notice_encode(buf, sizeof(buf), &m, &len) == NU_PROTO_OK);
	CHECK(nu_notice_decode(buf, len, &got) == NU_PROTO_OK);
	CHECK(nu_flow_equal(&got.flow, &m.flow) && got.verdict == NU_VERDICT_REJECT &&
	      got.app[0] == '\0' && got.text[0] == '\0');

	/* an accept is not a refusal: neither side takes it */
	m.verdict = NU_VERDICT_ACCEPT;
	CHECK(nu_notice_encode(buf, sizeof(buf), &m, &len) == NU_PROTO_BAD_ATTR && len == 0);
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_NOTICE, 0);
	nu_msg_put_flow(&w, NU_ATTR_FLOW, &m.flow);
	nu_msg_put_u8(&w, NU_ATTR_VERDICT, NU_VERDICT_ACCEPT);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_notice_decode(buf, len, &got) == NU_PROTO_BAD_ATTR);

	/* VERDICT missing */
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_NOTICE, 0);
	nu_msg_put_flow(&w, NU_ATTR_FLOW, &m.flow);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_notice_decode(buf, len, &got) == NU_PROTO_MISSING_ATTR);

	/* TEXT twice; then an unknown attribute, which is skipped */
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_NOTICE, 0);
	nu_msg_put_flow(&w, NU_ATTR_FLOW, &m.flow);
	nu_msg_put_u8(&w, NU_ATTR_VERDICT, NU_VERDICT_DROP);
	nu_msg_put_str(&w, NU_ATTR_TEXT, "one");
	nu_msg_put_str(&w, NU_ATTR_TEXT, "two");
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_notice_decode(buf, len, &got) == NU_PROTO_BAD_ATTR);
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_NOTICE, 0);
	nu_msg_put_flow(&w, NU_ATTR_FLOW, &m.flow);
	nu_msg_put_u8(&w, NU_ATTR_VERDICT, NU_VERDICT_DROP);
	nu_msg_put_str(&w, 31, "from a newer nuauth");
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_notice_decode(buf, len, &got) == NU_PROTO_OK && got.verdict == NU_VERDICT_DROP);

	/* an APP longer than NU_APP_MAX - 1 */
	memset(longapp, 'a', sizeof(longapp) - 1);
	longapp[sizeof(longapp) - 1] = '\0';
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_NOTICE, 0);
	nu_msg_put_flow(&w, NU_ATTR_FLOW, &m.flow);
	nu_msg_put_u8(&w, NU_ATTR_VERDICT, NU_VERDICT_DROP);
	nu_msg_put_str(&w, NU_ATTR_APP, longapp);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_notice_decode(buf, len, &got) == NU_PROTO_BAD_ATTR);

	/* a PUSH is not a NOTICE */
	CHECK(nu_push_encode(buf, sizeof(buf), &m.flow, &len) == NU_PROTO_OK);
	CHECK(nu_notice_decode(buf, len, &got) != NU_PROTO_OK);
}

static bool contains(const uint8_t *buf, size_t len, const uint8_t *needle, size_t nlen)
{
	for (size_t i = 0; i + nlen <= len; i++)
		if (memcmp(buf + i, needle, nlen) == 0)
			return true;
	return false;
}

/* PHYSINDEV and PHYSOUTDEV (bridge ports): optional strings of PACKET_ASK,
 * sent only when known, so that a routed packet's question is the same
 * bytes as before they existed; a peer that does not know them skips them. */
static void test_physdev(void)
{
	static const uint8_t physin[] = { 0, NU_ATTR_PHYSINDEV, 0, 6, 'v', 'e', 't', 'h', '-', 'c' };
	static const uint8_t physout[] = { 0, NU_ATTR_PHYSOUTDEV, 0, 6, 'v', 'e', 't', 'h', '-', 's' };
	uint8_t buf[256], m[256], *exact;
	struct nu_packet_ask a, b;
	size_t len, n;

	memset(&a, 0, sizeof(a));
	a.packet_id = 9;
	a.flow = flow4(IPPROTO_TCP, 40000, 22);
	strcpy(a.indev, "br0");
	strcpy(a.outdev, "br0");
	CHECK(nu_packet_ask_encode(buf, sizeof(buf), &a, &len) == NU_PROTO_OK);
	CHECK(len == 8 + 4 + 14 + 2 * (4 + 3));		/* no bridge port: nothing new */

	strcpy(a.physindev, "veth-c");
	strcpy(a.physoutdev, "veth-s");
	CHECK(nu_packet_ask_encode(buf, sizeof(buf), &a, &len) == NU_PROTO_OK);
	CHECK(len == 8 + 4 + 14 + 2 * (4 + 3) + 2 * (4 + 6));
	CHECK(contains(buf, len, physin, sizeof(physin)));
	CHECK(contains(buf, len, physout, sizeof(physout)));
	exact = dup_exact(buf, len);
	CHECK(nu_packet_ask_decode(exact, len, &b) == NU_PROTO_OK);
	CHECK(strcmp(b.physindev, "veth-c") == 0 && strcmp(b.physoutdev, "veth-s") == 0);
	CHECK(strcmp(b.indev, "br0") == 0 && strcmp(b.outdev, "br0") == 0);
	CHECK(b.packet_id == 9 && nu_flow_equal(&b.flow, &a.flow));
	for (n = 0; n < len; n++)			/* truncated anywhere */
		CHECK(nu_packet_ask_decode(exact, n, &b) != NU_PROTO_OK);
	g_free(exact);

	/* One port only (a packet bridged to the host itself has no
	 * PHYSOUTDEV). */
	a.physoutdev[0] = '\0';
	CHECK(nu_packet_ask_encode(buf, sizeof(buf), &a, &len) == NU_PROTO_OK);
	CHECK(nu_packet_ask_decode(buf, len, &b) == NU_PROTO_OK);
	CHECK(strcmp(b.physindev, "veth-c") == 0 && b.physoutdev[0] == '\0');
	CHECK(!b.has_src_mac);

	/* SRC_MAC: 6 bytes when the gateway saw them, absent otherwise;
	 * another length is malformed. */
	a.has_src_mac = true;
	memcpy(a.src_mac, "\x02\x00\x5e\x10\x20\x30", 6);
	CHECK(nu_packet_ask_encode(buf, sizeof(buf), &a, &n) == NU_PROTO_OK && n == len + 4 + 6);
	exact = dup_exact(buf, n);
	CHECK(nu_packet_ask_decode(exact, n, &b) == NU_PROTO_OK);
	CHECK(b.has_src_mac && memcmp(b.src_mac, a.src_mac, 6) == 0);
	exact[n - 7] = 5;			/* its length: 6 -> 5 */
	CHECK(nu_packet_ask_decode(exact, n - 1, &b) != NU_PROTO_OK);
	g_free(exact);
	a.has_src_mac = false;

	/* The largest question nufw sends (IPv6, ICMP type, mark, four
	 * 15-byte names) fits the 256-byte buffer it encodes into. */
	memset(&a, 0, sizeof(a));
	a.flow = flow6(IPPROTO_ICMPV6, 0, 0);
	a.mark = 1;
	memset(a.indev, 'i', 15);
	memset(a.outdev, 'o', 15);
	memset(a.physindev, 'p', 15);
	memset(a.physoutdev, 'q', 15);
	a.has_src_mac = true;
	CHECK(nu_packet_ask_encode(buf, 256, &a, &len) == NU_PROTO_OK && len <= 256);
	CHECK(nu_packet_ask_decode(buf, len, &b) == NU_PROTO_OK);
	CHECK(strcmp(b.physoutdev, a.physoutdev) == 0 && b.mark == 1);

	/* A 16-byte name, or the same port twice, is malformed; an attribute
	 * PACKET_ASK does not use (APP) is skipped, as an older nuauth skips
	 * PHYSINDEV. */
	n = build(m, NU_MSG_PACKET_ASK, ATTRS(0, 6, 0, 14, 4, 6, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2,
					      0, NU_ATTR_PHYSINDEV, 0, 16, 'a', 'a', 'a', 'a', 'a', 'a',
					      'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'));
	CHECK(nu_packet_ask_decode(m, n, &b) == NU_PROTO_BAD_ATTR);
	n = build(m, NU_MSG_PACKET_ASK, ATTRS(0, 6, 0, 14, 4, 6, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2,
					      0, NU_ATTR_PHYSOUTDEV, 0, 1, 'a',
					      0, NU_ATTR_PHYSOUTDEV, 0, 1, 'b'));
	CHECK(nu_packet_ask_decode(m, n, &b) == NU_PROTO_BAD_ATTR);
	n = build(m, NU_MSG_PACKET_ASK, ATTRS(0, 6, 0, 14, 4, 6, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2,
					      0, NU_ATTR_APP, 0, 2, 'x', 'y',
					      0, NU_ATTR_PHYSOUTDEV, 0, 2, 'p', '2'));
	CHECK(nu_packet_ask_decode(m, n, &b) == NU_PROTO_OK);
	CHECK(b.flow.sport == 1 && b.flow.dport == 2 && b.flow.proto == IPPROTO_TCP);
	CHECK(b.physindev[0] == '\0' && strcmp(b.physoutdev, "p2") == 0);
}

static void test_needs(void)
{
	static const uint32_t values[] = { 0, NU_NEEDS_APP, NU_NEEDS_APP | NU_NEEDS_APP_SHA256,
					   0x80000000u };
	struct nu_msg_writer w;
	uint8_t buf[BUFSZ], *exact;
	uint32_t got;
	size_t len, n;

	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		CHECK(nu_needs_encode(buf, sizeof(buf), values[i], &len) == NU_PROTO_OK);
		CHECK(buf[1] == NU_MSG_NEEDS && len == NU_MSG_HEADER_LEN + 4 + 4);
		exact = dup_exact(buf, len);
		got = 12345;
		CHECK(nu_needs_decode(exact, len, &got) == NU_PROTO_OK && got == values[i]);
		for (n = 0; n < len; n++)
			CHECK(nu_needs_decode(exact, n, &got) != NU_PROTO_OK);
		g_free(exact);
		for (n = 0; n < len; n++)
			CHECK(nu_needs_encode(buf, n, values[i], &len) == NU_PROTO_NO_SPACE);
	}
	CHECK(strcmp(nu_msg_type_name(NU_MSG_NEEDS), "NEEDS") == 0);

	/* NEEDS missing, of the wrong size, twice; an unknown attribute is skipped */
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_NEEDS, 0);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_needs_decode(buf, len, &got) == NU_PROTO_MISSING_ATTR);
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_NEEDS, 0);
	nu_msg_put_u8(&w, NU_ATTR_NEEDS, 1);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_needs_decode(buf, len, &got) == NU_PROTO_BAD_ATTR);
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_NEEDS, 0);
	nu_msg_put_u32(&w, NU_ATTR_NEEDS, 1);
	nu_msg_put_u32(&w, NU_ATTR_NEEDS, 3);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_needs_decode(buf, len, &got) == NU_PROTO_BAD_ATTR);
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_NEEDS, 0);
	nu_msg_put_str(&w, 31, "from a newer nuauth");
	nu_msg_put_u32(&w, NU_ATTR_NEEDS, NU_NEEDS_APP);
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_needs_decode(buf, len, &got) == NU_PROTO_OK && got == NU_NEEDS_APP);
	/* another type is not NEEDS, nor NEEDS another type */
	CHECK(nu_keepalive_encode(buf, sizeof(buf), 7, &len) == NU_PROTO_OK);
	CHECK(nu_needs_decode(buf, len, &got) == NU_PROTO_BAD_ATTR);
	CHECK(nu_needs_encode(buf, sizeof(buf), NU_NEEDS_APP, &len) == NU_PROTO_OK);
	{
		bool has_flow;
		struct nu_flow f;

		CHECK(nu_push_decode(buf, len, &has_flow, &f) != NU_PROTO_OK);
	}
}

/* CONN with APP_SHA256: sent only when has_app_sha256, exactly 32 bytes. */
static void test_announce_sha256(void)
{
	struct nu_announce_conn c, got;
	struct nu_announce_iter it;
	struct nu_msg_writer w;
	uint8_t buf[BUFSZ], m[256];
	size_t len, n, plain_len;

	memset(&c, 0, sizeof(c));
	c.flow = flow4(IPPROTO_TCP, 40000, 80);
	strcpy(c.app, "/usr/bin/curl");
	for (unsigned i = 0; i < NU_SHA256_LEN; i++)
		c.app_sha256[i] = (uint8_t)(0xa0 + i);
	/* without the flag, no hash goes out even if the bytes are set */
	nu_announce_begin(&w, buf, sizeof(buf));
	CHECK(nu_announce_add(&w, &c));
	CHECK(nu_msg_finish(&w, &plain_len) == NU_PROTO_OK);
	CHECK(nu_announce_iter_init(&it, buf, plain_len) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &got) == 1 && !got.has_app_sha256);
	CHECK(got.app_sha256[0] == 0 && got.app_sha256[31] == 0);

	c.has_app_sha256 = true;
	nu_announce_begin(&w, buf, sizeof(buf));
	CHECK(nu_announce_add(&w, &c));
	c.app[0] = '\0';		/* a hash without a path is carried too */
	CHECK(nu_announce_add(&w, &c));
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(len == 2 * plain_len - NU_MSG_HEADER_LEN + 2 * (4 + NU_SHA256_LEN) - 4 - 13);
	CHECK(nu_announce_iter_init(&it, buf, len) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &got) == 1);
	CHECK(got.has_app_sha256 && memcmp(got.app_sha256, c.app_sha256, NU_SHA256_LEN) == 0);
	CHECK(strcmp(got.app, "/usr/bin/curl") == 0);
	CHECK(nu_announce_next(&it, &got) == 1);
	CHECK(got.has_app_sha256 && got.app[0] == '\0' &&
	      memcmp(got.app_sha256, c.app_sha256, NU_SHA256_LEN) == 0);
	CHECK(nu_announce_next(&it, &got) == 0);

	/* a hash of 31 or 33 bytes, or given twice, is malformed */
	for (int extra = -1; extra <= 1; extra += 2) {
		uint8_t conn[4 + 18 + 4 + 33] = { 0, 16, 0, 0 };
		const uint8_t fl[] = { 0, 6, 0, 14, 4, 6, 0x9c, 0x40, 0, 80,
				       10, 0, 0, 1, 10, 0, 0, 2 };
		size_t hlen = (size_t)(NU_SHA256_LEN + extra);

		memcpy(conn + 4, fl, sizeof(fl));
		conn[4 + 18 + 1] = NU_ATTR_APP_SHA256;
		conn[4 + 18 + 3] = (uint8_t)hlen;
		conn[3] = (uint8_t)(18 + 4 + hlen);
		n = build(m, NU_MSG_ANNOUNCE, conn, 4 + 18 + 4 + hlen);
		CHECK(nu_announce_iter_init(&it, m, n) == NU_PROTO_OK);
		CHECK(nu_announce_next(&it, &got) == -1);
	}
	nu_msg_begin(&w, buf, sizeof(buf), NU_MSG_ANNOUNCE, 0);
	{
		size_t mark = nu_msg_nest_start(&w, NU_ATTR_CONN);

		nu_msg_put_flow(&w, NU_ATTR_FLOW, &c.flow);
		nu_msg_put_bytes(&w, NU_ATTR_APP_SHA256, c.app_sha256, NU_SHA256_LEN);
		nu_msg_put_bytes(&w, NU_ATTR_APP_SHA256, c.app_sha256, NU_SHA256_LEN);
		nu_msg_nest_end(&w, mark);
	}
	CHECK(nu_msg_finish(&w, &len) == NU_PROTO_OK);
	CHECK(nu_announce_iter_init(&it, buf, len) == NU_PROTO_OK);
	CHECK(nu_announce_next(&it, &got) == -1);
}

/* The resume token (doc/protocol.md, "Resuming a session"): in AUTH_START
 * and in a good AUTH_RESULT, exactly 16 bytes. */
static void test_resume_token(void)
{
	uint8_t tok[NU_RESUME_LEN], b[128];
	struct nu_auth a;
	struct nu_auth_result r = { .result = NU_AUTH_OK, .has_resume = true }, rr;
	size_t n;

	for (unsigned i = 0; i < sizeof(tok); i++)
		tok[i] = (uint8_t)(0xa0 + i);
	CHECK(nu_auth_start_encode(b, sizeof(b), "PLAIN", NULL, 0, false, tok, &n) ==
	      NU_PROTO_OK);
	CHECK(nu_auth_decode(b, n, &a) == NU_PROTO_OK && a.has_resume &&
	      memcmp(a.resume, tok, sizeof(tok)) == 0);
	b[n - NU_RESUME_LEN - 1] = NU_RESUME_LEN - 1;	/* length 15 */
	CHECK(nu_auth_decode(b, n - 1, &a) != NU_PROTO_OK);
	CHECK(nu_auth_start_encode(b, sizeof(b), "PLAIN", NULL, 0, false, NULL, &n) ==
	      NU_PROTO_OK);
	CHECK(nu_auth_decode(b, n, &a) == NU_PROTO_OK && !a.has_resume);
	memcpy(r.resume, tok, sizeof(tok));
	CHECK(nu_auth_result_encode(b, sizeof(b), &r, &n) == NU_PROTO_OK);
	CHECK(nu_auth_result_decode(b, n, &rr) == NU_PROTO_OK && rr.has_resume &&
	      memcmp(rr.resume, tok, sizeof(tok)) == 0);
	r.has_resume = false;
	CHECK(nu_auth_result_encode(b, sizeof(b), &r, &n) == NU_PROTO_OK);
	CHECK(nu_auth_result_decode(b, n, &rr) == NU_PROTO_OK && !rr.has_resume);
}

int main(void)
{
	build_samples();
	CHECK(nsamples == 17);
	test_header();
	test_strings();
	test_writer();
	test_iter();
	test_getters();
	test_roundtrips();
	test_resume_token();
	test_encoder_limits();
	test_capacities();
	test_malformed_framing();
	test_attr_rules();
	test_announce_rollback();
	test_announce_nested();
	test_announce_not_mine();
	test_fuzz();
	test_connection_messages();
	test_gw_stats();
	test_notice();
	test_physdev();
	test_needs();
	test_announce_sha256();
	return unit_done("proto");
}
