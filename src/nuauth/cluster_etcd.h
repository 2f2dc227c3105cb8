/* nuauth's etcd client (v3 JSON gateway, libcurl + json-glib): a node's
 * keys under a lease it keeps alive, and a watch of one prefix whose
 * changes reach the main loop.  Two threads of its own: nothing on nuauth's
 * main loop waits for etcd (doc/cluster.md). */
#ifndef NUAUTH_CLUSTER_ETCD_H
#define NUAUTH_CLUSTER_ETCD_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

struct etcd_client_config {
	char **endpoints;		/* base URLs: http(s)://HOST:PORT */
	const char *ca, *cert, *key;	/* TLS to etcd (NULL: none / curl's CAs) */
	const char *user, *password;	/* etcd's own authentication (NULL: off) */
	unsigned ttl;			/* the lease's, s */
};

/* Called on the main context: kvs (struct etcd_kv *, etcd_json.h) are
 * changes in etcd's order; reset: they are the whole prefix (after the
 * watch started or started again), forget what was known. */
typedef void (*etcd_update_fn)(GPtrArray *kvs, bool reset, void *ctx);
/* Called on the main context when the lease is granted (up) or lost. */
typedef void (*etcd_lease_fn)(bool up, void *ctx);

struct etcd_client;

/* Starts the threads; they connect in the background (retrying, logged). */
struct etcd_client *etcd_client_new(const struct etcd_client_config *cfg, const char *prefix,
				    GMainContext *main, etcd_update_fn update,
				    etcd_lease_fn lease, void *ctx);
/* key = value under the node's lease: kept, and put again whenever a new
 * lease is granted or a request failed meanwhile. */
void etcd_client_put(struct etcd_client *c, const char *key, const void *value, size_t len);
void etcd_client_delete(struct etcd_client *c, const char *key);
/* Stops the threads and revokes the lease (the node's keys go at once);
 * each request bounded by its time-out. */
void etcd_client_free(struct etcd_client *c);

#endif
