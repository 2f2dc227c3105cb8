/* The decision for one packet of a known user: collect the ACLs that match
 * (nuauth_acl_check_module), apply nuauth_prio_to_nok, and let the
 * finalize_packet modules compose the mark of an accepted packet. */
#include "config.h"
#include "nuauth.h"

#include <string.h>

#include "log.h"

/* Chooses among the matching ACLs; NULL when none matched. */
static const struct nuauth_acl_match *choose(GArray *matches, int prio_to_nok)
{
	const struct nuauth_acl_match *chosen = NULL;

	for (guint i = 0; i < matches->len; i++) {
		const struct nuauth_acl_match *m = &g_array_index(matches, struct nuauth_acl_match, i);
		bool accepts = m->decision == NU_VERDICT_ACCEPT;

		if (prio_to_nok == 2)		/* the first matching ACL decides */
			return m;
		if (!chosen)
			chosen = m;
		else if (prio_to_nok == 0 && accepts && chosen->decision != NU_VERDICT_ACCEPT)
			chosen = m;		/* any accept wins */
		else if (prio_to_nok == 1 && !accepts && chosen->decision == NU_VERDICT_ACCEPT)
			chosen = m;		/* any drop or reject wins */
	}
	return chosen;
}

void nuauth_decide(struct nuauth_server *srv, const struct nuauth_packet *packet,
		   const struct nuauth_user *user, struct nuauth_verdict *out)
{
	GArray *matches = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	GPtrArray *acl = srv->modules.acl_check;
	GPtrArray *fin = srv->modules.finalize_packet;
	const struct nuauth_acl_match *chosen;

	memset(out, 0, sizeof(*out));
	out->verdict = NU_VERDICT_DROP;
	for (guint i = 0; i < acl->len; i++) {
		struct nuauth_module_instance *m = g_ptr_array_index(acl, i);

		if (m->api->acl_check(m->priv, packet, user, matches) < 0) {
			log_warnx("module %s failed to check ACLs: dropping", m->label);
			goto out;
		}
	}
	chosen = choose(matches, srv->cfg.prio_to_nok);
	if (chosen) {
		g_strlcpy(out->acl_name, chosen->name, sizeof(out->acl_name));
		out->verdict = chosen->decision;
	}
	if (out->verdict != NU_VERDICT_ACCEPT)
		goto refused;
	out->mark = packet->mark;
	for (guint i = 0; i < fin->len; i++) {
		struct nuauth_module_instance *m = g_ptr_array_index(fin, i);

		if (m->api->finalize_packet(m->priv, packet, user, chosen, &out->mark) < 0) {
			log_warnx("module %s failed to compute the mark: dropping", m->label);
			out->verdict = NU_VERDICT_DROP;
			goto out;
		}
	}
	goto out;
refused:
	/* The user is known: let their program fail at once rather than
	 * wait for its connect to time out, if the site wants that. */
	if (out->verdict == NU_VERDICT_DROP && srv->cfg.reject_authenticated_drop)
		out->verdict = NU_VERDICT_REJECT;
out:
	g_array_free(matches, TRUE);
}
