/* IPv4/IPv6 header parser for packets read from NFQUEUE.
 *
 * Two ends bound every read:
 *   claimed  where the IP header says the packet ends;
 *   avail    min(len, claimed): the bytes we may actually read.
 * NFQUEUE may hand us less than the packet (copy range), so a header that
 * runs past avail but not past claimed is TRUNCATED; a header that runs past
 * claimed cannot exist in any packet and is BAD_HEADER. */
#include "config.h"

#include <string.h>

#include "packet.h"

/* Longest IPv6 extension header chain we walk before giving up. */
#define NU_IPV6_MAX_EXT_HEADERS 8

#define IPV4_HEADER_LEN 20
#define IPV6_HEADER_LEN 40
#define TCP_MIN_HEADER_LEN 20
#define TCP_FLAGS_NEED 14	/* ports .. flags byte */
#define UDP_HEADER_LEN 8
#define ICMP_HEADER_LEN 8
#define ICMP_ECHO_REQUEST_TYPE 8
#define ICMP6_ECHO_REQUEST_TYPE 128

/* IPv6 next-header values for the extension headers we walk. */
#define EXT_HOPOPTS 0
#define EXT_ROUTING 43
#define EXT_FRAGMENT 44
#define EXT_AH 51
#define EXT_DSTOPTS 60

struct bounds {
	size_t avail;
	size_t claimed;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Can n bytes at off be read? */
static enum nu_packet_status need(const struct bounds *b, size_t off, size_t n)
{
	if (off > b->claimed || n > b->claimed - off)
		return NU_PACKET_BAD_HEADER;
	if (off > b->avail || n > b->avail - off)
		return NU_PACKET_TRUNCATED;
	return NU_PACKET_OK;
}

static enum nu_packet_status parse_transport(const uint8_t *buf,
					     const struct bounds *b, size_t off,
					     bool v6, struct nu_packet_info *out)
{
	const uint8_t *p = buf + off;
	enum nu_packet_status st;
	unsigned int doff;

	switch (out->flow.proto) {
	case IPPROTO_TCP:
		/* the whole fixed header must fit in the claimed length, but
		 * only ports, data offset and flags need to be in the buffer */
		if (off > b->claimed || b->claimed - off < TCP_MIN_HEADER_LEN)
			return NU_PACKET_BAD_HEADER;
		st = need(b, off, TCP_FLAGS_NEED);
		if (st != NU_PACKET_OK)
			return st;
		doff = p[12] >> 4;
		if (doff < 5 || doff * 4 > b->claimed - off)
			return NU_PACKET_BAD_HEADER;
		out->flow.sport = get16(p);
		out->flow.dport = get16(p + 2);
		out->tcp_flags = p[13];
		return NU_PACKET_OK;
	case IPPROTO_UDP:
		st = need(b, off, UDP_HEADER_LEN);
		if (st != NU_PACKET_OK)
			return st;
		out->flow.sport = get16(p);
		out->flow.dport = get16(p + 2);
		return NU_PACKET_OK;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (v6 != (out->flow.proto == IPPROTO_ICMPV6))
			return NU_PACKET_UNSUPPORTED;
		st = need(b, off, ICMP_HEADER_LEN);
		if (st != NU_PACKET_OK)
			return st;
		out->icmp_type = p[0];
		out->icmp_code = p[1];
		/* An echo request's identifier, which names the ping socket
		 * that sent it (the client's proof, sockclaim.c). */
		if (p[0] == (v6 ? ICMP6_ECHO_REQUEST_TYPE : ICMP_ECHO_REQUEST_TYPE))
			out->flow.sport = get16(p + 4);
		return NU_PACKET_OK;
	default:
		return NU_PACKET_UNSUPPORTED;
	}
}

static enum nu_packet_status parse_v4(const uint8_t *buf, size_t len,
				      struct nu_packet_info *out)
{
	struct bounds b;
	size_t ihl, total;
	uint32_t a;

