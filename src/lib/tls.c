/* GnuTLS helpers shared by nufw, nuauth and nutcpc. */
#include "config.h"
#include "tls.h"

#include <string.h>
#include <time.h>
#include <glib.h>
#include <gnutls/x509.h>

#include "error.h"

/* TLS 1.2 and 1.3 only, GnuTLS's default cipher choices otherwise. */
static const char tls_priority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

gnutls_certificate_credentials_t nu_tls_load_creds(const char *ca, const char *cert,
						   const char *key, const char *crl,
						   GError **error)
{
	gnutls_certificate_credentials_t creds;
	int ret;

	if (gnutls_certificate_allocate_credentials(&creds) < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_TLS, "cannot allocate TLS credentials");
		return NULL;
	}
	if (!ca || !*ca) {
		g_set_error(error, NU_ERROR, NU_ERROR_TLS, "no CA certificate given");
		goto fail;
	}
	ret = gnutls_certificate_set_x509_trust_file(creds, ca, GNUTLS_X509_FMT_PEM);
	if (ret <= 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_TLS, "%s: cannot load CA certificate: %s", ca,
			    ret == 0 ? "no certificate in file" : gnutls_strerror(ret));
		goto fail;
	}
	if (cert && *cert) {
		if (!key || !*key) {
			g_set_error(error, NU_ERROR, NU_ERROR_TLS,
				    "%s: certificate given without its key", cert);
			goto fail;
		}
		ret = gnutls_certificate_set_x509_key_file(creds, cert, key, GNUTLS_X509_FMT_PEM);
		if (ret < 0) {
			g_set_error(error, NU_ERROR, NU_ERROR_TLS,
				    "%s, %s: cannot load certificate and key: %s", cert, key,
				    gnutls_strerror(ret));
			goto fail;
		}
	}
	if (crl && *crl && !nu_tls_add_crl(creds, crl, error))
		goto fail;
	return creds;
fail:
	gnutls_certificate_free_credentials(creds);
	return NULL;
}

/* A daemon's own certificate must be valid now: every peer would refuse
 * an expired one (or one not yet valid) at each handshake, so the daemon
 * says so at start, with the date, rather than run refused by all. */
static bool cert_in_date(gnutls_x509_crt_t crt, const char *path, GError **error)
{
	time_t now = time(NULL), from = gnutls_x509_crt_get_activation_time(crt),
	       until = gnutls_x509_crt_get_expiration_time(crt);
	char when[64] = "";
	struct tm tm;

	if (until != (time_t)-1 && until < now) {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime_r(&until, &tm));
		g_set_error(error, NU_ERROR, NU_ERROR_TLS,
			    "%s: the certificate expired on %s; renew it (nuauthctl pki issue)",
			    path, when);
		return false;
	}
	if (from != (time_t)-1 && from > now) {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime_r(&from, &tm));
		g_set_error(error, NU_ERROR, NU_ERROR_TLS,
			    "%s: the certificate is not valid before %s (is the clock right?)",
			    path, when);
		return false;
	}
	return true;
}

bool nu_tls_check_cert_file(const char *path, const char *purpose, GError **error)
{
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	enum nu_tls_eku eku;
	bool client = strcmp(purpose, GNUTLS_KP_TLS_WWW_CLIENT) == 0;
	int ret;

	if ((ret = gnutls_load_file(path, &pem)) < 0 || (ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM)) < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_TLS, "%s: cannot read the certificate: %s",
			    path, gnutls_strerror(ret));
		eku = NU_TLS_EKU_OTHER;
		goto out;
	}
	eku = nu_tls_crt_eku(crt, purpose);
	if (eku == NU_TLS_EKU_MATCH && !cert_in_date(crt, path, error)) {
		eku = NU_TLS_EKU_OTHER;
		goto out;
	}
	if (eku != NU_TLS_EKU_MATCH)
		g_set_error(error, NU_ERROR, NU_ERROR_CERT_ROLE,
			    "%s: the certificate %s TLS Web %s Authentication, so %s "
			    "it; issue it again with it (nuauthctl pki issue does)",
			    path,
			    eku == NU_TLS_EKU_NONE
				    ? "has no extended key usage: it does not name"
				    : "is issued for another role: its extended key usage lacks",
			    client ? "Client" : "Server",
			    client ? "nuauth refuses" : "nufw and the clients refuse");
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	gnutls_free(pem.data);
	return eku == NU_TLS_EKU_MATCH;
}

