/* IP authentication: a packet from a host where no client is logged in
 * gets its user from the address's session (ipsession.c: RADIUS, the login
 * page, an administrator) or, under nuauth_do_ip_authentication, from the
 * ip_authentication modules (on the main thread: they answer from the
 * packet alone); a packet every client at its address disowned, from the
 * address's session only (correlate.c).  Then that user's uid and groups
 * come from the get_user_groups modules (those of the clients' logins), and
 * that user's uid and groups from the get_user_groups modules, which may
 * ask a directory.  So the answers are cached per user name for
 * nuauth_user_groups_cache_ttl seconds, and a miss is looked up on the
 * worker pool while its packets wait here (one look-up per name at a time;
 * later packets for the same name join it).  When the groups arrive, the
 * packets are decided (answer.c).  A reload empties the cache; a gateway's
 * end (peers.h) forgets its packets. */
#include "config.h"
#include "nuauth.h"

#include <string.h>

#include "log.h"

/* Names cached at most: ipauth_guest names one user; a module naming one
 * user per host still fits. */
#define CACHE_MAX 4096

struct nuauth_ipauth {
	struct nuauth_server *srv;
	GHashTable *cache;		/* name -> struct cached */
	GHashTable *lookups;		/* name -> struct lookup, in flight */
	unsigned generation;		/* bumped by each flush */
};

struct cached {
	enum nuauth_user_status status;	/* OK or UNKNOWN (errors are not kept) */
	uint32_t uid;
	GArray *groups;			/* guint32 */
	gint64 expires;			/* monotonic, us */
};

struct held_packet {
	nuauth_peer_id gw;
	struct nu_packet_ask ask;
	gint64 arrived;			/* g_get_monotonic_time() */
	const char *origin;		/* nuauth_origin() */
};

/* A get_user_groups look-up on the pool. */
struct lookup {
	struct nuauth_ipauth *ia;
	char *name;
	struct nuauth_modules *mods;	/* a reference, for the worker */
	unsigned generation;		/* the cache's when it started */
	GArray *packets;		/* struct held_packet, waiting for it */
	/* results, written on the worker */
	enum nuauth_user_status status;
	uint32_t uid;
	GArray *groups;
};

static void on_peer_gone(const struct nuauth_peer *peer, void *ctx);

static void cached_free(gpointer p)
{
	struct cached *c = p;

	g_array_unref(c->groups);
	g_free(c);
}

struct nuauth_ipauth *nuauth_ipauth_new(struct nuauth_server *srv)
{
	struct nuauth_ipauth *ia = g_new0(struct nuauth_ipauth, 1);

	ia->srv = srv;
	ia->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cached_free);
	ia->lookups = g_hash_table_new(g_str_hash, g_str_equal);
	nuauth_peers_subscribe(srv->peers, on_peer_gone, ia);
	return ia;
}

/* At exit, after the pool has run every job's done(): no look-up is left. */
void nuauth_ipauth_free(struct nuauth_ipauth *ia)
{
	if (!ia)
		return;
	nuauth_peers_unsubscribe(ia->srv->peers, on_peer_gone, ia);
	g_hash_table_destroy(ia->cache);
	g_hash_table_destroy(ia->lookups);
	g_free(ia);
}

void nuauth_ipauth_flush(struct nuauth_ipauth *ia)
{
	if (!ia)
		return;
	g_hash_table_remove_all(ia->cache);
	ia->generation++;
}

static void cache_store(struct nuauth_ipauth *ia, const struct lookup *lk)
{
	unsigned ttl = ia->srv->cfg.user_groups_cache_ttl;
	gint64 now = g_get_monotonic_time();
	struct cached *c;

	if (!ttl || lk->generation != ia->generation ||
	    (lk->status != NUAUTH_USER_OK && lk->status != NUAUTH_USER_UNKNOWN))
		return;
	if (g_hash_table_size(ia->cache) >= CACHE_MAX) {
		GHashTableIter it;

		g_hash_table_iter_init(&it, ia->cache);
		while (g_hash_table_iter_next(&it, NULL, (gpointer *)&c))
			if (c->expires <= now)
				g_hash_table_iter_remove(&it);
		if (g_hash_table_size(ia->cache) >= CACHE_MAX)
			g_hash_table_remove_all(ia->cache);
	}
	c = g_new0(struct cached, 1);
	c->status = lk->status;
	c->uid = lk->uid;
	c->groups = g_array_ref(lk->groups);
	c->expires = now + (gint64)ttl * G_USEC_PER_SEC;
	g_hash_table_replace(ia->cache, g_strdup(lk->name), c);
}

static void lookup_work(void *data)
{
	struct lookup *lk = data;

	lk->status = nuauth_user_groups(lk->mods, lk->name, &lk->uid, lk->groups);
}

