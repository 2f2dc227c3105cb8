/* Loads the modules named by the nuauth_*_module keys (hooks.c's table of
 * hook kinds).  Each key holds a space-separated list of
 * "name[:instance[:conffile]]"; a module loaded for several hooks with the
 * same instance name is initialised once.  A module's description is
 * checked against this nuauth's API (major, minor, size, services) and
 * copied; the instance's state (priv_size) is allocated here. */
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

bool nuauth_module_api_check(const struct nuauth_module *api, const char *file,
			     GError **error)
{
	uint32_t have = 0;

	if (api->api_major != NUAUTH_MODULE_API_MAJOR || api->api_minor > NUAUTH_MODULE_API_MINOR) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "module %s was built for module API %u.%u, which this nuauth (API "
			    "%u.%u) cannot load: rebuild it against nuauth's module.h", file,
			    api->api_major, api->api_minor, NUAUTH_MODULE_API_MAJOR,
			    NUAUTH_MODULE_API_MINOR);
		return false;
	}
	if (api->size < NUAUTH_MODULE_SIZE_11_0 || api->size > sizeof(struct nuauth_module)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "module %s: its description has %u bytes, API %u.%u has %zu to %zu",
			    file, api->size, NUAUTH_MODULE_API_MAJOR, api->api_minor,
			    (size_t)NUAUTH_MODULE_SIZE_11_0, sizeof(struct nuauth_module));
		return false;
	}
	for (size_t i = 0; i < nuauth_services_count; i++) {
		const struct nuauth_service_desc *sv = &nuauth_services[i];
		bool within = sv->offset + sizeof(void (*)(void)) <= api->size &&
			      sv->minor <= api->api_minor;

		have |= sv->bit;
		if (!(api->services & sv->bit))
			continue;
		if (!within || !*(void *const *)((const char *)api + sv->offset)) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "module %s declares the service %s but %s", file, sv->name,
				    within ? "has no such hook" : "its API version has no such hook");
			return false;
		}
	}
	if (api->services & ~have) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "module %s declares unknown services 0x%x", file,
			    (unsigned)(api->services & ~have));
		return false;
	}
	return true;
}

/* Our copy of api: the module's fields up to its size, then only the
 * hooks it declared. */
static void copy_description(struct nuauth_module *dst, const struct nuauth_module *api)
{
	memset(dst, 0, sizeof(*dst));
	memcpy(dst, api, MIN((size_t)api->size, sizeof(*dst)));
	for (size_t i = 0; i < nuauth_services_count; i++)
		if (!(api->services & nuauth_services[i].bit))
			*(void **)((char *)dst + nuauth_services[i].offset) = NULL;
}

static void instance_free(struct nuauth_module_instance *m)
{
	if (m->desc.deinit)
		m->desc.deinit(m->priv);
	g_free(m->priv);
	g_module_close(m->handle);
	g_free(m->label);
	g_free(m);
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
	if (!api) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "module %s (%s): " NUAUTH_MODULE_SYMBOL " returned nothing", name, file);
		goto out;
	}
	if (!nuauth_module_api_check(api, file, error))
		goto out;
	m = g_new0(struct nuauth_module_instance, 1);
	copy_description(&m->desc, api);
	m->handle = handle;
	m->label = label;
	label = NULL;
	handle = NULL;
	m->priv = m->desc.priv_size ? g_malloc0(m->desc.priv_size) : NULL;
	if (m->desc.init && !m->desc.init(m->priv, conf, instance, conffile, error)) {
		if (error && !*error)
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE, "init failed");
		g_prefix_error(error, "module %s: ", m->label);
		instance_free(m);
		m = NULL;
		goto out;
	}
	g_ptr_array_add(mods->all, m);
	log_info("module %s loaded from %s (API %u.%u)", m->label, file, m->desc.api_major,
		 m->desc.api_minor);
out:
	if (handle)
		g_module_close(handle);
	g_free(file);
	g_free(label);
	g_strfreev(parts);
	return m;
}

/* Loads every module of one hook kind; each must provide its service. */
static bool load_hook(struct nuauth_modules *mods, struct nu_conf *conf, const char *dir,
		      enum nuauth_hook h, const char *list, GError **error)
{
	const struct nuauth_hook_kind *kind = &nuauth_hook_kinds[h];
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
		if (!(m->desc.services & kind->services)) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s: module %s does not provide this hook", kind->key, m->label);
			ok = false;
			break;
		}
		g_ptr_array_add(mods->hook[h], m);
	}
	g_strfreev(specs);
	return ok;
}

static void modules_free(struct nuauth_modules *mods);

static bool load_all(struct nuauth_modules *mods, struct nu_conf *conf,
		     const struct nuauth_config *cfg, GError **error)
{
	mods->all = g_ptr_array_new();
	for (unsigned h = 0; h < NUAUTH_HOOK_COUNT; h++)
		mods->hook[h] = g_ptr_array_new();
	if (!g_module_supported()) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "this system cannot load modules");
		return false;
	}
	for (unsigned h = 0; h < NUAUTH_HOOK_COUNT; h++) {
		const struct nuauth_hook_kind *kind = &nuauth_hook_kinds[h];

		if ((!kind->wanted || kind->wanted(cfg)) &&
		    !load_hook(mods, conf, cfg->module_path, h, cfg->hook_modules[h], error))
			return false;
	}
	return nuauth_hooks_check_acl_periods(mods, error);
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
	for (guint i = mods->all->len; i-- > 0;)
		instance_free(g_ptr_array_index(mods->all, i));
	g_ptr_array_free(mods->all, TRUE);
	for (unsigned h = 0; h < NUAUTH_HOOK_COUNT; h++)
		g_ptr_array_free(mods->hook[h], TRUE);
	g_free(mods);
}
