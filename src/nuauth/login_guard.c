/* Failed-login rate limiting (login_guard.h), and how nuauth uses it: one
 * table of failures for addresses ("ip:ADDR"), a name from an address
 * ("pair:ADDR NAME") and names ("user:NAME"), one of the (address, name)
 * pairs that logged in lately; on the monotonic clock. */
#include "config.h"
#include "login_guard.h"

#include <string.h>
#include <glib.h>

#include "nuauth.h"
#include "log.h"

#define GUARD_MAX_ENTRIES 65536
#define GUARD_MAX_DOUBLINGS 6

struct entry {
	char *key;
	char *id;		/* when shared: the key's id */
	GList link;		/* in g->order; data is the entry */
	int64_t window_start;
	unsigned failures;	/* within the window */
	int64_t locked_until;	/* 0: never locked */
	unsigned last_lock;	/* length of the last lock, s */
	int64_t spent;		/* failures before it are spent (by a lock that
				 * began, or a good login) */
};

/* An (address, name) pair that logged in. */
struct known {
	char *key;
	char *id;		/* when shared: "known:KEY"'s id */
	GList link;		/* in g->known_order; data is the entry */
	int64_t until;
};

struct nu_login_guard {
	struct nu_login_guard_params p;
	GHashTable *entries;	/* key -> struct entry (owned) */
	GQueue order;		/* least recently touched first */
	GHashTable *known;	/* "ADDR NAME" -> struct known (owned) */
	GQueue known_order;	/* soonest to expire first */
	/* Sharing across a cluster (nu_login_guard_share) */
	bool sharing;
	char *secret;
	GHashTable *changed;	/* id -> "e:KEY" or "k:KEY": the node's to hand */
	GHashTable *handed;	/* ids handed and not gone since */
	GHashTable *others;	/* id -> GArray of struct other: entries */
	GHashTable *others_known;	/* id -> GArray of struct other: pairs */
	GHashTable *by_id;	/* id -> struct entry (the node's, not owned) */
};

/* Another node's record of one id. */
struct other {
	const char *node;	/* interned */
	unsigned failures;
	int64_t window_start, locked_until;
	unsigned lock;
	int64_t spent;
	int64_t until;		/* a known pair's */
};

static void entry_free(void *data)
{
	struct entry *e = data;

	g_free(e->key);
	g_free(e->id);
	g_free(e);
}

static void known_free(void *data)
{
	struct known *k = data;

	g_free(k->key);
	g_free(k->id);
	g_free(k);
}

struct nu_login_guard *nu_login_guard_new(const struct nu_login_guard_params *p)
{
	struct nu_login_guard *g = g_new0(struct nu_login_guard, 1);

	g->p = *p;
	g->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
	g_queue_init(&g->order);
	g->known = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, known_free);
	g_queue_init(&g->known_order);
	return g;
}

void nu_login_guard_free(struct nu_login_guard *g)
{
	if (!g)
		return;
	g_hash_table_destroy(g->entries);
	g_hash_table_destroy(g->known);
	if (g->sharing) {
		g_hash_table_destroy(g->changed);
		g_hash_table_destroy(g->handed);
		g_hash_table_destroy(g->others);
		g_hash_table_destroy(g->others_known);
		g_hash_table_destroy(g->by_id);
		g_free(g->secret);
	}
	g_free(g);
}

void nu_login_guard_set_params(struct nu_login_guard *g, const struct nu_login_guard_params *p)
{
	g->p = *p;
}

/* An entry is forgotten once its window has passed and, after a lock, once
 * it has been quiet for as long as that lock lasted (until then the next
 * lock doubles). */
static bool expired(const struct nu_login_guard *g, const struct entry *e, int64_t now)
{
	if (now < e->window_start + g->p.window_s)
		return false;
	return !e->locked_until || now >= e->locked_until + e->last_lock;
}

/* The node's record of id changed (tagged: "e:KEY" or "k:KEY"). */
static void mark(struct nu_login_guard *g, const char *id, char tag, const char *key)
{
	if (g->sharing && id)
		g_hash_table_replace(g->changed, g_strdup(id), g_strdup_printf("%c:%s", tag, key));
}

static void drop(struct nu_login_guard *g, struct entry *e)
{
	mark(g, e->id, 'e', e->key);
	if (e->id)
		g_hash_table_remove(g->by_id, e->id);
	g_queue_unlink(&g->order, &e->link);
	g_hash_table_remove(g->entries, e->key);
}

