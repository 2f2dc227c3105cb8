/* The client's options: nuclient_set, and the keys of nuclient.conf that
 * set them. */
#include "config.h"
#include "client_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "secret.h"

void nc_options_init(struct nc_options *opt)
{
	opt->port = g_strdup("4129");
	opt->check_name = true;
	opt->keepalive_s = KEEPALIVE_DEFAULT_S;
	g_snprintf(opt->keepalive_str, sizeof(opt->keepalive_str), "%u", opt->keepalive_s);
	opt->desktop_notify = true;
}

void nc_options_free(struct nc_options *opt)
{
	g_free(opt->server);
	g_free(opt->port);
	g_free(opt->user);
	nc_secret_free(opt->password);
	g_free(opt->ca);
	g_free(opt->cert);
	g_free(opt->key);
	g_free(opt->crl);
	g_free(opt->mechanisms);
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !g_ascii_isdigit(*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void replace(char **field, const char *value)
{
	g_free(*field);
	*field = value && *value ? g_strdup(value) : NULL;
}

int nuclient_set(struct nuclient *nc, enum nuclient_option option, const char *value)
{
	unsigned long v;

	switch (option) {
	case NUCLIENT_OPT_SERVER:
		replace(&nc->opt.server, value);
		return 0;
	case NUCLIENT_OPT_PORT:
		if (value && !parse_uint(value, 1, 65535, &v))
			break;
		g_free(nc->opt.port);
		nc->opt.port = g_strdup(value ? value : "4129");
		return 0;
	case NUCLIENT_OPT_USER:
		replace(&nc->opt.user, value);
		return 0;
	case NUCLIENT_OPT_PASSWORD:
		/* In locked pages of its own, wiped when replaced or freed. */
		nc_secret_free(nc->opt.password);
		nc->opt.password = nc_secret_strdup(value);
		return 0;
	case NUCLIENT_OPT_CA:
		replace(&nc->opt.ca, value);
		return 0;
	case NUCLIENT_OPT_CERT:
		replace(&nc->opt.cert, value);
		return 0;
	case NUCLIENT_OPT_KEY:
		replace(&nc->opt.key, value);
		return 0;
	case NUCLIENT_OPT_CRL:
		replace(&nc->opt.crl, value);
		return 0;
	case NUCLIENT_OPT_CHECK_NAME:
		if (value && !parse_uint(value, 0, 1, &v))
			break;
		nc->opt.check_name = !value || v == 1;
		return 0;
	case NUCLIENT_OPT_MECHANISMS:
		replace(&nc->opt.mechanisms, value);
		return 0;
	case NUCLIENT_OPT_KEEPALIVE:
		if (value && !parse_uint(value, 1, 3600, &v))
			break;
		nc->opt.keepalive_s = value ? (unsigned)v : KEEPALIVE_DEFAULT_S;
		g_snprintf(nc->opt.keepalive_str, sizeof(nc->opt.keepalive_str), "%u",
			   nc->opt.keepalive_s);
		return 0;
	case NUCLIENT_OPT_UDP_UNCONNECTED:
		if (value && !parse_uint(value, 0, 1, &v))
			break;
		nc->opt.udp_unconnected = value && v == 1;
		return 0;
	case NUCLIENT_OPT_DESKTOP_NOTIFY:
		if (value && !parse_uint(value, 0, 1, &v))
			break;
		nc->opt.desktop_notify = !value || v == 1;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

const char *nuclient_get(const struct nuclient *nc, enum nuclient_option option)
{
	const struct nc_options *o = &nc->opt;

	switch (option) {
	case NUCLIENT_OPT_SERVER: return o->server;
	case NUCLIENT_OPT_PORT: return o->port;
	case NUCLIENT_OPT_USER: return o->user;
	case NUCLIENT_OPT_PASSWORD: return NULL;
	case NUCLIENT_OPT_CA: return o->ca;
	case NUCLIENT_OPT_CERT: return o->cert;
	case NUCLIENT_OPT_KEY: return o->key;
	case NUCLIENT_OPT_CRL: return o->crl;
	case NUCLIENT_OPT_CHECK_NAME: return o->check_name ? "1" : "0";
	case NUCLIENT_OPT_MECHANISMS: return o->mechanisms;
	case NUCLIENT_OPT_KEEPALIVE: return o->keepalive_str;
	case NUCLIENT_OPT_UDP_UNCONNECTED: return o->udp_unconnected ? "1" : "0";
	case NUCLIENT_OPT_DESKTOP_NOTIFY: return o->desktop_notify ? "1" : "0";
	}
	return NULL;
}

/* A yes/no key (also 1/0): *out 1 or 0, -1 when absent.  False with *error
 * ("file:line: key: ...") for any other value. */
static bool conf_get_yes_no(struct nu_conf *conf, const char *key, int *out, GError **error)
{
	const char *v = nu_conf_get_str(conf, key, NULL);

	*out = -1;
	if (!v)
		return true;
	if (g_ascii_strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (g_ascii_strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: %s: `%s' is not yes or no", nu_conf_where(conf, key), key, v);
	return *out >= 0;
}

int nuclient_load_config(struct nuclient *nc, const char *path, char **err)
{
	static const struct {
		const char *key;
		enum nuclient_option option;
	} keys[] = {
		{ "nuauth_ip", NUCLIENT_OPT_SERVER },
		{ "nuauth_tls_ca", NUCLIENT_OPT_CA },
		{ "nuauth_tls_cert", NUCLIENT_OPT_CERT },
		{ "nuauth_tls_key", NUCLIENT_OPT_KEY },
		{ "nuauth_tls_crl", NUCLIENT_OPT_CRL },
		{ "nuauth_sasl_mechanisms", NUCLIENT_OPT_MECHANISMS },
	};
	GError *error = NULL;
	struct nu_conf *conf;
	long port, suppress;
	int udp_unconnected, desktop_notify;
	char num[16];

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 1;
	conf = nu_conf_load(path, &error);
	if (!conf)
		goto fail;
	if (!nu_conf_get_int(conf, "nuauth_port", 0, 1, 65535, &port, &error) ||
	    !nu_conf_get_int(conf, "nuauth_suppress_fqdn_verif", -1, 0, 1, &suppress, &error) ||
	    !conf_get_yes_no(conf, "udp_unconnected", &udp_unconnected, &error) ||
	    !conf_get_yes_no(conf, "desktop_notify", &desktop_notify, &error))
		goto fail;
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *v = nu_conf_get_str(conf, keys[i].key, NULL);

		if (v)
			nuclient_set(nc, keys[i].option, v);
	}
	if (port) {
		g_snprintf(num, sizeof(num), "%ld", port);
		nuclient_set(nc, NUCLIENT_OPT_PORT, num);
	}
	if (suppress >= 0)
		nc->opt.check_name = suppress == 0;
	if (udp_unconnected >= 0)
		nc->opt.udp_unconnected = udp_unconnected == 1;
	if (desktop_notify >= 0)
		nc->opt.desktop_notify = desktop_notify == 1;
	nu_conf_warn_unused(conf);
	nu_conf_free(conf);
	return 0;
fail:
	if (err)
		*err = strdup(error->message);
	g_error_free(error);
	nu_conf_free(conf);
	return -1;
}
