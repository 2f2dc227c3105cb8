/* nuauth.conf: the keys nuauth itself reads, with NuFW's names and
 * defaults.  Module keys are read by the modules. */
#include "config.h"
#include "nuauth.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define NUFW_CONFDIR SYSCONFDIR "/nufw"

static bool get_uint(struct nu_conf *conf, const char *key, long def, long min, long max,
		     unsigned *out, GError **error)
{
	long v;

	if (!nu_conf_get_int(conf, key, def, min, max, &v, error))
		return false;
	*out = (unsigned)v;
	return true;
}

static bool get_bool(struct nu_conf *conf, const char *key, bool def, bool *out,
		     GError **error)
{
	unsigned v;

	if (!get_uint(conf, key, def, 0, 1, &v, error))
		return false;
	*out = v;
	return true;
}

/* nufw_gw_addr: the addresses gateways may connect from (NuFW read this key
 * but never enforced it).  Unset: any gateway with a certificate from our
 * CA. */
static bool read_gw_addrs(struct nu_conf *conf, struct nuauth_config *cfg, GError **error)
{
	const char *list = nu_conf_get_str(conf, "nufw_gw_addr", NULL);
	gchar **addrs;

	if (!list)
		return true;
	addrs = g_strsplit_set(list, " ,\t", -1);
	for (gchar **a = addrs; *a; a++) {
		struct in6_addr parsed;
		uint8_t family;

		if (**a && !nu_addr_parse(*a, &parsed, &family)) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s: nufw_gw_addr: `%s' is not an IP address",
				    nu_conf_where(conf, "nufw_gw_addr"), *a);
			g_strfreev(addrs);
			return false;
		}
	}
	cfg->gw_addrs = addrs;
	return true;
}

/* KEY = ADDR:PORT ([ADDR]:PORT for IPv6), a libmicrohttpd server's
 * address: nuauth_metrics_listen (metrics.c), nuauth_portal_listen
 * (portal.c); unset or empty: nowhere (*addr stays NULL). */
static bool read_http_listen(struct nu_conf *conf, const char *key, char **addr,
			     unsigned *port_out, GError **error)
{
	const char *v = nu_conf_get_str(conf, key, NULL);
	const char *colon, *host_start, *host_end;
	struct in6_addr parsed;
	uint8_t family;
	char *host = NULL, *end = NULL;
	unsigned long port = 0;

	if (!v || !*v)
		return true;
	if (v[0] == '[') {
		host_start = v + 1;
		host_end = strchr(v, ']');
		colon = host_end && host_end[1] == ':' ? host_end + 1 : NULL;
	} else {
		host_start = v;
		colon = strrchr(v, ':');
		host_end = colon;
	}
	if (colon && host_end > host_start) {
		host = g_strndup(host_start, (gsize)(host_end - host_start));
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
	}
	if (!host || !colon[1] || *end || errno || port < 1 || port > 65535 ||
	    !nu_addr_parse(host, &parsed, &family)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: %s: `%s' is not ADDRESS:PORT (an IP address and a "
			    "port from 1 to 65535; [ADDRESS]:PORT for IPv6)",
			    nu_conf_where(conf, key), key, v);
		g_free(host);
		return false;
	}
#ifndef HAVE_MICROHTTPD
	(void)addr, (void)port_out;
	g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
		    "%s: %s: this nuauth was built without libmicrohttpd "
		    "(apt-get install libmicrohttpd-dev, then configure again)",
		    nu_conf_where(conf, key), key);
	g_free(host);
	return false;
#else
	*addr = host;
	*port_out = (unsigned)port;
	return true;
#endif
}

/* nuauth_cluster_etcd_endpoints = URL[,URL...] (http:// or https://) and the
 * keys that go with it (doc/cluster.md). */
