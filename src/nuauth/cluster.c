/* The cluster's session directory (doc/cluster.md).
 *
 * Each node writes its logged-in clients under
 * PREFIX/sessions/NODE/ID (ID: the client's peer id in hex), a JSON
 * record (etcd_json.h: session id, user, address, node, login time,
 * mechanism), under the node's lease: when the node dies, etcd drops them
 * at the lease's end.  Every node watches PREFIX/sessions/ and keeps, in
 * memory, each record and the nodes that hold a client at each address;
 * correlate.c asks that map, never etcd, whether another node owns a
 * packet's source address.  Main loop's thread only; the etcd client's
 * threads (cluster_etcd.c) hand their news over through the main loop. */
#include "config.h"
#include "nuauth.h"

#include <string.h>

#include "log.h"

#ifdef HAVE_CLUSTER
#include "cluster_etcd.h"
#include "etcd_json.h"
#endif

/* One record of the directory. */
struct dir_entry {
	char *key;
	char *node;
	char *user;
	struct in6_addr addr;
};

/* The records at one address. */
struct dir_addr {
	struct in6_addr addr;		/* the key */
	GPtrArray *entries;		/* struct dir_entry *, not owned */
};

struct nuauth_cluster {
	struct nuauth_server *srv;
	char *node;
	char *sessions;			/* PREFIX/sessions/ */
	char *mine;			/* PREFIX/sessions/NODE/ */
	GHashTable *by_key;		/* key -> struct dir_entry */
	GHashTable *by_addr;		/* struct in6_addr -> struct dir_addr */
	GHashTable *others_by_user;	/* user -> other nodes' sessions (count) */
	bool lease_up;
#ifdef HAVE_CLUSTER
	struct etcd_client *etcd;
#endif
};

bool nuauth_cluster_owned_elsewhere(const struct nuauth_cluster *c, const struct in6_addr *addr)
{
	struct dir_addr *da;

	if (!c)
		return false;
	da = g_hash_table_lookup(c->by_addr, addr);
	if (!da)
		return false;
	for (guint i = 0; i < da->entries->len; i++) {
		const struct dir_entry *e = g_ptr_array_index(da->entries, i);

		if (strcmp(e->node, c->node) != 0)
			return true;
	}
	return false;
}

void nuauth_cluster_count_elsewhere(const struct nuauth_cluster *c, const char *user,
				    const struct in6_addr *addr, unsigned *users, unsigned *addrs)
{
	struct dir_addr *da;

	*users = *addrs = 0;
	if (!c)
		return;
	*users = GPOINTER_TO_UINT(g_hash_table_lookup(c->others_by_user, user));
	da = g_hash_table_lookup(c->by_addr, addr);
	/* The user's session at this very address on another node is this
	 * client's before a failover (its node died, its lease has not ended
	 * yet): it counts for neither limit. */
	for (guint i = 0; da && i < da->entries->len; i++) {
		const struct dir_entry *e = g_ptr_array_index(da->entries, i);

		if (strcmp(e->node, c->node) == 0)
			continue;
		if (strcmp(e->user, user) == 0)
			(*users)--;
		else
			(*addrs)++;
	}
}

unsigned nuauth_cluster_sessions(const struct nuauth_cluster *c)
{
	return c ? g_hash_table_size(c->by_key) : 0;
}

bool nuauth_cluster_enabled(const struct nuauth_cluster *c)
{
	return c != NULL;
}

const char *nuauth_cluster_node(const struct nuauth_cluster *c)
{
	return c ? c->node : NULL;
}

void nuauth_cluster_foreach(const struct nuauth_cluster *c, nuauth_cluster_fn fn, void *ctx)
{
	GHashTableIter it;
	struct dir_entry *e;

	if (!c)
		return;
	g_hash_table_iter_init(&it, c->by_key);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&e))
		fn(e->node, e->user, &e->addr, ctx);
}

#ifdef HAVE_CLUSTER

static guint addr_hash(gconstpointer p)
{
	const uint32_t *w = p;

	return w[0] ^ w[1] ^ w[2] ^ (w[3] * 2654435761u);
}

static gboolean addr_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(struct in6_addr)) == 0;
}

static void dir_addr_free(gpointer p)
{
	struct dir_addr *da = p;

	g_ptr_array_free(da->entries, TRUE);
	g_free(da);
}

