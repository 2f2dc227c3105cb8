/* Unit tests for src/lib/packet.c.  Packets are built by hand; every test
 * input is copied into a heap buffer of exactly its length so that the
 * sanitizer build catches any read past buf + len. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <glib.h>

#include "packet.h"
#include "unit.h"

#define MAXPKT 512

struct pkt {
	uint8_t b[MAXPKT];
	size_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Parses an exact-size heap copy of the first len bytes. */
static enum nu_packet_status parse_exact(const uint8_t *src, size_t len,
					 struct nu_packet_info *info)
{
	uint8_t *copy = g_malloc(len ? len : 1);
	enum nu_packet_status st;

	if (len)
		memcpy(copy, src, len);
	st = nu_packet_parse(len ? copy : NULL, len, info);
	g_free(copy);
	return st;
}

/* Transport headers. */
static size_t tcp_hdr(uint8_t *p, uint16_t sport, uint16_t dport,
		      uint8_t flags, unsigned int doff)
{
	memset(p, 0, doff * 4);
	put16(p, sport);
	put16(p + 2, dport);
	p[12] = (uint8_t)(doff << 4);
	p[13] = flags;
	return doff * 4;
}

static size_t udp_hdr(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t len)
{
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, len);
	put16(p + 6, 0);
	return 8;
}

static size_t icmp_hdr(uint8_t *p, uint8_t type, uint8_t code)
{
	memset(p, 0, 8);
	p[0] = type;
	p[1] = code;
	return 8;
}

/* IPv4 header with ihl words (options zeroed); transport follows at the
 * returned offset.  Total length is fixed by v4_finish. */
static size_t v4_hdr(struct pkt *k, unsigned int ihl, uint8_t proto)
{
	memset(k->b, 0, sizeof(k->b));
	k->b[0] = (uint8_t)(0x40 | ihl);
	k->b[8] = 64;
	k->b[9] = proto;
	k->b[12] = 10; k->b[13] = 201; k->b[14] = 0; k->b[15] = 2;
	k->b[16] = 10; k->b[17] = 202; k->b[18] = 0; k->b[19] = 2;
	return ihl * 4;
}

static void v4_finish(struct pkt *k, size_t len)
{
	k->len = len;
	put16(k->b + 2, (uint16_t)len);
}

static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 2 };

static size_t v6_hdr(struct pkt *k, uint8_t nh)
{
	memset(k->b, 0, sizeof(k->b));
	k->b[0] = 0x60;
	k->b[6] = nh;
	k->b[7] = 64;
	memcpy(k->b + 8, v6_src, 16);
	memcpy(k->b + 24, v6_dst, 16);
	return 40;
}

static void v6_finish(struct pkt *k, size_t len)
{
	k->len = len;
	put16(k->b + 4, (uint16_t)(len - 40));
}

/* An extension header of the generic (len+1)*8 form, value nh next. */
static size_t ext_hdr(uint8_t *p, uint8_t nh, uint8_t len8)
{
	memset(p, 0, ((size_t)len8 + 1) * 8);
	p[0] = nh;
	p[1] = len8;
	return ((size_t)len8 + 1) * 8;
}

static void check_v4_addrs(const struct nu_packet_info *in)
{
	uint32_t a;

	CHECK(in->flow.family == AF_INET);
	CHECK(nu_addr_is_v4(&in->flow.saddr, &a) && a == htonl(0x0ac90002));
	CHECK(nu_addr_is_v4(&in->flow.daddr, &a) && a == htonl(0x0aca0002));
}

static void check_v6_addrs(const struct nu_packet_info *in)
{
	CHECK(in->flow.family == AF_INET6);
	CHECK(memcmp(in->flow.saddr.s6_addr, v6_src, 16) == 0);
	CHECK(memcmp(in->flow.daddr.s6_addr, v6_dst, 16) == 0);
}

/* Every prefix shorter than `need` is TRUNCATED; every longer one parses
 * to the same result as the whole packet. */