/* Forgets the quiet entries at the old end of the table. */
static void expire(struct nu_login_guard *g, int64_t now)
{
	struct entry *e;

	while (g->order.head && expired(g, (e = g->order.head->data), now))
		drop(g, e);
}

static struct entry *find(struct nu_login_guard *g, const char *key, int64_t now)
{
	struct entry *e = g_hash_table_lookup(g->entries, key);

	if (e && expired(g, e, now)) {
		drop(g, e);
		e = NULL;
	}
	return e;
}

/* The other nodes' records of id (NULL: none). */
static GArray *others_of(GHashTable *t, const char *id)
{
	return id ? g_hash_table_lookup(t, id) : NULL;
}

/* The latest lock and the latest spending (a lock's start, a good login)
 * of e on another node (by its id), taken over: the failures here before
 * it are spent too.  Returns whether e changed. */
static bool adopt(struct nu_login_guard *g, struct entry *e)
{
	GArray *a = others_of(g->others, e->id);
	int64_t spent = e->spent;
	bool changed = false;

	for (guint i = 0; a && i < a->len; i++) {
		const struct other *o = &g_array_index(a, struct other, i);

		if (o->locked_until > e->locked_until) {
			e->locked_until = o->locked_until;
			e->last_lock = o->lock;
			changed = true;
		}
		spent = MAX(spent, o->spent);
	}
	if (spent > e->spent) {
		/* The failures here up to then (its second included) too. */
		e->spent = spent;
		if (e->failures && e->window_start <= spent) {
			e->failures = 0;
			e->window_start = spent;
		}
		changed = true;
	}
	return changed;
}

/* The other nodes' failures of e within their windows, begun since e's
 * failures were last spent (here or on any node). */
static unsigned others_failures(const struct nu_login_guard *g, const struct entry *e,
				int64_t now)
{
	GArray *a = others_of(g->others, e->id);
	unsigned sum = 0;

	for (guint i = 0; a && i < a->len; i++) {
		const struct other *o = &g_array_index(a, struct other, i);

		if (now < o->window_start + g->p.window_s && o->window_start >= e->spent)
			sum += o->failures;
	}
	return sum;
}

char *nu_login_guard_id(const struct nu_login_guard *g, const char *key)
{
	/* Without a secret: a fixed key (the names can then be found by
	 * trying candidates). */
	const char *secret = g->secret && *g->secret ? g->secret : "nuauth login guard";
	char *hex = g_compute_hmac_for_string(G_CHECKSUM_SHA256, (const guchar *)secret,
					      strlen(secret), key, -1);

	hex[32] = '\0';
	return hex;
}

unsigned nu_login_guard_locked(struct nu_login_guard *g, const char *key, int64_t now)
{
	struct entry *e = find(g, key, now);
	int64_t until = e ? e->locked_until : 0;

	if (g->sharing && g_hash_table_size(g->others)) {
		char *id = e ? NULL : nu_login_guard_id(g, key);
		GArray *a = others_of(g->others, e ? e->id : id);

		for (guint i = 0; a && i < a->len; i++)
			until = MAX(until, g_array_index(a, struct other, i).locked_until);
		g_free(id);
	}
	if (now >= until)
		return 0;
	return (unsigned)(until - now);
}

/* A new entry for key (its id, when known: taken), not yet in g->order. */
static struct entry *new_entry(struct nu_login_guard *g, const char *key, char *id, int64_t now)
{
	struct entry *e;

	while (g->p.max_entries && g_hash_table_size(g->entries) >= g->p.max_entries)
		drop(g, g->order.head->data);
	e = g_new0(struct entry, 1);
	e->key = g_strdup(key);
	e->id = id ? id : g->sharing ? nu_login_guard_id(g, key) : NULL;
	e->link.data = e;
	e->window_start = now;
	g_hash_table_insert(g->entries, e->key, e);
	if (e->id)
		g_hash_table_insert(g->by_id, e->id, e);
	return e;
}