static bool read_cluster(struct nu_conf *conf, struct nuauth_config *cfg, GError **error)
{
	const char *list = nu_conf_get_str(conf, "nuauth_cluster_etcd_endpoints", NULL);
	const char *node = nu_conf_get_str(conf, "nuauth_cluster_node_name", NULL);
	const char *prefix = nu_conf_get_str(conf, "nuauth_cluster_etcd_prefix", "/nufw");
	static const char *const files[] = { "nuauth_cluster_etcd_ca", "nuauth_cluster_etcd_cert",
					     "nuauth_cluster_etcd_key" };
	char **urls;

	const char *partition = nu_conf_get_str(conf, "nuauth_cluster_partition_logins",
						"limited");
	static const char *const partition_modes[] = {
		[NUAUTH_PARTITION_REFUSE] = "refuse", [NUAUTH_PARTITION_LIMITED] = "limited",
		[NUAUTH_PARTITION_ALLOW] = "allow",
	};
	bool known = false;

	if (!get_uint(conf, "nuauth_cluster_lease_ttl", 5, 2, 3600, &cfg->cluster_lease_ttl,
		      error))
		return false;
	for (unsigned i = 0; i < G_N_ELEMENTS(partition_modes); i++)
		if (strcmp(partition, partition_modes[i]) == 0) {
			cfg->cluster_partition_logins = (enum nuauth_partition_logins)i;
			known = true;
		}
	if (!known) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: nuauth_cluster_partition_logins: `%s' is not refuse, limited or "
			    "allow", nu_conf_where(conf, "nuauth_cluster_partition_logins"),
			    partition);
		return false;
	}
	if (!list || !*list)
		return true;
#ifndef HAVE_CLUSTER
	(void)node;
	(void)prefix;
	(void)files;
	(void)urls;
	g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
		    "%s: nuauth_cluster_etcd_endpoints: this nuauth was built without the cluster "
		    "(apt-get install libcurl4-gnutls-dev libjson-glib-dev, then configure again)",
		    nu_conf_where(conf, "nuauth_cluster_etcd_endpoints"));
	return false;
#else
	urls = g_strsplit_set(list, " ,\t", -1);
	{
		/* drop the empty pieces of ", " */
		char **w = urls;

		for (char **r = urls; *r; r++) {
			if (**r)
				*w++ = *r;
			else
				g_free(*r);
		}
		*w = NULL;
	}
	for (char **u = urls; *u; u++) {
		const char *host = strstr(*u, "//");

		if ((!g_str_has_prefix(*u, "http://") && !g_str_has_prefix(*u, "https://")) ||
		    !host[2] || strchr(host + 2, '/')) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s: nuauth_cluster_etcd_endpoints: `%s' is not "
				    "http(s)://HOST:PORT",
				    nu_conf_where(conf, "nuauth_cluster_etcd_endpoints"), *u);
			g_strfreev(urls);
			return false;
		}
	}
	if (!urls[0]) {
		g_strfreev(urls);
		return true;
	}
	if (node && (!*node || strpbrk(node, "/ \t"))) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: nuauth_cluster_node_name: `%s' must be a non-empty name "
			    "without `/' or blanks", nu_conf_where(conf, "nuauth_cluster_node_name"),
			    node);
		g_strfreev(urls);
		return false;
	}
	if (*prefix != '/' || g_str_has_suffix(prefix, "/") || strlen(prefix) < 2) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: nuauth_cluster_etcd_prefix: `%s' must start with `/' and not "
			    "end with one", nu_conf_where(conf, "nuauth_cluster_etcd_prefix"), prefix);
		g_strfreev(urls);
		return false;
	}
	cfg->cluster_endpoints = urls;
	cfg->cluster_node = g_strdup(node ? node : g_get_host_name());
	cfg->cluster_prefix = g_strdup(prefix);
	cfg->cluster_ca = g_strdup(nu_conf_get_str(conf, files[0], NULL));
	cfg->cluster_cert = g_strdup(nu_conf_get_str(conf, files[1], NULL));
	cfg->cluster_key = g_strdup(nu_conf_get_str(conf, files[2], NULL));
	for (unsigned i = 0; i < G_N_ELEMENTS(files); i++) {
		const char *f = nu_conf_get_str(conf, files[i], NULL);

		if (f && !g_file_test(f, G_FILE_TEST_IS_REGULAR)) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s: %s: no file `%s'", nu_conf_where(conf, files[i]),
				    files[i], f);
			return false;
		}
	}
	if (!cfg->cluster_cert != !cfg->cluster_key) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: nuauth_cluster_etcd_cert and nuauth_cluster_etcd_key go together",
			    nu_conf_where(conf, cfg->cluster_cert ? files[1] : files[2]));
		return false;
	}
	cfg->cluster_user = g_strdup(nu_conf_get_str(conf, "nuauth_cluster_etcd_user", NULL));
	cfg->cluster_password = g_strdup(nu_conf_get_str(conf, "nuauth_cluster_etcd_password",
							 NULL));
	cfg->cluster_throttle_secret = g_strdup(nu_conf_get_str(conf,
								"nuauth_cluster_throttle_secret",
								NULL));
	return true;
#endif
}

bool nuauth_config_allows_gateway(const struct nuauth_config *cfg, const struct in6_addr *addr)
{
	if (!cfg->gw_addrs)
		return true;
	for (gchar **a = cfg->gw_addrs; *a; a++) {
		struct in6_addr allowed;
		uint8_t family;

		if (**a && nu_addr_parse(*a, &allowed, &family) &&
		    memcmp(&allowed, addr, sizeof(allowed)) == 0)
			return true;
	}
	return false;
}

/* nufw_gw_names: the certificate names (CN) of the gateways allowed; none
 * given: any gateway with a certificate from our CA. */
static void read_gw_names(struct nu_conf *conf, struct nuauth_config *cfg)
{
	const char *list = nu_conf_get_str(conf, "nufw_gw_names", NULL);
	gchar **names;
	guint n = 0;

	if (!list)
		return;
	names = g_strsplit_set(list, " ,\t", -1);
	for (guint i = 0; names[i]; i++)	/* drop the empty words */
		if (*names[i])
			names[n++] = names[i];
		else
			g_free(names[i]);
	names[n] = NULL;
	cfg->gw_names = names;
}

bool nuauth_config_allows_gateway_name(const struct nuauth_config *cfg, const char *cn)
{
	return !cfg->gw_names || !cfg->gw_names[0] ||
	       g_strv_contains((const gchar *const *)cfg->gw_names, cn);
}

/* nuauth_sasl_mechanisms: the password mechanisms nuauth knows. */
static bool read_mechanisms(struct nu_conf *conf, struct nuauth_config *cfg, GError **error)
{
	static const char *const known[] = { "SCRAM-SHA-256", "PLAIN" };
	const char *key = "nuauth_sasl_mechanisms";
	gchar **words;
	GString *list = g_string_new(NULL);
	bool ok = true;

	words = g_strsplit_set(nu_conf_get_str(conf, key, "SCRAM-SHA-256 PLAIN"), " ,\t", -1);
	for (gchar **w = words; *w && ok; w++) {
		size_t i;

		if (!**w)
			continue;
		for (i = 0; i < G_N_ELEMENTS(known) && g_ascii_strcasecmp(*w, known[i]); i++)
			;
		if (i == G_N_ELEMENTS(known)) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s: %s: unknown mechanism `%s' (known: SCRAM-SHA-256 PLAIN; "
				    "EXTERNAL follows nuauth_tls_auth_by_cert)",
				    nu_conf_where(conf, key), key, *w);
			ok = false;
		} else if (!strstr(list->str, known[i])) {
			g_string_append_printf(list, "%s%s", list->len ? " " : "", known[i]);
		}
	}
	g_strfreev(words);
	if (ok && !list->len) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: %s: no mechanism given", nu_conf_where(conf, key), key);
		ok = false;
	}
	cfg->sasl_mechanisms = g_string_free(list, !ok);
	return ok;
}

