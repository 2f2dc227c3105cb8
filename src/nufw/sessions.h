/* The connections nufw accepted for each client session (the SESSION tag
 * of nuauth's DECISION): when the session ends (SESSION_END), nufw ends
 * them, whichever nuauth node accepted them.  This is what lets a logout
 * on a node end the connections a dead node accepted before a failover
 * (doc/cluster.md): nuauth keeps its own table of the connections it
 * decided, and that table dies with the node.
 *
 * One table serves every queue's worker (the link that hears of the end
 * may not be the queue that accepted), so every call takes its lock; while
 * it is empty the packet path reads only an atomic count.  Entries leave
 * when their connection ends (nufw -C: conntrack's destroy event), when
 * their flow is decided again, when their session ends, or, past
 * NUFW_SESSIONS_MAX, oldest first. */
#ifndef NUFW_SESSIONS_H
#define NUFW_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "flow.h"

/* About 150 bytes each (the entry, its list links, the index): 40 MiB at
 * the most. */
#define NUFW_SESSIONS_MAX 262144

struct nufw_sessions;

struct nufw_sessions *nufw_sessions_new(void);
void nufw_sessions_free(struct nufw_sessions *s);

/* flow was accepted for session tag (not 0); a flow filed already moves to
 * tag.  True when the oldest entry had to go to make room. */
bool nufw_sessions_add(struct nufw_sessions *s, const struct nu_flow *flow, uint64_t tag);
/* Forgets flow (it ended, or was decided again without a session). */
void nufw_sessions_forget(struct nufw_sessions *s, const struct nu_flow *flow);
/* Forgets every flow of session tag and returns them (struct nu_flow),
 * oldest first; the caller frees the array. */
GArray *nufw_sessions_take(struct nufw_sessions *s, uint64_t tag);
/* Without the lock: a hint, exact when no other thread changes the table. */
unsigned nufw_sessions_count(const struct nufw_sessions *s);

#endif
