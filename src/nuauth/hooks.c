/* The table of hooks, and every call nuauth makes into its modules.
 *
 * A hook kind is a nuauth_*_module key: nuauth_hook_kinds says which key,
 * its default, the services a module listed there must provide and when
 * the key is read at all; modules.c loads the lists into one array per
 * kind (struct nuauth_modules.hook).  A new kind is a line in enum
 * nuauth_hook and one here.
 *
 * The result convention of the loops below:
 *   chains     (user_check, scram_verifier, get_user_groups,
 *              ip_authentication, period_check) ask the modules of their
 *              key in order and stop at the first that answers: a status
 *              other than NUAUTH_USER_UNKNOWN, or true.  The runner returns
 *              that answer (UNKNOWN or false when nobody answered).
 *   session_check asks the modules in order and stops at the first that
 *              refuses (returns false).
 *   broadcasts (acl_check, finalize_packet, the logs, session_modify) run
 *              every module of their key in order.  A hook returning -1
 *              stops the broadcast; the runner logs it, naming the module,
 *              and returns false, and the caller drops the packet.
 * A module is called only for the hooks its services declare (modules.c
 * cleared the others in its copy of the description, so a NULL test is
 * the declared-service test).  The loops walk arrays: no allocation and no
 * lookup per call.  The two that run for every decided packet, acl_check
 * and finalize_packet, are inline in hooks.h, so that the decision pays no
 * more than the loops decide.c had. */
#include "config.h"
#include "nuauth.h"
#include "hooks.h"

#include <string.h>

#include "log.h"

G_STATIC_ASSERT((int)NUAUTH_VERDICT_DROP == (int)NU_VERDICT_DROP);
G_STATIC_ASSERT((int)NUAUTH_VERDICT_ACCEPT == (int)NU_VERDICT_ACCEPT);
G_STATIC_ASSERT((int)NUAUTH_VERDICT_REJECT == (int)NU_VERDICT_REJECT);

static bool want_ip_authentication(const struct nuauth_config *cfg)
{
	return cfg->do_ip_authentication;
}

/* Users found by address (IP authentication, address sessions fed by
 * RADIUS accounting or the login page) or by certificate have no password
 * to give their groups. */
static bool want_user_groups(const struct nuauth_config *cfg)
{
	return cfg->do_ip_authentication || cfg->tls_auth_by_cert ||
	       (cfg->accounting_socket && *cfg->accounting_socket) || cfg->portal_addr;
}

const struct nuauth_hook_kind nuauth_hook_kinds[NUAUTH_HOOK_COUNT] = {
	[NUAUTH_HOOK_USER_CHECK] = { "nuauth_user_check_module", "plaintext",
				     NUAUTH_SVC_USER_CHECK | NUAUTH_SVC_SCRAM_VERIFIER, NULL },
	[NUAUTH_HOOK_ACL_CHECK] = { "nuauth_acl_check_module", "plaintext",
				    NUAUTH_SVC_ACL_CHECK, NULL },
	[NUAUTH_HOOK_FINALIZE_PACKET] = { "nuauth_finalize_packet_module", "mark_uid",
					  NUAUTH_SVC_FINALIZE_PACKET, NULL },
	[NUAUTH_HOOK_IP_AUTHENTICATION] = { "nuauth_ip_authentication_module", "ipauth_guest",
					    NUAUTH_SVC_IP_AUTHENTICATION,
					    want_ip_authentication },
	[NUAUTH_HOOK_USER_GROUPS] = { "nuauth_get_user_groups_module", "plaintext",
				      NUAUTH_SVC_USER_GROUPS, want_user_groups },
	[NUAUTH_HOOK_PERIODS] = { "nuauth_periods_module", "", NUAUTH_SVC_PERIOD_CHECK, NULL },
	[NUAUTH_HOOK_USER_LOGS] = { "nuauth_user_logs_module", "log_syslog",
				    NUAUTH_SVC_PACKET_LOG | NUAUTH_SVC_CONN_END_LOG, NULL },
	[NUAUTH_HOOK_SESSION_LOGS] = { "nuauth_user_session_logs_module", "log_syslog",
				       NUAUTH_SVC_SESSION_LOG, NULL },
	[NUAUTH_HOOK_SESSION_MODIFY] = { "nuauth_user_session_modify_module", "",
					 NUAUTH_SVC_SESSION_MODIFY | NUAUTH_SVC_SESSION_CHECK,
					 NULL },
};

const char *nuauth_hook_default(enum nuauth_hook h, const struct nuauth_config *cfg)
{
	/* session_expire ends sessions after nuauth_session_duration. */
	if (h == NUAUTH_HOOK_SESSION_MODIFY && cfg->session_duration)
		return "session_expire";
	return nuauth_hook_kinds[h].fallback;
}

