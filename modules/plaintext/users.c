/* users.nufw: the plaintext module's user database (format in users.h). */
#include "config.h"
#include "users.h"
#include "scram.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <crypt.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#define SCRAM_PREFIX "{" NU_SCRAM_MECH "}"

/* Longest digest we handle (SHA-256, used for clear-text passwords). */
#define DIGEST_MAX 32

enum pw_kind {
	PW_DISABLED,
	PW_CLEAR,	/* digest holds SHA-256(password), so that nothing
			 * longer-lived than the file buffer holds it in clear */
	PW_HASHED,	/* digest (and salt) from a {SCHEME} */
	PW_CRYPT,	/* crypt(3) hash in crypt_hash ("$6$...", "$y$...") */
	PW_SCRAM,	/* only a SCRAM verifier: PLAIN is checked against it */
};

struct pw_scheme {
	const char *prefix;
	gnutls_digest_algorithm_t alg;
	size_t len;
	bool salted;
};

static const struct pw_scheme schemes[] = {
	{ "{SHA}", GNUTLS_DIG_SHA1, 20, false },
	{ "{SSHA}", GNUTLS_DIG_SHA1, 20, true },
	{ "{MD5}", GNUTLS_DIG_MD5, 16, false },
	{ "{SMD5}", GNUTLS_DIG_MD5, 16, true },
};

static const struct pw_scheme clear_scheme = { "", GNUTLS_DIG_SHA256, 32, false };

struct nu_user {
	char *name;
	unsigned line;
	enum pw_kind kind;
	const struct pw_scheme *scheme;
	uint8_t digest[DIGEST_MAX];
	uint8_t *salt;
	size_t salt_len;
	uint32_t uid;
	GArray *gids;		/* uint32_t */
	char *crypt_hash;
	struct nu_scram_verifier *scram;	/* NULL when the user has none */
	char *scram_text;		/* its text form, for SASL */
};

struct nu_userdb {
	GHashTable *users;	/* name -> struct nu_user (owned) */
	GPtrArray *decoys;	/* the users with a password, for unknown names */
};

static void user_free(void *p)
{
	struct nu_user *u = p;

	if (!u)
		return;
	explicit_bzero(u->digest, sizeof(u->digest));
	if (u->salt)
		explicit_bzero(u->salt, u->salt_len);
	g_free(u->salt);
	if (u->crypt_hash)
		explicit_bzero(u->crypt_hash, strlen(u->crypt_hash));
	g_free(u->crypt_hash);
	if (u->scram)
		explicit_bzero(u->scram, sizeof(*u->scram));
	g_free(u->scram);
	if (u->scram_text)
		explicit_bzero(u->scram_text, strlen(u->scram_text));
	g_free(u->scram_text);
	if (u->gids)
		g_array_free(u->gids, TRUE);
	g_free(u->name);
	g_free(u);
}

void nu_userdb_free(struct nu_userdb *db)
{
	if (!db)
		return;
	if (db->decoys)
		g_ptr_array_free(db->decoys, TRUE);
	g_hash_table_destroy(db->users);
	g_free(db);
}

unsigned nu_userdb_count(const struct nu_userdb *db)
{
	return db ? g_hash_table_size(db->users) : 0;
}

