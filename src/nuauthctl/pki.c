/* nuauthctl pki: a small certificate authority for one NuFW site.  This
 * file: the subcommands' table, on top of the others: they never call
 * back into it (the usage and the options: pki_opts.c; the other files:
 * see pki.h).
 *
 *   pki init DIR --nuauth-name NAME [--nuauth-ip IP]... [--days N] [--ca-days N]
 *       DIR/cacert.pem, DIR/ca-key.pem        the CA (basic constraints CA)
 *       DIR/nuauth-cert.pem, nuauth-key.pem   nuauth's server certificate
 *   pki issue DIR nufw|user NAME [--out BASE] [--days N]
 *       DIR/BASE-cert.pem, DIR/BASE-key.pem   a client certificate (BASE: NAME)
 *   pki revoke DIR NAME|CERTFILE [--days N]
 *       DIR/crl.pem                           the CA's CRL, with that certificate
 *   pki crl DIR [--days N]
 *       DIR/crl.pem                           the CRL signed again (next update)
 *
 * Keys are ECDSA P-256, certificates are signed with SHA-256.  Keys are
 * written mode 0600, and no existing file is ever overwritten: every output
 * is checked before anything is generated, created with O_EXCL, and removed
 * again if a later step fails.  The CRL is the one file that is rewritten:
 * it is replaced whole (a new file renamed over it), never left half
 * written. */
#include "config.h"
#include "nuauthctl.h"
#include "pki.h"

#include <string.h>

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} pki_commands[] = {
	{ "init", pki_init },
	{ "issue", pki_issue },
	{ "revoke", pki_revoke },
	{ "crl", pki_crl },
};

int nuctl_pki_main(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub) {
		nuctl_error("pki: expected init, issue, revoke or crl");
		nuctl_pki_usage(stderr);
		return NUCTL_USAGE;
	}
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		nuctl_pki_usage(stdout);
		return NUCTL_OK;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(pki_commands); i++)
		if (strcmp(sub, pki_commands[i].name) == 0)
			return pki_commands[i].run(argc - 1, argv + 1);
	nuctl_error("pki: unknown command `%s' (expected init, issue, revoke or crl)", sub);
	nuctl_pki_usage(stderr);
	return NUCTL_USAGE;
}
