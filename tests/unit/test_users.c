/* Unit tests for the plaintext users file (modules/plaintext/users.c). */
#include "config.h"

#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <crypt.h>

#include "users.h"
#include "scram.h"
#include "unit.h"
#include "unit_files.h"

/* "{SCHEME}" + base64(digest(password + salt) + salt), computed here with
 * GnuTLS independently of the module. */
static char *make_hash(const char *scheme, gnutls_digest_algorithm_t alg,
		       const char *password, const char *salt)
{
	size_t dlen = gnutls_hash_get_len(alg), slen = strlen(salt), plen = strlen(password);
	guint8 *in = g_malloc(plen + slen + 1), *out = g_malloc(dlen + slen);
	char *b64, *res;

	memcpy(in, password, plen);
	memcpy(in + plen, salt, slen);
	gnutls_hash_fast(alg, in, plen + slen, out);
	memcpy(out + dlen, salt, slen);
	b64 = g_base64_encode(out, dlen + slen);
	res = g_strconcat(scheme, b64, NULL);
	g_free(b64);
	g_free(in);
	g_free(out);
	return res;
}

static enum nuauth_user_status check(const struct nu_userdb *db, const char *user,
				     const char *pw, uint32_t *uid, GArray *groups)
{
	return nu_userdb_check(db, user, pw, pw ? strlen(pw) : 0, uid, groups);
}

