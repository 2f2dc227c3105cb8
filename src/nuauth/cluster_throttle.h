/* The failed-login throttles across the cluster (doc/cluster.md, "Failed
 * logins across the cluster"): login_guard.c's counts, locks and known
 * addresses of this node written to etcd under its lease
 * (PREFIX/fails/NODE/ID, PREFIX/known/NODE/ID; ID a keyed hash, no name or
 * address in clear), coalesced; the other nodes' records, from the watch,
 * handed to login_guard.c, which sums them.  Main loop's thread only. */
#ifndef NUAUTH_CLUSTER_THROTTLE_H
#define NUAUTH_CLUSTER_THROTTLE_H

#include <stdbool.h>
#include <glib.h>
#include "nuauth.h"

struct etcd_client;
struct etcd_kv;
struct cluster_throttle;

/* prefix: PREFIX/ (the watch's); secret: nuauth_cluster_throttle_secret
 * (NULL: none, said once). */
struct cluster_throttle *cluster_throttle_new(struct nuauth_server *srv,
					      struct etcd_client *etcd, const char *prefix,
					      const char *node, const char *secret);
void cluster_throttle_free(struct cluster_throttle *t);
/* A change the watch saw: true when the key was a failed-login record. */
bool cluster_throttle_update(struct cluster_throttle *t, const struct etcd_kv *kv);
/* The watch reads the whole prefix again: the other nodes' records follow. */
void cluster_throttle_reset(struct cluster_throttle *t);
/* cluster.c's health tick: the quiet records go from etcd. */
void cluster_throttle_tick(struct cluster_throttle *t, gint64 now);

#endif