/* A failure of key, which locks after limit of them (0: never). */
static unsigned fail_key(struct nu_login_guard *g, const char *key, unsigned limit, int64_t now)
{
	struct entry *e;
	unsigned lock;

	if (!limit)
		return 0;
	expire(g, now);
	e = find(g, key, now);
	if (!e)
		e = new_entry(g, key, NULL, now);
	else
		g_queue_unlink(&g->order, &e->link);
	g_queue_push_tail_link(&g->order, &e->link);
	adopt(g, e);
	if (now < e->locked_until)
		return 0;	/* refused before the check: not a new failure */
	mark(g, e->id, 'e', e->key);
	if (now >= e->window_start + g->p.window_s) {
		e->window_start = now;
		e->failures = 0;
	}
	if (++e->failures + others_failures(g, e, now) < limit)
		return 0;
	lock = e->locked_until ? e->last_lock * 2 : g->p.lock_s;
	if (lock > g->p.lock_max_s)
		lock = g->p.lock_max_s;
	if (lock < g->p.lock_s)
		lock = g->p.lock_s;
	e->last_lock = lock;
	e->locked_until = now + lock;
	e->spent = now;
	e->failures = 0;
	e->window_start = now;
	return lock;
}

unsigned nu_login_guard_fail(struct nu_login_guard *g, const char *key, int64_t now)
{
	return fail_key(g, key, g->p.max_failures, now);
}

/* A good login of key at now (0: not known).  Shared, the entry stays
 * with its failures spent, so that the other nodes spend theirs too. */
static void success_at(struct nu_login_guard *g, const char *key, int64_t now)
{
	struct entry *e = g_hash_table_lookup(g->entries, key);

	if (!e && g->sharing && now) {
		/* Other nodes' failures of key: an entry to spend them. */
		char *id = nu_login_guard_id(g, key);

		if (!g_hash_table_contains(g->others, id)) {
			g_free(id);
			return;
		}
		e = new_entry(g, key, id, now);
		g_queue_push_tail_link(&g->order, &e->link);
	}
	if (e && g->sharing && now) {
		e->failures = 0;
		e->window_start = e->spent = now;
		mark(g, e->id, 'e', e->key);
		return;
	}
	/* A lock in force stays (a success cannot happen under it anyway). */
	if (e && !e->locked_until) {
		drop(g, e);
	} else if (e) {
		e->failures = 0;
		mark(g, e->id, 'e', e->key);
	}
}

void nu_login_guard_success(struct nu_login_guard *g, const char *key)
{
	success_at(g, key, 0);
}

size_t nu_login_guard_size(struct nu_login_guard *g, int64_t now)
{
	expire(g, now);
	return g_hash_table_size(g->entries);
}

/* ---- one login ---- */

static char *pair_key(const char *prefix, const char *addr, const char *name)
{
	/* An address holds no space: the first one ends it. */
	return g_strconcat(prefix, addr, " ", name, NULL);
}

static void known_drop(struct nu_login_guard *g, struct known *k)
{
	mark(g, k->id, 'k', k->key);
	g_queue_unlink(&g->known_order, &k->link);
	g_hash_table_remove(g->known, k->key);
}

/* Forgets the pairs whose time has passed (they expire in order: each good
 * login moves its pair to the end with the latest time). */
static void known_expire(struct nu_login_guard *g, int64_t now)
{
	struct known *k;

	while (g->known_order.head && (k = g->known_order.head->data)->until <= now)
		known_drop(g, k);
}

/* Does another node know the pair key ("ADDR NAME") at now? */
static bool others_know(const struct nu_login_guard *g, const char *key, int64_t now)
{
	char *pair, *id;
	GArray *a;
	bool known = false;

	if (!g->sharing || !g_hash_table_size(g->others_known))
		return false;
	pair = g_strconcat("known:", key, NULL);
	id = nu_login_guard_id(g, pair);
	a = others_of(g->others_known, id);
	for (guint i = 0; a && i < a->len; i++)
		known = known || g_array_index(a, struct other, i).until > now;
	g_free(id);
	g_free(pair);
	return known;
}

bool nu_login_guard_known(struct nu_login_guard *g, const char *addr, const char *name,
			  int64_t now)
{
	char *key;
	struct known *k;
	bool known;

	if (!name)
		return false;
	known_expire(g, now);
	key = pair_key("", addr, name);
	k = g_hash_table_lookup(g->known, key);
	known = (k && k->until > now) || others_know(g, key, now);
	g_free(key);
	return known;
}

unsigned nu_login_guard_check(struct nu_login_guard *g, const char *addr, const char *name,
			      int64_t now)
{
	char *key = g_strconcat("ip:", addr, NULL);
	unsigned wait = nu_login_guard_locked(g, key, now), w;

	g_free(key);
	if (!name)
		return wait;
	key = pair_key("pair:", addr, name);
	w = nu_login_guard_locked(g, key, now);
	g_free(key);
	wait = w > wait ? w : wait;
	key = g_strconcat("user:", name, NULL);
	w = nu_login_guard_locked(g, key, now);
	g_free(key);
	/* The name's own lock never keeps it from where it logged in lately. */
	if (w > wait && !nu_login_guard_known(g, addr, name, now))
		wait = w;
	return wait;
}

