/* nufw's view of the kernel's connection table (libnetfilter_conntrack):
 * it follows the end of connections (-C, NuFW's option) so that nuauth can
 * account each user's traffic, and deletes a connection when nuauth asks,
 * so that an established flow stops (logout, disconnect). */
#ifndef NUFW_CONNTRACK_H
#define NUFW_CONNTRACK_H

#include <stdbool.h>
#include <glib.h>
#include "proto.h"

struct nufw_conntrack;

/* Called for each connection that ended, with its counters. */
typedef void (*nufw_conn_end_fn)(const struct nu_conn_end *end, void *ctx);

/* follow_ends: subscribe to conntrack's destroy events (then fn is called;
 * only_marked: only for connections with a non-zero mark, NuFW's -M).
 * Turns on the kernel's per-connection byte counters (nf_conntrack_acct)
 * when it can.  NULL with *error on failure. */
struct nufw_conntrack *nufw_conntrack_open(bool follow_ends, bool only_marked,
					   nufw_conn_end_fn fn, void *ctx, GError **error);
void nufw_conntrack_close(struct nufw_conntrack *ct);
/* The event socket to watch (-1 when not following ends). */
int nufw_conntrack_fd(const struct nufw_conntrack *ct);
/* Reads the waiting events; -1 on a fatal socket error. */
int nufw_conntrack_read(struct nufw_conntrack *ct);
/* Deletes the connection whose original direction is flow.  0, or -1 with
 * errno (ENOENT: no such connection). */
/* A gateway pair's backup (doc/gateway-pair.md): while paused, no
 * connection end is reported, by any worker; what conntrack deletes then
 * is a copy's churn (conntrackd's commit, an old master's stale entries),
 * not a user's connection ending.  Safe from any thread. */
void nufw_conntrack_pause_ends(bool paused);
int nufw_conntrack_destroy(struct nufw_conntrack *ct, const struct nu_flow *flow);

#endif
