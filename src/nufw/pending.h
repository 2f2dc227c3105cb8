/* Packets waiting for nuauth's decision.
 *
 * Packets of one flow form a group: the first is asked about, and a
 * retransmitted SYN joins its group instead of being asked about again; the
 * decision answers the whole group.  Each packet still expires on its own,
 * oldest first (every packet waits as long).  When the link to nuauth is
 * lost, the groups stay and are asked about again once it is back.
 *
 * With several nuauth nodes (a cluster, doc/cluster.md) each group keeps
 * the nodes it was asked of (a bit per node) and those that answered "not
 * mine" (NOT_OWNER): a real decision settles it at once, and so does the
 * last of the asked nodes saying "not mine" (with that answer's verdict).
 * Every operation is O(1) per packet. */
#ifndef NUFW_PENDING_H
#define NUFW_PENDING_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "proto.h"

struct nufw_pending;

enum nufw_pending_add {
	NUFW_PENDING_NEW_FLOW,		/* first packet of its flow: ask nuauth */
	NUFW_PENDING_JOINED,		/* its flow is being asked about already */
	NUFW_PENDING_FULL,		/* the table holds its maximum */
	NUFW_PENDING_DUPLICATE,		/* this packet id is already waiting */
};

/* The head of each packet is kept, to answer it when it is rejected. */
#define NUFW_PENDING_HEAD_MAX 128

/* Called with each packet that leaves the table: its id and head. */
typedef void (*nufw_pending_fn)(uint32_t id, const uint8_t *head, size_t head_len, void *ctx);
/* Called with the question to send for a group (its id is the one the
 * answer will carry). */
typedef void (*nufw_pending_ask_fn)(const struct nu_packet_ask *ask, void *ctx);

struct nufw_pending *nufw_pending_new(unsigned max_entries);
void nufw_pending_free(struct nufw_pending *p);

/* ask->packet_id is the packet's id; ask->flow its flow; packet its bytes
 * (the first NUFW_PENDING_HEAD_MAX are kept).  asked: the nodes (bit i for
 * node i; 1 with a single nuauth) the caller asks now, 0 none. */
enum nufw_pending_add nufw_pending_add(struct nufw_pending *p, const struct nu_packet_ask *ask,
				       const uint8_t *packet, size_t len,
				       gint64 deadline, uint32_t asked);
/* The answer to the question asked with id: fn for every packet of that
 * group, which leaves the table.  Returns how many; 0 when no group was
 * asked with id (its packets expired, or the link was lost meanwhile). */
unsigned nufw_pending_answer(struct nufw_pending *p, uint32_t id, nufw_pending_fn fn, void *ctx);
/* Node bit (1 << i) said "not mine" about the question asked with id.
 * When every node asked has said so, fn for every packet of the group
 * (which leaves the table) and the count; else 0 (also for an unknown id:
 * the owner decided already). */
unsigned nufw_pending_not_owner(struct nufw_pending *p, uint32_t id, uint32_t node,
				uint8_t verdict, nufw_pending_fn fn, void *ctx);
/* Called with a group settled by node_down: every packet, and the verdict
 * the "not mine" answers carried. */
typedef void (*nufw_pending_settled_fn)(uint32_t id, const uint8_t *head, size_t head_len,
					uint8_t verdict, void *ctx);
/* Node bit's link was lost: it answers nothing of what it was asked.  A
 * group whose other asked nodes all said "not mine" is settled (fn); one
 * asked of no other node is asked again at the next link up.  Returns how
 * many groups wait to be asked again. */
unsigned nufw_pending_node_down(struct nufw_pending *p, uint32_t node,
				nufw_pending_settled_fn fn, void *ctx);
/* fn for every packet whose deadline is <= now.  A group that loses the
 * packet it was asked with keeps that question's id for the answer. */
unsigned nufw_pending_expire(struct nufw_pending *p, gint64 now, nufw_pending_fn fn, void *ctx);
/* The link was lost: every group must be asked again. */
void nufw_pending_forget_questions(struct nufw_pending *p);
/* Calls ask for every group not asked of node (a bit) yet: after node's
 * link came up, or another node's went down; records them as asked of
 * node too. */
unsigned nufw_pending_ask_all(struct nufw_pending *p, uint32_t node, nufw_pending_ask_fn ask,
			      void *ctx);
/* fn for every packet; the table is empty afterwards. */
unsigned nufw_pending_drain(struct nufw_pending *p, nufw_pending_fn fn, void *ctx);
unsigned nufw_pending_count(const struct nufw_pending *p);

#endif
