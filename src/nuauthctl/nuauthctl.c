/* nuauthctl: dispatches its first argument to a subcommand from a table. */
#include "config.h"
#include "nuauthctl.h"

#include <stdlib.h>
#include <string.h>
#include <glib.h>

static const struct nuctl_command commands[] = {
	{ "pki", nuctl_pki_main, nuctl_pki_usage,
	  "the CA and the certificates of nuauth, nufw and users" },
	{ "hash", nuctl_hash_main, nuctl_hash_usage, "hashes a password for the users file" },
	{ "user", nuctl_user_main, nuctl_user_usage, "adds a user to the users file" },
	{ "users", nuctl_control_main, nuctl_control_usage, "logged-in users (nuauth)" },
	{ "firewalls", nuctl_control_main, nuctl_control_usage, "connected nufw gateways" },
	{ "connections", nuctl_control_main, nuctl_control_usage, "accepted connections" },
	{ "disconnect", nuctl_control_main, nuctl_control_usage, "logs a user out" },
	{ "ip-session", nuctl_control_main, nuctl_control_usage,
	  "an address's user without a client (RADIUS accounting)" },
	{ "reload", nuctl_control_main, nuctl_control_usage,
	  "reads the configuration, users and ACLs again" },
	{ "stats", nuctl_control_main, nuctl_control_usage, "counters since start" },
	{ "top", nuctl_control_main, nuctl_control_usage, "per-user view, every second" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nuauthctl [--json] [-s PATH] COMMAND [ARGUMENTS]\n"
		"       nuauthctl -h | --help | -V | --version\n"
		"  -h, --help     print this help (nuauthctl COMMAND --help: the command's)\n"
		"  -V, --version  print the version and exit\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (i == 0 || commands[i].usage != commands[i - 1].usage)
			commands[i].usage(out);
}

/* The control commands' options may come before the command too
 * (nuauthctl --json -s PATH users): moves "--json", "-s PATH" and "-sPATH"
 * found before the first other argument to just after it, in a copy of argv
 * (g_free it) put in *argvp.  Returns the new argc (argc when nothing moved). */
static int hoist_options(int argc, char ***argvp)
{
	char **argv = *argvp, **out;
	int i = 1, n;

	while (i < argc) {
		if (strcmp(argv[i], "--json") == 0 || (strncmp(argv[i], "-s", 2) == 0 && argv[i][2]))
			i++;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			i += 2;
		else
			break;
	}
	if (i == 1 || i >= argc)
		return argc;
	out = g_new0(char *, (size_t)argc + 1);
	out[0] = argv[0];
	out[1] = argv[i];
	n = 2;
	for (int j = 1; j < i; j++)
		out[n++] = argv[j];
	for (int j = i + 1; j < argc; j++)
		out[n++] = argv[j];
	*argvp = out;
	return n;
}

int main(int argc, char **argv)
{
	char **args = argv;
	int nargs = hoist_options(argc, &args);
	int status;
	const char *name = nargs > 1 ? args[1] : NULL;

	if (!name) {
		usage(stderr);
		return NUCTL_USAGE;
	}
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
		usage(stdout);
		return NUCTL_OK;
	}
	if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
		printf("nuauthctl %s\n", PACKAGE_VERSION);
		return NUCTL_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0) {
			status = commands[i].run(nargs - 1, args + 1);
			if (args != argv)
				g_free(args);
			return status;
		}
	nuctl_error("unknown command `%s'", name);
	usage(stderr);
	return NUCTL_USAGE;
}