/* Unlinks e from its address (by_key's value destructor). */
static void dir_entry_free(gpointer p)
{
	struct dir_entry *e = p;

	g_free(e->key);
	g_free(e->node);
	g_free(e->user);
	g_free(e);
}

static void dir_remove(struct nuauth_cluster *c, const char *key)
{
	struct dir_entry *e = g_hash_table_lookup(c->by_key, key);
	struct dir_addr *da;

	if (!e)
		return;
	if (strcmp(e->node, c->node) != 0) {
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(c->others_by_user, e->user));

		if (n > 1)
			g_hash_table_insert(c->others_by_user, g_strdup(e->user),
					    GUINT_TO_POINTER(n - 1));
		else
			g_hash_table_remove(c->others_by_user, e->user);
	}
	da = g_hash_table_lookup(c->by_addr, &e->addr);
	if (da) {
		g_ptr_array_remove_fast(da->entries, e);
		if (da->entries->len == 0)
			g_hash_table_remove(c->by_addr, &da->addr);
	}
	g_hash_table_remove(c->by_key, key);
}

static void dir_add(struct nuauth_cluster *c, const char *key, const char *node,
		    const char *user, const struct in6_addr *addr)
{
	struct dir_entry *e = g_new0(struct dir_entry, 1);
	struct dir_addr *da;

	dir_remove(c, key);
	e->key = g_strdup(key);
	e->node = g_strdup(node);
	e->user = g_strdup(user);
	e->addr = *addr;
	g_hash_table_insert(c->by_key, e->key, e);
	if (strcmp(node, c->node) != 0)
		g_hash_table_insert(c->others_by_user, g_strdup(user),
				    GUINT_TO_POINTER(GPOINTER_TO_UINT(
					g_hash_table_lookup(c->others_by_user, user)) + 1));
	da = g_hash_table_lookup(c->by_addr, addr);
	if (!da) {
		da = g_new0(struct dir_addr, 1);
		da->addr = *addr;
		da->entries = g_ptr_array_new();
		g_hash_table_insert(c->by_addr, &da->addr, da);
	}
	g_ptr_array_add(da->entries, e);
}

static char *session_key(const struct nuauth_cluster *c, nuauth_peer_id id)
{
	return g_strdup_printf("%s%" G_GINT64_MODIFIER "x", c->mine, (guint64)id);
}

void nuauth_cluster_session_up(struct nuauth_cluster *c, const struct nuauth_peer *cl,
			       const char *mechanism, gint64 since)
{
	char addr_text[INET6_ADDRSTRLEN];
	char *key, *id, *value;
	struct etcd_session s;

	if (!c)
		return;
	key = session_key(c, cl->id);
	id = g_strdup_printf("%s/%" G_GINT64_MODIFIER "x", c->node, (guint64)cl->id);
	s = (struct etcd_session){
		.id = id, .user = cl->name,
		.address = (char *)nu_addr_format(&cl->addr, addr_text, sizeof(addr_text)),
		.node = c->node, .mechanism = (char *)mechanism,
		.login_time = since / G_USEC_PER_SEC,
	};
	value = etcd_json_session(&s);
	/* In the map at once: the watch brings it back later. */
	dir_add(c, key, c->node, cl->name, &cl->addr);
	etcd_client_put(c->etcd, key, value, strlen(value));
	g_free(value);
	g_free(id);
	g_free(key);
}

static void on_peer_gone(const struct nuauth_peer *peer, void *ctx)
{
	struct nuauth_cluster *c = ctx;
	char *key;

	if (peer->kind != NUAUTH_PEER_CLIENT)
		return;
	key = session_key(c, peer->id);
	dir_remove(c, key);
	etcd_client_delete(c->etcd, key);
	g_free(key);
}

/* A record from etcd into the map; a bad one is logged and left out. */
static void learn(struct nuauth_cluster *c, const struct etcd_kv *kv)
{
	struct etcd_session s;
	struct in6_addr addr;
	uint8_t family;
	GError *e = NULL;
	gsize len;
	const char *data = g_bytes_get_data(kv->value, &len);

	if (!etcd_json_read_session(data, len, &s, &e) || !nu_addr_parse(s.address, &addr, &family)) {
		log_warnx("cluster: etcd key %s: %s: left out", kv->key,
			  e ? e->message : "not an IP address");
		g_clear_error(&e);
		etcd_session_clear(&s);
		return;
	}
	dir_add(c, kv->key, s.node, s.user, &addr);
	log_info("cluster: user %s at %s on node %s", s.user, s.address, s.node);
	etcd_session_clear(&s);
}