/* Full-string unsigned 32-bit decimal. */
static bool parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return false;
	for (i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* crypt_r() of password (len bytes, no NUL inside) with setting (a hash
 * or a salt); a g_malloc'ed copy of the result, or NULL when crypt does not
 * know the scheme or the setting is malformed. */
static char *crypt_of(const char *password, size_t len, const char *setting)
{
	struct crypt_data *data = g_new0(struct crypt_data, 1);
	char *pw = g_strndup(password, len), *res = NULL;
	const char *out;

	if (strlen(pw) == len) {
		out = crypt_r(pw, setting, data);
		/* Failures give NULL or a string starting with '*'. */
		if (out && out[0] != '*')
			res = g_strdup(out);
	}
	explicit_bzero(pw, len);
	g_free(pw);
	explicit_bzero(data, sizeof(*data));
	g_free(data);
	return res;
}

static bool set_crypt(struct nu_user *u, const char *file, unsigned line, const char *pw,
		      GError **error)
{
	char *probe = crypt_of("probe", 5, pw);

	/* crypt accepts the hash as its own setting: a hash it cannot use
	 * (unknown scheme, bad salt) would refuse every password. */
	if (!probe) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: user `%s': crypt(3) hash of a scheme this system does not "
			    "support, or malformed", file, line, u->name);
		return false;
	}
	explicit_bzero(probe, strlen(probe));
	g_free(probe);
	u->kind = PW_CRYPT;
	u->crypt_hash = g_strdup(pw);
	return true;
}

/* Where the SCRAM verifier starts in a password field: at its start, or
 * after a space that follows another password; NULL when there is none. */
static char *find_scram(char *pw)
{
	size_t n = strlen(SCRAM_PREFIX);

	if (g_ascii_strncasecmp(pw, SCRAM_PREFIX, n) == 0)
		return pw;
	for (char *p = pw; (p = strchr(p, ' ')); p++)
		if (g_ascii_strncasecmp(p + 1, SCRAM_PREFIX, n) == 0)
			return p + 1;
	return NULL;
}

static bool set_scram(struct nu_user *u, const char *file, unsigned line, const char *text,
		      GError **error)
{
	const char *why;

	u->scram = g_new0(struct nu_scram_verifier, 1);
	if (!nu_scram_parse(text + strlen(SCRAM_PREFIX), u->scram, &why)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: user `%s': " SCRAM_PREFIX " verifier: %s", file, line,
			    u->name, why);
		return false;
	}
	u->scram_text = nu_scram_format(u->scram);
	return true;
}

static bool clear_scram(struct nu_user *u, const char *pw)
{
	uint8_t salt[NU_SCRAM_SALT_DEFAULT];

	if (gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof(salt)) != 0)
		return false;
	u->scram = g_new0(struct nu_scram_verifier, 1);
	if (!nu_scram_compute(pw, strlen(pw), salt, sizeof(salt), NU_SCRAM_ITER_DEFAULT, u->scram))
		return false;
	u->scram_text = nu_scram_format(u->scram);
	return true;
}

