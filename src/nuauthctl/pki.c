/* nuauthctl pki: a small certificate authority for one NuFW site.
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
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
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

/* ---- command line ---- */

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

static bool parse_ip(const char *text, struct ip_san *ip)
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

/* Adds ip to ips unless it is there already; false when full. */
static bool add_ip(struct ip_san *ips, unsigned *n, const struct ip_san *ip)
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

/* ---- files ---- */

static void outputs_add(struct outputs *o, const char *dir, const char *name)
{
	o->path[o->n++] = g_build_filename(dir, name, NULL);
}

/* Refuses to go on if any output exists (even as a dangling link). */
static bool outputs_absent(const struct outputs *o)
{
	bool ok = true;

	for (unsigned i = 0; i < o->n; i++) {
		struct stat st;

		if (lstat(o->path[i], &st) == 0) {
			nuctl_error("%s exists: not overwriting it", o->path[i]);
			ok = false;
		} else if (errno != ENOENT) {
			nuctl_error("%s: %s", o->path[i], strerror(errno));
			ok = false;
		}
	}
	return ok;
}

/* Removes what this run created (on failure), and frees the paths. */
static void outputs_finish(struct outputs *o, bool keep)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (!keep && o->created[i])
			unlink(o->path[i]);
		g_free(o->path[i]);
	}
	memset(o, 0, sizeof(*o));
}

