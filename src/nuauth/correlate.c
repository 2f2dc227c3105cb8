/* Correlation: a packet from a gateway belongs to the user whose client
 * claims it, and a claim counts only when it is made for a packet that is
 * waiting (doc/security.md, "Claims are made for packets that exist").
 *
 *   a packet arrives     it waits (keyed by flow) and every logged-in client
 *                        at its source address is asked about it (PUSH);
 *   each asked client    answers with a claim (a CONN in ANNOUNCE) or "not
 *                        mine" (NOT_MINE); nothing else is stored;
 *   the decision         is taken once it cannot change: one user claimed
 *                        and every other asked client said "not mine" (with
 *                        one client at the address: at its claim), or two
 *                        users claimed (dropped).
 *
 * An announcement for a flow with no waiting packet is counted
 * (announces_unmatched) and forgotten: nothing a client says before the
 * packet exists is kept, so a client can store nothing here by announcing.
 * A packet that is not decided within nuauth_packet_timeout is answered with
 * drop (or reject), also when a client never answered: nuauth never decides
 * on a partial set of answers while another client could still claim.
 *
 * Clients are indexed by address (struct addr_entry), with the flows that
 * wait from that address, so neither a packet nor a login walks all clients.
 *
 * In a cluster (doc/cluster.md) the gateway asks every node.  A node that
 * holds no client owning the packet answers "not mine" (NOT_OWNER) instead
 * of dropping it: at once when the directory (cluster.c) shows another
 * node holding a client at the address and none of this node's clients
 * claims it, else at the timeout.  It never accepts for an address whose
 * client it does not hold.
 *
 * This file only matches: it keeps peer ids (peers.h), asks through the
 * clients' peer operations, learns of a link's end from the registry's
 * "gone" event, and hands each matched packet to the answer stage
 * (answer.c), which decides and sends.  Everything here runs on the main
 * loop's thread. */
#include "config.h"
#include "nuauth.h"

#include <string.h>

#include "log.h"

#define TICK_MS 100

enum answer { ANSWER_NONE, ANSWER_MINE, ANSWER_NOT_MINE };

/* One client asked about a flow, and its answer. */
struct asked {
	nuauth_peer_id client;
	enum answer answer;
	bool foreign;			/* not at the flow's address: it claimed
					 * unasked (user_check_ip_equality=0) */
	char *app;			/* with a claim */
	bool has_app_sha256;
	uint8_t app_sha256[NU_SHA256_LEN];
};

struct addr_entry {
	struct in6_addr addr;		/* the key */
	GArray *clients;		/* nuauth_peer_id: logged-in clients at addr */
	GQueue flows;			/* waiting flows from addr */
};

struct waiting_packet {
	nuauth_peer_id gw;
	struct nu_packet_ask ask;
	gint64 arrived;			/* g_get_monotonic_time() */
	GList *order_link;		/* in cor->order */
	struct waiting_flow *wf;
};

struct waiting_flow {
	struct nu_flow flow;		/* the key */
	struct nuauth_correlator *cor;
	GPtrArray *packets;		/* struct waiting_packet *, not owned */
	GArray *asked;			/* struct asked */
	unsigned unanswered;		/* asked entries still ANSWER_NONE */
	struct addr_entry *ae;
	GList ae_link;			/* in ae->flows */
};

struct nuauth_correlator {
	struct nuauth_server *srv;
	GHashTable *waiting;		/* flow -> struct waiting_flow */
	GHashTable *by_addr;		/* struct in6_addr -> struct addr_entry */
	GQueue order;			/* waiting packets, oldest first */
	unsigned foreign;		/* asked entries with foreign set */
	guint tick;
};

static struct addr_entry *addr_get(struct nuauth_correlator *cor, const struct in6_addr *addr)
{
	struct addr_entry *ae = g_hash_table_lookup(cor->by_addr, addr);

	if (!ae) {
		ae = g_new0(struct addr_entry, 1);
		ae->addr = *addr;
		ae->clients = g_array_new(FALSE, FALSE, sizeof(nuauth_peer_id));
		g_queue_init(&ae->flows);
		g_hash_table_insert(cor->by_addr, &ae->addr, ae);
	}
	return ae;
}