void nu_login_guard_failed(struct nu_login_guard *g, const char *addr, const char *name,
			   int64_t now, struct nu_login_guard_locks *started)
{
	char *key;

	*started = (struct nu_login_guard_locks){ 0 };
	/* Refused without a check: not a guess. */
	if (nu_login_guard_check(g, addr, name, now))
		return;
	key = g_strconcat("ip:", addr, NULL);
	started->addr = fail_key(g, key, g->p.max_failures, now);
	g_free(key);
	if (!name)
		return;
	key = pair_key("pair:", addr, name);
	started->pair = fail_key(g, key, g->p.max_failures, now);
	g_free(key);
	key = g_strconcat("user:", name, NULL);
	started->name = fail_key(g, key, g->p.name_max_failures, now);
	g_free(key);
}

void nu_login_guard_succeeded(struct nu_login_guard *g, const char *addr, const char *name,
			      int64_t now)
{
	char *key = pair_key("pair:", addr, name);
	struct known *k;

	success_at(g, key, now);
	g_free(key);
	/* The name's failures from elsewhere stay counted: a guesser's. */
	if (!g->p.known_s)
		return;
	known_expire(g, now);
	key = pair_key("", addr, name);
	if ((k = g_hash_table_lookup(g->known, key))) {
		g_free(key);
		g_queue_unlink(&g->known_order, &k->link);
	} else {
		while (g->p.max_entries && g_hash_table_size(g->known) >= g->p.max_entries)
			known_drop(g, g->known_order.head->data);
		k = g_new0(struct known, 1);
		k->key = key;
		if (g->sharing) {
			char *pair = g_strconcat("known:", key, NULL);

			k->id = nu_login_guard_id(g, pair);
			g_free(pair);
		}
		k->link.data = k;
		g_hash_table_insert(g->known, k->key, k);
	}
	k->until = now + g->p.known_s;
	mark(g, k->id, 'k', k->key);
	g_queue_push_tail_link(&g->known_order, &k->link);
}

/* ---- across a cluster ---- */

static void others_free(gpointer p)
{
	g_array_free(p, TRUE);
}

void nu_login_guard_share(struct nu_login_guard *g, const char *secret)
{
	if (g->sharing)
		return;
	g->sharing = true;
	g->secret = g_strdup(secret ? secret : "");
	g->changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g->handed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g->others = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, others_free);
	g->others_known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, others_free);
	g->by_id = g_hash_table_new(g_str_hash, g_str_equal);
}

size_t nu_login_guard_take(struct nu_login_guard *g, int64_t now, size_t max,
			   nu_login_guard_record_fn fn, void *ctx)
{
	GHashTableIter it;
	gpointer id, tagged;

	if (!g->sharing)
		return 0;
	/* The quiet entries go now: each is then gone once. */
	expire(g, now);
	known_expire(g, now);
	g_hash_table_iter_init(&it, g->changed);
	while (max && g_hash_table_iter_next(&it, &id, &tagged)) {
		const char *t = tagged;
		struct nu_login_guard_record r = { .id = id, .known = t[0] == 'k' };

		if (r.known) {
			struct known *k = g_hash_table_lookup(g->known, t + 2);

			r.gone = !k;
			r.until = k ? k->until : 0;
		} else {
			struct entry *e = g_hash_table_lookup(g->entries, t + 2);

			r.gone = !e;
			if (e) {
				r.failures = e->failures;
				r.window_start = e->window_start;
				r.locked_until = e->locked_until;
				r.lock = e->last_lock;
				r.spent = e->spent;
			}
		}
		if (!r.gone) {
			g_hash_table_add(g->handed, g_strdup(id));
			fn(&r, ctx);
			max--;
		} else if (g_hash_table_remove(g->handed, id)) {
			fn(&r, ctx);
			max--;
		}
		g_hash_table_iter_remove(&it);
	}
	return g_hash_table_size(g->changed);
}

