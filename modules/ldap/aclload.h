/* Reads the ACLs from the directory: every entry of objectClass nufwAcl
 * under ldap_acls_base_dn (subtree), in pages, as the service account. */
#ifndef NU_LDAP_ACLLOAD_H
#define NU_LDAP_ACLLOAD_H

#include <glib.h>

#include "acl.h"
#include "ldapconf.h"
#include "pool.h"

/* The ACL set of the directory now, and when digest is not NULL the
 * digest of its entries in *digest.  NULL with *error when the directory
 * cannot answer, or an entry is malformed ("ldap:///DN: attribute: why").
 * Threads may call it at once (the pool is shared). */
struct nu_acl_set *nu_ldap_acls_load(const struct nu_ldap_conf *conf, struct nu_ldap_pool *pool,
				     char **digest, GError **error);

#endif
