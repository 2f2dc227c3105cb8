/* nuauth's session directory (src/nuauth/cluster.c) with its floor
 * (peers.c) and etcd_json.c, against a fake etcd client: what a login
 * writes and a logout n_deletes, and the map the watch's news build: which
 * addresses another node holds, the limits' counts, a reset that keeps the
 * node's own sessions. */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <arpa/inet.h>

#include "nuauth.h"
#include "cluster_etcd.h"
#include "etcd_json.h"
#include "unit.h"

/* ---- the fake etcd client ---- */

static etcd_update_fn fake_update;
static etcd_lease_fn fake_lease;
static void *fake_ctx;
static GHashTable *stored;		/* key -> value (string): what was put */
static unsigned n_puts, n_deletes;

struct etcd_client *etcd_client_new(const struct etcd_client_config *cfg, const char *prefix,
				    GMainContext *main, etcd_update_fn update,
				    etcd_lease_fn lease, void *ctx)
{
	(void)main;
	CHECK(strcmp(prefix, "/lab/sessions/") == 0);
	CHECK(cfg->ttl == 4 && g_strv_length(cfg->endpoints) == 2);
	fake_update = update;
	fake_lease = lease;
	fake_ctx = ctx;
	return (struct etcd_client *)&fake_ctx;
}

void etcd_client_put(struct etcd_client *c, const char *key, const void *value, size_t len)
{
	(void)c;
	n_puts++;
	g_hash_table_replace(stored, g_strdup(key), g_strndup(value, len));
}

void etcd_client_delete(struct etcd_client *c, const char *key)
{
	(void)c;
	n_deletes++;
	CHECK(g_hash_table_remove(stored, key));
}

void etcd_client_free(struct etcd_client *c)
{
	(void)c;
}

/* ---- helpers ---- */

static struct nuauth_server srv;

static struct in6_addr addr(const char *text)
{
	struct in6_addr a;

	nu_addr_from_v4(&a, inet_addr(text));
	return a;
}

