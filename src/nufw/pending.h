/* Packets waiting for nuauth's decision.
 *
 * Packets of one flow form a group: the first is asked about, and a
 * retransmitted SYN joins its group instead of being asked about again; the
 * decision answers the whole group.  Each packet still expires on its own,
 * oldest first (every packet waits as long).  When the link to nuauth is
 * lost, the groups stay and are asked about again once it is back.
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
 * (the first NUFW_PENDING_HEAD_MAX are kept).  asked: the caller sends the
 * question now. */
enum nufw_pending_add nufw_pending_add(struct nufw_pending *p, const struct nu_packet_ask *ask,
				       const uint8_t *packet, size_t len,
				       gint64 deadline, bool asked);
/* The answer to the question asked with id: fn for every packet of that
 * group, which leaves the table.  Returns how many; 0 when no group was
 * asked with id (its packets expired, or the link was lost meanwhile). */
unsigned nufw_pending_answer(struct nufw_pending *p, uint32_t id, nufw_pending_fn fn, void *ctx);
/* fn for every packet whose deadline is <= now.  A group that loses the
 * packet it was asked with keeps that question's id for the answer. */
unsigned nufw_pending_expire(struct nufw_pending *p, gint64 now, nufw_pending_fn fn, void *ctx);
/* The link was lost: every group must be asked again. */
void nufw_pending_forget_questions(struct nufw_pending *p);
/* Calls ask for every group not asked yet (after the link came back), and
 * records those questions as asked. */
unsigned nufw_pending_ask_all(struct nufw_pending *p, nufw_pending_ask_fn ask, void *ctx);
/* fn for every packet; the table is empty afterwards. */
unsigned nufw_pending_drain(struct nufw_pending *p, nufw_pending_fn fn, void *ctx);
unsigned nufw_pending_count(const struct nufw_pending *p);

#endif
