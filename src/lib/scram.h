/* SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677): what a server keeps so
 * that a user can log in with SCRAM without the server knowing the
 * password.
 *
 *   SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)
 *   StoredKey      = SHA-256(HMAC(SaltedPassword, "Client Key"))
 *   ServerKey      = HMAC(SaltedPassword, "Server Key")
 *
 * Text form, the one Cyrus SASL's SCRAM plugin reads after
 * "SCRAM-SHA-256$" in the authPassword property, and the users file after
 * "{SCRAM-SHA-256}":
 *
 *   ITERATIONS:base64(salt)$base64(StoredKey):base64(ServerKey)
 *
 * Compiled into the programs that need it (nuauthctl, the plaintext
 * module, the tests); it uses GnuTLS and GLib only. */
#ifndef NU_SCRAM_H
#define NU_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NU_SCRAM_MECH "SCRAM-SHA-256"
#define NU_SCRAM_KEY_LEN 32		/* SHA-256 */
#define NU_SCRAM_SALT_MIN 8
#define NU_SCRAM_SALT_MAX 64
#define NU_SCRAM_SALT_DEFAULT 16
/* RFC 7677: at least 4096.  The upper bound keeps a client's work (it
 * computes PBKDF2 at each login), nuauth's for a PLAIN login checked
 * against a verifier (about 0.1 s at the bound) and a typo's cost sane. */
#define NU_SCRAM_ITER_MIN 4096
#define NU_SCRAM_ITER_MAX 1000000
#define NU_SCRAM_ITER_DEFAULT 4096

/* Strict base64 (s: n characters): the alphabet, '=' padding only at the
 * end, a length that is a multiple of 4.  g_base64_decode() skips what it
 * does not know, so the users file's digests are checked with it too. */
bool nu_base64_strict(const char *s, size_t n);

struct nu_scram_verifier {
	uint32_t iterations;
	uint8_t salt[NU_SCRAM_SALT_MAX];
	size_t salt_len;
	uint8_t stored_key[NU_SCRAM_KEY_LEN];
	uint8_t server_key[NU_SCRAM_KEY_LEN];
};

/* Parses the text form (NUL-terminated, no prefix).  false with *why (a
 * static sentence that quotes nothing of the secret) when malformed. */
bool nu_scram_parse(const char *text, struct nu_scram_verifier *v, const char **why);
/* The text form, g_free'd by the caller. */
char *nu_scram_format(const struct nu_scram_verifier *v);
/* The verifier of password (len bytes) with that salt and count; false
 * when GnuTLS fails or an argument is out of range. */
bool nu_scram_compute(const char *password, size_t len, const uint8_t *salt, size_t salt_len,
		      uint32_t iterations, struct nu_scram_verifier *out);
/* Does password give v's StoredKey?  (For a PLAIN login of a user who has
 * only a verifier.)  Compared in constant time. */
bool nu_scram_check_password(const struct nu_scram_verifier *v, const char *password,
			     size_t len);

#endif