static void check_truncations(const struct pkt *k, size_t need)
{
	struct nu_packet_info full, part;
	size_t n;
	int bad = 0;

	CHECK(parse_exact(k->b, k->len, &full) == NU_PACKET_OK);
	for (n = 0; n < k->len; n++) {
		enum nu_packet_status st = parse_exact(k->b, n, &part);

		if (n < need) {
			if (st != NU_PACKET_TRUNCATED)
				bad++;
		} else if (st != NU_PACKET_OK ||
			   !nu_flow_equal(&part.flow, &full.flow) ||
			   part.tcp_flags != full.tcp_flags ||
			   part.icmp_type != full.icmp_type ||
			   part.l3_len != full.l3_len) {
			bad++;
		}
	}
	CHECK(bad == 0);
}

static void test_v4_tcp(void)
{
	struct pkt k;
	struct nu_packet_info in;
	size_t off = v4_hdr(&k, 5, IPPROTO_TCP);

	off += tcp_hdr(k.b + off, 40000, 80, NU_TCP_SYN, 10);	/* with options */
	v4_finish(&k, off);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	check_v4_addrs(&in);
	CHECK(in.flow.proto == IPPROTO_TCP);
	CHECK(in.flow.sport == 40000 && in.flow.dport == 80);
	CHECK(in.tcp_flags == NU_TCP_SYN);
	CHECK(in.l3_len == 60);
	check_truncations(&k, 20 + 14);

	/* IP options: IHL 7 */
	off = v4_hdr(&k, 7, IPPROTO_TCP);
	off += tcp_hdr(k.b + off, 1, 2, NU_TCP_SYN | NU_TCP_ACK, 5);
	v4_finish(&k, off);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	CHECK(in.flow.sport == 1 && in.flow.dport == 2);
	CHECK(in.tcp_flags == (NU_TCP_SYN | NU_TCP_ACK));
	check_truncations(&k, 28 + 14);

	/* with payload, and with a total length beyond the captured bytes
	 * (NFQUEUE copy range): still fine */
	off = v4_hdr(&k, 5, IPPROTO_TCP);
	off += tcp_hdr(k.b + off, 5555, 443, NU_TCP_ACK | NU_TCP_FIN, 5);
	memset(k.b + off, 'x', 100);
	v4_finish(&k, off + 100);
	check_truncations(&k, 34);
	put16(k.b + 2, 1500);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	CHECK(in.l3_len == 1500 && in.tcp_flags == (NU_TCP_ACK | NU_TCP_FIN));
	/* buffer longer than the total length: the tail is ignored */
	v4_finish(&k, off);
	k.len = off + 100;
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	CHECK(in.l3_len == off);
}

static void test_v4_udp_icmp(void)
{
	struct pkt k;
	struct nu_packet_info in;
	size_t off;

	off = v4_hdr(&k, 5, IPPROTO_UDP);
	off += udp_hdr(k.b + off, 53000, 53, 8 + 12);
	memset(k.b + off, 0, 12);
	v4_finish(&k, off + 12);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	check_v4_addrs(&in);
	CHECK(in.flow.proto == IPPROTO_UDP);
	CHECK(in.flow.sport == 53000 && in.flow.dport == 53);
	CHECK(in.tcp_flags == 0);
	check_truncations(&k, 28);

	off = v4_hdr(&k, 5, IPPROTO_ICMP);
	icmp_hdr(k.b + off, 8, 0);
	k.b[off + 4] = 0x45;	/* the echo identifier, 0x45fd */
	k.b[off + 5] = 0xfd;
	off += 8;
	v4_finish(&k, off + 56);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	check_v4_addrs(&in);
	CHECK(in.flow.proto == IPPROTO_ICMP);
	/* an echo request's identifier in sport (what a ping socket proves) */
	CHECK(in.flow.sport == 0x45fd && in.flow.dport == 0);
	CHECK(in.icmp_type == 8 && in.icmp_code == 0);
	check_truncations(&k, 28);

	off = v4_hdr(&k, 5, IPPROTO_ICMP);
	icmp_hdr(k.b + off, 3, 13);
	k.b[off + 4] = 0x45;	/* not an echo: these bytes are no identifier */
	off += 8;
	v4_finish(&k, off);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	CHECK(in.icmp_type == 3 && in.icmp_code == 13);
	CHECK(in.flow.sport == 0);
}

