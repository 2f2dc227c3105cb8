/* Unit tests for SCRAM-SHA-256 verifiers (src/lib/scram.c), with the
 * known answer of RFC 7677's example exchange (user "user", password
 * "pencil"). */
#include "config.h"

#include <string.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "scram.h"
#include "unit.h"

/* RFC 7677, section 3. */
#define RFC_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_CLIENT_FIRST_BARE "n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_FIRST \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=" RFC_SALT ",i=4096"
#define RFC_CLIENT_FINAL_NO_PROOF "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_CLIENT_PROOF "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_SIGNATURE "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

/* The verifier of "pencil" with RFC 7677's salt and count; the test below
 * proves it right against the RFC's proof and signature. */
#define PENCIL_VERIFIER "4096:" RFC_SALT \
	"$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

static void test_rfc7677(void)
{
	const char *auth = RFC_CLIENT_FIRST_BARE "," RFC_SERVER_FIRST "," RFC_CLIENT_FINAL_NO_PROOF;
	struct nu_scram_verifier v, parsed;
	uint8_t sig[NU_SCRAM_KEY_LEN], client_key[NU_SCRAM_KEY_LEN], stored[NU_SCRAM_KEY_LEN];
	guchar *salt, *proof, *server_sig;
	gsize salt_len, proof_len, sig_len;
	const char *why = NULL;
	char *text;

	salt = g_base64_decode(RFC_SALT, &salt_len);
	proof = g_base64_decode(RFC_CLIENT_PROOF, &proof_len);
	server_sig = g_base64_decode(RFC_SERVER_SIGNATURE, &sig_len);
	CHECK(nu_scram_compute("pencil", 6, salt, salt_len, 4096, &v));
	text = nu_scram_format(&v);
	CHECK(strcmp(text, PENCIL_VERIFIER) == 0);

	/* The server's check: ClientKey = ClientProof XOR HMAC(StoredKey,
	 * AuthMessage), and SHA-256(ClientKey) must be StoredKey. */
	CHECK(proof_len == NU_SCRAM_KEY_LEN);
	CHECK(gnutls_hmac_fast(GNUTLS_MAC_SHA256, v.stored_key, NU_SCRAM_KEY_LEN, auth,
			       strlen(auth), sig) == 0);
	for (size_t i = 0; i < NU_SCRAM_KEY_LEN && i < proof_len; i++)
		client_key[i] = proof[i] ^ sig[i];
	CHECK(gnutls_hash_fast(GNUTLS_DIG_SHA256, client_key, sizeof(client_key), stored) == 0);
	CHECK(memcmp(stored, v.stored_key, NU_SCRAM_KEY_LEN) == 0);
	/* The server's signature: HMAC(ServerKey, AuthMessage). */
	CHECK(gnutls_hmac_fast(GNUTLS_MAC_SHA256, v.server_key, NU_SCRAM_KEY_LEN, auth,
			       strlen(auth), sig) == 0);
	CHECK(sig_len == NU_SCRAM_KEY_LEN && memcmp(sig, server_sig, NU_SCRAM_KEY_LEN) == 0);

	/* Parsing the text form gives the same verifier back. */
	CHECK(nu_scram_parse(PENCIL_VERIFIER, &parsed, &why));
	CHECK(parsed.iterations == 4096 && parsed.salt_len == salt_len &&
	      memcmp(parsed.salt, salt, salt_len) == 0 &&
	      memcmp(parsed.stored_key, v.stored_key, NU_SCRAM_KEY_LEN) == 0 &&
	      memcmp(parsed.server_key, v.server_key, NU_SCRAM_KEY_LEN) == 0);
	CHECK(nu_scram_check_password(&parsed, "pencil", 6));
	CHECK(!nu_scram_check_password(&parsed, "pencil!", 7));
	CHECK(!nu_scram_check_password(&parsed, "Pencil", 6));
	CHECK(!nu_scram_check_password(&parsed, "", 0));
	g_free(text);
	g_free(salt);
	g_free(proof);
	g_free(server_sig);
}

static void bad(const char *text, const char *want)
{
	struct nu_scram_verifier v;
	const char *why = NULL;
	bool ok = nu_scram_parse(text, &v, &why);

	CHECK(!ok);
	if (ok || !why || !strstr(why, want))
		fprintf(stderr, "  `%s': wanted an error with `%s', got `%s'\n", text, want,
			ok ? "(accepted)" : why ? why : "(null)");
}

#define SK "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="

static void test_bad_verifiers(void)
{
	bad("", "expected ITERATIONS");
	bad("4096", "expected ITERATIONS");
	bad(":" RFC_SALT "$" SK ":" SK, "expected ITERATIONS");
	bad("40x6:" RFC_SALT "$" SK ":" SK, "not a number");
	bad("4095:" RFC_SALT "$" SK ":" SK, "out of range");
	bad("99999999:" RFC_SALT "$" SK ":" SK, "out of range");
	bad("123456789012:" RFC_SALT "$" SK ":" SK, "expected ITERATIONS");
	bad("4096:" RFC_SALT SK ":" SK, "expected ITERATIONS");
	bad("4096:" RFC_SALT "$" SK SK, "expected ITERATIONS");
	bad("4096:$" SK ":" SK, "salt");
	bad("4096:QUJD$" SK ":" SK, "salt");		/* 3 bytes: too short */
	bad("4096:W22ZaJ0SNY7soEsUEjb6gQ=$" SK ":" SK, "salt");	/* length not 4n */
	bad("4096:W22ZaJ0S*Y7soEsUEjb6gQ==$" SK ":" SK, "salt");
	bad("4096:" RFC_SALT "$" RFC_SALT ":" SK, "StoredKey");	/* 16 bytes */
	bad("4096:" RFC_SALT "$" SK ":" SK "AAAA", "ServerKey");
	bad("4096:" RFC_SALT "$" SK ":", "ServerKey");
	bad("4096:" RFC_SALT "$" SK ":" SK " ", "ServerKey");
}

static void test_compute_limits(void)
{
	struct nu_scram_verifier v;
	const uint8_t salt[NU_SCRAM_SALT_MAX + 1] = { 0 };

	CHECK(!nu_scram_compute("pw", 2, salt, NU_SCRAM_SALT_MIN - 1, 4096, &v));
	CHECK(!nu_scram_compute("pw", 2, salt, NU_SCRAM_SALT_MAX + 1, 4096, &v));
	CHECK(!nu_scram_compute("pw", 2, salt, 16, NU_SCRAM_ITER_MIN - 1, &v));
	CHECK(nu_scram_compute("pw", 2, salt, 16, 4096, &v));
	CHECK(nu_scram_check_password(&v, "pw", 2));
	/* A password with a NUL inside is its bytes, not a C string. */
	CHECK(nu_scram_compute("a\0b", 3, salt, 16, 4096, &v));
	CHECK(nu_scram_check_password(&v, "a\0b", 3));
	CHECK(!nu_scram_check_password(&v, "a", 1));
}

int main(void)
{
	test_rfc7677();
	test_bad_verifiers();
	test_compute_limits();
	return unit_done("test_scram");
}
