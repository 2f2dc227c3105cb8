/* GnuTLS helpers shared by nufw, nuauth and nutcpc. */
#include "config.h"
#include "tls.h"

#include <string.h>
#include <glib.h>
#include <gnutls/x509.h>

/* TLS 1.2 and 1.3 only, GnuTLS's default cipher choices otherwise. */
static const char tls_priority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

gnutls_certificate_credentials_t nu_tls_creds_load(const char *ca, const char *cert,
						   const char *key, const char *crl,
						   char **err)
{
	gnutls_certificate_credentials_t creds;
	int ret;

	if (gnutls_certificate_allocate_credentials(&creds) < 0) {
		*err = g_strdup("cannot allocate TLS credentials");
		return NULL;
	}
	if (!ca || !*ca) {
		*err = g_strdup("no CA certificate given");
		goto fail;
	}
	ret = gnutls_certificate_set_x509_trust_file(creds, ca, GNUTLS_X509_FMT_PEM);
	if (ret <= 0) {
		*err = g_strdup_printf("%s: cannot load CA certificate: %s", ca,
				       ret == 0 ? "no certificate in file" : gnutls_strerror(ret));
		goto fail;
	}
	if (cert && *cert) {
		if (!key || !*key) {
			*err = g_strdup_printf("%s: certificate given without its key", cert);
			goto fail;
		}
		ret = gnutls_certificate_set_x509_key_file(creds, cert, key, GNUTLS_X509_FMT_PEM);
		if (ret < 0) {
			*err = g_strdup_printf("%s, %s: cannot load certificate and key: %s",
					       cert, key, gnutls_strerror(ret));
			goto fail;
		}
	}
	if (crl && *crl && !nu_tls_creds_add_crl(creds, crl, err))
		goto fail;
	return creds;
fail:
	gnutls_certificate_free_credentials(creds);
	return NULL;
}

bool nu_tls_creds_add_crl(gnutls_certificate_credentials_t creds, const char *crl, char **err)
{
	int ret = gnutls_certificate_set_x509_crl_file(creds, crl, GNUTLS_X509_FMT_PEM);

	if (ret < 0) {
		*err = g_strdup_printf("%s: cannot load CRL: %s", crl, gnutls_strerror(ret));
		return false;
	}
	return true;
}

bool nu_tls_peer_still_trusted(gnutls_session_t session)
{
	unsigned status = 0;

	return gnutls_certificate_verify_peers2(session, &status) == 0 && status == 0;
}

static gnutls_session_t session_new(gnutls_certificate_credentials_t creds, int fd,
				    unsigned flags)
{
	gnutls_session_t s;

	if (gnutls_init(&s, flags | GNUTLS_NONBLOCK) < 0)
		return NULL;
	if (gnutls_priority_set_direct(s, tls_priority, NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds) < 0) {
		gnutls_deinit(s);
		return NULL;
	}
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 0);
	return s;
}

gnutls_session_t nu_tls_server_session(gnutls_certificate_credentials_t creds, int fd,
				       bool require_peer_cert)
{
	gnutls_session_t s = session_new(creds, fd, GNUTLS_SERVER);

	if (!s)
		return NULL;
	if (require_peer_cert) {
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert(s, NULL, 0);
	}
	return s;
}

/* A certificate is optional, but one that is shown must verify.
 * (gnutls_session_set_verify_cert would also refuse a peer that shows
 * none.) */
static int verify_optional_cert(gnutls_session_t session)
{
	unsigned n = 0, status = 0;

	if (!gnutls_certificate_get_peers(session, &n) || n == 0)
		return 0;
	if (gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return 0;
}

void nu_tls_request_peer_cert(gnutls_session_t session)
{
	gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
	gnutls_session_set_verify_function(session, verify_optional_cert);
}

gnutls_session_t nu_tls_client_session(gnutls_certificate_credentials_t creds, int fd,
				       const char *hostname, bool check_name)
{
	gnutls_session_t s = session_new(creds, fd, GNUTLS_CLIENT);

	if (!s)
		return NULL;
	/* Server name indication only makes sense for names, not addresses. */
	if (hostname && !g_hostname_is_ip_address(hostname))
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, hostname, strlen(hostname));
	gnutls_session_set_verify_cert(s, check_name ? hostname : NULL, 0);
	return s;
}

/* The peer's certificate, parsed; NULL when it showed none. */
static gnutls_x509_crt_t peer_crt(gnutls_session_t session)
{
	const gnutls_datum_t *chain;
	unsigned int n = 0;
	gnutls_x509_crt_t crt;

	chain = gnutls_certificate_get_peers(session, &n);
	if (!chain || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

char *nu_tls_peer_cn(gnutls_session_t session)
{
	gnutls_x509_crt_t crt = peer_crt(session);
	char cn[256];
	size_t cn_len = sizeof(cn);
	char *result = NULL;

	if (!crt)
		return NULL;
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cn_len) >= 0)
		result = g_strndup(cn, cn_len);
	gnutls_x509_crt_deinit(crt);
	return result;
}

bool nu_tls_peer_has_ou(gnutls_session_t session, const char *ou)
{
	gnutls_x509_crt_t crt = peer_crt(session);
	bool found = false;

	if (!crt)
		return false;
	for (unsigned i = 0; !found; i++) {
		char buf[256];
		size_t len = sizeof(buf);

		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, i, 0,
						  buf, &len) < 0)
			break;
		found = len == strlen(ou) && memcmp(buf, ou, len) == 0;
	}
	gnutls_x509_crt_deinit(crt);
	return found;
}

char *nu_tls_handshake_error(gnutls_session_t session, int gnutls_err)
{
	if (gnutls_err == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		gnutls_datum_t out = { NULL, 0 };
		unsigned status = gnutls_session_get_verify_cert_status(session);
		gnutls_certificate_type_t type = gnutls_certificate_type_get(session);
		char *msg;

		/* Our own verify function (nu_tls_request_peer_cert) leaves
		 * no status behind: ask again. */
		if (status == 0)
			gnutls_certificate_verify_peers2(session, &status);
		if (gnutls_certificate_verification_status_print(status, type, &out, 0) < 0)
			return g_strdup("certificate verification failed");
		msg = g_strdup_printf("certificate verification failed: %s", out.data);
		gnutls_free(out.data);
		return msg;
	}
	return g_strdup(gnutls_strerror(gnutls_err));
}

unsigned nu_tls_ssf(gnutls_session_t session)
{
	size_t key = gnutls_cipher_get_key_size(gnutls_cipher_get(session));

	return (unsigned)(key * 8);
}