static void test_v4_bad(void)
{
	struct pkt k, good;
	struct nu_packet_info in;
	size_t off;
	unsigned int ihl;

	off = v4_hdr(&good, 5, IPPROTO_TCP);
	off += tcp_hdr(good.b + off, 1000, 22, NU_TCP_SYN, 5);
	v4_finish(&good, off);

	for (ihl = 0; ihl < 5; ihl++) {
		k = good;
		k.b[0] = (uint8_t)(0x40 | ihl);
		CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	}
	/* IHL 15 = 60 bytes, more than we have */
	k = good;
	k.b[0] = 0x4f;
	put16(k.b + 2, 80);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_TRUNCATED);
	/* total length below the header */
	k = good;
	put16(k.b + 2, 19);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	put16(k.b + 2, 0);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	/* total length too short for a TCP header */
	put16(k.b + 2, 20 + 19);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	put16(k.b + 2, 20);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	/* UDP claimed shorter than 8 */
	k = good;
	k.b[9] = IPPROTO_UDP;
	put16(k.b + 2, 27);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	/* TCP data offset */
	k = good;
	k.b[20 + 12] = 4 << 4;
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	k.b[20 + 12] = 0;
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	k.b[20 + 12] = 6 << 4;		/* 24 bytes, packet claims 20 */
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	/* versions */
	k = good;
	k.b[0] = 0x55;
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	k.b[0] = 0x05;
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	k.b[0] = 0xf5;
	CHECK(parse_exact(k.b, 1, &in) == NU_PACKET_BAD_HEADER);
	/* unsupported transports */
	k = good;
	k.b[9] = 47;		/* GRE */
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_UNSUPPORTED);
	CHECK(in.flow.proto == 47);
	k.b[9] = IPPROTO_ICMPV6;	/* ICMPv6 inside IPv4 */
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_UNSUPPORTED);
	CHECK(nu_packet_parse(NULL, 0, &in) == NU_PACKET_TRUNCATED);
}

static void test_v4_fragments(void)
{
	struct pkt k;
	struct nu_packet_info in;
	size_t off = v4_hdr(&k, 5, IPPROTO_UDP);

	off += udp_hdr(k.b + off, 7000, 7001, 100);
	v4_finish(&k, off + 92);
	/* first fragment (MF, offset 0) carries the transport header */
	put16(k.b + 6, 0x2000);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	CHECK(in.flow.sport == 7000 && in.flow.dport == 7001);
	/* DF alone is no fragment */
	put16(k.b + 6, 0x4000);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	/* later fragments */
	put16(k.b + 6, 0x2000 | 185);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_FRAGMENT);
	check_v4_addrs(&in);
	CHECK(in.flow.proto == IPPROTO_UDP);
	CHECK(in.flow.sport == 0 && in.flow.dport == 0);
	put16(k.b + 6, 1);		/* last fragment, offset 8 */
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_FRAGMENT);
	/* a later fragment needs no transport bytes at all */
	CHECK(parse_exact(k.b, 20, &in) == NU_PACKET_FRAGMENT);
}

static void test_v6_basic(void)
{
	struct pkt k;
	struct nu_packet_info in;
	size_t off;

	off = v6_hdr(&k, IPPROTO_TCP);
	off += tcp_hdr(k.b + off, 50000, 22, NU_TCP_SYN, 8);
	v6_finish(&k, off);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	check_v6_addrs(&in);
	CHECK(in.flow.proto == IPPROTO_TCP);
	CHECK(in.flow.sport == 50000 && in.flow.dport == 22);
	CHECK(in.tcp_flags == NU_TCP_SYN);
	CHECK(in.l3_len == 72);
	check_truncations(&k, 54);

	off = v6_hdr(&k, IPPROTO_UDP);
	off += udp_hdr(k.b + off, 546, 547, 8);
	v6_finish(&k, off);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	check_v6_addrs(&in);
	CHECK(in.flow.proto == IPPROTO_UDP);
	CHECK(in.flow.sport == 546 && in.flow.dport == 547);
	check_truncations(&k, 48);

	off = v6_hdr(&k, IPPROTO_ICMPV6);
	icmp_hdr(k.b + off, 128, 0);
	k.b[off + 5] = 0x07;	/* the echo identifier, 7 */
	off += 8;
	v6_finish(&k, off + 32);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	check_v6_addrs(&in);
	CHECK(in.flow.proto == IPPROTO_ICMPV6);
	CHECK(in.icmp_type == 128 && in.icmp_code == 0);
	CHECK(in.flow.sport == 7 && in.flow.dport == 0);
	check_truncations(&k, 48);

	/* ICMP (v4 number) inside IPv6, no next header, ESP */
	k.b[6] = IPPROTO_ICMP;
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_UNSUPPORTED);
	k.b[6] = 59;
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_UNSUPPORTED);
	k.b[6] = 50;
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_UNSUPPORTED);

	/* payload length too short for the transport header */
	off = v6_hdr(&k, IPPROTO_UDP);
	off += udp_hdr(k.b + off, 1, 2, 8);
	v6_finish(&k, off);
	put16(k.b + 4, 7);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	put16(k.b + 4, 0);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	/* payload length beyond the capture: fine; l3_len clamps at 65535 */
	put16(k.b + 4, 0xffff);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	CHECK(in.l3_len == 0xffff);
}

