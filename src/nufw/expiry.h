/* Connections accepted until a time (the end of the time period of the ACL
 * that accepted them, sent with nuauth's decision): nufw ends them itself
 * when it comes, so the period holds even while nuauth is unreachable.
 * Deadlines are on the monotonic clock; the earliest first.
 *
 * One table serves every queue's worker (any of them may hear of a flow's
 * end or of a moved end time, whichever worker accepted it), so every
 * call takes the table's lock.  While no connection has an end time (no
 * ACL with a period), the packet path reads only an atomic count; while
 * some have, a decision without one parses its packet and takes the lock
 * once, to forget a flow decided again. */
#ifndef NUFW_EXPIRY_H
#define NUFW_EXPIRY_H

#include <stdbool.h>
#include <glib.h>
#include "flow.h"

/* At most this many connections are followed; past it the latest are not
 * (nuauth ends them as well). */
#define NUFW_EXPIRY_MAX 65536

struct nufw_expiry;

struct nufw_expiry *nufw_expiry_new(void);
void nufw_expiry_free(struct nufw_expiry *e);

/* flow must end at deadline (g_get_monotonic_time() units); a flow already
 * followed gets the new deadline.  false when the table is full. */
bool nufw_expiry_add(struct nufw_expiry *e, const struct nu_flow *flow, gint64 deadline);
/* Gives flow a new deadline only if it is followed already; false if not. */
bool nufw_expiry_move(struct nufw_expiry *e, const struct nu_flow *flow, gint64 deadline);
/* Forgets flow (it ended, or was decided again without an end time); false
 * if it was not followed. */
bool nufw_expiry_remove(struct nufw_expiry *e, const struct nu_flow *flow);
/* Calls fn for, and forgets, every flow whose deadline is <= now; fn runs
 * without the lock held. */
unsigned nufw_expiry_due(struct nufw_expiry *e, gint64 now,
			 void (*fn)(const struct nu_flow *flow, void *ctx), void *ctx);
/* Without the lock: a hint, exact when no other thread changes the table. */
unsigned nufw_expiry_count(const struct nufw_expiry *e);

#endif
