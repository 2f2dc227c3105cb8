/* The flow tuple: what identifies one connection for nufw, nuauth and the
 * client alike.  Addresses are always held as IPv6; an IPv4 address is stored
 * v4-mapped (::ffff:a.b.c.d) so that comparison and hashing need no branch. */
#ifndef NU_FLOW_H
#define NU_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct nu_flow {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t proto;		/* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 */
	uint16_t sport;		/* host byte order; ICMP: an echo request's
				 * identifier, else 0 */
	uint16_t dport;		/* host byte order; 0 for ICMP */
	struct in6_addr saddr;
	struct in6_addr daddr;
};

/* Longest text nu_flow_format() writes, with its NUL. */
#define NU_FLOW_STRLEN 112

/* Stores an IPv4 address (network byte order) v4-mapped into *dst. */
void nu_addr_from_v4(struct in6_addr *dst, uint32_t v4_be);
/* True when addr is v4-mapped; *v4_be gets the IPv4 address if not NULL. */
bool nu_addr_is_v4(const struct in6_addr *addr, uint32_t *v4_be);
/* Parses "a.b.c.d" or an IPv6 address into the unified form. */
bool nu_addr_parse(const char *text, struct in6_addr *dst, uint8_t *family);
/* Writes the address as text (dotted quad for v4-mapped); returns dst. */
const char *nu_addr_format(const struct in6_addr *addr, char *dst, size_t cap);
/* Same address from a struct sockaddr (AF_INET or AF_INET6); false otherwise. */
struct sockaddr;
bool nu_addr_from_sockaddr(const struct sockaddr *sa, struct in6_addr *dst);

/* "tcp 10.201.0.2:40000 -> 10.202.0.2:80"; returns dst. */
const char *nu_flow_format(const struct nu_flow *flow, char *dst, size_t cap);
bool nu_flow_equal(const struct nu_flow *a, const struct nu_flow *b);
uint32_t nu_flow_hash(const struct nu_flow *flow);

/* GHashTable adaptors (keys are struct nu_flow *). */
unsigned int nu_flow_ghash(const void *key);
int nu_flow_gequal(const void *a, const void *b);

#endif
