/* The packet path of one queue: read, parse, ask nuauth, answer the kernel.
 * Each worker owns its queue socket, its link to nuauth, its pending table
 * and its main loop, on a thread of its own, so that with `--queue-balance`
 * the work spreads over the cores.  The queues share only the table of
 * connections with an end time (expiry.c). */
#include "config.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <net/if.h>
#include <glib.h>

#include "auth_link.h"
#include "conntrack.h"
#include "evloop.h"
#include "expiry.h"
#include "ifnames.h"
#include "log.h"
#include "packet.h"
#include "pending.h"
#include "proto.h"
#include "queue.h"
#include "reject.h"
#include "sessions.h"
#include "tls.h"
#include "verdicts.h"

#define TICK_MS 100
/* GW_STATS to nuauth (its metrics): this often, and when the link is up. */
#define GW_STATS_EVERY_MS 2000
/* Enough for IPv6 with extension headers and the TCP header. */
#define COPY_RANGE NUFW_PENDING_HEAD_MAX

struct nufw_worker {
	const struct nufw_options *opt;
	uint16_t queue_num;
	struct nufw_queue *queue;
	struct nufw_verdicts *verdicts;
	struct nufw_ifnames *ifnames;
	struct nufw_addrs *addrs;	/* nuauth's, from main.c; NULL until resolved */
	struct nufw_pending *pending;
	/* Accepted connections that end at a time, and by client session:
	 * main.c's tables, shared by every worker. */
	struct nufw_expiry *expiry;
	struct nufw_sessions *sessions;
	/* One link per nuauth node of -d (doc/cluster.md): a question goes to
	 * every node whose link is up; the node that owns the packet's address
	 * decides, the others answer "not mine" (NOT_OWNER), and a packet
	 * every asked node disowns gets their verdict (drop or reject). */
	char **nodes;
	unsigned n_links;
	struct nufw_link *links[NUFW_NODES_MAX];
	struct link_ctx {
		struct nufw_worker *w;
		unsigned node;
	} link_ctx[NUFW_NODES_MAX];
	struct nufw_rejecter *rejecter;
	struct nufw_conntrack *conntrack;	/* NULL when conntrack is unusable */
	gnutls_certificate_credentials_t creds;
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	GSource *queue_source, *conntrack_source, *tick_source, *flush_source;
	GSource *stats_source;	/* send_stats every GW_STATS_EVERY_MS */
	struct nufw_worker_stats stats;
};

static gboolean on_flush(gpointer data)
{
	struct nufw_worker *w = data;

	g_clear_pointer(&w->flush_source, g_source_unref);
	/* On failure the tick tries again. */
	nufw_verdicts_flush(w->verdicts);
	return G_SOURCE_REMOVE;
}

/* Verdicts are recorded and sent once this turn of the loop is over, so
 * that those given together can share one message. */
static void verdict(struct nufw_worker *w, uint32_t id, bool accept, bool has_mark, uint32_t mark)
{
	nufw_verdicts_set(w->verdicts, id, accept, has_mark && w->opt->set_mark, mark);
	if (!w->flush_source)
		w->flush_source = nu_idle_high(on_flush, w);
	if (accept)
		w->stats.accepted++;
	else
		w->stats.dropped++;
}

/* The verdict when nuauth cannot decide: --fail-open or fail-closed. */
static void undecided(struct nufw_worker *w, uint32_t id)
{
	verdict(w, id, w->opt->fail_open, false, 0);
}

/* The nodes whose link is up, a bit each. */
static uint32_t links_up(const struct nufw_worker *w)
{
	uint32_t up = 0;

	for (unsigned i = 0; i < w->n_links; i++)
		if (nufw_link_is_up(w->links[i]))
			up |= 1u << i;
	return up;
}

static bool any_link_up(const struct nufw_worker *w)
{
	return links_up(w) != 0;
}

/* msg to every node whose link is up. */
static void send_to_all(struct nufw_worker *w, const uint8_t *msg, size_t len)
{
	for (unsigned i = 0; i < w->n_links; i++)
		if (nufw_link_is_up(w->links[i]))
			nufw_link_send(w->links[i], msg, len);
}

