/* NFQUEUE through libmnl and libnetfilter_queue's nfq_nlmsg_* helpers: one
 * netlink socket bound to one queue, read without blocking, verdicts written
 * back one packet at a time. */
#include "config.h"
#include "queue.h"
#include "error.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <glib.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#ifndef SO_RCVBUFFORCE
#define SO_RCVBUFFORCE 33
#endif

/* Kernel's queue length when none is configured (NFQNL_QMAX_DEFAULT). */
#define QUEUE_DEFAULT_MAXLEN	1024
/* Largest copy range the kernel honours; 0 means this too. */
#define QUEUE_MAX_COPY_RANGE	0xffff
/* Per packet: netlink and nfgenmsg headers, the attributes besides the
 * payload, and the kernel's own skb bookkeeping charged to the buffer. */
#define QUEUE_PKT_OVERHEAD	1024
/* Receive buffer ceiling (the kernel takes an int and doubles it). */
#define QUEUE_RCVBUF_MAX	(256 * 1024 * 1024)
/* How long nufw_queue_open waits for the kernel's answer to a command. */
#define QUEUE_ACK_TIMEOUT_MS	2000

struct nufw_queue {
	struct mnl_socket *nl;
	unsigned int portid;
	uint16_t queue_num;
	uint32_t seq;
	uint64_t overruns;
	size_t buf_len;
	char *buf;		/* receive buffer, buf_len bytes */
	bool ct_mark;		/* verdicts also set the connection's mark */
};

/* State of one nufw_queue_read (or of the wait for a command's ACK). */
struct read_state {
	struct nufw_queue *q;
	nufw_packet_fn fn;
	void *ctx;
	int count;
	uint32_t ack_seq;	/* 0: not waiting for an ACK */
	bool acked;
	int ack_errno;
	unsigned max_datagrams;	/* 0: read until the socket is empty */
	unsigned datagrams;
};

/* Datagrams one nufw_queue_read takes before it gives the loop back. */
#define QUEUE_READ_BATCH 256

union msg_buf {
	struct nlmsghdr hdr;
	char raw[256];
};

static int read_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_state *st = data;
	const struct nlmsgerr *err;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err)) {
		log_debug("nfqueue %u: short netlink error message (%u bytes), skipped",
			  st->q->queue_num, nlh->nlmsg_len);
		return MNL_CB_OK;
	}
	err = mnl_nlmsg_get_payload(nlh);
	if (st->ack_seq != 0 && nlh->nlmsg_seq == st->ack_seq) {
		st->acked = true;
		st->ack_errno = -err->error;
		return MNL_CB_OK;
	}
	/* Verdicts are sent without NLM_F_ACK: only failures come back. */
	if (err->error != 0)
		log_debug("nfqueue %u: kernel refused message seq %u: %s",
			  st->q->queue_num, err->msg.nlmsg_seq,
			  strerror(-err->error));
	return MNL_CB_OK;
}

/* An interface index attribute; 0 (no interface) when absent or of the
 * wrong size. */
