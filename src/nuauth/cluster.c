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
#include "cluster_ask.h"
#include "cluster_throttle.h"
#include "cluster_etcd.h"
#include "etcd_json.h"
#endif

/* A command's own lease, s: a command its node does not run by then (the
 * node is dead or cut off) goes. */
#define COMMAND_TTL 10
/* A node's answer to "connections", bytes: below etcd's default request
 * limit (1.5 MiB), base64 and JSON around it included. */
#define LISTING_MAX (1024 * 1024)
/* One record of the directory. */
struct dir_entry {
	char *key;
	char *node;
	char *user;
	char *id;			/* NODE/ID */
	char *mechanism;
	gint64 login;			/* Unix time */
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
	/* Partitions: synced while etcd answers and the directory was read
	 * since it last did not (doc/cluster.md, "Partitions"). */
	bool synced;
	gint64 cut_at;			/* when the node saw etcd lost (monotonic) */
	gint64 silence_max;		/* us without an answer: etcd lost */
	guint health_timer;
	/* Commands (PREFIX/commands/NODE/ID) */
	char *root;			/* PREFIX/: what the watch reads */
	char *commands;			/* PREFIX/commands/ */
	char *my_commands;		/* PREFIX/commands/NODE/ */
	GHashTable *done;		/* keys of the commands run, until deleted */
	unsigned command_seq;
	nuauth_cluster_disconnect_fn disconnect;
	nuauth_cluster_listing_fn listing;
#ifdef HAVE_CLUSTER
	struct etcd_client *etcd;
	struct cluster_asks *asks;	/* questions to every node */
	struct cluster_throttle *throttle;	/* failed logins across the nodes */
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

void nuauth_cluster_foreach_other(const struct nuauth_cluster *c, nuauth_cluster_fn fn,
				  void *ctx)
{
	GHashTableIter it;
	struct dir_entry *e;

	if (!c)
		return;
	g_hash_table_iter_init(&it, c->by_key);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&e)) {
		struct nuauth_cluster_session s = {
			.id = e->id, .node = e->node, .user = e->user,
			.mechanism = e->mechanism, .login = e->login, .addr = e->addr,
		};

		if (strcmp(e->node, c->node) != 0)
			fn(&s, ctx);
	}
}

bool nuauth_cluster_synced(const struct nuauth_cluster *c)
{
	return !c || c->synced;
}

bool nuauth_cluster_is_failover(const struct nuauth_cluster *c, const char *user,
				const struct in6_addr *addr)
{
	struct dir_addr *da = c ? g_hash_table_lookup(c->by_addr, addr) : NULL;

	for (guint i = 0; da && i < da->entries->len; i++) {
		const struct dir_entry *e = g_ptr_array_index(da->entries, i);

		if (strcmp(e->node, c->node) != 0 && strcmp(e->user, user) == 0)
			return true;
	}
	return false;
}

char *nuauth_cluster_login_refusal(const struct nuauth_cluster *c, bool limited,
				   const char *user, const struct in6_addr *addr)
{
	enum nuauth_partition_logins mode;

	if (!c || c->synced)
		return NULL;
	mode = c->srv->cfg.cluster_partition_logins;
	/* The client of a session another node held at this address logs in
	 * again (its node died): its count was settled at its first login,
	 * and the limits do not count that session. */
	if (limited && nuauth_cluster_is_failover(c, user, addr))
		limited = false;
	if (mode == NUAUTH_PARTITION_ALLOW || (mode == NUAUTH_PARTITION_LIMITED && !limited))
		return NULL;
	return g_strdup_printf("node %s is cut off from the cluster (etcd): it takes no new %slogin "
			       "until it is back; another node may", c->node,
			       mode == NUAUTH_PARTITION_LIMITED ? "limited " : "");
}

void nuauth_cluster_on_disconnect(struct nuauth_cluster *c, nuauth_cluster_disconnect_fn fn)
{
	if (c)
		c->disconnect = fn;
}

void nuauth_cluster_on_listing(struct nuauth_cluster *c, nuauth_cluster_listing_fn fn)
{
	if (c)
		c->listing = fn;
}

#ifdef HAVE_CLUSTER

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
	g_free(e->id);
	g_free(e->mechanism);
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

static void dir_add(struct nuauth_cluster *c, const char *key, const struct etcd_session *s,
		    const struct in6_addr *addr)
{
	struct dir_entry *e = g_new0(struct dir_entry, 1);
	struct dir_addr *da;
	const char *node = s->node, *user = s->user;

	dir_remove(c, key);
	e->key = g_strdup(key);
	e->node = g_strdup(node);
	e->user = g_strdup(user);
	e->id = g_strdup(s->id);
	e->mechanism = g_strdup(s->mechanism);
	e->login = s->login_time;
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
	dir_add(c, key, &s, &cl->addr);
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
	dir_add(c, kv->key, &s, &addr);
	log_info("cluster: user %s at %s on node %s", s.user, s.address, s.node);
	etcd_session_clear(&s);
}

