/* The ACL engine (acl.h): the set of ACLs: what it holds and asks of the
 * client, the periods its ACLs name, freeing it. */
#include "config.h"
#include "acl_impl.h"

void nu_acl_set_free(struct nu_acl_set *set)
{
	if (!set)
		return;
	nu_acl_index_free(set);
	g_ptr_array_free(set->acls, TRUE);
	g_free(set);
}

unsigned nu_acl_count(const struct nu_acl_set *set)
{
	return set ? set->acls->len : 0;
}

unsigned nu_acl_needs(const struct nu_acl_set *set)
{
	unsigned needs = 0;

	for (guint i = 0; set && i < set->acls->len; i++) {
		const struct nu_acl *acl = g_ptr_array_index(set->acls, i);

		if (acl->apps->len)
			needs |= NUAUTH_NEEDS_APP;
		if (acl->app_sha256s->len)
			needs |= NUAUTH_NEEDS_APP | NUAUTH_NEEDS_APP_SHA256;
	}
	return needs;
}

struct period_check {
	bool (*known)(const char *period, void *ctx);
	void *ctx;
	GError **error;
};

static bool check_one_period(const char *acl, const char *period, const char *where,
			     void *ctx)
{
	struct period_check *pc = ctx;

	if (pc->known(period, pc->ctx))
		return true;
	g_set_error(pc->error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
		    "%s: acl [%s]: unknown period `%s'", where, acl, period);
	return false;
}

bool nu_acl_check_periods(const struct nu_acl_set *set,
			  bool (*known)(const char *period, void *ctx), void *ctx, GError **error)
{
	struct period_check pc = { known, ctx, error };

	return nu_acl_foreach_period(set, check_one_period, &pc);
}

bool nu_acl_foreach_period(const struct nu_acl_set *set, nu_acl_period_fn fn, void *ctx)
{
	for (guint i = 0; set && i < set->acls->len; i++) {
		const struct nu_acl *acl = g_ptr_array_index(set->acls, i);
		char *where;
		bool go_on;

		if (!acl->period)
			continue;
		where = nu_acl_where(acl, acl->period_line);
		go_on = fn(acl->name, acl->period, where, ctx);
		g_free(where);
		if (!go_on)
			return false;
	}
	return true;
}

