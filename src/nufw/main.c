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
#include "log.h"
#include "packet.h"
#include "pending.h"
#include "proto.h"
#include "queue.h"
#include "tls.h"

#define TICK_MS 100
#define COPY_RANGE 128		/* enough for IPv6 with extension headers and TCP */

struct nufw {
	struct nufw_options opt;
	struct nufw_queue *queue;
	struct nufw_pending *pending;
	struct nufw_link *link;
	GMainLoop *loop;
	/* Counters: reported at exit and, later, to nuauthctl. */
	uint64_t asked, accepted, dropped, timed_out, table_full, unreachable;
	bool told_unreachable;	/* log "nuauth unreachable: dropping" once */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nufw [-d HOST] [-p PORT] [-q QUEUE] [-m] -k KEY -c CERT -a CA [-r CRL]\n"
		"            [-N] [-t SECONDS] [-T MAX] [-L LEN] [-v]... [-D] [-V]\n"
		"  -d HOST     nuauth's address or name (default 127.0.0.1)\n"
		"  -p PORT     nuauth's gateway port (default 4128)\n"
		"  -q QUEUE    NFQUEUE number (default 0)\n"
		"  -m          put nuauth's mark on accepted packets\n"
		"  -k, -c, -a  this gateway's key and certificate, and the CA of nuauth's\n"
		"  -r CRL      certificate revocation list\n"
		"  -N          do not check that nuauth's certificate names HOST\n"
		"  -t SECONDS  drop a packet nuauth has not decided by then (default 15)\n"
		"  -T MAX      packets waiting for nuauth at most (default 1000)\n"
		"  -L LEN      kernel queue length\n"
		"  -v          more verbose (repeat for more)\n"
		"  -D          run in the background, log to syslog\n"
		"  -V          print the version and exit\n");
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

static void ask_nuauth(struct nufw *fw, const struct nufw_queued_packet *pkt,
		       const struct nu_packet_info *info)
{
	struct nu_packet_ask ask = { .packet_id = pkt->id, .flow = info->flow,
				     .mark = pkt->mark, .icmp_type = info->icmp_type };
	uint8_t buf[256];
	size_t len;

	if (!nufw_link_is_up(fw->link)) {
		/* Fail closed: nobody can vouch for this packet. */
		if (!fw->told_unreachable)
			log_warnx("nuauth is unreachable: dropping new connections");
		fw->told_unreachable = true;
		fw->unreachable++;
		verdict(fw, pkt->id, false, false, 0);
		return;
	}
	if (!nufw_pending_add(fw->pending, pkt->id,
			      g_get_monotonic_time() + (gint64)fw->opt.packet_timeout * G_USEC_PER_SEC)) {
		fw->table_full++;
		log_debug("pending table full (%u): dropping packet %u", fw->opt.max_pending, pkt->id);
		verdict(fw, pkt->id, false, false, 0);
		return;
	}
	if (pkt->indev)
		if_indextoname(pkt->indev, ask.indev);
	if (pkt->outdev)
		if_indextoname(pkt->outdev, ask.outdev);
	if (nu_packet_ask_encode(buf, sizeof(buf), &ask, &len) != NU_PROTO_OK) {
		nufw_pending_take(fw->pending, pkt->id);
		verdict(fw, pkt->id, false, false, 0);
		return;
	}
	fw->asked++;
	nufw_link_send(fw->link, buf, len);
}