/* Writes output i, which must not exist yet, with mode. */
static bool write_new(struct outputs *o, unsigned i, const gnutls_datum_t *data, mode_t mode)
{
	const char *path = o->path[i];
	size_t off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0) {
		nuctl_error("cannot create %s: %s", path, strerror(errno));
		return false;
	}
	o->created[i] = true;
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (off < data->size) {
		ssize_t n = write(fd, data->data + off, data->size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return true;
fail:
	nuctl_error("cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return false;
}

static bool read_file(const char *path, gnutls_datum_t *out)
{
	GError *error = NULL;
	gchar *text;
	gsize len;

	if (!g_file_get_contents(path, &text, &len, &error)) {
		nuctl_error("%s", error->message);
		g_error_free(error);
		return false;
	}
	out->data = (unsigned char *)text;
	out->size = (unsigned)len;
	return true;
}

/* ---- certificates ---- */

/* Reports a failed GnuTLS call: false when ret < 0. */
static bool gtls_ok(int ret, const char *what)
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

/* Fills crt (already initialised) from spec and key: everything but the
 * issuer and the signature. */
static bool fill_cert(gnutls_x509_crt_t crt, const struct cert_spec *spec,
		      gnutls_x509_privkey_t key)
{
	unsigned char id[64];
	size_t idlen = sizeof(id);
	unsigned usage;
	const char *ou = NULL;
	bool ok;

	switch (spec->kind) {
	case KIND_CA:
		usage = GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN;
		break;
	case KIND_NUFW:
		ou = NU_TLS_OU_GATEWAY;
		usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
		break;
	case KIND_USER:
		ou = NU_TLS_OU_USER;
		usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
		break;
	case KIND_SERVER:
	default:
		ou = "nuauth";
		usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
		break;
	}
	ok = gtls_ok(gnutls_x509_crt_set_version(crt, 3), "version") &&
	     set_serial(crt) &&
	     gtls_ok(gnutls_x509_crt_set_activation_time(crt, time(NULL) - BACKDATE_SECONDS),
		     "activation time") &&
	     gtls_ok(gnutls_x509_crt_set_expiration_time(crt, spec->not_after), "expiration time") &&
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
	     gtls_ok(gnutls_x509_crt_set_subject_key_id(crt, id, idlen), "subject key id");
	if (!ok)
		return false;
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

/* Makes a key and a certificate for spec, signed by the CA (ca NULL: a
 * self-signed CA), and writes them to outputs cert_i and key_i.  On
 * success, *crt_out and *key_out (when not NULL) receive them. */
static bool make_cert(const struct cert_spec *spec, gnutls_x509_crt_t ca,
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

static time_t days_from_now(unsigned days)
{
	return time(NULL) + (time_t)days * 86400;
}

static void print_written(const struct outputs *o, time_t not_after)
{
	char date[32];
	struct tm tm;

	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime_r(&not_after, &tm));
	for (unsigned i = 0; i < o->n; i++)
		printf("%s\n", o->path[i]);
	printf("valid until %s\n", date);
}

/* ---- pki init, pki issue ---- */

static int usage_hint(void)
{
	fprintf(stderr, "usage: see `nuauthctl pki --help'\n");
	return NUCTL_USAGE;
}

/* The options of both commands (each accepts its own). */
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

/* Parses argv (argv[0]: the command's name) with longopts; options may come
 * before or after the operands, which end in argv[optind..argc).  False
 * after printing why. */
static bool parse_pki_opts(int argc, char **argv, const struct option *longopts,
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

static int pki_init(int argc, char **argv)
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
	struct ip_san name_ip;
	char *ca_cn;
	const char *dir;
	bool ok;

	if (!parse_pki_opts(argc, argv, longopts, &po))
		return usage_hint();
	if (po.help) {
		nuctl_pki_usage(stdout);
		return NUCTL_OK;
	}
	if (argc - optind != 1) {
		if (argc == optind)
			nuctl_error("pki init: no directory given");
		else
			nuctl_error("pki init: expected one directory, got %d arguments",
				    argc - optind);
		return usage_hint();
	}
	dir = argv[optind];
	if (!po.name) {
		nuctl_error("pki init: --nuauth-name NAME is required (nuauth's host name, "
			    "which nufw and nutcpc check)");
		return NUCTL_USAGE;
	}
	srv_spec.cn = po.name;
	if (parse_ip(po.name, &name_ip)) {
		/* An address as the name: it goes in as an IP name. */
		if (!add_ip(po.ips, &po.nips, &name_ip))
			return NUCTL_USAGE;
	} else if (is_host_name(po.name)) {
		srv_spec.dns = po.name;
	} else {
		nuctl_error("--nuauth-name: expected a host name (letters, digits, `-' and "
			    "`.') or an IP address, got `%s'", po.name);
		return NUCTL_USAGE;
	}
	if (po.days > po.ca_days) {
		nuctl_error("--days %u is longer than the CA's --ca-days %u", po.days, po.ca_days);
		return NUCTL_USAGE;
	}
	srv_spec.ips = po.ips;
	srv_spec.nips = po.nips;
	srv_spec.not_after = days_from_now(po.days);
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

/* Loads the CA of dir and checks that it can sign today. */
static bool load_ca(const char *dir, gnutls_x509_crt_t *ca, gnutls_x509_privkey_t *ca_key)
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

static int pki_issue(int argc, char **argv)
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
		return usage_hint();
	if (po.help) {
		nuctl_pki_usage(stdout);
		return NUCTL_OK;
	}
	if (argc - optind != 3) {
		nuctl_error("pki issue: expected DIR, nufw or user, and NAME; got %d arguments",
			    argc - optind);
		return usage_hint();
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

/* ---- pki revoke, pki crl ---- */

struct revoked {
	unsigned char serial[64];
	size_t len;
	time_t when;
};

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

/* Writes data to path through a new file renamed over it. */
static bool replace_file(const char *path, const gnutls_datum_t *data)
{
	char *tmp = g_strdup_printf("%s.new", path);
	struct outputs o = { .path = { tmp }, .n = 1 };
	bool ok;

	unlink(tmp);	/* the leftover of a run that died */
	ok = write_new(&o, 0, data, 0644);
	if (ok && rename(tmp, path) < 0) {
		nuctl_error("cannot replace %s: %s", path, strerror(errno));
		ok = false;
	}
	if (!ok)
		unlink(tmp);
	g_free(tmp);
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

static void print_crl(const char *path, unsigned entries, unsigned days)
{
	char date[32];
	struct tm tm;
	time_t next = days_from_now(days);

	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime_r(&next, &tm));
	printf("%s\n%u revoked, next update before %s\n", path, entries, date);
}

/* pki revoke DIR NAME|CERTFILE, pki crl DIR: the CA's CRL with one more
 * certificate (revoke), or signed again (crl). */
static int pki_crl_command(int argc, char **argv, bool revoke)
{
	static const struct option longopts[] = {
		{ "days", required_argument, NULL, OPT_DAYS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct pki_opts po = { 0 };
	GArray *entries = g_array_new(FALSE, FALSE, sizeof(struct revoked));
	gnutls_x509_crt_t ca = NULL, crt = NULL;
	gnutls_x509_privkey_t ca_key = NULL;
	struct revoked r = { .len = sizeof(r.serial), .when = time(NULL) };
	const char *dir;
	char *path = NULL;
	uint64_t number;
	int status = NUCTL_FAILED;

	if (!parse_pki_opts(argc, argv, longopts, &po)) {
		status = usage_hint();
		goto out;
	}
	if (po.help) {
		nuctl_pki_usage(stdout);
		status = NUCTL_OK;
		goto out;
	}
	if (argc - optind != (revoke ? 2 : 1)) {
		nuctl_error(revoke ? "pki revoke: expected DIR and NAME or CERTFILE; got %d arguments"
				   : "pki crl: expected DIR; got %d arguments", argc - optind);
		status = usage_hint();
		goto out;
	}
	dir = argv[optind];
	path = g_build_filename(dir, CRL_FILE, NULL);
	if (!load_ca(dir, &ca, &ca_key) || !load_crl(path, ca, entries, &number))
		goto out;
	if (revoke) {
		if (!load_issued(dir, argv[optind + 1], ca, &crt) ||
		    !gtls_ok(gnutls_x509_crt_get_serial(crt, r.serial, &r.len), "serial number"))
			goto out;
		for (guint i = 0; i < entries->len; i++) {
			const struct revoked *e = &g_array_index(entries, struct revoked, i);

			if (e->len == r.len && memcmp(e->serial, r.serial, r.len) == 0) {
				printf("%s: already revoked\n", argv[optind + 1]);
				status = NUCTL_OK;
				goto out;
			}
		}
		g_array_append_val(entries, r);
	}
	if (!write_crl(path, entries, number + 1, po.days_set ? po.days : DEFAULT_CRL_DAYS, ca,
		       ca_key))
		goto out;
	print_crl(path, entries->len, po.days_set ? po.days : DEFAULT_CRL_DAYS);
	status = NUCTL_OK;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (ca)
		gnutls_x509_crt_deinit(ca);
	if (ca_key)
		gnutls_x509_privkey_deinit(ca_key);
	g_array_free(entries, TRUE);
	g_free(path);
	return status;
}

static int pki_revoke(int argc, char **argv)
{
	return pki_crl_command(argc, argv, true);
}

static int pki_crl(int argc, char **argv)
{
	return pki_crl_command(argc, argv, false);
}

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