bool nu_tls_add_crl(gnutls_certificate_credentials_t creds, const char *crl, GError **error)
{
	int ret = gnutls_certificate_set_x509_crl_file(creds, crl, GNUTLS_X509_FMT_PEM);

	if (ret < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_TLS, "%s: cannot load CRL: %s", crl,
			    gnutls_strerror(ret));
		return false;
	}
	return true;
}

/* The role the peer's certificate must be issued for.  Each session's user
 * pointer (gnutls_session_set_ptr, owned by this file) tells it: a server
 * session points at peer_is_client; a client session points at the name
 * nuauth's certificate must carry, or is NULL when no name is checked. */
static const char peer_is_client[] = "a client";

static const char *peer_purpose(gnutls_session_t session, const char **hostname)
{
	const char *p = gnutls_session_get_ptr(session);

	if (p == peer_is_client) {
		*hostname = NULL;
		return GNUTLS_KP_TLS_WWW_CLIENT;
	}
	*hostname = p;
	return GNUTLS_KP_TLS_WWW_SERVER;
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

enum nu_tls_eku nu_tls_crt_eku(gnutls_x509_crt_t crt, const char *purpose)
{
	enum nu_tls_eku found = NU_TLS_EKU_NONE;

	for (unsigned i = 0;; i++) {
		char oid[128];
		size_t len = sizeof(oid);
		int ret = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &len, NULL);

		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return found;
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			found = NU_TLS_EKU_OTHER;	/* no OID we know is that long */
			continue;
		}
		if (ret < 0)
			return NU_TLS_EKU_OTHER;	/* unreadable: fits no role */
		/* anyExtendedKeyUsage is not a role: it counts as another
		 * purpose, not as the one asked for. */
		if (strcmp(oid, purpose) == 0)
			return NU_TLS_EKU_MATCH;
		found = NU_TLS_EKU_OTHER;
	}
}

/* GnuTLS's description of a verification status, g_free'd. */
static char *status_text(unsigned status)
{
	gnutls_datum_t out = { NULL, 0 };
	char *msg;

	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) < 0)
		return g_strdup("the certificate does not verify");
	msg = g_strdup((const char *)out.data);
	gnutls_free(out.data);
	return msg;
}

/* Why the peer's certificate is not acceptable (g_free'd), or NULL: it must
 * verify against the CA and CRL, carry the expected name (client sessions
 * that check one), and be issued for its role: its extended key usage must
 * name TLS Web Server Authentication for nuauth, TLS Web Client
 * Authentication for a gateway or a user.  A certificate without extended
 * key usage is refused too (doc/security.md, "Marks and certificate roles"). */