static void test_v6_ext(void)
{
	struct pkt k;
	struct nu_packet_info in;
	size_t off, frag;

	/* hop-by-hop, destination options, routing, AH, fragment, TCP */
	off = v6_hdr(&k, 0);
	off += ext_hdr(k.b + off, 60, 0);		/* HBH 8 */
	off += ext_hdr(k.b + off, 43, 1);		/* DST 16 */
	off += ext_hdr(k.b + off, 51, 2);		/* RH 24 */
	memset(k.b + off, 0, 24);			/* AH (4+2)*4 = 24 */
	k.b[off] = 44;
	k.b[off + 1] = 4;
	off += 24;
	frag = off;
	memset(k.b + off, 0, 8);			/* fragment, offset 0, M */
	k.b[off] = IPPROTO_TCP;
	put16(k.b + off + 2, 1);
	off += 8;
	off += tcp_hdr(k.b + off, 33333, 443, NU_TCP_SYN, 5);
	v6_finish(&k, off);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
	check_v6_addrs(&in);
	CHECK(in.flow.proto == IPPROTO_TCP);
	CHECK(in.flow.sport == 33333 && in.flow.dport == 443);
	CHECK(in.tcp_flags == NU_TCP_SYN);
	check_truncations(&k, 40 + 8 + 16 + 24 + 24 + 8 + 14);

	/* non-first fragment */
	put16(k.b + frag + 2, (100 << 3) | 1);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_FRAGMENT);
	CHECK(in.flow.proto == IPPROTO_TCP);
	CHECK(in.flow.sport == 0);
	CHECK(parse_exact(k.b, frag + 8, &in) == NU_PACKET_FRAGMENT);
	CHECK(parse_exact(k.b, frag + 7, &in) == NU_PACKET_TRUNCATED);
	put16(k.b + frag + 2, 0);

	/* payload length that ends inside the extension chain */
	put16(k.b + 4, 8 + 16 + 4);
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	put16(k.b + 4, 8 + 16 + 24 + 24 + 8);	/* ends before TCP */
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);

	/* an extension header claiming more than the packet holds */
	v6_finish(&k, off);
	k.b[40 + 1] = 200;
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
	put16(k.b + 4, 4000);			/* but captured short */
	CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_TRUNCATED);
}

static void test_v6_chain_limit(void)
{
	struct pkt k;
	struct nu_packet_info in;
	size_t off;
	int i, n;

	for (n = 7; n <= 10; n++) {
		off = v6_hdr(&k, 60);
		for (i = 0; i < n; i++)
			off += ext_hdr(k.b + off, i == n - 1 ? IPPROTO_UDP : 60, 0);
		off += udp_hdr(k.b + off, 10, 20, 8);
		v6_finish(&k, off);
		if (n <= 8) {
			CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_OK);
			CHECK(in.flow.sport == 10 && in.flow.dport == 20);
		} else {
			CHECK(parse_exact(k.b, k.len, &in) == NU_PACKET_BAD_HEADER);
		}
	}
}