/* only: the one link to ask (a node that came up), or NULL: all. */
static void send_ask_to(struct nufw_worker *w, struct nufw_link *only,
			const struct nu_packet_ask *ask)
{
	uint8_t buf[256];
	size_t len;

	if (nu_packet_ask_encode(buf, sizeof(buf), ask, &len) != NU_PROTO_OK) {
		log_warnx("cannot encode the question for packet %u", ask->packet_id);
		return;	/* the packet expires with the failure policy */
	}
	w->stats.asked++;
	if (only)
		nufw_link_send(only, buf, len);
	else
		send_to_all(w, buf, len);
}

static void send_ask(const struct nu_packet_ask *ask, void *ctx)
{
	send_ask_to(ctx, NULL, ask);
}

static void ask_nuauth(struct nufw_worker *w, const struct nufw_queued_packet *pkt,
		       const struct nu_packet_info *info)
{
	struct nu_packet_ask ask = { .packet_id = pkt->id, .flow = info->flow,
				     .mark = pkt->mark, .icmp_type = info->icmp_type };
	uint32_t up = links_up(w);
	gint64 now = g_get_monotonic_time();
	gint64 deadline = now + (gint64)w->opt->packet_timeout * G_USEC_PER_SEC;

	G_STATIC_ASSERT(sizeof(ask.indev) == IF_NAMESIZE && sizeof(ask.outdev) == IF_NAMESIZE);
	nufw_ifnames_get(w->ifnames, pkt->indev, ask.indev, now);
	nufw_ifnames_get(w->ifnames, pkt->outdev, ask.outdev, now);
	G_STATIC_ASSERT(sizeof(ask.physindev) == IF_NAMESIZE &&
			sizeof(ask.physoutdev) == IF_NAMESIZE);
	nufw_ifnames_get(w->ifnames, pkt->physindev, ask.physindev, now);
	nufw_ifnames_get(w->ifnames, pkt->physoutdev, ask.physoutdev, now);
	ask.has_src_mac = pkt->has_src_mac;
	memcpy(ask.src_mac, pkt->src_mac, sizeof(ask.src_mac));
	/* While nuauth is unreachable packets wait (up to -t) and are asked
	 * about once it is back. */
	switch (nufw_pending_add(w->pending, &ask, pkt->payload, pkt->payload_len, deadline, up)) {
	case NUFW_PENDING_NEW_FLOW:
		if (up)
			send_ask(&ask, w);
		break;
	case NUFW_PENDING_JOINED:
		w->stats.joined++;		/* a retransmission: its flow is being asked about */
		break;
	case NUFW_PENDING_FULL:
		w->stats.table_full++;
		log_debug("pending table full (%u): packet %u", w->opt->max_pending, pkt->id);
		undecided(w, pkt->id);
		break;
	case NUFW_PENDING_DUPLICATE:
		break;
	}
}

static void on_packet(const struct nufw_queued_packet *pkt, void *ctx)
{
	struct nufw_worker *w = ctx;
	struct nu_packet_info info;
	enum nu_packet_status st = nu_packet_parse(pkt->payload, pkt->payload_len, &info);

	nufw_verdicts_received(w->verdicts, pkt->id);
	if (st != NU_PACKET_OK) {
		/* Nothing to decide on: never let it through unasked. */
		w->stats.unparsable++;
		log_debug("packet %u: %s: dropped", pkt->id, nu_packet_strerror(st));
		verdict(w, pkt->id, false, false, 0);
		return;
	}
	/* Only a connection's first packet needs a user; the rest of a TCP
	 * connection that reaches the queue is accepted as it is.  A SYN with
	 * FIN or RST opens nothing legitimate but some stacks take it as a
	 * SYN: drop it rather than let it pass unasked. */
	if (info.flow.proto == IPPROTO_TCP) {
		uint8_t f = info.tcp_flags;

		if ((f & NU_TCP_SYN) && (f & (NU_TCP_FIN | NU_TCP_RST))) {
			verdict(w, pkt->id, false, false, 0);
			return;
		}
		if ((f & (NU_TCP_SYN | NU_TCP_ACK)) != NU_TCP_SYN) {
			verdict(w, pkt->id, true, false, 0);
			return;
		}
	}
	ask_nuauth(w, pkt, &info);
}

