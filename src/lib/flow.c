/* The flow tuple: address conversions, formatting, comparison and hashing.
 *
 * Every address is an in6_addr; IPv4 lives in the v4-mapped range
 * ::ffff:0:0/96.  Hashing reads the fields one by one so that padding
 * bytes in struct nu_flow never influence the result. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <glib.h>

#include "flow.h"

static const uint8_t v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

void nu_addr_from_v4(struct in6_addr *dst, uint32_t v4_be)
{
	memcpy(dst->s6_addr, v4_mapped_prefix, sizeof(v4_mapped_prefix));
	memcpy(dst->s6_addr + 12, &v4_be, 4);
}

bool nu_addr_is_v4(const struct in6_addr *addr, uint32_t *v4_be)
{
	if (memcmp(addr->s6_addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) != 0)
		return false;
	if (v4_be)
		memcpy(v4_be, addr->s6_addr + 12, 4);
	return true;
}

/* A v4-mapped result (whether written as a.b.c.d or ::ffff:a.b.c.d) is
 * reported as AF_INET: the unified form cannot tell the two apart. */
bool nu_addr_parse(const char *text, struct in6_addr *dst, uint8_t *family)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (!text)
		return false;
	if (inet_pton(AF_INET, text, &v4) == 1) {
		nu_addr_from_v4(dst, v4.s_addr);
		if (family)
			*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, &v6) == 1) {
		*dst = v6;
		if (family)
			*family = nu_addr_is_v4(&v6, NULL) ? AF_INET : AF_INET6;
		return true;
	}
	return false;
}

const char *nu_addr_format(const struct in6_addr *addr, char *dst, size_t cap)
{
	char tmp[INET6_ADDRSTRLEN];
	uint32_t v4;
	const char *ok;

	if (!dst || cap == 0)
		return dst;
	if (nu_addr_is_v4(addr, &v4)) {
		struct in_addr a = { .s_addr = v4 };
		ok = inet_ntop(AF_INET, &a, tmp, sizeof(tmp));
	} else {
		ok = inet_ntop(AF_INET6, addr, tmp, sizeof(tmp));
	}
	if (!ok)
		tmp[0] = '\0';
	snprintf(dst, cap, "%s", tmp);
	return dst;
}

bool nu_addr_from_sockaddr(const struct sockaddr *sa, struct in6_addr *dst)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		nu_addr_from_v4(dst, sin.sin_addr.s_addr);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		*dst = sin6.sin6_addr;
		return true;
	}
	return false;
}

static const char *proto_name(uint8_t proto, char *tmp, size_t cap)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		snprintf(tmp, cap, "proto-%u", (unsigned int)proto);
		return tmp;
	}
}

/* One endpoint: "a.b.c.d:port", "[v6]:port", or the bare address when the
 * protocol has no ports. */
static void format_endpoint(const struct in6_addr *addr, uint16_t port,
			    bool ports, char *dst, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	nu_addr_format(addr, a, sizeof(a));
	if (!ports)
		snprintf(dst, cap, "%s", a);
	else if (nu_addr_is_v4(addr, NULL))
		snprintf(dst, cap, "%s:%u", a, (unsigned int)port);
	else
		snprintf(dst, cap, "[%s]:%u", a, (unsigned int)port);
}

const char *nu_flow_format(const struct nu_flow *flow, char *dst, size_t cap)
{
	char pname[24], src[64], dstep[64];
	bool ports;

	if (!dst || cap == 0)
		return dst;
	ports = flow->proto != IPPROTO_ICMP && flow->proto != IPPROTO_ICMPV6;
	format_endpoint(&flow->saddr, flow->sport, ports, src, sizeof(src));
	format_endpoint(&flow->daddr, flow->dport, ports, dstep, sizeof(dstep));
	snprintf(dst, cap, "%s %s -> %s",
		 proto_name(flow->proto, pname, sizeof(pname)), src, dstep);
	return dst;
}

bool nu_flow_equal(const struct nu_flow *a, const struct nu_flow *b)
{
	return a->family == b->family &&
	       a->proto == b->proto &&
	       a->sport == b->sport &&
	       a->dport == b->dport &&
	       memcmp(a->saddr.s6_addr, b->saddr.s6_addr, 16) == 0 &&
	       memcmp(a->daddr.s6_addr, b->daddr.s6_addr, 16) == 0;
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Mixes one 32-bit word into the running state (multiply-rotate). */
static uint32_t mix(uint32_t h, uint32_t k)
{
	k *= 0xcc9e2d51u;
	k = (k << 15) | (k >> 17);
	k *= 0x1b873593u;
	h ^= k;
	h = (h << 13) | (h >> 19);
	return h * 5u + 0xe6546b64u;
}

/* A seed drawn once per process: flows come from the network and from
 * clients, who must not be able to pick tuples that all land in one hash
 * bucket. */
static uint32_t hash_seed(void)
{
	/* Drawn once for the whole process: nufw's queue workers hash flows
	 * on several threads, and a seed that changed under a table would
	 * lose its keys. */
	static gsize seed;

	if (g_once_init_enter(&seed)) {
		uint32_t r;

		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = 0x4e754657u;
		g_once_init_leave(&seed, (gsize)r | ((gsize)1 << 32));	/* never 0 */
	}
	return (uint32_t)seed;
}

uint32_t nu_flow_hash(const struct nu_flow *flow)
{
	uint32_t h = hash_seed();
	int i;

	h = mix(h, (uint32_t)flow->family << 8 | flow->proto);
	h = mix(h, (uint32_t)flow->sport << 16 | flow->dport);
	for (i = 0; i < 16; i += 4)
		h = mix(h, load_be32(flow->saddr.s6_addr + i));
	for (i = 0; i < 16; i += 4)
		h = mix(h, load_be32(flow->daddr.s6_addr + i));
	/* final avalanche */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

unsigned int nu_flow_ghash(const void *key)
{
	return nu_flow_hash(key);
}

int nu_flow_gequal(const void *a, const void *b)
{
	return nu_flow_equal(a, b);
}
