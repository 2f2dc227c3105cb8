/* The user's opening sockets (TCP in SYN_SENT, connected UDP) from netlink
 * sock_diag (inet_diag) or, where that is missing, from
 * /proc/net/{tcp,udp}{,6}; one socket by its exact tuple; and the program
 * owning a socket, found through /proc/PID/fd.
 *
 * What proves a flow is the user's (sock_claims): a socket of the user's
 * uid whose own four-tuple is the flow's, in SYN_SENT for TCP, connected
 * (ESTABLISHED) for UDP.  Whatever the kernel answers is checked against
 * that, field by field: its exact look-up falls back to listeners (TCP) and
 * to unconnected sockets (UDP), and answers with them.  An unconnected UDP
 * socket proves its port only, which anyone on the LAN can forge: it counts
 * only with NU_CONNTABLE_UDP_UNCONNECTED.
 *
 * tests/fuzz and tests/unit include this file (the fuzzers through
 * src/nutcpc/conntable.c) and call conn_fill, diag_parse, diag_parse_one,
 * sock_claims, proc_parse_line, proc_scan and proc_lookup_in. */
#include "config.h"
#include "conntable.h"
#include "log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <glib.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

/* Big enough for any dump datagram the kernel builds (it sizes them to at
 * most 32 KiB plus headers). */
#define DIAG_RECV_BUF	(64 * 1024)
/* Longest /proc/net/tcp6 line is about 180 characters. */
#define PROC_LINE_MAX	512
/* "socket:[" + 20 digits + "]" */
#define SOCKET_LINK_MAX	32

static void conn_map_v4(struct in6_addr *dst, const void *v4_be)
{
	uint32_t v4;

	memcpy(&v4, v4_be, sizeof(v4));
	nu_addr_from_v4(dst, v4);
}

/* One socket as the kernel describes it (a sock_diag answer, a /proc/net
 * line), its addresses in the unified form of struct nu_flow. */
struct sock_view {
	struct in6_addr src, dst;	/* local, remote (:: or 0.0.0.0: none) */
	uint16_t sport, dport;		/* host order; dport 0: no remote */
	unsigned int state;		/* TCP_*; UDP: ESTABLISHED connected, CLOSE not */
	uint32_t uid;
	uint64_t inode;
};

static void addr_from_raw(struct in6_addr *dst, int family, const void *raw)
{
	if (family == AF_INET)
		conn_map_v4(dst, raw);
	else
		memcpy(dst, raw, sizeof(*dst));
}

/* :: or (v4-mapped) 0.0.0.0 */
static bool addr_is_any(const struct in6_addr *a)
{
	uint32_t v4;

	return IN6_IS_ADDR_UNSPECIFIED(a) || (nu_addr_is_v4(a, &v4) && v4 == 0);
}

/* A socket with both ends: a local port, a remote address and port. */
static bool sock_has_peer(const struct sock_view *s)
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

/* The proof: true when socket s shows that flow is uid's.  TCP: s is in
 * SYN_SENT with exactly flow's four-tuple.  UDP: s is connected with
 * exactly flow's four-tuple; with NU_CONNTABLE_UDP_UNCONNECTED also an
 * unconnected socket bound to flow's source port (and address, or none).
 * A listener, any other state, another uid's socket, one address or port
 * off: no. */
