/* Loads the modules named by the nuauth_*_module keys.  Each key holds a
 * space-separated list of "name[:instance[:conffile]]"; a module loaded for
 * several hooks with the same instance name is initialised once. */
#include "config.h"
#include "nuauth.h"

#include <string.h>
#include <gmodule.h>

#include "log.h"

static struct nuauth_module_instance *find_loaded(struct nuauth_modules *mods,
						  const char *label)
{
	for (guint i = 0; i < mods->all->len; i++) {
		struct nuauth_module_instance *m = g_ptr_array_index(mods->all, i);
		if (strcmp(m->label, label) == 0)
			return m;
	}
	return NULL;
}

static struct nuauth_module_instance *load_one(struct nuauth_modules *mods,
					       struct nu_conf *conf, const char *dir,
					       const char *spec, GError **error)
{
	gchar **parts = g_strsplit(spec, ":", 3);
	const char *name = parts[0];
	const char *instance = parts[1];
	const char *conffile = instance ? parts[2] : NULL;
	char *label = instance ? g_strdup_printf("%s:%s", name, instance) : g_strdup(name);
	struct nuauth_module_instance *m = find_loaded(mods, label);
	char *file = NULL;
	GModule *handle = NULL;
	const struct nuauth_module *(*info)(void);
	const struct nuauth_module *api;

	if (m)
		goto out;
	if (!*name || strchr(name, '/')) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "bad module name `%s'", spec);
		goto out;
	}
	file = g_strdup_printf("%s/%s.so", dir, name);
	handle = g_module_open(file, G_MODULE_BIND_LOCAL);
	if (!handle) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO,
			    "module %s: cannot load %s: %s", name, file, g_module_error());
		goto out;
	}
	if (!g_module_symbol(handle, NUAUTH_MODULE_SYMBOL, (gpointer *)&info) || !info) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "module %s (%s) does not export " NUAUTH_MODULE_SYMBOL, name, file);
		goto out;
	}
	api = info();
	if (!api || api->api_version != NUAUTH_MODULE_API_VERSION) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "module %s (%s) has API version %u, nuauth needs %u", name, file,
			    api ? api->api_version : 0, NUAUTH_MODULE_API_VERSION);
		goto out;
	}
	m = g_new0(struct nuauth_module_instance, 1);
	m->api = api;
	m->handle = handle;
	m->label = label;
	label = NULL;
	handle = NULL;
	m->priv = api->init ? api->init(conf, instance, conffile, error) : m;
	if (!m->priv) {
		g_prefix_error(error, "module %s: ", m->label);
		g_module_close(m->handle);
		g_free(m->label);
		g_free(m);
		m = NULL;
		goto out;
	}
	g_ptr_array_add(mods->all, m);
	log_info("module %s loaded from %s", m->label, file);
out:
	if (handle)
		g_module_close(handle);
	g_free(file);
	g_free(label);
	g_strfreev(parts);
	return m;
}

/* Loads every module of one hook; the module must provide the hook. */
static bool load_hook(struct nuauth_modules *mods, struct nu_conf *conf, const char *dir,
		      const char *key, const char *list, GPtrArray *hook,
		      size_t hook_offset, GError **error)
{
	gchar **specs = g_strsplit_set(list, " \t", -1);
	bool ok = true;

	for (gchar **s = specs; *s && ok; s++) {
		struct nuauth_module_instance *m;

		if (!**s)
			continue;
		m = load_one(mods, conf, dir, *s, error);
		if (!m) {
			ok = false;
			break;
		}
		if (!*(void **)((const char *)m->api + hook_offset)) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s: module %s does not provide this hook", key, m->label);
			ok = false;
			break;
		}
		g_ptr_array_add(hook, m);
	}
	g_strfreev(specs);
	return ok;
}

/* check_periods' question: does a periods module define this period? */
static bool period_known(const char *period, void *ctx)
{
	GPtrArray *periods = ctx;

	for (guint i = 0; i < periods->len; i++) {
		struct nuauth_module_instance *m = g_ptr_array_index(periods, i);

		if (!m->api->period_known || m->api->period_known(m->priv, period))
			return true;
	}
	return false;
}

