/* nufw: reads connection-opening packets from NFQUEUE, asks nuauth who owns
 * each flow, and gives the kernel the verdict by packet id. */
#include "config.h"
#include "nufw.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <glib.h>
#include <glib-unix.h>

#include "auth_link.h"
#include "conntrack.h"
#include "log.h"
#include "packet.h"
#include "pending.h"
#include "proto.h"
#include "queue.h"
#include "reject.h"
#include "tls.h"

#define TICK_MS 100
#define KERNEL_STATS_EVERY_MS 1000
/* Enough for IPv6 with extension headers and the TCP header. */
#define COPY_RANGE NUFW_PENDING_HEAD_MAX

struct nufw {
	struct nufw_options opt;
	struct nufw_queue *queue;
	struct nufw_pending *pending;
	struct nufw_link *link;
	struct nufw_rejecter *rejecter;
	struct nufw_conntrack *conntrack;	/* NULL when conntrack is unusable */
	gnutls_certificate_credentials_t creds;
	GMainLoop *loop;
	/* Counters, reported at exit (and later to nuauthctl). */
	uint64_t asked, joined, accepted, dropped, rejected, timed_out, table_full, unparsable;
	uint64_t kernel_queue_full, kernel_netlink_failed;
	uint64_t ends_reported, ends_lost, destroyed;
	bool link_was_up;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nufw [-d HOST] [-p PORT] [-q QUEUE] [-m] -k KEY -c CERT -a CA [-r CRL]\n"
		"            [-N] [-t SECONDS] [-T MAX] [-L LEN] [-C [-M]] [--fail-open]\n"
		"            [-v]... [-D] [-V]\n"
		"  -d HOST      nuauth's address or name (default 127.0.0.1)\n"
		"  -p PORT      nuauth's gateway port (default 4128)\n"
		"  -q QUEUE     NFQUEUE number (default 0)\n"
		"  -m           put nuauth's mark on accepted packets\n"
		"  -k, -c, -a   this gateway's key and certificate, and the CA of nuauth's\n"
		"  -r CRL       certificate revocation list\n"
		"  -N           do not check that nuauth's certificate names HOST\n"
		"  -t SECONDS   a packet nuauth has not decided by then gets the failure\n"
		"               policy's verdict (default 15)\n"
		"  -T MAX       packets waiting for nuauth at most (default 1000)\n"
		"  -L LEN       kernel queue length\n"
		"  -C           report the end of connections (with their byte counts) to\n"
		"               nuauth, from conntrack events\n"
		"  -M           with -C, only connections with a non-zero mark\n"
		"  --fail-open  accept, rather than drop, what cannot be decided: packets past\n"
		"               -t, packets that find the table or the kernel queue full\n"
		"  -v           more verbose (repeat for more)\n"
		"  -D           run in the background, log to syslog\n"
		"  -V           print the version and exit\n"
		"Signals: SIGHUP reloads the certificates and reconnects to nuauth;\n"
		"SIGTERM answers every waiting packet (failure policy) and exits.\n");
}

static bool parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, 10);
	return *text && !*end && errno == 0 && *out <= max && text[0] != '-';
}

static void verdict(struct nufw *fw, uint32_t id, bool accept, bool has_mark, uint32_t mark)
{
	if (nufw_queue_verdict(fw->queue, id, accept, has_mark && fw->opt.set_mark, mark) < 0)
		log_warn("verdict for packet %u", id);
	if (accept)
		fw->accepted++;
	else
		fw->dropped++;
}

/* The verdict when nuauth cannot decide: --fail-open or fail-closed. */
static void undecided(struct nufw *fw, uint32_t id)
{
	verdict(fw, id, fw->opt.fail_open, false, 0);
}

static void send_ask(const struct nu_packet_ask *ask, void *ctx)
{
	struct nufw *fw = ctx;
	uint8_t buf[256];
	size_t len;

	if (nu_packet_ask_encode(buf, sizeof(buf), ask, &len) != NU_PROTO_OK) {
		log_warnx("cannot encode the question for packet %u", ask->packet_id);
		return;	/* the packet expires with the failure policy */
	}
	fw->asked++;
	nufw_link_send(fw->link, buf, len);
}

