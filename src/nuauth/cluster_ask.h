/* Questions one node asks every other node of the cluster through etcd,
 * and their answers (doc/cluster.md, "Administration across the cluster"):
 * today `nuauthctl connections`, whose connections live in each node's own
 * table (connections.c), never in etcd.
 *
 * Each node is present under PREFIX/nodes/NODE (its lease: it goes when
 * the node dies), so that the asker knows whom to wait for.  A question is
 * a command (PREFIX/commands/NODE/ID, cluster.c runs it) naming a reply
 * key PREFIX/replies/ASKER/ID/NODE; the asker's watch sees each answer,
 * and the question ends when every node present answered or at its time
 * limit, the silent ones named.  Main loop's thread only. */
#ifndef NUAUTH_CLUSTER_ASK_H
#define NUAUTH_CLUSTER_ASK_H

#include <stdbool.h>
#include "nuauth.h"

struct etcd_client;
struct etcd_kv;
struct cluster_asks;

/* prefix: PREFIX/ (the watch's); node: this node's name.  Puts the node's
 * presence key under the lease. */
struct cluster_asks *cluster_asks_new(struct etcd_client *etcd, const char *prefix,
				      const char *node);
void cluster_asks_free(struct cluster_asks *a);
/* A change the watch saw: true when the key was the asks' (a node's
 * presence, or an answer to this node). */
bool cluster_asks_update(struct cluster_asks *a, const struct etcd_kv *kv);
/* The watch reads the whole prefix again: the nodes present are what it
 * reads next. */
void cluster_asks_reset(struct cluster_asks *a);
/* Whether key is a reply key a command may name (PREFIX/replies/...). */
bool cluster_asks_reply_key_ok(const struct cluster_asks *a, const char *key);
/* Asks every other node present to put its listing of connections under a
 * reply key, through a command (cluster.c's COMMAND_TTL, ttl).  NULL when
 * no other node is present (fn is not called then). */
struct nuauth_cluster_ask *cluster_asks_connections(struct cluster_asks *a, unsigned ttl,
						    nuauth_cluster_answers_fn fn, void *ctx);

#endif
