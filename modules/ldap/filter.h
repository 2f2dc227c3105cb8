/* LDAP search filters built from templates and untrusted values.
 *
 * A template is a filter with placeholders: %u the user name, %d the
 * user's DN, %% a `%'.  Each value is escaped as an assertion value (RFC
 * 4515 section 3): `*', `(', `)', `\' and NUL become \2a, \28, \29, \5c,
 * \00, so that a name such as `*' or `a)(uid=*' matches only an entry
 * whose attribute holds exactly those characters. */
#ifndef NU_LDAP_FILTER_H
#define NU_LDAP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

/* value (len bytes) escaped for a filter; g_free it. */
char *nu_ldap_filter_escape(const char *value, size_t len);

/* Checks a template: every `%' is followed by u, d or %, and the template
 * is wrapped in parentheses.  False with *why (g_free it) otherwise. */
bool nu_ldap_filter_template_ok(const char *tmpl, bool allow_dn, char **why);

/* tmpl with %u replaced by user and %d by dn (NULL: "") both escaped; g_free it.
 * tmpl must have passed nu_ldap_filter_template_ok. */
char *nu_ldap_filter_expand(const char *tmpl, const char *user, const char *dn);

#endif
