/* libnuclient's conntable: what proves that a flow is the user's.  The
 * proof itself (sock_claims, sockclaim.c) on sockets the kernel could
 * answer with, and the three readers that feed it: a sock_diag look-up's
 * answer, a sock_diag dump (sockdiag.c), /proc/net/{tcp,udp,icmp}{,6}
 * (procnet.c, files written here); ping sockets proving ICMP echoes. */
#include "config.h"
#include "conntable_int.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "unit.h"
#include "unit_files.h"

#define UID 1001
#define OTHER_UID 1002

static struct in6_addr addr(const char *text)
{
	struct in6_addr a;
	uint8_t family;

	if (!nu_addr_parse(text, &a, &family))
		g_error("bad address %s", text);
	return a;
}

static struct nu_flow flow(uint8_t proto, const char *src, uint16_t sport,
			   const char *dst, uint16_t dport)
{
	struct nu_flow f;
	uint8_t family;

	memset(&f, 0, sizeof(f));
	f.proto = proto;
	nu_addr_parse(src, &f.saddr, &family);
	nu_addr_parse(dst, &f.daddr, &family);
	f.family = family;
	f.sport = sport;
	f.dport = dport;
	return f;
}

static struct sock_view sock(unsigned int state, const char *src, uint16_t sport,
			     const char *dst, uint16_t dport, uint32_t uid)
{
	struct sock_view s;

	memset(&s, 0, sizeof(s));
	s.state = state;
	s.src = addr(src);
	s.dst = addr(dst);
	s.sport = sport;
	s.dport = dport;
	s.uid = uid;
	s.inode = 4242;
	return s;
}