/* Certificate login: which part of the certificate names the user, and
 * a request for certificates wherever one may log users in. */
static bool read_cert_login(struct nu_conf *conf, struct nuauth_config *cfg, GError **error)
{
	const char *field = nu_conf_get_str(conf, "nuauth_tls_cert_user_field", "CN");

	if (g_ascii_strcasecmp(field, "CN") == 0)
		cfg->tls_cert_user_field = NUAUTH_CERT_CN;
	else if (g_ascii_strcasecmp(field, "UID") == 0)
		cfg->tls_cert_user_field = NUAUTH_CERT_UID;
	else if (g_ascii_strcasecmp(field, "email") == 0)
		cfg->tls_cert_user_field = NUAUTH_CERT_EMAIL;
	else {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: nuauth_tls_cert_user_field: expected CN, UID or email, got `%s'",
			    nu_conf_where(conf, "nuauth_tls_cert_user_field"), field);
		return false;
	}
	if (cfg->tls_auth_by_cert && !cfg->tls_request_cert) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: nuauth_tls_auth_by_cert=%u needs client certificates: set "
			    "nuauth_tls_request_cert to 1 (request) or 2 (require)",
			    nu_conf_where(conf, "nuauth_tls_auth_by_cert"), cfg->tls_auth_by_cert);
		return false;
	}
	return true;
}

/* nuauth_client_send_app: auto (the clients send the program only when a
 * module needs it) or always (for sites that want it in their logs). */
static bool read_client_send_app(struct nu_conf *conf, struct nuauth_config *cfg, GError **error)
{
	const char *key = "nuauth_client_send_app";
	const char *v = nu_conf_get_str(conf, key, "auto");

	if (g_ascii_strcasecmp(v, "auto") && g_ascii_strcasecmp(v, "always")) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: %s: expected auto or always, got `%s'",
			    nu_conf_where(conf, key), key, v);
		return false;
	}
	cfg->client_send_app_always = g_ascii_strcasecmp(v, "always") == 0;
	return true;
}