/* Frees ae once nothing is left in it. */
static void addr_release(struct nuauth_correlator *cor, struct addr_entry *ae)
{
	if (ae->clients->len == 0 && ae->flows.length == 0)
		g_hash_table_remove(cor->by_addr, &ae->addr);
}

static void addr_entry_free(gpointer p)
{
	struct addr_entry *ae = p;

	g_array_free(ae->clients, TRUE);
	g_free(ae);
}

static void asked_clear(struct nuauth_correlator *cor, struct asked *a)
{
	if (a->foreign)
		cor->foreign--;
	g_free(a->app);
}

static void waiting_flow_free(gpointer p)
{
	struct waiting_flow *wf = p;
	struct nuauth_correlator *cor = wf->cor;

	for (guint i = 0; i < wf->asked->len; i++)
		asked_clear(cor, &g_array_index(wf->asked, struct asked, i));
	g_array_free(wf->asked, TRUE);
	g_ptr_array_free(wf->packets, TRUE);
	g_queue_unlink(&wf->ae->flows, &wf->ae_link);
	addr_release(cor, wf->ae);
	g_free(wf);
}

/* Removes p from every structure and frees it (and its flow with its last
 * packet). */
static void packet_forget(struct nuauth_correlator *cor, struct waiting_packet *p)
{
	g_queue_delete_link(&cor->order, p->order_link);
	g_ptr_array_remove_fast(p->wf->packets, p);
	if (p->wf->packets->len == 0)
		g_hash_table_remove(cor->waiting, &p->wf->flow);
	g_free(p);
}

/* Forgets every packet of wf, and wf. */
static void flow_forget(struct nuauth_correlator *cor, struct waiting_flow *wf)
{
	while (wf->packets->len > 1)
		packet_forget(cor, g_ptr_array_index(wf->packets, wf->packets->len - 1));
	packet_forget(cor, g_ptr_array_index(wf->packets, 0));
}

/* The user of a client peer the table holds (gone ones are forgotten at
 * once, so it is there). */
static const struct nuauth_session_user *user_of(struct nuauth_correlator *cor,
						 nuauth_peer_id client)
{
	return nuauth_peers_get(cor->srv->peers, client)->user;
}

/* Is a logged-in client there to claim flows from addr? */
static bool client_at(struct nuauth_correlator *cor, const struct in6_addr *addr)
{
	struct addr_entry *ae = g_hash_table_lookup(cor->by_addr, addr);

	return ae && ae->clients->len > 0;
}

/* Asks cl about wf: it must answer before wf is decided. */
static void ask_client(struct nuauth_correlator *cor, struct waiting_flow *wf,
		       nuauth_peer_id client)
{
	struct nuauth_peer *cl = nuauth_peers_get(cor->srv->peers, client);
	struct asked a = { .client = client };

	g_array_append_val(wf->asked, a);
	wf->unanswered++;
	cl->ops->push(cl->link, &wf->flow);
	cor->srv->stats.pushes++;
}

/* Two sessions of one user (say two clients of the user at one address)
 * may both claim a flow; two users may not, even with one uid: their
 * groups may differ. */
static bool same_user(const struct nuauth_session_user *a, const struct nuauth_session_user *b)
{
	return a->uid == b->uid && strcmp(a->name, b->name) == 0;
}

/* What a packet nobody claimed gets. */
static int unclaimed_verdict(const struct nuauth_correlator *cor)
{
	return cor->srv->cfg.reject_after_timeout ? NU_VERDICT_REJECT : NU_VERDICT_DROP;
}

/* In a cluster, "not mine" for every packet of wf, which is forgotten. */
static void flow_not_mine(struct nuauth_correlator *cor, struct waiting_flow *wf)
{
	for (guint j = 0; j < wf->packets->len; j++) {
		struct waiting_packet *p = g_ptr_array_index(wf->packets, j);

		nuauth_answer_not_mine(cor->srv, p->gw, p->ask.packet_id, unclaimed_verdict(cor));
	}
	flow_forget(cor, wf);
}