static void test_tcp_proofs(void)
{
	struct nu_flow f = flow(IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.2", 80);
	struct nu_flow f6 = flow(IPPROTO_TCP, "fd00:201::2", 40000, "fd00:202::2", 80);
	struct sock_view s;

	s = sock(TCP_SYN_SENT, "10.201.0.2", 40000, "10.202.0.2", 80, UID);
	CHECK(sock_claims(&s, &f, UID, 0));
	CHECK(sock_claims(&s, &f, UID, NU_CONNTABLE_UDP_UNCONNECTED));
	/* the kernel's exact look-up falls back to the listener */
	s = sock(TCP_LISTEN, "0.0.0.0", 40000, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	CHECK(!sock_claims(&s, &f, UID, NU_CONNTABLE_UDP_UNCONNECTED));
	s = sock(TCP_LISTEN, "::", 40000, "::", 0, UID);	/* dual-stack */
	CHECK(!sock_claims(&s, &f, UID, 0));
	s = sock(TCP_LISTEN, "10.201.0.2", 40000, "10.202.0.2", 80, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	/* any state but SYN_SENT */
	for (unsigned st = TCP_ESTABLISHED; st <= TCP_CLOSING; st++) {
		s = sock(st, "10.201.0.2", 40000, "10.202.0.2", 80, UID);
		CHECK(sock_claims(&s, &f, UID, 0) == (st == TCP_SYN_SENT));
	}
	/* another user's socket */
	s = sock(TCP_SYN_SENT, "10.201.0.2", 40000, "10.202.0.2", 80, OTHER_UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	s = sock(TCP_SYN_SENT, "10.201.0.2", 40000, "10.202.0.2", 80, 0);
	CHECK(!sock_claims(&s, &f, UID, 0));
	/* each field of the tuple */
	s = sock(TCP_SYN_SENT, "10.201.0.3", 40000, "10.202.0.2", 80, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	s = sock(TCP_SYN_SENT, "10.201.0.2", 40001, "10.202.0.2", 80, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	s = sock(TCP_SYN_SENT, "10.201.0.2", 40000, "10.202.0.3", 80, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	s = sock(TCP_SYN_SENT, "10.201.0.2", 40000, "10.202.0.2", 81, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	s = sock(TCP_SYN_SENT, "10.201.0.2", 40000, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	/* IPv6, and no crossing of families */
	s = sock(TCP_SYN_SENT, "fd00:201::2", 40000, "fd00:202::2", 80, UID);
	CHECK(sock_claims(&s, &f6, UID, 0));
	CHECK(!sock_claims(&s, &f, UID, 0));
	s = sock(TCP_LISTEN, "::", 40000, "::", 0, UID);
	CHECK(!sock_claims(&s, &f6, UID, 0));
	s = sock(TCP_SYN_SENT, "10.201.0.2", 40000, "10.202.0.2", 80, UID);
	CHECK(!sock_claims(&s, &f6, UID, 0));
	s = sock(TCP_SYN_SENT, "fd00:201::3", 40000, "fd00:202::2", 80, UID);
	CHECK(!sock_claims(&s, &f6, UID, 0));
	/* a flow to no address and port 0, and a socket with no remote end */
	f = flow(IPPROTO_TCP, "10.201.0.2", 40000, "0.0.0.0", 0);
	s = sock(TCP_SYN_SENT, "10.201.0.2", 40000, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	f = flow(IPPROTO_UDP, "10.201.0.2", 40000, "0.0.0.0", 0);
	s = sock(TCP_ESTABLISHED, "10.201.0.2", 40000, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	f = flow(IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.2", 80);
	/* a flow with no source port, a protocol with no sockets */
	f.sport = 0;
	s = sock(TCP_SYN_SENT, "10.201.0.2", 0, "10.202.0.2", 80, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	f = flow(IPPROTO_ICMP, "10.201.0.2", 40000, "10.202.0.2", 80);
	s = sock(TCP_SYN_SENT, "10.201.0.2", 40000, "10.202.0.2", 80, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
}

static void test_udp_proofs(void)
{
	struct nu_flow f = flow(IPPROTO_UDP, "10.201.0.2", 5353, "10.202.0.2", 53);
	struct nu_flow f6 = flow(IPPROTO_UDP, "fd00:201::2", 5353, "fd00:202::2", 53);
	const unsigned int opt = NU_CONNTABLE_UDP_UNCONNECTED;
	struct sock_view s;

	/* connected: exactly the tuple */
	s = sock(TCP_ESTABLISHED, "10.201.0.2", 5353, "10.202.0.2", 53, UID);
	CHECK(sock_claims(&s, &f, UID, 0));
	s = sock(TCP_ESTABLISHED, "10.201.0.2", 5353, "10.202.0.9", 53, UID);
	CHECK(!sock_claims(&s, &f, UID, 0) && !sock_claims(&s, &f, UID, opt));
	s = sock(TCP_ESTABLISHED, "10.201.0.2", 5353, "10.202.0.2", 54, UID);
	CHECK(!sock_claims(&s, &f, UID, 0) && !sock_claims(&s, &f, UID, opt));
	s = sock(TCP_ESTABLISHED, "10.201.0.7", 5353, "10.202.0.2", 53, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	s = sock(TCP_ESTABLISHED, "10.201.0.2", 5353, "10.202.0.2", 53, OTHER_UID);
	CHECK(!sock_claims(&s, &f, UID, 0) && !sock_claims(&s, &f, UID, opt));
	/* "connected" with remote port 0 is no connection */
	s = sock(TCP_ESTABLISHED, "10.201.0.2", 5353, "10.202.0.2", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0) && !sock_claims(&s, &f, UID, opt));
	/* unconnected: nothing by default */
	s = sock(TCP_CLOSE, "0.0.0.0", 5353, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
	CHECK(sock_claims(&s, &f, UID, opt));
	CHECK(!sock_claims(&s, &f6, UID, opt));	/* an IPv4 socket, an IPv6 flow */
	s = sock(TCP_CLOSE, "::", 5353, "::", 0, UID);	/* dual-stack */
	CHECK(!sock_claims(&s, &f, UID, 0) && !sock_claims(&s, &f6, UID, 0));
	CHECK(sock_claims(&s, &f, UID, opt) && sock_claims(&s, &f6, UID, opt));
	s = sock(TCP_CLOSE, "10.201.0.2", 5353, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0) && sock_claims(&s, &f, UID, opt));
	/* the opt-in still wants the port, the address, the uid */
	s = sock(TCP_CLOSE, "10.201.0.5", 5353, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, opt));
	s = sock(TCP_CLOSE, "0.0.0.0", 5354, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, opt));
	s = sock(TCP_CLOSE, "0.0.0.0", 5353, "0.0.0.0", 0, OTHER_UID);
	CHECK(!sock_claims(&s, &f, UID, opt));
	/* a closed socket with a remote end is nothing known */
	s = sock(TCP_CLOSE, "10.201.0.2", 5353, "10.202.0.2", 53, UID);
	CHECK(!sock_claims(&s, &f, UID, opt));
	/* a flow to port 0 or to no address is claimed by nothing */
	s = sock(TCP_CLOSE, "0.0.0.0", 5353, "0.0.0.0", 0, UID);
	f.dport = 0;
	CHECK(!sock_claims(&s, &f, UID, opt));
	/* IPv6 connected */
	s = sock(TCP_ESTABLISHED, "fd00:201::2", 5353, "fd00:202::2", 53, UID);
	CHECK(sock_claims(&s, &f6, UID, 0));
	s = sock(TCP_ESTABLISHED, "fd00:201::2", 5353, "fd00:202::3", 53, UID);
	CHECK(!sock_claims(&s, &f6, UID, 0));
}

/* ICMP and ICMPv6 echo requests: the flow's source "port" is the echo's
 * identifier, and a ping socket of the uid's whose port it is proves it. */
static void test_icmp_proofs(void)
{
	struct nu_flow f = flow(IPPROTO_ICMP, "10.201.0.2", 0x45fd, "10.202.0.2", 0);
	struct nu_flow f6 = flow(IPPROTO_ICMPV6, "fd00:201::2", 0x45fd, "fd00:202::2", 0);
	struct sock_view s;

	/* unbound and unconnected, as ping leaves it */
	s = sock(TCP_CLOSE, "0.0.0.0", 0x45fd, "0.0.0.0", 0, UID);
	CHECK(sock_claims(&s, &f, UID, 0));
	CHECK(!sock_claims(&s, &f, OTHER_UID, 0));	/* another uid's */
	CHECK(!sock_claims(&s, &f6, UID, 0));	/* an IPv4 socket, an ICMPv6 echo */
	s = sock(TCP_CLOSE, "0.0.0.0", 0x45fe, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));	/* another identifier */
	/* bound to the source, connected to the destination */
	s = sock(TCP_ESTABLISHED, "10.201.0.2", 0x45fd, "10.202.0.2", 0, UID);
	CHECK(sock_claims(&s, &f, UID, 0));
	s = sock(TCP_ESTABLISHED, "10.201.0.2", 0x45fd, "10.202.0.3", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));	/* connected elsewhere */
	s = sock(TCP_CLOSE, "10.201.0.5", 0x45fd, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));	/* bound to another address */
	/* no identifier (not an echo request): nothing proves it */
	s = sock(TCP_CLOSE, "0.0.0.0", 0, "0.0.0.0", 0, UID);
	f.sport = 0;
	CHECK(!sock_claims(&s, &f, UID, 0));
	/* IPv6 */
	s = sock(TCP_CLOSE, "::", 0x45fd, "::", 0, UID);
	CHECK(sock_claims(&s, &f6, UID, 0));
	s = sock(TCP_ESTABLISHED, "fd00:201::2", 0x45fd, "fd00:202::2", 0, UID);
	CHECK(sock_claims(&s, &f6, UID, 0));
	/* the same identifier on a TCP or UDP flow proves nothing */
	f = flow(IPPROTO_UDP, "10.201.0.2", 0x45fd, "10.202.0.2", 53);
	s = sock(TCP_CLOSE, "0.0.0.0", 0x45fd, "0.0.0.0", 0, UID);
	CHECK(!sock_claims(&s, &f, UID, 0));
}

/* An inet_diag_msg as the kernel writes it. */
static struct inet_diag_msg diag_msg(int family, unsigned int state, const char *src,
				     uint16_t sport, const char *dst, uint16_t dport,
				     uint32_t uid, uint32_t inode)
{
	struct inet_diag_msg m;

	memset(&m, 0, sizeof(m));
	m.idiag_family = (uint8_t)family;
	m.idiag_state = (uint8_t)state;
	m.idiag_uid = uid;
	m.idiag_inode = inode;
	m.id.idiag_sport = htons(sport);
	m.id.idiag_dport = htons(dport);
	if (inet_pton(family, src, m.id.idiag_src) != 1 ||
	    inet_pton(family, dst, m.id.idiag_dst) != 1)
		g_error("bad address %s or %s", src, dst);
	return m;
}

static void test_diag_answers(void)
{
	struct nu_flow f = flow(IPPROTO_TCP, "10.201.0.2", 8000, "10.202.0.2", 80);
	struct inet_diag_msg m;
	struct sock_view s;

	/* the listener the look-up answered with in the LAN attack */
	m = diag_msg(AF_INET6, TCP_LISTEN, "::", 8000, "::", 0, UID, 7);
	CHECK(sock_from_diag(&s, &m) && !sock_claims(&s, &f, UID, 0));
	/* a dual-stack socket opening an IPv4 connection */
	m = diag_msg(AF_INET6, TCP_SYN_SENT, "::ffff:10.201.0.2", 8000,
		     "::ffff:10.202.0.2", 80, UID, 7);
	CHECK(sock_from_diag(&s, &m) && sock_claims(&s, &f, UID, 0) && s.inode == 7);
	m = diag_msg(AF_INET, TCP_SYN_SENT, "10.201.0.2", 8000, "10.202.0.2", 80, UID, 7);
	CHECK(sock_from_diag(&s, &m) && sock_claims(&s, &f, UID, 0));
	m = diag_msg(AF_INET, TCP_SYN_SENT, "10.201.0.2", 8000, "10.202.0.2", 80, OTHER_UID, 7);
	CHECK(sock_from_diag(&s, &m) && !sock_claims(&s, &f, UID, 0));
	m = diag_msg(AF_INET, TCP_TIME_WAIT, "10.201.0.2", 8000, "10.202.0.2", 80, UID, 0);
	CHECK(sock_from_diag(&s, &m) && !sock_claims(&s, &f, UID, 0));
	m.idiag_family = AF_UNIX;
	CHECK(!sock_from_diag(&s, &m));
}

/* Appends one netlink message (type, seq, payload) to a datagram. */
static void nl_append(GByteArray *dgram, uint16_t type, uint32_t seq, const void *payload,
		      size_t len)
{
	struct nlmsghdr h = {
		.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + len),
		.nlmsg_type = type,
		.nlmsg_seq = seq,
	};
	static const uint8_t pad[NLMSG_ALIGNTO];

	g_byte_array_append(dgram, (const uint8_t *)&h, sizeof(h));
	g_byte_array_append(dgram, payload, (guint)len);
	g_byte_array_append(dgram, pad, (guint)(NLMSG_ALIGN(len) - len));
}

static void nl_diag(GByteArray *dgram, uint32_t seq, struct inet_diag_msg m)
{
	nl_append(dgram, SOCK_DIAG_BY_FAMILY, seq, &m, sizeof(m));
}

static void test_diag_dump(void)
{
	GByteArray *d = g_byte_array_new();
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct nu_local_conn));
	struct scan_filter udp = { IPPROTO_UDP, 1U << TCP_ESTABLISHED, UID };
	struct nu_flow want = flow(IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.2", 80);
	struct nu_flow want6 = flow(IPPROTO_TCP, "fd00:201::2", 40001, "fd00:202::2", 80);
	struct nu_local_conn *c;
	int done = 0;

	nl_diag(d, 1, diag_msg(AF_INET, TCP_LISTEN, "0.0.0.0", 8000, "0.0.0.0", 0, UID, 1));
	nl_diag(d, 1, diag_msg(AF_INET, TCP_SYN_SENT, "10.201.0.2", 40000, "10.202.0.2", 80, UID, 2));
	nl_diag(d, 1, diag_msg(AF_INET, TCP_SYN_SENT, "10.201.0.2", 40002, "10.202.0.2", 80,
			       OTHER_UID, 3));
	nl_diag(d, 1, diag_msg(AF_INET, TCP_ESTABLISHED, "10.201.0.2", 40003, "10.202.0.2", 80,
			       UID, 4));
	/* a SYN_SENT with no remote end: a malformed answer */
	nl_diag(d, 1, diag_msg(AF_INET, TCP_SYN_SENT, "10.201.0.2", 40004, "0.0.0.0", 0, UID, 5));
	nl_diag(d, 1, diag_msg(AF_INET6, TCP_SYN_SENT, "fd00:201::2", 40001, "fd00:202::2", 80,
			       UID, 6));
	nl_diag(d, 2, diag_msg(AF_INET, TCP_SYN_SENT, "10.201.0.2", 40005, "10.202.0.2", 80, UID, 7));
	nl_append(d, NLMSG_DONE, 1, &done, sizeof(done));
	CHECK(diag_parse(d->data, d->len, 1, UID, out) == 0);
	CHECK(out->len == 2);
	if (out->len == 2) {
		c = &g_array_index(out, struct nu_local_conn, 0);
		CHECK(nu_flow_equal(&c->flow, &want) && c->inode == 2);
		c = &g_array_index(out, struct nu_local_conn, 1);
		CHECK(nu_flow_equal(&c->flow, &want6) && c->inode == 6);
	}

	/* UDP: connected sockets only, with a remote end */
	g_byte_array_set_size(d, 0);
	g_array_set_size(out, 0);
	nl_diag(d, 3, diag_msg(AF_INET6, TCP_CLOSE, "::", 5353, "::", 0, UID, 1));
	nl_diag(d, 3, diag_msg(AF_INET, TCP_ESTABLISHED, "10.201.0.2", 5353, "0.0.0.0", 0, UID, 2));
	nl_diag(d, 3, diag_msg(AF_INET, TCP_ESTABLISHED, "10.201.0.2", 5354, "10.202.0.2", 53, UID, 3));
	CHECK(diag_parse_filter(d->data, d->len, 3, &udp, out) == 1);
	CHECK(out->len == 1);
	if (out->len == 1) {
		c = &g_array_index(out, struct nu_local_conn, 0);
		want = flow(IPPROTO_UDP, "10.201.0.2", 5354, "10.202.0.2", 53);
		CHECK(nu_flow_equal(&c->flow, &want) && c->inode == 3);
	}
	g_array_free(out, TRUE);
	g_byte_array_free(d, TRUE);
}

static void test_diag_one(void)
{
	GByteArray *d = g_byte_array_new();
	struct inet_diag_msg m, got;
	struct nlmsgerr err;

	m = diag_msg(AF_INET, TCP_SYN_SENT, "10.201.0.2", 40000, "10.202.0.2", 80, UID, 9);
	nl_diag(d, 5, m);
	memset(&got, 0, sizeof(got));
	CHECK(diag_parse_one(d->data, d->len, 5, &got) == 1 && got.idiag_inode == 9);
	CHECK(diag_parse_one(d->data, d->len, 6, &got) == 2);	/* another request's */
	errno = 0;
	CHECK(diag_parse_one(d->data, d->len - 1, 5, &got) == -1 && errno == EBADMSG);
	CHECK(diag_parse_one(d->data, 8, 5, &got) == -1 && errno == EBADMSG);

	memset(&err, 0, sizeof(err));
	err.error = -ENOENT;
	g_byte_array_set_size(d, 0);
	nl_append(d, NLMSG_ERROR, 5, &err, sizeof(err));
	CHECK(diag_parse_one(d->data, d->len, 5, &got) == 0);
	err.error = -EPERM;
	g_byte_array_set_size(d, 0);
	nl_append(d, NLMSG_ERROR, 5, &err, sizeof(err));
	CHECK(diag_parse_one(d->data, d->len, 5, &got) == -1 && errno == EPERM);
	/* an inet_diag_msg cut short */
	g_byte_array_set_size(d, 0);
	nl_append(d, SOCK_DIAG_BY_FAMILY, 5, &m, sizeof(m) - 4);
	CHECK(diag_parse_one(d->data, d->len, 5, &got) == -1 && errno == EBADMSG);
	g_byte_array_free(d, TRUE);
}

/* An address and port as /proc/net/{tcp,udp}{,6} print them. */
static void proc_endpoint(GString *s, const char *text, uint16_t port)
{
	uint8_t raw[16];
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	size_t words = family == AF_INET ? 1 : 4;

	if (inet_pton(family, text, raw) != 1)
		g_error("bad address %s", text);
	for (size_t i = 0; i < words; i++) {
		uint32_t w;

		memcpy(&w, raw + 4 * i, 4);
		g_string_append_printf(s, "%08X", w);
	}
	g_string_append_printf(s, ":%04X", port);
}

static void proc_line(GString *s, const char *src, uint16_t sport, const char *dst,
		      uint16_t dport, unsigned int state, uint32_t uid, unsigned inode)
{
	g_string_append_printf(s, "%4u: ", (unsigned)(s->len % 100));
	proc_endpoint(s, src, sport);
	g_string_append_c(s, ' ');
	proc_endpoint(s, dst, dport);
	g_string_append_printf(s, " %02X 00000000:00000000 00:00000000 00000000 %5u        0 %u"
			       " 1 0000000000000000 100 0 0 10 0\n", state, uid, inode);
}

#define PROC_HEADER "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when " \
	"retrnsmt   uid  timeout inode\n"

static void test_proc(void)
{
	GString *tcp = g_string_new(PROC_HEADER), *tcp6 = g_string_new(PROC_HEADER);
	GString *udp = g_string_new(PROC_HEADER), *udp6 = g_string_new(PROC_HEADER);
	GString *icmp = g_string_new(PROC_HEADER), *icmp6 = g_string_new(PROC_HEADER);
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct nu_local_conn));
	struct nu_local_conn c;
	struct nu_flow f;
	char *dir, *path;

	proc_line(tcp, "0.0.0.0", 8000, "0.0.0.0", 0, TCP_LISTEN, UID, 11);
	proc_line(tcp, "10.201.0.2", 40000, "10.202.0.2", 80, TCP_SYN_SENT, UID, 12);
	proc_line(tcp, "10.201.0.2", 40001, "10.202.0.2", 80, TCP_SYN_SENT, OTHER_UID, 13);
	proc_line(tcp, "10.201.0.2", 40002, "10.202.0.2", 80, TCP_ESTABLISHED, UID, 14);
	proc_line(tcp, "10.201.0.2", 40004, "0.0.0.0", 0, TCP_SYN_SENT, UID, 15);
	proc_line(tcp6, "::", 8001, "::", 0, TCP_LISTEN, UID, 21);
	proc_line(tcp6, "::ffff:10.201.0.2", 40003, "::ffff:10.202.0.2", 80, TCP_SYN_SENT, UID, 22);
	proc_line(tcp6, "fd00:201::2", 40000, "fd00:202::2", 80, TCP_SYN_SENT, UID, 23);
	proc_line(udp, "0.0.0.0", 5353, "0.0.0.0", 0, TCP_CLOSE, UID, 31);
	proc_line(udp, "10.201.0.2", 5354, "10.202.0.2", 53, TCP_ESTABLISHED, UID, 32);
	proc_line(udp6, "::", 5355, "::", 0, TCP_CLOSE, UID, 41);
	proc_line(udp6, "fd00:201::2", 5356, "fd00:202::2", 53, TCP_ESTABLISHED, UID, 42);
	g_free(unit_write_file("net/tcp", tcp->str));
	g_free(unit_write_file("net/tcp6", tcp6->str));
	g_free(unit_write_file("net/udp", udp->str));
	g_free(unit_write_file("net/udp6", udp6->str));
	proc_line(icmp, "0.0.0.0", 0x45fd, "0.0.0.0", 0, TCP_CLOSE, UID, 51);
	proc_line(icmp, "0.0.0.0", 0x45fe, "0.0.0.0", 0, TCP_CLOSE, OTHER_UID, 52);
	proc_line(icmp6, "::", 0x45ff, "::", 0, TCP_CLOSE, UID, 61);
	g_free(unit_write_file("net/icmp", icmp->str));
	g_free(unit_write_file("net/icmp6", icmp6->str));
	dir = g_build_filename(unit_tmpdir(), "net", NULL);

	/* the sweep's reader: SYN_SENT of the uid's with a remote end */
	path = g_build_filename(dir, "tcp", NULL);
	CHECK(proc_scan(path, AF_INET, UID, out) == 0);
	CHECK(out->len == 1 && g_array_index(out, struct nu_local_conn, 0).inode == 12);
	g_free(path);
	g_array_set_size(out, 0);
	path = g_build_filename(dir, "tcp6", NULL);
	CHECK(proc_scan(path, AF_INET6, UID, out) == 0);
	CHECK(out->len == 2);
	if (out->len == 2) {
		f = flow(IPPROTO_TCP, "10.201.0.2", 40003, "10.202.0.2", 80);
		CHECK(nu_flow_equal(&g_array_index(out, struct nu_local_conn, 0).flow, &f));
	}
	g_free(path);

	/* the exact look-up */
	f = flow(IPPROTO_TCP, "10.201.0.2", 8000, "10.202.0.2", 80);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 0);	/* a listener */
	f = flow(IPPROTO_TCP, "fd00:201::2", 8001, "fd00:202::2", 80);
	CHECK(proc_lookup_in(dir, &f, UID, NU_CONNTABLE_UDP_UNCONNECTED, &c) == 0);
	f = flow(IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.2", 80);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 1 && c.inode == 12 &&
	      nu_flow_equal(&c.flow, &f));
	CHECK(proc_lookup_in(dir, &f, OTHER_UID, 0, &c) == 0);
	f = flow(IPPROTO_TCP, "10.201.0.2", 40001, "10.202.0.2", 80);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 0);	/* another uid's */
	f = flow(IPPROTO_TCP, "10.201.0.2", 40002, "10.202.0.2", 80);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 0);	/* established */
	f = flow(IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.3", 80);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 0);	/* another destination */
	f = flow(IPPROTO_TCP, "10.201.0.2", 40003, "10.202.0.2", 80);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 1 && c.inode == 22);	/* dual-stack */
	f = flow(IPPROTO_TCP, "fd00:201::2", 40000, "fd00:202::2", 80);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 1 && c.inode == 23);
	f = flow(IPPROTO_UDP, "10.201.0.2", 5353, "10.202.0.2", 53);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 0);
	CHECK(proc_lookup_in(dir, &f, UID, NU_CONNTABLE_UDP_UNCONNECTED, &c) == 1 && c.inode == 31);
	f = flow(IPPROTO_UDP, "10.201.0.2", 5354, "10.202.0.2", 53);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 1 && c.inode == 32);
	f = flow(IPPROTO_UDP, "10.201.0.2", 5354, "10.202.0.2", 54);
	CHECK(proc_lookup_in(dir, &f, UID, NU_CONNTABLE_UDP_UNCONNECTED, &c) == 0);
	f = flow(IPPROTO_UDP, "fd00:201::2", 5355, "fd00:202::2", 53);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 0);
	CHECK(proc_lookup_in(dir, &f, UID, NU_CONNTABLE_UDP_UNCONNECTED, &c) == 1 && c.inode == 41);
	f = flow(IPPROTO_UDP, "10.201.0.2", 5355, "10.202.0.2", 53);	/* "::" serves IPv4 */
	CHECK(proc_lookup_in(dir, &f, UID, NU_CONNTABLE_UDP_UNCONNECTED, &c) == 1 && c.inode == 41);
	f = flow(IPPROTO_UDP, "fd00:201::2", 5356, "fd00:202::2", 53);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 1 && c.inode == 42);
	/* ping sockets: an echo in icmp, an ICMPv6 echo in icmp6 only */
	f = flow(IPPROTO_ICMP, "10.201.0.2", 0x45fd, "10.202.0.2", 0);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 1 && c.inode == 51);
	CHECK(proc_lookup_in(dir, &f, OTHER_UID, 0, &c) == 0);
	f = flow(IPPROTO_ICMP, "10.201.0.2", 0x45fe, "10.202.0.2", 0);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 0);	/* another uid's */
	f = flow(IPPROTO_ICMP, "10.201.0.2", 0x45ff, "10.202.0.2", 0);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 0);	/* an IPv6 socket's id */
	f = flow(IPPROTO_ICMPV6, "fd00:201::2", 0x45ff, "fd00:202::2", 0);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 1 && c.inode == 61);
	f = flow(IPPROTO_ICMPV6, "fd00:201::2", 0x45fd, "fd00:202::2", 0);
	CHECK(proc_lookup_in(dir, &f, UID, 0, &c) == 0);	/* an IPv4 socket's id */
	/* no table at all */
	errno = 0;
	CHECK(proc_lookup_in("/nonexistent", &f, UID, 0, &c) == -1 && errno == ENOENT);

	g_free(dir);
	g_array_free(out, TRUE);
	g_string_free(tcp, TRUE);
	g_string_free(tcp6, TRUE);
	g_string_free(udp, TRUE);
	g_string_free(udp6, TRUE);
	g_string_free(icmp, TRUE);
	g_string_free(icmp6, TRUE);
}

