/* What proves a flow is the user's (sock_claims), the one rule that the
 * sock_diag answers (sockdiag.c) and the /proc/net lines (procnet.c) are
 * both put to: a socket of the user's uid whose own four-tuple is the
 * flow's, in SYN_SENT for TCP, connected (ESTABLISHED) for UDP.  Whatever
 * the kernel answers is checked against that, field by field: its exact
 * look-up falls back to listeners (TCP) and to unconnected sockets (UDP),
 * and answers with them.  An unconnected UDP socket proves its port only,
 * which anyone on the LAN can forge: it counts only with
 * NU_CONNTABLE_UDP_UNCONNECTED.  An ICMP or ICMPv6 echo request is proven
 * by the user's ping socket whose port is the echo's identifier. */
#include "config.h"
#include "conntable_int.h"

#include <string.h>
#include <sys/socket.h>
#include <netinet/tcp.h>

void addr_from_raw(struct in6_addr *dst, int family, const void *raw)
{
	uint32_t v4;

	if (family == AF_INET) {
		memcpy(&v4, raw, sizeof(v4));
		nu_addr_from_v4(dst, v4);
	} else {
		memcpy(dst, raw, sizeof(*dst));
	}
}

bool addr_is_any(const struct in6_addr *a)
{
	uint32_t v4;

	return IN6_IS_ADDR_UNSPECIFIED(a) || (nu_addr_is_v4(a, &v4) && v4 == 0);
}

bool sock_has_peer(const struct sock_view *s)
{
	return s->sport != 0 && s->dport != 0 && !addr_is_any(&s->dst);
}

/* An unbound local address (::, or 0.0.0.0 for an IPv4 flow) or the flow's
 * own source. */
static bool sock_local_serves(const struct sock_view *s, const struct nu_flow *flow)
{
	uint32_t v4;

	if (IN6_ARE_ADDR_EQUAL(&s->src, &flow->saddr) || IN6_IS_ADDR_UNSPECIFIED(&s->src))
		return true;
	return nu_addr_is_v4(&s->src, &v4) && v4 == 0 && nu_addr_is_v4(&flow->saddr, NULL);
}

/* TCP: s is in SYN_SENT with exactly flow's four-tuple.  UDP: s is
 * connected with exactly flow's four-tuple; with
 * NU_CONNTABLE_UDP_UNCONNECTED also an unconnected socket bound to flow's
 * source port (and address, or none).  A listener, any other state,
 * another uid's socket, one address or port off: no. */
bool sock_claims(const struct sock_view *s, const struct nu_flow *flow, uid_t uid,
		 unsigned int flags)
{
	if (s->uid != (uint32_t)uid || flow->sport == 0 || s->sport != flow->sport)
		return false;
	switch (flow->proto) {
	case IPPROTO_TCP:
		if (s->state != TCP_SYN_SENT)
			return false;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* A ping socket (SOCK_DGRAM, IPPROTO_ICMP{,V6}): the kernel
		 * writes its port into each echo request as the identifier, so
		 * the flow's identifier names it.  Unconnected or connected to
		 * the flow's destination; bound to the flow's source or to
		 * none.  (Raw sockets are listed elsewhere: never a proof.) */
		return (s->state == TCP_CLOSE || s->state == TCP_ESTABLISHED) &&
		       (addr_is_any(&s->dst) || IN6_ARE_ADDR_EQUAL(&s->dst, &flow->daddr)) &&
		       sock_local_serves(s, flow);
	case IPPROTO_UDP:
		if (s->state == TCP_CLOSE && (flags & NU_CONNTABLE_UDP_UNCONNECTED))
			return s->dport == 0 && addr_is_any(&s->dst) && flow->dport != 0 &&
			       !addr_is_any(&flow->daddr) && sock_local_serves(s, flow);
		if (s->state != TCP_ESTABLISHED)
			return false;
		break;
	default:
		return false;
	}
	return sock_has_peer(s) && s->dport == flow->dport &&
	       IN6_ARE_ADDR_EQUAL(&s->src, &flow->saddr) &&
	       IN6_ARE_ADDR_EQUAL(&s->dst, &flow->daddr);
}

bool scan_keeps(const struct sock_view *s, const struct scan_filter *f)
{
	return s->state < 32 && (f->states & (1U << s->state)) &&
	       s->uid == (uint32_t)f->uid && sock_has_peer(s);
}

void conn_from_sock(struct nu_local_conn *conn, uint8_t proto, const struct sock_view *s)
{
	memset(conn, 0, sizeof(*conn));
	conn->flow.family = nu_addr_is_v4(&s->dst, NULL) ? AF_INET : AF_INET6;
	conn->flow.proto = proto;
	conn->flow.sport = s->sport;
	conn->flow.dport = s->dport;
	conn->flow.saddr = s->src;
	conn->flow.daddr = s->dst;
	conn->inode = s->inode;
}

void conn_claimed(struct nu_local_conn *conn, const struct nu_flow *flow,
		  const struct sock_view *s)
{
	memset(conn, 0, sizeof(*conn));
	conn->flow = *flow;
	conn->inode = s->inode;
}

void conn_fill(struct nu_local_conn *conn, int family, const void *saddr, const void *daddr,
	       uint16_t sport, uint16_t dport, uint64_t inode)
{
	struct sock_view s;

	memset(&s, 0, sizeof(s));
	addr_from_raw(&s.src, family, saddr);
	addr_from_raw(&s.dst, family, daddr);
	s.sport = sport;
	s.dport = dport;
	s.inode = inode;
	conn_from_sock(conn, IPPROTO_TCP, &s);
}