/* Every client asked about wf said "not mine": a claim would have won,
 * but the address's session (ipsession.c; a portal or RADIUS user on a
 * host shared with a client) may still name the user.  Else it waits for
 * its timeout, as before.  wf may be freed. */
static void disowned(struct nuauth_correlator *cor, struct waiting_flow *wf)
{
	struct waiting_packet *p = g_ptr_array_index(wf->packets, 0);
	guint n = wf->packets->len;

	if (!nuauth_ipauth_packet(cor->srv->ipauth, p->gw, &p->ask, true))
		return;
	packet_forget(cor, p);
	/* The others of the flow (retransmissions) the same way; the last
	 * one frees wf. */
	while (--n > 0) {
		p = g_ptr_array_index(wf->packets, 0);
		if (!nuauth_ipauth_packet(cor->srv->ipauth, p->gw, &p->ask, true))
			nuauth_answer_verdict(cor->srv, p->gw, p->ask.packet_id, NU_VERDICT_DROP,
					      p->arrived);
		packet_forget(cor, p);
	}
}

/* Decides wf when its answers allow it (see the top of the file); else
 * leaves it waiting.  wf may be freed. */
static void settle(struct nuauth_correlator *cor, struct waiting_flow *wf)
{
	struct asked *owner = NULL;
	char flow_text[NU_FLOW_STRLEN];

	for (guint i = 0; i < wf->asked->len; i++) {
		struct asked *a = &g_array_index(wf->asked, struct asked, i);

		if (a->answer != ANSWER_MINE)
			continue;
		if (!owner) {
			owner = a;
			continue;
		}
		if (same_user(user_of(cor, owner->client), user_of(cor, a->client)))
			continue;
		/* No later answer can make either claim good. */
		log_warnx("%s claimed by users %s and %s: dropped",
			  nu_flow_format(&wf->flow, flow_text, sizeof(flow_text)),
			  user_of(cor, owner->client)->name, user_of(cor, a->client)->name);
		cor->srv->stats.claim_conflicts++;
		for (guint j = 0; j < wf->packets->len; j++) {
			struct waiting_packet *p = g_ptr_array_index(wf->packets, j);

			nuauth_answer_verdict(cor->srv, p->gw, p->ask.packet_id, NU_VERDICT_DROP,
					      p->arrived);
		}
		flow_forget(cor, wf);
		return;
	}
	if (!owner && wf->unanswered == 0 && wf->asked->len > 0) {
		/* Every client here said "not mine": another node's may own
		 * it, else the address's session does. */
		if (nuauth_cluster_owned_elsewhere(cor->srv->cluster, &wf->flow.saddr))
			flow_not_mine(cor, wf);
		else
			disowned(cor, wf);
		return;
	}
	if (!owner || wf->unanswered > 0)
		return;		/* nobody's yet, or someone may still claim it */
	/* The newest packet first, as they were answered before. */
	while (wf) {
		struct waiting_packet *p = g_ptr_array_index(wf->packets, wf->packets->len - 1);
		bool last = wf->packets->len == 1;

		nuauth_answer_user(cor->srv, p->gw, &p->ask, user_of(cor, owner->client),
				   owner->client, owner->app,
				   owner->has_app_sha256 ? owner->app_sha256 : NULL, p->arrived);
		packet_forget(cor, p);	/* frees wf with its last packet */
		if (last)
			wf = NULL;
	}
}