/* A socket of type on 127.0.0.1 (any port), connected to 127.0.0.2:9
 * when connect; its flow in *f.  -1 when loopback is missing. */
static int loopback_socket(int type, bool connected, struct nu_flow *f)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(9),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 1) < 0) ||
	    (connected && connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*f = flow(type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP, "127.0.0.1",
		  ntohs(sin.sin_port), "127.0.0.2", 9);
	return fd;
}

/* A ping socket of ours, connected to 127.0.0.2: it proves the echo whose
 * identifier is its port, through /proc/net/icmp, whatever fd says.
 * Skipped where net.ipv4.ping_group_range leaves our group out. */
static void test_kernel_ping(void)
{
	struct sockaddr_in peer = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1) };
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct nu_local_conn c;
	struct nu_flow f;
	int fd = nu_conntable_open();
	int p = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);

	if (p < 0 || connect(p, (struct sockaddr *)&peer, sizeof(peer)) < 0 ||
	    getsockname(p, (struct sockaddr *)&sin, &len) < 0) {
		printf("test_conntable: no ping socket (net.ipv4.ping_group_range): kernel ping test skipped\n");
	} else {
		f = flow(IPPROTO_ICMP, "127.0.0.1", ntohs(sin.sin_port), "127.0.0.2", 0);
		CHECK(nu_conntable_lookup(fd, &f, getuid(), 0, &c) == 1 && c.inode != 0);
		CHECK(nu_conntable_lookup(-1, &f, getuid(), 0, &c) == 1);
		CHECK(nu_conntable_lookup(fd, &f, getuid() + 1, 0, &c) == 0);
		f.sport ^= 1;
		CHECK(nu_conntable_lookup(fd, &f, getuid(), 0, &c) == 0);
		f.sport = 0;
		CHECK(nu_conntable_lookup(fd, &f, getuid(), 0, &c) == 0);
	}
	if (p >= 0)
		close(p);
	if (fd >= 0)
		close(fd);
}