static uint32_t ifindex_attr(const struct nlattr *a)
{
	if (a == NULL || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return 0;
	return ntohl(mnl_attr_get_u32(a));
}

static int read_packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_state *st = data;
	struct nufw_queue *q = st->q;
	struct nlattr *attr[NFQA_MAX + 1];
	const struct nfqnl_msg_packet_hdr *ph;
	struct nufw_queued_packet pkt;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) {
		log_debug("nfqueue %u: unexpected message type 0x%x, skipped",
			  q->queue_num, nlh->nlmsg_type);
		return MNL_CB_OK;
	}
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg)) {
		log_debug("nfqueue %u: packet message too short (%u bytes), skipped",
			  q->queue_num, nlh->nlmsg_len);
		return MNL_CB_OK;
	}
	memset(attr, 0, sizeof(attr));
	if (nfq_nlmsg_parse(nlh, attr) < 0) {
		log_debug("nfqueue %u: malformed packet attributes, skipped",
			  q->queue_num);
		return MNL_CB_OK;
	}
	if (attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) != sizeof(*ph)) {
		log_debug("nfqueue %u: packet message without a valid header, skipped",
			  q->queue_num);
		return MNL_CB_OK;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);

	memset(&pkt, 0, sizeof(pkt));
	pkt.id = ntohl(ph->packet_id);
	pkt.hw_protocol = ntohs(ph->hw_protocol);

	if (attr[NFQA_PAYLOAD] == NULL) {
		/* Nothing to decide on (e.g. queued before the copy mode was
		 * set): drop it rather than leave it held in the kernel. */
		log_debug("nfqueue %u: packet %u without payload, dropped",
			  q->queue_num, pkt.id);
		if (nufw_queue_verdict(q, pkt.id, false, false, 0) < 0)
			log_warn("nfqueue %u: drop verdict for packet %u",
				 q->queue_num, pkt.id);
		return MNL_CB_OK;
	}
	pkt.payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
	pkt.payload_len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);

	if (attr[NFQA_MARK] != NULL &&
	    mnl_attr_validate(attr[NFQA_MARK], MNL_TYPE_U32) >= 0)
		pkt.mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	pkt.indev = ifindex_attr(attr[NFQA_IFINDEX_INDEV]);
	pkt.outdev = ifindex_attr(attr[NFQA_IFINDEX_OUTDEV]);
	/* Only a bridged packet that br_netfilter passes through the IP
	 * hooks has these: the bridge's ports, indev/outdev being the
	 * bridge itself. */
	pkt.physindev = ifindex_attr(attr[NFQA_IFINDEX_PHYSINDEV]);
	pkt.physoutdev = ifindex_attr(attr[NFQA_IFINDEX_PHYSOUTDEV]);
	/* The source MAC address, where the input device has one: nuauth
	 * ends an address session when its address shows another. */
	if (attr[NFQA_HWADDR] != NULL &&
	    mnl_attr_get_payload_len(attr[NFQA_HWADDR]) >= sizeof(struct nfqnl_msg_packet_hw)) {
		const struct nfqnl_msg_packet_hw *hw = mnl_attr_get_payload(attr[NFQA_HWADDR]);

		if (ntohs(hw->hw_addrlen) == sizeof(pkt.src_mac)) {
			memcpy(pkt.src_mac, hw->hw_addr, sizeof(pkt.src_mac));
			pkt.has_src_mac = true;
		}
	}

	st->count++;
	if (st->fn != NULL)
		st->fn(&pkt, st->ctx);
	return MNL_CB_OK;
}

/* Reads and dispatches everything waiting on the socket.  0 once the socket
 * is empty, -1 with errno on a fatal socket error. */
static int read_pending(struct read_state *st)
{
	static mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = read_error_cb,
	};
	struct nufw_queue *q = st->q;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(q->nl, q->buf, q->buf_len);

		if (n < 0) {
			switch (errno) {
			case EAGAIN:
#if EWOULDBLOCK != EAGAIN
			case EWOULDBLOCK:
#endif
				return 0;
			case EINTR:
				continue;
			case ENOBUFS:
				q->overruns++;
				log_debug("nfqueue %u: receive buffer overrun (%llu so far)",
					  q->queue_num,
					  (unsigned long long)q->overruns);
				continue;
			case ENOSPC:
				/* Message larger than our buffer, truncated. */
				log_debug("nfqueue %u: truncated message skipped",
					  q->queue_num);
				continue;
			default:
				return -1;
			}
		}
		if (mnl_cb_run2(q->buf, (size_t)n, 0, q->portid, read_packet_cb,
				st, ctl_cb, NLMSG_MIN_TYPE) < 0)
			log_debug("nfqueue %u: netlink datagram rejected: %s",
				  q->queue_num, g_strerror(errno));
		/* A busy queue must not starve the rest of the worker's loop
		 * (nuauth's answers, expiry): the socket stays readable. */
		if (st->max_datagrams && ++st->datagrams >= st->max_datagrams)
			return 0;
	}
}

