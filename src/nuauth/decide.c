/* The decision for one packet of a known user: collect the ACLs that match
 * (nuauth_acl_check_module), keep those whose time period is current
 * (nuauth_periods_module), apply nuauth_prio_to_nok, and let the
 * finalize_packet modules compose the mark of an accepted packet. */
#include "config.h"
#include "nuauth.h"
#include "hooks.h"

#include <string.h>
#include <time.h>

#include "log.h"

/* Chooses among the matching ACLs; NULL when none matched. */
static const struct nuauth_acl_match *choose(GArray *matches, int prio_to_nok)
{
	const struct nuauth_acl_match *chosen = NULL;

	for (guint i = 0; i < matches->len; i++) {
		const struct nuauth_acl_match *m = &g_array_index(matches, struct nuauth_acl_match, i);
		bool accepts = m->decision == NUAUTH_VERDICT_ACCEPT;

		if (prio_to_nok == 2)		/* the first matching ACL decides */
			return m;
		if (!chosen)
			chosen = m;
		else if (prio_to_nok == 0 && accepts && chosen->decision != NUAUTH_VERDICT_ACCEPT)
			chosen = m;		/* any accept wins */
		else if (prio_to_nok == 1 && !accepts && chosen->decision == NUAUTH_VERDICT_ACCEPT)
			chosen = m;		/* any drop or reject wins */
	}
	return chosen;
}

bool nuauth_period_current(struct nuauth_server *srv, const char *period, time_t now,
			   time_t *ends_at)
{
	return nuauth_hooks_period_check(srv->modules, period, now, ends_at);
}

/* Is the time period an ACL needs current?  *ends_at: when it stops
 * being so (0 never).  An ACL without a period always is. */
static bool period_current(struct nuauth_server *srv, const struct nuauth_acl_match *m,
			   time_t now, time_t *ends_at)
{
	*ends_at = 0;
	if (!m->period || !*m->period)
		return true;
	if (!nuauth_hooks_count(srv->modules, NUAUTH_HOOK_PERIODS)) {
		log_warnx("acl %s: period `%s' but no nuauth_periods_module: the ACL does not match",
			  m->name, m->period);
		return false;
	}
	return nuauth_period_current(srv, m->period, now, ends_at);
}

/* Drops the matches whose period is not current; ends[i] receives when the
 * period of the match left at i ends. */
static void filter_periods(struct nuauth_server *srv, GArray *matches, GArray *ends)
{
	time_t now = time(NULL);

	for (guint i = 0; i < matches->len;) {
		const struct nuauth_acl_match *m = &g_array_index(matches, struct nuauth_acl_match, i);
		time_t end;

		if (period_current(srv, m, now, &end)) {
			g_array_append_val(ends, end);
			i++;
		} else {
			log_debug("acl %s: outside its period `%s'", m->name, m->period);
			g_array_remove_index(matches, i);
		}
	}
}

void nuauth_decide(struct nuauth_server *srv, const struct nuauth_packet *packet,
		   const struct nuauth_user *user, struct nuauth_decision *out)
{
	GArray *matches = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	GArray *ends = g_array_new(FALSE, FALSE, sizeof(time_t));
	const struct nuauth_acl_match *chosen;

	memset(out, 0, sizeof(*out));
	out->verdict = NU_VERDICT_DROP;
	if (!nuauth_hooks_acl_check(srv->modules, packet, user, matches))
		goto out;
	filter_periods(srv, matches, ends);
	chosen = choose(matches, srv->cfg.prio_to_nok);
	if (chosen) {
		g_strlcpy(out->acl_name, chosen->name, sizeof(out->acl_name));
		if (chosen->log_prefix)
			g_strlcpy(out->log_prefix, chosen->log_prefix, sizeof(out->log_prefix));
		out->verdict = (int)chosen->decision;
		out->expires = g_array_index(ends, time_t,
					     chosen - &g_array_index(matches, struct nuauth_acl_match, 0));
		if (out->expires)
			g_strlcpy(out->period, chosen->period, sizeof(out->period));
	}
	if (out->verdict != NU_VERDICT_ACCEPT)
		goto refused;
	out->mark = packet->mark;
	if (!nuauth_hooks_finalize(srv->modules, packet, user, chosen, &out->mark)) {
		out->verdict = NU_VERDICT_DROP;
		goto out;
	}
	/* The gateway saves only non-zero marks (-m mark ! --mark 0): an
	 * accepted user's connection with mark 0 would look like nobody's. */
	if (nuauth_hooks_count(srv->modules, NUAUTH_HOOK_FINALIZE_PACKET) && out->mark == 0) {
		log_warnx("user %s (uid %u): the mark composed by nuauth_finalize_packet_module "
			  "is 0, which the gateway cannot tell from an unmarked connection: "
			  "connection dropped", user->name, (unsigned)user->uid);
		out->verdict = NU_VERDICT_DROP;
	}
	goto out;
refused:
	/* The user is known: let their program fail at once rather than
	 * wait for its connect to time out, if the site wants that. */
	if (out->verdict == NU_VERDICT_DROP && srv->cfg.reject_authenticated_drop)
		out->verdict = NU_VERDICT_REJECT;
out:
	g_array_free(matches, TRUE);
	g_array_free(ends, TRUE);
}
