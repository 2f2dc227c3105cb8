/* acls.nufw: the plaintext module's ACL file (format in acl.h), read
 * line by line into the ACL engine's builder. */
#include "config.h"
#include "aclfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool acl_line(struct nu_acl_builder *b, const char *file, unsigned line, char *text,
		     GError **error)
{
	char *eq, *key, *value;
	size_t vlen;

	if (*text == '[') {
		char *end = strchr(text, ']');

		if (!end || end[1]) {
			nu_acl_error(error, file, line, "expected `[name]', got `%s'", text);
			return false;
		}
		*end = '\0';
		return nu_acl_builder_begin(b, g_strstrip(text + 1), file, line, error);
	}

	if (!(eq = strchr(text, '='))) {
		nu_acl_error(error, file, line, "expected `key=value' or `[name]', got `%s'", text);
		return false;
	}
	*eq = '\0';
	key = g_strstrip(text);
	value = g_strstrip(eq + 1);
	vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
	}
	if (!nu_acl_builder_in_acl(b)) {
		nu_acl_error(error, file, line, "`%s=%s' outside of any [ACL] section", key, value);
		return false;
	}
	return nu_acl_builder_add(b, key, NULL, value, line, error);
}

struct nu_acl_set *nu_acl_load(const char *path, GError **error)
{
	struct nu_acl_builder *b = nu_acl_builder_new();
	FILE *f;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned line = 0;
	bool ok = false;

	if (!(f = fopen(path, "re"))) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s: %s", path, g_strerror(errno));
		goto out;
	}
	errno = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		char *p;

		line++;
		if (strlen(buf) != (size_t)len) {
			nu_acl_error(error, path, line, "line contains a NUL byte");
			goto out;
		}
		p = g_strstrip(buf);
		if (*p && *p != '#' && !acl_line(b, path, line, p, error))
			goto out;
		errno = 0;
	}
	if (ferror(f)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s: %s", path,
			    g_strerror(errno ? errno : EIO));
		goto out;
	}
	ok = true;
out:
	if (f)
		fclose(f);
	free(buf);
	if (!ok) {
		nu_acl_builder_free(b);
		return NULL;
	}
	return nu_acl_builder_finish(b, error);
}

