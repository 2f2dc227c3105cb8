/* Runs a module's init and deinit as nuauth does (modules.c): zeroed state
 * of priv_size bytes, deinit after a failed init, the state freed after
 * deinit. */
#ifndef NU_UNIT_MODULE_H
#define NU_UNIT_MODULE_H

#include <glib.h>
#include <nuauth/module.h>

/* The module's state after init, or NULL with *error. */
static inline void *unit_module_init(const struct nuauth_module *mod, struct nu_conf *conf,
				     const char *instance, const char *conffile, GError **error)
{
	void *priv = g_malloc0(mod->priv_size ? mod->priv_size : 1);

	if (mod->init && !mod->init(priv, conf, instance, conffile, error)) {
		if (mod->deinit)
			mod->deinit(priv);
		g_free(priv);
		return NULL;
	}
	return priv;
}

static inline void unit_module_deinit(const struct nuauth_module *mod, void *priv)
{
	if (mod->deinit)
		mod->deinit(priv);
	g_free(priv);
}

#endif
