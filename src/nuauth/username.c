/* What nuauth takes as a user name from outside a login's own backend: a
 * certificate's field (cert_login.c), an address session's user from
 * RADIUS accounting or an administrator (ipsession.c).  Such a name ends up
 * in log lines, in nuauthctl's columns and in etcd records, where a space,
 * a control character or a ':' (the users file's separator) would let it
 * pass for something else. */
#include "config.h"
#include "nuauth.h"

#include <string.h>

bool nuauth_username_usable(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > NUAUTH_USERNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (g_ascii_isspace(name[i]) || g_ascii_iscntrl(name[i]) || name[i] == ':')
			return false;
	return true;
}
