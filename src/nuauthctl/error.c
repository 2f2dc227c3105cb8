/* nuauthctl's error lines, below the subcommands that print them and the
 * dispatcher that calls the subcommands. */
#include "config.h"
#include "nuauthctl.h"

#include <stdarg.h>
#include <stdio.h>

void nuctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs("nuauthctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