/* A command to this node (PREFIX/commands/NODE/ID): run once, then
 * deleted. */
static void run_command(struct nuauth_cluster *c, const struct etcd_kv *kv)
{
	struct etcd_command cmd;
	GError *e = NULL;
	gsize len;
	const char *data = g_bytes_get_data(kv->value, &len);

	if (g_hash_table_contains(c->done, kv->key))
		return;		/* seen again by a new read of the prefix */
	g_hash_table_add(c->done, g_strdup(kv->key));
	if (!etcd_json_read_command(data, len, &cmd, &e)) {
		log_warnx("cluster: etcd key %s: %s: not run", kv->key, e->message);
		g_error_free(e);
	}
	else if (strcmp(cmd.command, "disconnect") == 0 && c->disconnect) {
		char *why = g_strdup_printf("disconnected by the administrator (from node %s)",
					    cmd.from);
		unsigned sessions = 0;
		unsigned conns = c->disconnect(c->srv, cmd.user, why, &sessions);

		log_notice("cluster: node %s asks to disconnect user %s: %u session(s) closed, "
			   "%u connection(s) ended", cmd.from, cmd.user, sessions, conns);
		g_free(why);
	}
	else if (strcmp(cmd.command, "connections") == 0 && c->listing &&
		 !cluster_asks_reply_key_ok(c->asks, cmd.reply))
		log_warnx("cluster: etcd key %s: a reply key outside the replies (%s): not run",
			  kv->key, cmd.reply);
	else if (strcmp(cmd.command, "connections") == 0 && c->listing) {
		char *listing = c->listing(c->srv, LISTING_MAX);
		size_t n = strlen(listing);

		etcd_client_put_once(c->etcd, cmd.reply, listing, n, COMMAND_TTL);
		log_info("cluster: node %s asks for the connections: answered (%zu bytes)",
			 cmd.from, n);
		g_free(listing);
	}
	else
		log_warnx("cluster: etcd key %s: unknown command `%s' (from node %s): not run",
			  kv->key, cmd.command, cmd.from);
	etcd_command_clear(&cmd);
	etcd_client_delete(c->etcd, kv->key);
}