/* The real kernel, through sock_diag and through /proc/net (fd -1): our
 * listener answers the look-up of a flow from its port and proves
 * nothing; our connected UDP socket proves its flow; our bound UDP socket
 * only with the opt-in.  Skipped where sock_diag or loopback is missing. */
static void test_kernel(void)
{
	const unsigned int opt = NU_CONNTABLE_UDP_UNCONNECTED;
	struct nu_local_conn c;
	struct nu_flow lf, cf, bf;
	int fd = nu_conntable_open();
	int l = loopback_socket(SOCK_STREAM, false, &lf);
	int u = loopback_socket(SOCK_DGRAM, true, &cf);
	int b = loopback_socket(SOCK_DGRAM, false, &bf);

	if (fd < 0 || l < 0 || u < 0 || b < 0) {
		printf("test_conntable: no sock_diag or no loopback: kernel test skipped\n");
	} else {
		for (int via = 0; via < 2; via++) {
			int d = via ? -1 : fd;

			CHECK(nu_conntable_lookup(d, &lf, getuid(), 0, &c) == 0);
			CHECK(nu_conntable_lookup(d, &lf, getuid(), opt, &c) == 0);
			CHECK(nu_conntable_lookup(d, &cf, getuid(), 0, &c) == 1 &&
			      nu_flow_equal(&c.flow, &cf) && c.inode != 0);
			CHECK(nu_conntable_lookup(d, &cf, getuid() + 1, 0, &c) == 0);
			CHECK(nu_conntable_lookup(d, &bf, getuid(), 0, &c) == 0);
			CHECK(nu_conntable_lookup(d, &bf, getuid(), opt, &c) == 1);
		}
	}
	for (int i = 0; i < 4; i++) {
		int x = (int[]){ fd, l, u, b }[i];

		if (x >= 0)
			close(x);
	}
	test_kernel_ping();
}

int main(void)
{
	nu_log_init("test_conntable", false, 3);
	test_tcp_proofs();
	test_udp_proofs();
	test_icmp_proofs();
	test_diag_answers();
	test_diag_dump();
	test_diag_one();
	test_proc();
	test_kernel();
	unit_files_cleanup();
	return unit_done("test_conntable");
}