static bool sock_claims(const struct sock_view *s, const struct nu_flow *flow, uid_t uid,
			unsigned int flags)
{
	if (s->uid != (uint32_t)uid || flow->sport == 0 || s->sport != flow->sport)
		return false;
	switch (flow->proto) {
	case IPPROTO_TCP:
		if (s->state != TCP_SYN_SENT)
			return false;
		break;
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

/* conn from socket s of protocol proto (the flow it is opening). */
static void conn_from_sock(struct nu_local_conn *conn, uint8_t proto, const struct sock_view *s)
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

/* conn from raw addresses (4 bytes each for AF_INET, 16 for AF_INET6), as
 * TCP: what tests/fuzz/fuzz_proc_tcp makes of a parsed line. */
G_GNUC_UNUSED
static void conn_fill(struct nu_local_conn *conn, int family,
		      const void *saddr, const void *daddr,
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

/* What a scan keeps: the protocol, the states (bit 1 << TCP_*), the owner;
 * and only sockets with a remote end (sock_has_peer). */
struct scan_filter {
	uint8_t proto;
	uint32_t states;
	uid_t uid;
};

static bool scan_keeps(const struct sock_view *s, const struct scan_filter *f)
{
	return s->state < 32 && (f->states & (1U << s->state)) &&
	       s->uid == (uint32_t)f->uid && sock_has_peer(s);
}

/* A reading error is logged once per kind, not once per scan. */
static bool logged_garbled_proc, logged_diag_error;

/* --- sock_diag --------------------------------------------------------- */

static int diag_send_request(int fd, int family, const struct scan_filter *f, uint32_t seq)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = seq;
	msg.req.sdiag_family = (uint8_t)family;
	msg.req.sdiag_protocol = f->proto;
	msg.req.idiag_states = f->states;

	do {
		n = sendto(fd, &msg, sizeof(msg), 0,
			   (struct sockaddr *)&kernel, sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != sizeof(msg)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* s from a sock_diag answer; false when it is of no inet family. */
static bool sock_from_diag(struct sock_view *s, const struct inet_diag_msg *m)
{
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return false;
	memset(s, 0, sizeof(*s));
	addr_from_raw(&s->src, m->idiag_family, m->id.idiag_src);
	addr_from_raw(&s->dst, m->idiag_family, m->id.idiag_dst);
	s->sport = ntohs(m->id.idiag_sport);
	s->dport = ntohs(m->id.idiag_dport);
	s->state = m->idiag_state;
	s->uid = m->idiag_uid;
	s->inode = m->idiag_inode;
	return true;
}

static void diag_take(const struct inet_diag_msg *m, const struct scan_filter *f, GArray *out)
{
	struct nu_local_conn conn;
	struct sock_view s;

	if (!sock_from_diag(&s, m) || !scan_keeps(&s, f))
		return;
	conn_from_sock(&conn, f->proto, &s);
	g_array_append_val(out, conn);
}

/* The errno a netlink error code stands for: codes are -errno; anything
 * else (positive, or out of errno's range such as INT_MIN, which cannot
 * even be negated) is a malformed reply. */
static int diag_errno(int code)
{
	return code < 0 && code >= -4095 ? -code : EBADMSG;
}

/* Parses one datagram.  1 while the dump goes on, 0 at its end, -1 with
 * errno on the kernel's error. */
static int diag_parse_filter(const uint8_t *buf, size_t len, uint32_t seq,
			     const struct scan_filter *f, GArray *out)
{
	while (len >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		size_t msg_len = nlh->nlmsg_len;
		size_t payload_len;
		const uint8_t *payload;

		if (msg_len < sizeof(*nlh) || msg_len > len) {
			log_debug("sock_diag: bad message length %zu (%zu left)",
				  msg_len, len);
			errno = EBADMSG;
			return -1;
		}
		payload = buf + NLMSG_HDRLEN;
		payload_len = msg_len >= NLMSG_HDRLEN ? msg_len - NLMSG_HDRLEN : 0;

		if (nlh->nlmsg_seq != seq) {
			log_debug("sock_diag: message with sequence %u, want %u, skipped",
				  nlh->nlmsg_seq, seq);
		} else if (nlh->nlmsg_type == NLMSG_DONE) {
			int status = 0;

			/* Some kernels put the dump's error code here. */
			if (payload_len >= sizeof(int))
				memcpy(&status, payload, sizeof(int));
			if (status < 0) {
				errno = diag_errno(status);
				return -1;
			}
			return 0;
		} else if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr err;

			if (payload_len < sizeof(err)) {
				errno = EBADMSG;
				return -1;
			}
			memcpy(&err, payload, sizeof(err));
			if (err.error == 0)
				return 0;
			errno = diag_errno(err.error);
			return -1;
		} else if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			struct inet_diag_msg m;

			if (payload_len >= sizeof(m)) {
				memcpy(&m, payload, sizeof(m));
				diag_take(&m, f, out);
			} else {
				log_debug("sock_diag: short inet_diag_msg (%zu bytes), skipped",
					  payload_len);
			}
		}

		msg_len = NLMSG_ALIGN(msg_len);
		if (msg_len >= len)
			break;
		buf += msg_len;
		len -= msg_len;
	}
	return 1;
}

/* The TCP SYN_SENT dump's parser (what tests/fuzz/fuzz_sock_diag calls). */
G_GNUC_UNUSED
static int diag_parse(const uint8_t *buf, size_t len, uint32_t seq,
		      uid_t uid, GArray *out)
{
	struct scan_filter f = { IPPROTO_TCP, 1U << TCP_SYN_SENT, uid };

	return diag_parse_filter(buf, len, seq, &f, out);
}

/* One family's dump.  0, or -1 with errno. */
static int diag_scan(int fd, int family, uint32_t seq, const struct scan_filter *f,
		     GArray *out, uint8_t *buf)
{
	if (diag_send_request(fd, family, f, seq) < 0)
		return -1;

	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = buf, .iov_len = DIAG_RECV_BUF };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t n = recvmsg(fd, &mh, 0);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			errno = EMSGSIZE;
			return -1;
		}
		if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0)
			continue;	/* not from the kernel */
		r = diag_parse_filter(buf, (size_t)n, seq, f, out);
		if (r <= 0)
			return r;
	}
}