static void on_update(GPtrArray *kvs, bool reset, void *ctx)
{
	struct nuauth_cluster *c = ctx;

	if (reset) {
		/* A command deleted while the watch was away is forgotten. */
		GHashTable *present = g_hash_table_new(g_str_hash, g_str_equal);
		GHashTableIter dit;
		gpointer key;

		for (guint i = 0; i < kvs->len; i++)
			g_hash_table_add(present, ((struct etcd_kv *)g_ptr_array_index(kvs, i))->key);
		g_hash_table_iter_init(&dit, c->done);
		while (g_hash_table_iter_next(&dit, &key, NULL))
			if (!g_hash_table_contains(present, key))
				g_hash_table_iter_remove(&dit);
		g_hash_table_destroy(present);
	}
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
		/* The other nodes' failed logins and presence: all of them
		 * follow. */
		cluster_throttle_reset(c->throttle);
		cluster_asks_reset(c->asks);
	}
	for (guint i = 0; i < kvs->len; i++) {
		const struct etcd_kv *kv = g_ptr_array_index(kvs, i);

		if (cluster_asks_update(c->asks, kv))
			continue;
		if (g_str_has_prefix(kv->key, c->my_commands)) {
			if (kv->deleted)
				g_hash_table_remove(c->done, kv->key);
			else
				run_command(c, kv);
			continue;
		}
		if (cluster_throttle_update(c->throttle, kv))
			continue;
		/* Only other nodes' records: the node's own come from its
		 * own logins, also while etcd is out of reach. */
		if (!g_str_has_prefix(kv->key, c->sessions) || g_str_has_prefix(kv->key, c->mine))
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

/* Every 200 ms: is etcd still there?  Lost when the request thread had no
 * answer for two keep-alive periods (before etcd itself lets the lease
 * go), or the lease is gone; back once etcd answers, the lease is up and
 * the prefix was read again after the loss (the directory is whole). */
static gboolean health_tick(gpointer p)
{
	struct nuauth_cluster *c = p;
	gint64 now = g_get_monotonic_time();
	gint64 silence = etcd_client_silence(c->etcd, now);
	bool answers = silence <= c->silence_max && c->lease_up;
	static const char *const modes[] = {
		[NUAUTH_PARTITION_REFUSE] = "no new login is taken",
		[NUAUTH_PARTITION_LIMITED] = "new logins under a cluster-wide limit are refused",
		[NUAUTH_PARTITION_ALLOW] = "new logins are still taken "
					   "(nuauth_cluster_partition_logins=allow)",
	};

	if (c->synced && !answers) {
		c->synced = false;
		c->cut_at = now;
		if (silence <= c->silence_max)
			log_warnx("cluster: node %s lost etcd (its lease is gone): it decides for "
				  "the clients it holds; %s until etcd is back", c->node,
				  modes[c->srv->cfg.cluster_partition_logins]);
		else
			log_warnx("cluster: node %s is cut off from etcd (no answer for %"
				  G_GINT64_FORMAT " ms): it decides for the clients it holds; %s "
				  "until etcd is back", c->node, silence / 1000,
				  modes[c->srv->cfg.cluster_partition_logins]);
		etcd_client_restart_watch(c->etcd);
	}
	else if (!c->synced && answers && etcd_client_snapshot_at(c->etcd) > c->cut_at) {
		c->synced = true;
		if (c->cut_at)
			log_notice("cluster: node %s reaches etcd again after %" G_GINT64_FORMAT
				   " ms, its directory read again: new logins are taken", c->node,
				   (now - c->cut_at) / 1000);
		else
			log_info("cluster: node %s is in sync with etcd: logins are taken", c->node);
	}
	cluster_throttle_tick(c->throttle, now);
	return G_SOURCE_CONTINUE;
}

/* ---- the single-login limit by transaction ---- */

struct nuauth_cluster_claim {
	struct nuauth_cluster *c;
	nuauth_cluster_claim_fn fn;
	void *ctx;
	bool cancelled;
};

/* A slot's value: who holds it (a session of user at addr on node). */
static char *slot_value(const char *node, const char *user, const struct in6_addr *addr)
{
	char text[INET6_ADDRSTRLEN];

	return g_strdup_printf("%s\n%s\n%s", node, user, nu_addr_format(addr, text, sizeof(text)));
}

static void claim_done(const char *slot, bool answered, void *ctx)
{
	struct nuauth_cluster_claim *cl = ctx;

	if (cl->cancelled) {
		if (slot)
			etcd_client_release(cl->c->etcd, slot);
	}
	else
		cl->fn(slot, slot ? NULL : answered ? "" : "etcd did not answer", cl->ctx);
	g_free(cl);
}

struct nuauth_cluster_claim *nuauth_cluster_claim_login(struct nuauth_cluster *c,
							const char *user,
							const struct in6_addr *addr,
							unsigned limit,
							nuauth_cluster_claim_fn fn, void *ctx)
{
	struct nuauth_cluster_claim *cl;
	GPtrArray *slots, *takeover;
	char *escaped, *mine;
	GHashTableIter it;
	struct dir_entry *e;

	if (!c || limit == 0 || limit > NUAUTH_CLUSTER_SLOTS_MAX)
		return NULL;
	cl = g_new0(struct nuauth_cluster_claim, 1);
	cl->c = c;
	cl->fn = fn;
	cl->ctx = ctx;
	escaped = g_uri_escape_string(user, NULL, FALSE);
	slots = g_ptr_array_new_with_free_func(g_free);
	for (unsigned i = 0; i < limit; i++)
		g_ptr_array_add(slots, g_strdup_printf("%slimits/user/%s/%u", c->root, escaped, i));
	g_ptr_array_add(slots, NULL);
	/* The user's own sessions at this address on other nodes: a client
	 * failing over from a dead node takes its slot over. */
	takeover = g_ptr_array_new_with_free_func(g_free);
	g_hash_table_iter_init(&it, c->by_key);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&e))
		if (strcmp(e->node, c->node) != 0 && strcmp(e->user, user) == 0 &&
		    memcmp(&e->addr, addr, sizeof(*addr)) == 0)
			g_ptr_array_add(takeover, slot_value(e->node, user, addr));
	g_ptr_array_add(takeover, NULL);
	mine = slot_value(c->node, user, addr);
	etcd_client_claim(c->etcd, (char **)slots->pdata, (char **)takeover->pdata, mine,
			  claim_done, cl);
	g_free(mine);
	g_free(escaped);
	g_ptr_array_free(slots, TRUE);
	g_ptr_array_free(takeover, TRUE);
	return cl;
}

void nuauth_cluster_claim_cancel(struct nuauth_cluster_claim *cl)
{
	if (cl)
		cl->cancelled = true;
}

void nuauth_cluster_release(struct nuauth_cluster *c, const char *slot)
{
	if (c && slot)
		etcd_client_release(c->etcd, slot);
}

