/* nufw: reads connection-opening packets from NFQUEUE, asks nuauth who owns
 * each flow, and gives the kernel the verdict by packet id.  main.c parses
 * the options, starts one worker per queue and handles the signals. */
#include "config.h"
#include "nufw.h"
#include "conntrack.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib-unix.h>
#include <linux/capability.h>

#include "auth_link.h"
#include "error.h"
#include "expiry.h"
#include "sessions.h"
#include "evloop.h"
#include "log.h"
#include "notify.h"
#include "queue.h"
#include "privdrop.h"
#include "tls.h"
#include "worker.h"

struct nufw {
	struct nufw_options opt;
	struct nufw_worker *workers[NUFW_MAX_QUEUES];
	struct nufw_tables tables;	/* the workers' shared tables */
	unsigned nworkers;
	GPtrArray *creds;	/* every credential set loaded; the last is current */
	struct nufw_addrs *addrs;	/* nuauth's, NULL while its name does not resolve */
	GSource *resolve_timer;
	unsigned resolve_backoff_s;
	char *resolve_error;	/* logged once while it lasts */
	struct nufw_kernel_drops drops[NUFW_MAX_QUEUES];
	GSource *drops_timer;	/* check_kernel_drops every KERNEL_DROPS_EVERY_S */
	GMainLoop *loop;
};

#define KERNEL_DROPS_EVERY_S 1
#define RESOLVE_BACKOFF_MAX_S 30

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nufw [-d HOST] [-p PORT] [-q QUEUE|FIRST:LAST] [-m] -k KEY -c CERT -a CA\n"
		"            [-r CRL] [-N] [-t SECONDS] [-T MAX] [-L LEN] [-C [-M]] [--fail-open]\n"
		"            [--ct-mark] [--reject-with tcp-reset|icmp-admin-prohibited]\n"
		"            [-v]... [-D] [-V]\n"
		"  -d HOST      nuauth's address or name (default 127.0.0.1)\n"
		"  -p PORT      nuauth's gateway port (default 4128)\n"
		"  -q QUEUE     NFQUEUE number (default 0); FIRST:LAST reads each queue of the\n"
		"               range on a thread of its own (iptables --queue-balance FIRST:LAST)\n"
		"  -m           put nuauth's mark on accepted packets\n"
		"  --ct-mark    with -m, set the connection's mark in the verdict too, where\n"
		"               the kernel can (else nufw says so and CONNMARK rules are needed)\n"
		"  -k, -c, -a   this gateway's key and certificate, and the CA of nuauth's\n"
		"  -r CRL       certificate revocation list\n"
		"  -N           do not check that nuauth's certificate names HOST\n"
		"  -t SECONDS   a packet nuauth has not decided by then gets the failure\n"
		"               policy's verdict (default 15)\n"
		"  -T MAX       packets waiting for nuauth at most, per queue (default 1000)\n"
		"  -L LEN       kernel queue length\n"
		"  -C           report the end of connections (with their byte counts) to\n"
		"               nuauth, from conntrack events\n"
		"  -M           with -C, only connections with a non-zero mark\n"
		"  --fail-open  accept, rather than drop, what cannot be decided: packets past\n"
		"               -t, packets that find the table or the kernel queue full\n"
		"  --reject-with KIND  how a rejected packet's sender is told: tcp-reset\n"
		"               (default: a TCP reset, ICMP port unreachable for the rest, as\n"
		"               the destination would) or icmp-admin-prohibited (ICMP\n"
		"               administratively prohibited for every protocol)\n"
		"  -v           more verbose (repeat for more)\n"
		"  -D           run in the background, log to syslog\n"
		"  -V           print the version and exit\n"
		"Signals: SIGHUP reloads the certificates and reconnects to nuauth;\n"
		"SIGTERM answers every waiting packet (failure policy) and exits.\n"
		"SIGUSR1 stops reporting connection ends (-C) on a pair's backup, SIGUSR2\n"
		"reports them again (doc/gateway-pair.md).\n");
}

static bool parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, 10);
	return *text && !*end && errno == 0 && *out <= max && text[0] != '-';
}

