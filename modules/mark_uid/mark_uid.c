/* The mark_uid finalize_packet module (see mark_uid.h). */
#include "config.h"
#include "mark_uid.h"

#include <nuauth/module.h>

uint32_t mark_uid_apply(uint32_t mark, uint32_t uid)
{
	return (mark & ~MARK_UID_MASK) | (uid & MARK_UID_MASK);
}

/* No state: any non-NULL pointer tells nuauth that init succeeded. */
static char mark_uid_state;

static void *mark_uid_init(struct nu_conf *conf, const char *instance,
			   const char *conffile, GError **error)
{
	(void)conf;
	(void)instance;
	(void)conffile;
	(void)error;
	return &mark_uid_state;
}

static int mark_uid_finalize(void *priv, const struct nuauth_packet *packet,
			     const struct nuauth_user *user,
			     const struct nuauth_acl_match *acl, uint32_t *mark)
{
	(void)priv;
	(void)packet;
	(void)acl;
	if (user)
		*mark = mark_uid_apply(*mark, user->uid);
	return 0;
}

static const struct nuauth_module mark_uid_module = {
	.api_version = NUAUTH_MODULE_API_VERSION,
	.name = "mark_uid",
	.init = mark_uid_init,
	.finalize_packet = mark_uid_finalize,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &mark_uid_module;
}
