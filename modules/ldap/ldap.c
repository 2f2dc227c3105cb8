/* The ldap module: users, their groups and passwords from an LDAP
 * directory (keys in ldapconf.h), through a pool of connections; and,
 * with ldap_acls_base_dn, the ACLs (aclentry.h).
 *
 * nuauth calls user_check and get_user_groups on its worker pool, several
 * at once: the pool (pool.c) is shared under its lock, and the rest is
 * read-only after init.  Every request still has a short time limit, and
 * after a failed connect requests fail at once for a second, so a dead
 * directory costs a login little time.
 *
 * ACLs are never looked up per packet: init reads them all, once, into
 * the ACL engine's indexed set (modules/acl), which acl_check then
 * matches in memory.  nuauth calls init again at each reload (SIGHUP,
 * nuauthctl reload) and keeps the running modules when it fails, so the
 * ACLs change then; an error in them stops a start and is ignored by a
 * reload, which keeps the ACLs read before.  With ldap_acls_refresh they
 * are also read again on a timer, by a thread (aclstore.h). */
#include "config.h"

#include <nuauth/module.h>

#include "aclstore.h"
#include "ldapconf.h"
#include "log.h"
#include "pool.h"
#include "users.h"

struct ldap_module {
	struct nu_ldap_conf conf;
	struct nu_ldap_pool *pool;
	struct nu_ldap_aclstore *acls;	/* NULL without ldap_acls_base_dn */
};

static void ldap_module_deinit(void *priv)
{
	struct ldap_module *lm = priv;

	if (!lm)
		return;
	/* First: a refresh under way uses the pool. */
	nu_ldap_aclstore_free(lm->acls);
	nu_ldap_pool_free(lm->pool);
	nu_ldap_conf_clear(&lm->conf);
	nu_ldap_users_forget();
}

static int probe_op(LDAP *ld, bool *rebind, void *ctx)
{
	(void)ld;
	(void)rebind;
	(void)ctx;
	return LDAP_SUCCESS;
}

static bool ldap_module_init(void *priv, struct nu_conf *conf, const char *instance,
			     const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct ldap_module *lm = priv;
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
	if (*lm->conf.acls_base_dn && !(lm->acls = nu_ldap_aclstore_new(&lm->conf, lm->pool, error)))
		goto fail;
	return true;
fail:
	nu_conf_free(own);
	return false;
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

static bool ldap_module_canonical_name(void *priv, const char *user, char *name, size_t cap)
{
	struct ldap_module *lm = priv;

	return nu_ldap_user_name(&lm->conf, lm->pool, user, name, cap);
}

static int ldap_module_acl_check(void *priv, const struct nuauth_packet *packet,
				 const struct nuauth_user *user, GArray *matches)
{
	struct ldap_module *lm = priv;

	nu_acl_match(nu_ldap_aclstore_get(lm->acls), packet, user, matches);
	return 0;
}

/* nuauth calls this for the modules of nuauth_acl_check_module only, once
 * all are loaded: the place to refuse acl_check without ACLs, which would
 * silently drop every packet. */
static bool ldap_module_check_periods(void *priv,
				      bool (*known)(const char *period, void *ctx),
				      void *ctx, GError **error)
{
	struct ldap_module *lm = priv;

	if (!lm->acls) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "nuauth_acl_check_module names ldap, but ldap_acls_base_dn is not set");
		return false;
	}
	return nu_ldap_aclstore_check_periods(lm->acls, known, ctx, error);
}

/* What the ACLs read from the client's announcement (App=, AppSHA256=). */
static unsigned ldap_module_needs(void *priv)
{
	struct ldap_module *lm = priv;

	return lm->acls ? nu_ldap_aclstore_needs(lm->acls) : 0;
}

static const struct nuauth_module ldap_module = {
	NUAUTH_MODULE_HEADER,
	.name = "ldap",
	.services = NUAUTH_SVC_USER_CHECK | NUAUTH_SVC_USER_GROUPS | NUAUTH_SVC_ACL_CHECK |
		    NUAUTH_SVC_CHECK_PERIODS | NUAUTH_SVC_NEEDS | NUAUTH_SVC_CANONICAL_NAME,
	.priv_size = sizeof(struct ldap_module),
	.init = ldap_module_init,
	.deinit = ldap_module_deinit,
	.user_check = ldap_module_user_check,
	.get_user_groups = ldap_module_get_user_groups,
	.acl_check = ldap_module_acl_check,
	.check_periods = ldap_module_check_periods,
	.needs = ldap_module_needs,
	.canonical_name = ldap_module_canonical_name,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &ldap_module;
}