static void ask_nuauth(struct nufw *fw, const struct nufw_queued_packet *pkt,
		       const struct nu_packet_info *info)
{
	struct nu_packet_ask ask = { .packet_id = pkt->id, .flow = info->flow,
				     .mark = pkt->mark, .icmp_type = info->icmp_type };
	bool up = nufw_link_is_up(fw->link);
	gint64 deadline = g_get_monotonic_time() + (gint64)fw->opt.packet_timeout * G_USEC_PER_SEC;

	if (pkt->indev)
		if_indextoname(pkt->indev, ask.indev);
	if (pkt->outdev)
		if_indextoname(pkt->outdev, ask.outdev);
	/* While nuauth is unreachable packets wait (up to -t) and are asked
	 * about once it is back. */
	switch (nufw_pending_add(fw->pending, &ask, pkt->payload, pkt->payload_len, deadline, up)) {
	case NUFW_PENDING_NEW_FLOW:
		if (up)
			send_ask(&ask, fw);
		break;
	case NUFW_PENDING_JOINED:
		fw->joined++;		/* a retransmission: its flow is being asked about */
		break;
	case NUFW_PENDING_FULL:
		fw->table_full++;
		log_debug("pending table full (%u): packet %u", fw->opt.max_pending, pkt->id);
		undecided(fw, pkt->id);
		break;
	case NUFW_PENDING_DUPLICATE:
		break;
	}
}

static void on_packet(const struct nufw_queued_packet *pkt, void *ctx)
{
	struct nufw *fw = ctx;
	struct nu_packet_info info;
	enum nu_packet_status st = nu_packet_parse(pkt->payload, pkt->payload_len, &info);

	if (st != NU_PACKET_OK) {
		/* Nothing to decide on: never let it through unasked. */
		fw->unparsable++;
		log_debug("packet %u: %s: dropped", pkt->id, nu_packet_strerror(st));
		verdict(fw, pkt->id, false, false, 0);
		return;
	}
	/* Only a connection's first packet needs a user; the rest of a TCP
	 * connection that reaches the queue is accepted as it is.  A SYN with
	 * FIN or RST opens nothing legitimate but some stacks take it as a
	 * SYN: drop it rather than let it pass unasked. */
	if (info.flow.proto == IPPROTO_TCP) {
		uint8_t f = info.tcp_flags;

		if ((f & NU_TCP_SYN) && (f & (NU_TCP_FIN | NU_TCP_RST))) {
			verdict(fw, pkt->id, false, false, 0);
			return;
		}
		if ((f & (NU_TCP_SYN | NU_TCP_ACK)) != NU_TCP_SYN) {
			verdict(fw, pkt->id, true, false, 0);
			return;
		}
	}
	ask_nuauth(fw, pkt, &info);
}

