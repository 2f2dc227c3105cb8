/* Failed-login rate limiting (login_guard.h), and how nuauth uses it: one
 * table of failures for addresses ("ip:ADDR"), a name from an address
 * ("pair:ADDR NAME") and names ("user:NAME"), one of the (address, name)
 * pairs that logged in lately; on the monotonic clock. */
#include "config.h"
#include "login_guard.h"

#include <glib.h>

#include "nuauth.h"
#include "log.h"

#define GUARD_MAX_ENTRIES 65536
#define GUARD_MAX_DOUBLINGS 6

struct entry {
	char *key;
	GList link;		/* in g->order; data is the entry */
	int64_t window_start;
	unsigned failures;	/* within the window */
	int64_t locked_until;	/* 0: never locked */
	unsigned last_lock;	/* length of the last lock, s */
};

/* An (address, name) pair that logged in. */
struct known {
	char *key;
	GList link;		/* in g->known_order; data is the entry */
	int64_t until;
};

struct nu_login_guard {
	struct nu_login_guard_params p;
	GHashTable *entries;	/* key -> struct entry (owned) */
	GQueue order;		/* least recently touched first */
	GHashTable *known;	/* "ADDR NAME" -> struct known (owned) */
	GQueue known_order;	/* soonest to expire first */
};

static void entry_free(void *data)
{
	struct entry *e = data;

	g_free(e->key);
	g_free(e);
}

static void known_free(void *data)
{
	struct known *k = data;

	g_free(k->key);
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

static void drop(struct nu_login_guard *g, struct entry *e)
{
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

unsigned nu_login_guard_locked(struct nu_login_guard *g, const char *key, int64_t now)
{
	struct entry *e = find(g, key, now);

	if (!e || now >= e->locked_until)
		return 0;
	return (unsigned)(e->locked_until - now);
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
	if (!e) {
		while (g->p.max_entries && g_hash_table_size(g->entries) >= g->p.max_entries)
			drop(g, g->order.head->data);
		e = g_new0(struct entry, 1);
		e->key = g_strdup(key);
		e->link.data = e;
		e->window_start = now;
		g_hash_table_insert(g->entries, e->key, e);
	} else {
		g_queue_unlink(&g->order, &e->link);
	}
	g_queue_push_tail_link(&g->order, &e->link);
	if (now < e->locked_until)
		return 0;	/* refused before the check: not a new failure */
	if (now >= e->window_start + g->p.window_s) {
		e->window_start = now;
		e->failures = 0;
	}
	if (++e->failures < limit)
		return 0;
	lock = e->locked_until ? e->last_lock * 2 : g->p.lock_s;
	if (lock > g->p.lock_max_s)
		lock = g->p.lock_max_s;
	if (lock < g->p.lock_s)
		lock = g->p.lock_s;
	e->last_lock = lock;
	e->locked_until = now + lock;
	e->failures = 0;
	e->window_start = now;
	return lock;
}

unsigned nu_login_guard_fail(struct nu_login_guard *g, const char *key, int64_t now)
{
	return fail_key(g, key, g->p.max_failures, now);
}

void nu_login_guard_success(struct nu_login_guard *g, const char *key)
{
	struct entry *e = g_hash_table_lookup(g->entries, key);

	/* A lock in force stays (a success cannot happen under it anyway). */
	if (e && !e->locked_until)
		drop(g, e);
	else if (e)
		e->failures = 0;
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

bool nu_login_guard_known(struct nu_login_guard *g, const char *addr, const char *name,
			  int64_t now)
{
	char *key;
	struct known *k;

	if (!name)
		return false;
	known_expire(g, now);
	key = pair_key("", addr, name);
	k = g_hash_table_lookup(g->known, key);
	g_free(key);
	return k && k->until > now;
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

	nu_login_guard_success(g, key);
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
		k->link.data = k;
		g_hash_table_insert(g->known, k->key, k);
	}
	k->until = now + g->p.known_s;
	g_queue_push_tail_link(&g->known_order, &k->link);
}

/* ---- nuauth's use of the table ---- */

/* The table is counted in (failures, successes) on the main thread, after
 * a login's result; a login job on a worker asks whether its address and
 * name are locked before any module sees the password.  One lock
 * serialises both. */
static GMutex guard_lock;

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
}