static void on_update(GPtrArray *kvs, bool reset, void *ctx)
{
	struct nuauth_cluster *c = ctx;

	if (reset) {
		/* The node's own records stay: they are put again with each
		 * lease, and its clients are still there. */
		GHashTableIter it;
		struct dir_entry *e;
		GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);

		g_hash_table_iter_init(&it, c->by_key);
		while (g_hash_table_iter_next(&it, NULL, (gpointer *)&e))
			if (strcmp(e->node, c->node) != 0)
				g_ptr_array_add(gone, g_strdup(e->key));
		for (guint i = 0; i < gone->len; i++)
			dir_remove(c, g_ptr_array_index(gone, i));
		g_ptr_array_free(gone, TRUE);
	}
	for (guint i = 0; i < kvs->len; i++) {
		const struct etcd_kv *kv = g_ptr_array_index(kvs, i);

		/* Only other nodes' records: the node's own come from its
		 * own logins, also while etcd is out of reach. */
		if (g_str_has_prefix(kv->key, c->mine))
			continue;
		if (kv->deleted) {
			if (g_hash_table_contains(c->by_key, kv->key))
				log_info("cluster: %s left the directory", kv->key);
			dir_remove(c, kv->key);
		}
		else
			learn(c, kv);
	}
	if (reset)
		log_info("cluster: the directory holds %u session(s) of this and other nodes",
			 g_hash_table_size(c->by_key));
}

static void on_lease(bool up, void *ctx)
{
	struct nuauth_cluster *c = ctx;

	if (up)
		log_notice("cluster: node %s is in the directory", c->node);
	else
		log_warnx("cluster: node %s lost its etcd lease: its sessions are written "
			  "again with a new one", c->node);
	c->lease_up = up;
}

bool nuauth_cluster_start(struct nuauth_server *srv, GError **error)
{
	const struct nuauth_config *cfg = &srv->cfg;
	struct nuauth_cluster *c;
	struct etcd_client_config ec = {
		.endpoints = cfg->cluster_endpoints,
		.ca = cfg->cluster_ca, .cert = cfg->cluster_cert, .key = cfg->cluster_key,
		.user = cfg->cluster_user, .password = cfg->cluster_password,
		.ttl = cfg->cluster_lease_ttl,
	};

	(void)error;
	if (!cfg->cluster_endpoints)
		return true;
	c = g_new0(struct nuauth_cluster, 1);
	c->srv = srv;
	c->node = g_strdup(cfg->cluster_node);
	c->sessions = g_strconcat(cfg->cluster_prefix, "/sessions/", NULL);
	c->mine = g_strconcat(c->sessions, c->node, "/", NULL);
	c->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, dir_entry_free);
	c->by_addr = g_hash_table_new_full(addr_hash, addr_equal, NULL, dir_addr_free);
	c->others_by_user = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	nuauth_peers_subscribe(srv->peers, on_peer_gone, c);
	c->etcd = etcd_client_new(&ec, c->sessions, g_main_context_default(), on_update, on_lease,
				  c);
	srv->cluster = c;
	log_info("cluster: node %s, sessions under %s in etcd (%s)", c->node, c->sessions,
		 cfg->cluster_endpoints[0]);
	return true;
}

void nuauth_cluster_stop(struct nuauth_server *srv)
{
	struct nuauth_cluster *c = srv->cluster;

	if (!c)
		return;
	nuauth_peers_unsubscribe(srv->peers, on_peer_gone, c);
	etcd_client_free(c->etcd);
	g_hash_table_destroy(c->by_addr);
	g_hash_table_destroy(c->by_key);
	g_hash_table_destroy(c->others_by_user);
	g_free(c->node);
	g_free(c->sessions);
	g_free(c->mine);
	g_free(c);
	srv->cluster = NULL;
}

#else	/* !HAVE_CLUSTER: config.c refuses the keys */

void nuauth_cluster_session_up(struct nuauth_cluster *c, const struct nuauth_peer *cl,
			       const char *mechanism, gint64 since)
{
	(void)c;
	(void)cl;
	(void)mechanism;
	(void)since;
}

bool nuauth_cluster_start(struct nuauth_server *srv, GError **error)
{
	(void)srv;
	(void)error;
	return true;
}

void nuauth_cluster_stop(struct nuauth_server *srv)
{
	(void)srv;
}

#endif
