/* nuauthctl pki init DIR --nuauth-name NAME [--nuauth-ip IP]... [--days N]
 * [--ca-days N]: the CA (DIR/cacert.pem, DIR/ca-key.pem, basic constraints
 * CA) and nuauth's server certificate (DIR/nuauth-cert.pem,
 * nuauth-key.pem). */
#include "config.h"
#include "nuauthctl.h"
#include "pki.h"

#include <errno.h>
#include <string.h>

/* A host name as a DNS subject alternative name holds it: dot-separated
 * labels of letters, digits and inner hyphens. */
static bool is_host_name(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (g_ascii_isalnum(c) || (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* The operand (*dir) and nuauth's certificate from the options.  -1 to go
 * on, else the exit status. */
static int init_check(int argc, char **argv, struct pki_opts *po, const char **dir,
		      struct cert_spec *srv_spec)
{
	struct ip_san name_ip;

	if (po->help) {
		nuctl_pki_usage(stdout);
		return NUCTL_OK;
	}
	if (argc - optind != 1) {
		if (argc == optind)
			nuctl_error("pki init: no directory given");
		else
			nuctl_error("pki init: expected one directory, got %d arguments",
				    argc - optind);
		return pki_usage_hint();
	}
	*dir = argv[optind];
	if (!po->name) {
		nuctl_error("pki init: --nuauth-name NAME is required (nuauth's host name, "
			    "which nufw and nutcpc check)");
		return NUCTL_USAGE;
	}
	srv_spec->cn = po->name;
	if (parse_ip(po->name, &name_ip)) {
		/* An address as the name: it goes in as an IP name. */
		if (!add_ip(po->ips, &po->nips, &name_ip))
			return NUCTL_USAGE;
	} else if (is_host_name(po->name)) {
		srv_spec->dns = po->name;
	} else {
		nuctl_error("--nuauth-name: expected a host name (letters, digits, `-' and "
			    "`.') or an IP address, got `%s'", po->name);
		return NUCTL_USAGE;
	}
	if (po->days > po->ca_days) {
		nuctl_error("--days %u is longer than the CA's --ca-days %u", po->days, po->ca_days);
		return NUCTL_USAGE;
	}
	srv_spec->ips = po->ips;
	srv_spec->nips = po->nips;
	srv_spec->not_after = days_from_now(po->days);
	return -1;
}

int pki_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "nuauth-name", required_argument, NULL, OPT_NAME },
		{ "nuauth-ip", required_argument, NULL, OPT_IP },
		{ "days", required_argument, NULL, OPT_DAYS },
		{ "ca-days", required_argument, NULL, OPT_CA_DAYS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct pki_opts po = { 0 };
	struct outputs o = { 0 };
	gnutls_x509_crt_t ca = NULL;
	gnutls_x509_privkey_t ca_key = NULL;
	struct cert_spec ca_spec = { .kind = KIND_CA }, srv_spec = { .kind = KIND_SERVER };
	char *ca_cn;
	const char *dir = NULL;
	bool ok;
	int status;

	if (!parse_pki_opts(argc, argv, longopts, &po))
		return pki_usage_hint();
	status = init_check(argc, argv, &po, &dir, &srv_spec);
	if (status >= 0)
		return status;
	ca_spec.not_after = days_from_now(po.ca_days);
	ca_cn = g_strdup_printf("nufw CA %.50s", po.name);
	ca_spec.cn = ca_cn;

	if (g_mkdir_with_parents(dir, 0755) < 0) {
		nuctl_error("cannot create %s: %s", dir, strerror(errno));
		g_free(ca_cn);
		return NUCTL_FAILED;
	}
	outputs_add(&o, dir, CA_CERT);
	outputs_add(&o, dir, CA_KEY);
	outputs_add(&o, dir, NUAUTH_CERT);
	outputs_add(&o, dir, NUAUTH_KEY);
	ok = outputs_absent(&o) &&
	     make_cert(&ca_spec, NULL, NULL, &o, 0, 1, &ca, &ca_key) &&
	     make_cert(&srv_spec, ca, ca_key, &o, 2, 3, NULL, NULL);
	if (ok)
		print_written(&o, srv_spec.not_after);
	outputs_finish(&o, ok);
	if (ca)
		gnutls_x509_crt_deinit(ca);
	if (ca_key)
		gnutls_x509_privkey_deinit(ca_key);
	g_free(ca_cn);
	return ok ? NUCTL_OK : NUCTL_FAILED;
}
