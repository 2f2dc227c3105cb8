/* The session_expire module (nuauth_user_session_modify_module): a session
 * ends nuauth_session_duration seconds after its login.  nuauth then tells
 * the client "session expired" and closes the link, which ends the user's
 * connections as a logout does; the client may log in again.
 *
 *   nuauth_session_duration   seconds (0: sessions do not expire)
 *
 * With "session_expire::file.conf" the key is read from file.conf. */
#include "config.h"

#include <nuauth/module.h>

#include "log.h"
#include "expire.h"

struct session_expire {
	unsigned long duration;
};

static bool session_expire_init(void *priv, struct nu_conf *conf, const char *instance,
				const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct session_expire *se = priv;
	long duration;
	bool ok;

	(void)instance;
	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			return false;
		conf = own;
	}
	ok = nu_conf_get_int(conf, "nuauth_session_duration", 0, 0, 100000000, &duration, error);
	if (ok) {
		se->duration = (unsigned long)duration;
		if (!duration)
			log_notice("session_expire: nuauth_session_duration is 0: sessions do not expire");
	}
	nu_conf_free(own);
	return ok;
}

static void session_expire_modify(void *priv, const struct nuauth_session_event *ev,
				  gint64 *expires_at)
{
	const struct session_expire *se = priv;

	*expires_at = session_expire_at(ev->login_time, se->duration, *expires_at);
}

static const struct nuauth_module session_expire_module = {
	NUAUTH_MODULE_HEADER,
	.name = "session_expire",
	.services = NUAUTH_SVC_SESSION_MODIFY,
	.priv_size = sizeof(struct session_expire),
	.init = session_expire_init,
	.session_modify = session_expire_modify,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &session_expire_module;
}