static char *peer_problem(gnutls_session_t session)
{
	const char *hostname, *purpose = peer_purpose(session, &hostname);
	bool client = strcmp(purpose, GNUTLS_KP_TLS_WWW_CLIENT) == 0;
	gnutls_typed_vdata_st data[2];
	unsigned n = 0, status = 0;
	gnutls_x509_crt_t crt;
	enum nu_tls_eku eku;
	char *cn, *msg;
	int ret;

	if (hostname)
		data[n++] = (gnutls_typed_vdata_st){ GNUTLS_DT_DNS_HOSTNAME,
						     (unsigned char *)hostname, 0 };
	data[n++] = (gnutls_typed_vdata_st){ GNUTLS_DT_KEY_PURPOSE_OID,
					     (unsigned char *)purpose, 0 };
	ret = gnutls_certificate_verify_peers(session, data, n, &status);
	if (ret < 0)
		return g_strdup(gnutls_strerror(ret));
	/* A wrong purpose is told in our words below, unless a CA of the
	 * chain, not the peer's own certificate, is the one that lacks it. */
	if (status & ~(unsigned)(GNUTLS_CERT_INVALID | GNUTLS_CERT_PURPOSE_MISMATCH))
		return status_text(status);
	if (!(crt = peer_crt(session)))
		return g_strdup("no certificate");
	eku = nu_tls_crt_eku(crt, purpose);
	gnutls_x509_crt_deinit(crt);
	if (eku == NU_TLS_EKU_MATCH)
		return status ? status_text(status) : NULL;
	cn = nu_tls_peer_cn(session);
	msg = g_strdup_printf(
		"the certificate of %s %s TLS Web %s Authentication, the role of %s; "
		"issue %s with it (nuauthctl pki issue does)",
		cn ? cn : "(no CN)",
		eku == NU_TLS_EKU_NONE ? "has no extended key usage, so it does not name"
				       : "is issued for another role: its extended key usage lacks",
		client ? "Client" : "Server", client ? "a gateway or a user" : "nuauth",
		client ? "a client certificate" : "nuauth's certificate");
	g_free(cn);
	return msg;
}

bool nu_tls_peer_still_trusted(gnutls_session_t session)
{
	char *why = peer_problem(session);

	g_free(why);
	return why == NULL;
}

/* The handshake's check of the peer's certificate: one must be shown
 * (GnuTLS asks a client for one only where the server requests it) and
 * it must pass peer_problem. */
static int verify_peer(gnutls_session_t session)
{
	unsigned n = 0;
	char *why;

	if (!gnutls_certificate_get_peers(session, &n) || n == 0)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	if (!(why = peer_problem(session)))
		return 0;
	g_free(why);
	return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
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
	gnutls_session_set_ptr(s, (void *)peer_is_client);
	if (require_peer_cert) {
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_function(s, verify_peer);
	}
	return s;
}

/* A certificate is optional, but one that is shown must pass peer_problem
 * (gnutls_session_set_verify_cert would also refuse a peer that shows
 * none). */
static int verify_optional_cert(gnutls_session_t session)
{
	unsigned n = 0;

	if (!gnutls_certificate_get_peers(session, &n) || n == 0)
		return 0;
	return verify_peer(session);
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
	gnutls_session_set_ptr(s, (void *)(check_name ? hostname : NULL));
	gnutls_session_set_verify_function(s, verify_peer);
	return s;
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
		char *why = peer_problem(session), *msg;

		if (!why)	/* shown none where one was required */
			return g_strdup("certificate verification failed: no certificate");
		msg = g_strdup_printf("certificate verification failed: %s", why);
		g_free(why);
		return msg;
	}
	return g_strdup(gnutls_strerror(gnutls_err));
}

void nu_tls_send_refusal(gnutls_session_t session, int gnutls_err)
{
	gnutls_alert_description_t alert = GNUTLS_A_BAD_CERTIFICATE;
	unsigned status = 0;

	if (gnutls_err != GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		gnutls_alert_send_appropriate(session, gnutls_err);
		return;
	}
	/* The verification's status, without the role and name (told as a
	 * bad certificate). */
	if (gnutls_certificate_verify_peers2(session, &status) < 0)
		status = 0;
	if (status & GNUTLS_CERT_REVOKED)
		alert = GNUTLS_A_CERTIFICATE_REVOKED;
	else if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		alert = GNUTLS_A_CERTIFICATE_EXPIRED;
	else if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		alert = GNUTLS_A_UNKNOWN_CA;
	gnutls_alert_send(session, GNUTLS_AL_FATAL, alert);
}

unsigned nu_tls_ssf(gnutls_session_t session)
{
	size_t key = gnutls_cipher_get_key_size(gnutls_cipher_get(session));

	return (unsigned)(key * 8);
}
