/* Verdicts on their way to the kernel, sent together where NFQUEUE allows.
 *
 * A batch verdict (NFQNL_MSG_VERDICT_BATCH for id X) answers every packet
 * still in the kernel's queue whose id is X or lower.  That is only right
 * when each of those packets has been given that same verdict and mark.
 * This table therefore knows every packet read from the queue and not yet
 * answered, in id order (the kernel numbers packets in the order it passes
 * them to us): verdicts are recorded, then sent at the end of the main
 * loop's turn, one batch for each run of answered packets at the head that
 * share a verdict and mark, and one by one for answered packets behind a
 * packet still waiting for nuauth. */
#ifndef NUFW_VERDICTS_H
#define NUFW_VERDICTS_H

#include <stdbool.h>
#include <stdint.h>
#include "queue.h"

struct nufw_verdicts;

struct nufw_verdict_stats {
	uint64_t messages;	/* verdict messages sent */
	uint64_t batches;	/* of which batch verdicts */
	uint64_t batched;	/* packets answered by batch verdicts */
	uint64_t send_failed;	/* sends the kernel refused for now (retried) */
	uint64_t lost;		/* verdicts given up on (hard socket error) */
};

/* ct_mark: verdicts with a mark also set the connection's mark, which a
 * batch verdict cannot carry: those go one by one. */
struct nufw_verdicts *nufw_verdicts_new(struct nufw_queue *q, bool ct_mark);
void nufw_verdicts_free(struct nufw_verdicts *v);

/* Packet id was read from the queue and waits for its verdict. */
void nufw_verdicts_received(struct nufw_verdicts *v, uint32_t id);
/* The verdict for id, sent by the next nufw_verdicts_flush. */
void nufw_verdicts_set(struct nufw_verdicts *v, uint32_t id, bool accept,
		       bool set_mark, uint32_t mark);
/* True when verdicts wait to be sent. */
bool nufw_verdicts_due(const struct nufw_verdicts *v);
/* Sends what was recorded.  A send the kernel refuses for lack of memory
 * (ENOBUFS, ENOMEM) is tried once more at once; if it fails again, it and
 * what follows stay recorded for the next flush and false is returned. */
bool nufw_verdicts_flush(struct nufw_verdicts *v);
const struct nufw_verdict_stats *nufw_verdicts_stats(const struct nufw_verdicts *v);

#endif