/* --- /proc/net/tcp{,6} --------------------------------------------------- */

struct proc_entry {
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint16_t sport;
	uint16_t dport;
	unsigned int state;
	uint32_t uid;
	uint64_t inode;
};

/* Reads exactly n hex digits at *p into *val and moves *p past them. */
static bool parse_hex(const char **p, size_t n, uint32_t *val)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = (*p)[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		v = (v << 4) | (uint32_t)d;
	}
	*val = v;
	*p += n;
	return true;
}

/* ADDR:PORT where ADDR is words 32-bit words, each printed by the kernel as
 * %08X of its in-memory (network byte order) value read as a host u32. */
static bool parse_endpoint(const char **p, size_t words, uint8_t *addr,
			   uint16_t *port)
{
	uint32_t v;
	size_t i;

	for (i = 0; i < words; i++) {
		if (!parse_hex(p, 8, &v))
			return false;
		memcpy(addr + 4 * i, &v, 4);
	}
	if (**p != ':')
		return false;
	(*p)++;
	if (!parse_hex(p, 4, &v))
		return false;
	*port = (uint16_t)v;
	return true;
}

static void skip_spaces(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* Skips one whitespace-delimited field; false when there is none. */
static bool skip_field(const char **p)
{
	const char *start;

	skip_spaces(p);
	start = *p;
	while (**p != '\0' && **p != ' ' && **p != '\t' && **p != '\n')
		(*p)++;
	return *p != start;
}

static bool parse_decimal(const char **p, uint64_t max, uint64_t *val)
{
	uint64_t v = 0;
	const char *start;

	skip_spaces(p);
	start = *p;
	while (**p >= '0' && **p <= '9') {
		unsigned int d = (unsigned int)(**p - '0');

		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
		(*p)++;
	}
	if (*p == start)
		return false;
	*val = v;
	return true;
}

/* One line of /proc/net/tcp (family AF_INET) or tcp6 (AF_INET6):
 *   sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
 * False for the header line and anything malformed. */
static bool proc_parse_line(const char *line, int family, struct proc_entry *e)
{
	const char *p = line;
	size_t words = family == AF_INET ? 1 : 4;
	uint32_t st;
	uint64_t v;

	memset(e, 0, sizeof(*e));
	skip_spaces(&p);
	/* "sl:" */
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != ':')
		return false;
	skip_spaces(&p);
	if (!parse_endpoint(&p, words, e->saddr, &e->sport))
		return false;
	skip_spaces(&p);
	if (!parse_endpoint(&p, words, e->daddr, &e->dport))
		return false;
	skip_spaces(&p);
	if (!parse_hex(&p, 2, &st))
		return false;
	e->state = st;
	/* tx_queue:rx_queue, tr:tm->when, retrnsmt */
	if (!skip_field(&p) || !skip_field(&p) || !skip_field(&p))
		return false;
	if (!parse_decimal(&p, UINT32_MAX, &v))
		return false;
	e->uid = (uint32_t)v;
	if (!skip_field(&p))	/* timeout */
		return false;
	if (!parse_decimal(&p, UINT64_MAX, &v))
		return false;
	/* More fields follow the inode: anything else is a cut line. */
	if (*p != ' ' && *p != '\t')
		return false;
	e->inode = v;
	return true;
}