static gboolean on_queue_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct nufw_worker *w = data;

	(void)fd;
	(void)cond;
	if (nufw_queue_read(w->queue, on_packet, w) < 0) {
		/* Without its queue the worker has nothing to do: nufw stops,
		 * and the rule's --queue-bypass (or not) decides what passes. */
		log_warn("queue %u: reading failed", w->queue_num);
		g_clear_pointer(&w->queue_source, g_source_unref);
		raise(SIGTERM);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* GW_STATS: this queue's counters, and the kernel's losses on it, for
 * nuauth's metrics.  Nothing when the link is down (the next one carries
 * the totals: they are counted since nufw started). */
static void send_stats(struct nufw_worker *w)
{
	struct nufw_kernel_drops kd = { 0 };
	struct nu_gw_stats m = {
		.queue = w->queue_num,
		.asked = w->stats.asked,
		.accepted = w->stats.accepted,
		.dropped = w->stats.dropped,
		.rejected = w->stats.rejected,
		.timeouts = w->stats.timed_out,
		.overruns = nufw_queue_overruns(w->queue),
	};
	uint8_t buf[256];
	size_t len;

	if (!any_link_up(w))
		return;
	if (nufw_queue_kernel_drops(w->queue_num, w->queue_num, &kd) && kd.seen) {
		m.kernel_queue_full = kd.queue_full;
		m.kernel_failed = kd.netlink_failed;
	}
	if (nu_gw_stats_encode(buf, sizeof(buf), &m, &len) == NU_PROTO_OK)
		send_to_all(w, buf, len);
}

static gboolean on_stats_timer(gpointer data)
{
	send_stats(data);
	return G_SOURCE_CONTINUE;
}

static void ask_one(const struct nu_packet_ask *ask, void *ctx)
{
	struct link_ctx *lc = ctx;

	send_ask_to(lc->w, lc->w->links[lc->node], ask);
}

/* The node that came up is asked about every waiting packet it was not
 * asked about: those no node was asked about (every link was down), and
 * those the others were asked about (it may hold the owner's client, and
 * the others would only say "not mine"). */
static void on_link_up(void *ctx)
{
	struct link_ctx *lc = ctx;
	struct nufw_worker *w = lc->w;
	unsigned n = nufw_pending_ask_all(w->pending, 1u << lc->node, ask_one, lc);

	if (n)
		log_notice("asking nuauth again about %u waiting connection(s)", n);
	send_stats(w);
}

static void apply_settled(uint32_t id, const uint8_t *head, size_t head_len, uint8_t verdict,
			  void *ctx);

static void on_link_down(void *ctx)
{
	struct link_ctx *lc = ctx;
	struct nufw_worker *w = lc->w;
	uint32_t others;
	unsigned n;

	/* Its questions are lost with the link: the other nodes asked answer
	 * them, and those it alone was asked about go to every other node
	 * that is up (else they wait for the next link up). */
	nufw_pending_node_down(w->pending, 1u << lc->node, apply_settled, w);
	n = nufw_pending_count(w->pending);
	/* (this link still reads as up while it reports its end) */
	others = links_up(w) & ~(1u << lc->node);
	if (others) {
		log_notice("nuauth node %s is unreachable: the other nodes decide",
			   w->nodes[lc->node]);
		for (unsigned i = 0; i < w->n_links; i++)
			if (others & (1u << i))
				nufw_pending_ask_all(w->pending, 1u << i, ask_one, &w->link_ctx[i]);
		return;
	}
	log_warnx("nuauth is unreachable: new connections wait up to %u s, then are %s",
		  w->opt->packet_timeout, w->opt->fail_open ? "accepted (fail-open)" : "dropped");
	if (n)
		log_notice("%u packet(s) will be asked about again", n);
}

struct answer {
	struct nufw_worker *w;
	const struct nu_decision *d;
	bool followed;
};

/* The flow of an accepted connection is filed with what it must end with:
 * the end of its ACL's time period (d->expires_in seconds: nufw ends it
 * then even when nuauth cannot be reached), and its client session (d->
 * session: its SESSION_END ends it, from whichever node).  A flow decided
 * otherwise is filed no more (its 5-tuple was reused, say). */
