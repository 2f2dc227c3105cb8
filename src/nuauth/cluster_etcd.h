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
/* key = value under a lease of its own of ttl s, put once (not again with
 * a new lease): a command another node deletes once done.  Not sent
 * (logged) while etcd does not answer. */
void etcd_client_put_once(struct etcd_client *c, const char *key, const void *value,
			  size_t len, unsigned ttl);
/* Called on the main context with the slot won (NULL: none; answered:
 * etcd said so, rather than not answering). */
typedef void (*etcd_claim_fn)(const char *slot, bool answered, void *ctx);
/* Takes one of slots (keys, NULL-terminated) for value mine under the
 * node's lease, by transaction: a slot that does not exist, else one whose
 * value is one of takeover (NULL-terminated).  A slot won is kept (taken
 * again with a new lease) until etcd_client_release. */
void etcd_client_claim(struct etcd_client *c, char **slots, char **takeover, const char *mine,
		       etcd_claim_fn fn, void *ctx);
/* Deletes a slot won, if it still holds our value. */
void etcd_client_release(struct etcd_client *c, const char *key);
/* How long (us, at monotonic time now) the request thread has had no
 * answer from etcd; G_MAXINT64 before its first. */
gint64 etcd_client_silence(struct etcd_client *c, gint64 now);
/* The monotonic time the last full read of the prefix was asked (0:
 * none yet): the watch's news after it are complete. */
gint64 etcd_client_snapshot_at(struct etcd_client *c);
/* The watch starts again with a full read (after etcd was lost). */
void etcd_client_restart_watch(struct etcd_client *c);
/* The lease's keep-alive period, us. */
gint64 etcd_client_keepalive_interval(const struct etcd_client_config *cfg);
/* Stops the threads and revokes the lease (the node's keys go at once);
 * each request bounded by its time-out. */
void etcd_client_free(struct etcd_client *c);

#endif
