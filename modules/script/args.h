/* The command line of the script module, apart for the unit tests. */
#ifndef SCRIPT_ARGS_H
#define SCRIPT_ARGS_H

#include <glib.h>

/* { script, user, address, NULL }, for g_spawn_async (no shell is
 * involved, so the values need no quoting); g_strfreev() it.  NULL when
 * script is empty or a value is NULL. */
char **script_argv(const char *script, const char *user, const char *address);

#endif
