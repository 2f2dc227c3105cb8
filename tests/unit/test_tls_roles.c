/* Unit tests for the certificate roles of src/lib/tls.c: what a
 * certificate's extended key usage says of a purpose (nu_tls_crt_eku), and
 * the start-time check of a daemon's own certificate file
 * (nu_tls_check_cert_file): its role and its dates. */
#include "config.h"

#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "error.h"
#include "tls.h"
#include "unit.h"
#include "unit_files.h"

/* A self-signed certificate named cn with the key purposes given
 * (NULL-terminated; none: no extended key usage extension at all). */
static gnutls_x509_crt_t make_crt(gnutls_x509_privkey_t key, const char *cn,
				  const char *const *purposes)
{
	gnutls_x509_crt_t crt;
	unsigned char serial[1] = { 1 };

	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, time(NULL) - 60) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 3600) < 0 ||
	    gnutls_x509_crt_set_key(crt, key) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
					  (unsigned)strlen(cn)) < 0)
		g_error("cannot build a certificate");
	for (; purposes && *purposes; purposes++)
		if (gnutls_x509_crt_set_key_purpose_oid(crt, *purposes, 0) < 0)
			g_error("cannot set a key purpose");
	if (gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0)
		g_error("cannot sign a certificate");
	return crt;
}

/* Writes crt as PEM to name in the scratch folder; returns the path. */
static char *write_crt(gnutls_x509_crt_t crt, const char *name)
{
	gnutls_datum_t pem;
	char *text, *path;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) < 0)
		g_error("cannot export a certificate");
	text = g_strndup((const char *)pem.data, pem.size);
	path = unit_write_file(name, text);
	g_free(text);
	gnutls_free(pem.data);
	return path;
}

/* crt valid from `from' until `until' only, signed again. */
static void redate(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, time_t from, time_t until)
{
	if (gnutls_x509_crt_set_activation_time(crt, from) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, until) < 0 ||
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0)
		g_error("cannot date a certificate");
}

/* nu_tls_check_cert_file refuses crt, out of its dates, with an error of
 * code NU_ERROR_TLS that names the file and contains want. */
static bool refused_by_date(gnutls_x509_crt_t crt, const char *want)
{
	char *path = write_crt(crt, "dated-cert.pem");
	GError *error = NULL;
	bool good = !nu_tls_check_cert_file(path, GNUTLS_KP_TLS_WWW_SERVER, &error) &&
		    g_error_matches(error, NU_ERROR, NU_ERROR_TLS) && strstr(error->message, want) &&
		    strstr(error->message, path);

	if (!good)
		printf("    wanted refused `%s', got `%s'\n", want, error ? error->message : "ok");
	g_clear_error(&error);
	g_free(path);
	return good;
}

/* nu_tls_check_cert_file on crt: its answer, and the error (of code
 * NU_ERROR_CERT_ROLE) contains want. */
static bool file_check(gnutls_x509_crt_t crt, const char *purpose, bool ok, const char *want)
{
	char *path = write_crt(crt, "own-cert.pem");
	GError *error = NULL;
	bool got = nu_tls_check_cert_file(path, purpose, &error);
	bool good = got == ok &&
		    (ok ? !error
			: g_error_matches(error, NU_ERROR, NU_ERROR_CERT_ROLE) &&
				  strstr(error->message, want) && strstr(error->message, path));

	if (!good)
		printf("    wanted %s `%s', got %s `%s'\n", ok ? "ok" : "refused", want ? want : "",
		       got ? "ok" : "refused", error ? error->message : "");
	g_clear_error(&error);
	g_free(path);
	return good;
}

