/* SCRAM-SHA-256 verifiers: parse, format, compute (see scram.h). */
#include "config.h"
#include "scram.h"

#include <string.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

bool nu_base64_strict(const char *s, size_t n)
{
	size_t pad = 0;

	if (n == 0 || n % 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || !(g_ascii_isalnum(c) || c == '+' || c == '/'))
			return false;
	}
	return pad <= 2;
}

/* Strict base64 of min to max bytes (s: n characters, no NUL needed). */
static bool decode_b64(const char *s, size_t n, uint8_t *out, size_t min, size_t max,
		       size_t *len)
{
	char *copy;
	guchar *raw;
	gsize raw_len;

	if (!nu_base64_strict(s, n))
		return false;
	copy = g_strndup(s, n);
	raw = g_base64_decode(copy, &raw_len);
	g_free(copy);
	if (raw_len < min || raw_len > max) {
		g_free(raw);
		return false;
	}
	memcpy(out, raw, raw_len);
	*len = raw_len;
	explicit_bzero(raw, raw_len);
	g_free(raw);
	return true;
}

bool nu_scram_parse(const char *text, struct nu_scram_verifier *v, const char **why)
{
	const char *colon = strchr(text, ':'), *dollar, *colon2;
	uint64_t iter = 0;
	size_t n;
	const char *p;

	memset(v, 0, sizeof(*v));
	if (!colon || colon == text || colon - text > 8) {
		*why = "expected ITERATIONS:SALT$STOREDKEY:SERVERKEY";
		return false;
	}
	for (p = text; p < colon; p++) {
		if (!g_ascii_isdigit(*p)) {
			*why = "the iteration count is not a number";
			return false;
		}
		iter = iter * 10 + (uint64_t)(*p - '0');
	}
	if (iter < NU_SCRAM_ITER_MIN || iter > NU_SCRAM_ITER_MAX) {
		*why = "the iteration count is out of range (" G_STRINGIFY(NU_SCRAM_ITER_MIN)
		       " to " G_STRINGIFY(NU_SCRAM_ITER_MAX) ")";
		return false;
	}
	v->iterations = (uint32_t)iter;
	dollar = strchr(colon + 1, '$');
	colon2 = dollar ? strchr(dollar + 1, ':') : NULL;
	if (!dollar || !colon2) {
		*why = "expected ITERATIONS:SALT$STOREDKEY:SERVERKEY";
		return false;
	}
	if (!decode_b64(colon + 1, (size_t)(dollar - colon - 1), v->salt, NU_SCRAM_SALT_MIN,
			NU_SCRAM_SALT_MAX, &v->salt_len)) {
		*why = "the salt is not base64 of " G_STRINGIFY(NU_SCRAM_SALT_MIN) " to "
		       G_STRINGIFY(NU_SCRAM_SALT_MAX) " bytes";
		return false;
	}
	if (!decode_b64(dollar + 1, (size_t)(colon2 - dollar - 1), v->stored_key,
			NU_SCRAM_KEY_LEN, NU_SCRAM_KEY_LEN, &n)) {
		*why = "the StoredKey is not base64 of 32 bytes";
		return false;
	}
	if (!decode_b64(colon2 + 1, strlen(colon2 + 1), v->server_key, NU_SCRAM_KEY_LEN,
			NU_SCRAM_KEY_LEN, &n)) {
		*why = "the ServerKey is not base64 of 32 bytes";
		return false;
	}
	return true;
}

char *nu_scram_format(const struct nu_scram_verifier *v)
{
	char *salt = g_base64_encode(v->salt, v->salt_len);
	char *sk = g_base64_encode(v->stored_key, sizeof(v->stored_key));
	char *svk = g_base64_encode(v->server_key, sizeof(v->server_key));
	char *out = g_strdup_printf("%u:%s$%s:%s", v->iterations, salt, sk, svk);

	g_free(salt);
	g_free(sk);
	g_free(svk);
	return out;
}

/* StoredKey and ServerKey from SaltedPassword. */
static bool keys_of(const uint8_t *salted, uint8_t *stored_key, uint8_t *server_key)
{
	uint8_t client_key[NU_SCRAM_KEY_LEN];
	bool ok;

	ok = gnutls_hmac_fast(GNUTLS_MAC_SHA256, salted, NU_SCRAM_KEY_LEN, "Client Key", 10,
			      client_key) == 0 &&
	     gnutls_hash_fast(GNUTLS_DIG_SHA256, client_key, sizeof(client_key), stored_key) == 0 &&
	     gnutls_hmac_fast(GNUTLS_MAC_SHA256, salted, NU_SCRAM_KEY_LEN, "Server Key", 10,
			      server_key) == 0;
	explicit_bzero(client_key, sizeof(client_key));
	return ok;
}

bool nu_scram_compute(const char *password, size_t len, const uint8_t *salt, size_t salt_len,
		      uint32_t iterations, struct nu_scram_verifier *out)
{
	uint8_t salted[NU_SCRAM_KEY_LEN];
	gnutls_datum_t key = { (unsigned char *)(uintptr_t)password, (unsigned)len };
	gnutls_datum_t s = { (unsigned char *)(uintptr_t)salt, (unsigned)salt_len };
	bool ok;

	memset(out, 0, sizeof(*out));
	if (salt_len < NU_SCRAM_SALT_MIN || salt_len > NU_SCRAM_SALT_MAX ||
	    iterations < NU_SCRAM_ITER_MIN || iterations > NU_SCRAM_ITER_MAX)
		return false;
	/* RFC 5802 wants the password SASLprep'ed; Cyrus' client sends it as
	 * it is, and so do we: for ASCII passwords the two agree. */
	ok = gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &s, iterations, salted, sizeof(salted)) == 0 &&
	     keys_of(salted, out->stored_key, out->server_key);
	explicit_bzero(salted, sizeof(salted));
	if (!ok)
		return false;
	out->iterations = iterations;
	memcpy(out->salt, salt, salt_len);
	out->salt_len = salt_len;
	return true;
}

bool nu_scram_check_password(const struct nu_scram_verifier *v, const char *password,
			     size_t len)
{
	struct nu_scram_verifier mine;
	volatile uint8_t diff = 0;
	size_t i;

	if (!nu_scram_compute(password, len, v->salt, v->salt_len, v->iterations, &mine))
		return false;
	for (i = 0; i < NU_SCRAM_KEY_LEN; i++)
		diff |= mine.stored_key[i] ^ v->stored_key[i];
	explicit_bzero(&mine, sizeof(mine));
	return diff == 0;
}
