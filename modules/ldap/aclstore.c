/* The ACLs in use and their refresh (see aclstore.h). */
#include "config.h"
#include "aclstore.h"

#include <string.h>

#include "aclload.h"
#include "conf.h"
#include "log.h"

/* NUAUTH_NEEDS_* of set, the SHA-256 implying the path. */
static unsigned set_needs(const struct nu_acl_set *set)
{
	unsigned n = nu_acl_needs(set);

	return n & NUAUTH_NEEDS_APP_SHA256 ? n | NUAUTH_NEEDS_APP : n;
}

struct nu_ldap_aclstore {
	const struct nu_ldap_conf *conf;
	struct nu_ldap_pool *pool;
	struct nu_acl_set *acls;	/* in use */
	char *digest;			/* of acls' entries */
	bool (*known)(const char *period, void *ctx);	/* NULL: not checked */
	void *known_ctx;
	guint timer;			/* GSource id; 0 without refresh */
	bool needs_told;		/* the needs hook answered ... */
	unsigned needs;			/* ... this (NUAUTH_NEEDS_*) */
	bool failing;			/* the last refresh failed (logged) */

	/* A refresh under way: the thread's result, handed to the main loop. */
	GThread *worker;		/* main loop only */
	GMutex lock;
	struct nu_acl_set *fresh;	/* under lock */
	char *fresh_digest;		/* under lock */
	GError *fresh_error;		/* under lock */
	guint done;			/* under lock: the GSource id of refresh_done */
	gint64 started;			/* monotonic, µs */
};

static bool periods_ok(const struct nu_ldap_aclstore *st, const struct nu_acl_set *set,
		       GError **error)
{
	return !st->known || nu_acl_check_periods(set, st->known, st->known_ctx, error);
}

/* On the main loop: takes the thread's result. */
static gboolean refresh_done(gpointer data)
{
	struct nu_ldap_aclstore *st = data;
	struct nu_acl_set *fresh;
	char *digest;
	GError *error;
	double ms = (double)(g_get_monotonic_time() - st->started) / 1000.0;

	g_mutex_lock(&st->lock);
	fresh = st->fresh;
	digest = st->fresh_digest;
	error = st->fresh_error;
	st->fresh = NULL;
	st->fresh_digest = NULL;
	st->fresh_error = NULL;
	st->done = 0;
	g_mutex_unlock(&st->lock);
	g_thread_join(st->worker);
	st->worker = NULL;

	if (fresh && !periods_ok(st, fresh, &error))
		g_clear_pointer(&fresh, nu_acl_set_free);
	if (fresh && st->needs_told && (set_needs(fresh) & ~st->needs)) {
		g_set_error(&error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "the new ACLs read the client's %s, which nuauth did not ask the "
			    "clients for: reload nuauth (SIGHUP) to apply them",
			    set_needs(fresh) & ~st->needs & NUAUTH_NEEDS_APP_SHA256
			    ? "program's SHA-256 (nufwAclAppSHA256)" : "program (nufwAclApp)");
		g_clear_pointer(&fresh, nu_acl_set_free);
	}
	if (!fresh) {
		if (!st->failing)
			log_warnx("ldap: refreshing the ACLs: %s: keeping the %u read before "
				  "(until a refresh works again)", error->message,
				  nu_acl_count(st->acls));
		st->failing = true;
		g_error_free(error);
		g_free(digest);
		return G_SOURCE_REMOVE;
	}
	if (st->failing)
		log_notice("ldap: refreshing the ACLs works again");
	st->failing = false;
	if (strcmp(digest, st->digest) == 0) {
		log_debug("ldap: ACLs under %s unchanged (read in %.0f ms)",
			  st->conf->acls_base_dn, ms);
		nu_acl_set_free(fresh);
		g_free(digest);
		return G_SOURCE_REMOVE;
	}
	log_notice("ldap: the ACLs under %s changed: %u ACLs now, %u before (read in %.0f ms)",
		   st->conf->acls_base_dn, nu_acl_count(fresh), nu_acl_count(st->acls), ms);
	nu_acl_set_free(st->acls);
	st->acls = fresh;
	g_free(st->digest);
	st->digest = digest;
	return G_SOURCE_REMOVE;
}

static gpointer refresh_thread(gpointer data)
{
	struct nu_ldap_aclstore *st = data;
	GError *error = NULL;
	char *digest = NULL;
	struct nu_acl_set *set = nu_ldap_acls_load(st->conf, st->pool, &digest, &error);

	g_mutex_lock(&st->lock);
	st->fresh = set;
	st->fresh_digest = digest;
	st->fresh_error = error;
	/* Not an idle priority: a busy loop would put the swap off forever. */
	st->done = g_idle_add_full(G_PRIORITY_DEFAULT, refresh_done, st, NULL);
	g_mutex_unlock(&st->lock);
	return NULL;
}

static gboolean refresh_tick(gpointer data)
{
	struct nu_ldap_aclstore *st = data;

	/* A read slower than the period: this tick is skipped. */
	if (st->worker)
		return G_SOURCE_CONTINUE;
	st->started = g_get_monotonic_time();
	st->worker = g_thread_new("ldap-acls", refresh_thread, st);
	return G_SOURCE_CONTINUE;
}

struct nu_ldap_aclstore *nu_ldap_aclstore_new(const struct nu_ldap_conf *conf,
					      struct nu_ldap_pool *pool, GError **error)
{
	struct nu_ldap_aclstore *st = g_new0(struct nu_ldap_aclstore, 1);
	gint64 start = g_get_monotonic_time();

	st->conf = conf;
	st->pool = pool;
	g_mutex_init(&st->lock);
	if (!(st->acls = nu_ldap_acls_load(conf, pool, &st->digest, error))) {
		nu_ldap_aclstore_free(st);
		return NULL;
	}
	log_info("ldap: %u ACLs under %s (read in %.0f ms)%s", nu_acl_count(st->acls),
		 conf->acls_base_dn, (double)(g_get_monotonic_time() - start) / 1000.0,
		 conf->acls_refresh ? ", read again every ldap_acls_refresh seconds" : "");
	/* The thread starts with the first tick: after nuauth -D's fork. */
	if (conf->acls_refresh)
		st->timer = g_timeout_add_seconds(conf->acls_refresh, refresh_tick, st);
	return st;
}

void nu_ldap_aclstore_free(struct nu_ldap_aclstore *st)
{
	if (!st)
		return;
	if (st->timer)
		g_source_remove(st->timer);
	if (st->worker) {
		/* After the join, refresh_done is queued (and removed here) or
		 * never will be. */
		g_thread_join(st->worker);
		if (st->done)
			g_source_remove(st->done);
		nu_acl_set_free(st->fresh);
		g_free(st->fresh_digest);
		g_clear_error(&st->fresh_error);
	}
	g_mutex_clear(&st->lock);
	nu_acl_set_free(st->acls);
	g_free(st->digest);
	g_free(st);
}

const struct nu_acl_set *nu_ldap_aclstore_get(const struct nu_ldap_aclstore *st)
{
	return st->acls;
}

unsigned nu_ldap_aclstore_needs(struct nu_ldap_aclstore *st)
{
	st->needs = set_needs(st->acls);
	st->needs_told = true;
	return st->needs;
}

bool nu_ldap_aclstore_check_periods(struct nu_ldap_aclstore *st,
				    bool (*known)(const char *period, void *ctx), void *ctx,
				    GError **error)
{
	st->known = known;
	st->known_ctx = ctx;
	return periods_ok(st, st->acls, error);
}