void nuauth_correlate_packet(struct nuauth_correlator *cor, nuauth_peer_id gw,
			     const struct nu_packet_ask *ask)
{
	bool no_client = !client_at(cor, &ask->flow.saddr);
	bool synced = nuauth_cluster_synced(cor->srv->cluster);
	struct waiting_flow *wf;
	struct waiting_packet *p;
	char flow_text[NU_FLOW_STRLEN];

	/* Another node holds the clients there: it answers (and IP
	 * authentication is for hosts with no client on any node). */
	if (no_client && nuauth_cluster_owned_elsewhere(cor->srv->cluster, &ask->flow.saddr)) {
		nuauth_answer_not_mine(cor->srv, gw, ask->packet_id, unclaimed_verdict(cor));
		return;
	}
	/* A host without a client (ipauth.c: its address session, or
	 * nuauth_do_ip_authentication); when neither names its user, its web
	 * traffic may go to the login page (nuauth_portal_mark); else the
	 * packet waits as usual (for its timeout).  A node cut off from etcd
	 * does not know whether another node now holds a client there: only
	 * its own address sessions decide, no IP authentication module and
	 * no login page until it is back. */
	if (no_client &&
	    (nuauth_ipauth_packet(cor->srv->ipauth, gw, ask, !synced) ||
	     (synced && nuauth_answer_portal(cor->srv, gw, ask, g_get_monotonic_time()))))
		return;
	wf = g_hash_table_lookup(cor->waiting, &ask->flow);
	if (!wf) {
		wf = g_new0(struct waiting_flow, 1);
		wf->flow = ask->flow;
		wf->cor = cor;
		wf->packets = g_ptr_array_new();
		wf->asked = g_array_new(FALSE, FALSE, sizeof(struct asked));
		wf->ae = addr_get(cor, &ask->flow.saddr);
		wf->ae_link.data = wf;
		g_queue_push_tail_link(&wf->ae->flows, &wf->ae_link);
		g_hash_table_insert(cor->waiting, &wf->flow, wf);
		log_debug("waiting for the owner of %s (%u client(s) asked)",
			  nu_flow_format(&ask->flow, flow_text, sizeof(flow_text)),
			  wf->ae->clients->len);
		/* Sending never closes a link under us (see msgconn.h), so the
		 * array stays as it is while we walk it. */
		for (guint i = 0; i < wf->ae->clients->len; i++)
			ask_client(cor, wf, g_array_index(wf->ae->clients, nuauth_peer_id, i));
	}
	/* A packet of a flow already waiting (a retransmitted SYN) waits with
	 * it: the clients were asked, and are not asked again. */
	p = g_new0(struct waiting_packet, 1);
	p->gw = gw;
	p->ask = *ask;
	p->arrived = g_get_monotonic_time();
	p->wf = wf;
	g_queue_push_tail(&cor->order, p);
	p->order_link = cor->order.tail;
	g_ptr_array_add(wf->packets, p);
}

static struct asked *find_asked(struct waiting_flow *wf, nuauth_peer_id cl)
{
	for (guint i = 0; i < wf->asked->len; i++) {
		struct asked *a = &g_array_index(wf->asked, struct asked, i);

		if (a->client == cl)
			return a;
	}
	return NULL;
}

void nuauth_correlate_announce(struct nuauth_correlator *cor, const struct nuauth_peer *cl,
			       const struct nu_announce_conn *conn, bool not_mine)
{
	const struct nuauth_session_user *su = cl->user;
	bool at_addr = memcmp(&conn->flow.saddr, &cl->addr, sizeof(conn->flow.saddr)) == 0;
	struct waiting_flow *wf;
	struct asked *a;
	char flow_text[NU_FLOW_STRLEN];

	if (not_mine) {
		/* Only an asked client's "not mine" means anything. */
		wf = g_hash_table_lookup(cor->waiting, &conn->flow);
		if (wf && (a = find_asked(wf, cl->id)) && a->answer == ANSWER_NONE) {
			a->answer = ANSWER_NOT_MINE;
			wf->unanswered--;
			settle(cor, wf);
		}
		return;
	}
	nu_flow_format(&conn->flow, flow_text, sizeof(flow_text));
	if (cor->srv->cfg.user_check_ip_equality && !at_addr) {
		peer_log_warnx(cor->srv->peer_log, &cl->addr, "user %s announced %s, "
			       "which is not from the client's address: ignored", su->name, flow_text);
		return;
	}
	wf = g_hash_table_lookup(cor->waiting, &conn->flow);
	if (!wf) {
		/* Early (before its packet), late (after the decision), or for
		 * nothing: never stored. */
		cor->srv->stats.announces_unmatched++;
		log_debug("user %s announced %s, for which no packet waits: ignored",
			  su->name, flow_text);
		return;
	}
	a = find_asked(wf, cl->id);
	if (!a) {
		/* Not asked: a client elsewhere (user_check_ip_equality=0).
		 * Its claim counts as an answer, never as the only one when
		 * the clients asked have not all said "not mine". */
		struct asked na = { .client = cl->id, .foreign = !at_addr };

		g_array_append_val(wf->asked, na);
		cor->foreign += na.foreign;
		a = &g_array_index(wf->asked, struct asked, wf->asked->len - 1);
	} else if (a->answer != ANSWER_NONE) {
		return;		/* its first answer stands */
	} else {
		wf->unanswered--;
	}
	a->answer = ANSWER_MINE;
	a->app = g_strdup(conn->app);
	a->has_app_sha256 = conn->has_app_sha256;
	memcpy(a->app_sha256, conn->app_sha256, sizeof(a->app_sha256));
	log_debug("user %s claims %s (%s)", su->name, flow_text,
		  *conn->app ? conn->app : "program unknown");
	settle(cor, wf);
}

