/* nuauthctl pki crl DIR [--days N]: the CA's CRL (DIR/crl.pem) signed again
 * with the same entries, for a new next update, or made empty.  Also the
 * CRL itself, read, changed (pki revoke) and written whole. */
#include "config.h"
#include "nuauthctl.h"
#include "pki.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/abstract.h>

/* Reads DIR's CRL into entries and *number, when there is one; it must be
 * signed by ca.  No CRL yet: no entries, number 0. */
static bool load_crl(const char *path, gnutls_x509_crt_t ca, GArray *entries, uint64_t *number)
{
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_x509_crl_t crl = NULL;
	unsigned char num[8];
	size_t num_len = sizeof(num);
	unsigned status = 0, critical;
	bool ok = false;
	int n, ret;

	*number = 0;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return true;
	if (!read_file(path, &pem) || !gtls_ok(gnutls_x509_crl_init(&crl), "CRL"))
		goto out;
	if ((ret = gnutls_x509_crl_import(crl, &pem, GNUTLS_X509_FMT_PEM)) < 0) {
		nuctl_error("%s: not a PEM CRL: %s", path, gnutls_strerror(ret));
		goto out;
	}
	if (gnutls_x509_crl_verify(crl, &ca, 1, 0, &status) < 0 || status != 0) {
		nuctl_error("%s: not a CRL of this CA", path);
		goto out;
	}
	if (gnutls_x509_crl_get_number(crl, num, &num_len, &critical) >= 0 && num_len <= 8)
		for (size_t i = 0; i < num_len; i++)
			*number = *number << 8 | num[i];
	n = gnutls_x509_crl_get_crt_count(crl);
	for (int i = 0; i < n; i++) {
		struct revoked r = { .len = sizeof(r.serial) };

		if (!gtls_ok(gnutls_x509_crl_get_crt_serial(crl, i, r.serial, &r.len, &r.when),
			     path))
			goto out;
		g_array_append_val(entries, r);
	}
	ok = true;
out:
	if (crl)
		gnutls_x509_crl_deinit(crl);
	g_free(pem.data);
	return ok;
}

/* Signs a CRL of entries, numbered number, valid for days, into path. */
static bool write_crl(const char *path, const GArray *entries, uint64_t number, unsigned days,
		      gnutls_x509_crt_t ca, gnutls_x509_privkey_t ca_key)
{
	gnutls_x509_crl_t crl = NULL;
	gnutls_privkey_t pk = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	unsigned char id[64], num[8];
	size_t idlen = sizeof(id);
	unsigned critical;
	time_t now = time(NULL);
	bool ok;

	for (int i = 7; i >= 0; i--, number >>= 8)
		num[i] = (unsigned char)number;
	ok = gtls_ok(gnutls_x509_crl_init(&crl), "CRL") &&
	     gtls_ok(gnutls_x509_crl_set_version(crl, 2), "CRL version") &&
	     gtls_ok(gnutls_x509_crl_set_this_update(crl, now), "CRL date") &&
	     gtls_ok(gnutls_x509_crl_set_next_update(crl, now + (time_t)days * 86400),
		     "CRL next update") &&
	     gtls_ok(gnutls_x509_crl_set_number(crl, num, sizeof(num)), "CRL number") &&
	     gtls_ok(gnutls_x509_crt_get_subject_key_id(ca, id, &idlen, &critical),
		     "the CA's subject key id") &&
	     gtls_ok(gnutls_x509_crl_set_authority_key_id(crl, id, idlen), "authority key id");
	for (guint i = 0; ok && i < entries->len; i++) {
		const struct revoked *r = &g_array_index(entries, struct revoked, i);

		ok = gtls_ok(gnutls_x509_crl_set_crt_serial(crl, r->serial, r->len, r->when),
			     "CRL entry");
	}
	ok = ok && gtls_ok(gnutls_privkey_init(&pk), "signing key") &&
	     gtls_ok(gnutls_privkey_import_x509(pk, ca_key, 0), "signing key") &&
	     gtls_ok(gnutls_x509_crl_privkey_sign(crl, ca, pk, GNUTLS_DIG_SHA256, 0),
		     "signing the CRL") &&
	     gtls_ok(gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM, &pem), "exporting the CRL") &&
	     replace_file(path, &pem);
	gnutls_free(pem.data);
	if (pk)
		gnutls_privkey_deinit(pk);
	if (crl)
		gnutls_x509_crl_deinit(crl);
	return ok;
}

static void print_crl(const char *path, unsigned entries, unsigned days)
{
	char date[32];
	struct tm tm;
	time_t next = days_from_now(days);

	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime_r(&next, &tm));
	printf("%s\n%u revoked, next update before %s\n", path, entries, date);
}

int pki_crl_update(int argc, char **argv, int operands, const char *expected,
		   crl_change_fn change)
{
	static const struct option longopts[] = {
		{ "days", required_argument, NULL, OPT_DAYS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct pki_opts po = { 0 };
	GArray *entries = g_array_new(FALSE, FALSE, sizeof(struct revoked));
	gnutls_x509_crt_t ca = NULL;
	gnutls_x509_privkey_t ca_key = NULL;
	enum crl_change changed = CRL_CHANGED;
	const char *dir;
	char *path = NULL;
	uint64_t number;
	int status = NUCTL_FAILED;

	if (!parse_pki_opts(argc, argv, longopts, &po)) {
		status = pki_usage_hint();
		goto out;
	}
	if (po.help) {
		nuctl_pki_usage(stdout);
		status = NUCTL_OK;
		goto out;
	}
	if (argc - optind != operands) {
		nuctl_error("pki %s: expected %s; got %d arguments", argv[0], expected,
			    argc - optind);
		status = pki_usage_hint();
		goto out;
	}
	dir = argv[optind];
	path = g_build_filename(dir, CRL_FILE, NULL);
	if (!load_ca(dir, &ca, &ca_key) || !load_crl(path, ca, entries, &number))
		goto out;
	if (change)
		changed = change(dir, argv[optind + 1], ca, entries);
	if (changed != CRL_CHANGED) {
		status = changed == CRL_UNCHANGED ? NUCTL_OK : NUCTL_FAILED;
		goto out;
	}
	if (!write_crl(path, entries, number + 1, po.days_set ? po.days : DEFAULT_CRL_DAYS, ca,
		       ca_key))
		goto out;
	print_crl(path, entries->len, po.days_set ? po.days : DEFAULT_CRL_DAYS);
	status = NUCTL_OK;
out:
	if (ca)
		gnutls_x509_crt_deinit(ca);
	if (ca_key)
		gnutls_x509_privkey_deinit(ca_key);
	g_array_free(entries, TRUE);
	g_free(path);
	return status;
}

int pki_crl(int argc, char **argv)
{
	return pki_crl_update(argc, argv, 1, "DIR", NULL);
}