int nufw_queue_read(struct nufw_queue *q, nufw_packet_fn fn, void *ctx)
{
	struct read_state st = { .q = q, .fn = fn, .ctx = ctx,
				 .max_datagrams = QUEUE_READ_BATCH };

	if (read_pending(&st) < 0)
		return -1;
	return st.count;
}

static void drop_during_setup(const struct nufw_queued_packet *pkt, void *ctx)
{
	struct nufw_queue *q = ctx;

	log_debug("nfqueue %u: packet %u arrived during setup, dropped",
		  q->queue_num, pkt->id);
	if (nufw_queue_verdict(q, pkt->id, false, false, 0) < 0)
		log_warn("nfqueue %u: drop verdict for packet %u", q->queue_num,
			 pkt->id);
}

/* Sends a config message built in mb with NLM_F_ACK and waits for the
 * kernel's answer; packets read meanwhile go to fn (NULL: dropped, during
 * set-up).  0, or -1 with errno (the kernel's error). */
static int send_config(struct nufw_queue *q, struct nlmsghdr *nlh,
			nufw_packet_fn fn, void *ctx)
{
	struct read_state st = {
		.q = q, .fn = fn ? fn : drop_during_setup, .ctx = fn ? ctx : q,
	};
	int waited = 0;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++q->seq;
	st.ack_seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;

	while (!st.acked) {
		struct pollfd pfd = {
			.fd = mnl_socket_get_fd(q->nl), .events = POLLIN,
		};
		int r;

		if (read_pending(&st) < 0)
			return -1;
		if (st.acked)
			break;
		if (waited >= QUEUE_ACK_TIMEOUT_MS) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, 100);
		if (r < 0 && errno != EINTR)
			return -1;
		waited += 100;
	}
	if (st.ack_errno != 0) {
		errno = st.ack_errno;
		return -1;
	}
	return 0;
}

static void set_rcvbuf(struct nufw_queue *q, uint32_t max_len,
		       uint32_t copy_range)
{
	int fd = mnl_socket_get_fd(q->nl);
	uint64_t want = (uint64_t)(max_len ? max_len : QUEUE_DEFAULT_MAXLEN) *
			(copy_range + QUEUE_PKT_OVERHEAD);
	int size;

	if (want > QUEUE_RCVBUF_MAX)
		want = QUEUE_RCVBUF_MAX;
	size = (int)want;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0)
		return;
	/* Without CAP_NET_ADMIN: capped by net.core.rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		log_warn("nfqueue %u: cannot set receive buffer to %d bytes",
			 q->queue_num, size);
	else
		log_debug("nfqueue %u: SO_RCVBUFFORCE refused, receive buffer "
			  "limited by net.core.rmem_max", q->queue_num);
}

/* The queue's state and its receive buffer, large enough for a packet of
 * copy_range bytes with its netlink headers; no socket yet. */
static struct nufw_queue *queue_alloc(uint16_t queue_num, uint32_t copy_range)
{
	struct nufw_queue *q = g_new0(struct nufw_queue, 1);

	q->queue_num = queue_num;
	q->buf_len = copy_range + 8192;
	if (q->buf_len < (size_t)MNL_SOCKET_BUFFER_SIZE)
		q->buf_len = MNL_SOCKET_BUFFER_SIZE;
	q->buf = g_malloc(q->buf_len);
	return q;
}

/* The netlink socket: non-blocking, closed on exec, bound, with buffer
 * overruns reported (so that losses are counted). */
static bool socket_open(struct nufw_queue *q, GError **error)
{
	int fd, flags, off = 0;

	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (q->nl == NULL) {
		g_set_error(error, NU_ERROR, NU_ERROR_IO,
			    "nfqueue %u: cannot open netlink socket: %s",
			    q->queue_num, g_strerror(errno));
		return false;
	}
	fd = mnl_socket_get_fd(q->nl);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_IO, "nfqueue %u: fcntl on netlink socket: %s",
			    q->queue_num, g_strerror(errno));
		return false;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_IO,
			    "nfqueue %u: cannot bind netlink socket: %s",
			    q->queue_num, g_strerror(errno));
		return false;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	if (mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &off,
				  sizeof(off)) < 0)
		log_warn("nfqueue %u: cannot clear NETLINK_NO_ENOBUFS", q->queue_num);
	return true;
}