static void follow_flow(struct answer *a, const uint8_t *head, size_t head_len)
{
	const struct nu_decision *d = a->d;
	bool accepted = d->verdict == NU_VERDICT_ACCEPT;
	bool expires = accepted && d->has_expires, session = accepted && d->session;
	struct nu_packet_info info;
	char text[NU_FLOW_STRLEN];

	a->followed = true;	/* the group's packets share one flow */
	if (!expires && !session && nufw_expiry_count(a->w->expiry) == 0 &&
	    nufw_sessions_count(a->w->sessions) == 0)
		return;		/* nothing to file, nothing to forget */
	if (nu_packet_parse(head, head_len, &info) != NU_PACKET_OK)
		return;
	if (session) {
		static gint warned;	/* once per run: it says what happens from now on */

		if (nufw_sessions_add(a->w->sessions, &info.flow, d->session) &&
		    g_atomic_int_compare_and_exchange(&warned, 0, 1))
			log_warnx("%u connections are filed by session: the oldest are "
				  "forgotten (their user's logout ends them only through the "
				  "nuauth node that accepted them)", NUFW_SESSIONS_MAX);
	} else {
		nufw_sessions_forget(a->w->sessions, &info.flow);
	}
	if (!expires)
		nufw_expiry_remove(a->w->expiry, &info.flow);
	else if (!nufw_expiry_add(a->w->expiry, &info.flow,
				  g_get_monotonic_time() + (gint64)d->expires_in * G_USEC_PER_SEC))
		log_warnx("%u connections with an end time are followed already: %s is left to "
			  "nuauth", NUFW_EXPIRY_MAX, nu_flow_format(&info.flow, text, sizeof(text)));
}

static void apply_decision(uint32_t id, const uint8_t *head, size_t head_len, void *ctx)
{
	struct answer *a = ctx;

	if (!a->followed)
		follow_flow(a, head, head_len);
	if (a->d->verdict == NU_VERDICT_REJECT) {
		a->w->stats.rejected++;
		if (a->w->rejecter && nufw_reject_send(a->w->rejecter, head, head_len) < 0)
			log_warn("cannot answer rejected packet %u", id);
	}
	verdict(a->w, id, a->d->verdict == NU_VERDICT_ACCEPT, a->d->has_mark, a->d->mark);
}

/* A group every asked node disowned, settled when the last of the others
 * went away. */
static void apply_settled(uint32_t id, const uint8_t *head, size_t head_len, uint8_t verdict,
			  void *ctx)
{
	struct nu_decision d = { .packet_id = id, .verdict = verdict };
	struct answer a = { ctx, &d, false };

	apply_decision(id, head, head_len, &a);
}

static void on_decision(const struct nu_decision *d, void *ctx)
{
	struct link_ctx *lc = ctx;
	struct nufw_worker *w = lc->w;
	struct answer a = { w, d, false };

	if (d->not_owner) {
		/* Another node may own it: only the last asked node's "not
		 * mine" settles it.  Late ones (the owner decided) are the
		 * common case and mean nothing. */
		nufw_pending_not_owner(w->pending, d->packet_id, 1u << lc->node, d->verdict,
				       apply_decision, &a);
		return;
	}
	if (!nufw_pending_answer(w->pending, d->packet_id, apply_decision, &a))
		log_debug("decision for packet %u, which no longer waits", d->packet_id);
}

/* Ends a connection: deletes its conntrack entry, so that its next packet
 * is new to the kernel and no rule lets it through unasked. */
static void end_connection(struct nufw_worker *w, const struct nu_flow *flow, const char *why)
{
	char text[NU_FLOW_STRLEN];

	nu_flow_format(flow, text, sizeof(text));
	if (!w->conntrack) {
		log_warnx("cannot end %s (%s): conntrack is unavailable", text, why);
		return;
	}
	if (nufw_conntrack_destroy(w->conntrack, flow) < 0) {
		if (errno != ENOENT)
			log_warn("cannot end %s", text);
		return;
	}
	w->stats.destroyed++;
	log_info("ended %s %s", text, why);
}

static void on_destroy(const struct nu_flow *flow, void *ctx)
{
	struct nufw_worker *w = ((struct link_ctx *)ctx)->w;

	nufw_sessions_forget(w->sessions, flow);
	end_connection(w, flow, "at nuauth's request");
}

/* A reload on nuauth moved the end of a connection's period.  It comes on
 * any of the links, whichever queue accepted the connection: the table is
 * shared.  A flow not followed (accepted before nufw restarted) is left to
 * nuauth, which ends it at the new time itself. */