static void sock_from_proc(struct sock_view *s, int family, const struct proc_entry *e)
{
	memset(s, 0, sizeof(*s));
	addr_from_raw(&s->src, family, e->saddr);
	addr_from_raw(&s->dst, family, e->daddr);
	s->sport = e->sport;
	s->dport = e->dport;
	s->state = e->state;
	s->uid = e->uid;
	s->inode = e->inode;
}

/* Calls fn for each socket of file (/proc/net/tcp when family is AF_INET,
 * tcp6 when AF_INET6; udp alike) until fn returns true.  0, or -1 with
 * errno when the file cannot be read. */
static int proc_each(const char *file, int family,
		     bool (*fn)(const struct sock_view *s, void *ctx), void *ctx)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp = fopen(file, "re");

	if (fp == NULL)
		return -1;
	while ((n = getline(&line, &cap, fp)) >= 0) {
		struct proc_entry e;
		struct sock_view s;

		/* An overlong line, or one with a NUL inside, is no line of
		 * the kernel's: skipped whole. */
		if ((size_t)n >= PROC_LINE_MAX || memchr(line, '\0', (size_t)n) != NULL ||
		    !proc_parse_line(line, family, &e)) {
			/* the header line is expected; anything else is garbled */
			if ((size_t)n < PROC_LINE_MAX && strstr(line, "local_address") == NULL &&
			    !logged_garbled_proc) {
				logged_garbled_proc = true;
				log_warnx("%s: unreadable line skipped (logged once): %.80s",
					  file, line);
			}
			continue;
		}
		sock_from_proc(&s, family, &e);
		if (fn(&s, ctx))
			break;
	}
	free(line);
	if (ferror(fp)) {
		int saved = errno;

		fclose(fp);
		errno = saved ? saved : EIO;
		return -1;
	}
	fclose(fp);
	return 0;
}

struct proc_scan_ctx {
	const struct scan_filter *f;
	GArray *out;
};

static bool proc_scan_one(const struct sock_view *s, void *ctx)
{
	struct proc_scan_ctx *c = ctx;
	struct nu_local_conn conn;

	if (scan_keeps(s, c->f)) {
		conn_from_sock(&conn, c->f->proto, s);
		g_array_append_val(c->out, conn);
	}
	return false;
}

static int proc_scan_filter(const char *file, int family, const struct scan_filter *f,
			    GArray *out)
{
	struct proc_scan_ctx c = { f, out };

	return proc_each(file, family, proc_scan_one, &c);
}

