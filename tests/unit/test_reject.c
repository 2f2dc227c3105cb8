/* The answers nufw builds for rejected packets: fields and checksums. */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>

#include "packet.h"
#include "reject.h"
#include "unit.h"

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t sum16(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/* A transport checksum is right when the sum over pseudo-header and data,
 * checksum included, folds to 0xffff. */
static bool l4_sum_ok(const uint8_t *pkt, size_t len)
{
	bool v6 = (pkt[0] >> 4) == 6;
	size_t hl = v6 ? 40 : (size_t)(pkt[0] & 15) * 4;
	uint32_t sum = v6 ? sum16(pkt + 8, 32) + pkt[6] : sum16(pkt + 12, 8) + pkt[9];

	sum += (uint32_t)(len - hl);
	if (v6 && pkt[6] == IPPROTO_ICMP)
		return false;
	if (!v6 && pkt[9] == IPPROTO_ICMP)
		sum = 0;	/* ICMPv4 has no pseudo-header */
	return csum_fold(sum + sum16(pkt + hl, len - hl)) == 0xffff;
}

static size_t v4_syn(uint8_t *p, uint8_t flags)
{
	static const uint8_t pkt[40] = {
		0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0,
		10, 201, 0, 2, 10, 202, 0, 2,
		0x9c, 0x40, 0, 80, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0,
		0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	};
	memcpy(p, pkt, sizeof(pkt));
	p[33] = flags;
	return sizeof(pkt);
}

static void test_tcp_reset_v4(void)
{
	uint8_t in[64], out[1500];
	size_t n = nufw_reject_build(in, v4_syn(in, NU_TCP_SYN), NUFW_REJECT_AS_HOST, out, sizeof(out));
	struct nu_packet_info info;

	CHECK(n == 40);
	CHECK(nu_packet_parse(out, n, &info) == NU_PACKET_OK);
	CHECK(info.flow.sport == 80 && info.flow.dport == 40000);
	CHECK(memcmp(out + 12, (uint8_t[]){ 10, 202, 0, 2 }, 4) == 0);	/* from the server */
	CHECK(memcmp(out + 16, (uint8_t[]){ 10, 201, 0, 2 }, 4) == 0);	/* to the client */
	CHECK(info.tcp_flags == (NU_TCP_RST | NU_TCP_ACK));
	/* It acknowledges the SYN: ack = seq + 1. */
	CHECK(memcmp(out + 28, (uint8_t[]){ 0x11, 0x22, 0x33, 0x45 }, 4) == 0);
	CHECK(csum_fold(sum16(out, 20)) == 0xffff);			/* IP header */
	CHECK(l4_sum_ok(out, n));
	/* A reset is never answered. */
	CHECK(nufw_reject_build(in, v4_syn(in, NU_TCP_RST), NUFW_REJECT_AS_HOST, out, sizeof(out)) == 0);
	/* Too small an output buffer: no answer, no overflow. */
	CHECK(nufw_reject_build(in, v4_syn(in, NU_TCP_SYN), NUFW_REJECT_AS_HOST, out, 39) == 0);
}

static void test_udp_unreachable_v4(void)
{
	uint8_t in[28] = {
		0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0,
		10, 201, 0, 2, 10, 202, 0, 2,
		0x30, 0x39, 0, 53, 0, 8, 0, 0,
	};
	uint8_t out[1500];
	size_t n = nufw_reject_build(in, sizeof(in), NUFW_REJECT_AS_HOST, out, sizeof(out));

	CHECK(n == 20 + 8 + sizeof(in));
	CHECK(out[9] == IPPROTO_ICMP && out[20] == 3 && out[21] == 3);
	CHECK(memcmp(out + 28, in, sizeof(in)) == 0);			/* quotes the packet */
	CHECK(l4_sum_ok(out, n));
}

static void test_ipv6(void)
{
	uint8_t in[60] = { 0x60, 0, 0, 0, 0, 20, 6, 64 };
	uint8_t out[1500];
	size_t n;

	in[8] = 0xfd; in[23] = 2;	/* fd00::2 -> fd01::2 */
	in[24] = 0xfd; in[25] = 1; in[39] = 2;
	in[40] = 0x9c; in[41] = 0x40; in[43] = 22;	/* 40000 -> 22 */
	in[52] = 0x50; in[53] = NU_TCP_SYN;
	n = nufw_reject_build(in, sizeof(in), NUFW_REJECT_AS_HOST, out, sizeof(out));
	CHECK(n == 60);
	CHECK(out[6] == IPPROTO_TCP && out[40 + 13] == (NU_TCP_RST | NU_TCP_ACK));
	CHECK(memcmp(out + 8, in + 24, 16) == 0 && memcmp(out + 24, in + 8, 16) == 0);
	CHECK(l4_sum_ok(out, n));

	in[6] = 17;			/* the same as UDP */
	in[44] = 0; in[45] = 8;
	n = nufw_reject_build(in, 48, NUFW_REJECT_AS_HOST, out, sizeof(out));
	CHECK(n == 40 + 8 + 48 && out[6] == IPPROTO_ICMPV6 && out[40] == 1 && out[41] == 4);
	CHECK(l4_sum_ok(out, n));
}

static void test_no_answer(void)
{
	uint8_t in[28] = {
		0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0,
		10, 201, 0, 2, 10, 202, 0, 2,
		3, 3, 0, 0, 0, 0, 0, 0,	/* an ICMP error itself */
	};
	uint8_t out[1500];

	CHECK(nufw_reject_build(in, sizeof(in), NUFW_REJECT_AS_HOST, out, sizeof(out)) == 0);
	in[20] = 8;			/* echo request: answered */
	CHECK(nufw_reject_build(in, sizeof(in), NUFW_REJECT_AS_HOST, out, sizeof(out)) > 0);
	for (size_t len = 0; len < sizeof(in); len++)	/* truncated input */
		CHECK(nufw_reject_build(in, len, NUFW_REJECT_AS_HOST, out, sizeof(out)) == 0);
}

/* --reject-with icmp-admin-prohibited: TCP and UDP alike get ICMP
 * destination unreachable, administratively prohibited (code 13), ICMPv6
 * destination unreachable, administratively prohibited (code 1); a reset
 * and an ICMP error still get nothing. */
static void test_admin_prohibited(void)
{
	uint8_t in[64], out[1500], v6[48] = { 0x60, 0, 0, 0, 0, 8, 17, 64 };
	size_t n, len = v4_syn(in, NU_TCP_SYN);
	enum nufw_reject_kind kind = NUFW_REJECT_AS_HOST;

	n = nufw_reject_build(in, len, NUFW_REJECT_ADMIN_PROHIBITED, out, sizeof(out));
	CHECK(n == 20 + 8 + len);
	CHECK(out[9] == IPPROTO_ICMP && out[20] == 3 && out[21] == 13);
	CHECK(memcmp(out + 12, in + 16, 4) == 0 && memcmp(out + 16, in + 12, 4) == 0);
	CHECK(memcmp(out + 28, in, len) == 0);
	CHECK(l4_sum_ok(out, n));
	CHECK(nufw_reject_build(in, v4_syn(in, NU_TCP_RST), NUFW_REJECT_ADMIN_PROHIBITED, out,
				sizeof(out)) == 0);

	v6[8] = 0xfd; v6[23] = 2; v6[24] = 0xfd; v6[25] = 1; v6[39] = 2;
	v6[40] = 0x9c; v6[41] = 0x40; v6[43] = 53; v6[45] = 8;
	n = nufw_reject_build(v6, sizeof(v6), NUFW_REJECT_ADMIN_PROHIBITED, out, sizeof(out));
	CHECK(n == 40 + 8 + sizeof(v6) && out[6] == IPPROTO_ICMPV6 && out[40] == 1 && out[41] == 1);
	CHECK(l4_sum_ok(out, n));

	CHECK(nufw_reject_kind_parse("icmp-admin-prohibited", &kind) &&
	      kind == NUFW_REJECT_ADMIN_PROHIBITED);
	CHECK(nufw_reject_kind_parse("tcp-reset", &kind) && kind == NUFW_REJECT_AS_HOST);
	CHECK(!nufw_reject_kind_parse("icmp-host-prohibited", &kind) && kind == NUFW_REJECT_AS_HOST);
}

int main(void)
{
	test_tcp_reset_v4();
	test_udp_unreachable_v4();
	test_ipv6();
	test_no_answer();
	test_admin_prohibited();
	return unit_done("reject");
}
