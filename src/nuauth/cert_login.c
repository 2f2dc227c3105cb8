/* Certificate login (SASL EXTERNAL): the user a client's certificate
 * names.  The TLS handshake already checked the certificate against the CA
 * and the CRL (nuauth_tls_request_cert); the check is repeated here so that
 * no certificate names a user unless it verifies. */
#include "config.h"
#include "nuauth.h"

#include <string.h>
#include <gnutls/x509.h>

#include "log.h"
#include "tls.h"

#define NAME_MAX_LEN NUAUTH_USERNAME_MAX

static char *dn_field(gnutls_x509_crt_t crt, const char *oid)
{
	char buf[NAME_MAX_LEN + 1];
	size_t len = sizeof(buf);

	if (gnutls_x509_crt_get_dn_by_oid(crt, oid, 0, 0, buf, &len) < 0 || len >= sizeof(buf))
		return NULL;
	buf[len] = '\0';
	return g_strndup(buf, len);
}

/* The first rfc822Name of the subject alternative names, else the
 * subject's emailAddress; the part before '@'. */
static char *email_user(gnutls_x509_crt_t crt)
{
	char buf[NAME_MAX_LEN + 1], *mail = NULL, *at;

	for (unsigned i = 0; !mail; i++) {
		size_t len = sizeof(buf);
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &len, NULL);

		if (type < 0)
			break;
		if (type == GNUTLS_SAN_RFC822NAME && len < sizeof(buf))
			mail = g_strndup(buf, len);
	}
	if (!mail)
		mail = dn_field(crt, GNUTLS_OID_PKCS9_EMAIL);
	if (mail && (at = strchr(mail, '@')))
		*at = '\0';
	return mail;
}

static const char *field_name(enum nuauth_cert_field f)
{
	return f == NUAUTH_CERT_UID ? "UID" : f == NUAUTH_CERT_EMAIL ? "email" : "CN";
}

char *nuauth_cert_user(struct nuauth_server *srv, gnutls_session_t tls, const char *addr)
{
	enum nuauth_cert_field field = srv->cfg.tls_cert_user_field;
	const gnutls_datum_t *chain;
	unsigned n = 0;
	gnutls_x509_crt_t crt;
	char *name = NULL, *cn;

	chain = gnutls_certificate_get_peers(tls, &n);
	if (!chain || n == 0)
		return NULL;
	/* The CA, the CRL, and a client's role (extended key usage). */
	if (!nu_tls_peer_still_trusted(tls)) {
		log_notice("client %s: its certificate does not verify: no certificate login", addr);
		return NULL;
	}
	/* The same CA signs gateways' certificates: none of them names a user.
	 * A gateway is known by its certificate's OU and CN, whatever part
	 * nuauth_tls_cert_user_field takes the user's name from. */
	if (nu_tls_peer_has_ou(tls, NU_TLS_OU_GATEWAY)) {
		log_warnx("client %s: a gateway's certificate (OU=" NU_TLS_OU_GATEWAY
			  ") cannot log a user in", addr);
		return NULL;
	}
	cn = nu_tls_peer_cn(tls);
	if (cn && srv->cfg.gw_names && srv->cfg.gw_names[0] &&
	    g_strv_contains((const gchar *const *)srv->cfg.gw_names, cn)) {
		log_warnx("client %s: certificate CN=%s, one of nufw_gw_names: a gateway's "
			  "certificate cannot log a user in", addr, cn);
		g_free(cn);
		return NULL;
	}
	g_free(cn);
	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) >= 0) {
		if (field == NUAUTH_CERT_UID)
			name = dn_field(crt, GNUTLS_OID_LDAP_UID);
		else if (field == NUAUTH_CERT_EMAIL)
			name = email_user(crt);
		else
			name = dn_field(crt, GNUTLS_OID_X520_COMMON_NAME);
	}
	gnutls_x509_crt_deinit(crt);
	if (!name || !nuauth_username_usable(name)) {
		log_notice("client %s: its certificate has no usable %s for a user name", addr,
			   field_name(field));
		g_free(name);
		return NULL;
	}
	log_info("client %s: certificate for user %s", addr, name);
	return name;
}

/* A name we accept from a store as its spelling: as from a certificate. */
char *nuauth_canonical_name(struct nuauth_module_instance *m, const char *name)
{
	char buf[NAME_MAX_LEN + 2];

	if (!nuauth_hooks_canonical_name(m, name, buf, sizeof(buf)))
		return NULL;
	buf[sizeof(buf) - 1] = '\0';
	if (!nuauth_username_usable(buf)) {
		char *quoted = g_strescape(buf, NULL);

		log_warnx("module %s: its spelling \"%s\" of a user name is not usable: ignored",
			  m->label, quoted);
		g_free(quoted);
		return NULL;
	}
	return g_strdup(buf);
}

enum nuauth_user_status nuauth_user_groups_canonical(struct nuauth_modules *mods,
						     const char *name, uint32_t *uid,
						     GArray *groups, char **canonical)
{
	struct nuauth_module_instance *m;
	enum nuauth_user_status st = nuauth_hooks_user_groups(mods, name, uid, groups, &m);

	if (canonical) {
		g_free(*canonical);
		*canonical = st == NUAUTH_USER_OK ? nuauth_canonical_name(m, name) : NULL;
	}
	return st;
}

enum nuauth_user_status nuauth_user_groups(struct nuauth_modules *mods, const char *name,
					   uint32_t *uid, GArray *groups)
{
	return nuauth_user_groups_canonical(mods, name, uid, groups, NULL);
}