	if (len < IPV4_HEADER_LEN)
		return NU_PACKET_TRUNCATED;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < IPV4_HEADER_LEN)
		return NU_PACKET_BAD_HEADER;
	total = get16(buf + 2);
	if (total < ihl)
		return NU_PACKET_BAD_HEADER;
	if (ihl > len)
		return NU_PACKET_TRUNCATED;

	out->l3_len = (uint16_t)total;
	out->flow.family = AF_INET;
	out->flow.proto = buf[9];
	memcpy(&a, buf + 12, 4);
	nu_addr_from_v4(&out->flow.saddr, a);
	memcpy(&a, buf + 16, 4);
	nu_addr_from_v4(&out->flow.daddr, a);

	if ((get16(buf + 6) & 0x1fff) != 0)
		return NU_PACKET_FRAGMENT;

	b.claimed = total;
	b.avail = len < total ? len : total;
	return parse_transport(buf, &b, ihl, false, out);
}

static enum nu_packet_status parse_v6(const uint8_t *buf, size_t len,
				      struct nu_packet_info *out)
{
	struct bounds b;
	enum nu_packet_status st;
	size_t off, total, hlen;
	uint8_t nh;
	int walked;

	if (len < IPV6_HEADER_LEN)
		return NU_PACKET_TRUNCATED;
	total = IPV6_HEADER_LEN + (size_t)get16(buf + 4);
	/* a jumbo-sized total does not fit the u16 field: clamp it */
	out->l3_len = total > 0xffff ? 0xffff : (uint16_t)total;
	out->flow.family = AF_INET6;
	memcpy(out->flow.saddr.s6_addr, buf + 8, 16);
	memcpy(out->flow.daddr.s6_addr, buf + 24, 16);

	b.claimed = total;
	b.avail = len < total ? len : total;
	off = IPV6_HEADER_LEN;
	nh = buf[6];

	for (walked = 0; ; walked++) {
		if (nh != EXT_HOPOPTS && nh != EXT_ROUTING && nh != EXT_DSTOPTS &&
		    nh != EXT_FRAGMENT && nh != EXT_AH)
			break;
		/* a chain longer than this is treated as malformed rather
		 * than let through undecided */
		if (walked == NU_IPV6_MAX_EXT_HEADERS)
			return NU_PACKET_BAD_HEADER;
		if (nh == EXT_FRAGMENT) {
			st = need(&b, off, 8);
			if (st != NU_PACKET_OK)
				return st;
			if ((get16(buf + off + 2) >> 3) != 0) {
				out->flow.proto = buf[off];
				return NU_PACKET_FRAGMENT;
			}
			nh = buf[off];
			off += 8;
			continue;
		}
		st = need(&b, off, 2);
		if (st != NU_PACKET_OK)
			return st;
		if (nh == EXT_AH)
			hlen = ((size_t)buf[off + 1] + 2) * 4;
		else
			hlen = ((size_t)buf[off + 1] + 1) * 8;
		st = need(&b, off, hlen);
		if (st != NU_PACKET_OK)
			return st;
		nh = buf[off];
		off += hlen;
	}

	out->flow.proto = nh;
	return parse_transport(buf, &b, off, true, out);
}

enum nu_packet_status nu_packet_parse(const uint8_t *buf, size_t len,
				      struct nu_packet_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!buf || len < 1)
		return NU_PACKET_TRUNCATED;
	switch (buf[0] >> 4) {
	case 4:
		return parse_v4(buf, len, out);
	case 6:
		return parse_v6(buf, len, out);
	default:
		return NU_PACKET_BAD_HEADER;
	}
}

const char *nu_packet_strerror(enum nu_packet_status status)
{
	switch (status) {
	case NU_PACKET_OK:
		return "ok";
	case NU_PACKET_TRUNCATED:
		return "truncated packet";
	case NU_PACKET_BAD_HEADER:
		return "malformed header";
	case NU_PACKET_FRAGMENT:
		return "non-first fragment";
	case NU_PACKET_UNSUPPORTED:
		return "unsupported protocol";
	}
	return "unknown packet status";
}