/* "N" or "A:B" with A <= B and at most NUFW_MAX_QUEUES queues. */
static bool parse_queues(const char *text, struct nufw_options *o)
{
	gchar **parts = g_strsplit(text, ":", 3);
	unsigned long a, b;
	bool ok = parts[0] && parse_uint(parts[0], 65535, &a) &&
		  (!parts[1] || (!parts[2] && parse_uint(parts[1], 65535, &b)));

	if (ok && !parts[1])
		b = a;
	ok = ok && a <= b && b - a < NUFW_MAX_QUEUES;
	if (ok) {
		o->queue_first = (uint16_t)a;
		o->queue_last = (uint16_t)b;
	}
	g_strfreev(parts);
	return ok;
}

/* The gateway's certificate must be a TLS client's, or nuauth refuses it. */
static gnutls_certificate_credentials_t load_creds(const struct nufw_options *o, GError **error)
{
	gnutls_certificate_credentials_t creds = nu_tls_load_creds(o->ca, o->cert, o->key,
								   o->crl, error);

	if (creds && !nu_tls_check_cert_file(o->cert, GNUTLS_KP_TLS_WWW_CLIENT, error)) {
		gnutls_certificate_free_credentials(creds);
		return NULL;
	}
	return creds;
}

/* nuauth's name is resolved here, once per (re)connect cycle: at start and
 * at each SIGHUP.  While it does not resolve, this thread tries again with
 * a back-off and hands the addresses to the workers once it does. */
static bool resolve_nuauth(struct nufw *fw)
{
	GError *error = NULL;
	struct nufw_addrs *a = nufw_addrs_resolve(fw->opt.nuauth_host, fw->opt.nuauth_port,
						  &error);

	if (!a) {
		if (g_strcmp0(error->message, fw->resolve_error) != 0)
			log_warnx("%s (retrying)", error->message);
		g_free(fw->resolve_error);
		fw->resolve_error = nu_error_take_message(error);
		return false;
	}
	if (fw->resolve_error)
		log_notice("nuauth's name %s resolves now", fw->opt.nuauth_host);
	g_clear_pointer(&fw->resolve_error, g_free);
	nufw_addrs_unref(fw->addrs);
	fw->addrs = a;
	return true;
}

static gboolean on_resolve_retry(gpointer data)
{
	struct nufw *fw = data;

	if (!resolve_nuauth(fw)) {
		fw->resolve_backoff_s = MIN(fw->resolve_backoff_s * 2, RESOLVE_BACKOFF_MAX_S);
		g_source_unref(fw->resolve_timer);
		fw->resolve_timer = nu_timeout(fw->resolve_backoff_s * 1000, on_resolve_retry, fw);
		return G_SOURCE_REMOVE;
	}
	g_clear_pointer(&fw->resolve_timer, g_source_unref);
	for (unsigned i = 0; i < fw->nworkers; i++)
		nufw_worker_set_addrs(fw->workers[i], fw->addrs);
	return G_SOURCE_REMOVE;
}

static void retry_resolve_later(struct nufw *fw)
{
	if (fw->resolve_timer)
		return;
	fw->resolve_backoff_s = 1;
	fw->resolve_timer = nu_timeout(fw->resolve_backoff_s * 1000, on_resolve_retry, fw);
}

/* The kernel's own losses, for every queue in one read of the proc file,
 * logged when they grow. */
static void check_kernel_drops(struct nufw *fw)
{
	struct nufw_kernel_drops now[NUFW_MAX_QUEUES];

	if (!nufw_queue_kernel_drops(fw->opt.queue_first, fw->opt.queue_last, now))
		return;
	for (unsigned i = 0; i < fw->nworkers; i++) {
		struct nufw_kernel_drops *was = &fw->drops[i];

		if (!now[i].seen)
			continue;
		if (was->seen && (now[i].queue_full > was->queue_full ||
				  now[i].netlink_failed > was->netlink_failed))
			log_warnx("the kernel lost packets of queue %u: %" G_GUINT64_FORMAT
				  " more with the queue full (%s), %" G_GUINT64_FORMAT
				  " more it could not pass to nufw", fw->opt.queue_first + i,
				  now[i].queue_full - was->queue_full,
				  fw->opt.fail_open ? "accepted" : "dropped",
				  now[i].netlink_failed - was->netlink_failed);
		*was = now[i];
	}
}