static gboolean on_queue_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct nufw *fw = data;

	if (nufw_queue_read(fw->queue, on_packet, fw) < 0) {
		log_warn("reading the queue failed");
		g_main_loop_quit(fw->loop);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void on_link_up(void *ctx)
{
	struct nufw *fw = ctx;
	unsigned n = nufw_pending_ask_all(fw->pending, send_ask, fw);

	if (n)
		log_notice("asking nuauth again about %u waiting connection(s)", n);
	fw->link_was_up = true;
}

static void on_link_down(void *ctx)
{
	struct nufw *fw = ctx;
	unsigned n = nufw_pending_count(fw->pending);

	/* The questions are lost with the link: ask again once it is back. */
	nufw_pending_forget_questions(fw->pending);
	log_warnx("nuauth is unreachable: new connections wait up to %u s, then are %s",
		  fw->opt.packet_timeout, fw->opt.fail_open ? "accepted (fail-open)" : "dropped");
	if (n)
		log_notice("%u packet(s) will be asked about again", n);
}

struct answer {
	struct nufw *fw;
	const struct nu_decision *d;
};

static void apply_decision(uint32_t id, const uint8_t *head, size_t head_len, void *ctx)
{
	struct answer *a = ctx;

	if (a->d->verdict == NU_VERDICT_REJECT) {
		a->fw->rejected++;
		if (a->fw->rejecter && nufw_reject_send(a->fw->rejecter, head, head_len) < 0)
			log_warn("cannot answer rejected packet %u", id);
	}
	verdict(a->fw, id, a->d->verdict == NU_VERDICT_ACCEPT, a->d->has_mark, a->d->mark);
}

static void on_decision(const struct nu_decision *d, void *ctx)
{
	struct nufw *fw = ctx;
	struct answer a = { fw, d };

	if (!nufw_pending_answer(fw->pending, d->packet_id, apply_decision, &a))
		log_debug("decision for packet %u, which no longer waits", d->packet_id);
}

static void on_destroy(const struct nu_flow *flow, void *ctx)
{
	struct nufw *fw = ctx;
	char text[NU_FLOW_STRLEN];

	nu_flow_format(flow, text, sizeof(text));
	if (!fw->conntrack) {
		log_warnx("nuauth asked to end %s, but conntrack is unavailable", text);
		return;
	}
	if (nufw_conntrack_destroy(fw->conntrack, flow) < 0) {
		if (errno != ENOENT)
			log_warn("cannot end %s", text);
		return;
	}
	fw->destroyed++;
	log_info("ended %s at nuauth's request", text);
}

static void on_conn_end(const struct nu_conn_end *end, void *ctx)
{
	struct nufw *fw = ctx;
	uint8_t buf[256];
	size_t len;

	if (!nufw_link_is_up(fw->link)) {
		fw->ends_lost++;
		return;
	}
	if (nu_conn_end_encode(buf, sizeof(buf), end, &len) == NU_PROTO_OK) {
		nufw_link_send(fw->link, buf, len);
		fw->ends_reported++;
	}
}

static gboolean on_conntrack_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct nufw *fw = data;

	if (nufw_conntrack_read(fw->conntrack) < 0) {
		log_warn("reading conntrack events failed: no more connection ends reported");
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void expired(uint32_t id, const uint8_t *head, size_t head_len, void *ctx)
{
	struct nufw *fw = ctx;

	fw->timed_out++;
	log_debug("packet %u: no decision in %u s", id, fw->opt.packet_timeout);
	undecided(fw, id);
}

/* Reports the kernel's own losses on this queue when they grow. */
static void check_kernel_drops(struct nufw *fw)
{
	uint64_t full, failed;

	if (!nufw_queue_kernel_drops(fw->queue, &full, &failed))
		return;
	if (full > fw->kernel_queue_full || failed > fw->kernel_netlink_failed)
		log_warnx("the kernel lost packets of queue %u: %" G_GUINT64_FORMAT
			  " more with the queue full (%s), %" G_GUINT64_FORMAT
			  " more it could not pass to nufw", fw->opt.queue_num,
			  full - fw->kernel_queue_full,
			  fw->opt.fail_open ? "accepted" : "dropped",
			  failed - fw->kernel_netlink_failed);
	fw->kernel_queue_full = full;
	fw->kernel_netlink_failed = failed;
}

static gboolean on_tick(gpointer data)
{
	struct nufw *fw = data;
	static unsigned ticks;

	nufw_pending_expire(fw->pending, g_get_monotonic_time(), expired, fw);
	if (++ticks % (KERNEL_STATS_EVERY_MS / TICK_MS) == 0)
		check_kernel_drops(fw);
	return G_SOURCE_CONTINUE;
}

static gboolean on_quit_signal(gpointer data)
{
	struct nufw *fw = data;

	log_notice("exiting on signal");
	g_main_loop_quit(fw->loop);
	return G_SOURCE_CONTINUE;
}

static const struct nufw_link_ops link_ops = {
	.on_up = on_link_up,
	.on_down = on_link_down,
	.on_decision = on_decision,
	.on_destroy = on_destroy,
};

static gnutls_certificate_credentials_t load_creds(const struct nufw_options *o, char **err)
{
	return nu_tls_creds_load(o->ca, o->cert, o->key, o->crl, err);
}

static void open_link(struct nufw *fw)
{
	fw->link = nufw_link_new(fw->opt.nuauth_host, fw->opt.nuauth_port, fw->creds,
				 fw->opt.check_name, &link_ops, fw);
}

/* SIGHUP: new certificates (a renewed one, a new CRL) and a new link. */
static gboolean on_hup(gpointer data)
{
	struct nufw *fw = data;
	char *err = NULL;
	gnutls_certificate_credentials_t creds = load_creds(&fw->opt, &err);

	if (!creds) {
		log_warnx("SIGHUP: keeping the current certificates: %s", err);
		g_free(err);
		return G_SOURCE_CONTINUE;
	}
	log_notice("SIGHUP: certificates reloaded, reconnecting to nuauth");
	nufw_link_free(fw->link);
	nufw_pending_forget_questions(fw->pending);
	gnutls_certificate_free_credentials(fw->creds);
	fw->creds = creds;
	open_link(fw);
	return G_SOURCE_CONTINUE;
}

static void parse_options(int argc, char **argv, struct nufw_options *o, int *verbosity,
			  bool *daemonize)
{
	static const struct option longopts[] = {
		{ "fail-open", no_argument, NULL, 'F' },
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
			if (!parse_uint(optarg, 65535, &v))
				fatalx("-q: not a queue number (0-65535): `%s'", optarg);
			o->queue_num = (uint16_t)v;
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
}

int main(int argc, char **argv)
{
	struct nufw fw = { .opt = {
		.nuauth_host = "127.0.0.1", .nuauth_port = "4128", .check_name = true,
		.packet_timeout = 15, .max_pending = 1000,
	} };
	int verbosity = LOG_NOTICE;
	bool daemonize = false;
	char *err = NULL;

	parse_options(argc, argv, &fw.opt, &verbosity, &daemonize);
	nu_log_init("nufw", false, verbosity);
	signal(SIGPIPE, SIG_IGN);
	if (!fw.opt.key || !fw.opt.cert || !fw.opt.ca)
		fatalx("nufw needs its key (-k), its certificate (-c) and the CA (-a)");
	fw.creds = load_creds(&fw.opt, &err);
	if (!fw.creds)
		fatalx("%s", err);

	fw.queue = nufw_queue_open(fw.opt.queue_num, fw.opt.queue_maxlen, COPY_RANGE,
				   fw.opt.fail_open, &err);
	if (!fw.queue)
		fatalx("queue %u: %s", fw.opt.queue_num, err);
	fw.rejecter = nufw_rejecter_new(&err);
	if (!fw.rejecter) {
		log_warnx("%s: rejected packets will be dropped silently", err);
		g_free(err);
	}
	fw.conntrack = nufw_conntrack_open(fw.opt.follow_conntrack, fw.opt.only_marked,
					   on_conn_end, &fw, &err);
	if (!fw.conntrack) {
		if (fw.opt.follow_conntrack)
			fatalx("-C: %s", err);
		log_warnx("%s: nuauth will not be able to end connections", err);
		g_free(err);
	}
	if (daemonize) {
		if (daemon(0, 0) < 0)
			fatalx("cannot run in the background: %m");
		nu_log_init("nufw", true, verbosity);
	}
	nufw_queue_kernel_drops(fw.queue, &fw.kernel_queue_full, &fw.kernel_netlink_failed);
	fw.loop = g_main_loop_new(NULL, FALSE);
	fw.pending = nufw_pending_new(fw.opt.max_pending);
	open_link(&fw);
	g_unix_fd_add(nufw_queue_fd(fw.queue), G_IO_IN, on_queue_readable, &fw);
	if (fw.conntrack && nufw_conntrack_fd(fw.conntrack) >= 0)
		g_unix_fd_add(nufw_conntrack_fd(fw.conntrack), G_IO_IN, on_conntrack_readable, &fw);
	g_timeout_add(TICK_MS, on_tick, &fw);
	g_unix_signal_add(SIGTERM, on_quit_signal, &fw);
	g_unix_signal_add(SIGINT, on_quit_signal, &fw);
	g_unix_signal_add(SIGHUP, on_hup, &fw);
	log_notice("nufw %s reading queue %u%s, %s", PACKAGE_VERSION, fw.opt.queue_num,
		   fw.opt.set_mark ? ", marking accepted packets" : "",
		   fw.opt.fail_open ? "fail-open" : "fail-closed");
	g_main_loop_run(fw.loop);

	/* No packet stays in the kernel's queue: each gets the failure
	 * policy's verdict. */
	nufw_pending_drain(fw.pending, expired, &fw);
	check_kernel_drops(&fw);
	log_notice("asked %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " retransmissions joined)"
		   ", accepted %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT
		   " (rejected %" G_GUINT64_FORMAT ", undecided in time %" G_GUINT64_FORMAT
		   ", table full %" G_GUINT64_FORMAT ", unparsable %" G_GUINT64_FORMAT
		   "), receive buffer overruns %" G_GUINT64_FORMAT
		   "; connection ends reported %" G_GUINT64_FORMAT " (lost %" G_GUINT64_FORMAT
		   "), connections ended for nuauth %" G_GUINT64_FORMAT,
		   fw.asked, fw.joined, fw.accepted, fw.dropped, fw.rejected, fw.timed_out,
		   fw.table_full, fw.unparsable, nufw_queue_overruns(fw.queue),
		   fw.ends_reported, fw.ends_lost, fw.destroyed);
	nufw_link_free(fw.link);
	nufw_pending_free(fw.pending);
	nufw_rejecter_free(fw.rejecter);
	nufw_conntrack_close(fw.conntrack);
	nufw_queue_close(fw.queue);
	gnutls_certificate_free_credentials(fw.creds);
	g_main_loop_unref(fw.loop);
	return 0;
}
