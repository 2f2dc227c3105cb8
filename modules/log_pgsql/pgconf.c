/* log_pgsql's keys into struct pgsql_conf (see pgconf.h). */
#include "config.h"
#include "pgconf.h"

#include <string.h>

static const char *const ssl_modes[] = {
	"disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL
};

static bool valid_name_part(const char *p, size_t len)
{
	if (len == 0 || len > 63 || g_ascii_isdigit(p[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isalnum(p[i]) && p[i] != '_')
			return false;
	return true;
}

char *pgsql_quote_table(const char *name)
{
	const char *dot = strchr(name, '.');

	if (!dot)
		return valid_name_part(name, strlen(name)) ? g_strdup_printf("\"%s\"", name) : NULL;
	if (!valid_name_part(name, (size_t)(dot - name)) ||
	    !valid_name_part(dot + 1, strlen(dot + 1)))
		return NULL;
	return g_strdup_printf("\"%.*s\".\"%s\"", (int)(dot - name), name, dot + 1);
}

void pgsql_conninfo_add(GString *s, const char *key, const char *value)
{
	g_string_append_printf(s, "%s%s='", s->len ? " " : "", key);
	for (const char *p = value; *p; p++) {
		if (*p == '\'' || *p == '\\')
			g_string_append_c(s, '\\');
		g_string_append_c(s, *p);
	}
	g_string_append_c(s, '\'');
}

static bool bad_value(struct nu_conf *conf, const char *key, const char *value,
		      const char *why, GError **error)
{
	g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE, "%s: %s: `%s' %s",
		    nu_conf_where(conf, key), key, value, why);
	return false;
}

static bool read_table(struct nu_conf *conf, const char *key, const char *def,
		       char **out, GError **error)
{
	const char *name = nu_conf_get_str(conf, key, def);

	*out = pgsql_quote_table(name);
	if (!*out)
		return bad_value(conf, key, name,
				 "is not a table name (letters, digits and _, as name or schema.name)",
				 error);
	return true;
}

/* A connection key: added when given, or with its default when no
 * pgsql_conninfo is. */
static void add_key(struct nu_conf *conf, GString *ci, bool has_conninfo,
		    const char *key, const char *libpq_key, const char *def)
{
	const char *value = nu_conf_get_str(conf, key, NULL);

	if (!value && has_conninfo)
		return;
	if (!value)
		value = def;
	if (*value)
		pgsql_conninfo_add(ci, libpq_key, value);
}

bool pgsql_conf_read(struct nu_conf *conf, struct pgsql_conf *out, GError **error)
{
	const char *conninfo = nu_conf_get_str(conf, "pgsql_conninfo", "");
	const char *ssl = nu_conf_get_str(conf, "pgsql_ssl", "prefer");
	bool has_conninfo = *conninfo != '\0';
	long port, timeout, queue, delay;
	GString *ci;
	char num[16];

	memset(out, 0, sizeof(*out));
	if (!g_strv_contains(ssl_modes, ssl))
		return bad_value(conf, "pgsql_ssl", ssl,
				 "is not one of disable, allow, prefer, require, verify-ca, verify-full",
				 error);
	if (!nu_conf_get_int(conf, "pgsql_server_port", 5432, 1, 65535, &port, error) ||
	    !nu_conf_get_int(conf, "pgsql_request_timeout", 10, 1, 3600, &timeout, error) ||
	    !nu_conf_get_int(conf, "pgsql_queue_size", 10000, 1, 10000000, &queue, error) ||
	    !nu_conf_get_int(conf, "pgsql_reconnect_max_delay", 30, 1, 3600, &delay, error))
		return false;
	if (!read_table(conf, "pgsql_table_name", "ulog", &out->table, error) ||
	    !read_table(conf, "pgsql_users_table_name", "users", &out->users_table, error)) {
		pgsql_conf_clear(out);
		return false;
	}
	ci = g_string_new(conninfo);
	add_key(conf, ci, has_conninfo, "pgsql_server_addr", "host", "127.0.0.1");
	if (!has_conninfo || nu_conf_where(conf, "pgsql_server_port")) {
		g_snprintf(num, sizeof(num), "%ld", port);
		pgsql_conninfo_add(ci, "port", num);
	}
	add_key(conf, ci, has_conninfo, "pgsql_user", "user", "nufw");
	add_key(conf, ci, has_conninfo, "pgsql_passwd", "password", "");
	add_key(conf, ci, has_conninfo, "pgsql_db_name", "dbname", "nufw");
	if (!has_conninfo || nu_conf_where(conf, "pgsql_ssl"))
		pgsql_conninfo_add(ci, "sslmode", ssl);
	g_snprintf(num, sizeof(num), "%ld", timeout);
	pgsql_conninfo_add(ci, "connect_timeout", num);
	pgsql_conninfo_add(ci, "application_name", "nuauth log_pgsql");
	pgsql_conninfo_add(ci, "client_encoding", "UTF8");	/* records are UTF-8 */
	out->conninfo = g_string_free(ci, FALSE);
	out->request_timeout = (unsigned)timeout;
	out->queue_size = (unsigned)queue;
	out->reconnect_max_delay = (unsigned)delay;
	return true;
}

void pgsql_conf_clear(struct pgsql_conf *c)
{
	if (c->conninfo)
		memset(c->conninfo, 0, strlen(c->conninfo));	/* it may hold a password */
	g_free(c->conninfo);
	g_free(c->table);
	g_free(c->users_table);
	memset(c, 0, sizeof(*c));
}
