/* Users and their groups in the directory.
 *
 * A user is the one entry under ldap_users_base_dn that ldap_user_filter
 * matches; its uidNumber is the uid, its gidNumber the first group.  Its
 * other groups are the entries under ldap_groups_base_dn that
 * ldap_group_filter matches (%u: the entry's uid, %d: its DN), each
 * giving its gidNumber. */
#ifndef NU_LDAP_USERS_H
#define NU_LDAP_USERS_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <nuauth/module.h>

#include "ldapconf.h"
#include "pool.h"

/* Checks user's password (password_len bytes) as conf says (bind or
 * compare).  On NUAUTH_USER_OK fills *uid and appends the groups (guint32)
 * to groups.  NUAUTH_USER_UNKNOWN: no such entry; _BAD_PASSWORD;
 * _ERROR: the directory could not answer (logged). */
enum nuauth_user_status nu_ldap_user_check(const struct nu_ldap_conf *conf,
					   struct nu_ldap_pool *pool, const char *user,
					   const char *password, size_t password_len,
					   uint32_t *uid, GArray *groups);

/* The uid and groups of user, without a password. */
enum nuauth_user_status nu_ldap_user_groups(const struct nu_ldap_conf *conf,
					    struct nu_ldap_pool *pool, const char *user,
					    uint32_t *uid, GArray *groups);

/* The entry's uid as the directory spells it (the value the user's name
 * matched), into name (cap bytes); false when there is no such entry or
 * the directory cannot answer.  Costs no search right after a check or a
 * look-up of the same user on the same thread. */
bool nu_ldap_user_name(const struct nu_ldap_conf *conf, struct nu_ldap_pool *pool,
		       const char *user, char *name, size_t cap);

/* Forgets the userPassword kept for unknown names (a module's deinit). */
void nu_ldap_users_forget(void);

#endif