/* The TCP SYN_SENT reader (what tests/fuzz/fuzz_proc_tcp calls). */
G_GNUC_UNUSED
static int proc_scan(const char *file, int family, uid_t uid, GArray *out)
{
	struct scan_filter f = { IPPROTO_TCP, 1U << TCP_SYN_SENT, uid };

	return proc_scan_filter(file, family, &f, out);
}

struct proc_lookup_ctx {
	const struct nu_flow *flow;
	uid_t uid;
	unsigned int flags;
	struct nu_local_conn *out;
	bool found;
};

static bool proc_lookup_one(const struct sock_view *s, void *ctx)
{
	struct proc_lookup_ctx *c = ctx;

	if (!sock_claims(s, c->flow, c->uid, c->flags))
		return false;
	memset(c->out, 0, sizeof(*c->out));
	c->out->flow = *c->flow;
	c->out->inode = s->inode;
	c->found = true;
	return true;
}

/* The exact look-up where sock_diag cannot answer: the socket that proves
 * flow (sock_claims) among dir's tcp/udp (dir is "/proc/net"; tests give
 * another).  An IPv4 flow may be a dual-stack socket's, listed in the IPv6
 * file: both are read.  1 with *out, 0 when none proves it, -1 with errno
 * when no file could be read. */
static int proc_lookup_in(const char *dir, const struct nu_flow *flow, uid_t uid,
			  unsigned int flags, struct nu_local_conn *out)
{
	struct proc_lookup_ctx c = { flow, uid, flags, out, false };
	const char *name = flow->proto == IPPROTO_UDP ? "udp" : "tcp";
	int nread = 0, err = 0;

	for (int v6 = flow->family == AF_INET6; v6 <= 1 && !c.found; v6++) {
		char *file = g_strdup_printf("%s/%s%s", dir, name, v6 ? "6" : "");

		if (proc_each(file, v6 ? AF_INET6 : AF_INET, proc_lookup_one, &c) == 0)
			nread++;
		else
			err = errno;
		g_free(file);
	}
	if (c.found)
		return 1;
	if (nread == 0) {
		errno = err ? err : EIO;
		return -1;
	}
	return 0;
}

/* --- public ---------------------------------------------------------------- */

static int scan_tables(const struct scan_filter *f, GArray *out)
{
	static const int families[] = { AF_INET, AF_INET6 };
	uint8_t *buf = NULL;
	int fd, nread = 0, last_errno = 0;
	size_t i;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0 && !logged_diag_error) {
		logged_diag_error = true;
		log_warnx("sock_diag unavailable (%s): reading /proc/net (logged once)",
			  strerror(errno));
	}
	if (fd >= 0)
		buf = g_malloc(DIAG_RECV_BUF);

	for (i = 0; i < G_N_ELEMENTS(families); i++) {
		int family = families[i];
		guint before = out->len;
		char proc[32];

		if (fd >= 0) {
			if (diag_scan(fd, family, (uint32_t)i + 1, f, out, buf) == 0) {
				nread++;
				continue;
			}
			/* Typically EPROTONOSUPPORT or ENOENT (no inet_diag,
			 * tcp_diag or udp_diag); /proc holds the same table. */
			g_array_set_size(out, before);
			if (!logged_diag_error) {
				logged_diag_error = true;
				log_warnx("sock_diag dump (family %d, protocol %u) failed: %s; "
					  "reading /proc/net instead (logged once)",
					  family, f->proto, strerror(errno));
			}
		}
		g_snprintf(proc, sizeof(proc), "/proc/net/%s%s",
			   f->proto == IPPROTO_UDP ? "udp" : "tcp", family == AF_INET6 ? "6" : "");
		if (proc_scan_filter(proc, family, f, out) == 0) {
			nread++;
		} else {
			g_array_set_size(out, before);
			last_errno = errno;
			log_debug("cannot read %s: %s", proc, strerror(errno));
		}
	}

	if (fd >= 0)
		close(fd);
	g_free(buf);
	if (nread == 0) {
		errno = last_errno ? last_errno : EIO;
		return -1;
	}
	return 0;
}