static void on_expires(const struct nu_conn_expires *m, void *ctx)
{
	struct nufw_worker *w = ((struct link_ctx *)ctx)->w;
	char text[NU_FLOW_STRLEN];

	if (!m->has_expires) {
		if (nufw_expiry_remove(w->expiry, &m->flow))
			log_info("%s: no end time any more",
				 nu_flow_format(&m->flow, text, sizeof(text)));
		return;
	}
	if (nufw_expiry_move(w->expiry, &m->flow,
			     g_get_monotonic_time() + (gint64)m->expires_in * G_USEC_PER_SEC))
		log_info("%s: ends in %u s now", nu_flow_format(&m->flow, text, sizeof(text)),
			 m->expires_in);
}

/* A client session ended on nuauth (its user logged out or was
 * disconnected): every connection accepted for it ends, whichever node
 * accepted it and whichever queue. */
static void on_session_end(uint64_t session, void *ctx)
{
	struct nufw_worker *w = ((struct link_ctx *)ctx)->w;
	GArray *flows = nufw_sessions_take(w->sessions, session);

	for (guint i = 0; i < flows->len; i++)
		end_connection(w, &g_array_index(flows, struct nu_flow, i),
			       "at the end of its user's session");
	if (flows->len)
		log_info("session %016" G_GINT64_MODIFIER "x ended: %u connection(s) of it",
			 session, flows->len);
	g_array_free(flows, TRUE);
}

static void on_expiry(const struct nu_flow *flow, void *ctx)
{
	end_connection(ctx, flow, "at the end of its time period");
}

static void on_conn_end(const struct nu_conn_end *end, void *ctx)
{
	struct nufw_worker *w = ctx;
	uint8_t buf[256];
	size_t len;

	nufw_expiry_remove(w->expiry, &end->flow);
	nufw_sessions_forget(w->sessions, &end->flow);
	if (!any_link_up(w)) {
		w->stats.ends_lost++;
		return;
	}
	if (nu_conn_end_encode(buf, sizeof(buf), end, &len) != NU_PROTO_OK) {
		char text[NU_FLOW_STRLEN];

		log_warnx("cannot encode the end of %s: not reported",
			  nu_flow_format(&end->flow, text, sizeof(text)));
		w->stats.ends_lost++;
		return;
	}
	/* Every node: the one that decided the connection follows it. */
	send_to_all(w, buf, len);
	w->stats.ends_reported++;
}