static bool set_password(struct nu_user *u, const char *file, unsigned line,
			 char *pw, GError **error)
{
	const struct pw_scheme *sc = NULL;
	uint8_t *raw;
	gsize raw_len;
	size_t i;
	char *scram;

	if (strcmp(pw, "*") == 0 || pw[0] == '!') {
		u->kind = PW_DISABLED;
		return true;
	}
	if ((scram = find_scram(pw))) {
		if (!set_scram(u, file, line, scram, error))
			return false;
		if (scram == pw) {
			u->kind = PW_SCRAM;
			return true;
		}
		scram[-1] = '\0';	/* the password before it */
	}
	if (!*pw) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: user `%s': empty password (use `!' to disable the account)",
			    file, line, u->name);
		return false;
	}

	if (pw[0] == '$')
		return set_crypt(u, file, line, pw, error);
	for (i = 0; i < G_N_ELEMENTS(schemes); i++) {
		if (g_ascii_strncasecmp(pw, schemes[i].prefix, strlen(schemes[i].prefix)) == 0) {
			sc = &schemes[i];
			break;
		}
	}
	if (!sc) {
		/* A "{WORD}" prefix we do not know is more likely a typo or an
		 * unsupported scheme than a clear-text password. */
		size_t n = strspn(pw + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

		if (pw[0] == '{' && n > 0 && pw[1 + n] == '}') {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
				    "%s:%u: user `%s': unknown password scheme `%.*s'",
				    file, line, u->name, (int)n + 2, pw);
			return false;
		}
		u->kind = PW_CLEAR;
		u->scheme = &clear_scheme;
		/* The clear password is at hand only now: its SCRAM verifier
		 * (random salt) lets the user log in with SCRAM too. */
		if (!u->scram && !clear_scram(u, pw)) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s:%u: user `%s': cannot compute a SCRAM verifier", file, line,
				    u->name);
			return false;
		}
		if (gnutls_hash_fast(clear_scheme.alg, pw, strlen(pw), u->digest) < 0) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s:%u: user `%s': cannot compute a digest", file, line, u->name);
			return false;
		}
		return true;
	}

	pw += strlen(sc->prefix);
	/* Passwords and hashes are secrets: messages name the user only. */
	if (!nu_base64_strict(pw, strlen(pw))) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: user `%s': %s password is not valid base64",
			    file, line, u->name, sc->prefix);
		return false;
	}
	raw = g_base64_decode(pw, &raw_len);
	if (sc->salted ? raw_len <= sc->len : raw_len != sc->len) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: user `%s': %s password decodes to %zu bytes, expected %s%zu",
			    file, line, u->name, sc->prefix, (size_t)raw_len,
			    sc->salted ? "more than " : "", sc->len);
		explicit_bzero(raw, raw_len);
		g_free(raw);
		return false;
	}
	u->kind = PW_HASHED;
	u->scheme = sc;
	memcpy(u->digest, raw, sc->len);
	if (sc->salted) {
		u->salt_len = raw_len - sc->len;
		u->salt = g_memdup2(raw + sc->len, u->salt_len);
	}
	explicit_bzero(raw, raw_len);
	g_free(raw);
	return true;
}

static bool parse_gids(struct nu_user *u, const char *file, unsigned line,
		       const char *s, size_t len, GError **error)
{
	const char *end = s + len;

	u->gids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	for (;;) {
		const char *comma = memchr(s, ',', end - s);
		const char *item_end = comma ? comma : end;
		uint32_t gid;

		if (!parse_u32(s, item_end - s, &gid)) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
				    "%s:%u: user `%s': gid: expected an unsigned 32-bit number, got `%.*s'",
				    file, line, u->name, (int)(item_end - s), s);
			return false;
		}
		g_array_append_val(u->gids, gid);
		if (!comma)
			return true;
		s = comma + 1;
	}
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (g_ascii_isspace(*s) || g_ascii_iscntrl(*s))
			return false;
	return true;
}

/* name:password:uid:gids; the password may itself hold ':' since uid and
 * gids are taken from the end. */
static struct nu_user *parse_user(const char *file, unsigned line, char *text, GError **error)
{
	char *c1 = strchr(text, ':'), *c3 = strrchr(text, ':'), *c2 = NULL;
	struct nu_user *u;

	if (c1 && c3 > c1) {
		for (c2 = c3 - 1; c2 > c1 && *c2 != ':'; c2--)
			;
	}
	if (!c1) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: expected `name:password:uid:gid[,gid...]', got `%s'",
			    file, line, text);
		return NULL;
	}
	if (!c2 || c2 == c1) {
		/* Quote the name only: the rest may hold a password. */
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: user `%.*s': expected `name:password:uid:gid[,gid...]'",
			    file, line, (int)(c1 - text), text);
		return NULL;
	}

	u = g_new0(struct nu_user, 1);
	u->name = g_strndup(text, c1 - text);
	u->line = line;
	if (!valid_name(u->name)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: invalid user name `%s'", file, line, u->name);
		goto fail;
	}
	if (!parse_u32(c2 + 1, c3 - c2 - 1, &u->uid)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: user `%s': uid: expected an unsigned 32-bit number, got `%.*s'",
			    file, line, u->name, (int)(c3 - c2 - 1), c2 + 1);
		goto fail;
	}
	if (!parse_gids(u, file, line, c3 + 1, strlen(c3 + 1), error))
		goto fail;
	*c2 = '\0';
	if (!set_password(u, file, line, c1 + 1, error))
		goto fail;
	return u;
