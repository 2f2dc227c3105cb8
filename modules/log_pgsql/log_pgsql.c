/* The log_pgsql module: user sessions and authenticated connections in
 * PostgreSQL (the tables of conf/log_pgsql.sql).
 *
 *   user_session_log   a login inserts a row in pgsql_users_table_name; the
 *                      logout sets its end time, reason and client OS
 *   user_packet_log    a decision inserts a row in pgsql_table_name: user,
 *                      tuple, application, OS, decision, ACL, start
 *   conn_end_log       the end of an accepted connection (nufw -C) sets the
 *                      end time and the byte and packet counts of its row
 *
 * The hooks only turn the event into a record and queue it (spool.c); a
 * thread of the module's own (writer.c), started with the first record so
 * that nuauth -D's fork comes before it, writes them in batches.  Nothing
 * here waits for PostgreSQL.  The keys are in pgconf.h; with
 * "log_pgsql::file.conf" they are read from file.conf. */
#include "config.h"

#include <gmodule.h>
#include <libpq-fe.h>
#include <nuauth/module.h>

#include "log.h"
#include "pgconf.h"
#include "record.h"
#include "spool.h"
#include "writer.h"

struct log_pgsql {
	char *label;
	struct pgsql_conf conf;
	struct pgsql_spool *spool;
	struct pgsql_writer *writer;
	bool writer_failed;
};

/* libpq keeps state (OpenSSL's) that does not survive being unmapped: the
 * module stays loaded after a reload replaces it. */
G_MODULE_EXPORT const gchar *g_module_check_init(GModule *module);

G_MODULE_EXPORT const gchar *g_module_check_init(GModule *module)
{
	g_module_make_resident(module);
	return NULL;
}

/* A pgsql_conninfo libpq cannot read stops nuauth at start, not later. */
static bool conninfo_valid(struct nu_conf *conf, const char *conninfo, GError **error)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
	const char *where = nu_conf_where(conf, "pgsql_conninfo");

	if (opts) {
		PQconninfoFree(opts);
		return true;
	}
	if (err)
		g_strchomp(err);
	g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE, "%s%spgsql_conninfo: %s",
		    where ? where : "", where ? ": " : "", err ? err : "bad value");
	PQfreemem(err);
	return false;
}

static bool log_pgsql_init(void *priv, struct nu_conf *conf, const char *instance,
			   const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct log_pgsql *lp = priv;

	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			return false;
		conf = own;
	}
	if (!pgsql_conf_read(conf, &lp->conf, error) ||
	    !conninfo_valid(conf, lp->conf.conninfo, error)) {
		nu_conf_free(own);
		return false;
	}
	nu_conf_free(own);
	lp->label = instance ? g_strdup_printf("log_pgsql:%s", instance) : g_strdup("log_pgsql");
	lp->spool = pgsql_spool_new(lp->conf.queue_size);
	return true;
}

static void log_pgsql_deinit(void *priv)
{
	struct log_pgsql *lp = priv;

	pgsql_writer_stop(lp->writer, NULL);
	pgsql_spool_free(lp->spool);
	pgsql_conf_clear(&lp->conf);
	g_free(lp->label);
}

/* Runs on nuauth's thread: queue, start the writer the first time. */
static void enqueue(struct log_pgsql *lp, struct pgsql_record *r)
{
	if (!lp->writer && !lp->writer_failed) {
		lp->writer = pgsql_writer_start(&lp->conf, lp->spool, lp->label);
		lp->writer_failed = !lp->writer;
	}
	if (lp->writer_failed)
		pgsql_record_free(r);
	else
		pgsql_spool_push(lp->spool, r);	/* counts a drop when full */
}

static void log_pgsql_session(void *priv, const struct nuauth_session_event *ev)
{
	enqueue(priv, pgsql_record_session(ev));
}

static void log_pgsql_packet(void *priv, const struct nuauth_packet *packet,
			     const struct nuauth_user *user, enum nuauth_verdict verdict,
			     const char *acl_name)
{
	enqueue(priv, pgsql_record_decision(packet, user, verdict, acl_name, g_get_real_time()));
}

static void log_pgsql_conn_end(void *priv, const struct nuauth_conn_end_event *ev)
{
	enqueue(priv, pgsql_record_conn_end(ev));
}

static const struct nuauth_module log_pgsql_module = {
	NUAUTH_MODULE_HEADER,
	.name = "log_pgsql",
	.services = NUAUTH_SVC_SESSION_LOG | NUAUTH_SVC_PACKET_LOG | NUAUTH_SVC_CONN_END_LOG,
	.priv_size = sizeof(struct log_pgsql),
	.init = log_pgsql_init,
	.deinit = log_pgsql_deinit,
	.user_session_log = log_pgsql_session,
	.user_packet_log = log_pgsql_packet,
	.conn_end_log = log_pgsql_conn_end,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &log_pgsql_module;
}
