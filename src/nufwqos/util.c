/* nufw-qos: the shared helpers (see util.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *const qos_prog = "nufw-qos";

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", qos_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

void fmt_into(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		die("a command is longer than %zu characters", size - 1);
}

void copy_text(char *dst, const char *src, size_t len, const char *what)
{
	if (len >= QOS_TEXT)
		die("%s is too long: `%s'", what, src);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

bool parse_num(const char *s, int base, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		if (s[0] == '0' && s[1] != '\0')
			return false;
		base = 10;
	}
	if (*s == '\0')
		return false;
	for (const char *p = s; *p; p++)
		if (base == 16 ? !isxdigit((unsigned char)*p) : !isdigit((unsigned char)*p))
			return false;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

/* A name the kernel takes (IFNAMSIZ, no `/', `:' or blank, not . or ..)
 * that does not begin with `-', which ip and tc would read as an option. */
static bool valid_dev(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > 15 || d[0] == '-' || strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)d[i]) && !strchr("_.-@", d[i]))
			return false;
	return true;
}

void check_dev(const char *opt, const char *d)
{
	if (!valid_dev(d))
		die("%s: `%s' is not an interface name", opt, d);
}

void check_rate(const char *opt, const char *r)
{
	static const char *const units[] = { "", "bit", "kbit", "mbit", "gbit",
					     "bps", "kbps", "mbps", "gbps" };
	const char *p = r;

	if (!isdigit((unsigned char)*p))
		goto bad;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i]) == 0)
			return;
bad:
	die("%s: bad rate `%s' (want a number with bit, kbit, mbit, gbit, bps, kbps, mbps or gbps)",
	    opt, r);
}

/* A truncated script must not look like a whole one (a full disk).  A
 * closed pipe ends the program by SIGPIPE first, as it does any filter's. */
int finish_output(void)
{
	int err = fflush(stdout) != 0 ? errno : 0;

	if (err != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", qos_prog,
			err != 0 ? strerror(err) : "a write failed");
		return 1;
	}
	return 0;
}
