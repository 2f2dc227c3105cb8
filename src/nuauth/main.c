/* nuauth: start-up, signals and the main loop. */
#include "config.h"
#include "nuauth.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>
#include <glib-unix.h>

#include "evloop.h"
#include "log.h"
#include "login_guard.h"
#include "notify.h"
#include "privdrop.h"
#include "tls.h"

#define DEFAULT_CONF SYSCONFDIR "/nufw/nuauth.conf"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nuauth [-c FILE] [-t] [-v]... [-D] [-V]\n"
		"  -c FILE  configuration file (default " DEFAULT_CONF ")\n"
		"  -t       check the configuration (keys, users, ACLs, periods,\n"
		"           certificates) and exit: 0 when it is good\n"
		"  -v       more verbose (repeat for more)\n"
		"  -D       run in the background, log to syslog\n"
		"  -V       print the version and exit\n"
		"Signals: SIGHUP reads the configuration, users and ACLs again (the running\n"
		"set stays when the new one has an error); SIGTERM exits.\n");
}

/* nuauth's own key, certificate (its role: TLS Web Server), CA and CRL, as
 * a start needs them; NULL with *error naming the key or file. */
static gnutls_certificate_credentials_t load_tls(const struct nuauth_config *cfg,
						 GError **error)
{
	gnutls_certificate_credentials_t creds;

	if (!nu_check_secret_file(cfg->tls_key, error)) {
		g_prefix_error(error, "nuauth_tls_key: ");
		return NULL;
	}
	creds = nu_tls_load_creds(cfg->tls_cacert, cfg->tls_cert, cfg->tls_key, cfg->tls_crl,
				  error);
	if (creds && !nu_tls_check_cert_file(cfg->tls_cert, GNUTLS_KP_TLS_WWW_SERVER, error)) {
		g_prefix_error(error, "nuauth_tls_cert: ");
		gnutls_certificate_free_credentials(creds);
		return NULL;
	}
	return creds;
}

/* nuauth.conf with its modules (and their users, ACLs and periods files)
 * into srv's conf, cfg and modules; false with *error. */
static bool load_config(struct nuauth_server *srv, const char *path, GError **error)
{
	srv->conf_path = path;
	if (!(srv->conf = nu_conf_load(path, error)) ||
	    !nuauth_config_read(srv->conf, &srv->cfg, error) ||
	    !(srv->modules = nuauth_modules_load(srv->conf, &srv->cfg, error)))
		return false;
	nu_conf_warn_unused(srv->conf);
	return true;
}

/* nuauth -t: loads everything a start would (keys, modules with their
 * users, ACLs and periods files, certificates), binds nothing. */
static int check_config(const char *path)
{
	struct nuauth_server srv = { 0 };
	GError *error = NULL;
	gnutls_certificate_credentials_t creds = NULL;
	int status = 1;

	if (load_config(&srv, path, &error) && (creds = load_tls(&srv.cfg, &error))) {
		printf("%s: configuration OK\n", path);
		status = 0;
	} else {
		fprintf(stderr, "nuauth: %s\n", error->message);
		g_error_free(error);
	}
	if (creds)
		gnutls_certificate_free_credentials(creds);
	nuauth_modules_unref(srv.modules);
	nuauth_config_clear(&srv.cfg);
	nu_conf_free(srv.conf);
	return status;
}

static gboolean on_hup(gpointer data)
{
	GError *error = NULL;

	if (!nuauth_reload(data, "SIGHUP", &error))
		g_error_free(error);
	return G_SOURCE_CONTINUE;
}

