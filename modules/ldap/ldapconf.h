/* The ldap module's keys in nuauth.conf (or in its own file with
 * "ldap::file.conf"):
 *
 *   ldap_uri              "ldap://host:port", "ldaps://...", "ldapi://%2Fpath";
 *                         several, space-separated, are tried in turn
 *   ldap_server_addr      when ldap_uri is not set (127.0.0.1) ...
 *   ldap_server_port      ... and its port (389)
 *   ldap_bind_dn          the account searches run as ("": anonymous)
 *   ldap_bind_password
 *   ldap_base_dn          default of the three bases below
 *   ldap_users_base_dn    where users are searched (subtree)
 *   ldap_groups_base_dn   where groups are searched (subtree)
 *   ldap_acls_base_dn     where ACLs are read ("": no ACLs from LDAP)
 *   ldap_acls_refresh     seconds between two readings of the ACLs besides
 *                         those at start and reload (0: none, the default)
 *   ldap_user_filter      (&(objectClass=posixAccount)(uid=%u))
 *   ldap_group_filter     (|(&(objectClass=posixGroup)(memberUid=%u))
 *                           (&(objectClass=groupOfNames)(member=%d)))
 *   ldap_password_check   bind (as the user, default) or compare (read
 *                         userPassword as ldap_bind_dn and check it here)
 *   ldap_request_timeout  seconds one LDAP request may take (3)
 *   ldap_network_timeout  seconds to connect (2)
 *   ldap_pool_size        connections kept open at most (4)
 *
 * %u in a filter is the user name and %d the user's DN, both escaped. */
#ifndef NU_LDAP_CONF_H
#define NU_LDAP_CONF_H

#include <stdbool.h>
#include <glib.h>
#include "conf.h"

enum nu_ldap_password_check {
	NU_LDAP_CHECK_BIND,
	NU_LDAP_CHECK_COMPARE,
};

struct nu_ldap_conf {
	char *uri;
	char *bind_dn;
	char *bind_password;
	char *users_base_dn;
	char *groups_base_dn;
	char *acls_base_dn;
	char *user_filter;
	char *group_filter;
	enum nu_ldap_password_check password_check;
	unsigned request_timeout;	/* s */
	unsigned network_timeout;	/* s */
	unsigned pool_size;
	unsigned acls_refresh;		/* s; 0: never */
};

/* Reads the keys from conf into *out.  False with *error ("file:line:
 * key: why") on a bad value; out is then cleared. */
bool nu_ldap_conf_read(struct nu_conf *conf, struct nu_ldap_conf *out, GError **error);
void nu_ldap_conf_clear(struct nu_ldap_conf *c);

#endif