/* Every period an ACL names must exist, so that a typo stops nuauth at
 * start rather than silently disabling the ACL. */
static bool check_acl_periods(struct nuauth_modules *mods, GError **error)
{
	for (guint i = 0; i < mods->acl_check->len; i++) {
		struct nuauth_module_instance *m = g_ptr_array_index(mods->acl_check, i);

		if (m->api->check_periods &&
		    !m->api->check_periods(m->priv, period_known, mods->periods, error)) {
			if (!mods->periods->len && error && *error) {
				char *msg = g_strdup_printf("%s (nuauth_periods_module is not set)",
							    (*error)->message);

				g_free((*error)->message);
				(*error)->message = msg;
			}
			return false;
		}
	}
	return true;
}

static void modules_free(struct nuauth_modules *mods);

static bool load_all(struct nuauth_modules *mods, struct nu_conf *conf,
		     const struct nuauth_config *cfg, GError **error)
{
	mods->all = g_ptr_array_new();
	mods->user_check = g_ptr_array_new();
	mods->acl_check = g_ptr_array_new();
	mods->finalize_packet = g_ptr_array_new();
	mods->ip_authentication = g_ptr_array_new();
	mods->get_user_groups = g_ptr_array_new();
	mods->periods = g_ptr_array_new();
	mods->user_logs = g_ptr_array_new();
	mods->user_session_logs = g_ptr_array_new();
	mods->session_modify = g_ptr_array_new();
	if (!g_module_supported()) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "this system cannot load modules");
		return false;
	}
	return load_hook(mods, conf, cfg->module_path, "nuauth_user_check_module",
			 cfg->user_check_modules, mods->user_check,
			 G_STRUCT_OFFSET(struct nuauth_module, user_check), error) &&
	       load_hook(mods, conf, cfg->module_path, "nuauth_acl_check_module",
			 cfg->acl_check_modules, mods->acl_check,
			 G_STRUCT_OFFSET(struct nuauth_module, acl_check), error) &&
	       load_hook(mods, conf, cfg->module_path, "nuauth_finalize_packet_module",
			 cfg->finalize_packet_modules, mods->finalize_packet,
			 G_STRUCT_OFFSET(struct nuauth_module, finalize_packet), error) &&
	       (!cfg->do_ip_authentication ||
		load_hook(mods, conf, cfg->module_path, "nuauth_ip_authentication_module",
			  cfg->ip_authentication_modules, mods->ip_authentication,
			  G_STRUCT_OFFSET(struct nuauth_module, ip_authentication), error)) &&
	       /* Users found by address or by certificate have no password. */
	       ((!cfg->do_ip_authentication && !cfg->tls_auth_by_cert) ||
		load_hook(mods, conf, cfg->module_path, "nuauth_get_user_groups_module",
			  cfg->get_user_groups_modules, mods->get_user_groups,
			  G_STRUCT_OFFSET(struct nuauth_module, get_user_groups), error)) &&
	       load_hook(mods, conf, cfg->module_path, "nuauth_periods_module",
			 cfg->periods_modules, mods->periods,
			 G_STRUCT_OFFSET(struct nuauth_module, period_check), error) &&
	       load_hook(mods, conf, cfg->module_path, "nuauth_user_logs_module",
			 cfg->user_logs_modules, mods->user_logs,
			 G_STRUCT_OFFSET(struct nuauth_module, user_packet_log), error) &&
	       load_hook(mods, conf, cfg->module_path, "nuauth_user_session_logs_module",
			 cfg->user_session_logs_modules, mods->user_session_logs,
			 G_STRUCT_OFFSET(struct nuauth_module, user_session_log), error) &&
	       load_hook(mods, conf, cfg->module_path, "nuauth_user_session_modify_module",
			 cfg->session_modify_modules, mods->session_modify,
			 G_STRUCT_OFFSET(struct nuauth_module, session_modify), error) &&
	       check_acl_periods(mods, error);
}

