/* nuauthctl hash: prints the hash of a password, read from stdin, for the
 * users file of the plaintext module (users.nufw):
 *
 *   yescrypt   $y$...  crypt(3), the default
 *   sha512     $6$...  crypt(3) sha512-crypt
 *   ssha       {SSHA}base64(sha1(password + salt) + salt), 8-byte salt
 *   scram      {SCRAM-SHA-256}ITERATIONS:SALT$STOREDKEY:SERVERKEY alone
 *              (src/lib/scram.h): SCRAM and PLAIN logins, no clear hash
 *
 * --scram appends the SCRAM-SHA-256 verifier to the hash of the scheme,
 * after a space: the whole password field of the users file, good for
 * SCRAM and PLAIN logins.  --iterations and --salt (base64; random by
 * default) shape the verifier.
 *
 * On a terminal the password is asked twice, without echo. */
#include "config.h"
#include "nuauthctl.h"
#include "error.h"
#include "scram.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#define PASSWORD_MAX 1024
#define SSHA_SALT_LEN 8

void nuctl_hash_usage(FILE *out)
{
	fprintf(out,
		"usage: nuauthctl hash [--scheme yescrypt|sha512|ssha|scram] [--scram]\n"
		"                      [--iterations N] [--salt BASE64]\n"
		"  reads a password from stdin (asked twice, without echo, on a terminal)\n"
		"  and prints its hash for the users file; the default scheme is yescrypt\n"
		"  --scram          append the SCRAM-SHA-256 verifier (SCRAM logins)\n"
		"  --iterations N   the verifier's PBKDF2 count (default %d, at least %d)\n"
		"  --salt BASE64    the verifier's salt (default: %d random bytes)\n",
		NU_SCRAM_ITER_DEFAULT, NU_SCRAM_ITER_MIN, NU_SCRAM_SALT_DEFAULT);
}

/* One line from stdin without its newline; false at EOF, on an error or
 * when the line is too long. */
static bool read_line(const char *prompt, char *buf, size_t cap)
{
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	bool ok;
	size_t len;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ok = fgets(buf, (int)cap, stdin) != NULL;
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	if (!ok)
		return false;
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (len == cap - 1)
		return false;
	if (len && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return true;
}

static char *hash_crypt(const char *prefix, const char *password)
{
	struct crypt_data *data = g_new0(struct crypt_data, 1);
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *out;
	char *res = NULL;

	/* NULL entropy: libcrypt reads the system's random source. */
	if (crypt_gensalt_rn(prefix, 0, NULL, 0, setting, sizeof(setting)) &&
	    (out = crypt_r(password, setting, data)) && out[0] != '*')
		res = g_strdup(out);
	explicit_bzero(data, sizeof(*data));
	g_free(data);
	return res;
}

static char *hash_ssha(const char *password)
{
	size_t plen = strlen(password);
	uint8_t out[20 + SSHA_SALT_LEN], *in = g_malloc(plen + SSHA_SALT_LEN);
	char *b64, *res = NULL;

	if (gnutls_rnd(GNUTLS_RND_NONCE, out + 20, SSHA_SALT_LEN) == 0) {
		memcpy(in, password, plen);
		memcpy(in + plen, out + 20, SSHA_SALT_LEN);
		if (gnutls_hash_fast(GNUTLS_DIG_SHA1, in, plen + SSHA_SALT_LEN, out) == 0) {
			b64 = g_base64_encode(out, sizeof(out));
			res = g_strconcat("{SSHA}", b64, NULL);
			g_free(b64);
		}
	}
	explicit_bzero(in, plen + SSHA_SALT_LEN);
	g_free(in);
	return res;
}

/* "{SCRAM-SHA-256}..." for password; salt NULL: a random one. */
static char *hash_scram(const char *password, const uint8_t *salt, size_t salt_len,
			uint32_t iterations)
{
	uint8_t rnd[NU_SCRAM_SALT_DEFAULT];
	struct nu_scram_verifier v;
	char *text, *res;

	if (!salt) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0)
			return NULL;
		salt = rnd;
		salt_len = sizeof(rnd);
	}
	if (!nu_scram_compute(password, strlen(password), salt, salt_len, iterations, &v))
		return NULL;
	text = nu_scram_format(&v);
	res = g_strconcat("{" NU_SCRAM_MECH "}", text, NULL);
	explicit_bzero(&v, sizeof(v));
	g_free(text);
	return res;
}

/* --salt: strict base64 of NU_SCRAM_SALT_MIN to _MAX bytes. */
static bool parse_salt(const char *text, uint8_t *salt, size_t *len)
{
	size_t n = strlen(text);
	guchar *raw;
	gsize raw_len;

	if (n == 0 || n % 4 || strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789+/=") != n)
		return false;
	raw = g_base64_decode(text, &raw_len);
	if (raw_len < NU_SCRAM_SALT_MIN || raw_len > NU_SCRAM_SALT_MAX) {
		g_free(raw);
		return false;
	}
	memcpy(salt, raw, raw_len);
	*len = raw_len;
	g_free(raw);
	return true;
}

/* What the command line asks for. */
struct hash_opts {
	const char *scheme;
	bool with_scram, has_salt;
	uint8_t salt[NU_SCRAM_SALT_MAX];
	size_t salt_len;
	unsigned long iterations;
};

/* --iterations: a whole number from NU_SCRAM_ITER_MIN to _MAX. */
static bool parse_iterations(const char *text, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, 10);
	if (errno || end == text || *end || !g_ascii_isdigit(*text) ||
	    *out < NU_SCRAM_ITER_MIN || *out > NU_SCRAM_ITER_MAX)
		return false;
	return true;
}

