/* TLS on GnuTLS for every link of the system: TLS 1.2 or newer, the peer's
 * certificate checked against the CA during the handshake, and its host
 * name checked where a name is given. */
#ifndef NU_TLS_H
#define NU_TLS_H

#include <stdbool.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <glib.h>

/* Certificates and CA for one side.  cert and key may be NULL (a client
 * with no certificate); crl may be NULL.  NULL with *error (NU_ERROR_TLS,
 * naming the file) on failure. */
gnutls_certificate_credentials_t nu_tls_load_creds(const char *ca, const char *cert,
						   const char *key, const char *crl,
						   GError **error);

/* Is the first certificate of the PEM file path issued for purpose
 * (GNUTLS_KP_TLS_WWW_SERVER for nuauth's own, _CLIENT for a gateway's),
 * and valid now?  false with *error (NU_ERROR_CERT_ROLE, or NU_ERROR_TLS
 * when the file does not read or the certificate is out of its dates;
 * naming the file) when not: a daemon checks its own certificate at start
 * rather than be refused by every peer. */
bool nu_tls_check_cert_file(const char *path, const char *purpose, GError **error);

/* Adds the revocations of the CRL file crl to creds (for a reload: they
 * add up; a revocation taken back needs new credentials).  false with
 * *error (NU_ERROR_TLS) on failure. */
bool nu_tls_add_crl(gnutls_certificate_credentials_t creds, const char *crl, GError **error);

/* Is the peer's certificate of an established session still trusted by its
 * credentials (after a CRL was added), in its role? */
bool nu_tls_peer_still_trusted(gnutls_session_t session);

/* Certificate roles.  Every handshake checks, besides the CA and the CRL,
 * that the peer's certificate is issued for its role: its extended key
 * usage must name TLS Web Server Authentication (id-kp-serverAuth) for
 * nuauth, TLS Web Client Authentication (id-kp-clientAuth) for a gateway or
 * a user.  A certificate without extended key usage is refused (RFC 5280
 * would let it serve every role).  Sessions made here use GnuTLS's session
 * user pointer (gnutls_session_set_ptr) for this: leave it alone. */

enum nu_tls_eku {
	NU_TLS_EKU_MATCH,	/* the purpose is listed */
	NU_TLS_EKU_NONE,	/* no extended key usage at all */
	NU_TLS_EKU_OTHER,	/* extended key usage without that purpose */
};
/* What the extended key usage of crt says of purpose (an OID such as
 * GNUTLS_KP_TLS_WWW_SERVER).  anyExtendedKeyUsage does not count as a
 * match. */
enum nu_tls_eku nu_tls_crt_eku(gnutls_x509_crt_t crt, const char *purpose);

/* A server session on fd.  require_peer_cert: the handshake fails unless
 * the peer shows a certificate signed by the CA, issued for a client. */
gnutls_session_t nu_tls_server_session(gnutls_certificate_credentials_t creds, int fd,
				       bool require_peer_cert);
/* Asks the peer of a server session for a certificate without requiring
 * one; one it shows must verify (CA, CRL, a client's role) or the
 * handshake fails. */
void nu_tls_request_peer_cert(gnutls_session_t session);
/* A client session on fd.  The server's certificate must be signed by the
 * CA and issued for a TLS server; check_name: also for hostname, which
 * must then stay valid as long as the session. */
gnutls_session_t nu_tls_client_session(gnutls_certificate_credentials_t creds, int fd,
				       const char *hostname, bool check_name);

/* The common name of the peer's verified certificate, g_free'd by the
 * caller; NULL when there is none. */
char *nu_tls_peer_cn(gnutls_session_t session);

/* Does the subject of the peer's certificate hold the organizational unit
 * ou?  (nuauthctl pki marks gateways' certificates OU=nufw, users'
 * OU=users.) */
bool nu_tls_peer_has_ou(gnutls_session_t session, const char *ou);
#define NU_TLS_OU_GATEWAY "nufw"
#define NU_TLS_OU_USER "users"

/* Why the last handshake failed, including certificate verification. */
char *nu_tls_handshake_error(gnutls_session_t session, int gnutls_err);

/* Tells the peer why its handshake failed, best effort (non-blocking): for
 * a refused certificate the TLS alert that names the reason (revoked,
 * expired, unknown CA, else bad certificate), so that its program can say
 * so. */
void nu_tls_send_refusal(gnutls_session_t session, int gnutls_err);

/* Security strength of the session in bits (for SASL's external SSF). */
unsigned nu_tls_ssf(gnutls_session_t session);

#endif