/* Every client and gateway holds a descriptor: take the most the system
 * allows, so that a crowd of idle connections cannot lock out the users. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise the open files limit");
	}
}

static gboolean on_quit_signal(gpointer data)
{
	struct nuauth_server *srv = data;

	log_notice("exiting on signal");
	g_main_loop_quit(srv->loop);
	return G_SOURCE_CONTINUE;
}

/* The command line into *conf_path, *verbosity, *daemonize and
 * *check_only; -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, const char **conf_path, int *verbosity,
		      bool *daemonize, bool *check_only)
{
	int opt;

	while ((opt = getopt(argc, argv, "c:tvDVh")) != -1) {
		switch (opt) {
		case 'c': *conf_path = optarg; break;
		case 't': *check_only = true; break;
		case 'v': if (*verbosity < LOG_DEBUG) (*verbosity)++; break;
		case 'D': *daemonize = true; break;
		case 'V': printf("nuauth %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* Another user's session takes an address (RADIUS after the address was
 * given to someone else, an administrator): the connections the old user
 * opened from it end, as at the old session's stop. */
static void address_session_replaced(const struct nuauth_ipsession *e, void *ctx)
{
	struct nuauth_server *srv = ctx;
	char text[INET6_ADDRSTRLEN];

	log_notice("address session of %s at %s (%s) replaced by another user's: %u "
		   "connection(s) ended", e->user, nu_addr_format(&e->addr, text, sizeof(text)),
		   e->origin, nuauth_connections_end_address(srv->connections, e->user, &e->addr));
}

/* The tables, the listening ports and the control socket; false with
 * *error when a port cannot be bound. */
static bool open_server(struct nuauth_server *srv, GError **error)
{
	srv->loop = g_main_loop_new(NULL, FALSE);
	srv->peer_log = nuauth_peer_log_new(PEER_LOG_BURST, PEER_LOG_REFILL_S,
					    PEER_LOG_INTERVAL_S, true);
	srv->correlator = nuauth_correlator_new(srv);
	srv->ipauth = nuauth_ipauth_new(srv);
	srv->ipsessions = nuauth_ipsessions_new();
	nuauth_ipsessions_on_replace(srv->ipsessions, address_session_replaced, srv);
	nuauth_ipsessions_set_limits(srv->ipsessions, srv->cfg.ip_session_idle,
				     srv->cfg.ip_session_max);
	srv->connections = nuauth_connections_new(srv);
	if (!nuauth_listen(srv, srv->cfg.nufw_listen_addr, srv->cfg.gw_port,
			   nuauth_gateway_accept, error) ||
	    !nuauth_listen(srv, srv->cfg.client_listen_addr, srv->cfg.user_port,
			   nuauth_client_accept, error))
		return false;
	srv->stats.start = g_get_real_time();
	if (!nuauth_control_start(srv, error)) {
		if (srv->cfg.control_socket_set) {
			g_prefix_error(error, "nuauth_control_socket: ");
			return false;
		}
		log_warnx("nuauth_control_socket: %s: nuauthctl cannot reach this nuauth",
			  (*error)->message);
		g_clear_error(error);
	}
	if (!nuauth_accounting_start(srv, error))
		return false;
	/* Bound now (it may be a privileged port), served from run(); the
	 * login page's certificate and key read now too. */
	return nuauth_metrics_bind(srv, error) && nuauth_portal_bind(srv, error);
}

/* Ports are bound and certificates read: nothing left that needs root.
 * (A SIGHUP later reads the users and ACLs as that user.) */
static void drop_root(const struct nuauth_server *srv)
{
	GError *error = NULL;

	if (srv->cfg.run_as) {
		if (!nu_become_user(srv->cfg.run_as, &error))
			fatalx("nuauth_run_as: %s", error->message);
		log_info("running as user %s", srv->cfg.run_as);
	} else if (geteuid() == 0) {
		log_notice("running as root: set nuauth_run_as to a user of its own");
	}
}

