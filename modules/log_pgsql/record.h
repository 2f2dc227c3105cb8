/* One row to write (or update) in PostgreSQL, made on nuauth's thread from a
 * hook's event and handed to the writer: the kind says which prepared
 * statement stores it, params are that statement's parameters as text.
 * record.c also holds the SQL of each statement, so that the order of the
 * parameters and the statement that reads them stay side by side. */
#ifndef LOG_PGSQL_RECORD_H
#define LOG_PGSQL_RECORD_H

#include <glib.h>
#include <nuauth/module.h>

enum pgsql_record_kind {
	PGSQL_LOGIN,		/* a session row is inserted */
	PGSQL_LOGOUT,		/* its end is set (inserted whole if missing) */
	PGSQL_DECISION,		/* a connection row is inserted */
	PGSQL_CONN_END,		/* its end and byte counts are set (idem) */
	PGSQL_KINDS
};

#define PGSQL_MAX_PARAMS 16

struct pgsql_record {
	enum pgsql_record_kind kind;
	int nparams;
	char *params[PGSQL_MAX_PARAMS];	/* NULL: SQL NULL; valid UTF-8 */
};

/* The records of each event.  now_us: the wall clock (g_get_real_time()),
 * the time of a decision. */
struct pgsql_record *pgsql_record_session(const struct nuauth_session_event *ev);
struct pgsql_record *pgsql_record_decision(const struct nuauth_packet *packet,
					   const struct nuauth_user *user,
					   enum nuauth_verdict verdict, const char *acl_name,
					   gint64 now_us);
struct pgsql_record *pgsql_record_conn_end(const struct nuauth_conn_end_event *ev);
void pgsql_record_free(struct pgsql_record *r);

/* "accept", "drop" or "reject" (a verdict nuauth does not send: "drop"). */
const char *pgsql_verdict_name(enum nuauth_verdict verdict);

/* The statement that stores records of kind (allocated), for the tables
 * given as quoted identifiers; its name for PQprepare. */
char *pgsql_statement_sql(enum pgsql_record_kind kind, const char *table,
			  const char *users_table);
const char *pgsql_statement_name(enum pgsql_record_kind kind);

#endif
