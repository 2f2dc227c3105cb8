/* The ldap module's configuration keys (see ldapconf.h). */
#include "config.h"
#include "ldapconf.h"

#include <string.h>

#include "filter.h"

#define DEFAULT_USER_FILTER "(&(objectClass=posixAccount)(uid=%u))"
#define DEFAULT_GROUP_FILTER "(|(&(objectClass=posixGroup)(memberUid=%u))" \
	"(&(objectClass=groupOfNames)(member=%d)))"

static void bad_value(struct nu_conf *conf, const char *key, GError **error,
		      const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void bad_value(struct nu_conf *conf, const char *key, GError **error,
		      const char *fmt, ...)
{
	const char *where = nu_conf_where(conf, key);
	va_list ap;
	char *why;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE, "%s%s%s: %s",
		    where ? where : "", where ? ": " : "", key, why);
	g_free(why);
}

/* Every space-separated URI names a scheme libldap speaks. */
static bool uri_ok(const char *uris)
{
	char **list = g_strsplit_set(uris, " \t", -1);
	unsigned n = 0;
	bool ok = true;

	for (char **u = list; *u && ok; u++) {
		if (!**u)
			continue;
		n++;
		ok = (g_str_has_prefix(*u, "ldap://") || g_str_has_prefix(*u, "ldaps://") ||
		      g_str_has_prefix(*u, "ldapi://"));
	}
	g_strfreev(list);
	return ok && n > 0;
}

static bool read_uri(struct nu_conf *conf, struct nu_ldap_conf *c, GError **error)
{
	const char *uri = nu_conf_get_str(conf, "ldap_uri", NULL);
	const char *addr = nu_conf_get_str(conf, "ldap_server_addr", "127.0.0.1");
	long port;

	if (!nu_conf_get_int(conf, "ldap_server_port", 389, 1, 65535, &port, error))
		return false;
	if (uri) {
		if (!uri_ok(uri)) {
			bad_value(conf, "ldap_uri", error,
				  "`%s' is not a list of ldap://, ldaps:// or ldapi:// URIs", uri);
			return false;
		}
		c->uri = g_strdup(uri);
		return true;
	}
	if (!*addr || strpbrk(addr, " \t/[]")) {
		bad_value(conf, "ldap_server_addr", error, "`%s' is not a host name or address",
			  addr);
		return false;
	}
	/* An IPv6 address goes in brackets. */
	c->uri = strchr(addr, ':') ? g_strdup_printf("ldap://[%s]:%ld", addr, port)
				   : g_strdup_printf("ldap://%s:%ld", addr, port);
	return true;
}

static bool read_filter(struct nu_conf *conf, const char *key, const char *def, bool allow_dn,
			char **out, GError **error)
{
	const char *f = nu_conf_get_str(conf, key, def);
	char *why = NULL;

	if (!nu_ldap_filter_template_ok(f, allow_dn, &why)) {
		bad_value(conf, key, error, "%s", why);
		g_free(why);
		return false;
	}
	*out = g_strdup(f);
	return true;
}

static bool read_uint(struct nu_conf *conf, const char *key, long def, long min, long max,
		      unsigned *out, GError **error)
{
	long v;

	if (!nu_conf_get_int(conf, key, def, min, max, &v, error))
		return false;
	*out = (unsigned)v;
	return true;
}

bool nu_ldap_conf_read(struct nu_conf *conf, struct nu_ldap_conf *c, GError **error)
{
	const char *base = nu_conf_get_str(conf, "ldap_base_dn", "");
	const char *check = nu_conf_get_str(conf, "ldap_password_check", "bind");

	memset(c, 0, sizeof(*c));
	if (!read_uri(conf, c, error))
		goto fail;
	c->bind_dn = g_strdup(nu_conf_get_str(conf, "ldap_bind_dn", ""));
	c->bind_password = g_strdup(nu_conf_get_str(conf, "ldap_bind_password", ""));
	c->users_base_dn = g_strdup(nu_conf_get_str(conf, "ldap_users_base_dn", base));
	c->groups_base_dn = g_strdup(nu_conf_get_str(conf, "ldap_groups_base_dn", base));
	c->acls_base_dn = g_strdup(nu_conf_get_str(conf, "ldap_acls_base_dn", ""));
	if (!*c->users_base_dn) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "ldap: neither ldap_users_base_dn nor ldap_base_dn is set");
		goto fail;
	}
	if (strcmp(check, "bind") == 0) {
		c->password_check = NU_LDAP_CHECK_BIND;
	} else if (strcmp(check, "compare") == 0) {
		c->password_check = NU_LDAP_CHECK_COMPARE;
	} else {
		bad_value(conf, "ldap_password_check", error,
			  "`%s': expected bind or compare", check);
		goto fail;
	}
	if (*c->bind_password && !*c->bind_dn) {
		bad_value(conf, "ldap_bind_password", error, "%s", "set without ldap_bind_dn");
		goto fail;
	}
	if (!read_filter(conf, "ldap_user_filter", DEFAULT_USER_FILTER, false,
			 &c->user_filter, error) ||
	    !read_filter(conf, "ldap_group_filter", DEFAULT_GROUP_FILTER, true,
			 &c->group_filter, error) ||
	    !read_uint(conf, "ldap_request_timeout", 3, 1, 300, &c->request_timeout, error) ||
	    !read_uint(conf, "ldap_network_timeout", 2, 1, 300, &c->network_timeout, error) ||
	    !read_uint(conf, "ldap_pool_size", 4, 1, 256, &c->pool_size, error) ||
	    !read_uint(conf, "ldap_acls_refresh", 0, 0, 86400, &c->acls_refresh, error))
		goto fail;
	if (c->acls_refresh && !*c->acls_base_dn) {
		bad_value(conf, "ldap_acls_refresh", error, "%s", "set without ldap_acls_base_dn");
		goto fail;
	}
	return true;
fail:
	nu_ldap_conf_clear(c);
	return false;
}

void nu_ldap_conf_clear(struct nu_ldap_conf *c)
{
	g_free(c->uri);
	if (c->bind_password)
		explicit_bzero(c->bind_password, strlen(c->bind_password));
	g_free(c->bind_password);
	g_free(c->bind_dn);
	g_free(c->users_base_dn);
	g_free(c->groups_base_dn);
	g_free(c->acls_base_dn);
	g_free(c->user_filter);
	g_free(c->group_filter);
	memset(c, 0, sizeof(*c));
}