fail:
	user_free(u);
	return NULL;
}

struct nu_userdb *nu_userdb_load(const char *path, GError **error)
{
	struct nu_userdb *db = g_new0(struct nu_userdb, 1);
	FILE *f;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned line = 0;
	bool ok = false;

	db->users = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, user_free);
	if (!(f = fopen(path, "re"))) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s: %s", path, g_strerror(errno));
		goto out;
	}
	errno = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		char *p = buf;
		struct nu_user *u, *prev;

		line++;
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
				   buf[len - 1] == ' ' || buf[len - 1] == '\t'))
			buf[--len] = '\0';
		if (strlen(buf) != (size_t)len) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
				    "%s:%u: line contains a NUL byte", path, line);
			goto out;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (!(u = parse_user(path, line, p, error)))
			goto out;
		if ((prev = g_hash_table_lookup(db->users, u->name))) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
				    "%s:%u: duplicate user `%s' (first defined at line %u)",
				    path, line, u->name, prev->line);
			user_free(u);
			goto out;
		}
		g_hash_table_insert(db->users, u->name, u);
		errno = 0;
	}
	if (ferror(f)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s: %s", path,
			    g_strerror(errno ? errno : EIO));
		goto out;
	}
	db->decoys = g_ptr_array_new();
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, db->users);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((struct nu_user *)value)->kind != PW_DISABLED)
			g_ptr_array_add(db->decoys, value);
	ok = true;
out:
	if (f)
		fclose(f);
	if (buf)
		explicit_bzero(buf, cap);
	free(buf);
	if (!ok) {
		nu_userdb_free(db);
		return NULL;
	}
	return db;
}

