#include "config.h"

#include "args.h"

char **script_argv(const char *script, const char *user, const char *address)
{
	char **argv;

	if (!script || !*script || !user || !address)
		return NULL;
	argv = g_new0(char *, 4);
	argv[0] = g_strdup(script);
	argv[1] = g_strdup(user);
	argv[2] = g_strdup(address);
	return argv;
}
