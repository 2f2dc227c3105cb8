/* The pure parts of the session modules: session_expire's end of session
 * and the script module's command line. */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "expire.h"
#include "args.h"

static void test_expire(void)
{
	/* duration 0: no end, or what an earlier module set. */
	CHECK(session_expire_at(1000, 0, 0) == 0);
	CHECK(session_expire_at(1000, 0, 1500) == 1500);
	CHECK(session_expire_at(1000, 3, 0) == 1003);
	CHECK(session_expire_at(1700000000, 3600, 0) == 1700003600);
	/* the earlier end wins */
	CHECK(session_expire_at(1000, 3, 2000) == 1003);
	CHECK(session_expire_at(1000, 3000, 2000) == 2000);
	CHECK(session_expire_at(1000, 100000000, 0) == 100001000);
	/* no overflow, no end before the epoch */
	CHECK(session_expire_at(-5, 10, 0) == 0);
	for (unsigned long d = 1; d < 100000; d = d * 3 + 1)
		CHECK(session_expire_at(1234, d, 0) == 1234 + (gint64)d);
}

static void test_argv(void)
{
	char **argv = script_argv("/etc/nufw/user-up.sh", "alice", "10.201.0.2");

	CHECK(argv && g_strv_length(argv) == 3);
	if (argv) {
		CHECK(strcmp(argv[0], "/etc/nufw/user-up.sh") == 0);
		CHECK(strcmp(argv[1], "alice") == 0);
		CHECK(strcmp(argv[2], "10.201.0.2") == 0);
		CHECK(argv[3] == NULL);
	}
	g_strfreev(argv);

	/* Spaces and shell characters are one argument each: no shell. */
	argv = script_argv("/s", "a b; rm -rf /", "$(id)");
	CHECK(argv && strcmp(argv[1], "a b; rm -rf /") == 0 && strcmp(argv[2], "$(id)") == 0);
	g_strfreev(argv);

	CHECK(script_argv("", "alice", "10.0.0.1") == NULL);
	CHECK(script_argv(NULL, "alice", "10.0.0.1") == NULL);
	CHECK(script_argv("/s", NULL, "10.0.0.1") == NULL);
	CHECK(script_argv("/s", "alice", NULL) == NULL);
}

int main(void)
{
	test_expire();
	test_argv();
	return unit_done("test_session_hooks");
}
