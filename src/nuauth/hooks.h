/* The part of hooks.c the decision calls for every packet, inline: the
 * walk over a hook's modules (EACH) and the acl_check and finalize_packet
 * broadcasts.  The result convention is hooks.c's. */
#ifndef NUAUTH_HOOKS_H
#define NUAUTH_HOOKS_H

#include "nuauth.h"
#include "log.h"

/* Runs the statement after it with m each instance of hook h, in order:
 * a walk over the array, which no hook can change under it. */
#define EACH(mods, h, m) \
	for (struct nuauth_module_instance **m##_v = \
		(struct nuauth_module_instance **)(void *)(mods)->hook[h]->pdata, \
	     **m##_end = m##_v ? m##_v + (mods)->hook[h]->len : m##_v, *m = NULL; \
	     m##_v != m##_end && (m = *m##_v, true); m##_v++)

/* acl_check of every ACL module; false (logged) when one failed. */
static inline bool nuauth_hooks_acl_check(const struct nuauth_modules *mods,
					  const struct nuauth_packet *packet,
					  const struct nuauth_user *user, GArray *matches)
{
	EACH(mods, NUAUTH_HOOK_ACL_CHECK, m)
		if (m->desc.acl_check(m->priv, packet, user, matches) < 0) {
			log_warnx("module %s failed to check ACLs: dropping", m->label);
			return false;
		}
	return true;
}

/* finalize_packet of every module in order; false (logged) when one failed. */
static inline bool nuauth_hooks_finalize(const struct nuauth_modules *mods,
					 const struct nuauth_packet *packet,
					 const struct nuauth_user *user,
					 const struct nuauth_acl_match *acl, uint32_t *mark)
{
	EACH(mods, NUAUTH_HOOK_FINALIZE_PACKET, m)
		if (m->desc.finalize_packet(m->priv, packet, user, acl, mark) < 0) {
			log_warnx("module %s failed to compute the mark: dropping", m->label);
			return false;
		}
	return true;
}

#endif
