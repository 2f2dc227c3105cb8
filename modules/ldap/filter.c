/* LDAP filters from templates, with RFC 4515 escaping (see filter.h). */
#include "config.h"
#include "filter.h"

#include <string.h>

static void append_escaped(GString *out, const char *value, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0')
			g_string_append_printf(out, "\\%02x", c);
		else
			g_string_append_c(out, (char)c);
	}
}

char *nu_ldap_filter_escape(const char *value, size_t len)
{
	GString *out = g_string_sized_new(len + 8);

	append_escaped(out, value, len);
	return g_string_free(out, FALSE);
}

bool nu_ldap_filter_template_ok(const char *tmpl, bool allow_dn, char **why)
{
	size_t len = strlen(tmpl);
	int depth = 0;

	if (len < 2 || tmpl[0] != '(' || tmpl[len - 1] != ')') {
		*why = g_strdup_printf("filter `%s' is not in parentheses", tmpl);
		return false;
	}
	for (const char *p = tmpl; *p; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			break;
		if (*p != '%')
			continue;
		p++;
		if (*p == '%' || *p == 'u' || (*p == 'd' && allow_dn))
			continue;
		*why = *p ? g_strdup_printf("filter `%s': unknown placeholder `%%%c' (%s)", tmpl, *p,
					    allow_dn ? "%u, %d or %%" : "%u or %%")
			  : g_strdup_printf("filter `%s' ends with a lone `%%'", tmpl);
		return false;
	}
	if (depth != 0) {
		*why = g_strdup_printf("filter `%s': unbalanced parentheses", tmpl);
		return false;
	}
	return true;
}

char *nu_ldap_filter_expand(const char *tmpl, const char *user, const char *dn)
{
	GString *out = g_string_sized_new(strlen(tmpl) + 32);

	for (const char *p = tmpl; *p; p++) {
		if (*p != '%' || !p[1]) {
			g_string_append_c(out, *p);
			continue;
		}
		p++;
		if (*p == 'u')
			append_escaped(out, user, strlen(user));
		else if (*p == 'd')
			append_escaped(out, dn ? dn : "", dn ? strlen(dn) : 0);
		else
			g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}