struct nuauth_modules *nuauth_modules_load(struct nu_conf *conf,
					   const struct nuauth_config *cfg, GError **error)
{
	struct nuauth_modules *mods = g_new0(struct nuauth_modules, 1);

	mods->refs = 1;
	if (!load_all(mods, conf, cfg, error)) {
		modules_free(mods);
		return NULL;
	}
	return mods;
}

struct nuauth_modules *nuauth_modules_ref(struct nuauth_modules *mods)
{
	g_atomic_int_inc(&mods->refs);
	return mods;
}

void nuauth_modules_unref(struct nuauth_modules *mods)
{
	if (!mods || !g_atomic_int_dec_and_test(&mods->refs))
		return;
	log_debug("a set of %u module(s) is no longer used: unloading it", mods->all->len);
	modules_free(mods);
}

static void modules_free(struct nuauth_modules *mods)
{
	if (!mods->all) {
		g_free(mods);
		return;
	}
	for (guint i = mods->all->len; i-- > 0;) {
		struct nuauth_module_instance *m = g_ptr_array_index(mods->all, i);
		if (m->api->deinit)
			m->api->deinit(m->priv);
		g_module_close(m->handle);
		g_free(m->label);
		g_free(m);
	}
	g_ptr_array_free(mods->all, TRUE);
	g_ptr_array_free(mods->user_check, TRUE);
	g_ptr_array_free(mods->acl_check, TRUE);
	g_ptr_array_free(mods->finalize_packet, TRUE);
	g_ptr_array_free(mods->ip_authentication, TRUE);
	g_ptr_array_free(mods->get_user_groups, TRUE);
	g_ptr_array_free(mods->periods, TRUE);
	g_ptr_array_free(mods->user_logs, TRUE);
	g_ptr_array_free(mods->user_session_logs, TRUE);
	g_ptr_array_free(mods->session_modify, TRUE);
	g_free(mods);
}

void nuauth_hooks_session_log(struct nuauth_server *srv, const struct nuauth_session_event *ev)
{
	GPtrArray *hook = srv->modules->user_session_logs;

	if (!(srv->cfg.log_users & NUAUTH_LOG_SESSIONS))
		return;
	for (guint i = 0; i < hook->len; i++) {
		struct nuauth_module_instance *m = g_ptr_array_index(hook, i);

		m->api->user_session_log(m->priv, ev);
	}
}

void nuauth_hooks_packet_log(struct nuauth_server *srv, const struct nuauth_packet *packet,
			     const struct nuauth_user *user, int verdict, const char *acl_name)
{
	GPtrArray *hook = srv->modules->user_logs;
	unsigned want = srv->cfg.log_users;

	if (!(want & NUAUTH_LOG_ALL) &&
	    !(want & (verdict == NU_VERDICT_ACCEPT ? NUAUTH_LOG_ACCEPTS : NUAUTH_LOG_DROPS)))
		return;
	for (guint i = 0; i < hook->len; i++) {
		struct nuauth_module_instance *m = g_ptr_array_index(hook, i);

		m->api->user_packet_log(m->priv, packet, user, verdict, acl_name);
	}
}

void nuauth_hooks_conn_end(struct nuauth_server *srv, const struct nuauth_conn_end_event *ev)
{
	GPtrArray *hook = srv->modules->user_logs;

	if (!(srv->cfg.log_users & (NUAUTH_LOG_ACCEPTS | NUAUTH_LOG_ALL)))
		return;
	for (guint i = 0; i < hook->len; i++) {
		struct nuauth_module_instance *m = g_ptr_array_index(hook, i);

		if (m->api->conn_end_log)
			m->api->conn_end_log(m->priv, ev);
	}
}

gint64 nuauth_hooks_session_expiry(struct nuauth_server *srv,
				   const struct nuauth_session_event *ev)
{
	GPtrArray *hook = srv->modules->session_modify;
	gint64 expires_at = 0;

	for (guint i = 0; i < hook->len; i++) {
		struct nuauth_module_instance *m = g_ptr_array_index(hook, i);

		m->api->session_modify(m->priv, ev, &expires_at);
	}
	return expires_at;
}
