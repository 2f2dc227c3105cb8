/* netlink sock_diag (inet_diag): the dump of the user's opening sockets,
 * the exact look-up of one socket by its tuple (one hash look-up in the
 * kernel, no dump), and the checks of what the kernel answers: every
 * datagram's lengths, sequence and sender, and the socket itself, put to
 * sock_claims (sockclaim.c). */
#include "config.h"
#include "conntable_int.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>

/* A request as sock_diag takes it. */
struct diag_request {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 req;
};

static void diag_request_init(struct diag_request *msg, uint16_t flags, uint32_t seq,
			      int family, uint8_t proto, uint32_t states)
{
	memset(msg, 0, sizeof(*msg));
	msg->nlh.nlmsg_len = sizeof(*msg);
	msg->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg->nlh.nlmsg_flags = flags;
	msg->nlh.nlmsg_seq = seq;
	msg->req.sdiag_family = (uint8_t)family;
	msg->req.sdiag_protocol = proto;
	msg->req.idiag_states = states;
}

/* Sends msg to the kernel.  0, or -1 with errno. */
static int diag_send(int fd, const struct diag_request *msg)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	do {
		n = sendto(fd, msg, sizeof(*msg), 0,
			   (struct sockaddr *)&kernel, sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != sizeof(*msg)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* --- the dump ---------------------------------------------------------------- */

static int diag_send_request(int fd, int family, const struct scan_filter *f, uint32_t seq)
{
	struct diag_request msg;

	diag_request_init(&msg, NLM_F_REQUEST | NLM_F_DUMP, seq, family, f->proto, f->states);
	return diag_send(fd, &msg);
}

/* s from a sock_diag answer; false when it is of no inet family. */
bool sock_from_diag(struct sock_view *s, const struct inet_diag_msg *m)
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
int diag_parse_filter(const uint8_t *buf, size_t len, uint32_t seq,
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
int diag_parse(const uint8_t *buf, size_t len, uint32_t seq,
		      uid_t uid, GArray *out)
{
	struct scan_filter f = { IPPROTO_TCP, 1U << TCP_SYN_SENT, uid };

	return diag_parse_filter(buf, len, seq, &f, out);
}

/* One family's dump.  0, or -1 with errno. */
int diag_scan(int fd, int family, uint32_t seq, const struct scan_filter *f,
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


/* --- the exact look-up ------------------------------------------------------ */

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
int diag_parse_one(const uint8_t *buf, size_t n, uint32_t seq, struct inet_diag_msg *m)
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
	struct diag_request msg;
	uint8_t buf[8192];
	ssize_t n;

	/* no NLM_F_DUMP: one hash look-up */
	diag_request_init(&msg, NLM_F_REQUEST, ++seq, flow->family, flow->proto,
			  lookup_states(flow, flags));
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
	if (diag_send(fd, &msg) < 0)
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

/* The exact look-up through sock_diag: 1 with *out, 0, -1 with errno.
 * Whatever socket the kernel answers with must prove the flow itself. */
int diag_lookup(int fd, const struct nu_flow *flow, uid_t uid, unsigned int flags,
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
		conn_claimed(out, flow, &s);
		return 1;
	}
	return 0;
}