static void test_good(void)
{
	char *sha = make_hash("{SHA}", GNUTLS_DIG_SHA1, "bobpw", "");
	char *ssha = make_hash("{SSHA}", GNUTLS_DIG_SHA1, "carolpw", "s4lt\x01\xff");
	char *md5 = make_hash("{MD5}", GNUTLS_DIG_MD5, "davepw", "");
	char *smd5 = make_hash("{SMD5}", GNUTLS_DIG_MD5, "erinpw", "NaCl");
	char *text = g_strdup_printf(
		"# users\n"
		"\n"
		"alice:secret:1001:100\n"
		"  # indented comment\n"
		"bob:%s:1002:100,200\n"
		"carol:%s:1003:300\n"
		"dave:%s:1004:400\n"
		"erin:%s:1005:500\r\n"
		"frank:*:1006:600\n"
		"grace:!secret:1007:700\n"
		"heidi:pass:word:1008:800\n"
		"ivan:!:1009:900\n"
		/* Known vectors: SHA-1 and MD5 of "password". */
		"judy:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=:1010:1\n"
		"mallory:{md5}X03MO1qnZdYdgyfeuILPmQ==:4294967295:0,4294967295\n",
		sha, ssha, md5, smd5);
	char *path = unit_write_file("users.nufw", text);
	GError *error = NULL;
	struct nu_userdb *db = nu_userdb_load(path, &error);
	GArray *groups = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	uint32_t uid = 0;

	CHECK(db != NULL);
	if (!db) {
		fprintf(stderr, "%s\n", error->message);
		g_clear_error(&error);
		goto out;
	}
	CHECK(nu_userdb_count(db) == 11);

	/* Without a password (IP authentication): a `*' account exists. */
	CHECK(nu_userdb_lookup(db, "frank", &uid, groups) == NUAUTH_USER_OK);
	CHECK(uid == 1006 && groups->len == 1 && g_array_index(groups, uint32_t, 0) == 600);
	g_array_set_size(groups, 0);
	CHECK(nu_userdb_lookup(db, "nobody", &uid, groups) == NUAUTH_USER_UNKNOWN);
	CHECK(groups->len == 0);
	CHECK(nu_userdb_lookup(db, "bob", NULL, groups) == NUAUTH_USER_OK && groups->len == 2);
	g_array_set_size(groups, 0);

	CHECK(check(db, "alice", "secret", &uid, groups) == NUAUTH_USER_OK);
	CHECK(uid == 1001 && groups->len == 1 && g_array_index(groups, uint32_t, 0) == 100);
	g_array_set_size(groups, 0);
	CHECK(check(db, "alice", "Secret", &uid, groups) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(check(db, "alice", "secre", &uid, groups) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(check(db, "alice", "secrets", &uid, groups) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(check(db, "alice", "", &uid, groups) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(nu_userdb_check(db, "alice", "secret\0x", 8, &uid, groups) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(nu_userdb_check(db, "alice", "secretXX", 6, &uid, groups) == NUAUTH_USER_OK);
	CHECK(groups->len == 1);
	g_array_set_size(groups, 0);
	/* Names are exact: ALICE is not alice, and an unknown name is refused
	 * even with a password of the user it is checked against (a decoy,
	 * for the time only), which gives it neither uid nor groups. */
	uid = 0;
	CHECK(check(db, "ALICE", "secret", &uid, groups) == NUAUTH_USER_UNKNOWN);
	CHECK(check(db, "Alice", "secret", &uid, groups) == NUAUTH_USER_UNKNOWN);
	for (int i = 0; i < 50; i++) {
		char name[16];

		snprintf(name, sizeof(name), "ghost%d", i);
		CHECK(check(db, name, "secret", &uid, groups) == NUAUTH_USER_UNKNOWN);
		CHECK(check(db, name, "password", &uid, groups) == NUAUTH_USER_UNKNOWN);
	}
	CHECK(uid == 0 && groups->len == 0);
	CHECK(groups->len == 0);

	uid = 0;
	CHECK(check(db, "bob", "bobpw", &uid, groups) == NUAUTH_USER_OK);
	CHECK(uid == 1002 && groups->len == 2 && g_array_index(groups, uint32_t, 0) == 100 &&
	      g_array_index(groups, uint32_t, 1) == 200);
	g_array_set_size(groups, 0);
	CHECK(check(db, "bob", "bobpw2", &uid, groups) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(groups->len == 0);

	CHECK(check(db, "carol", "carolpw", &uid, NULL) == NUAUTH_USER_OK && uid == 1003);
	CHECK(check(db, "carol", "carolp", &uid, NULL) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(check(db, "dave", "davepw", &uid, NULL) == NUAUTH_USER_OK && uid == 1004);
	CHECK(check(db, "dave", "bobpw", &uid, NULL) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(check(db, "erin", "erinpw", &uid, NULL) == NUAUTH_USER_OK && uid == 1005);
	CHECK(check(db, "erin", "erinpwNaCl", &uid, NULL) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(check(db, "heidi", "pass:word", &uid, NULL) == NUAUTH_USER_OK && uid == 1008);
	CHECK(check(db, "judy", "password", &uid, NULL) == NUAUTH_USER_OK && uid == 1010);
	CHECK(check(db, "mallory", "password", &uid, groups) == NUAUTH_USER_OK);
	CHECK(uid == 4294967295u && groups->len == 2 &&
	      g_array_index(groups, uint32_t, 0) == 0 &&
	      g_array_index(groups, uint32_t, 1) == 4294967295u);
	g_array_set_size(groups, 0);

	/* Disabled accounts, whatever the password. */
	CHECK(check(db, "frank", "*", &uid, groups) == NUAUTH_USER_DISABLED);
	CHECK(check(db, "grace", "secret", &uid, groups) == NUAUTH_USER_DISABLED);
	CHECK(check(db, "grace", "!secret", &uid, groups) == NUAUTH_USER_DISABLED);
	CHECK(check(db, "ivan", "!", &uid, groups) == NUAUTH_USER_DISABLED);
	CHECK(groups->len == 0);

	/* Unknown users. */
	CHECK(check(db, "nobody", "secret", &uid, groups) == NUAUTH_USER_UNKNOWN);
	CHECK(check(db, "Alice", "secret", &uid, groups) == NUAUTH_USER_UNKNOWN);
	CHECK(check(db, "", "secret", &uid, groups) == NUAUTH_USER_UNKNOWN);
	CHECK(check(db, "alice", NULL, &uid, groups) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(check(NULL, "alice", "secret", &uid, groups) == NUAUTH_USER_UNKNOWN);

	nu_userdb_free(db);
out:
	nu_userdb_free(NULL);
	g_array_free(groups, TRUE);
	g_remove(path);
	g_free(path);
	g_free(text);
	g_free(sha);
	g_free(ssha);
	g_free(md5);
	g_free(smd5);
}

/* Loads text and expects the message "<path>:<suffix>". */
static bool load_fails(const char *text, const char *suffix)
{
	char *path = unit_write_file("bad.nufw", text);
	GError *error = NULL;
	struct nu_userdb *db = nu_userdb_load(path, &error);
	bool ok = !db && unit_error_is(error, path, suffix);

	nu_userdb_free(db);
	g_clear_error(&error);
	g_remove(path);
	g_free(path);
	return ok;
}

static void test_errors(void)
{
	GError *error = NULL;
	char *path, *want;

	path = g_build_filename(unit_tmpdir(), "missing.nufw", NULL);
	CHECK(nu_userdb_load(path, &error) == NULL);
	want = g_strdup_printf("%s: No such file or directory", path);
	CHECK(error && strcmp(error->message, want) == 0);
	g_clear_error(&error);
	g_free(want);
	g_free(path);

	CHECK(load_fails("a:x:1:1\nnocolons\n",
			 "2: expected `name:password:uid:gid[,gid...]', got `nocolons'"));
	CHECK(load_fails("a:x:1\n", "1: user `a': expected `name:password:uid:gid[,gid...]'"));
	CHECK(load_fails("a:1:1\n", "1: user `a': expected `name:password:uid:gid[,gid...]'"));
	CHECK(load_fails("#\n\na:pw:abc:100\n",
			 "3: user `a': uid: expected an unsigned 32-bit number, got `abc'"));
	CHECK(load_fails("a:pw:4294967296:100\n",
			 "1: user `a': uid: expected an unsigned 32-bit number, got `4294967296'"));
	CHECK(load_fails("a:pw:-1:100\n",
			 "1: user `a': uid: expected an unsigned 32-bit number, got `-1'"));
	CHECK(load_fails("a:pw::100\n",
			 "1: user `a': uid: expected an unsigned 32-bit number, got `'"));
	CHECK(load_fails("a:pw:1:1,,2\n",
			 "1: user `a': gid: expected an unsigned 32-bit number, got `'"));
	CHECK(load_fails("a:pw:1:\n",
			 "1: user `a': gid: expected an unsigned 32-bit number, got `'"));
	CHECK(load_fails("a:pw:1:10,x\n",
			 "1: user `a': gid: expected an unsigned 32-bit number, got `x'"));
	CHECK(load_fails(":pw:1:1\n", "1: invalid user name `'"));
	CHECK(load_fails("a b:pw:1:1\n", "1: invalid user name `a b'"));
	CHECK(load_fails("a::1:1\n", "1: user `a': empty password (use `!' to disable the account)"));
	CHECK(load_fails("a:x:1:1\nb:y:2:2\na:z:3:3\n",
			 "3: duplicate user `a' (first defined at line 1)"));
	CHECK(load_fails("a:{SHA}not base64!:1:1\n",
			 "1: user `a': {SHA} password is not valid base64"));
	CHECK(load_fails("a:{SHA}QUJD:1:1\n",
			 "1: user `a': {SHA} password decodes to 3 bytes, expected 20"));
	CHECK(load_fails("a:{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=:1:1\n",
			 "1: user `a': {SSHA} password decodes to 20 bytes, expected more than 20"));
	CHECK(load_fails("a:{MD5}W6ph5Mm5Pz8GgiULbPgzG37mj9g=:1:1\n",
			 "1: user `a': {MD5} password decodes to 20 bytes, expected 16"));
	CHECK(load_fails("a:{SMD5}:1:1\n",
			 "1: user `a': {SMD5} password is not valid base64"));
	CHECK(load_fails("a:{CRYPT}abc:1:1\n", "1: user `a': unknown password scheme `{CRYPT}'"));
}

/* crypt_r() of password with setting, made here independently of the
 * module; NULL when this libcrypt lacks the scheme. */
static char *make_crypt(const char *password, const char *setting)
{
	struct crypt_data *data = g_new0(struct crypt_data, 1);
	const char *out = crypt_r(password, setting, data);
	char *res = out && out[0] != '*' ? g_strdup(out) : NULL;

	g_free(data);
	return res;
}

/* A setting for prefix from fixed "random" bytes: the same hash each run. */
static char *fixed_setting(const char *prefix)
{
	static const char entropy[16] = "0123456789abcdef";
	char buf[CRYPT_GENSALT_OUTPUT_SIZE];

	if (!crypt_gensalt_rn(prefix, 0, entropy, sizeof(entropy), buf, sizeof(buf)))
		return NULL;
	return g_strdup(buf);
}

static void test_crypt(void)
{
	/* The sha512-crypt test vector of its specification (Drepper). */
	const char *vector = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFN"
			     "jnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
	const char *prefixes[] = { "$6$", "$y$", "$5$", "$2b$" };
	GString *text = g_string_new(NULL);
	GError *error = NULL;
	struct nu_userdb *db;
	char *path, *h;
	uint32_t uid = 0;
	unsigned n = 0;

	g_string_append_printf(text, "vector:%s:2000:1\n", vector);
	for (unsigned i = 0; i < G_N_ELEMENTS(prefixes); i++) {
		char *setting = fixed_setting(prefixes[i]);
		char *pw = g_strdup_printf("pw%u:with colon", i);

		h = setting ? make_crypt(pw, setting) : NULL;
		if (h) {
			CHECK(strncmp(h, prefixes[i], strlen(prefixes[i])) == 0);
			g_string_append_printf(text, "u%u:%s:%u:1\n", i, h, 2001 + i);
			n++;
		} else {
			/* $6$ and $y$ are in every libcrypt Debian ships. */
			CHECK(i >= 2);
			printf("crypt scheme %s not supported here: skipped\n", prefixes[i]);
		}
		g_free(h);
		g_free(setting);
		g_free(pw);
	}
	path = unit_write_file("crypt.nufw", text->str);
	db = nu_userdb_load(path, &error);
	CHECK(db != NULL);
	if (!db) {
		fprintf(stderr, "%s\n", error->message);
		g_clear_error(&error);
		goto out;
	}
	CHECK(nu_userdb_count(db) == n + 1);
	CHECK(check(db, "vector", "Hello world!", &uid, NULL) == NUAUTH_USER_OK && uid == 2000);
	CHECK(check(db, "vector", "Hello world", &uid, NULL) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(check(db, "vector", "", &uid, NULL) == NUAUTH_USER_BAD_PASSWORD);
	for (unsigned i = 0; i < G_N_ELEMENTS(prefixes); i++) {
		char *user = g_strdup_printf("u%u", i), *pw = g_strdup_printf("pw%u:with colon", i);
		char *name = user;

		if (i < 2 || g_strstr_len(text->str, -1, user)) {
			uid = 0;
			CHECK(check(db, name, pw, &uid, NULL) == NUAUTH_USER_OK);
			CHECK(uid == 2001 + i);
			CHECK(check(db, name, "pw", &uid, NULL) == NUAUTH_USER_BAD_PASSWORD);
			/* A NUL byte in the password never matches. */
			CHECK(nu_userdb_check(db, name, pw, strlen(pw) + 1, &uid, NULL) ==
			      NUAUTH_USER_BAD_PASSWORD);
		}
		g_free(user);
		g_free(pw);
	}
	nu_userdb_free(db);
out:
	g_unlink(path);
	g_free(path);
	g_string_free(text, TRUE);

	/* A hash libcrypt cannot use is refused at load, with its line. */
	CHECK(load_fails("a:x:1:1\nb:$9$unknown$scheme:2:2\n",
			 "2: user `b': crypt(3) hash of a scheme this system does not "
			 "support, or malformed"));
	CHECK(load_fails("a:$y$bad:1:1\n",
			 "1: user `a': crypt(3) hash of a scheme this system does not "
			 "support, or malformed"));
}

/* RFC 7677's "pencil" verifier (test_scram proves it). */
#define PENCIL "{SCRAM-SHA-256}4096:W22ZaJ0SNY7soEsUEjb6gQ==" \
	"$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

static void test_scram(void)
{
	char *ssha = make_hash("{SSHA}", GNUTLS_DIG_SHA1, "pencil", "salty");
	char *text = g_strdup_printf(
		"both:%s " PENCIL ":1001:100,200\n"
		"only:" PENCIL ":1002:100\n"
		"clear:my pencil " PENCIL ":1003:100\n"
		"lower:{scram-sha-256}4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=:1004:100\n"
		"nover:%s:1005:100\n"
		"off:!%s " PENCIL ":1006:100\n"
		"plain:pencil:1007:100\n", ssha, ssha, ssha);
	char *path = unit_write_file("scram.nufw", text);
	GError *error = NULL;
	struct nu_userdb *db = nu_userdb_load(path, &error);
	GArray *groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	const char *v = NULL;
	uint32_t uid = 0;

	CHECK(db != NULL);
	if (!db) {
		fprintf(stderr, "%s\n", error->message);
		g_clear_error(&error);
		goto out;
	}
	/* The verifier, as Cyrus reads it, and the user's uid and groups. */
	CHECK(nu_userdb_scram(db, "both", &v, &uid, groups) == NUAUTH_USER_OK);
	CHECK(v && strcmp(v, PENCIL + strlen("{SCRAM-SHA-256}")) == 0);
	CHECK(uid == 1001 && groups->len == 2 && g_array_index(groups, guint32, 1) == 200);
	CHECK(nu_userdb_scram(db, "lower", &v, NULL, NULL) == NUAUTH_USER_OK && v);
	CHECK(nu_userdb_scram(db, "nover", &v, &uid, NULL) == NUAUTH_USER_OK && !v &&
	      uid == 1005);
	CHECK(nu_userdb_scram(db, "off", &v, NULL, NULL) == NUAUTH_USER_DISABLED && !v);
	/* A clear password gets a verifier at load (random salt). */
	CHECK(nu_userdb_scram(db, "plain", &v, NULL, NULL) == NUAUTH_USER_OK && v);
	if (v) {
		struct nu_scram_verifier sv;
		const char *why;

		CHECK(nu_scram_parse(v, &sv, &why) && nu_scram_check_password(&sv, "pencil", 6));
	}
	CHECK(nu_userdb_scram(db, "nobody", &v, NULL, NULL) == NUAUTH_USER_UNKNOWN && !v);
	/* PLAIN: the password before the verifier decides... */
	CHECK(check(db, "both", "pencil", NULL, NULL) == NUAUTH_USER_OK);
	CHECK(check(db, "both", "pencil2", NULL, NULL) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(check(db, "clear", "my pencil", NULL, NULL) == NUAUTH_USER_OK);
	CHECK(check(db, "clear", "pencil", NULL, NULL) == NUAUTH_USER_BAD_PASSWORD);
	/* ...or the verifier when it stands alone. */
	CHECK(check(db, "only", "pencil", NULL, NULL) == NUAUTH_USER_OK);
	CHECK(check(db, "only", "pencil ", NULL, NULL) == NUAUTH_USER_BAD_PASSWORD);
	CHECK(check(db, "off", "pencil", NULL, NULL) == NUAUTH_USER_DISABLED);
	nu_userdb_free(db);
out:
	g_remove(path);
	g_free(path);
	g_free(text);
	g_free(ssha);
	g_array_free(groups, TRUE);

	CHECK(load_fails("a:{SCRAM-SHA-256}4096:QUJD$x:y:1:1\n",
			 "1: user `a': {SCRAM-SHA-256} verifier: the salt is not base64 of 8 to 64 bytes"));
	CHECK(load_fails("a:pw {SCRAM-SHA-256}100:W22ZaJ0SNY7soEsUEjb6gQ==$x:y:1:1\n",
			 "1: user `a': {SCRAM-SHA-256} verifier: the iteration count is out of "
			 "range (4096 to 1000000)"));
	CHECK(load_fails("a: " PENCIL ":1:1\n",
			 "1: user `a': empty password (use `!' to disable the account)"));
	CHECK(load_fails("a:{SCRAM-SHA-256}:1:1\n",
			 "1: user `a': {SCRAM-SHA-256} verifier: expected "
			 "ITERATIONS:SALT$STOREDKEY:SERVERKEY"));
}

int main(void)
{
	test_good();
	test_errors();
	test_crypt();
	test_scram();
	unit_files_cleanup();
	return unit_done("users");
}
