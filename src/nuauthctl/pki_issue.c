/* nuauthctl pki issue DIR nufw|user NAME [--out BASE] [--days N]: a client
 * certificate signed by the CA in DIR (DIR/BASE-cert.pem, DIR/BASE-key.pem;
 * BASE: NAME), never outliving the CA. */
#include "config.h"
#include "nuauthctl.h"
#include "pki.h"

#include <string.h>

/* A certificate's name that also names files: UTF-8 text without control
 * characters or `/', not starting with `.' or `-'. */
static bool check_name(const char *what, const char *s)
{
	const char *why = NULL;

	if (!*s)
		why = "it is empty";
	else if (!g_utf8_validate(s, -1, NULL))
		why = "it is not UTF-8";
	else if (g_utf8_strlen(s, -1) > MAX_CN)
		why = "it is longer than 64 characters";
	else if (s[0] == '.' || s[0] == '-')
		why = "it starts with `.' or `-'";
	else
		for (const char *p = s; *p && !why; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '/')
				why = "it contains `/' or a control character";
	if (why) {
		nuctl_error("%s `%s': %s", what, s, why);
		return false;
	}
	return true;
}

int pki_issue(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, OPT_OUT },
		{ "days", required_argument, NULL, OPT_DAYS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct pki_opts po = { 0 };
	struct outputs o = { 0 };
	struct cert_spec spec = { 0 };
	gnutls_x509_crt_t ca;
	gnutls_x509_privkey_t ca_key;
	const char *dir, *kind;
	char *cert_name, *key_name;
	time_t ca_end;
	bool ok;

	if (!parse_pki_opts(argc, argv, longopts, &po))
		return pki_usage_hint();
	if (po.help) {
		nuctl_pki_usage(stdout);
		return NUCTL_OK;
	}
	if (argc - optind != 3) {
		nuctl_error("pki issue: expected DIR, nufw or user, and NAME; got %d arguments",
			    argc - optind);
		return pki_usage_hint();
	}
	dir = argv[optind];
	kind = argv[optind + 1];
	spec.cn = argv[optind + 2];
	if (strcmp(kind, "nufw") == 0) {
		spec.kind = KIND_NUFW;
	} else if (strcmp(kind, "user") == 0) {
		spec.kind = KIND_USER;
	} else {
		nuctl_error("pki issue: expected `nufw' or `user', got `%s'", kind);
		return NUCTL_USAGE;
	}
	if (!check_name("NAME", spec.cn) || (po.out && !check_name("--out", po.out)))
		return NUCTL_USAGE;
	if (!load_ca(dir, &ca, &ca_key))
		return NUCTL_FAILED;
	spec.not_after = days_from_now(po.days);
	ca_end = gnutls_x509_crt_get_expiration_time(ca);
	if (spec.not_after > ca_end) {
		fprintf(stderr, "nuauthctl: the CA expires first: the certificate ends with it\n");
		spec.not_after = ca_end;
	}
	cert_name = g_strdup_printf("%s-cert.pem", po.out ? po.out : spec.cn);
	key_name = g_strdup_printf("%s-key.pem", po.out ? po.out : spec.cn);
	outputs_add(&o, dir, cert_name);
	outputs_add(&o, dir, key_name);
	ok = outputs_absent(&o) && make_cert(&spec, ca, ca_key, &o, 0, 1, NULL, NULL);
	if (ok)
		print_written(&o, spec.not_after);
	outputs_finish(&o, ok);
	g_free(cert_name);
	g_free(key_name);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(ca_key);
	return ok ? NUCTL_OK : NUCTL_FAILED;
}