bool nu_login_guard_learn(struct nu_login_guard *g, const char *node,
			  const struct nu_login_guard_record *r, int64_t now)
{
	GHashTable *t = r->known ? g->others_known : g->others;
	GArray *a;
	struct other o = { .node = g_intern_string(node) };
	guint i;

	if (!g->sharing)
		return false;
	a = g_hash_table_lookup(t, r->id);
	for (i = 0; a && i < a->len; i++)
		if (g_array_index(a, struct other, i).node == o.node)
			break;
	if (r->gone) {
		if (a && i < a->len)
			g_array_remove_index_fast(a, i);
		if (a && !a->len)
			g_hash_table_remove(t, r->id);
		return true;
	}
	/* Bounded as the node's own tables are, for each of a few nodes. */
	if (!a && g->p.max_entries &&
	    g_hash_table_size(g->others) + g_hash_table_size(g->others_known) >=
		    8 * g->p.max_entries)
		return false;
	/* No other node locks longer, or exempts longer, than this one would. */
	if (r->known) {
		o.until = MIN(r->until, now + (int64_t)g->p.known_s);
	} else {
		o.lock = MIN(r->lock, g->p.lock_max_s);
		o.locked_until = MIN(r->locked_until, now + (int64_t)o.lock);
		o.failures = MIN(r->failures, 1000000u);
		o.window_start = MIN(r->window_start, now);
		o.spent = MIN(r->spent, now);
	}
	if (!a) {
		a = g_array_sized_new(FALSE, FALSE, sizeof(struct other), 2);
		g_hash_table_insert(t, g_strdup(r->id), a);
	}
	if (i < a->len)
		g_array_index(a, struct other, i) = o;
	else
		g_array_append_val(a, o);
	/* A lock there: the failures here are spent, and the others told. */
	if (!r->known) {
		struct entry *e = g_hash_table_lookup(g->by_id, r->id);

		if (e && adopt(g, e))
			mark(g, e->id, 'e', e->key);
	}
	return true;
}

void nu_login_guard_forget_others(struct nu_login_guard *g)
{
	if (!g->sharing)
		return;
	g_hash_table_remove_all(g->others);
	g_hash_table_remove_all(g->others_known);
}

/* ---- nuauth's use of the table ---- */

/* The table is counted in (failures, successes) on the main thread, after
 * a login's result; a login job on a worker asks whether its address and
 * name are locked before any module sees the password.  One lock
 * serialises both. */
static GMutex guard_lock;
/* Told when the node's records changed (cluster.c; main thread). */
static void (*changed_fn)(void *ctx);
static void *changed_ctx;

static int64_t now_s(void)
{
	return g_get_monotonic_time() / G_USEC_PER_SEC;
}

void nuauth_login_guard_configure(struct nuauth_server *srv)
{
	const struct nuauth_config *cfg = &srv->cfg;
	struct nu_login_guard_params p = {
		.max_failures = cfg->login_failure_limit,
		/* nuauth_login_failure_limit=0 turns every lock off. */
		.name_max_failures = cfg->login_failure_limit ? cfg->login_user_failure_limit : 0,
		.window_s = cfg->login_failure_window,
		.lock_s = cfg->login_lock_time,
		.lock_max_s = cfg->login_lock_time << GUARD_MAX_DOUBLINGS,
		.known_s = cfg->login_known_address_time,
		.max_entries = GUARD_MAX_ENTRIES,
	};

	g_mutex_lock(&guard_lock);
	if (srv->login_guard)
		nu_login_guard_set_params(srv->login_guard, &p);
	else
		srv->login_guard = nu_login_guard_new(&p);
	g_mutex_unlock(&guard_lock);
}

char *nuauth_login_guard_name(const char *user)
{
	/* Case-folded, so that ALICE and alice count as one. */
	if (g_utf8_validate(user, -1, NULL))
		return g_utf8_casefold(user, -1);
	return g_ascii_strdown(user, -1);
}

unsigned nuauth_login_locked(struct nuauth_server *srv, const char *addr, const char *user)
{
	char *name;
	unsigned wait;

	if (!srv->login_guard)
		return 0;
	name = user ? nuauth_login_guard_name(user) : NULL;
	g_mutex_lock(&guard_lock);
	wait = nu_login_guard_check(srv->login_guard, addr, name, now_s());
	g_mutex_unlock(&guard_lock);
	g_free(name);
	return wait;
}

