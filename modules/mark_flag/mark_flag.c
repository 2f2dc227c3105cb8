/* The mark_flag finalize_packet module (see mark_flag.h). */
#include "config.h"
#include "mark_flag.h"

#include <nuauth/module.h>

#include "log.h"
#include "markbits.h"

uint32_t mark_flag_mark(const struct mark_flag *mf, uint32_t mark, uint32_t flags)
{
	return markbits_put(mark, markbits_get(flags, mf->nbits, mf->flag_shift), mf->nbits,
			    mf->mark_shift);
}

static bool mark_flag_init(void *priv, struct nu_conf *conf, const char *instance,
			   const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct mark_flag *mf = priv;

	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			goto fail;
		conf = own;
	}
	if (!markbits_conf_field(conf, "mark_flag_nbits", 16, "mark_flag_flag_shift", 0,
				 &mf->nbits, &mf->flag_shift, error) ||
	    !markbits_conf_field(conf, "mark_flag_nbits", 16, "mark_flag_mark_shift", 0,
				 &mf->nbits, &mf->mark_shift, error))
		goto fail;
	log_info("mark_flag%s%s: flag bits %u..%u to mark bits %u..%u",
		 instance ? ":" : "", instance ? instance : "",
		 mf->flag_shift, mf->flag_shift + mf->nbits - 1,
		 mf->mark_shift, mf->mark_shift + mf->nbits - 1);
	nu_conf_warn_unused(own);
	nu_conf_free(own);
	return true;
fail:
	nu_conf_free(own);
	return false;
}

static int mark_flag_finalize(void *priv, const struct nuauth_packet *packet,
			      const struct nuauth_user *user,
			      const struct nuauth_acl_match *acl, uint32_t *mark)
{
	(void)packet;
	(void)user;
	*mark = mark_flag_mark(priv, *mark, acl ? acl->flags : 0);
	return 0;
}

static const struct nuauth_module mark_flag_module = {
	NUAUTH_MODULE_HEADER,
	.name = "mark_flag",
	.services = NUAUTH_SVC_FINALIZE_PACKET,
	.priv_size = sizeof(struct mark_flag),
	.init = mark_flag_init,
	.finalize_packet = mark_flag_finalize,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &mark_flag_module;
}