#define SERVICE(bit, field, minor) \
	{ bit, G_STRUCT_OFFSET(struct nuauth_module, field), #field, minor }
const struct nuauth_service_desc nuauth_services[] = {
	SERVICE(NUAUTH_SVC_USER_CHECK, user_check, 0),
	SERVICE(NUAUTH_SVC_SCRAM_VERIFIER, scram_verifier, 0),
	SERVICE(NUAUTH_SVC_ACL_CHECK, acl_check, 0),
	SERVICE(NUAUTH_SVC_FINALIZE_PACKET, finalize_packet, 0),
	SERVICE(NUAUTH_SVC_USER_GROUPS, get_user_groups, 0),
	SERVICE(NUAUTH_SVC_IP_AUTHENTICATION, ip_authentication, 0),
	SERVICE(NUAUTH_SVC_PERIOD_CHECK, period_check, 0),
	SERVICE(NUAUTH_SVC_PERIOD_KNOWN, period_known, 0),
	SERVICE(NUAUTH_SVC_CHECK_PERIODS, check_periods, 0),
	SERVICE(NUAUTH_SVC_SESSION_LOG, user_session_log, 0),
	SERVICE(NUAUTH_SVC_PACKET_LOG, user_packet_log, 0),
	SERVICE(NUAUTH_SVC_SESSION_MODIFY, session_modify, 0),
	SERVICE(NUAUTH_SVC_CONN_END_LOG, conn_end_log, 0),
	SERVICE(NUAUTH_SVC_NEEDS, needs, 0),
	SERVICE(NUAUTH_SVC_CANONICAL_NAME, canonical_name, 1),
	SERVICE(NUAUTH_SVC_SESSION_CHECK, session_check, 2),
};
const size_t nuauth_services_count = G_N_ELEMENTS(nuauth_services);

bool nuauth_hooks_chain_has(const struct nuauth_modules *mods, enum nuauth_hook h,
			    uint32_t want, uint32_t without)
{
	EACH(mods, h, m)
		if ((m->desc.services & want) && !(m->desc.services & without))
			return true;
	return false;
}

/* ---- the decision (main thread, per packet) ---- */

bool nuauth_hooks_period_check(const struct nuauth_modules *mods, const char *period,
			       time_t now, time_t *ends_at)
{
	*ends_at = 0;
	EACH(mods, NUAUTH_HOOK_PERIODS, m)
		if (m->desc.period_check(m->priv, period, now, ends_at))
			return true;
	return false;
}

bool nuauth_hooks_ip_user(const struct nuauth_modules *mods, const struct nuauth_packet *packet,
			  char *name, size_t cap)
{
	EACH(mods, NUAUTH_HOOK_IP_AUTHENTICATION, m)
		if (m->desc.ip_authentication(m->priv, packet, name, cap))
			return true;
	return false;
}

/* ---- users (worker threads) ---- */

enum nuauth_user_status nuauth_hooks_user_check(const struct nuauth_modules *mods,
						const char *name, const char *pass,
						size_t passlen, uint32_t *uid, GArray *groups,
						struct nuauth_module_instance **answered)
{
	enum nuauth_user_status st = NUAUTH_USER_UNKNOWN;

	*answered = NULL;
	EACH(mods, NUAUTH_HOOK_USER_CHECK, m) {
		if (!m->desc.user_check)
			continue;
		g_array_set_size(groups, 0);
		st = m->desc.user_check(m->priv, name, pass, passlen, uid, groups);
		*answered = m;
		if (st != NUAUTH_USER_UNKNOWN)
			return st;
	}
	return st;
}

enum nuauth_user_status nuauth_hooks_scram_verifier(const struct nuauth_modules *mods,
						    const char *name, const char *mech,
						    const char **verifier, uint32_t *uid,
						    GArray *groups,
						    struct nuauth_module_instance **answered)
{
	enum nuauth_user_status st = NUAUTH_USER_UNKNOWN;

	*answered = NULL;
	EACH(mods, NUAUTH_HOOK_USER_CHECK, m) {
		if (!m->desc.scram_verifier)
			continue;
		g_array_set_size(groups, 0);
		st = m->desc.scram_verifier(m->priv, name, mech, verifier, uid, groups);
		*answered = m;
		if (st != NUAUTH_USER_UNKNOWN)
			return st;
	}
	return st;
}

enum nuauth_user_status nuauth_hooks_user_groups(const struct nuauth_modules *mods,
						 const char *name, uint32_t *uid, GArray *groups,
						 struct nuauth_module_instance **answered)
{
	enum nuauth_user_status st = NUAUTH_USER_UNKNOWN;

	*answered = NULL;
	EACH(mods, NUAUTH_HOOK_USER_GROUPS, m) {
		g_array_set_size(groups, 0);
		st = m->desc.get_user_groups(m->priv, name, uid, groups);
		*answered = m;
		if (st != NUAUTH_USER_UNKNOWN)
			return st;
	}
	return st;
}

bool nuauth_hooks_canonical_name(const struct nuauth_module_instance *m, const char *name,
				 char *buf, size_t cap)
{
	return m && m->desc.canonical_name && m->desc.canonical_name(m->priv, name, buf, cap);
}

/* ---- load and reload ---- */

uint32_t nuauth_hooks_needs(const struct nuauth_modules *mods, GString *by)
{
	uint32_t needs = 0;

	for (guint i = 0; mods->all && i < mods->all->len; i++) {
		const struct nuauth_module_instance *m = g_ptr_array_index(mods->all, i);
		uint32_t n;

		if (!m->desc.needs)
			continue;
		n = m->desc.needs(m->priv) & (NUAUTH_NEEDS_APP | NUAUTH_NEEDS_APP_SHA256);
		if (n & NUAUTH_NEEDS_APP_SHA256)
			n |= NUAUTH_NEEDS_APP;
		if (!n)
			continue;
		needs |= n;
		g_string_append_printf(by, "%s%s", by->len ? ", " : "", m->label);
	}
	return needs;
}

/* check_periods' question: does a periods module define this period? */
static bool period_known(const char *period, void *ctx)
{
	const struct nuauth_modules *mods = ctx;

	EACH(mods, NUAUTH_HOOK_PERIODS, m)
		if (!m->desc.period_known || m->desc.period_known(m->priv, period))
			return true;
	return false;
}

/* Every period an ACL names must exist, so that a typo stops nuauth at
 * start rather than silently disabling the ACL. */
bool nuauth_hooks_check_acl_periods(const struct nuauth_modules *mods, GError **error)
{
	EACH(mods, NUAUTH_HOOK_ACL_CHECK, m) {
		if (!m->desc.check_periods ||
		    m->desc.check_periods(m->priv, period_known, (void *)mods, error))
			continue;
		if (!nuauth_hooks_count(mods, NUAUTH_HOOK_PERIODS) && error && *error) {
			char *msg = g_strdup_printf("%s (nuauth_periods_module is not set)",
						    (*error)->message);

			g_free((*error)->message);
			(*error)->message = msg;
		}
		return false;
	}
	return true;
}

/* ---- logs and sessions (main thread) ---- */

void nuauth_hooks_session_log(struct nuauth_server *srv, const struct nuauth_session_event *ev)
{
	if (!(srv->cfg.log_users & NUAUTH_LOG_SESSIONS))
		return;
	EACH(srv->modules, NUAUTH_HOOK_SESSION_LOGS, m)
		m->desc.user_session_log(m->priv, ev);
}

void nuauth_hooks_packet_log(struct nuauth_server *srv, const struct nuauth_packet *packet,
			     const struct nuauth_user *user, int verdict, const char *acl_name)
{
	unsigned want = srv->cfg.log_users;

	if (!(want & NUAUTH_LOG_ALL) &&
	    !(want & (verdict == NU_VERDICT_ACCEPT ? NUAUTH_LOG_ACCEPTS : NUAUTH_LOG_DROPS)))
		return;
	EACH(srv->modules, NUAUTH_HOOK_USER_LOGS, m)
		if (m->desc.user_packet_log)
			m->desc.user_packet_log(m->priv, packet, user, (enum nuauth_verdict)verdict,
						acl_name);
}

void nuauth_hooks_conn_end(struct nuauth_server *srv, const struct nuauth_conn_end_event *ev)
{
	if (!(srv->cfg.log_users & (NUAUTH_LOG_ACCEPTS | NUAUTH_LOG_ALL)))
		return;
	EACH(srv->modules, NUAUTH_HOOK_USER_LOGS, m)
		if (m->desc.conn_end_log)
			m->desc.conn_end_log(m->priv, ev);
}

gint64 nuauth_hooks_session_expiry(struct nuauth_server *srv,
				   const struct nuauth_session_event *ev)
{
	gint64 expires_at = 0;

	EACH(srv->modules, NUAUTH_HOOK_SESSION_MODIFY, m)
		if (m->desc.session_modify)
			m->desc.session_modify(m->priv, ev, &expires_at);
	return expires_at;
}

bool nuauth_hooks_session_check(struct nuauth_server *srv, const struct nuauth_session_event *ev,
				char *why, size_t cap)
{
	EACH(srv->modules, NUAUTH_HOOK_SESSION_MODIFY, m) {
		if (!m->desc.session_check)
			continue;
		why[0] = '\0';
		if (!m->desc.session_check(m->priv, ev, why, cap)) {
			if (!why[0])
				g_snprintf(why, cap, "refused by %s", m->label);
			return false;
		}
	}
	return true;
}
