/* Failed-login rate limiting (login_guard.h), and how nuauth uses it: one
 * table for addresses ("ip:ADDR") and user names ("user:NAME"), on the
 * monotonic clock. */
#include "config.h"
#include "login_guard.h"

#include <stdbool.h>
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

struct nu_login_guard {
	struct nu_login_guard_params p;
	GHashTable *entries;	/* key -> struct entry (owned) */
	GQueue order;		/* least recently touched first */
};

static void entry_free(void *data)
{
	struct entry *e = data;

	g_free(e->key);
	g_free(e);
}

struct nu_login_guard *nu_login_guard_new(const struct nu_login_guard_params *p)
{
	struct nu_login_guard *g = g_new0(struct nu_login_guard, 1);

	g->p = *p;
	g->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
	g_queue_init(&g->order);
	return g;
}

void nu_login_guard_free(struct nu_login_guard *g)
{
	if (!g)
		return;
	g_hash_table_destroy(g->entries);
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

unsigned nu_login_guard_fail(struct nu_login_guard *g, const char *key, int64_t now)
{
	struct entry *e;
	unsigned lock;

	if (!g->p.max_failures)
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
	if (++e->failures < g->p.max_failures)
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

/* ---- nuauth's use of the table ---- */

/* The table is counted in (failures, successes) on the main thread, after
 * a login's result; a login job on a worker asks whether its user name is
 * locked before any module sees the password.  One lock serialises both. */
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
		.window_s = cfg->login_failure_window,
		.lock_s = cfg->login_lock_time,
		.lock_max_s = cfg->login_lock_time << GUARD_MAX_DOUBLINGS,
		.max_entries = GUARD_MAX_ENTRIES,
	};

	g_mutex_lock(&guard_lock);
	if (srv->login_guard)
		nu_login_guard_set_params(srv->login_guard, &p);
	else
		srv->login_guard = nu_login_guard_new(&p);
	g_mutex_unlock(&guard_lock);
}

unsigned nuauth_login_locked(struct nuauth_server *srv, const char *addr, const char *user)
{
	char key[300];
	unsigned a, u = 0;

	if (!srv->login_guard)
		return 0;
	g_mutex_lock(&guard_lock);
	g_snprintf(key, sizeof(key), "ip:%s", addr);
	a = nu_login_guard_locked(srv->login_guard, key, now_s());
	if (user) {
		g_snprintf(key, sizeof(key), "user:%s", user);
		u = nu_login_guard_locked(srv->login_guard, key, now_s());
	}
	g_mutex_unlock(&guard_lock);
	return a > u ? a : u;
}

void nuauth_login_failed(struct nuauth_server *srv, const char *addr, const char *user)
{
	char key[300];
	unsigned lock;

	if (!srv->login_guard)
		return;
	g_snprintf(key, sizeof(key), "ip:%s", addr);
	g_mutex_lock(&guard_lock);
	lock = nu_login_guard_fail(srv->login_guard, key, now_s());
	g_mutex_unlock(&guard_lock);
	if (lock)
		log_warnx("logins from %s locked for %u s after %u failed logins", addr, lock,
			  srv->cfg.login_failure_limit);
	if (!user)
		return;
	g_snprintf(key, sizeof(key), "user:%s", user);
	g_mutex_lock(&guard_lock);
	lock = nu_login_guard_fail(srv->login_guard, key, now_s());
	g_mutex_unlock(&guard_lock);
	if (lock) {
		/* The name comes from the client: quoted, escaped. */
		char *quoted = g_strescape(user, NULL);

		log_warnx("logins of user \"%s\" locked for %u s after %u failed logins",
			  quoted, lock, srv->cfg.login_failure_limit);
		g_free(quoted);
	}
}

void nuauth_login_succeeded(struct nuauth_server *srv, const char *user)
{
	char key[300];

	if (!srv->login_guard)
		return;
	g_snprintf(key, sizeof(key), "user:%s", user);
	g_mutex_lock(&guard_lock);
	nu_login_guard_success(srv->login_guard, key);
	g_mutex_unlock(&guard_lock);
}
