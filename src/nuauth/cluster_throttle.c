/* Failed logins across the cluster: see cluster_throttle.h. */
#include "config.h"
#include "cluster_throttle.h"

#include <string.h>

#include "cluster_etcd.h"
#include "etcd_json.h"
#include "log.h"
#include "login_guard.h"

/* The node's failed-login records (doc/cluster.md, "Failed logins across
 * the cluster"): written at most every THROTTLE_MS, THROTTLE_MAX at a
 * time (more wait for the next time); the quiet ones deleted within
 * THROTTLE_SWEEP_MS. */
#define THROTTLE_MS 50
#define THROTTLE_MAX 128
#define THROTTLE_SWEEP_MS 5000


struct cluster_throttle {
	struct nuauth_server *srv;
	struct etcd_client *etcd;
	char *node;
	char *fails, *known;		/* PREFIX/fails/, PREFIX/known/ */
	guint throttle_source;		/* a write of the records is due */
	gint64 throttle_at;		/* the last one (monotonic) */
};

/* Another node's failed-login record (PREFIX/fails/NODE/ID) or known pair
 * (PREFIX/known/NODE/ID) into the guard; the node's own are ignored (its
 * guard holds them). */
static void learn_throttle(struct cluster_throttle *c, const struct etcd_kv *kv)
{
	bool known = g_str_has_prefix(kv->key, c->known);
	const char *rest = kv->key + strlen(known ? c->known : c->fails);
	const char *slash = strchr(rest, '/');
	struct nu_login_guard_record r = { .known = known, .gone = kv->deleted };
	struct etcd_throttle t;
	GError *e = NULL;
	char *node, *id;
	gsize len;
	const char *data = kv->value ? g_bytes_get_data(kv->value, &len) : "";

	if (!slash || slash == rest)
		return;
	node = g_strndup(rest, (gsize)(slash - rest));
	id = g_strdup(slash + 1);
	if (strcmp(node, c->node) == 0)
		goto out;
	if (strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32) {
		log_warnx("cluster: etcd key %s: not a failed-login record: left out", kv->key);
		goto out;
	}
	if (!kv->deleted && !etcd_json_read_throttle(data, kv->value ? len : 0, known, &t, &e)) {
		log_warnx("cluster: etcd key %s: %s: left out", kv->key, e->message);
		g_error_free(e);
		goto out;
	}
	r.id = id;
	if (!kv->deleted) {
		r.failures = (unsigned)MIN(t.failures, G_MAXUINT);
		r.window_start = t.window;
		r.locked_until = t.locked_until;
		r.lock = (unsigned)MIN(t.lock, G_MAXUINT);
		r.spent = t.spent;
		r.until = t.known_until;
	}
	if (!nuauth_login_guard_learn(c->srv, node, &r)) {
		log_warnx("cluster: the table of other nodes' failed logins is full: %s left out",
			  kv->key);
		goto out;
	}
	/* The lab's tests wait for these. */
	if (kv->deleted)
		log_debug("cluster: node %s's %s record %s is gone", node,
			  known ? "known-address" : "failed-login", id);
	else if (known)
		log_debug("cluster: node %s's known-address record %s", node, id);
	else
		log_debug("cluster: node %s's failed-login record %s: %u failure(s), lock "
			  "until %" G_GINT64_FORMAT, node, id, r.failures, r.locked_until);
out:
	g_free(node);
	g_free(id);
}

/* One of the node's records into etcd (the request thread sends it). */
static void put_throttle(const struct nu_login_guard_record *r, void *ctx)
{
	struct cluster_throttle *c = ctx;
	char *key = g_strconcat(r->known ? c->known : c->fails, c->node, "/", r->id, NULL);
	struct etcd_throttle t = {
		.failures = r->failures, .window = r->window_start,
		.locked_until = r->locked_until, .lock = r->lock, .spent = r->spent,
		.known_until = r->until,
	};
	char *value;

	if (r->gone) {
		etcd_client_delete(c->etcd, key);
	} else {
		value = etcd_json_throttle(&t, r->known);
		etcd_client_put(c->etcd, key, value, strlen(value));
		g_free(value);
	}
	g_free(key);
}

static void throttle_due(struct cluster_throttle *c, gint64 now);

static gboolean throttle_write(gpointer p)
{
	struct cluster_throttle *c = p;
	size_t left;

	c->throttle_source = 0;
	c->throttle_at = g_get_monotonic_time();
	left = nuauth_login_guard_take(c->srv, THROTTLE_MAX, put_throttle, c);
	if (left)
		throttle_due(c, c->throttle_at);
	return G_SOURCE_REMOVE;
}

/* A write of the records at once, or THROTTLE_MS after the last one. */
static void throttle_due(struct cluster_throttle *c, gint64 now)
{
	gint64 wait = c->throttle_at + THROTTLE_MS * 1000 - now;

	if (c->throttle_source)
		return;
	c->throttle_source = g_timeout_add(wait > 0 ? (guint)((wait + 999) / 1000) : 0,
					   throttle_write, c);
}

/* After a failed or good login (login_guard.c). */
static void throttle_changed(void *ctx)
{
	throttle_due(ctx, g_get_monotonic_time());
}

struct cluster_throttle *cluster_throttle_new(struct nuauth_server *srv,
					      struct etcd_client *etcd, const char *prefix,
					      const char *node, const char *secret)
{
	struct cluster_throttle *c = g_new0(struct cluster_throttle, 1);

	c->srv = srv;
	c->etcd = etcd;
	c->node = g_strdup(node);
	c->fails = g_strconcat(prefix, "fails/", NULL);
	c->known = g_strconcat(prefix, "known/", NULL);
	nuauth_login_guard_share(srv, secret ? secret : "", throttle_changed, c);
	if (!secret)
		log_info("cluster: no nuauth_cluster_throttle_secret: the failed-login records' "
			 "names are hashed without a secret");
	return c;
}

void cluster_throttle_free(struct cluster_throttle *c)
{
	if (!c)
		return;
	nuauth_login_guard_share(c->srv, NULL, NULL, NULL);
	if (c->throttle_source)
		g_source_remove(c->throttle_source);
	g_free(c->node);
	g_free(c->fails);
	g_free(c->known);
	g_free(c);
}

bool cluster_throttle_update(struct cluster_throttle *c, const struct etcd_kv *kv)
{
	if (!g_str_has_prefix(kv->key, c->fails) && !g_str_has_prefix(kv->key, c->known))
		return false;
	learn_throttle(c, kv);
	return true;
}

void cluster_throttle_reset(struct cluster_throttle *c)
{
	nuauth_login_guard_forget_others(c->srv);
}

void cluster_throttle_tick(struct cluster_throttle *c, gint64 now)
{
	if (now - c->throttle_at >= THROTTLE_SWEEP_MS * 1000)
		throttle_due(c, now);
}
