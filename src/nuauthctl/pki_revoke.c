/* nuauthctl pki revoke DIR NAME|CERTFILE [--days N]: the certificate
 * DIR/NAME-cert.pem (or CERTFILE), one this CA issued, onto the CA's CRL
 * (DIR/crl.pem, made when missing; see pki_crl.c). */
#include "config.h"
#include "nuauthctl.h"
#include "pki.h"

#include <string.h>

/* The certificate to revoke: NAME's in dir, or a file; it must be one this
 * CA issued (expired or not). */
static bool load_issued(const char *dir, const char *what, gnutls_x509_crt_t ca,
			gnutls_x509_crt_t *crt)
{
	char *path = strchr(what, '/') || g_str_has_suffix(what, ".pem")
			     ? g_strdup(what) : g_strdup_printf("%s/%s-cert.pem", dir, what);
	gnutls_datum_t pem = { NULL, 0 };
	unsigned status = 0;
	bool ok = false;
	int ret;

	*crt = NULL;
	if (!read_file(path, &pem) || !gtls_ok(gnutls_x509_crt_init(crt), "certificate"))
		goto out;
	if ((ret = gnutls_x509_crt_import(*crt, &pem, GNUTLS_X509_FMT_PEM)) < 0) {
		nuctl_error("%s: not a PEM certificate: %s", path, gnutls_strerror(ret));
		goto out;
	}
	if (gnutls_x509_crt_verify(*crt, &ca, 1, GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status) < 0 ||
	    status != 0) {
		nuctl_error("%s: not a certificate of this CA", path);
		goto out;
	}
	ok = true;
out:
	if (!ok && *crt) {
		gnutls_x509_crt_deinit(*crt);
		*crt = NULL;
	}
	g_free(pem.data);
	g_free(path);
	return ok;
}

/* Adds the certificate arg names to entries, unless it is there already. */
static enum crl_change revoke_add(const char *dir, const char *arg, gnutls_x509_crt_t ca,
				  GArray *entries)
{
	struct revoked r = { .len = sizeof(r.serial), .when = time(NULL) };
	gnutls_x509_crt_t crt = NULL;
	enum crl_change changed = CRL_FAILED;

	if (!load_issued(dir, arg, ca, &crt) ||
	    !gtls_ok(gnutls_x509_crt_get_serial(crt, r.serial, &r.len), "serial number"))
		goto out;
	changed = CRL_CHANGED;
	for (guint i = 0; i < entries->len; i++) {
		const struct revoked *e = &g_array_index(entries, struct revoked, i);

		if (e->len == r.len && memcmp(e->serial, r.serial, r.len) == 0) {
			printf("%s: already revoked\n", arg);
			changed = CRL_UNCHANGED;
			break;
		}
	}
	if (changed == CRL_CHANGED)
		g_array_append_val(entries, r);
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return changed;
}

int pki_revoke(int argc, char **argv)
{
	return pki_crl_update(argc, argv, 2, "DIR and NAME or CERTFILE", revoke_add);
}
