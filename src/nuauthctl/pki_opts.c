/* nuauthctl pki's usage and the options its subcommands parse (pki.c
 * dispatches; pki_init.c, pki_issue.c, pki_revoke.c and pki_crl.c call
 * these). */
#include "config.h"
#include "nuauthctl.h"
#include "pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void nuctl_pki_usage(FILE *out)
{
	fprintf(out,
		"usage: nuauthctl pki init DIR --nuauth-name NAME [--nuauth-ip IP]... [--days N]\n"
		"                          [--ca-days N]\n"
		"       nuauthctl pki issue DIR nufw|user NAME [--out BASE] [--days N]\n"
		"       nuauthctl pki revoke DIR NAME|CERTFILE [--days N]\n"
		"       nuauthctl pki crl DIR [--days N]\n"
		"  init                makes a CA (DIR/" CA_CERT ", DIR/" CA_KEY ") and nuauth's\n"
		"                      certificate (DIR/" NUAUTH_CERT ", DIR/" NUAUTH_KEY ")\n"
		"  --nuauth-name NAME  nuauth's host name: the certificate's DNS name (or IP)\n"
		"  --nuauth-ip IP      an address of nuauth to put in its certificate (repeat)\n"
		"  --ca-days N         days the CA is valid (default %d)\n"
		"  issue               makes a client certificate signed by the CA in DIR, for\n"
		"                      a nufw gateway or a user: DIR/BASE-cert.pem and\n"
		"                      DIR/BASE-key.pem\n"
		"  --out BASE          file name base in DIR (default NAME)\n"
		"  --days N            days a certificate is valid (default %d; never past\n"
		"                      the CA's end); for revoke and crl, days until the\n"
		"                      CRL's next update (default %d)\n"
		"  revoke              adds the certificate DIR/NAME-cert.pem (or the file\n"
		"                      CERTFILE) to the CA's CRL, DIR/" CRL_FILE ", made when\n"
		"                      missing; point nuauth_tls_crl at it (nuauth reads\n"
		"                      it again on SIGHUP)\n"
		"  crl                 signs the CRL again, for a new next update (make one\n"
		"                      before the last one's runs out)\n"
		"Existing files are never overwritten, but for the CRL, which is replaced\n"
		"whole; keys are written mode 0600.\n",
		DEFAULT_CA_DAYS, DEFAULT_DAYS, DEFAULT_CRL_DAYS);
}

static bool parse_days(const char *opt, const char *text, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (!*text || *end || errno || text[0] == '-' || text[0] == '+' || v < 1 || v > MAX_DAYS) {
		nuctl_error("%s: expected a number of days (1-%d), got `%s'", opt, MAX_DAYS, text);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

bool parse_ip(const char *text, struct ip_san *ip)
{
	if (inet_pton(AF_INET, text, ip->addr) == 1) {
		ip->len = 4;
		return true;
	}
	if (inet_pton(AF_INET6, text, ip->addr) == 1) {
		ip->len = 16;
		return true;
	}
	return false;
}

bool add_ip(struct ip_san *ips, unsigned *n, const struct ip_san *ip)
{
	for (unsigned i = 0; i < *n; i++)
		if (ips[i].len == ip->len && memcmp(ips[i].addr, ip->addr, ip->len) == 0)
			return true;
	if (*n == MAX_IPS) {
		nuctl_error("--nuauth-ip: at most %d addresses", MAX_IPS);
		return false;
	}
	ips[(*n)++] = *ip;
	return true;
}

int pki_usage_hint(void)
{
	fprintf(stderr, "usage: see `nuauthctl pki --help'\n");
	return NUCTL_USAGE;
}

bool parse_pki_opts(int argc, char **argv, const struct option *longopts,
		    struct pki_opts *po)
{
	struct ip_san ip;
	int opt;

	po->days = DEFAULT_DAYS;
	po->ca_days = DEFAULT_CA_DAYS;
	optind = 0;	/* GNU: start afresh on this argv */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_NAME: po->name = optarg; break;
		case OPT_OUT: po->out = optarg; break;
		case OPT_IP:
			if (!parse_ip(optarg, &ip)) {
				nuctl_error("--nuauth-ip: not an IPv4 or IPv6 address: `%s'", optarg);
				return false;
			}
			if (!add_ip(po->ips, &po->nips, &ip))
				return false;
			break;
		case OPT_DAYS:
			if (!parse_days("--days", optarg, &po->days))
				return false;
			po->days_set = true;
			break;
		case OPT_CA_DAYS:
			if (!parse_days("--ca-days", optarg, &po->ca_days))
				return false;
			break;
		case 'h':
		case OPT_HELP: po->help = true; break;
		case ':':
			nuctl_error("pki %s: option `%s' needs a value", argv[0], argv[optind - 1]);
			return false;
		default:
			nuctl_error("pki %s: unknown option `%s'", argv[0], argv[optind - 1]);
			return false;
		}
	}
	return true;
}
