/* A module as a site writes one out of tree: built by tests/install-test.sh
 * against the installed API alone,
 *
 *     cc -shared -fPIC $(pkg-config --cflags nuauth-module) site_log.c
 *
 * and loaded from $(pkg-config --variable=moduledir nuauth-module).  At
 * each login it logs "<tag>: login N of USER (module API X.Y)", N counting
 * in its own state (priv_size).  -DSITE_MAJOR=, -DSITE_MINOR= build it as
 * if for another version of the API: minor 0 declares the smaller struct
 * of 11.0, which nuauth still loads; a newer minor or another major it
 * refuses. */
#include <nuauth/module.h>

#include "conf.h"
#include "log.h"

#ifndef SITE_MAJOR
#define SITE_MAJOR NUAUTH_MODULE_API_MAJOR
#endif
#ifndef SITE_MINOR
#define SITE_MINOR NUAUTH_MODULE_API_MINOR
#endif
#if SITE_MINOR == 0
#define SITE_SIZE NUAUTH_MODULE_SIZE_11_0
#else
#define SITE_SIZE sizeof(struct nuauth_module)
#endif

struct site_log {
	char *tag;
	unsigned logins;
};

static bool site_log_init(void *priv, struct nu_conf *conf, const char *instance,
			  const char *conffile, GError **error)
{
	struct site_log *s = priv;

	(void)conffile;
	(void)error;
	s->tag = g_strdup(nu_conf_get_str(conf, "site_log_tag", instance ? instance : "site_log"));
	return true;
}

static void site_log_deinit(void *priv)
{
	struct site_log *s = priv;

	g_free(s->tag);
}

static void site_log_session(void *priv, const struct nuauth_session_event *ev)
{
	struct site_log *s = priv;

	if (ev->kind == NUAUTH_SESSION_LOGIN)
		log_notice("%s: login %u of %s (module API %u.%u)", s->tag, ++s->logins, ev->name,
			   (unsigned)SITE_MAJOR, (unsigned)SITE_MINOR);
}

static const struct nuauth_module site_log_module = {
	.api_major = SITE_MAJOR,
	.api_minor = SITE_MINOR,
	.size = SITE_SIZE,
	.name = "site_log",
	.services = NUAUTH_SVC_SESSION_LOG,
	.priv_size = sizeof(struct site_log),
	.init = site_log_init,
	.deinit = site_log_deinit,
	.user_session_log = site_log_session,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &site_log_module;
}