static gboolean on_conntrack_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct nufw_worker *w = data;

	(void)fd;
	(void)cond;
	if (nufw_conntrack_read(w->conntrack) < 0) {
		log_warn("reading conntrack events failed: no more connection ends reported");
		g_clear_pointer(&w->conntrack_source, g_source_unref);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void expired(uint32_t id, const uint8_t *head, size_t head_len, void *ctx)
{
	struct nufw_worker *w = ctx;

	(void)head;
	(void)head_len;
	w->stats.timed_out++;
	log_debug("packet %u: no decision in %u s", id, w->opt->packet_timeout);
	undecided(w, id);
}

static gboolean on_tick(gpointer data)
{
	struct nufw_worker *w = data;
	nufw_pending_expire(w->pending, g_get_monotonic_time(), expired, w);
	nufw_expiry_due(w->expiry, g_get_monotonic_time(), on_expiry, w);
	/* Verdicts the kernel refused for a moment. */
	if (nufw_verdicts_due(w->verdicts) && !w->flush_source)
		nufw_verdicts_flush(w->verdicts);
	return G_SOURCE_CONTINUE;
}

static const struct nufw_link_ops link_ops = {
	.on_up = on_link_up,
	.on_down = on_link_down,
	.on_decision = on_decision,
	.on_destroy = on_destroy,
	.on_expires = on_expires,
	.on_session_end = on_session_end,
};

struct nufw_worker *nufw_worker_new(const struct nufw_options *opt, uint16_t queue_num,
				    bool report_ends, gnutls_certificate_credentials_t creds,
				    struct nufw_addrs *addrs, const struct nufw_tables *tables,
				    GError **error)
{
	struct nufw_worker *w = g_new0(struct nufw_worker, 1);
	bool ct_mark = false;
	GError *e = NULL;	/* a missing feature: logged here, nufw goes on */

	w->opt = opt;
	w->queue_num = queue_num;
	w->creds = creds;
	w->nodes = nufw_nodes_split(opt->nuauth_host, error);
	if (!w->nodes) {
		g_free(w);
		return NULL;
	}
	w->n_links = g_strv_length(w->nodes);
	w->addrs = nufw_addrs_ref(addrs);
	w->queue = nufw_queue_open(queue_num, opt->queue_maxlen, COPY_RANGE, opt->fail_open, error);
	if (!w->queue) {
		nufw_addrs_unref(w->addrs);
		g_strfreev(w->nodes);
		g_free(w);
		return NULL;
	}
	if (opt->set_mark && opt->ct_mark) {
		ct_mark = nufw_queue_enable_ct_mark(w->queue, &e);
		if (!ct_mark) {
			log_warnx("queue %u: --ct-mark: %s; keep the CONNMARK rules", queue_num,
				  e->message);
			g_clear_error(&e);
		}
	}
	w->verdicts = nufw_verdicts_new(w->queue, ct_mark);
	w->ifnames = nufw_ifnames_new();
	w->rejecter = nufw_rejecter_new(opt->reject_with, &e);
	if (!w->rejecter) {
		log_warnx("%s: rejected packets will be dropped silently", e->message);
		g_clear_error(&e);
	}
	w->conntrack = nufw_conntrack_open(report_ends && opt->follow_conntrack, opt->only_marked,
					   on_conn_end, w, &e);
	if (!w->conntrack) {
		if (report_ends && opt->follow_conntrack) {
			g_propagate_prefixed_error(error, e, "-C: ");
			nufw_worker_free(w);
			return NULL;
		}
		log_warnx("%s: nuauth will not be able to end connections", e->message);
		g_clear_error(&e);
	}
	w->pending = nufw_pending_new(opt->max_pending);
	w->expiry = tables->expiry;
	w->sessions = tables->sessions;
	w->ctx = g_main_context_new();
	w->loop = g_main_loop_new(w->ctx, FALSE);
	return w;
}

static void accept_at_stop(const struct nufw_queued_packet *pkt, void *ctx)
{
	struct nufw_worker *w = ctx;

	nufw_verdicts_received(w->verdicts, pkt->id);
	verdict(w, pkt->id, true, false, 0);
}

/* No packet nufw has read stays in the kernel's queue: each gets the
 * failure policy's verdict.  Closing the socket makes the kernel drop what
 * is still queued, so with --fail-open the queue length goes to 0 first
 * (the kernel then accepts new packets itself, NFQA_CFG_F_FAIL_OPEN) and
 * what is already in the socket is read and accepted. */
static void answer_all_before_exit(struct nufw_worker *w)
{
	if (w->opt->fail_open) {
		if (nufw_queue_set_maxlen(w->queue, 0, accept_at_stop, w) < 0)
			log_warn("queue %u: cannot let the kernel accept new packets "
				 "while nufw stops", w->queue_num);
		while (nufw_queue_read(w->queue, accept_at_stop, w) > 0)
			;
	}
	nufw_pending_drain(w->pending, expired, w);
	nu_source_cancel(&w->flush_source);
	for (int tries = 0; !nufw_verdicts_flush(w->verdicts) && tries < 10; tries++)
		g_usleep(10000);
	if (nufw_verdicts_due(w->verdicts))
		log_warnx("queue %u: the kernel refused the last verdicts: those packets "
			  "are dropped when the queue closes", w->queue_num);
}

static void links_new(struct nufw_worker *w)
{
	for (unsigned i = 0; i < w->n_links; i++) {
		w->link_ctx[i] = (struct link_ctx){ w, i };
		w->links[i] = nufw_link_new(w->nodes[i], w->opt->nuauth_port, w->addrs, i,
					    w->creds, w->opt->check_name, &link_ops,
					    &w->link_ctx[i]);
	}
}

static void links_free(struct nufw_worker *w)
{
	for (unsigned i = 0; i < w->n_links; i++) {
		nufw_link_free(w->links[i]);
		w->links[i] = NULL;
	}
}

static gpointer worker_run(gpointer data)
{
	struct nufw_worker *w = data;

	g_main_context_push_thread_default(w->ctx);
	links_new(w);
	w->queue_source = nu_watch_fd(nufw_queue_fd(w->queue), G_IO_IN, on_queue_readable, w);
	if (w->conntrack && nufw_conntrack_fd(w->conntrack) >= 0)
		w->conntrack_source = nu_watch_fd(nufw_conntrack_fd(w->conntrack), G_IO_IN,
						  on_conntrack_readable, w);
	w->tick_source = nu_timeout(TICK_MS, on_tick, w);
	w->stats_source = nu_timeout(GW_STATS_EVERY_MS, on_stats_timer, w);
	g_main_loop_run(w->loop);

	nu_source_cancel(&w->queue_source);
	nu_source_cancel(&w->conntrack_source);
	nu_source_cancel(&w->tick_source);
	nu_source_cancel(&w->stats_source);
	nu_source_cancel(&w->flush_source);
	answer_all_before_exit(w);
	links_free(w);
	g_main_context_pop_thread_default(w->ctx);
	return NULL;
}

void nufw_worker_start(struct nufw_worker *w)
{
	char name[16];

	g_snprintf(name, sizeof(name), "queue-%u", w->queue_num);
	w->thread = g_thread_new(name, worker_run, w);
}

struct reload {
	struct nufw_worker *w;
	gnutls_certificate_credentials_t creds;	/* NULL: only new addresses */
	struct nufw_addrs *addrs;
};

static gboolean do_reload(gpointer data)
{
	struct reload *r = data;
	struct nufw_worker *w = r->w;

	if (r->addrs) {
		nufw_addrs_unref(w->addrs);
		w->addrs = r->addrs;
	}
	if (!r->creds) {
		for (unsigned i = 0; i < w->n_links; i++)
			nufw_link_set_addrs(w->links[i], w->addrs);
	} else {
		links_free(w);
		nufw_pending_forget_questions(w->pending);
		w->creds = r->creds;
		links_new(w);
	}
	g_free(r);
	return G_SOURCE_REMOVE;
}

static void send_reload(struct nufw_worker *w, gnutls_certificate_credentials_t creds,
			struct nufw_addrs *addrs)
{
	struct reload *r = g_new(struct reload, 1);

	r->w = w;
	r->creds = creds;
	r->addrs = nufw_addrs_ref(addrs);
	g_main_context_invoke(w->ctx, do_reload, r);
}

void nufw_worker_reload(struct nufw_worker *w, gnutls_certificate_credentials_t creds,
			struct nufw_addrs *addrs)
{
	send_reload(w, creds, addrs);
}

void nufw_worker_set_addrs(struct nufw_worker *w, struct nufw_addrs *addrs)
{
	send_reload(w, NULL, addrs);
}

static gboolean do_quit(gpointer data)
{
	struct nufw_worker *w = data;

	g_main_loop_quit(w->loop);
	return G_SOURCE_REMOVE;
}

void nufw_worker_stop(struct nufw_worker *w)
{
	if (!w->thread)
		return;
	/* Through the worker's own context: a quit sent before its loop runs
	 * (it may still be resolving nuauth's name) would be lost. */
	g_main_context_invoke(w->ctx, do_quit, w);
	g_thread_join(w->thread);
	w->thread = NULL;
}

const struct nufw_worker_stats *nufw_worker_stats(struct nufw_worker *w)
{
	const struct nufw_verdict_stats *v = nufw_verdicts_stats(w->verdicts);

	w->stats.verdict_messages = v->messages;
	w->stats.batched = v->batched;
	w->stats.verdicts_refused = v->send_failed;
	w->stats.verdicts_lost = v->lost;
	return &w->stats;
}

uint64_t nufw_worker_overruns(const struct nufw_worker *w)
{
	return nufw_queue_overruns(w->queue);
}

void nufw_worker_free(struct nufw_worker *w)
{
	if (!w)
		return;
	nufw_worker_stop(w);
	nufw_pending_free(w->pending);
	nufw_verdicts_free(w->verdicts);
	nufw_ifnames_free(w->ifnames);
	nufw_addrs_unref(w->addrs);
	nufw_rejecter_free(w->rejecter);
	nufw_conntrack_close(w->conntrack);
	nufw_queue_close(w->queue);
	if (w->loop)
		g_main_loop_unref(w->loop);
	if (w->ctx)
		g_main_context_unref(w->ctx);
	g_strfreev(w->nodes);
	g_free(w);
}
