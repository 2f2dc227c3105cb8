/* nufw's side of NFQUEUE: one netlink socket bound to one queue, read
 * without blocking through libmnl and libnetfilter_queue's nfq_nlmsg_* API,
 * and verdicts written back by packet id. */
#ifndef NUFW_QUEUE_H
#define NUFW_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct nufw_queue;

/* One packet as the kernel queued it.  payload points into the receive
 * buffer and is valid only during the callback. */
struct nufw_queued_packet {
	uint32_t id;
	uint16_t hw_protocol;	/* ETH_P_IP or ETH_P_IPV6, host order */
	uint32_t mark;		/* 0 when the kernel sent none */
	uint32_t indev;		/* interface index, 0 when none */
	uint32_t outdev;
	uint32_t physindev;	/* bridge ports (br_netfilter), 0 when none */
	uint32_t physoutdev;
	bool has_src_mac;	/* NFQA_HWADDR: an Ethernet source address */
	uint8_t src_mac[6];
	const uint8_t *payload;
	size_t payload_len;
};

typedef void (*nufw_packet_fn)(const struct nufw_queued_packet *pkt, void *ctx);

/* Binds queue queue_num (copy mode: whole packet up to copy_range bytes),
 * sets the kernel queue length to max_len when non-zero and sizes the
 * socket's receive buffer for it.  fail_open: the kernel accepts packets
 * when the queue is full instead of dropping them.  NULL with *error
 * (g_strdup'ed text) on failure, e.g. when another process holds the
 * queue. */
struct nufw_queue *nufw_queue_open(uint16_t queue_num, uint32_t max_len,
				   uint32_t copy_range, bool fail_open, GError **error);
void nufw_queue_close(struct nufw_queue *q);
int nufw_queue_fd(const struct nufw_queue *q);

/* Reads every message waiting on the socket (non-blocking) and calls fn for
 * each packet.  Returns the number of packets handed to fn, or -1 on a fatal
 * socket error (errno set).  ENOBUFS (the kernel dropped messages because
 * the receive buffer overran) is not fatal: it is counted, see
 * nufw_queue_overruns(). */
int nufw_queue_read(struct nufw_queue *q, nufw_packet_fn fn, void *ctx);

/* Gives the kernel the verdict for packet id: accept (with mark when
 * set_mark) or drop.  0 or -1 with errno. */
int nufw_queue_verdict(struct nufw_queue *q, uint32_t id, bool accept,
		       bool set_mark, uint32_t mark);

uint64_t nufw_queue_overruns(const struct nufw_queue *q);

/* --ct-mark: verdicts that carry a mark also set the connection's mark
 * (NFQA_CFG_F_CONNTRACK).  False with *error where the kernel cannot (built
 * without CONFIG_NETFILTER_NETLINK_GLUE_CT): the CONNMARK rules then do
 * the job. */
bool nufw_queue_enable_ct_mark(struct nufw_queue *q, GError **error);

/* A batch verdict: every packet of the queue whose id is id or lower gets
 * this verdict and mark (NFQNL_MSG_VERDICT_BATCH carries no connection
 * mark).  See verdicts.h for when that is safe.  0 or -1 with errno. */
int nufw_queue_verdict_batch(struct nufw_queue *q, uint32_t id, bool accept,
			     bool set_mark, uint32_t mark);

/* Sets the kernel's queue length (0: with fail_open the kernel accepts
 * every new packet itself, which nufw uses while it stops).  Packets read
 * while waiting for the kernel's answer go to fn.  0 or -1 with errno. */
int nufw_queue_set_maxlen(struct nufw_queue *q, uint32_t max_len,
			  nufw_packet_fn fn, void *ctx);

/* The kernel's own loss counters of one queue, from
 * /proc/net/netfilter/nfnetlink_queue: packets dropped (or, fail-open,
 * accepted) because the queue was full, and packets it could not pass to
 * the reader.  seen: the queue has a line (it is bound). */
struct nufw_kernel_drops {
	uint64_t queue_full;
	uint64_t netlink_failed;
	bool seen;
};

/* Reads the counters of queues first..last into drops[q - first], in one
 * pass over the file.  False when the file cannot be read. */
bool nufw_queue_kernel_drops(uint16_t first, uint16_t last,
			     struct nufw_kernel_drops *drops);

#endif
