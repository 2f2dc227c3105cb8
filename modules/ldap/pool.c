/* The LDAP connection pool (see pool.h). */
#include "config.h"
#include "pool.h"

#include <string.h>
#include <sys/time.h>

#include "log.h"

/* How long requests fail at once after a connect failed, microseconds. */
#define HOLD_OFF_US G_USEC_PER_SEC

struct conn {
	LDAP *ld;
	bool rebind;		/* bound as someone else: bind as the service again */
};

struct nu_ldap_pool {
	const struct nu_ldap_conf *conf;
	GMutex lock;
	GCond freed;
	GQueue idle;		/* struct conn */
	unsigned open;		/* idle + in use */
	gint64 down_until;	/* monotonic, us: hold-off after a failed connect */
	bool down;		/* the last connect failed (logged once) */
};

bool nu_ldap_rc_is_link_error(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT ||
	       rc == LDAP_LOCAL_ERROR || rc == LDAP_ENCODING_ERROR || rc == LDAP_DECODING_ERROR ||
	       rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY;
}

struct nu_ldap_pool *nu_ldap_pool_new(const struct nu_ldap_conf *conf)
{
	struct nu_ldap_pool *pool = g_new0(struct nu_ldap_pool, 1);

	pool->conf = conf;
	g_mutex_init(&pool->lock);
	g_cond_init(&pool->freed);
	g_queue_init(&pool->idle);
	return pool;
}

static void conn_close(struct conn *c)
{
	if (!c)
		return;
	if (c->ld)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	g_free(c);
}

void nu_ldap_pool_free(struct nu_ldap_pool *pool)
{
	struct conn *c;

	if (!pool)
		return;
	while ((c = g_queue_pop_head(&pool->idle)))
		conn_close(c);
	g_cond_clear(&pool->freed);
	g_mutex_clear(&pool->lock);
	g_free(pool);
}

int nu_ldap_simple_bind(LDAP *ld, const char *dn, const char *password, size_t len,
			unsigned timeout)
{
	struct berval cred = { len, (char *)password };
	struct timeval tv = { (time_t)timeout, 0 };
	LDAPMessage *res = NULL;
	int msgid, rc, err = LDAP_OTHER;

	/* Sent, then waited for with our own limit, so that a server that
	 * accepted the connection but never answers cannot hold us. */
	rc = ldap_sasl_bind(ld, dn && *dn ? dn : NULL, LDAP_SASL_SIMPLE, &cred, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS)
		return rc;
	rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res);
	if (rc == 0)
		return LDAP_TIMEOUT;
	if (rc < 0) {
		ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
		return err;
	}
	rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, NULL, 1);
	return rc == LDAP_SUCCESS ? err : rc;
}

static int service_bind(const struct nu_ldap_conf *conf, LDAP *ld)
{
	return nu_ldap_simple_bind(ld, conf->bind_dn, conf->bind_password,
				   strlen(conf->bind_password), conf->request_timeout);
}

/* A new connection, bound as the service account; NULL with *rc set. */
static struct conn *conn_open(const struct nu_ldap_conf *conf, int *rc)
{
	struct timeval net = { (time_t)conf->network_timeout, 0 };
	struct timeval req = { (time_t)conf->request_timeout, 0 };
	int version = LDAP_VERSION3;
	struct conn *c = g_new0(struct conn, 1);

	*rc = ldap_initialize(&c->ld, conf->uri);
	if (*rc != LDAP_SUCCESS) {
		c->ld = NULL;
		conn_close(c);
		return NULL;
	}
	ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
	ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &req);
	ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(c->ld, LDAP_OPT_RESTART, LDAP_OPT_ON);
	*rc = service_bind(conf, c->ld);
	if (*rc != LDAP_SUCCESS) {
		conn_close(c);
		return NULL;
	}
	return c;
}

/* Closes c, and with all_idle every idle connection too: after a server
 * restart they are all dead. */
