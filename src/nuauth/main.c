/* nuauth: start-up, signals and the main loop. */
#include "config.h"
#include "nuauth.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib-unix.h>

#include "log.h"
#include "tls.h"

#define DEFAULT_CONF SYSCONFDIR "/nufw/nuauth.conf"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nuauth [-c FILE] [-v]... [-D] [-V]\n"
		"  -c FILE  configuration file (default " DEFAULT_CONF ")\n"
		"  -v       more verbose (repeat for more)\n"
		"  -D       run in the background, log to syslog\n"
		"  -V       print the version and exit\n");
}

static void warn_unused(const char *key, const char *file, unsigned line, void *ctx)
{
	log_warnx("%s:%u: unknown key `%s' ignored", file, line, key);
}

static gboolean on_quit_signal(gpointer data)
{
	struct nuauth_server *srv = data;

	log_notice("exiting on signal");
	g_main_loop_quit(srv->loop);
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	const char *conf_path = DEFAULT_CONF;
	struct nuauth_server srv = { 0 };
	int verbosity = LOG_NOTICE;
	bool daemonize = false;
	GError *error = NULL;
	char *err = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "c:vDVh")) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'v': if (verbosity < LOG_DEBUG) verbosity++; break;
		case 'D': daemonize = true; break;
		case 'V': printf("nuauth %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	nu_log_init("nuauth", false, verbosity);
	signal(SIGPIPE, SIG_IGN);

	srv.conf = nu_conf_load(conf_path, &error);
	if (!srv.conf || !nuauth_config_read(srv.conf, &srv.cfg, &error) ||
	    !nuauth_modules_load(&srv.modules, srv.conf, &srv.cfg, &error))
		fatalx("%s", error->message);
	nu_conf_foreach_unused(srv.conf, warn_unused, NULL);

	srv.creds = nu_tls_creds_load(srv.cfg.tls_cacert, srv.cfg.tls_cert, srv.cfg.tls_key,
				      srv.cfg.tls_crl, &err);
	if (!srv.creds)
		fatalx("%s", err);
	if (!nuauth_sasl_global_init(&error))
		fatalx("%s", error->message);

	srv.loop = g_main_loop_new(NULL, FALSE);
	srv.correlator = nuauth_correlator_new(&srv);
	srv.connections = nuauth_connections_new();
	if (!nuauth_listen(&srv, srv.cfg.nufw_listen_addr, srv.cfg.gw_port,
			   nuauth_gateway_accept, &error) ||
	    !nuauth_listen(&srv, srv.cfg.client_listen_addr, srv.cfg.user_port,
			   nuauth_client_accept, &error))
		fatalx("%s", error->message);

	if (daemonize) {
		if (daemon(0, 0) < 0)
			fatalx("cannot run in the background: %m");
		nu_log_init("nuauth", true, verbosity);
	}
	g_unix_signal_add(SIGTERM, on_quit_signal, &srv);
	g_unix_signal_add(SIGINT, on_quit_signal, &srv);
	log_notice("nuauth %s ready: gateways on %s:%u, clients on %s:%u", PACKAGE_VERSION,
		   srv.cfg.nufw_listen_addr, srv.cfg.gw_port,
		   srv.cfg.client_listen_addr, srv.cfg.user_port);
	g_main_loop_run(srv.loop);

	/* Links still open are closed by the exit itself: the peers see the
	 * TCP connection end and reconnect to the next nuauth. */
	nuauth_correlator_free(srv.correlator);
	nuauth_connections_free(srv.connections);
	nuauth_modules_unload(&srv.modules);
	gnutls_certificate_free_credentials(srv.creds);
	nuauth_config_clear(&srv.cfg);
	nu_conf_free(srv.conf);
	g_main_loop_unref(srv.loop);
	return 0;
}