static void test_strerror(void)
{
	int s;

	for (s = NU_PACKET_OK; s <= NU_PACKET_UNSUPPORTED; s++)
		CHECK(nu_packet_strerror((enum nu_packet_status)s) != NULL);
	CHECK(strcmp(nu_packet_strerror(NU_PACKET_OK),
		     nu_packet_strerror(NU_PACKET_TRUNCATED)) != 0);
	CHECK(nu_packet_strerror((enum nu_packet_status)99) != NULL);
}

/* Random mutations of valid packets; the parser must stay within bounds
 * (checked by the sanitizer build) and any OK answer must be coherent. */
static void test_fuzz(void)
{
	struct pkt seeds[5], k;
	struct nu_packet_info in;
	size_t off;
	int i, j, incoherent = 0, ok = 0;
	GRand *r = g_rand_new_with_seed(20240611);

	off = v4_hdr(&seeds[0], 5, IPPROTO_TCP);
	off += tcp_hdr(seeds[0].b + off, 1, 2, NU_TCP_SYN, 5);
	v4_finish(&seeds[0], off);
	off = v4_hdr(&seeds[1], 6, IPPROTO_UDP);
	off += udp_hdr(seeds[1].b + off, 1, 2, 8);
	v4_finish(&seeds[1], off);
	off = v6_hdr(&seeds[2], IPPROTO_ICMPV6);
	off += icmp_hdr(seeds[2].b + off, 135, 0);
	v6_finish(&seeds[2], off);
	off = v6_hdr(&seeds[3], 0);
	off += ext_hdr(seeds[3].b + off, 44, 0);
	memset(seeds[3].b + off, 0, 8);
	seeds[3].b[off] = IPPROTO_TCP;
	off += 8;
	off += tcp_hdr(seeds[3].b + off, 1, 2, NU_TCP_SYN, 5);
	v6_finish(&seeds[3], off);
	off = v4_hdr(&seeds[4], 5, IPPROTO_ICMP);
	off += icmp_hdr(seeds[4].b + off, 0, 0);
	v4_finish(&seeds[4], off);

	for (i = 0; i < 20000; i++) {
		int flips;

		k = seeds[g_rand_int_range(r, 0, 5)];
		flips = g_rand_int_range(r, 1, 5);
		for (j = 0; j < flips; j++) {
			size_t at = (size_t)g_rand_int_range(r, 0, (gint32)k.len);

			if (g_rand_boolean(r))
				k.b[at] = (uint8_t)g_rand_int_range(r, 0, 256);
			else
				k.b[at] ^= (uint8_t)(1u << g_rand_int_range(r, 0, 8));
		}
		if (g_rand_int_range(r, 0, 4) == 0)
			k.len = (size_t)g_rand_int_range(r, 0, (gint32)k.len + 1);
		if (parse_exact(k.b, k.len, &in) == NU_PACKET_OK) {
			ok++;
			if (in.flow.family != AF_INET && in.flow.family != AF_INET6)
				incoherent++;
			if (in.flow.family == AF_INET &&
			    (!nu_addr_is_v4(&in.flow.saddr, NULL) ||
			     !nu_addr_is_v4(&in.flow.daddr, NULL)))
				incoherent++;
			if (in.flow.proto != IPPROTO_TCP && in.flow.proto != IPPROTO_UDP &&
			    in.flow.proto != IPPROTO_ICMP && in.flow.proto != IPPROTO_ICMPV6)
				incoherent++;
		}
	}
	/* pure noise too */
	for (i = 0; i < 5000; i++) {
		k.len = (size_t)g_rand_int_range(r, 0, 128);
		for (off = 0; off < k.len; off++)
			k.b[off] = (uint8_t)g_rand_int_range(r, 0, 256);
		if (k.len > 0)
			k.b[0] = (uint8_t)((g_rand_boolean(r) ? 0x40 : 0x60) |
					   (k.b[0] & 0x0f));
		(void)parse_exact(k.b, k.len, &in);
	}
	CHECK(incoherent == 0);
	CHECK(ok > 100);	/* mutations do not all break the packet */
	g_rand_free(r);
}

int main(void)
{
	test_v4_tcp();
	test_v4_udp_icmp();
	test_v4_bad();
	test_v4_fragments();
	test_v6_basic();
	test_v6_ext();
	test_v6_chain_limit();
	test_strerror();
	test_fuzz();
	return unit_done("packet");
}
