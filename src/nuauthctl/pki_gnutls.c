/* nuauthctl pki's GnuTLS helpers: keys (ECDSA P-256), certificates
 * (X.509 v3, SHA-256, starting BACKDATE_SECONDS in the past) and the CA
 * that signs them. */
#include "config.h"
#include "nuauthctl.h"
#include "pki.h"
#include "tls.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

bool gtls_ok(int ret, const char *what)
{
	if (ret >= 0)
		return true;
	nuctl_error("%s: %s", what, gnutls_strerror(ret));
	return false;
}

static bool make_key(gnutls_x509_privkey_t *key)
{
	if (!gtls_ok(gnutls_x509_privkey_init(key), "key"))
		return false;
	return gtls_ok(gnutls_x509_privkey_generate2(*key, GNUTLS_PK_ECDSA,
						     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
						     0, NULL, 0),
		       "generating an ECDSA P-256 key");
}

/* A random positive serial number of 16 bytes. */
static bool set_serial(gnutls_x509_crt_t crt)
{
	unsigned char serial[16];

	if (!gtls_ok(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)), "random serial"))
		return false;
	serial[0] &= 0x7f;
	serial[0] |= 0x40;	/* no leading zero byte to strip */
	return gtls_ok(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), "serial");
}

/* The key usage of a certificate of kind, and its organizational unit
 * (*ou NULL: none). */
static unsigned kind_usage(enum cert_kind kind, const char **ou)
{
	switch (kind) {
	case KIND_CA:
		*ou = NULL;
		return GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN;
	case KIND_NUFW:
		*ou = NU_TLS_OU_GATEWAY;
		return GNUTLS_KEY_DIGITAL_SIGNATURE;
	case KIND_USER:
		*ou = NU_TLS_OU_USER;
		return GNUTLS_KEY_DIGITAL_SIGNATURE;
	case KIND_SERVER:
	default:
		*ou = "nuauth";
		return GNUTLS_KEY_DIGITAL_SIGNATURE;
	}
}

/* The extended key usage (TLS server or client) and the subject
 * alternative names of spec. */
static bool set_purpose_and_names(gnutls_x509_crt_t crt, const struct cert_spec *spec)
{
	if (spec->kind == KIND_SERVER &&
	    !gtls_ok(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
		     "extended key usage"))
		return false;
	if ((spec->kind == KIND_NUFW || spec->kind == KIND_USER) &&
	    !gtls_ok(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0),
		     "extended key usage"))
		return false;
	if (spec->dns &&
	    !gtls_ok(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, spec->dns,
							  (unsigned)strlen(spec->dns),
							  GNUTLS_FSAN_APPEND),
		     "DNS subject alternative name"))
		return false;
	for (unsigned i = 0; i < spec->nips; i++)
		if (!gtls_ok(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS,
								  spec->ips[i].addr, spec->ips[i].len,
								  GNUTLS_FSAN_APPEND),
			     "IP subject alternative name"))
			return false;
	return true;
}

/* Fills crt (already initialised) from spec and key: everything but the
 * issuer and the signature. */
static bool fill_cert(gnutls_x509_crt_t crt, const struct cert_spec *spec,
		      gnutls_x509_privkey_t key)
{
	unsigned char id[64];
	size_t idlen = sizeof(id);
	const char *ou;
	unsigned usage = kind_usage(spec->kind, &ou);

	return gtls_ok(gnutls_x509_crt_set_version(crt, 3), "version") &&
	       set_serial(crt) &&
	       gtls_ok(gnutls_x509_crt_set_activation_time(crt, time(NULL) - BACKDATE_SECONDS),
		       "activation time") &&
	       gtls_ok(gnutls_x509_crt_set_expiration_time(crt, spec->not_after),
		       "expiration time") &&
	       gtls_ok(gnutls_x509_crt_set_key(crt, key), "public key") &&
	       gtls_ok(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
						     spec->cn, (unsigned)strlen(spec->cn)),
		       "common name") &&
	       (!ou || gtls_ok(gnutls_x509_crt_set_dn_by_oid(crt,
							     GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME,
							     0, ou, (unsigned)strlen(ou)),
			       "organizational unit")) &&
	       gtls_ok(gnutls_x509_crt_set_basic_constraints(crt, spec->kind == KIND_CA,
							     spec->kind == KIND_CA ? 0 : -1),
		       "basic constraints") &&
	       gtls_ok(gnutls_x509_crt_set_key_usage(crt, usage), "key usage") &&
	       gtls_ok(gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA1, id, &idlen),
		       "key id") &&
	       gtls_ok(gnutls_x509_crt_set_subject_key_id(crt, id, idlen), "subject key id") &&
	       set_purpose_and_names(crt, spec);
}