int nu_conntable_scan_syn_sent(uid_t uid, GArray *out)
{
	struct scan_filter f = { IPPROTO_TCP, 1U << TCP_SYN_SENT, uid };

	return scan_tables(&f, out);
}

int nu_conntable_scan(uid_t uid, GArray *out)
{
	struct scan_filter udp = { IPPROTO_UDP, 1U << TCP_ESTABLISHED, uid };
	int tcp_ok = nu_conntable_scan_syn_sent(uid, out);
	int udp_ok = scan_tables(&udp, out);

	return tcp_ok == 0 || udp_ok == 0 ? 0 : -1;
}

int nu_conntable_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0 && !logged_diag_error) {
		logged_diag_error = true;
		log_warnx("sock_diag unavailable (%s): reading /proc/net (logged once)",
			  strerror(errno));
	}
	return fd;
}

static void addr_to_diag(uint32_t dst[4], const struct in6_addr *a, int family)
{
	uint32_t v4;

	memset(dst, 0, 4 * sizeof(uint32_t));
	if (family == AF_INET && nu_addr_is_v4(a, &v4))
		dst[0] = v4;
	else
		memcpy(dst, a, 16);
}

/* The kernel's answer to one look-up (a datagram of n bytes, request seq):
 * 1 with *m filled; 0 when the kernel knows no such socket; 2 when the
 * datagram answers another request (skip it); -1 with errno when it is
 * malformed or an error. */
static int diag_parse_one(const uint8_t *buf, size_t n, uint32_t seq, struct inet_diag_msg *m)
{
	struct nlmsghdr nlh;

	if (n < sizeof(nlh)) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(&nlh, buf, sizeof(nlh));
	if (nlh.nlmsg_len < sizeof(nlh) || nlh.nlmsg_len > n) {
		errno = EBADMSG;
		return -1;
	}
	if (nlh.nlmsg_seq != seq)
		return 2;	/* the answer to an earlier, abandoned request */
	if (nlh.nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr err;

		if (nlh.nlmsg_len < NLMSG_HDRLEN + sizeof(err)) {
			errno = EBADMSG;
			return -1;
		}
		memcpy(&err, buf + NLMSG_HDRLEN, sizeof(err));
		if (err.error == -ENOENT)
			return 0;
		errno = diag_errno(err.error);
		return -1;
	}
	if (nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh.nlmsg_len < NLMSG_HDRLEN + sizeof(*m)) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(m, buf + NLMSG_HDRLEN, sizeof(*m));
	return 1;
}

/* The states a look-up asks for (the kernel's exact look-up does not
 * filter by them: sock_claims checks the answer). */
static uint32_t lookup_states(const struct nu_flow *flow, unsigned int flags)
{
	if (flow->proto == IPPROTO_TCP)
		return 1U << TCP_SYN_SENT;
	return (1U << TCP_ESTABLISHED) |
	       (flags & NU_CONNTABLE_UDP_UNCONNECTED ? 1U << TCP_CLOSE : 0);
}

/* One request for one socket.  swapped: the tuple seen from the remote
 * side, as the kernel's UDP look-up reads it.  1 with *m filled, 0 when
 * there is no such socket, -1 with errno. */