/* A client that logs in while packets from its address wait is asked about
 * them too, and must answer like those asked at the packet's arrival: its
 * user may own the flow (the program started before the client), and a
 * decision taken without asking it could give that flow to whoever else
 * claims it.  A late client can only delay the decision (to the timeout,
 * by not answering) or void it (by claiming too), which any client asked
 * at the arrival can also do. */
void nuauth_correlate_client_ready(struct nuauth_correlator *cor, const struct nuauth_peer *cl)
{
	struct addr_entry *ae = addr_get(cor, &cl->addr);

	g_array_append_val(ae->clients, cl->id);
	for (GList *l = ae->flows.head; l; l = l->next)
		ask_client(cor, l->data, cl->id);
}

/* Drops cl's entry from wf (a client that is gone answers nothing), and
 * decides wf if the others' answers now allow it. */
static void forget_asked(struct nuauth_correlator *cor, struct waiting_flow *wf,
			 nuauth_peer_id cl)
{
	for (guint i = 0; i < wf->asked->len; i++) {
		struct asked *a = &g_array_index(wf->asked, struct asked, i);

		if (a->client != cl)
			continue;
		if (a->answer == ANSWER_NONE)
			wf->unanswered--;
		asked_clear(cor, a);
		g_array_remove_index(wf->asked, i);
		settle(cor, wf);
		return;
	}
}

/* Removes id from the clients of ae; false when it was not there. */
static bool addr_remove_client(struct addr_entry *ae, nuauth_peer_id id)
{
	for (guint i = 0; i < ae->clients->len; i++)
		if (g_array_index(ae->clients, nuauth_peer_id, i) == id) {
			g_array_remove_index_fast(ae->clients, i);
			return true;
		}
	return false;
}

static void client_gone(struct nuauth_correlator *cor, const struct nuauth_peer *peer)
{
	nuauth_peer_id cl = peer->id;
	struct addr_entry *ae = g_hash_table_lookup(cor->by_addr, &peer->addr);

	if (cor->foreign) {
		/* Rare (user_check_ip_equality=0): it may have claimed a flow
		 * of another address. */
		GHashTableIter it;
		struct waiting_flow *wf;
		GPtrArray *flows = g_ptr_array_new();

		g_hash_table_iter_init(&it, cor->waiting);
		while (g_hash_table_iter_next(&it, NULL, (gpointer *)&wf))
			if (find_asked(wf, cl))
				g_ptr_array_add(flows, wf);
		/* settle() may free any of them, so one look-up each */
		for (guint i = 0; i < flows->len; i++) {
			wf = g_ptr_array_index(flows, i);
			if (g_hash_table_lookup(cor->waiting, &wf->flow) == wf)
				forget_asked(cor, wf, cl);
		}
		g_ptr_array_free(flows, TRUE);
		ae = g_hash_table_lookup(cor->by_addr, &peer->addr);
	}
	if (!ae || !addr_remove_client(ae, cl))
		return;		/* never logged in */
	/* settle() frees only the flow it decides, and ae only with the
	 * last flow (ae has no client left to keep it). */
	for (GList *l = ae->flows.head, *next; l; l = next) {
		bool last = l->next == NULL;

		next = l->next;
		forget_asked(cor, l->data, cl);
		if (last)
			break;
	}
	if (g_hash_table_lookup(cor->by_addr, &peer->addr) == ae)
		addr_release(cor, ae);
}

