/* nufw's side of NFQUEUE: one netlink socket bound to one queue, read
 * without blocking through libmnl and libnetfilter_queue's nfq_nlmsg_* API,
 * and verdicts written back by packet id. */
#ifndef NUFW_QUEUE_H
#define NUFW_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nufw_queue;

/* One packet as the kernel queued it.  payload points into the receive
 * buffer and is valid only during the callback. */
struct nufw_queued_packet {
	uint32_t id;
	uint16_t hw_protocol;	/* ETH_P_IP or ETH_P_IPV6, host order */
	uint32_t mark;		/* 0 when the kernel sent none */
	uint32_t indev;		/* interface index, 0 when none */
	uint32_t outdev;
	const uint8_t *payload;
	size_t payload_len;
};

typedef void (*nufw_packet_fn)(const struct nufw_queued_packet *pkt, void *ctx);

/* Binds queue queue_num (copy mode: whole packet up to copy_range bytes),
 * sets the kernel queue length to max_len when non-zero and sizes the
 * socket's receive buffer for it.  fail_open: the kernel accepts packets
 * when the queue is full instead of dropping them.  NULL with *err
 * (g_strdup'ed text) on failure, e.g. when another process holds the
 * queue. */
struct nufw_queue *nufw_queue_open(uint16_t queue_num, uint32_t max_len,
				   uint32_t copy_range, bool fail_open, char **err);
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
 * (NFQA_CFG_F_CONNTRACK).  False with *err where the kernel cannot (built
 * without CONFIG_NETFILTER_NETLINK_GLUE_CT): the CONNMARK rules then do
 * the job. */
bool nufw_queue_enable_ct_mark(struct nufw_queue *q, char **err);

/* The kernel's own loss counters for this queue (from
 * /proc/net/netfilter/nfnetlink_queue): packets dropped because the queue
 * was full, and because they could not be sent to us.  False when the file
 * or the queue's line cannot be read. */
bool nufw_queue_kernel_drops(const struct nufw_queue *q, uint64_t *queue_full,
			     uint64_t *netlink_failed);

#endif