/* Signs crt with the issuer's key; issuer NULL: self-signed with key. */
static bool sign_cert(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer,
		      gnutls_x509_privkey_t issuer_key)
{
	gnutls_privkey_t pk;
	unsigned char id[64];
	size_t idlen = sizeof(id);
	unsigned critical;
	bool ok;

	if (issuer) {
		if (!gtls_ok(gnutls_x509_crt_get_subject_key_id(issuer, id, &idlen, &critical),
			     "the CA's subject key id") ||
		    !gtls_ok(gnutls_x509_crt_set_authority_key_id(crt, id, idlen),
			     "authority key id"))
			return false;
	}
	if (!gtls_ok(gnutls_privkey_init(&pk), "signing key"))
		return false;
	ok = gtls_ok(gnutls_privkey_import_x509(pk, issuer_key, 0), "signing key") &&
	     gtls_ok(gnutls_x509_crt_privkey_sign(crt, issuer ? issuer : crt, pk,
						  GNUTLS_DIG_SHA256, 0),
		     "signing the certificate");
	gnutls_privkey_deinit(pk);
	return ok;
}

bool make_cert(const struct cert_spec *spec, gnutls_x509_crt_t ca,
	       gnutls_x509_privkey_t ca_key, struct outputs *o, unsigned cert_i,
	       unsigned key_i, gnutls_x509_crt_t *crt_out, gnutls_x509_privkey_t *key_out)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t pem_key = { NULL, 0 }, pem_crt = { NULL, 0 };
	bool ok;

	ok = make_key(&key) &&
	     gtls_ok(gnutls_x509_crt_init(&crt), "certificate") &&
	     fill_cert(crt, spec, key) &&
	     sign_cert(crt, ca, ca ? ca_key : key) &&
	     gtls_ok(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
						       GNUTLS_PKCS_PLAIN, &pem_key),
		     "exporting the key") &&
	     gtls_ok(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem_crt),
		     "exporting the certificate") &&
	     write_new(o, key_i, &pem_key, 0600) &&
	     write_new(o, cert_i, &pem_crt, 0644);
	if (pem_key.data) {
		gnutls_memset(pem_key.data, 0, pem_key.size);
		gnutls_free(pem_key.data);
	}
	gnutls_free(pem_crt.data);
	if (ok && crt_out) {
		*crt_out = crt;
		crt = NULL;
	}
	if (ok && key_out) {
		*key_out = key;
		key = NULL;
	}
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return ok;
}

time_t days_from_now(unsigned days)
{
	return time(NULL) + (time_t)days * 86400;
}

bool load_ca(const char *dir, gnutls_x509_crt_t *ca, gnutls_x509_privkey_t *ca_key)
{
	char *cert_path = g_build_filename(dir, CA_CERT, NULL);
	char *key_path = g_build_filename(dir, CA_KEY, NULL);
	gnutls_datum_t cert_pem = { NULL, 0 }, key_pem = { NULL, 0 };
	unsigned char id1[64], id2[64];
	size_t len1 = sizeof(id1), len2 = sizeof(id2);
	unsigned critical;
	bool ok = false;
	int ret;

	*ca = NULL;
	*ca_key = NULL;
	if (access(cert_path, F_OK) < 0 && errno == ENOENT) {
		nuctl_error("%s: no such file: DIR must hold the CA made by "
			    "`nuauthctl pki init DIR'", cert_path);
		goto out;
	}
	if (!read_file(cert_path, &cert_pem) || !read_file(key_path, &key_pem))
		goto out;
	if (gnutls_x509_crt_init(ca) < 0 || gnutls_x509_privkey_init(ca_key) < 0) {
		nuctl_error("out of memory");
		goto out;
	}
	if ((ret = gnutls_x509_crt_import(*ca, &cert_pem, GNUTLS_X509_FMT_PEM)) < 0) {
		nuctl_error("%s: not a PEM certificate: %s", cert_path, gnutls_strerror(ret));
		goto out;
	}
	if ((ret = gnutls_x509_privkey_import2(*ca_key, &key_pem, GNUTLS_X509_FMT_PEM,
					       NULL, 0)) < 0) {
		nuctl_error("%s: not a PEM private key (or an encrypted one): %s", key_path,
			    gnutls_strerror(ret));
		goto out;
	}
	if (gnutls_x509_crt_get_ca_status(*ca, &critical) <= 0) {
		nuctl_error("%s: not a CA certificate", cert_path);
		goto out;
	}
	if (gnutls_x509_crt_get_key_id(*ca, 0, id1, &len1) < 0 ||
	    gnutls_x509_privkey_get_key_id(*ca_key, 0, id2, &len2) < 0 ||
	    len1 != len2 || memcmp(id1, id2, len1) != 0) {
		nuctl_error("%s is not the key of %s", key_path, cert_path);
		goto out;
	}
	if (gnutls_x509_crt_get_expiration_time(*ca) <= time(NULL)) {
		nuctl_error("%s has expired", cert_path);
		goto out;
	}
	ok = true;
out:
	if (key_pem.data)
		memset(key_pem.data, 0, key_pem.size);
	g_free(key_pem.data);
	g_free(cert_pem.data);
	g_free(cert_path);
	g_free(key_path);
	if (!ok) {
		if (*ca)
			gnutls_x509_crt_deinit(*ca);
		if (*ca_key)
			gnutls_x509_privkey_deinit(*ca_key);
		*ca = NULL;
		*ca_key = NULL;
	}
	return ok;
}