static void on_packet(const struct nufw_queued_packet *pkt, void *ctx)
{
	struct nufw *fw = ctx;
	struct nu_packet_info info;
	enum nu_packet_status st = nu_packet_parse(pkt->payload, pkt->payload_len, &info);

	if (st != NU_PACKET_OK) {
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

	fw->told_unreachable = false;
}

static void on_link_down(void *ctx)
{
	struct nufw *fw = ctx;
	uint32_t id;
	unsigned n = 0;

	/* Those questions are lost with the link: answer them now. */
	while (nufw_pending_take_any(fw->pending, &id)) {
		verdict(fw, id, false, false, 0);
		n++;
	}
	if (n)
		log_warnx("dropped %u packets that were waiting for nuauth", n);
}

static void on_decision(const struct nu_decision *d, void *ctx)
{
	struct nufw *fw = ctx;

	if (!nufw_pending_take(fw->pending, d->packet_id)) {
		log_debug("decision for packet %u, which no longer waits", d->packet_id);
		return;
	}
	/* REJECT is answered as a drop until nufw sends ICMP/RST itself. */
	verdict(fw, d->packet_id, d->verdict == NU_VERDICT_ACCEPT, d->has_mark, d->mark);
}

static gboolean on_tick(gpointer data)
{
	struct nufw *fw = data;
	gint64 now = g_get_monotonic_time();
	uint32_t id;

	while (nufw_pending_take_expired(fw->pending, now, &id)) {
		fw->timed_out++;
		log_debug("packet %u: no decision in %u s: dropped", id, fw->opt.packet_timeout);
		verdict(fw, id, false, false, 0);
	}
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
};

int main(int argc, char **argv)
{
	struct nufw fw = { .opt = {
		.nuauth_host = "127.0.0.1", .nuauth_port = "4128", .check_name = true,
		.packet_timeout = 15, .max_pending = 1000,
	} };
	int verbosity = LOG_NOTICE;
	bool daemonize = false;
	gnutls_certificate_credentials_t creds;
	unsigned long v;
	char *err = NULL;
	uint32_t id;
	int opt;

	while ((opt = getopt(argc, argv, "d:p:q:mk:c:a:r:Nt:T:L:vDVh")) != -1) {
		switch (opt) {
		case 'd': fw.opt.nuauth_host = optarg; break;
		case 'p':
			if (!parse_uint(optarg, 65535, &v) || v == 0)
				fatalx("-p: not a port number: `%s'", optarg);
			fw.opt.nuauth_port = optarg;
			break;
		case 'q':
			if (!parse_uint(optarg, 65535, &v))
				fatalx("-q: not a queue number (0-65535): `%s'", optarg);
			fw.opt.queue_num = (uint16_t)v;
			break;
		case 'm': fw.opt.set_mark = true; break;
		case 'k': fw.opt.key = optarg; break;
		case 'c': fw.opt.cert = optarg; break;
		case 'a': fw.opt.ca = optarg; break;
		case 'r': fw.opt.crl = optarg; break;
		case 'N': fw.opt.check_name = false; break;
		case 't':
			if (!parse_uint(optarg, 3600, &v) || v == 0)
				fatalx("-t: not a number of seconds (1-3600): `%s'", optarg);
			fw.opt.packet_timeout = (unsigned)v;
			break;
		case 'T':
			if (!parse_uint(optarg, 1000000, &v) || v == 0)
				fatalx("-T: not a packet count (1-1000000): `%s'", optarg);
			fw.opt.max_pending = (unsigned)v;
			break;
		case 'L':
			if (!parse_uint(optarg, 1000000, &v))
				fatalx("-L: not a queue length (0-1000000): `%s'", optarg);
			fw.opt.queue_maxlen = (uint32_t)v;
			break;
		case 'v': if (verbosity < LOG_DEBUG) verbosity++; break;
		case 'D': daemonize = true; break;
		case 'V': printf("nufw %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	nu_log_init("nufw", false, verbosity);
	signal(SIGPIPE, SIG_IGN);
	if (!fw.opt.key || !fw.opt.cert || !fw.opt.ca)
		fatalx("nufw needs its key (-k), its certificate (-c) and the CA (-a)");
	creds = nu_tls_creds_load(fw.opt.ca, fw.opt.cert, fw.opt.key, fw.opt.crl, &err);
	if (!creds)
		fatalx("%s", err);

	fw.queue = nufw_queue_open(fw.opt.queue_num, fw.opt.queue_maxlen, COPY_RANGE, &err);
	if (!fw.queue)
		fatalx("queue %u: %s", fw.opt.queue_num, err);
	if (daemonize) {
		if (daemon(0, 0) < 0)
			fatalx("cannot run in the background: %m");
		nu_log_init("nufw", true, verbosity);
	}
	fw.loop = g_main_loop_new(NULL, FALSE);
	fw.pending = nufw_pending_new(fw.opt.max_pending);
	fw.link = nufw_link_new(fw.opt.nuauth_host, fw.opt.nuauth_port, creds,
				fw.opt.check_name, &link_ops, &fw);
	g_unix_fd_add(nufw_queue_fd(fw.queue), G_IO_IN, on_queue_readable, &fw);
	g_timeout_add(TICK_MS, on_tick, &fw);
	g_unix_signal_add(SIGTERM, on_quit_signal, &fw);
	g_unix_signal_add(SIGINT, on_quit_signal, &fw);
	log_notice("nufw %s reading queue %u%s", PACKAGE_VERSION, fw.opt.queue_num,
		   fw.opt.set_mark ? ", marking accepted packets" : "");
	g_main_loop_run(fw.loop);

	/* Fail closed on the way out: no packet stays in the kernel's queue. */
	while (nufw_pending_take_any(fw.pending, &id))
		verdict(&fw, id, false, false, 0);
	log_notice("asked %" G_GUINT64_FORMAT ", accepted %" G_GUINT64_FORMAT
		   ", dropped %" G_GUINT64_FORMAT " (timed out %" G_GUINT64_FORMAT
		   ", table full %" G_GUINT64_FORMAT ", nuauth unreachable %" G_GUINT64_FORMAT
		   "), kernel queue overruns %" G_GUINT64_FORMAT,
		   fw.asked, fw.accepted, fw.dropped, fw.timed_out, fw.table_full,
		   fw.unreachable, nufw_queue_overruns(fw.queue));
	nufw_link_free(fw.link);
	nufw_pending_free(fw.pending);
	nufw_queue_close(fw.queue);
	gnutls_certificate_free_credentials(creds);
	g_main_loop_unref(fw.loop);
	return 0;
}