char **nuauth_cluster_disconnect(struct nuauth_cluster *c, const char *user)
{
	GPtrArray *nodes = g_ptr_array_new();
	GHashTableIter it;
	struct dir_entry *e;

	if (!c) {
		g_ptr_array_add(nodes, NULL);
		return (char **)g_ptr_array_free(nodes, FALSE);
	}
	g_hash_table_iter_init(&it, c->by_key);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&e)) {
		bool seen = false;

		if (strcmp(e->user, user) != 0 || strcmp(e->node, c->node) == 0)
			continue;
		for (guint i = 0; i < nodes->len; i++)
			seen = seen || strcmp(g_ptr_array_index(nodes, i), e->node) == 0;
		if (!seen)
			g_ptr_array_add(nodes, g_strdup(e->node));
	}
	for (guint i = 0; i < nodes->len; i++) {
		struct etcd_command cmd = { .command = "disconnect", .user = (char *)user,
					    .from = c->node };
		char *value = etcd_json_command(&cmd);
		char *key = g_strdup_printf("%s%s/%s-%" G_GINT64_MODIFIER "x-%u", c->commands,
					    (char *)g_ptr_array_index(nodes, i), c->node,
					    (guint64)g_get_real_time(), ++c->command_seq);

		etcd_client_put_once(c->etcd, key, value, strlen(value), COMMAND_TTL);
		log_info("cluster: asks node %s to disconnect user %s (%s)",
			 (char *)g_ptr_array_index(nodes, i), user, key);
		g_free(key);
		g_free(value);
	}
	g_ptr_array_add(nodes, NULL);
	return (char **)g_ptr_array_free(nodes, FALSE);
}

struct nuauth_cluster_ask *nuauth_cluster_ask_connections(struct nuauth_cluster *c,
							  nuauth_cluster_answers_fn fn, void *ctx)
{
	return c ? cluster_asks_connections(c->asks, COMMAND_TTL, fn, ctx) : NULL;
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
	c->root = g_strconcat(cfg->cluster_prefix, "/", NULL);
	c->sessions = g_strconcat(cfg->cluster_prefix, "/sessions/", NULL);
	c->mine = g_strconcat(c->sessions, c->node, "/", NULL);
	c->commands = g_strconcat(cfg->cluster_prefix, "/commands/", NULL);
	c->my_commands = g_strconcat(c->commands, c->node, "/", NULL);
	c->done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	c->silence_max = 2 * etcd_client_keepalive_interval(&ec);
	c->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, dir_entry_free);
	c->by_addr = g_hash_table_new_full(nuauth_addr_hash, nuauth_addr_equal, NULL, dir_addr_free);
	c->others_by_user = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	nuauth_peers_subscribe(srv->peers, on_peer_gone, c);
	c->etcd = etcd_client_new(&ec, c->root, g_main_context_default(), on_update, on_lease,
				  c);
	c->asks = cluster_asks_new(c->etcd, c->root, c->node);
	c->health_timer = g_timeout_add(200, health_tick, c);
	c->throttle = cluster_throttle_new(srv, c->etcd, c->root, c->node,
					   cfg->cluster_throttle_secret);
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
	g_source_remove(c->health_timer);
	cluster_asks_free(c->asks);
	cluster_throttle_free(c->throttle);
	etcd_client_free(c->etcd);
	g_hash_table_destroy(c->done);
	g_free(c->root);
	g_free(c->commands);
	g_free(c->my_commands);
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

char **nuauth_cluster_disconnect(struct nuauth_cluster *c, const char *user)
{
	(void)c;
	(void)user;
	return g_new0(char *, 1);
}

struct nuauth_cluster_claim *nuauth_cluster_claim_login(struct nuauth_cluster *c,
							const char *user,
							const struct in6_addr *addr,
							unsigned limit,
							nuauth_cluster_claim_fn fn, void *ctx)
{
	(void)c, (void)user, (void)addr, (void)limit, (void)fn, (void)ctx;
	return NULL;
}

void nuauth_cluster_claim_cancel(struct nuauth_cluster_claim *cl)
{
	(void)cl;
}

void nuauth_cluster_release(struct nuauth_cluster *c, const char *slot)
{
	(void)c, (void)slot;
}

struct nuauth_cluster_ask *nuauth_cluster_ask_connections(struct nuauth_cluster *c,
							  nuauth_cluster_answers_fn fn, void *ctx)
{
	(void)c, (void)fn, (void)ctx;
	return NULL;
}

void nuauth_cluster_ask_cancel(struct nuauth_cluster_ask *q)
{
	(void)q;
}

#endif
