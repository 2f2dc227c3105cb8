/* Line reader and number parser of the mark modules' files (markfile.h). */
#include "config.h"
#include "markfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

bool markfile_parse_u32(const char *s, uint32_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return false;
	for (; *p; p++) {
		int d = g_ascii_xdigit_value(*p);

		if (d < 0 || (unsigned)d >= base)
			return false;
		v = v * base + (unsigned)d;
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

bool markfile_read(const char *path, markfile_line_fn fn, void *ctx, GError **error)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	bool ok = false;

	if (!f) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
		return false;
	}
	while ((len = getline(&buf, &cap, f)) >= 0) {
		char *line;

		lineno++;
		if (memchr(buf, '\0', (size_t)len)) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s:%u: NUL byte in the line", path, lineno);
			goto out;
		}
		line = g_strstrip(buf);
		if (!*line || *line == '#')
			continue;
		if (!fn(line, lineno, ctx, error)) {
			g_prefix_error(error, "%s:%u: ", path, lineno);
			goto out;
		}
	}
	if (ferror(f)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
		goto out;
	}
	ok = true;
out:
	free(buf);
	fclose(f);
	return ok;
}