static int diag_lookup_one(int fd, const struct nu_flow *flow, unsigned int flags,
			   bool swapped, struct inet_diag_msg *m)
{
	static uint32_t seq = 0x10000;
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t buf[8192];
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;	/* no NLM_F_DUMP: one hash look-up */
	msg.nlh.nlmsg_seq = ++seq;
	msg.req.sdiag_family = flow->family;
	msg.req.sdiag_protocol = flow->proto;
	msg.req.idiag_states = lookup_states(flow, flags);
	msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (!swapped) {
		msg.req.id.idiag_sport = htons(flow->sport);
		msg.req.id.idiag_dport = htons(flow->dport);
		addr_to_diag(msg.req.id.idiag_src, &flow->saddr, flow->family);
		addr_to_diag(msg.req.id.idiag_dst, &flow->daddr, flow->family);
	} else {
		msg.req.id.idiag_sport = htons(flow->dport);
		msg.req.id.idiag_dport = htons(flow->sport);
		addr_to_diag(msg.req.id.idiag_src, &flow->daddr, flow->family);
		addr_to_diag(msg.req.id.idiag_dst, &flow->saddr, flow->family);
	}
	do {
		n = sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (;;) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		int r;

		do {
			n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return -1;
		if (fromlen != sizeof(from) || from.nl_pid != 0)
			continue;	/* not from the kernel */
		r = diag_parse_one(buf, (size_t)n, seq, m);
		if (r != 2)
			return r;
	}
}

static const char *sock_state_name(uint8_t proto, unsigned int state)
{
	static const char *const tcp[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
		[TCP_SYN_RECV] = "SYN_RECV", [TCP_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_FIN_WAIT2] = "FIN_WAIT2", [TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE", [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_LAST_ACK] = "LAST_ACK", [TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
	};

	if (proto == IPPROTO_UDP)
		return state == TCP_ESTABLISHED ? "connected" :
		       state == TCP_CLOSE ? "unconnected" : "unknown";
	return state < G_N_ELEMENTS(tcp) && tcp[state] ? tcp[state] : "unknown";
}

/* Why the socket the kernel found for flow does not prove it (debug). */
static void log_refused(const struct nu_flow *flow, const struct sock_view *s)
{
	char flow_text[NU_FLOW_STRLEN], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	log_debug("not claimed: %s: the kernel's socket for it is %s, uid %u, %s:%u -> %s:%u",
		  nu_flow_format(flow, flow_text, sizeof(flow_text)),
		  sock_state_name(flow->proto, s->state), s->uid,
		  nu_addr_format(&s->src, src, sizeof(src)), s->sport,
		  nu_addr_format(&s->dst, dst, sizeof(dst)), s->dport);
}

/* The exact look-up through sock_diag: 1 with *out, 0, -1 with errno. */
static int diag_lookup(int fd, const struct nu_flow *flow, uid_t uid, unsigned int flags,
		       struct nu_local_conn *out)
{
	/* TCP's look-up reads the tuple from this side, UDP's from the
	 * remote's: that order first, the other second.  Whatever socket
	 * the kernel answers with must prove the flow itself. */
	for (int i = 0; i < 2; i++) {
		bool swapped = (flow->proto == IPPROTO_UDP) != (i == 1);
		struct inet_diag_msg m;
		struct sock_view s;
		int r = diag_lookup_one(fd, flow, flags, swapped, &m);

		if (r < 0)
			return -1;
		if (r == 0 || !sock_from_diag(&s, &m))
			continue;
		if (!sock_claims(&s, flow, uid, flags)) {
			log_refused(flow, &s);
			continue;
		}
		memset(out, 0, sizeof(*out));
		out->flow = *flow;
		out->inode = s.inode;
		return 1;
	}
	return 0;
}

int nu_conntable_lookup(int fd, const struct nu_flow *flow, uid_t uid, unsigned int flags,
			struct nu_local_conn *out)
{
	int r;

	if (flow->proto != IPPROTO_TCP && flow->proto != IPPROTO_UDP) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (fd >= 0) {
		r = diag_lookup(fd, flow, uid, flags, out);
		if (r >= 0)
			return r;
		if (!logged_diag_error) {
			logged_diag_error = true;
			log_warnx("sock_diag look-up failed: %s; reading /proc/net instead "
				  "(logged once)", strerror(errno));
		}
	}
	r = proc_lookup_in("/proc/net", flow, uid, flags, out);
	if (r < 0)
		log_debug("cannot read /proc/net: %s", strerror(errno));
	return r;
}

static bool is_pid(const char *name)
{
	if (*name == '\0')
		return false;
	for (; *name != '\0'; name++)
		if (!isdigit((unsigned char)*name))
			return false;
	return true;
}

/* True when one of /proc/PID/fd/ is the socket link "socket:[inode]". */
static bool process_has_socket(int procfd, const char *pid, const char *want)
{
	char fdpath[64];
	DIR *dir;
	struct dirent *de;
	bool found = false;
	int fd;

	if ((size_t)snprintf(fdpath, sizeof(fdpath), "%s/fd", pid) >= sizeof(fdpath))
		return false;
	fd = openat(procfd, fdpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return false;
	}
	while (!found && (de = readdir(dir)) != NULL) {
		char link[SOCKET_LINK_MAX + 1];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);
		if (n <= 0 || (size_t)n >= sizeof(link) - 1)
			continue;	/* error, or too long to be a socket */
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(dir);
	return found;
}

/* The program of process pid (a name in /proc) when it is uid's and holds
 * the socket want. */
static bool program_of(int procfd, const char *pid, uid_t uid, const char *want,
		       char *path, size_t cap)
{
	struct stat st;
	char exe[PATH_MAX + 1];
	char exepath[64];
	ssize_t n;

	if (fstatat(procfd, pid, &st, 0) < 0 || st.st_uid != uid)
		return false;
	if (!process_has_socket(procfd, pid, want))
		return false;
	if ((size_t)snprintf(exepath, sizeof(exepath), "%s/exe", pid) >= sizeof(exepath))
		return false;
	n = readlinkat(procfd, exepath, exe, sizeof(exe) - 1);
	if (n <= 0 || (size_t)n >= sizeof(exe) - 1 || (size_t)n >= cap)
		return false;	/* gone, unreadable, or does not fit */
	memcpy(path, exe, (size_t)n);
	path[n] = '\0';
	return true;
}

/* The processes that owned the last sockets looked up: a program that opens
 * one connection usually opens the next, so they are searched first and
 * the walk over every process is mostly avoided. */
#define RECENT_PIDS 8
static char recent_pids[RECENT_PIDS][16];
static unsigned recent_next;

static void remember_pid(const char *pid)
{
	for (unsigned i = 0; i < RECENT_PIDS; i++)
		if (strcmp(recent_pids[i], pid) == 0)
			return;
	g_strlcpy(recent_pids[recent_next], pid, sizeof(recent_pids[0]));
	recent_next = (recent_next + 1) % RECENT_PIDS;
}

bool nu_conntable_find_program(uid_t uid, uint64_t inode, char *path, size_t cap)
{
	return nu_conntable_find_process(uid, inode, NULL, path, cap);
}

bool nu_conntable_find_process(uid_t uid, uint64_t inode, pid_t *pid, char *path, size_t cap)
{
	char want[SOCKET_LINK_MAX + 1];
	const char *owner = NULL;
	DIR *proc;
	struct dirent *de;
	bool found = false;

	if (path == NULL || cap == 0 || inode == 0)
		return false;
	snprintf(want, sizeof(want), "socket:[%" PRIu64 "]", inode);

	proc = opendir("/proc");
	if (proc == NULL)
		return false;
	for (unsigned i = 0; i < RECENT_PIDS && !found; i++)
		if (recent_pids[i][0] != '\0' &&
		    program_of(dirfd(proc), recent_pids[i], uid, want, path, cap)) {
			found = true;
			owner = recent_pids[i];
		}
	while (!found && (de = readdir(proc)) != NULL) {
		if (!is_pid(de->d_name))
			continue;
		if (program_of(dirfd(proc), de->d_name, uid, want, path, cap)) {
			remember_pid(de->d_name);
			found = true;
			owner = de->d_name;
		}
	}
	if (found && pid)
		*pid = (pid_t)strtol(owner, NULL, 10);
	closedir(proc);
	return found;
}