/* Compares n bytes in time that does not depend on where they differ. */
static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t diff = 0;
	size_t i;

	for (i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static int digest_of(const struct pw_scheme *sc, const char *pw, size_t len,
		     const uint8_t *salt, size_t salt_len, uint8_t *out)
{
	gnutls_hash_hd_t h;
	int ret;

	if (!salt_len)
		return gnutls_hash_fast(sc->alg, pw, len, out);
	if ((ret = gnutls_hash_init(&h, sc->alg)) < 0)
		return ret;
	if ((ret = gnutls_hash(h, pw, len)) < 0 || (ret = gnutls_hash(h, salt, salt_len)) < 0) {
		gnutls_hash_deinit(h, NULL);
		return ret;
	}
	gnutls_hash_deinit(h, out);
	return 0;
}

/* Does password match u's (which has one)?  false with *error when the
 * digest cannot be computed. */
static bool password_matches(const struct nu_user *u, const char *password, size_t password_len,
			     bool *error)
{
	uint8_t digest[DIGEST_MAX];
	bool match;

	*error = false;
	if (u->kind == PW_SCRAM) {
		match = nu_scram_check_password(u->scram, password, password_len);
	} else if (u->kind == PW_CRYPT) {
		char *out = crypt_of(password, password_len, u->crypt_hash);
		size_t n = strlen(u->crypt_hash);

		/* A password holding a NUL byte gives NULL: it cannot match. */
		match = out && strlen(out) == n &&
			equal_ct((const uint8_t *)out, (const uint8_t *)u->crypt_hash, n);
		if (out) {
			explicit_bzero(out, strlen(out));
			g_free(out);
		}
	} else {
		if (digest_of(u->scheme, password, password_len, u->salt, u->salt_len, digest) < 0) {
			*error = true;
			return false;
		}
		match = equal_ct(digest, u->digest, u->scheme->len);
		explicit_bzero(digest, sizeof(digest));
	}
	return match;
}

/* The user whose password an unknown name is checked against: picked by
 * a keyed hash of the name (a secret drawn once per process), so the same
 * name costs the same each time, and what any name costs is what one of
 * the file's users costs.  NULL when no user has a password. */
static const struct nu_user *decoy_for(const struct nu_userdb *db, const char *name)
{
	static uint8_t secret[32];
	static gsize drawn;
	uint8_t pick[32];
	gsize len = sizeof(pick);
	GHmac *h;

	if (!db || !db->decoys || !db->decoys->len)
		return NULL;
	if (g_once_init_enter(&drawn)) {
		if (gnutls_rnd(GNUTLS_RND_KEY, secret, sizeof(secret)) < 0)
			memset(secret, 0x5a, sizeof(secret));	/* still a fixed cost */
		g_once_init_leave(&drawn, 1);
	}
	h = g_hmac_new(G_CHECKSUM_SHA256, secret, sizeof(secret));
	g_hmac_update(h, (const guchar *)name, -1);
	g_hmac_get_digest(h, pick, &len);
	g_hmac_unref(h);
	return g_ptr_array_index(db->decoys,
				 ((uint32_t)pick[0] << 24 | (uint32_t)pick[1] << 16 |
				  (uint32_t)pick[2] << 8 | pick[3]) % db->decoys->len);
}

enum nuauth_user_status nu_userdb_check(const struct nu_userdb *db, const char *user,
					const char *password, size_t password_len,
					uint32_t *uid, GArray *groups)
{
	const struct nu_user *u, *decoy;
	uint8_t digest[DIGEST_MAX];
	bool error;

	u = db && user ? g_hash_table_lookup(db->users, user) : NULL;
	if (!u && password && user && (decoy = decoy_for(db, user))) {
		/* The check a known name's wrong password costs, with its
		 * answer thrown away: the time tells no one which names exist. */
		(void)password_matches(decoy, password, password_len, &error);
		return NUAUTH_USER_UNKNOWN;
	}
	if (!u || u->kind == PW_DISABLED || !password) {
		/* Spend about the time of a cheap check. */
		if (password)
			digest_of(&clear_scheme, password, password_len, NULL, 0, digest);
		explicit_bzero(digest, sizeof(digest));
		if (!u)
			return NUAUTH_USER_UNKNOWN;
		return u->kind == PW_DISABLED ? NUAUTH_USER_DISABLED : NUAUTH_USER_BAD_PASSWORD;
	}
	if (!password_matches(u, password, password_len, &error))
		return error ? NUAUTH_USER_ERROR : NUAUTH_USER_BAD_PASSWORD;
	if (uid)
		*uid = u->uid;
	if (groups)
		g_array_append_vals(groups, u->gids->data, u->gids->len);
	return NUAUTH_USER_OK;
}

enum nuauth_user_status nu_userdb_lookup(const struct nu_userdb *db, const char *user,
					 uint32_t *uid, GArray *groups)
{
	const struct nu_user *u = db && user ? g_hash_table_lookup(db->users, user) : NULL;

	/* No password is involved here: an account whose password is `*'
	 * (no password login) still exists, e.g. the guest of IP
	 * authentication. */
	if (!u)
		return NUAUTH_USER_UNKNOWN;
	if (uid)
		*uid = u->uid;
	if (groups)
		g_array_append_vals(groups, u->gids->data, u->gids->len);
	return NUAUTH_USER_OK;
}

enum nuauth_user_status nu_userdb_scram(const struct nu_userdb *db, const char *user,
					const char **verifier, uint32_t *uid, GArray *groups)
{
	const struct nu_user *u = db && user ? g_hash_table_lookup(db->users, user) : NULL;

	*verifier = NULL;
	if (!u)
		return NUAUTH_USER_UNKNOWN;
	if (u->kind == PW_DISABLED)
		return NUAUTH_USER_DISABLED;
	*verifier = u->scram_text;
	if (uid)
		*uid = u->uid;
	if (groups)
		g_array_append_vals(groups, u->gids->data, u->gids->len);
	return NUAUTH_USER_OK;
}
