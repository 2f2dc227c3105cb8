/* The plaintext module: users and ACLs from two text files.
 *
 *   plaintext_userfile   users, see users.h (default SYSCONFDIR/nufw/users.nufw)
 *   plaintext_aclfile    ACLs, see acl.h (default SYSCONFDIR/nufw/acls.nufw)
 *
 * With "plaintext::file.conf", the keys are read from file.conf instead of
 * nuauth.conf. */
#include "config.h"

#include <string.h>
#include <nuauth/module.h>

#include "aclfile.h"
#include "log.h"
#include "privdrop.h"
#include "scram.h"
#include "users.h"

#define DEFAULT_USERFILE SYSCONFDIR "/nufw/users.nufw"
#define DEFAULT_ACLFILE SYSCONFDIR "/nufw/acls.nufw"

struct plaintext {
	struct nu_userdb *users;
	struct nu_acl_set *acls;
};

static void plaintext_deinit(void *priv)
{
	struct plaintext *pt = priv;

	if (!pt)
		return;
	nu_userdb_free(pt->users);
	nu_acl_set_free(pt->acls);
}

static bool plaintext_init(void *priv, struct nu_conf *conf, const char *instance,
			   const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct plaintext *pt = priv;
	const char *userfile, *aclfile;

	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			goto fail;
		conf = own;
	}
	userfile = nu_conf_get_str(conf, "plaintext_userfile", DEFAULT_USERFILE);
	aclfile = nu_conf_get_str(conf, "plaintext_aclfile", DEFAULT_ACLFILE);
	/* The users file holds passwords or their digests. */
	if (!nu_check_secret_file(userfile, error))
		goto fail;
	if (!(pt->users = nu_userdb_load(userfile, error)))
		goto fail;
	if (!(pt->acls = nu_acl_load(aclfile, error)))
		goto fail;
	log_info("plaintext%s%s: %u users from %s, %u ACLs from %s",
		 instance ? ":" : "", instance ? instance : "",
		 nu_userdb_count(pt->users), userfile, nu_acl_count(pt->acls), aclfile);
	nu_conf_free(own);
	return true;
fail:
	nu_conf_free(own);
	return false;
}

static enum nuauth_user_status plaintext_user_check(void *priv, const char *user,
						    const char *password, size_t password_len,
						    uint32_t *uid, GArray *groups)
{
	struct plaintext *pt = priv;

	return nu_userdb_check(pt->users, user, password, password_len, uid, groups);
}

static enum nuauth_user_status plaintext_scram_verifier(void *priv, const char *user,
							const char *mech, const char **verifier,
							uint32_t *uid, GArray *groups)
{
	struct plaintext *pt = priv;
	enum nuauth_user_status st = nu_userdb_scram(pt->users, user, verifier, uid, groups);

	/* The users file holds SCRAM-SHA-256 verifiers only. */
	if (strcmp(mech, NU_SCRAM_MECH) != 0)
		*verifier = NULL;
	return st;
}

static enum nuauth_user_status plaintext_get_user_groups(void *priv, const char *user,
							 uint32_t *uid, GArray *groups)
{
	struct plaintext *pt = priv;

	return nu_userdb_lookup(pt->users, user, uid, groups);
}

static int plaintext_acl_check(void *priv, const struct nuauth_packet *packet,
			       const struct nuauth_user *user, GArray *matches)
{
	struct plaintext *pt = priv;

	nu_acl_match(pt->acls, packet, user, matches);
	return 0;
}

static unsigned plaintext_needs(void *priv)
{
	struct plaintext *pt = priv;

	return nu_acl_needs(pt->acls);
}

static bool plaintext_check_periods(void *priv, bool (*known)(const char *period, void *ctx),
				    void *ctx, GError **error)
{
	struct plaintext *pt = priv;

	return nu_acl_check_periods(pt->acls, known, ctx, error);
}

static const struct nuauth_module plaintext_module = {
	NUAUTH_MODULE_HEADER,
	.name = "plaintext",
	.services = NUAUTH_SVC_USER_CHECK | NUAUTH_SVC_SCRAM_VERIFIER | NUAUTH_SVC_USER_GROUPS |
		    NUAUTH_SVC_ACL_CHECK | NUAUTH_SVC_CHECK_PERIODS | NUAUTH_SVC_NEEDS,
	.priv_size = sizeof(struct plaintext),
	.init = plaintext_init,
	.deinit = plaintext_deinit,
	.user_check = plaintext_user_check,
	.scram_verifier = plaintext_scram_verifier,
	.get_user_groups = plaintext_get_user_groups,
	.acl_check = plaintext_acl_check,
	.check_periods = plaintext_check_periods,
	.needs = plaintext_needs,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &plaintext_module;
}
