/* Reloading nuauth (SIGHUP, nuauthctl reload): a fresh configuration and
 * set of modules, then each part told what changed. */
#include "config.h"
#include "nuauth.h"

#include "log.h"
#include "tls.h"

/* SIGHUP and nuauthctl reload: reads the configuration again and loads a
 * fresh set of modules (users, ACLs, marks).  Only if everything loads does
 * it replace the running set; otherwise nuauth goes on with what it had.
 * Listening addresses, certificates and the control socket take a restart. */
/* A setting read only at start: the new configuration keeps the running
 * one's (*dst, from the file read again, is replaced). */
static void keep(char **dst, const char *running)
{
	g_free(*dst);
	*dst = g_strdup(running);
}

bool nuauth_reload(struct nuauth_server *srv, const char *who, GError **error)
{
	struct nuauth_config cfg = { 0 };
	struct nuauth_modules *mods = NULL;
	struct nu_conf *conf = nu_conf_load(srv->conf_path, error);

	if (!conf || !nuauth_config_read(conf, &cfg, error) ||
	    !(mods = nuauth_modules_load(conf, &cfg, error))) {
		log_err("%s: %s: keeping the running configuration", who, (*error)->message);
		nuauth_config_clear(&cfg);
		nu_conf_free(conf);
		return false;
	}
	nu_conf_warn_unused(conf);
	if (g_strcmp0(cfg.nufw_listen_addr, srv->cfg.nufw_listen_addr) ||
	    g_strcmp0(cfg.client_listen_addr, srv->cfg.client_listen_addr) ||
	    cfg.gw_port != srv->cfg.gw_port || cfg.user_port != srv->cfg.user_port ||
	    g_strcmp0(cfg.tls_cert, srv->cfg.tls_cert) || g_strcmp0(cfg.tls_key, srv->cfg.tls_key) ||
	    g_strcmp0(cfg.tls_cacert, srv->cfg.tls_cacert) ||
	    g_strcmp0(cfg.control_socket, srv->cfg.control_socket) ||
	    g_strcmp0(cfg.accounting_socket, srv->cfg.accounting_socket) ||
	    g_strcmp0(cfg.accounting_group, srv->cfg.accounting_group) ||
	    g_strcmp0(cfg.metrics_addr, srv->cfg.metrics_addr) ||
	    g_strcmp0(cfg.portal_addr, srv->cfg.portal_addr) ||
	    cfg.portal_port != srv->cfg.portal_port ||
	    g_strcmp0(cfg.redirect_addr, srv->cfg.redirect_addr) ||
	    cfg.redirect_port != srv->cfg.redirect_port ||
	    g_strcmp0(cfg.portal_url, srv->cfg.portal_url) ||
	    cfg.metrics_port != srv->cfg.metrics_port)
		log_warnx("%s: listening addresses, certificates, the control and accounting "
			  "sockets, the metrics address and the login page's change only at "
			  "restart", who);
	/* The cluster's etcd client keeps what it was started with. */
	if (!cfg.cluster_endpoints != !srv->cfg.cluster_endpoints ||
	    (cfg.cluster_endpoints &&
	     (!g_strv_equal((const char *const *)cfg.cluster_endpoints,
			    (const char *const *)srv->cfg.cluster_endpoints) ||
	      g_strcmp0(cfg.cluster_node, srv->cfg.cluster_node) ||
	      g_strcmp0(cfg.cluster_prefix, srv->cfg.cluster_prefix))))
		log_warnx("%s: the nuauth_cluster_* keys change only at restart", who);
	/* Decisions run to completion on this thread; a login job on the
	 * pool holds a reference on the set it started with, which is
	 * unloaded when the last such job ends. */
	nuauth_modules_unref(srv->modules);
	srv->modules = mods;
	keep(&cfg.tls_cert, srv->cfg.tls_cert);
	keep(&cfg.tls_key, srv->cfg.tls_key);
	keep(&cfg.tls_cacert, srv->cfg.tls_cacert);
	keep(&cfg.nufw_listen_addr, srv->cfg.nufw_listen_addr);
	keep(&cfg.client_listen_addr, srv->cfg.client_listen_addr);
	cfg.gw_port = srv->cfg.gw_port;
	cfg.user_port = srv->cfg.user_port;
	keep(&cfg.control_socket, srv->cfg.control_socket);
	cfg.control_socket_set = srv->cfg.control_socket_set;
	keep(&cfg.accounting_socket, srv->cfg.accounting_socket);
	keep(&cfg.accounting_group, srv->cfg.accounting_group);
	cfg.accounting_gid = srv->cfg.accounting_gid;
	keep(&cfg.metrics_addr, srv->cfg.metrics_addr);
	cfg.metrics_port = srv->cfg.metrics_port;
	keep(&cfg.portal_addr, srv->cfg.portal_addr);
	cfg.portal_port = srv->cfg.portal_port;
	keep(&cfg.redirect_addr, srv->cfg.redirect_addr);
	cfg.redirect_port = srv->cfg.redirect_port;
	keep(&cfg.portal_url, srv->cfg.portal_url);
	nuauth_config_clear(&srv->cfg);
	srv->cfg = cfg;
	nuauth_login_guard_configure(srv);
	nuauth_workers_set_threads(srv->workers, srv->cfg.number_authcheckers);
	nuauth_ipauth_flush(srv->ipauth);
	nuauth_ipsessions_set_limits(srv->ipsessions, srv->cfg.ip_session_idle,
				     srv->cfg.ip_session_max);
	nuauth_client_needs_update(srv, who);
	nu_conf_free(srv->conf);
	srv->conf = conf;
	/* Revocations take effect now; others (a new CA, say) at restart. */
	if (srv->cfg.tls_crl && *srv->cfg.tls_crl) {
		GError *crl_error = NULL;

		if (!nu_tls_add_crl(srv->creds, srv->cfg.tls_crl, &crl_error)) {
			log_err("%s: %s: keeping the revocations read before", who,
				crl_error->message);
			g_error_free(crl_error);
		}
	}
	nuauth_connections_recheck_periods(srv->connections, srv);
	nuauth_gateways_recheck(srv, who);
	nuauth_clients_recheck(srv, who);
	log_notice("%s: configuration, users and ACLs reloaded", who);
	return true;
}