int main(void)
{
	static const char *const server[] = { GNUTLS_KP_TLS_WWW_SERVER, NULL };
	static const char *const client[] = { GNUTLS_KP_TLS_WWW_CLIENT, NULL };
	static const char *const both[] = { GNUTLS_KP_TLS_WWW_CLIENT, GNUTLS_KP_TLS_WWW_SERVER,
					    NULL };
	static const char *const any[] = { GNUTLS_KP_ANY, NULL };
	static const char *const other[] = { GNUTLS_KP_EMAIL_PROTECTION, NULL };
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t c_server, c_client, c_both, c_any, c_other, c_none;
	GError *error = NULL;

	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0)
		g_error("cannot make a key");
	c_server = make_crt(key, "nuauth.lab", server);
	c_client = make_crt(key, "nuauth.lab", client);
	c_both = make_crt(key, "both", both);
	c_any = make_crt(key, "any", any);
	c_other = make_crt(key, "other", other);
	c_none = make_crt(key, "none", NULL);

	CHECK(nu_tls_crt_eku(c_server, GNUTLS_KP_TLS_WWW_SERVER) == NU_TLS_EKU_MATCH);
	CHECK(nu_tls_crt_eku(c_server, GNUTLS_KP_TLS_WWW_CLIENT) == NU_TLS_EKU_OTHER);
	CHECK(nu_tls_crt_eku(c_client, GNUTLS_KP_TLS_WWW_CLIENT) == NU_TLS_EKU_MATCH);
	/* A client's certificate with nuauth's name is not nuauth's. */
	CHECK(nu_tls_crt_eku(c_client, GNUTLS_KP_TLS_WWW_SERVER) == NU_TLS_EKU_OTHER);
	CHECK(nu_tls_crt_eku(c_both, GNUTLS_KP_TLS_WWW_SERVER) == NU_TLS_EKU_MATCH);
	CHECK(nu_tls_crt_eku(c_both, GNUTLS_KP_TLS_WWW_CLIENT) == NU_TLS_EKU_MATCH);
	/* anyExtendedKeyUsage names no role. */
	CHECK(nu_tls_crt_eku(c_any, GNUTLS_KP_TLS_WWW_SERVER) == NU_TLS_EKU_OTHER);
	CHECK(nu_tls_crt_eku(c_other, GNUTLS_KP_TLS_WWW_CLIENT) == NU_TLS_EKU_OTHER);
	CHECK(nu_tls_crt_eku(c_none, GNUTLS_KP_TLS_WWW_SERVER) == NU_TLS_EKU_NONE);
	CHECK(nu_tls_crt_eku(c_none, GNUTLS_KP_TLS_WWW_CLIENT) == NU_TLS_EKU_NONE);

	CHECK(file_check(c_server, GNUTLS_KP_TLS_WWW_SERVER, true, NULL));
	CHECK(file_check(c_client, GNUTLS_KP_TLS_WWW_SERVER, false,
			 ": the certificate is issued for another role: its extended key usage "
			 "lacks TLS Web Server Authentication, so nufw and the clients refuse it"));
	CHECK(file_check(c_server, GNUTLS_KP_TLS_WWW_CLIENT, false,
			 "lacks TLS Web Client Authentication, so nuauth refuses it"));
	CHECK(file_check(c_none, GNUTLS_KP_TLS_WWW_CLIENT, false,
			 ": the certificate has no extended key usage: it does not name TLS Web "
			 "Client Authentication"));
	/* A daemon's own certificate must be valid now (tests/e2e/tls.sh
	 * found nuauth and nufw starting with an expired one). */
	{
		gnutls_x509_crt_t dated = make_crt(key, "nuauth.lab", server);

		redate(dated, key, 1577836800, 1609459200);	/* 2020-01-01 .. 2021-01-01 */
		CHECK(refused_by_date(dated, ": the certificate expired on 2021-01-01 00:00 UTC"));
		redate(dated, key, time(NULL) + 86400, time(NULL) + 2 * 86400);
		CHECK(refused_by_date(dated, ": the certificate is not valid before "));
		gnutls_x509_crt_deinit(dated);
	}
	CHECK(!nu_tls_check_cert_file("/nonexistent/cert.pem", GNUTLS_KP_TLS_WWW_CLIENT, &error) &&
	      g_error_matches(error, NU_ERROR, NU_ERROR_TLS) &&
	      strstr(error->message, "/nonexistent/cert.pem: cannot read the certificate"));
	g_clear_error(&error);
	{
		char *path = unit_write_file("junk.pem", "not a certificate\n");

		CHECK(!nu_tls_check_cert_file(path, GNUTLS_KP_TLS_WWW_SERVER, &error) &&
		      g_error_matches(error, NU_ERROR, NU_ERROR_TLS) &&
		      strstr(error->message, "cannot read the certificate"));
		g_clear_error(&error);
		g_free(path);
	}

	gnutls_x509_crt_deinit(c_server);
	gnutls_x509_crt_deinit(c_client);
	gnutls_x509_crt_deinit(c_both);
	gnutls_x509_crt_deinit(c_any);
	gnutls_x509_crt_deinit(c_other);
	gnutls_x509_crt_deinit(c_none);
	gnutls_x509_privkey_deinit(key);
	unit_files_cleanup();
	return unit_done("tls_roles");
}
