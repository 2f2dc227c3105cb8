/* log_pgsql's keys (nuauth.conf, or the module's own file):
 *
 *   pgsql_server_addr          host name, address or socket folder (127.0.0.1)
 *   pgsql_server_port          5432
 *   pgsql_user, pgsql_passwd   nufw, "" (no password)
 *   pgsql_db_name              nufw
 *   pgsql_table_name           the connections table (ulog)
 *   pgsql_users_table_name     the sessions table (users)
 *   pgsql_request_timeout      s, to connect and for one batch (10)
 *   pgsql_ssl                  libpq's sslmode: disable, allow, prefer,
 *                              require, verify-ca, verify-full (prefer)
 *   pgsql_conninfo             a libpq connection string; when set, the
 *                              address, port, user, password and database
 *                              keys apply only where they are given
 *   pgsql_queue_size           records waiting for the writer (10000)
 *   pgsql_reconnect_max_delay  s, longest wait between two tries (30)
 *
 * Bad values give "file:line: key: why". */
#ifndef LOG_PGSQL_PGCONF_H
#define LOG_PGSQL_PGCONF_H

#include <stdbool.h>
#include <glib.h>

#include "conf.h"

struct pgsql_conf {
	char *conninfo;			/* what libpq connects with */
	char *table;			/* quoted identifiers, ready for SQL */
	char *users_table;
	unsigned request_timeout;	/* s */
	unsigned queue_size;
	unsigned reconnect_max_delay;	/* s */
};

/* Reads the keys; false with *error (file:line) on a bad value. */
bool pgsql_conf_read(struct nu_conf *conf, struct pgsql_conf *out, GError **error);
void pgsql_conf_clear(struct pgsql_conf *c);

/* "name" or "schema.name" (letters, digits, _; not starting with a digit)
 * as a quoted SQL identifier, or NULL when name is not such a name. */
char *pgsql_quote_table(const char *name);
/* Appends " key='value'" to s, value escaped for a libpq conninfo string. */
void pgsql_conninfo_add(GString *s, const char *key, const char *value);

#endif
