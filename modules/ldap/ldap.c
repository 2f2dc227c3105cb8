/* The ldap module: users, their groups and passwords from an LDAP
 * directory (keys in ldapconf.h), through a pool of connections.
 *
 * nuauth calls user_check and get_user_groups on its worker pool, several
 * at once: the pool (pool.c) is shared under its lock, and the rest is
 * read-only after init.  Every request still has a short time limit, and
 * after a failed connect requests fail at once for a second, so a dead
 * directory costs a login little time. */
#include "config.h"

#include <nuauth/module.h>

#include "ldapconf.h"
#include "log.h"
#include "pool.h"
#include "users.h"

struct ldap_module {
	struct nu_ldap_conf conf;
	struct nu_ldap_pool *pool;
};

static void ldap_module_deinit(void *priv)
{
	struct ldap_module *lm = priv;

	if (!lm)
		return;
	nu_ldap_pool_free(lm->pool);
	nu_ldap_conf_clear(&lm->conf);
	g_free(lm);
}

static int probe_op(LDAP *ld, bool *rebind, void *ctx)
{
	return LDAP_SUCCESS;
}

static void *ldap_module_init(struct nu_conf *conf, const char *instance,
			      const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct ldap_module *lm = g_new0(struct ldap_module, 1);
	int rc;

	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			goto fail;
		conf = own;
	}
	if (!nu_ldap_conf_read(conf, &lm->conf, error))
		goto fail;
	nu_conf_free(own);
	own = NULL;
	lm->pool = nu_ldap_pool_new(&lm->conf);
	/* A directory that is down now is not fatal: logins fail until it
	 * is back (the pool logs both). */
	rc = nu_ldap_pool_run(lm->pool, probe_op, NULL);
	log_info("ldap%s%s: users under %s on %s (password check: %s, pool of %u)%s%s",
		 instance ? ":" : "", instance ? instance : "", lm->conf.users_base_dn,
		 lm->conf.uri, lm->conf.password_check == NU_LDAP_CHECK_BIND ? "bind" : "compare",
		 lm->conf.pool_size, rc == LDAP_SUCCESS ? "" : ": not reachable now: ",
		 rc == LDAP_SUCCESS ? "" : ldap_err2string(rc));
	return lm;
fail:
	nu_conf_free(own);
	ldap_module_deinit(lm);
	return NULL;
}

static enum nuauth_user_status ldap_module_user_check(void *priv, const char *user,
						      const char *password, size_t password_len,
						      uint32_t *uid, GArray *groups)
{
	struct ldap_module *lm = priv;

	return nu_ldap_user_check(&lm->conf, lm->pool, user, password, password_len, uid, groups);
}

static enum nuauth_user_status ldap_module_get_user_groups(void *priv, const char *user,
							   uint32_t *uid, GArray *groups)
{
	struct ldap_module *lm = priv;

	return nu_ldap_user_groups(&lm->conf, lm->pool, user, uid, groups);
}

static const struct nuauth_module ldap_module = {
	.api_version = NUAUTH_MODULE_API_VERSION,
	.name = "ldap",
	.init = ldap_module_init,
	.deinit = ldap_module_deinit,
	.user_check = ldap_module_user_check,
	.get_user_groups = ldap_module_get_user_groups,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &ldap_module;
}
