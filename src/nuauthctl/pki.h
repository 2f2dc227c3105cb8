/* nuauthctl pki's private parts, shared by its files.
 *
 *   pki.c         the command: its subcommands (on top of the other files)
 *   pki_opts.c    its usage, the subcommands' options
 *   pki_files.c   the files written: never overwritten, removed on failure
 *   pki_gnutls.c  keys, certificates and the CA, with GnuTLS
 *   pki_init.c    pki init: the CA and nuauth's certificate
 *   pki_issue.c   pki issue: a gateway's or a user's certificate
 *   pki_revoke.c  pki revoke: a certificate onto the CRL
 *   pki_crl.c     pki crl: the CRL signed again; the CRL itself */
#ifndef NUAUTHCTL_PKI_H
#define NUAUTHCTL_PKI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/types.h>
#include <getopt.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define CA_CERT "cacert.pem"
#define CA_KEY "ca-key.pem"
#define CRL_FILE "crl.pem"
#define NUAUTH_CERT "nuauth-cert.pem"
#define NUAUTH_KEY "nuauth-key.pem"

#define DEFAULT_DAYS 365
#define DEFAULT_CA_DAYS 3650
#define DEFAULT_CRL_DAYS 30
#define MAX_DAYS 36500
#define MAX_IPS 16
/* X.520 ub-common-name. */
#define MAX_CN 64
/* Certificates start a little in the past, for hosts whose clock lags. */
#define BACKDATE_SECONDS 300

/* What a certificate is for. */
enum cert_kind { KIND_CA, KIND_SERVER, KIND_NUFW, KIND_USER };

struct ip_san {
	unsigned char addr[16];
	unsigned len;		/* 4 or 16 */
};

/* One certificate to make. */
struct cert_spec {
	enum cert_kind kind;
	const char *cn;
	const char *dns;	/* DNS subject alternative name, or NULL */
	const struct ip_san *ips;
	unsigned nips;
	time_t not_after;
};

/* The files one run creates, so that a failure removes them again. */
struct outputs {
	char *path[4];
	bool created[4];
	unsigned n;
};

/* The options of the subcommands (each accepts its own). */
struct pki_opts {
	const char *name;	/* --nuauth-name */
	const char *out;	/* --out */
	struct ip_san ips[MAX_IPS];
	unsigned nips;
	unsigned days, ca_days;
	bool days_set;		/* --days given */
	bool help;
};

enum { OPT_NAME = 1, OPT_IP, OPT_DAYS, OPT_CA_DAYS, OPT_OUT, OPT_HELP };

/* A revoked certificate, as the CRL lists it. */
struct revoked {
	unsigned char serial[64];
	size_t len;
	time_t when;
};

/* pki_opts.c (and nuctl_pki_usage, nuauthctl.h) */
/* Parses argv (argv[0]: the subcommand's name) with longopts; options may
 * come before or after the operands, which end in argv[optind..argc).
 * False after printing why. */
bool parse_pki_opts(int argc, char **argv, const struct option *longopts,
		    struct pki_opts *po);
/* "usage: see ..." on stderr: NUCTL_USAGE. */
int pki_usage_hint(void);
bool parse_ip(const char *text, struct ip_san *ip);
/* Adds ip to ips unless it is there already; false when full. */
bool add_ip(struct ip_san *ips, unsigned *n, const struct ip_san *ip);

/* pki_files.c */
void outputs_add(struct outputs *o, const char *dir, const char *name);
/* Refuses to go on if any output exists (even as a dangling link). */
bool outputs_absent(const struct outputs *o);
/* Removes what this run created (on failure), and frees the paths. */
void outputs_finish(struct outputs *o, bool keep);
/* Writes output i, which must not exist yet, with mode. */
bool write_new(struct outputs *o, unsigned i, const gnutls_datum_t *data, mode_t mode);
bool read_file(const char *path, gnutls_datum_t *out);
/* Writes data to path through a new file renamed over it. */
bool replace_file(const char *path, const gnutls_datum_t *data);
/* The outputs' paths, then "valid until DATE". */
void print_written(const struct outputs *o, time_t not_after);

/* pki_gnutls.c */
/* Reports a failed GnuTLS call: false when ret < 0. */
bool gtls_ok(int ret, const char *what);
/* Makes a key and a certificate for spec, signed by the CA (ca NULL: a
 * self-signed CA), and writes them to outputs cert_i and key_i.  On
 * success, *crt_out and *key_out (when not NULL) receive them. */
bool make_cert(const struct cert_spec *spec, gnutls_x509_crt_t ca,
	       gnutls_x509_privkey_t ca_key, struct outputs *o, unsigned cert_i,
	       unsigned key_i, gnutls_x509_crt_t *crt_out, gnutls_x509_privkey_t *key_out);
/* Loads the CA of dir and checks that it can sign today. */
bool load_ca(const char *dir, gnutls_x509_crt_t *ca, gnutls_x509_privkey_t *ca_key);
time_t days_from_now(unsigned days);

/* pki_crl.c */
/* What a change to the CRL did: nothing to write (it holds it already),
 * entries changed, or a failure (said). */
enum crl_change { CRL_UNCHANGED, CRL_CHANGED, CRL_FAILED };
/* Changes entries, the CRL of the CA ca in dir; arg: the operand after dir. */
typedef enum crl_change (*crl_change_fn)(const char *dir, const char *arg,
					 gnutls_x509_crt_t ca, GArray *entries);
/* The subcommands on the CRL: argv[optind] is DIR, and operands counts
 * DIR too (expected says what they are); change NULL signs the CRL again as
 * it is.  The exit status. */
int pki_crl_update(int argc, char **argv, int operands, const char *expected,
		   crl_change_fn change);

/* the subcommands */
int pki_init(int argc, char **argv);
int pki_issue(int argc, char **argv);
int pki_revoke(int argc, char **argv);
int pki_crl(int argc, char **argv);

#endif