void nuauth_login_failed(struct nuauth_server *srv, const char *addr, const char *user)
{
	struct nu_login_guard_locks started;
	char *name, *quoted;

	if (!srv->login_guard)
		return;
	name = user ? nuauth_login_guard_name(user) : NULL;
	g_mutex_lock(&guard_lock);
	nu_login_guard_failed(srv->login_guard, addr, name, now_s(), &started);
	g_mutex_unlock(&guard_lock);
	g_free(name);
	if (changed_fn)
		changed_fn(changed_ctx);
	if (started.addr)
		log_warnx("logins from %s locked for %u s after %u failed logins", addr,
			  started.addr, srv->cfg.login_failure_limit);
	if (!user || (!started.pair && !started.name))
		return;
	/* The name comes from the client: quoted, escaped. */
	quoted = g_strescape(user, NULL);
	if (started.pair && !started.addr)
		log_warnx("logins of user \"%s\" from %s locked for %u s after %u failed logins",
			  quoted, addr, started.pair, srv->cfg.login_failure_limit);
	if (started.name)
		log_warnx("logins of user \"%s\" locked for %u s after %u failed logins, except "
			  "from the addresses it logged in from lately", quoted, started.name,
			  srv->cfg.login_user_failure_limit);
	g_free(quoted);
}

void nuauth_login_succeeded(struct nuauth_server *srv, const char *addr, const char *user)
{
	char *name;

	if (!srv->login_guard)
		return;
	name = nuauth_login_guard_name(user);
	g_mutex_lock(&guard_lock);
	nu_login_guard_succeeded(srv->login_guard, addr, name, now_s());
	g_mutex_unlock(&guard_lock);
	g_free(name);
	if (changed_fn)
		changed_fn(changed_ctx);
}

/* ---- across the cluster (cluster.c) ----
 *
 * The guard runs on the monotonic clock; what the nodes publish is in
 * Unix time (seconds), which every node converts with its own clocks: a
 * clock that is off by some seconds moves the other nodes' windows and
 * locks by as much. */

/* Unix time minus the guard's clock, s. */
static int64_t unix_offset(void)
{
	return g_get_real_time() / G_USEC_PER_SEC - now_s();
}

void nuauth_login_guard_share(struct nuauth_server *srv, const char *secret,
			      void (*changed)(void *ctx), void *ctx)
{
	if (!srv->login_guard)
		return;
	g_mutex_lock(&guard_lock);
	if (changed || secret)
		nu_login_guard_share(srv->login_guard, secret);
	changed_fn = changed;
	changed_ctx = ctx;
	g_mutex_unlock(&guard_lock);
}

struct to_unix {
	nu_login_guard_record_fn fn;
	void *ctx;
	int64_t offset;
};

static int64_t shift(int64_t t, int64_t offset)
{
	return t ? t + offset : 0;
}

static void record_to_unix(const struct nu_login_guard_record *r, void *ctx)
{
	struct to_unix *u = ctx;
	struct nu_login_guard_record out = *r;

	out.window_start = shift(r->window_start, u->offset);
	out.locked_until = shift(r->locked_until, u->offset);
	out.spent = shift(r->spent, u->offset);
	out.until = shift(r->until, u->offset);
	u->fn(&out, u->ctx);
}

size_t nuauth_login_guard_take(struct nuauth_server *srv, size_t max,
			       nu_login_guard_record_fn fn, void *ctx)
{
	struct to_unix u = { fn, ctx, unix_offset() };
	size_t left;

	if (!srv->login_guard)
		return 0;
	/* fn only queues (etcd_client_put): nothing waits under the lock. */
	g_mutex_lock(&guard_lock);
	left = nu_login_guard_take(srv->login_guard, now_s(), max, record_to_unix, &u);
	g_mutex_unlock(&guard_lock);
	return left;
}

bool nuauth_login_guard_learn(struct nuauth_server *srv, const char *node,
			      const struct nu_login_guard_record *r)
{
	int64_t offset = unix_offset();
	struct nu_login_guard_record in = *r;
	bool ok;

	if (!srv->login_guard)
		return false;
	in.window_start = shift(r->window_start, -offset);
	in.locked_until = shift(r->locked_until, -offset);
	in.spent = shift(r->spent, -offset);
	in.until = shift(r->until, -offset);
	g_mutex_lock(&guard_lock);
	ok = nu_login_guard_learn(srv->login_guard, node, &in, now_s());
	g_mutex_unlock(&guard_lock);
	return ok;
}

void nuauth_login_guard_forget_others(struct nuauth_server *srv)
{
	if (!srv->login_guard)
		return;
	g_mutex_lock(&guard_lock);
	nu_login_guard_forget_others(srv->login_guard);
	g_mutex_unlock(&guard_lock);
}
