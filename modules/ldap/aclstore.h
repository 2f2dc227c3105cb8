/* The ldap module's ACLs in use: read from the directory at init and,
 * with ldap_acls_refresh, again every so many seconds.
 *
 * A refresh never makes a decision wait: the timer (on nuauth's main loop,
 * GLib's default context) starts a thread that reads and builds the new
 * set; the swap itself happens back on the main loop, between two
 * decisions, so acl_check needs no lock.  A new set whose digest equals
 * the running one's is dropped quietly.  A refresh that fails (directory
 * away, a malformed entry, an unknown period) keeps the running set and is
 * logged once until a refresh works again.  So is a new set that reads
 * more of the client's announcement (App=, AppSHA256=) than the needs
 * hook answered: nuauth asks the clients for it at load and reload only,
 * and an App= ACL meant to drop would match nothing without it. */
#ifndef NU_LDAP_ACLSTORE_H
#define NU_LDAP_ACLSTORE_H

#include <stdbool.h>
#include <glib.h>

#include "acl.h"
#include "ldapconf.h"
#include "pool.h"

struct nu_ldap_aclstore;

/* Reads the ACLs now (NULL with *error when that fails) and, when
 * conf->acls_refresh is set, arms the timer.  conf and pool must outlive
 * the store. */
struct nu_ldap_aclstore *nu_ldap_aclstore_new(const struct nu_ldap_conf *conf,
					      struct nu_ldap_pool *pool, GError **error);
/* Stops the timer and waits for a refresh under way. */
void nu_ldap_aclstore_free(struct nu_ldap_aclstore *store);

/* The set in use; call it on the main loop only, and do not keep it
 * across a return to the loop (a refresh may replace it). */
const struct nu_acl_set *nu_ldap_aclstore_get(const struct nu_ldap_aclstore *store);

/* The needs hook: NUAUTH_NEEDS_* of the running set, remembered as the
 * most a refresh may need. */
unsigned nu_ldap_aclstore_needs(struct nu_ldap_aclstore *store);

/* Sets how periods are checked (nuauth's check_periods hook) and checks
 * the running set; later refreshes check theirs the same way. */
bool nu_ldap_aclstore_check_periods(struct nu_ldap_aclstore *store,
				    bool (*known)(const char *period, void *ctx), void *ctx,
				    GError **error);

#endif
