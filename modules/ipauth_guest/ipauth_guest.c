/* The ipauth_guest module: a packet that no logged-in client can claim
 * belongs to one fixed user (NuFW's ipauth_guest), so that ACLs written for
 * that user ("guest") decide traffic from hosts without a client.
 *
 *   ipauth_guest_username   the user (default "guest"), whose uid and groups
 *                           come from nuauth_get_user_groups_module */
#include "config.h"

#include <string.h>
#include <nuauth/module.h>

struct ipauth_guest {
	char *username;
};

static bool ipauth_guest_init(void *priv, struct nu_conf *conf, const char *instance,
			      const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct ipauth_guest *g = priv;

	(void)instance;
	if (conffile && !(own = nu_conf_load(conffile, error)))
		return false;
	g->username = g_strdup(nu_conf_get_str(own ? own : conf, "ipauth_guest_username", "guest"));
	nu_conf_free(own);
	return true;
}

static void ipauth_guest_deinit(void *priv)
{
	struct ipauth_guest *g = priv;

	g_free(g->username);
}

static bool ipauth_guest_authenticate(void *priv, const struct nuauth_packet *packet,
				      char *user, size_t cap)
{
	struct ipauth_guest *g = priv;

	(void)packet;
	return g_strlcpy(user, g->username, cap) < cap;
}

static const struct nuauth_module ipauth_guest_module = {
	NUAUTH_MODULE_HEADER,
	.name = "ipauth_guest",
	.services = NUAUTH_SVC_IP_AUTHENTICATION,
	.priv_size = sizeof(struct ipauth_guest),
	.init = ipauth_guest_init,
	.deinit = ipauth_guest_deinit,
	.ip_authentication = ipauth_guest_authenticate,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &ipauth_guest_module;
}