static void pool_drop(struct nu_ldap_pool *pool, struct conn *c, bool all_idle)
{
	GQueue dead = G_QUEUE_INIT;
	struct conn *d;

	g_mutex_lock(&pool->lock);
	g_queue_push_tail(&dead, c);
	while (all_idle && (d = g_queue_pop_head(&pool->idle)))
		g_queue_push_tail(&dead, d);
	pool->open -= dead.length;
	g_cond_broadcast(&pool->freed);
	g_mutex_unlock(&pool->lock);
	while ((d = g_queue_pop_head(&dead)))
		conn_close(d);
}

/* An idle connection, or a new one when fewer than pool_size are open;
 * waits for one to be freed otherwise.  NULL with *rc set when none came
 * in time or the server cannot be reached.  *fresh: newly opened. */
static struct conn *pool_get(struct nu_ldap_pool *pool, bool *fresh, int *rc)
{
	const struct nu_ldap_conf *conf = pool->conf;
	gint64 deadline = g_get_monotonic_time() + (gint64)conf->request_timeout * G_USEC_PER_SEC;
	struct conn *c = NULL;

	g_mutex_lock(&pool->lock);
	while (!(c = g_queue_pop_head(&pool->idle)) && pool->open >= conf->pool_size) {
		if (!g_cond_wait_until(&pool->freed, &pool->lock, deadline)) {
			g_mutex_unlock(&pool->lock);
			log_warnx("ldap: all %u connections busy for %us", conf->pool_size,
				  conf->request_timeout);
			*rc = LDAP_TIMEOUT;
			return NULL;
		}
	}
	if (c) {
		g_mutex_unlock(&pool->lock);
		*fresh = false;
		if (c->rebind) {
			*rc = service_bind(conf, c->ld);
			c->rebind = false;
			if (*rc != LDAP_SUCCESS) {
				/* Dead (the caller tries a new one) or refused. */
				pool_drop(pool, c, nu_ldap_rc_is_link_error(*rc));
				return NULL;
			}
		}
		return c;
	}
	if (g_get_monotonic_time() < pool->down_until) {
		g_mutex_unlock(&pool->lock);
		*rc = LDAP_SERVER_DOWN;
		return NULL;
	}
	pool->open++;
	g_mutex_unlock(&pool->lock);

	*fresh = true;
	c = conn_open(conf, rc);
	g_mutex_lock(&pool->lock);
	if (!c) {
		pool->open--;
		g_cond_signal(&pool->freed);
		if (nu_ldap_rc_is_link_error(*rc))
			pool->down_until = g_get_monotonic_time() + HOLD_OFF_US;
		if (!pool->down)
			log_warnx("ldap: cannot connect to %s as %s: %s; logins through LDAP fail "
				  "until it answers", conf->uri,
				  *conf->bind_dn ? conf->bind_dn : "anonymous", ldap_err2string(*rc));
		pool->down = true;
	} else if (pool->down) {
		log_info("ldap: %s answers again", conf->uri);
		pool->down = false;
	}
	g_mutex_unlock(&pool->lock);
	return c;
}

/* Gives c back to the idle ones. */
static void pool_put(struct nu_ldap_pool *pool, struct conn *c)
{
	g_mutex_lock(&pool->lock);
	g_queue_push_head(&pool->idle, c);
	g_cond_signal(&pool->freed);
	g_mutex_unlock(&pool->lock);
}

int nu_ldap_pool_run(struct nu_ldap_pool *pool, nu_ldap_op op, void *ctx)
{
	int rc = LDAP_OTHER;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = false;
		struct conn *c = pool_get(pool, &fresh, &rc);

		if (!c) {
			/* A reused connection failed its rebind: try a new one. */
			if (!fresh && attempt == 0 && nu_ldap_rc_is_link_error(rc) &&
			    rc != LDAP_TIMEOUT)
				continue;
			return rc;
		}
		rc = op(c->ld, &c->rebind, ctx);
		if (nu_ldap_rc_is_link_error(rc))
			pool_drop(pool, c, true);
		else
			pool_put(pool, c);
		if (fresh || !nu_ldap_rc_is_link_error(rc) || rc == LDAP_TIMEOUT)
			return rc;
	}
	return rc;
}
