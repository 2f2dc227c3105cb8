/* libFuzzer harness for the plaintext module's user database
 * (modules/plaintext/users.c).
 *
 * The input is written to a file and loaded.  When it loads, every line is
 * cut as the loader cuts it and its user checked with its own password: a
 * clear-text password must be accepted with the line's uid, any password
 * answer must be one of the documented ones. */
#include "config.h"

#include <string.h>

#include "users.h"
#include "fuzz.h"

static bool parse_uid(const char *s, size_t len, uint32_t *out)
{
	char buf[16];
	char *end;
	unsigned long long v;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = strtoull(buf, &end, 10);
	if (*end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* One line (NUL-terminated, trailing blanks already cut). */
static void check_line(const struct nu_userdb *db, const char *line)
{
	const char *p = line + strspn(line, " \t");
	const char *c1, *c2, *c3;
	char *name, *pw;
	GArray *groups;
	enum nuauth_user_status st;
	uint32_t uid = 0, want_uid = 0;

	if (!*p || *p == '#')
		return;
	c1 = strchr(p, ':');
	c3 = strrchr(p, ':');
	FUZZ_CHECK(c1 && c3 > c1);	/* the loader accepted the line */
	for (c2 = c3 - 1; c2 > c1 && *c2 != ':'; c2--)
		;
	FUZZ_CHECK(c2 > c1);
	name = g_strndup(p, c1 - p);
	pw = g_strndup(c1 + 1, c2 - c1 - 1);
	FUZZ_CHECK(parse_uid(c2 + 1, c3 - c2 - 1, &want_uid));

	groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	st = nu_userdb_check(db, name, pw, strlen(pw), &uid, groups);
	FUZZ_CHECK(st == NUAUTH_USER_OK || st == NUAUTH_USER_BAD_PASSWORD ||
		   st == NUAUTH_USER_DISABLED);
	if (st == NUAUTH_USER_OK)
		FUZZ_CHECK(uid == want_uid && groups->len > 0);
	else
		FUZZ_CHECK(groups->len == 0);
	/* A clear password (not a {SCHEME} digest, a $crypt$ hash or a
	 * disabled account) is its own password. */
	if (pw[0] != '{' && pw[0] != '!' && pw[0] != '$' && strcmp(pw, "*") != 0)
		FUZZ_CHECK(st == NUAUTH_USER_OK);
	if (st == NUAUTH_USER_OK) {
		/* one byte more is another password */
		char *longer = g_strconcat(pw, "x", NULL);

		FUZZ_CHECK(nu_userdb_check(db, name, longer, strlen(longer), NULL, NULL) ==
			   NUAUTH_USER_BAD_PASSWORD);
		g_free(longer);
	}
	(void)nu_userdb_check(db, name, NULL, 0, NULL, NULL);
	g_array_free(groups, TRUE);
	g_free(pw);
	g_free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_write("users.nufw", data, size);
	GError *error = NULL;
	struct nu_userdb *db = nu_userdb_load(path, &error);

	if (db) {
		char *text = g_strndup((const char *)data, size);
		char **lines = g_strsplit(text, "\n", -1);
		unsigned i;

		FUZZ_CHECK(error == NULL);
		(void)nu_userdb_count(db);
		for (i = 0; lines[i]; i++) {
			size_t len = strlen(lines[i]);

			while (len > 0 && strchr("\r \t", lines[i][len - 1]))
				lines[i][--len] = '\0';
			check_line(db, lines[i]);
		}
		FUZZ_CHECK(nu_userdb_check(db, "no such user\n", "pw", 2, NULL, NULL) ==
			   NUAUTH_USER_UNKNOWN);
		FUZZ_CHECK(nu_userdb_check(db, NULL, "pw", 2, NULL, NULL) == NUAUTH_USER_UNKNOWN);
		g_strfreev(lines);
		g_free(text);
		nu_userdb_free(db);
	} else {
		FUZZ_CHECK(error != NULL && error->domain == NU_CONF_ERROR);
		g_clear_error(&error);
	}
	fuzz_unlink(path);
	g_free(path);
	return 0;
}
