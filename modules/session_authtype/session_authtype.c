/* The session_authtype module (nuauth_user_session_modify_module): allows
 * or refuses a user's login by the user's groups and by how the user
 * logged in, with NuFW's keys:
 *
 *   session_authtype_blacklist_groups  gids: a member of any is refused
 *   session_authtype_whitelist_groups  gids: only members of one may log in
 *   session_authtype_sasl_groups       gids: a login by password (PLAIN,
 *                                      SCRAM) only for members of one
 *   session_authtype_ssl_groups        gids: a login by certificate
 *                                      (EXTERNAL) only for members of one
 *
 * Each is a comma list of numeric group ids; a key left out (or empty)
 * does not restrict.  The check runs once the password or certificate was
 * proven, before the session starts: a refused user's client gets the
 * reason with the failed login.  With "session_authtype::file.conf" the
 * keys are read from file.conf. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nuauth/module.h>

#include "conf.h"
#include "log.h"

enum authtype_list {
	LIST_BLACK,
	LIST_WHITE,
	LIST_SASL,
	LIST_SSL,
	LIST_COUNT
};

static const char *const list_keys[LIST_COUNT] = {
	[LIST_BLACK] = "session_authtype_blacklist_groups",
	[LIST_WHITE] = "session_authtype_whitelist_groups",
	[LIST_SASL] = "session_authtype_sasl_groups",
	[LIST_SSL] = "session_authtype_ssl_groups",
};

struct session_authtype {
	GArray *lists[LIST_COUNT];	/* guint32 gids; NULL: no restriction */
};

/* Reads one key's comma list of gids into *out (NULL when absent or
 * empty).  false with *error "file:line: key: ..." on a bad item. */
static bool read_list(struct nu_conf *conf, const char *key, GArray **out, GError **error)
{
	const char *value = nu_conf_get_str(conf, key, NULL);
	char **items;
	bool ok = true;

	*out = NULL;
	if (!value)
		return true;
	items = g_strsplit(value, ",", -1);
	for (char **it = items; *it; it++) {
		char *item = g_strstrip(*it), *end;
		unsigned long gid;

		if (!*item)
			continue;
		errno = 0;
		gid = strtoul(item, &end, 10);
		if (errno || *end || item[0] == '-' || gid > G_MAXUINT32) {
			const char *where = nu_conf_where(conf, key);

			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s: %s: `%s' is not a numeric group id", where ? where : key,
				    key, item);
			ok = false;
			break;
		}
		if (!*out)
			*out = g_array_new(FALSE, FALSE, sizeof(guint32));
		g_array_append_val(*out, (guint32){ (guint32)gid });
	}
	g_strfreev(items);
	return ok;
}

static bool session_authtype_init(void *priv, struct nu_conf *conf, const char *instance,
				  const char *conffile, GError **error)
{
	struct session_authtype *st = priv;
	struct nu_conf *own = NULL;
	bool ok = true;

	(void)instance;
	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			return false;
		conf = own;
	}
	for (int i = 0; ok && i < LIST_COUNT; i++)
		ok = read_list(conf, list_keys[i], &st->lists[i], error);
	if (ok && !st->lists[LIST_BLACK] && !st->lists[LIST_WHITE] && !st->lists[LIST_SASL] &&
	    !st->lists[LIST_SSL])
		log_notice("session_authtype: none of its keys is set: every login is allowed");
	nu_conf_free(own);
	return ok;
}

static void session_authtype_deinit(void *priv)
{
	struct session_authtype *st = priv;

	for (int i = 0; i < LIST_COUNT; i++)
		if (st->lists[i])
			g_array_free(st->lists[i], TRUE);
}

/* The first of the user's groups in list, or -1 when none is. */
static gint64 member_of(const struct nuauth_session_event *ev, const GArray *list)
{
	for (size_t i = 0; i < ev->ngroups; i++)
		for (guint j = 0; j < list->len; j++)
			if (ev->groups[i] == g_array_index(list, guint32, j))
				return ev->groups[i];
	return -1;
}

static bool session_authtype_check(void *priv, const struct nuauth_session_event *ev, char *why,
				   size_t cap)
{
	const struct session_authtype *st = priv;
	bool by_cert = ev->auth_quality == NUAUTH_AUTHQ_CERTIFICATE;
	enum authtype_list by_type = by_cert ? LIST_SSL : LIST_SASL;
	gint64 gid;

	if (st->lists[LIST_BLACK] && (gid = member_of(ev, st->lists[LIST_BLACK])) >= 0) {
		g_snprintf(why, cap, "user %s is in blacklisted group %" G_GINT64_FORMAT
			   " (session_authtype_blacklist_groups)", ev->name, gid);
		return false;
	}
	if (st->lists[LIST_WHITE] && member_of(ev, st->lists[LIST_WHITE]) < 0) {
		g_snprintf(why, cap, "user %s is in none of session_authtype_whitelist_groups",
			   ev->name);
		return false;
	}
	if (st->lists[by_type] && member_of(ev, st->lists[by_type]) < 0) {
		g_snprintf(why, cap, "user %s may not log in by %s (not in %s)", ev->name,
			   by_cert ? "certificate" : "password", list_keys[by_type]);
		return false;
	}
	return true;
}

static const struct nuauth_module session_authtype_module = {
	NUAUTH_MODULE_HEADER,
	.name = "session_authtype",
	.services = NUAUTH_SVC_SESSION_CHECK,
	.priv_size = sizeof(struct session_authtype),
	.init = session_authtype_init,
	.deinit = session_authtype_deinit,
	.session_check = session_authtype_check,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &session_authtype_module;
}