static gboolean on_kernel_drops_timer(gpointer data)
{
	check_kernel_drops(data);
	return G_SOURCE_CONTINUE;
}

static gboolean on_quit_signal(gpointer data)
{
	struct nufw *fw = data;

	log_notice("exiting on signal");
	g_main_loop_quit(fw->loop);
	return G_SOURCE_CONTINUE;
}

/* SIGUSR1 and SIGUSR2: a gateway pair's notify script (conf/ha) says this
 * gateway is a backup (ends of connections are no longer reported: its
 * table is a copy) or the master (they are again). */
static gboolean on_usr1(gpointer data)
{
	(void)data;
	nufw_conntrack_pause_ends(true);
	log_notice("SIGUSR1: backup of a pair, connection ends not reported");
	return G_SOURCE_CONTINUE;
}

static gboolean on_usr2(gpointer data)
{
	(void)data;
	nufw_conntrack_pause_ends(false);
	log_notice("SIGUSR2: master of a pair, connection ends reported");
	return G_SOURCE_CONTINUE;
}

/* SIGHUP: new certificates (a renewed one, a new CRL) and new links.  The
 * old credentials stay allocated until exit: a worker may still be using
 * them while it switches. */
static gboolean on_hup(gpointer data)
{
	struct nufw *fw = data;
	GError *error = NULL;
	gnutls_certificate_credentials_t creds = load_creds(&fw->opt, &error);

	if (!creds) {
		log_warnx("SIGHUP: keeping the current certificates: %s", error->message);
		g_error_free(error);
		return G_SOURCE_CONTINUE;
	}
	log_notice("SIGHUP: certificates reloaded, reconnecting to nuauth");
	g_ptr_array_add(fw->creds, creds);
	/* A new cycle: nuauth may have moved.  If the name fails now, the
	 * links keep the addresses they had. */
	if (!resolve_nuauth(fw) && !fw->addrs)
		retry_resolve_later(fw);
	for (unsigned i = 0; i < fw->nworkers; i++)
		nufw_worker_reload(fw->workers[i], creds, fw->addrs);
	return G_SOURCE_CONTINUE;
}