/* A configuration message for q's queue in mb, zeroed first: padding inside
 * the configuration attributes is sent as it is. */
static struct nlmsghdr *config_msg(struct nufw_queue *q, union msg_buf *mb)
{
	memset(mb, 0, sizeof(*mb));
	return nfq_nlmsg_put(mb->raw, NFQNL_MSG_CONFIG, q->queue_num);
}

/* Binds the queue to this socket: refused when another process holds it. */
static bool queue_bind(struct nufw_queue *q, GError **error)
{
	union msg_buf mb;
	struct nlmsghdr *nlh = config_msg(q, &mb);

	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if (send_config(q, nlh, NULL, NULL) == 0)
		return true;
	if (errno == EBUSY || errno == EPERM)
		g_set_error(error, NU_ERROR, NU_ERROR_KERNEL, "nfqueue %u: cannot bind the queue: "
			    "already bound by another process, "
			    "or CAP_NET_ADMIN missing (%s)",
			    q->queue_num, g_strerror(errno));
	else
		g_set_error(error, NU_ERROR, NU_ERROR_KERNEL,
			    "nfqueue %u: cannot bind the queue: %s",
			    q->queue_num, g_strerror(errno));
	return false;
}

/* Packets come with their first copy_range bytes. */
static bool queue_set_copy(struct nufw_queue *q, uint32_t copy_range, GError **error)
{
	union msg_buf mb;
	struct nlmsghdr *nlh = config_msg(q, &mb);

	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)copy_range);
	if (send_config(q, nlh, NULL, NULL) == 0)
		return true;
	g_set_error(error, NU_ERROR, NU_ERROR_KERNEL,
		    "nfqueue %u: cannot set copy mode (%u bytes): %s",
		    q->queue_num, copy_range, g_strerror(errno));
	return false;
}

/* The kernel's queue length, when one is configured (0: its default). */
static bool queue_set_length(struct nufw_queue *q, uint32_t max_len, GError **error)
{
	if (max_len == 0 || nufw_queue_set_maxlen(q, max_len, NULL, NULL) == 0)
		return true;
	g_set_error(error, NU_ERROR, NU_ERROR_KERNEL, "nfqueue %u: cannot set queue length %u: %s",
		    q->queue_num, max_len, g_strerror(errno));
	return false;
}

/* GSO packets whole, and with fail_open the kernel accepts what it cannot
 * queue (the queue full) instead of dropping it. */