static gboolean on_tick(gpointer data)
{
	struct nuauth_correlator *cor = data;
	gint64 now = g_get_monotonic_time();
	gint64 timeout = (gint64)cor->srv->cfg.packet_timeout * G_USEC_PER_SEC;
	char flow_text[NU_FLOW_STRLEN];

	/* Every packet waits as long (the timeout of now, also after a reload
	 * changed it), so the oldest are at the head. */
	while (cor->order.head) {
		struct waiting_packet *p = cor->order.head->data;
		struct waiting_flow *wf = p->wf;
		const char *claimer = NULL;

		if (p->arrived + timeout > now)
			break;
		for (guint i = 0; i < wf->asked->len; i++) {
			struct asked *a = &g_array_index(wf->asked, struct asked, i);

			if (a->answer == ANSWER_MINE)
				claimer = user_of(cor, a->client)->name;
		}
		nu_flow_format(&p->ask.flow, flow_text, sizeof(flow_text));
		if (claimer)
			log_info("%s: not decided in %u s: user %s claimed it, %u of %u asked "
				 "client(s) did not answer", flow_text,
				 cor->srv->cfg.packet_timeout, claimer, wf->unanswered,
				 wf->asked->len);
		else if (wf->unanswered)
			log_info("%s: no user claimed it in %u s (%u of %u asked client(s) did "
				 "not answer)", flow_text, cor->srv->cfg.packet_timeout,
				 wf->unanswered, wf->asked->len);
		else
			log_info("%s: no user claimed it in %u s", flow_text,
				 cor->srv->cfg.packet_timeout);
		cor->srv->stats.timeouts++;
		if (!claimer && nuauth_cluster_enabled(cor->srv->cluster))
			/* another node may own it: the gateway decides */
			nuauth_answer_not_mine(cor->srv, p->gw, p->ask.packet_id,
					       unclaimed_verdict(cor));
		else
			nuauth_answer_verdict(cor->srv, p->gw, p->ask.packet_id,
					      unclaimed_verdict(cor), p->arrived);
		packet_forget(cor, p);
	}
	return G_SOURCE_CONTINUE;
}

static void gateway_gone(struct nuauth_correlator *cor, const struct nuauth_peer *peer)
{
	GList *l = cor->order.head;

	while (l) {
		GList *next = l->next;
		struct waiting_packet *p = l->data;

		if (p->gw == peer->id)
			packet_forget(cor, p);
		l = next;
	}
}

/* A peer is gone (peers.h): its packets or its answers are forgotten. */
static void on_peer_gone(const struct nuauth_peer *peer, void *ctx)
{
	if (peer->kind == NUAUTH_PEER_GATEWAY)
		gateway_gone(ctx, peer);
	else
		client_gone(ctx, peer);
}

struct nuauth_correlator *nuauth_correlator_new(struct nuauth_server *srv)
{
	struct nuauth_correlator *cor = g_new0(struct nuauth_correlator, 1);

	cor->srv = srv;
	cor->waiting = g_hash_table_new_full(nu_flow_ghash, nu_flow_gequal, NULL, waiting_flow_free);
	cor->by_addr = g_hash_table_new_full(nuauth_addr_hash, nuauth_addr_equal, NULL, addr_entry_free);
	g_queue_init(&cor->order);
	cor->tick = g_timeout_add(TICK_MS, on_tick, cor);
	nuauth_peers_subscribe(srv->peers, on_peer_gone, cor);
	return cor;
}

void nuauth_correlator_free(struct nuauth_correlator *cor)
{
	if (!cor)
		return;
	g_source_remove(cor->tick);
	nuauth_peers_unsubscribe(cor->srv->peers, on_peer_gone, cor);
	while (cor->order.head)
		packet_forget(cor, cor->order.head->data);
	g_hash_table_destroy(cor->waiting);
	g_hash_table_destroy(cor->by_addr);
	g_free(cor);
}

unsigned nuauth_correlate_pending(const struct nuauth_correlator *cor)
{
	return cor->order.length;
}