/* kvs as the watch hands them: (key, JSON record or NULL for a delete)... */
static void feed(bool reset, ...)
{
	GPtrArray *kvs = g_ptr_array_new_with_free_func(etcd_kv_free);
	va_list ap;
	const char *key;

	va_start(ap, reset);
	while ((key = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		struct etcd_kv *kv = g_new0(struct etcd_kv, 1);

		kv->key = g_strdup(key);
		kv->deleted = value == NULL;
		kv->value = g_bytes_new(value ? value : "", value ? strlen(value) : 0);
		g_ptr_array_add(kvs, kv);
	}
	va_end(ap);
	fake_update(kvs, reset, fake_ctx);
	g_ptr_array_unref(kvs);
}

static char *record(const char *user, const char *address, const char *node)
{
	struct etcd_session s = { .id = "x", .user = (char *)user, .address = (char *)address,
				  .node = (char *)node, .mechanism = "PLAIN", .login_time = 1 };

	return etcd_json_session(&s);
}

static bool counts(const char *user, const char *address, unsigned want_users,
		   unsigned want_addrs)
{
	struct in6_addr a = addr(address);
	unsigned u, n;

	nuauth_cluster_count_elsewhere(srv.cluster, user, &a, &u, &n);
	if (u == want_users && n == want_addrs)
		return true;
	fprintf(stderr, "%s at %s: %u user(s), %u at the address; wanted %u, %u\n", user,
		address, u, n, want_users, want_addrs);
	return false;
}

static void test_cluster(void)
{
	struct in6_addr desk = addr("10.201.0.2"), other = addr("10.201.0.3");
	static const struct nuauth_peer_ops ops = { 0 };
	struct nuauth_peer *carol;
	char *rb = record("bob", "10.201.0.2", "b"), *rd = record("dave", "10.201.0.3", "b");
	char *bad = g_strdup("{\"user\":\"x\"}");
	char *value;

	CHECK(nuauth_cluster_start(&srv, NULL) && srv.cluster);
	CHECK(nuauth_cluster_enabled(srv.cluster));
	CHECK(strcmp(nuauth_cluster_node(srv.cluster), "a") == 0);
	/* carol logs in here: her record goes to etcd, under this node */
	carol = nuauth_peers_add(srv.peers, NUAUTH_PEER_CLIENT, &desk, "carol", &ops, NULL);
	nuauth_cluster_session_up(srv.cluster, carol, "SCRAM-SHA-256", 1796000000LL * G_USEC_PER_SEC);
	CHECK(n_puts == 1 && g_hash_table_size(stored) == 1);
	{
		GHashTableIter it;
		gpointer k, v;
		struct etcd_session s;

		g_hash_table_iter_init(&it, stored);
		CHECK(g_hash_table_iter_next(&it, &k, &v));
		CHECK(g_str_has_prefix(k, "/lab/sessions/a/"));
		value = g_strdup(v);
		CHECK(etcd_json_read_session(v, strlen(v), &s, NULL));
		CHECK(strcmp(s.user, "carol") == 0 && strcmp(s.address, "10.201.0.2") == 0 &&
		      strcmp(s.node, "a") == 0 && strcmp(s.mechanism, "SCRAM-SHA-256") == 0 &&
		      s.login_time == 1796000000);
		etcd_session_clear(&s);
	}
	/* this node's own session is not "elsewhere" */
	CHECK(!nuauth_cluster_owned_elsewhere(srv.cluster, &desk));
	CHECK(nuauth_cluster_sessions(srv.cluster) == 1);
	/* the watch's first snapshot: bob and dave on node b, a bad record,
	 * and carol's own record (ignored: the node knows its own) */
	feed(true, "/lab/sessions/b/1", rb, "/lab/sessions/b/2", rd, "/lab/sessions/b/3", bad,
	     "/lab/sessions/a/ffff", value, NULL);
	CHECK(nuauth_cluster_sessions(srv.cluster) == 3);
	CHECK(nuauth_cluster_owned_elsewhere(srv.cluster, &desk));
	CHECK(nuauth_cluster_owned_elsewhere(srv.cluster, &other));
	CHECK(counts("bob", "10.201.0.9", 1, 0));	/* bob elsewhere: counts */
	CHECK(counts("bob", "10.201.0.2", 0, 0));	/* bob at his address: a failover */
	CHECK(counts("carol", "10.201.0.2", 0, 1));	/* bob's session at her address */
	CHECK(counts("dave", "10.201.0.2", 1, 1));
	/* dave logs out on node b */
	feed(false, "/lab/sessions/b/2", NULL, NULL);
	CHECK(!nuauth_cluster_owned_elsewhere(srv.cluster, &other));
	CHECK(counts("dave", "10.201.0.3", 0, 0));
	/* the watch starts again: a new snapshot replaces the other nodes'
	 * records (bob is gone), never this node's */
	feed(true, "/lab/sessions/b/7", rd, NULL);
	CHECK(!nuauth_cluster_owned_elsewhere(srv.cluster, &desk));
	CHECK(nuauth_cluster_owned_elsewhere(srv.cluster, &other));
	CHECK(nuauth_cluster_sessions(srv.cluster) == 2);
	/* carol's link closes: her record is deleted */
	nuauth_peers_remove(srv.peers, carol->id);
	CHECK(n_deletes == 1 && g_hash_table_size(stored) == 0);
	CHECK(nuauth_cluster_sessions(srv.cluster) == 1);
	fake_lease(false, fake_ctx);
	fake_lease(true, fake_ctx);
	nuauth_cluster_stop(&srv);
	CHECK(srv.cluster == NULL);
	/* no cluster: nothing is elsewhere */
	CHECK(!nuauth_cluster_owned_elsewhere(NULL, &desk));
	CHECK(!nuauth_cluster_enabled(NULL));
	g_free(rb);
	g_free(rd);
	g_free(bad);
	g_free(value);
}

int main(void)
{
	char *endpoints[] = { "http://127.0.0.1:1", "http://127.0.0.1:2", NULL };

	stored = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	srv.peers = nuauth_peers_new();
	srv.cfg.cluster_endpoints = endpoints;
	srv.cfg.cluster_node = "a";
	srv.cfg.cluster_prefix = "/lab";
	srv.cfg.cluster_lease_ttl = 4;
	test_cluster();
	nuauth_peers_free(srv.peers);
	g_hash_table_destroy(stored);
	return unit_done("cluster");
}