static void lookup_done(void *data)
{
	struct lookup *lk = data;
	struct nuauth_ipauth *ia = lk->ia;

	g_hash_table_remove(ia->lookups, lk->name);
	cache_store(ia, lk);
	for (guint i = 0; i < lk->packets->len; i++) {
		struct held_packet *p = &g_array_index(lk->packets, struct held_packet, i);

		nuauth_answer_ip(ia->srv, p->gw, &p->ask, lk->name, p->origin, lk->status,
				 lk->uid, lk->groups, p->arrived);
	}
	nuauth_modules_unref(lk->mods);
	g_array_unref(lk->packets);
	g_array_unref(lk->groups);
	g_free(lk->name);
	g_free(lk);
}

bool nuauth_ipauth_packet(struct nuauth_ipauth *ia, nuauth_peer_id gw_id,
			  const struct nu_packet_ask *ask, bool session_only)
{
	const struct nuauth_peer *gw = nuauth_peers_get(ia->srv->peers, gw_id);
	struct nuauth_packet pkt = { .flow = ask->flow, .mark = ask->mark,
				     .icmp_type = ask->icmp_type, .indev = ask->indev,
				     .outdev = ask->outdev, .physindev = ask->physindev,
				     .physoutdev = ask->physoutdev, .app = "", .os_sysname = "",
				     .os_release = "", .os_version = "",
				     .gateway = gw->name };
	char name[NU_NAME_MAX] = "";
	struct held_packet held = { .gw = gw->id, .ask = *ask,
				    .arrived = g_get_monotonic_time() };
	const struct nuauth_ipsession *ses =
		nuauth_ipsession_use_mac(ia->srv->ipsessions, &ask->flow.saddr,
					 ask->has_src_mac ? ask->src_mac : NULL);
	struct cached *c;
	struct lookup *lk;

	/* An address session (ipsession.c) names the user first; then the
	 * ip_authentication modules, under nuauth_do_ip_authentication. */
	if (ses) {
		g_strlcpy(name, ses->user, sizeof(name));
		held.origin = ses->origin;
	} else if (!session_only && ia->srv->cfg.do_ip_authentication &&
		   nuauth_hooks_ip_user(ia->srv->modules, &pkt, name, sizeof(name))) {
		held.origin = nuauth_origin("ipauth");
	} else {
		return false;
	}
	c = g_hash_table_lookup(ia->cache, name);
	if (c && c->expires > g_get_monotonic_time()) {
		nuauth_answer_ip(ia->srv, gw->id, ask, name, held.origin, c->status, c->uid,
				 c->groups, held.arrived);
		return true;
	}
	if (c)
		g_hash_table_remove(ia->cache, name);
	lk = g_hash_table_lookup(ia->lookups, name);
	if (lk) {
		g_array_append_val(lk->packets, held);
		return true;
	}
	lk = g_new0(struct lookup, 1);
	lk->ia = ia;
	lk->name = g_strdup(name);
	lk->mods = nuauth_modules_ref(ia->srv->modules);
	lk->generation = ia->generation;
	lk->packets = g_array_new(FALSE, FALSE, sizeof(struct held_packet));
	lk->groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	lk->status = NUAUTH_USER_ERROR;
	g_array_append_val(lk->packets, held);
	g_hash_table_insert(ia->lookups, lk->name, lk);
	log_debug("groups of ip-authenticated user %s: looking them up", name);
	nuauth_workers_submit(ia->srv->workers, lookup_work, lookup_done, lk);
	return true;
}

bool nuauth_ipauth_cached(const struct nuauth_ipauth *ia, const char *name, uint32_t *uid,
			  const GArray **groups)
{
	const struct cached *c = g_hash_table_lookup(ia->cache, name);

	if (!c || c->status != NUAUTH_USER_OK || c->expires <= g_get_monotonic_time())
		return false;
	*uid = c->uid;
	*groups = c->groups;
	return true;
}

/* A gateway's link is gone (peers.h): its packets waiting for groups are
 * forgotten. */
static void on_peer_gone(const struct nuauth_peer *peer, void *ctx)
{
	struct nuauth_ipauth *ia = ctx;
	nuauth_peer_id gw = peer->id;
	GHashTableIter it;
	struct lookup *lk;

	if (peer->kind != NUAUTH_PEER_GATEWAY)
		return;
	g_hash_table_iter_init(&it, ia->lookups);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&lk))
		for (guint i = lk->packets->len; i-- > 0;)
			if (g_array_index(lk->packets, struct held_packet, i).gw == gw)
				g_array_remove_index(lk->packets, i);
}

unsigned nuauth_ipauth_waiting(const struct nuauth_ipauth *ia)
{
	GHashTableIter it;
	struct lookup *lk;
	unsigned n = 0;

	g_hash_table_iter_init(&it, ia->lookups);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&lk))
		n += lk->packets->len;
	return n;
}