static bool known_scheme(const char *scheme)
{
	static const char *const schemes[] = { "yescrypt", "sha512", "ssha", "scram" };

	for (size_t i = 0; i < G_N_ELEMENTS(schemes); i++)
		if (strcmp(scheme, schemes[i]) == 0)
			return true;
	return false;
}

/* Reads the options into *o; false with the command's *status when it ends
 * there (--help, a bad option or argument). */
static bool parse_options(int argc, char **argv, struct hash_opts *o, int *status)
{
	static const struct option longopts[] = {
		{ "scheme", required_argument, NULL, 's' },
		{ "scram", no_argument, NULL, 'S' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "salt", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*o = (struct hash_opts){ .scheme = "yescrypt", .iterations = NU_SCRAM_ITER_DEFAULT };
	*status = NUCTL_USAGE;
	while ((opt = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': o->scheme = optarg; break;
		case 'S': o->with_scram = true; break;
		case 'i':
			if (!parse_iterations(optarg, &o->iterations)) {
				nuctl_error("hash: --iterations: expected %d to %d, got `%s'",
					    NU_SCRAM_ITER_MIN, NU_SCRAM_ITER_MAX, optarg);
				return false;
			}
			break;
		case 'a':
			if (!parse_salt(optarg, o->salt, &o->salt_len)) {
				nuctl_error("hash: --salt: expected base64 of %d to %d bytes, got `%s'",
					    NU_SCRAM_SALT_MIN, NU_SCRAM_SALT_MAX, optarg);
				return false;
			}
			o->has_salt = true;
			break;
		case 'h': nuctl_hash_usage(stdout); *status = NUCTL_OK; return false;
		default: nuctl_hash_usage(stderr); return false;
		}
	}
	if (strcmp(o->scheme, "scram") == 0)
		o->with_scram = true;
	if (optind != argc || !known_scheme(o->scheme)) {
		if (optind == argc)
			nuctl_error("hash: unknown scheme `%s'", o->scheme);
		nuctl_hash_usage(stderr);
		return false;
	}
	return true;
}

/* The password into pw (asked twice on a terminal, the second copy in
 * again); false with *error when there is none or the copies differ. */
static bool read_password(char *pw, char *again, size_t cap, GError **error)
{
	if (!read_line("Password: ", pw, cap)) {
		g_set_error(error, NU_ERROR, NU_ERROR_FAILED,
			    "hash: no password on stdin (or longer than %zu bytes)", cap - 2);
		return false;
	}
	if (isatty(STDIN_FILENO)) {
		if (!read_line("Again: ", again, cap) || strcmp(pw, again) != 0) {
			g_set_error(error, NU_ERROR, NU_ERROR_FAILED, "hash: the passwords differ");
			return false;
		}
	}
	if (!*pw) {
		g_set_error(error, NU_ERROR, NU_ERROR_FAILED, "hash: empty password");
		return false;
	}
	return true;
}

/* The users file's password field for pw: the scheme's hash, then the
 * SCRAM verifier when asked for; NULL with *error when it cannot be made. */
static char *make_field(const struct hash_opts *o, const char *pw, GError **error)
{
	char *hash, *scram, *both;

	if (strcmp(o->scheme, "scram") == 0)
		hash = g_strdup("");
	else if (strcmp(o->scheme, "ssha") == 0)
		hash = hash_ssha(pw);
	else
		hash = hash_crypt(strcmp(o->scheme, "sha512") == 0 ? "$6$" : "$y$", pw);
	if (!hash) {
		g_set_error(error, NU_ERROR, NU_ERROR_FAILED, "hash: this system cannot make a %s hash",
			    o->scheme);
		return NULL;
	}
	if (!o->with_scram)
		return hash;
	scram = hash_scram(pw, o->has_salt ? o->salt : NULL, o->salt_len, (uint32_t)o->iterations);
	if (!scram) {
		g_set_error(error, NU_ERROR, NU_ERROR_FAILED,
			    "hash: cannot compute the SCRAM-SHA-256 verifier");
		g_free(hash);
		return NULL;
	}
	both = g_strconcat(hash, *hash ? " " : "", scram, NULL);
	g_free(scram);
	g_free(hash);
	return both;
}

int nuctl_hash_main(int argc, char **argv)
{
	struct hash_opts o;
	char pw[PASSWORD_MAX], again[PASSWORD_MAX];
	char *field = NULL;
	GError *error = NULL;
	int status;

	if (!parse_options(argc, argv, &o, &status))
		return status;
	status = NUCTL_FAILED;
	if (read_password(pw, again, sizeof(pw), &error) &&
	    (field = make_field(&o, pw, &error)) != NULL) {
		printf("%s\n", field);
		status = NUCTL_OK;
	} else {
		nuctl_error("%s", error->message);
		g_error_free(error);
	}
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(again, sizeof(again));
	g_free(field);
	return status;
}

char *nuctl_hash_read_field(void)
{
	struct hash_opts o = { .scheme = "yescrypt", .with_scram = true,
			       .iterations = NU_SCRAM_ITER_DEFAULT };
	char pw[PASSWORD_MAX], again[PASSWORD_MAX];
	char *field = NULL;
	GError *error = NULL;

	if (!read_password(pw, again, sizeof(pw), &error) ||
	    (field = make_field(&o, pw, &error)) == NULL) {
		nuctl_error("%s", error->message);
		g_error_free(error);
	}
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(again, sizeof(again));
	return field;
}
