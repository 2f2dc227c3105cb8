/* userPassword values checked locally (see userpassword.h). */
#include "config.h"
#include "userpassword.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <crypt.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

struct scheme {
	const char *name;		/* with its braces */
	gnutls_digest_algorithm_t alg;
	size_t len;
	bool salted;
};

static const struct scheme schemes[] = {
	{ "{SHA}", GNUTLS_DIG_SHA1, 20, false },
	{ "{SSHA}", GNUTLS_DIG_SHA1, 20, true },
	{ "{SHA256}", GNUTLS_DIG_SHA256, 32, false },
	{ "{SSHA256}", GNUTLS_DIG_SHA256, 32, true },
	{ "{SHA512}", GNUTLS_DIG_SHA512, 64, false },
	{ "{SSHA512}", GNUTLS_DIG_SHA512, 64, true },
	{ "{MD5}", GNUTLS_DIG_MD5, 16, false },
	{ "{SMD5}", GNUTLS_DIG_MD5, 16, true },
};

static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static enum nu_ldap_pw_result check_digest(const struct scheme *sc, const char *b64, size_t len,
					   const char *password, size_t pwlen)
{
	char *text = g_strndup(b64, len);
	gsize raw_len = 0;
	guchar *raw;
	uint8_t digest[64];
	gnutls_hash_hd_t h;
	enum nu_ldap_pw_result r = NU_LDAP_PW_UNSUPPORTED;

	raw = g_base64_decode(text, &raw_len);
	g_free(text);
	if (!raw || raw_len < sc->len || (!sc->salted && raw_len != sc->len))
		goto out;
	if (gnutls_hash_init(&h, sc->alg) < 0)
		goto out;
	gnutls_hash(h, password, pwlen);
	if (sc->salted)
		gnutls_hash(h, raw + sc->len, raw_len - sc->len);
	gnutls_hash_deinit(h, digest);
	r = equal_ct(digest, raw, sc->len) ? NU_LDAP_PW_MATCH : NU_LDAP_PW_MISMATCH;
	explicit_bzero(digest, sizeof(digest));
out:
	g_free(raw);
	return r;
}

static enum nu_ldap_pw_result check_crypt(const char *hash, size_t len, const char *password,
					  size_t pwlen)
{
	struct crypt_data *data;
	char *h, *pw;
	const char *out;
	enum nu_ldap_pw_result r = NU_LDAP_PW_UNSUPPORTED;

	if (memchr(password, '\0', pwlen) || memchr(hash, '\0', len))
		return NU_LDAP_PW_MISMATCH;
	data = g_new0(struct crypt_data, 1);
	h = g_strndup(hash, len);
	pw = g_strndup(password, pwlen);
	out = crypt_r(pw, h, data);
	/* crypt answers a hash it cannot use with NULL or a string
	 * starting with `*'. */
	if (out && out[0] != '*' && strlen(out) == len)
		r = equal_ct((const uint8_t *)out, (const uint8_t *)h, len) ? NU_LDAP_PW_MATCH
									  : NU_LDAP_PW_MISMATCH;
	explicit_bzero(pw, pwlen);
	explicit_bzero(data, sizeof(*data));
	g_free(pw);
	g_free(h);
	g_free(data);
	return r;
}

enum nu_ldap_pw_result nu_ldap_userpassword_check(const char *stored, size_t len,
						  const char *password, size_t pwlen)
{
	const char *close;
	size_t name_len;

	if (len == 0 || stored[0] != '{') {
		if (len != pwlen || len == 0)
			return NU_LDAP_PW_MISMATCH;
		return equal_ct((const uint8_t *)stored, (const uint8_t *)password, len)
			       ? NU_LDAP_PW_MATCH : NU_LDAP_PW_MISMATCH;
	}
	close = memchr(stored, '}', len);
	if (!close)
		return NU_LDAP_PW_UNSUPPORTED;
	name_len = (size_t)(close - stored) + 1;
	if (name_len == 7 && g_ascii_strncasecmp(stored, "{CRYPT}", 7) == 0)
		return check_crypt(stored + 7, len - 7, password, pwlen);
	for (size_t i = 0; i < G_N_ELEMENTS(schemes); i++)
		if (strlen(schemes[i].name) == name_len &&
		    g_ascii_strncasecmp(stored, schemes[i].name, name_len) == 0)
			return check_digest(&schemes[i], stored + name_len, len - name_len,
					    password, pwlen);
	return NU_LDAP_PW_UNSUPPORTED;
}