static bool queue_set_flags(struct nufw_queue *q, bool fail_open, GError **error)
{
	uint32_t cfg_flags = NFQA_CFG_F_GSO | (fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
	union msg_buf mb;
	struct nlmsghdr *nlh = config_msg(q, &mb);

	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(cfg_flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	if (send_config(q, nlh, NULL, NULL) == 0)
		return true;
	g_set_error(error, NU_ERROR, NU_ERROR_KERNEL, "nfqueue %u: cannot set flags GSO%s: %s",
		    q->queue_num, fail_open ? " and FAIL_OPEN" : "",
		    g_strerror(errno));
	return false;
}

struct nufw_queue *nufw_queue_open(uint16_t queue_num, uint32_t max_len,
				   uint32_t copy_range, bool fail_open, GError **error)
{
	struct nufw_queue *q;

	if (copy_range == 0 || copy_range > QUEUE_MAX_COPY_RANGE)
		copy_range = QUEUE_MAX_COPY_RANGE;
	q = queue_alloc(queue_num, copy_range);
	if (!socket_open(q, error))
		goto fail;
	set_rcvbuf(q, max_len, copy_range);
	if (!queue_bind(q, error) || !queue_set_copy(q, copy_range, error) ||
	    !queue_set_length(q, max_len, error) || !queue_set_flags(q, fail_open, error))
		goto fail;
	return q;

fail:
	/* Closing the socket unbinds the queue if we got that far. */
	nufw_queue_close(q);
	return NULL;
}

void nufw_queue_close(struct nufw_queue *q)
{
	if (q == NULL)
		return;
	if (q->nl != NULL)
		mnl_socket_close(q->nl);
	g_free(q->buf);
	g_free(q);
}

int nufw_queue_fd(const struct nufw_queue *q)
{
	return mnl_socket_get_fd(q->nl);
}

/* One verdict message: for id alone (NFQNL_MSG_VERDICT), or for every
 * packet up to id (NFQNL_MSG_VERDICT_BATCH, which cannot carry the
 * connection's mark). */
static int send_verdict(struct nufw_queue *q, uint16_t type, uint32_t id, bool accept,
			bool set_mark, uint32_t mark)
{
	union msg_buf mb;
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(mb.raw, type, q->queue_num);
	nfq_nlmsg_verdict_put(nlh, (int)id, accept ? NF_ACCEPT : NF_DROP);
	if (set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	if (set_mark && q->ct_mark && type == NFQNL_MSG_VERDICT) {
		struct nlattr *ct = mnl_attr_nest_start(nlh, NFQA_CT);
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
		mnl_attr_nest_end(nlh, ct);
	}
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	return 0;
}

int nufw_queue_verdict(struct nufw_queue *q, uint32_t id, bool accept,
		       bool set_mark, uint32_t mark)
{
	return send_verdict(q, NFQNL_MSG_VERDICT, id, accept, set_mark, mark);
}

int nufw_queue_verdict_batch(struct nufw_queue *q, uint32_t id, bool accept,
			     bool set_mark, uint32_t mark)
{
	return send_verdict(q, NFQNL_MSG_VERDICT_BATCH, id, accept, set_mark, mark);
}

int nufw_queue_set_maxlen(struct nufw_queue *q, uint32_t max_len,
			  nufw_packet_fn fn, void *ctx)
{
	union msg_buf mb;
	struct nlmsghdr *nlh = config_msg(q, &mb);

	nfq_nlmsg_cfg_put_qmaxlen(nlh, max_len);
	return send_config(q, nlh, fn, ctx);
}

uint64_t nufw_queue_overruns(const struct nufw_queue *q)
{
	return q->overruns;
}

bool nufw_queue_kernel_drops(uint16_t first, uint16_t last,
			     struct nufw_kernel_drops *drops)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	char line[256];

	if (!f)
		return false;
	for (unsigned i = 0; i <= (unsigned)(last - first); i++)
		drops[i].seen = false;
	/* queue_number peer_portid queue_total copy_mode copy_range
	 * queue_dropped user_dropped id_sequence 1 */
	while (fgets(line, sizeof(line), f)) {
		unsigned num, portid, total, mode, range;
		unsigned long long qdrop, udrop;

		if (sscanf(line, "%u %u %u %u %u %llu %llu", &num, &portid, &total, &mode,
			   &range, &qdrop, &udrop) == 7 && num >= first && num <= last) {
			drops[num - first].queue_full = qdrop;
			drops[num - first].netlink_failed = udrop;
			drops[num - first].seen = true;
		}
	}
	fclose(f);
	return true;
}

bool nufw_queue_enable_ct_mark(struct nufw_queue *q, GError **error)
{
	union msg_buf mb;
	struct nlmsghdr *nlh = config_msg(q, &mb);

	/* A flag of its own: a kernel without conntrack glue refuses the
	 * whole configuration message that carries it. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_CONNTRACK));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_CONNTRACK));
	if (send_config(q, nlh, NULL, NULL) < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_KERNEL,
			    "the kernel cannot set connection marks at verdict time (%s)",
			    g_strerror(errno));
		return false;
	}
	q->ct_mark = true;
	return true;
}