/* The main loop, until SIGTERM or SIGINT. */
static void run(struct nuauth_server *srv)
{
	GSource *watchdog;
	GError *error = NULL;

	/* After the fork of -D: the pool's threads belong to this process. */
	srv->workers = nuauth_workers_new(srv->cfg.number_authcheckers);
	/* Its thread too. */
	if (!nuauth_metrics_start(srv, &error) || !nuauth_portal_start(srv, &error))
		fatalx("%s", error->message);
	/* And the etcd client's. */
	if (!nuauth_cluster_start(srv, &error))
		fatalx("%s", error->message);
	nuauth_cluster_on_disconnect(srv->cluster, nuauth_clients_disconnect_user);
	nuauth_cluster_on_listing(srv->cluster, nuauth_control_listing);
	g_unix_signal_add(SIGTERM, on_quit_signal, srv);
	g_unix_signal_add(SIGINT, on_quit_signal, srv);
	g_unix_signal_add(SIGHUP, on_hup, srv);
	log_notice("nuauth %s ready: gateways on %s:%u, clients on %s:%u", PACKAGE_VERSION,
		   srv->cfg.nufw_listen_addr, srv->cfg.gw_port,
		   srv->cfg.client_listen_addr, srv->cfg.user_port);
	nu_notify("READY=1");
	watchdog = nu_notify_watchdog_start();
	g_main_loop_run(srv->loop);
	nu_source_cancel(&watchdog);
	nu_notify("STOPPING=1");
}

static void shut_down(struct nuauth_server *srv)
{
	/* The peers see their link end and reconnect to the next nuauth; the
	 * users' connections stay (an exit is not a logout). */
	while (srv->clients)
		nuauth_client_close(srv->clients->data, "nuauth exits");
	while (srv->gateways)
		nuauth_gateway_close(srv->gateways->data, "nuauth exits");
	/* The login page takes no new login: its password checks would go
	 * to the pool freed next. */
	nuauth_portal_refuse_new(srv);
	/* The jobs still running end (their results are only freed). */
	nuauth_workers_free(srv->workers);
	/* A control request waiting for the other nodes' answers is dropped
	 * while its question still exists (cluster_ask.c). */
	nuauth_control_stop(srv);
	/* The sessions' deletes were queued as the clients closed; the lease
	 * goes last. */
	nuauth_cluster_stop(srv);

	nuauth_metrics_stop(srv);
	nuauth_portal_stop(srv);
	nuauth_ipauth_free(srv->ipauth);
	nuauth_ipsessions_free(srv->ipsessions);
	nuauth_correlator_free(srv->correlator);
	nuauth_connections_free(srv->connections);
	nuauth_peers_free(srv->peers);
	nuauth_modules_unref(srv->modules);
	nu_login_guard_free(srv->login_guard);
	nuauth_peer_log_free(srv->peer_log);
	if (srv->prelogin)
		g_hash_table_destroy(srv->prelogin);
	gnutls_certificate_free_credentials(srv->creds);
	nuauth_config_clear(&srv->cfg);
	nu_conf_free(srv->conf);
	g_main_loop_unref(srv->loop);
}

int main(int argc, char **argv)
{
	const char *conf_path = DEFAULT_CONF;
	struct nuauth_server srv = { 0 };
	int verbosity = LOG_NOTICE, status;
	bool daemonize = false, check_only = false;
	GError *error = NULL;

	status = parse_args(argc, argv, &conf_path, &verbosity, &daemonize, &check_only);
	if (status >= 0)
		return status;
	nu_log_init("nuauth", false, verbosity);
	if (check_only)
		return check_config(conf_path);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	if (!load_config(&srv, conf_path, &error))
		fatalx("%s", error->message);
	nuauth_login_guard_configure(&srv);
	srv.peers = nuauth_peers_new();
	nuauth_client_needs_update(&srv, "start");
	if (!(srv.creds = load_tls(&srv.cfg, &error)) || !nuauth_sasl_global_init(&error) ||
	    !open_server(&srv, &error))
		fatalx("%s", error->message);
	drop_root(&srv);
	if (daemonize) {
		if (daemon(0, 0) < 0)
			fatalx("cannot run in the background: %m");
		nu_log_init("nuauth", true, verbosity);
	}
	run(&srv);
	shut_down(&srv);
	return 0;
}