/* nuauth_accounting_socket_group: a group of this host. */
static bool read_accounting_group(struct nu_conf *conf, struct nuauth_config *cfg,
				  GError **error)
{
	struct group *gr;

	if (!cfg->accounting_group || !*cfg->accounting_group)
		return true;
	gr = getgrnam(cfg->accounting_group);
	if (!gr) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: nuauth_accounting_socket_group: no group `%s' on this host",
			    nu_conf_where(conf, "nuauth_accounting_socket_group"),
			    cfg->accounting_group);
		return false;
	}
	cfg->accounting_gid = gr->gr_gid;
	return true;
}

bool nuauth_config_read(struct nu_conf *conf, struct nuauth_config *cfg, GError **error)
{
	unsigned prio;
	bool acl_cache, push_to_client;

	cfg->nufw_listen_addr = g_strdup(nu_conf_get_str(conf, "nuauth_nufw_listen_addr", "127.0.0.1"));
	cfg->client_listen_addr = g_strdup(nu_conf_get_str(conf, "nuauth_client_listen_addr", "0.0.0.0"));
	cfg->tls_key = g_strdup(nu_conf_get_str(conf, "nuauth_tls_key", NUFW_CONFDIR "/nuauth-key.pem"));
	cfg->tls_cert = g_strdup(nu_conf_get_str(conf, "nuauth_tls_cert", NUFW_CONFDIR "/nuauth-cert.pem"));
	cfg->tls_cacert = g_strdup(nu_conf_get_str(conf, "nuauth_tls_cacert", NUFW_CONFDIR "/cacert.pem"));
	cfg->tls_crl = g_strdup(nu_conf_get_str(conf, "nuauth_tls_crl", ""));
	cfg->run_as = g_strdup(nu_conf_get_str(conf, "nuauth_run_as", NULL));
	cfg->module_path = g_strdup(nu_conf_get_str(conf, "nuauth_module_path", MODULEDIR));
	cfg->control_socket_set = nu_conf_get_str(conf, "nuauth_control_socket", NULL) != NULL;
	cfg->control_socket = g_strdup(nu_conf_get_str(conf, "nuauth_control_socket",
						       NUAUTH_CONTROL_SOCKET));
	cfg->accounting_socket = g_strdup(nu_conf_get_str(conf, "nuauth_accounting_socket", ""));
	cfg->accounting_group = g_strdup(nu_conf_get_str(conf, "nuauth_accounting_socket_group",
							 NULL));
	cfg->accounting_gid = (gid_t)-1;

	if (!get_uint(conf, "nuauth_gw_packet_port", 4128, 1, 65535, &cfg->gw_port, error) ||
	    !get_uint(conf, "nuauth_user_packet_port", 4129, 1, 65535, &cfg->user_port, error) ||
	    !get_uint(conf, "nuauth_packet_timeout", 15, 1, 3600, &cfg->packet_timeout, error) ||
	    !get_uint(conf, "nuauth_prio_to_nok", 1, 0, 2, &prio, error) ||
	    !get_bool(conf, "nuauth_push_to_client", true, &push_to_client, error) ||
	    !get_bool(conf, "nuauth_user_check_ip_equality", true, &cfg->user_check_ip_equality, error) ||
	    !get_bool(conf, "nuauth_reject_authenticated_drop", false,
		      &cfg->reject_authenticated_drop, error) ||
	    !get_bool(conf, "nuauth_reject_after_timeout", false, &cfg->reject_after_timeout, error) ||
	    !get_bool(conf, "nuauth_do_ip_authentication", false, &cfg->do_ip_authentication, error) ||
	    !get_uint(conf, "nuauth_single_user_client_limit", 0, 0, 1000000,
		      &cfg->single_user_client_limit, error) ||
	    !get_uint(conf, "nuauth_single_ip_client_limit", NUAUTH_DEFAULT_IP_CLIENT_LIMIT, 0,
		      1000000, &cfg->single_ip_client_limit, error) ||
	    !get_uint(conf, "nuauth_single_ip_prelogin_limit", NUAUTH_DEFAULT_IP_PRELOGIN_LIMIT, 0,
		      1000000, &cfg->single_ip_prelogin_limit, error) ||
	    !get_uint(conf, "nuauth_login_failure_limit", 5, 0, 1000000,
		      &cfg->login_failure_limit, error) ||
	    !get_uint(conf, "nuauth_login_failure_window", 60, 1, 86400,
		      &cfg->login_failure_window, error) ||
	    !get_uint(conf, "nuauth_login_lock_time", 30, 1, 86400, &cfg->login_lock_time, error) ||
	    !get_uint(conf, "nuauth_login_user_failure_limit", 20, 0, 1000000,
		      &cfg->login_user_failure_limit, error) ||
	    !get_uint(conf, "nuauth_login_known_address_time", 2592000, 0, 31536000,
		      &cfg->login_known_address_time, error) ||
	    !get_uint(conf, "nuauth_session_duration", 0, 0, 100000000, &cfg->session_duration, error) ||
	    !get_uint(conf, "nuauth_log_users", 9, 0, 15, &cfg->log_users, error) ||
	    !get_uint(conf, "nuauth_tls_request_cert", 0, 0, 2, &cfg->tls_request_cert, error) ||
	    !get_uint(conf, "nuauth_tls_auth_by_cert", 0, 0, 2, &cfg->tls_auth_by_cert, error) ||
	    !get_uint(conf, "nuauth_number_authcheckers", 4, 1, 64, &cfg->number_authcheckers,
		      error) ||
	    !get_uint(conf, "nuauth_user_groups_cache_ttl", 30, 0, 86400,
		      &cfg->user_groups_cache_ttl, error) ||
	    !get_uint(conf, "nuauth_ip_session_idle_timeout", 900, 0, 604800,
		      &cfg->ip_session_idle, error) ||
	    !get_uint(conf, "nuauth_ip_session_max_duration", 28800, 0, 31536000,
		      &cfg->ip_session_max, error) ||
	    !get_uint(conf, "nuauth_portal_mark", 0, 0, 0x7fffffff, &cfg->portal_mark, error) ||
	    !read_cert_login(conf, cfg, error) ||
	    !read_accounting_group(conf, cfg, error) ||
	    !read_mechanisms(conf, cfg, error) ||
	    !read_client_send_app(conf, cfg, error) ||
	    !read_gw_addrs(conf, cfg, error) ||
	    !read_http_listen(conf, "nuauth_metrics_listen", &cfg->metrics_addr,
			      &cfg->metrics_port, error) ||
	    !read_http_listen(conf, "nuauth_portal_listen", &cfg->portal_addr, &cfg->portal_port,
			      error) ||
	    !read_http_listen(conf, "nuauth_portal_redirect_listen", &cfg->redirect_addr,
			      &cfg->redirect_port, error) ||
	    !read_cluster(conf, cfg, error))
		return false;
	/* Where the redirect sends browsers: the login page by default. */
	if (cfg->portal_addr)
		cfg->portal_url = g_strdup_printf("https://%s%s%s:%u/",
						  strchr(cfg->portal_addr, ':') ? "[" : "",
						  cfg->portal_addr,
						  strchr(cfg->portal_addr, ':') ? "]" : "",
						  cfg->portal_port);
	if (nu_conf_get_str(conf, "nuauth_portal_url", NULL)) {
		g_free(cfg->portal_url);
		cfg->portal_url = g_strdup(nu_conf_get_str(conf, "nuauth_portal_url", NULL));
	}
	if (cfg->redirect_addr &&
	    (!cfg->portal_url || !g_str_has_prefix(cfg->portal_url, "https://") ||
	     strpbrk(cfg->portal_url, " \t\r\n\"<>"))) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: nuauth_portal_redirect_listen: it needs nuauth_portal_url, an "
			    "https:// URL (or nuauth_portal_listen)",
			    nu_conf_where(conf, "nuauth_portal_redirect_listen"));
		return false;
	}
	read_gw_names(conf, cfg);
	cfg->prio_to_nok = (int)prio;
	/* NuFW could cache ACL answers; with indexed ACLs a lookup costs less
	 * than a cache's would, so the key is known but has nothing to do. */
	if (!get_bool(conf, "nuauth_acl_cache", false, &acl_cache, error))
		return false;
	if (acl_cache)
		log_notice("nuauth_acl_cache: ACLs are indexed and need no cache: ignored");
	/* NuFW could wait for the clients' periodic announcements instead of
	 * asking them.  A claim now counts only when made for a packet that
	 * waits (correlate.c), so nuauth always asks. */
	if (nu_conf_where(conf, "nuauth_push_to_client"))
		log_warnx("%s: nuauth_push_to_client is ignored: nuauth always asks the clients "
			  "about a packet (push), since only a claim made for a packet that is "
			  "waiting counts%s", nu_conf_where(conf, "nuauth_push_to_client"),
			  push_to_client ? "" : " (0 is no longer possible)");
	/* The module lists (hooks.c: nuauth_hook_kinds). */
	for (unsigned h = 0; h < NUAUTH_HOOK_COUNT; h++)
		cfg->hook_modules[h] = g_strdup(nu_conf_get_str(conf, nuauth_hook_kinds[h].key,
								nuauth_hook_default(h, cfg)));
	return true;
}

void nuauth_config_clear(struct nuauth_config *cfg)
{
	g_free(cfg->nufw_listen_addr);
	g_free(cfg->client_listen_addr);
	g_free(cfg->tls_key);
	g_free(cfg->tls_cert);
	g_free(cfg->tls_cacert);
	g_free(cfg->tls_crl);
	g_free(cfg->module_path);
	g_free(cfg->run_as);
	for (unsigned h = 0; h < NUAUTH_HOOK_COUNT; h++)
		g_free(cfg->hook_modules[h]);
	g_free(cfg->control_socket);
	g_free(cfg->accounting_socket);
	g_free(cfg->accounting_group);
	g_free(cfg->metrics_addr);
	g_free(cfg->portal_addr);
	g_free(cfg->redirect_addr);
	g_free(cfg->portal_url);
	g_strfreev(cfg->gw_addrs);
	g_strfreev(cfg->gw_names);
	g_free(cfg->sasl_mechanisms);
	g_strfreev(cfg->cluster_endpoints);
	g_free(cfg->cluster_node);
	g_free(cfg->cluster_prefix);
	g_free(cfg->cluster_ca);
	g_free(cfg->cluster_cert);
	g_free(cfg->cluster_key);
	g_free(cfg->cluster_user);
	g_free(cfg->cluster_throttle_secret);
	g_free(cfg->cluster_password);
	memset(cfg, 0, sizeof(*cfg));
}