static void parse_options(int argc, char **argv, struct nufw_options *o, int *verbosity,
			  bool *daemonize)
{
	static const struct option longopts[] = {
		{ "fail-open", no_argument, NULL, 'F' },
		{ "ct-mark", no_argument, NULL, 'K' },
		{ "reject-with", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int opt;

	while ((opt = getopt_long(argc, argv, "d:p:q:mk:c:a:r:Nt:T:L:CMvDVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd': o->nuauth_host = optarg; break;
		case 'p':
			if (!parse_uint(optarg, 65535, &v) || v == 0)
				fatalx("-p: not a port number: `%s'", optarg);
			o->nuauth_port = optarg;
			break;
		case 'q':
			if (!parse_queues(optarg, o))
				fatalx("-q: expected a queue number or FIRST:LAST (at most %u queues), got `%s'",
				       NUFW_MAX_QUEUES, optarg);
			break;
		case 'm': o->set_mark = true; break;
		case 'k': o->key = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'r': o->crl = optarg; break;
		case 'N': o->check_name = false; break;
		case 't':
			if (!parse_uint(optarg, 3600, &v) || v == 0)
				fatalx("-t: not a number of seconds (1-3600): `%s'", optarg);
			o->packet_timeout = (unsigned)v;
			break;
		case 'T':
			if (!parse_uint(optarg, 1000000, &v) || v == 0)
				fatalx("-T: not a packet count (1-1000000): `%s'", optarg);
			o->max_pending = (unsigned)v;
			break;
		case 'L':
			if (!parse_uint(optarg, 1000000, &v))
				fatalx("-L: not a queue length (0-1000000): `%s'", optarg);
			o->queue_maxlen = (uint32_t)v;
			break;
		case 'F': o->fail_open = true; break;
		case 'K': o->ct_mark = true; break;
		case 'R':
			if (!nufw_reject_kind_parse(optarg, &o->reject_with))
				fatalx("--reject-with: expected tcp-reset or icmp-admin-prohibited, got `%s'",
				       optarg);
			break;
		case 'C': o->follow_conntrack = true; break;
		case 'M': o->only_marked = true; break;
		case 'v': if (*verbosity < LOG_DEBUG) (*verbosity)++; break;
		case 'D': *daemonize = true; break;
		case 'V': printf("nufw %s\n", PACKAGE_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	if (o->only_marked && !o->follow_conntrack)
		fatalx("-M only makes sense with -C");
	if (o->ct_mark && !o->set_mark)
		fatalx("--ct-mark only makes sense with -m");
}

static void log_totals(struct nufw *fw)
{
	struct nufw_worker_stats t = { 0 };
	uint64_t overruns = 0;

	for (unsigned i = 0; i < fw->nworkers; i++) {
		const struct nufw_worker_stats *s = nufw_worker_stats(fw->workers[i]);

		t.asked += s->asked;
		t.joined += s->joined;
		t.accepted += s->accepted;
		t.dropped += s->dropped;
		t.rejected += s->rejected;
		t.timed_out += s->timed_out;
		t.table_full += s->table_full;
		t.unparsable += s->unparsable;
		t.ends_reported += s->ends_reported;
		t.ends_lost += s->ends_lost;
		t.destroyed += s->destroyed;
		t.verdict_messages += s->verdict_messages;
		t.batched += s->batched;
		t.verdicts_refused += s->verdicts_refused;
		t.verdicts_lost += s->verdicts_lost;
		overruns += nufw_worker_overruns(fw->workers[i]);
	}
	log_notice("asked %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " retransmissions joined)"
		   ", accepted %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT
		   " (rejected %" G_GUINT64_FORMAT ", undecided in time %" G_GUINT64_FORMAT
		   ", table full %" G_GUINT64_FORMAT ", unparsable %" G_GUINT64_FORMAT
		   "), receive buffer overruns %" G_GUINT64_FORMAT
		   "; connection ends reported %" G_GUINT64_FORMAT " (lost %" G_GUINT64_FORMAT
		   "), connections ended for nuauth %" G_GUINT64_FORMAT,
		   t.asked, t.joined, t.accepted, t.dropped, t.rejected, t.timed_out,
		   t.table_full, t.unparsable, overruns, t.ends_reported, t.ends_lost, t.destroyed);
	log_notice("verdict messages %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
		   " packets answered in batches), refused by the kernel for a moment %"
		   G_GUINT64_FORMAT ", lost %" G_GUINT64_FORMAT, t.verdict_messages, t.batched,
		   t.verdicts_refused, t.verdicts_lost);
}

/* The key (a private file), this gateway's certificate and the CA: fatal
 * when one is missing or does not load.  Returns the credentials, also kept
 * in fw->creds. */
static gnutls_certificate_credentials_t load_first_creds(struct nufw *fw)
{
	gnutls_certificate_credentials_t creds;
	GError *error = NULL;

	if (!fw->opt.key || !fw->opt.cert || !fw->opt.ca)
		fatalx("nufw needs its key (-k), its certificate (-c) and the CA (-a)");
	if (!nu_check_secret_file(fw->opt.key, &error))
		fatalx("-k: %s", error->message);
	creds = load_creds(&fw->opt, &error);
	if (!creds)
		fatalx("%s", error->message);
	fw->creds = g_ptr_array_new_with_free_func((GDestroyNotify)gnutls_certificate_free_credentials);
	g_ptr_array_add(fw->creds, creds);
	return creds;
}

/* One worker per queue.  Every queue is bound before anything runs, so that
 * a queue another process holds stops nufw at start. */
static void open_workers(struct nufw *fw, gnutls_certificate_credentials_t creds)
{
	GError *error = NULL;

	fw->tables.expiry = nufw_expiry_new();
	fw->tables.sessions = nufw_sessions_new();
	for (unsigned q = fw->opt.queue_first; q <= fw->opt.queue_last; q++) {
		struct nufw_worker *w = nufw_worker_new(&fw->opt, (uint16_t)q,
							q == fw->opt.queue_first, creds, fw->addrs,
							&fw->tables, &error);
		if (!w)
			fatalx("queue %u: %s", q, error->message);
		fw->workers[fw->nworkers++] = w;
	}
}

/* The queues, conntrack and raw sockets are open: from here on nufw needs
 * only CAP_NET_ADMIN (verdicts, conntrack deletions) and CAP_NET_RAW
 * (reject answers).  The worker threads inherit this. */
static void drop_capabilities(void)
{
	GError *error = NULL;

	if (!nu_keep_only_capabilities(UINT64_C(1) << CAP_NET_ADMIN | UINT64_C(1) << CAP_NET_RAW,
				       &error))
		fatalx("%s", error->message);
}

/* The signals are handled here, by GLib: the worker threads start with them
 * blocked (threads inherit the mask), so that none of their system calls is
 * interrupted. */
static void start_workers(struct nufw *fw)
{
	sigset_t handled;

	sigemptyset(&handled);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGHUP);
	sigaddset(&handled, SIGUSR1);
	sigaddset(&handled, SIGUSR2);
	g_unix_signal_add(SIGTERM, on_quit_signal, fw);
	g_unix_signal_add(SIGINT, on_quit_signal, fw);
	g_unix_signal_add(SIGHUP, on_hup, fw);
	g_unix_signal_add(SIGUSR1, on_usr1, fw);
	g_unix_signal_add(SIGUSR2, on_usr2, fw);
	pthread_sigmask(SIG_BLOCK, &handled, NULL);
	for (unsigned i = 0; i < fw->nworkers; i++)
		nufw_worker_start(fw->workers[i]);
	pthread_sigmask(SIG_UNBLOCK, &handled, NULL);
}

static void log_started(const struct nufw_options *o)
{
	if (o->queue_first == o->queue_last)
		log_notice("nufw %s reading queue %u%s, %s", PACKAGE_VERSION, o->queue_first,
			   o->set_mark ? ", marking accepted packets" : "",
			   o->fail_open ? "fail-open" : "fail-closed");
	else
		log_notice("nufw %s reading queues %u to %u%s, %s", PACKAGE_VERSION,
			   o->queue_first, o->queue_last,
			   o->set_mark ? ", marking accepted packets" : "",
			   o->fail_open ? "fail-open" : "fail-closed");
}

/* After the main loop: every worker answers its waiting packets and ends,
 * the totals are logged, everything is freed. */
static void shut_down(struct nufw *fw)
{
	for (unsigned i = 0; i < fw->nworkers; i++)
		nufw_worker_stop(fw->workers[i]);
	check_kernel_drops(fw);
	nu_source_cancel(&fw->drops_timer);
	nu_source_cancel(&fw->resolve_timer);
	log_totals(fw);
	for (unsigned i = 0; i < fw->nworkers; i++)
		nufw_worker_free(fw->workers[i]);
	nufw_expiry_free(fw->tables.expiry);
	nufw_sessions_free(fw->tables.sessions);
	g_ptr_array_free(fw->creds, TRUE);
	nufw_addrs_unref(fw->addrs);
	g_free(fw->resolve_error);
	g_main_loop_unref(fw->loop);
}

int main(int argc, char **argv)
{
	struct nufw fw = { .opt = {
		.nuauth_host = "127.0.0.1", .nuauth_port = "4128", .check_name = true,
		.packet_timeout = 15, .max_pending = 1000,
	} };
	int verbosity = LOG_NOTICE;
	bool daemonize = false;
	gnutls_certificate_credentials_t creds;
	GSource *watchdog;

	parse_options(argc, argv, &fw.opt, &verbosity, &daemonize);
	nu_log_init("nufw", false, verbosity);
	signal(SIGPIPE, SIG_IGN);
	creds = load_first_creds(&fw);
	resolve_nuauth(&fw);
	open_workers(&fw, creds);
	drop_capabilities();
	if (daemonize) {
		if (daemon(0, 0) < 0)
			fatalx("cannot run in the background: %m");
		nu_log_init("nufw", true, verbosity);
	}
	fw.loop = g_main_loop_new(NULL, FALSE);
	if (!fw.addrs)
		retry_resolve_later(&fw);
	check_kernel_drops(&fw);
	fw.drops_timer = nu_timeout(KERNEL_DROPS_EVERY_S * 1000, on_kernel_drops_timer, &fw);
	start_workers(&fw);
	log_started(&fw.opt);
	nu_notify("READY=1");
	watchdog = nu_notify_watchdog_start();
	g_main_loop_run(fw.loop);
	nu_source_cancel(&watchdog);
	nu_notify("STOPPING=1");
	shut_down(&fw);
	return 0;
}
