/* ACLs as LDAP entries (the schema in conf/ldap/nufw-acl.schema): one
 * entry of objectClass nufwAcl per ACL, named by its cn, with one
 * attribute per key of acls.nufw(5):
 *
 *   nufwAclUid uid=          nufwAclOS OS=               nufwAclDecision decision=
 *   nufwAclGid gid=          nufwAclInDev indev=         nufwAclFlags flags=
 *   nufwAclProto proto=      nufwAclOutDev outdev=       nufwAclLogPrefix log_prefix=
 *   nufwAclType type=        nufwAclPhysInDev physindev= nufwAclPeriod period=
 *   nufwAclSrcIP SrcIP=      nufwAclPhysOutDev physoutdev=
 *   nufwAclDstIP DstIP=      nufwAclGateway gateway=
 *   nufwAclSrcPort SrcPort=  nufwAclAuthQuality authquality=
 *   nufwAclDstPort DstPort=  nufwAclApp App=
 *   nufwAclAppSHA256 AppSHA256=
 *
 * Each value of an attribute is one key=value line of the file, so the
 * values of a list attribute accumulate and a single-valued key refuses a
 * second value.  nufwAclOrder (an integer, 0 when absent) places the ACL
 * among the others, lowest first, the DN breaking ties: the order
 * nuauth_prio_to_nok=2 reads.  Other attributes (objectClass, cn,
 * description, those of other classes) are ignored, but an unknown
 * nufwAcl* attribute is refused: a misspelt one would widen the ACL.
 *
 * This part knows nothing of libldap: the entries come as text, so the
 * unit tests can build them by hand. */
#ifndef NU_LDAP_ACLENTRY_H
#define NU_LDAP_ACLENTRY_H

#include <stddef.h>
#include <glib.h>

#include "acl.h"

struct nu_ldap_acl_entry;

struct nu_ldap_acl_entry *nu_ldap_acl_entry_new(const char *dn);
void nu_ldap_acl_entry_free(void *entry);
/* One value (len bytes, which may hold anything) of attr. */
void nu_ldap_acl_entry_add(struct nu_ldap_acl_entry *entry, const char *attr,
			   const char *value, size_t len);

/* The ACL set of entries (struct nu_ldap_acl_entry), which it sorts in
 * the order above.  NULL with *error ("ldap:///DN: attribute: why") on a
 * bad entry. */
struct nu_acl_set *nu_ldap_acls_build(GPtrArray *entries, GError **error);
/* A digest (hex SHA-256) of entries as they are ordered: equal digests,
 * same ACLs. */
char *nu_ldap_acl_entries_digest(const GPtrArray *entries);

#endif
