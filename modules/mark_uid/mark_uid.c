/* The mark_uid finalize_packet module (see mark_uid.h). */
#include "config.h"
#include "mark_uid.h"

#include <inttypes.h>
#include <nuauth/module.h>

#include "log.h"
#include "markbits.h"

enum mark_uid_status mark_uid_put(const struct mark_uid *mu, uint32_t mark, uint32_t uid,
				  uint32_t *out)
{
	if (!markbits_fits(uid, mu->nbits))
		return MARK_UID_TOO_BIG;
	if (uid == 0)
		return MARK_UID_ZERO;
	*out = markbits_put(mark, uid, mu->nbits, mu->shift);
	return MARK_UID_OK;
}

static bool mark_uid_init(void *priv, struct nu_conf *conf, const char *instance,
			  const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct mark_uid *mu = priv;
	uint32_t max_uid;

	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			goto fail;
		conf = own;
	} else if (!conf) {
		conf = own = nu_conf_new_empty();
	}
	if (!markbits_conf_field(conf, "mark_uid_nbits", 16, "mark_uid_shift", 0, &mu->nbits,
				 &mu->shift, error))
		goto fail;
	if (nu_conf_get_str(conf, "mark_uid_max_uid", NULL)) {
		if (!markbits_conf_u32(conf, "mark_uid_max_uid", 0, &max_uid, error) ||
		    !markbits_conf_fits(conf, "mark_uid_max_uid", max_uid, "mark_uid_nbits",
					mu->nbits, error))
			goto fail;
	}
	log_info("mark_uid%s%s: uids 1 to %" PRIu32 " in bits %u..%u of the mark; "
		 "others are dropped",
		 instance ? ":" : "", instance ? instance : "", markbits_low(mu->nbits),
		 mu->shift, mu->shift + mu->nbits - 1);
	nu_conf_warn_unused(conffile ? own : NULL);
	nu_conf_free(own);
	return true;
fail:
	nu_conf_free(own);
	return false;
}

/* A uid the field cannot hold is a drop, never a truncated mark that
 * another user's uid, or no user's, would give too. */
static int mark_uid_finalize(void *priv, const struct nuauth_packet *packet,
			     const struct nuauth_user *user,
			     const struct nuauth_acl_match *acl, uint32_t *mark)
{
	const struct mark_uid *mu = priv;

	(void)packet;
	(void)acl;
	if (!user)
		return 0;
	switch (mark_uid_put(mu, *mark, user->uid, mark)) {
	case MARK_UID_OK:
		return 0;
	case MARK_UID_TOO_BIG:
		log_warnx("mark_uid: user %s has uid %" PRIu32 ", which does not fit in the "
			  "%u bits of mark_uid_nbits (largest %" PRIu32 "): connection dropped",
			  user->name, user->uid, mu->nbits, markbits_low(mu->nbits));
		return -1;
	case MARK_UID_ZERO:
	default:
		log_warnx("mark_uid: user %s has uid 0, which would leave the uid field 0, "
			  "the mark of no user: connection dropped", user->name);
		return -1;
	}
}

static const struct nuauth_module mark_uid_module = {
	NUAUTH_MODULE_HEADER,
	.name = "mark_uid",
	.services = NUAUTH_SVC_FINALIZE_PACKET,
	.priv_size = sizeof(struct mark_uid),
	.init = mark_uid_init,
	.finalize_packet = mark_uid_finalize,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &mark_uid_module;
}
