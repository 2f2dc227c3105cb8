/* Building and sending the answers to rejected packets. */
#include "config.h"
#include "reject.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <glib.h>

#include "error.h"

#include "packet.h"

#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define TCP_HLEN 20
#define ICMP_HLEN 8
/* An ICMP error quotes as much of the packet as fits in the minimum MTU. */
#define ICMP4_QUOTE_MAX (576 - IPV4_HLEN - ICMP_HLEN)
#define ICMP6_QUOTE_MAX (1280 - IPV6_HLEN - ICMP_HLEN)

struct nufw_rejecter {
	int fd4;
	int fd6;
	enum nufw_reject_kind kind;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The transport checksum over the pseudo-header and l4[0..len). */
static uint16_t l4_checksum(bool v6, const uint8_t *src, const uint8_t *dst,
			    uint8_t proto, const uint8_t *l4, size_t len)
{
	size_t alen = v6 ? 16 : 4;
	uint32_t sum = 0;

	sum = sum_bytes(sum, src, alen);
	sum = sum_bytes(sum, dst, alen);
	sum += proto;
	sum += (uint32_t)len;
	return fold(sum_bytes(sum, l4, len));
}

/* Writes the IP header of the answer (from the packet's destination to its
 * source) and returns its length. */
static size_t put_ip_header(bool v6, const struct nu_flow *f, uint8_t proto,
			    size_t payload_len, uint8_t *out)
{
	if (v6) {
		memset(out, 0, IPV6_HLEN);
		out[0] = 0x60;
		put16(out + 4, (uint16_t)payload_len);
		out[6] = proto;
		out[7] = 64;
		memcpy(out + 8, f->daddr.s6_addr, 16);
		memcpy(out + 24, f->saddr.s6_addr, 16);
		return IPV6_HLEN;
	}
	memset(out, 0, IPV4_HLEN);
	out[0] = 0x45;
	put16(out + 2, (uint16_t)(IPV4_HLEN + payload_len));
	out[6] = 0x40;				/* don't fragment */
	out[8] = 64;
	out[9] = proto;
	memcpy(out + 12, f->daddr.s6_addr + 12, 4);
	memcpy(out + 16, f->saddr.s6_addr + 12, 4);
	put16(out + 10, fold(sum_bytes(0, out, IPV4_HLEN)));
	return IPV4_HLEN;
}

static const uint8_t *addr_bytes(bool v6, const struct in6_addr *a)
{
	return v6 ? a->s6_addr : a->s6_addr + 12;
}

/* The TCP reset that answers packet as its destination would. */
static size_t build_reset(const uint8_t *packet, size_t len, const struct nu_packet_info *info,
			  uint8_t *out, size_t cap)
{
	bool v6 = info->flow.family == AF_INET6;
	size_t hlen = v6 ? IPV6_HLEN : IPV4_HLEN;
	size_t off = (size_t)(v6 ? IPV6_HLEN : (packet[0] & 0x0f) * 4);
	uint32_t seq, ack;
	uint8_t *l4;

	/* v6 extension headers are not walked here, so only a plain
	 * TCP-after-header packet is answered. */
	if ((v6 && packet[6] != IPPROTO_TCP) || len < off + TCP_HLEN || cap < hlen + TCP_HLEN)
		return 0;
	l4 = out + hlen;
	memset(l4, 0, TCP_HLEN);
	put16(l4, info->flow.dport);
	put16(l4 + 2, info->flow.sport);
	seq = (uint32_t)packet[off + 4] << 24 | (uint32_t)packet[off + 5] << 16 |
	      (uint32_t)packet[off + 6] << 8 | packet[off + 7];
	if (info->tcp_flags & NU_TCP_ACK) {
		/* Answer an ACK with the sequence number it acknowledges. */
		memcpy(l4 + 4, packet + off + 8, 4);
		l4[13] = NU_TCP_RST;
	} else {
		ack = seq + ((info->tcp_flags & NU_TCP_SYN) ? 1 : 0) +
		      ((info->tcp_flags & NU_TCP_FIN) ? 1 : 0);
		put32(l4 + 8, ack);
		l4[13] = NU_TCP_RST | NU_TCP_ACK;
	}
	l4[12] = (TCP_HLEN / 4) << 4;
	put_ip_header(v6, &info->flow, IPPROTO_TCP, TCP_HLEN, out);
	put16(l4 + 16, l4_checksum(v6, addr_bytes(v6, &info->flow.daddr),
				   addr_bytes(v6, &info->flow.saddr), IPPROTO_TCP, l4, TCP_HLEN));
	return hlen + TCP_HLEN;
}

/* An ICMP (ICMPv6) destination unreachable of that code, quoting packet. */
static size_t build_unreachable(const uint8_t *packet, size_t len,
				const struct nu_packet_info *info, uint8_t code,
				uint8_t *out, size_t cap)
{
	bool v6 = info->flow.family == AF_INET6;
	size_t hlen = v6 ? IPV6_HLEN : IPV4_HLEN;
	size_t quote = MIN(len, v6 ? ICMP6_QUOTE_MAX : ICMP4_QUOTE_MAX);
	size_t l4_len = ICMP_HLEN + quote;
	uint8_t *l4;

	if (cap < hlen + l4_len)
		return 0;
	l4 = out + hlen;
	memset(l4, 0, ICMP_HLEN);
	l4[0] = v6 ? 1 : 3;			/* destination unreachable */
	l4[1] = code;
	memcpy(l4 + ICMP_HLEN, packet, quote);
	put_ip_header(v6, &info->flow, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, l4_len, out);
	if (v6)
		put16(l4 + 2, l4_checksum(true, info->flow.daddr.s6_addr, info->flow.saddr.s6_addr,
					  IPPROTO_ICMPV6, l4, l4_len));
	else
		put16(l4 + 2, fold(sum_bytes(0, l4, l4_len)));
	return hlen + l4_len;
}

size_t nufw_reject_build(const uint8_t *packet, size_t len, enum nufw_reject_kind kind,
			 uint8_t *out, size_t cap)
{
	struct nu_packet_info info;
	bool v6;

	if (nu_packet_parse(packet, len, &info) != NU_PACKET_OK)
		return 0;
	v6 = info.flow.family == AF_INET6;
	/* Never answer a reset, nor an ICMP error with an ICMP error. */
	if (info.flow.proto == IPPROTO_TCP && (info.tcp_flags & NU_TCP_RST))
		return 0;
	if (info.flow.proto == IPPROTO_ICMP && info.icmp_type != 8 && info.icmp_type != 13)
		return 0;
	if (info.flow.proto == IPPROTO_ICMPV6 && info.icmp_type < 128)
		return 0;
	if (kind == NUFW_REJECT_ADMIN_PROHIBITED)
		return build_unreachable(packet, len, &info, v6 ? 1 : 13, out, cap);
	if (info.flow.proto == IPPROTO_TCP)
		return build_reset(packet, len, &info, out, cap);
	return build_unreachable(packet, len, &info, v6 ? 4 : 3, out, cap);	/* port */
}

bool nufw_reject_kind_parse(const char *name, enum nufw_reject_kind *kind)
{
	if (strcmp(name, "tcp-reset") == 0)
		*kind = NUFW_REJECT_AS_HOST;
	else if (strcmp(name, "icmp-admin-prohibited") == 0)
		*kind = NUFW_REJECT_ADMIN_PROHIBITED;
	else
		return false;
	return true;
}

struct nufw_rejecter *nufw_rejecter_new(enum nufw_reject_kind kind, GError **error)
{
	struct nufw_rejecter *r = g_new0(struct nufw_rejecter, 1);

	r->kind = kind;
	/* IPPROTO_RAW sockets send whole packets, IP header included. */
	r->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	r->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (r->fd4 < 0 || r->fd6 < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_IO,
			    "cannot open raw sockets to answer rejected packets: %s",
			    g_strerror(errno));
		nufw_rejecter_free(r);
		return NULL;
	}
	return r;
}

void nufw_rejecter_free(struct nufw_rejecter *r)
{
	if (!r)
		return;
	if (r->fd4 >= 0)
		close(r->fd4);
	if (r->fd6 >= 0)
		close(r->fd6);
	g_free(r);
}

int nufw_reject_send(struct nufw_rejecter *r, const uint8_t *packet, size_t len)
{
	uint8_t out[1280];
	size_t n = nufw_reject_build(packet, len, r->kind, out, sizeof(out));

	if (n == 0)
		return 0;
	if ((out[0] >> 4) == 6) {
		struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
		memcpy(&to.sin6_addr, out + 24, 16);
		return sendto(r->fd6, out, n, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -1 : 0;
	}
	struct sockaddr_in to = { .sin_family = AF_INET };
	memcpy(&to.sin_addr, out + 16, 4);
	return sendto(r->fd4, out, n, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -1 : 0;
}
