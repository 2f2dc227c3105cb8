/* Correlation: a packet from a gateway belongs to the user whose client
 * announced the same flow.  Both sides can come first:
 *
 *   packet first:        the packet waits (keyed by flow) and the clients on
 *                        its source address are asked to announce now (PUSH);
 *   announcement first:  the announcement waits (keyed by flow) until the
 *                        packet comes or it expires.
 *
 * A packet no one claims within nuauth_packet_timeout is answered with drop.
 * Everything here runs on the main loop's thread. */
#include "config.h"
#include "nuauth.h"

#include <string.h>

#include "log.h"

#define TICK_MS 100
/* An announcement waits at least this long for its packet. */
#define ANNOUNCE_MIN_LIFETIME_S 30
/* Announcements one client may have waiting: a desktop opens far fewer
 * connections in ANNOUNCE_MIN_LIFETIME_S; a client announcing more only
 * tries to fill nuauth's memory. */
#define ANNOUNCE_MAX_PER_CLIENT 4096

struct waiting_packet {
	struct nuauth_gateway *gw;
	struct nu_packet_ask ask;
	gint64 arrived;			/* g_get_monotonic_time() */
	GList *order_link;		/* in cor->order */
	struct waiting_flow *wf;
};

struct waiting_flow {
	struct nu_flow flow;		/* the key */
	GPtrArray *packets;		/* struct waiting_packet *, not owned */
};

struct announcement {
	struct nu_flow flow;		/* the key */
	struct nuauth_correlator *cor;
	struct nuauth_client *client;
	char *app;
	bool has_app_sha256;
	uint8_t app_sha256[NU_SHA256_LEN];
	gint64 expires;
	bool conflict;			/* two different users claimed the flow */
};

struct nuauth_correlator {
	struct nuauth_server *srv;
	GHashTable *waiting;		/* flow -> struct waiting_flow */
	GHashTable *announced;		/* flow -> struct announcement */
	GHashTable *per_client;		/* client -> number of its announcements */
	GQueue order;			/* waiting packets, oldest first */
	guint tick;
};

static void waiting_flow_free(gpointer p)
{
	struct waiting_flow *wf = p;

	g_ptr_array_free(wf->packets, TRUE);
	g_free(wf);
}

static void announcement_free(gpointer p)
{
	struct announcement *a = p;
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(a->cor->per_client, a->client));

	if (n > 1)
		g_hash_table_insert(a->cor->per_client, a->client, GUINT_TO_POINTER(n - 1));
	else
		g_hash_table_remove(a->cor->per_client, a->client);
	g_free(a->app);
	g_free(a);
}

/* Removes p from every structure and frees it. */
static void packet_forget(struct nuauth_correlator *cor, struct waiting_packet *p)
{
	g_queue_delete_link(&cor->order, p->order_link);
	g_ptr_array_remove_fast(p->wf->packets, p);
	if (p->wf->packets->len == 0)
		g_hash_table_remove(cor->waiting, &p->wf->flow);
	g_free(p);
}

static const char *verdict_name(int verdict)
{
	switch (verdict) {
	case NU_VERDICT_ACCEPT: return "accepted";
	case NU_VERDICT_REJECT: return "rejected";
	default: return "dropped";
	}
}

/* Decides ask for the user su and answers the gateway.  cl is the client
 * that claimed the flow, NULL for a user found by IP authentication. */
static void decide_and_answer(struct nuauth_correlator *cor, struct nuauth_gateway *gw,
			      const struct nu_packet_ask *ask,
			      const struct nuauth_session_user *su, struct nuauth_client *cl,
			      const char *app, const uint8_t *app_sha256, bool conflict)
{
	struct nuauth_packet pkt = {
		.flow = ask->flow,
		.mark = ask->mark,
		.icmp_type = ask->icmp_type,
		.indev = ask->indev,
		.outdev = ask->outdev,
		.physindev = ask->physindev,
		.physoutdev = ask->physoutdev,
		.app = app ? app : "",
		.os_sysname = su->os_sysname ? su->os_sysname : "",
		.os_release = su->os_release ? su->os_release : "",
		.os_version = su->os_version ? su->os_version : "",
		.gateway = nuauth_gateway_id(gw),
		.app_sha256 = app_sha256,
	};
	struct nuauth_user user = {
		.name = su->name,
		.uid = su->uid,
		.groups = (const uint32_t *)(const void *)su->groups->data,
		.ngroups = su->groups->len,
		.auth_quality = su->auth_quality,
	};
	struct nuauth_verdict v;
	char flow_text[NU_FLOW_STRLEN];
	char sha_text[2 * NU_SHA256_LEN + 1] = "";

	if (conflict) {
		memset(&v, 0, sizeof(v));
		v.verdict = NU_VERDICT_DROP;
	} else {
		nuauth_decide(cor->srv, &pkt, &user, &v);
	}
	nuauth_gateway_send_decision(gw, ask->packet_id, v.verdict,
				     v.verdict == NU_VERDICT_ACCEPT, v.mark,
				     v.verdict == NU_VERDICT_ACCEPT ? v.expires : 0);
	if (v.verdict == NU_VERDICT_ACCEPT) {
		nuauth_connections_add(cor->srv->connections, gw, cl, user.name, &ask->flow);
		nuauth_connections_set_expiry(cor->srv->connections, &ask->flow, v.expires,
					      v.acl_name, v.period);
	} else if (!conflict && cl) {
		/* The ACL decision is the user's to know: the client shows it. */
		char why[NU_TEXT_MAX];

		g_snprintf(why, sizeof(why), "%s%s", *v.acl_name ? "acl " : "no acl allows it",
			   v.acl_name);
		nuauth_client_notice(cl, &ask->flow, v.verdict, pkt.app, why);
	}
	if (app_sha256)
		for (unsigned i = 0; i < NU_SHA256_LEN; i++)
			g_snprintf(sha_text + 2 * i, 3, "%02x", app_sha256[i]);
	/* The program only when the client sent it (see client_needs.c). */
	log_info("%s %s: %s %s (%s%s), mark 0x%x%s%s%s%s", cl ? "user" : "ip-authenticated user",
		 user.name, nu_flow_format(&ask->flow, flow_text, sizeof(flow_text)),
		 verdict_name(v.verdict),
		 conflict ? "claimed by two users" : *v.acl_name ? "acl " : "no acl matched",
		 conflict ? "" : v.acl_name, v.mark, *pkt.app ? ", app " : "", pkt.app,
		 *sha_text ? ", sha256 " : "", sha_text);
	nuauth_hooks_packet_log(cor->srv, &pkt, &user, v.verdict, v.acl_name);
}

/* With push, an announcement serves its packet once: a retransmitted SYN
 * asks the clients again (the socket is still opening, so its owner claims
 * it again).  Kept, each client's announcements would pile up for
 * ANNOUNCE_MIN_LIFETIME_S and reach ANNOUNCE_MAX_PER_CLIENT at 136 new
 * connections per second, after which the user's flows wait in vain.
 * Without push the client announces a flow only once, so it stays. */
static void announcement_used(struct nuauth_correlator *cor, struct announcement *a)
{
	if (cor->srv->cfg.push_to_client)
		g_hash_table_remove(cor->announced, &a->flow);
}

static void answer(struct nuauth_correlator *cor, struct nuauth_gateway *gw,
		   const struct nu_packet_ask *ask, struct nuauth_client *cl,
		   const struct announcement *a)
{
	decide_and_answer(cor, gw, ask, nuauth_client_user(cl), cl, a->app,
			  a->has_app_sha256 ? a->app_sha256 : NULL, a->conflict);
}

/* Is a logged-in client there to claim flows from addr? */
static bool client_at(struct nuauth_correlator *cor, const struct in6_addr *addr)
{
	for (GList *l = cor->srv->clients; l; l = l->next) {
		struct nuauth_client *cl = l->data;

		if (nuauth_client_user(cl)->name &&
		    memcmp(nuauth_client_addr(cl), addr, sizeof(*addr)) == 0)
			return true;
	}
	return false;
}

void nuauth_correlate_answer_ip(struct nuauth_correlator *cor, struct nuauth_gateway *gw,
				const struct nu_packet_ask *ask, const char *name,
				enum nuauth_user_status status, uint32_t uid, GArray *groups)
{
	struct nuauth_session_user su = { .name = (char *)name, .uid = uid, .groups = groups,
					  .auth_quality = NUAUTH_AUTHQ_IP };
	char flow_text[NU_FLOW_STRLEN];

	if (status == NUAUTH_USER_OK) {
		decide_and_answer(cor, gw, ask, &su, NULL, NULL, NULL, false);
		return;
	}
	nu_flow_format(&ask->flow, flow_text, sizeof(flow_text));
	if (status == NUAUTH_USER_UNKNOWN)
		log_warnx("%s: IP authentication names user `%s', whom no user database knows: dropped",
			  flow_text, name);
	else
		log_warnx("%s: the groups of ip-authenticated user `%s' could not be read "
			  "(user database unavailable): dropped", flow_text, name);
	nuauth_gateway_send_decision(gw, ask->packet_id, NU_VERDICT_DROP, false, 0, 0);
}

static void push_to_clients(struct nuauth_correlator *cor, const struct nu_flow *flow)
{
	/* Sending never closes a link under us (see msgconn.h), so the list
	 * stays as it is while we walk it. */
	for (GList *l = cor->srv->clients; l; l = l->next) {
		struct nuauth_client *cl = l->data;

		if (memcmp(nuauth_client_addr(cl), &flow->saddr, sizeof(flow->saddr)) == 0 &&
		    nuauth_client_logged_in(cl)) {
			nuauth_client_push(cl, flow);
			cor->srv->stats.pushes++;
		}
	}
}

void nuauth_correlate_packet(struct nuauth_correlator *cor, struct nuauth_gateway *gw,
			     const struct nu_packet_ask *ask)
{
	struct announcement *a = g_hash_table_lookup(cor->announced, &ask->flow);
	struct waiting_flow *wf;
	struct waiting_packet *p;
	char flow_text[NU_FLOW_STRLEN];

	if (a) {
		answer(cor, gw, ask, a->client, a);
		announcement_used(cor, a);
		return;
	}
	/* nuauth_do_ip_authentication: a host without a client (ipauth.c);
	 * the packet waits as usual when no module names its user. */
	if (cor->srv->cfg.do_ip_authentication && !client_at(cor, &ask->flow.saddr) &&
	    nuauth_ipauth_packet(cor->srv->ipauth, gw, ask))
		return;
	wf = g_hash_table_lookup(cor->waiting, &ask->flow);
	if (!wf) {
		wf = g_new0(struct waiting_flow, 1);
		wf->flow = ask->flow;
		wf->packets = g_ptr_array_new();
		g_hash_table_insert(cor->waiting, &wf->flow, wf);
		log_debug("waiting for the owner of %s",
			  nu_flow_format(&ask->flow, flow_text, sizeof(flow_text)));
		if (cor->srv->cfg.push_to_client)
			push_to_clients(cor, &ask->flow);
	}
	p = g_new0(struct waiting_packet, 1);
	p->gw = gw;
	p->ask = *ask;
	p->arrived = g_get_monotonic_time();
	p->wf = wf;
	g_queue_push_tail(&cor->order, p);
	p->order_link = cor->order.tail;
	g_ptr_array_add(wf->packets, p);
}

/* Two sessions of one user (say its IPv4 and IPv6 links) may both see a
 * flow; two users may not, even with one uid: their groups may differ. */
static bool same_user(const struct nuauth_session_user *a, const struct nuauth_session_user *b)
{
	return a->uid == b->uid && strcmp(a->name, b->name) == 0;
}

void nuauth_correlate_announce(struct nuauth_correlator *cor, struct nuauth_client *cl,
			       const struct nu_announce_conn *conn)
{
	const struct nuauth_session_user *su = nuauth_client_user(cl);
	struct announcement *a;
	struct waiting_flow *wf;
	char flow_text[NU_FLOW_STRLEN];
	gint64 lifetime = MAX((gint64)cor->srv->cfg.packet_timeout * 2, ANNOUNCE_MIN_LIFETIME_S);

	nu_flow_format(&conn->flow, flow_text, sizeof(flow_text));
	if (cor->srv->cfg.user_check_ip_equality &&
	    memcmp(&conn->flow.saddr, nuauth_client_addr(cl), sizeof(conn->flow.saddr)) != 0) {
		peer_log_warnx(cor->srv->peer_log, nuauth_client_addr(cl), "user %s announced %s, "
			       "which is not from the client's address: ignored", su->name, flow_text);
		return;
	}
	a = g_hash_table_lookup(cor->announced, &conn->flow);
	if (a && a->client != cl && !same_user(nuauth_client_user(a->client), su)) {
		if (!a->conflict)
			log_warnx("%s claimed by users %s and %s: it will be dropped", flow_text,
				  nuauth_client_user(a->client)->name, su->name);
		a->conflict = true;
	} else if (!a) {
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(cor->per_client, cl));

		if (n >= ANNOUNCE_MAX_PER_CLIENT) {
			log_debug("user %s has %u announcements waiting: %s ignored",
				  su->name, n, flow_text);
			return;
		}
		g_hash_table_insert(cor->per_client, cl, GUINT_TO_POINTER(n + 1));
		a = g_new0(struct announcement, 1);
		a->flow = conn->flow;
		a->cor = cor;
		a->client = cl;
		a->app = g_strdup(conn->app);
		a->has_app_sha256 = conn->has_app_sha256;
		memcpy(a->app_sha256, conn->app_sha256, sizeof(a->app_sha256));
		g_hash_table_insert(cor->announced, &a->flow, a);
		log_debug("user %s announced %s (%s)", su->name, flow_text,
			  *conn->app ? conn->app : "program unknown");
	}
	a->expires = g_get_monotonic_time() + lifetime * G_USEC_PER_SEC;

	wf = g_hash_table_lookup(cor->waiting, &conn->flow);
	if (!wf)
		return;
	while (wf) {
		struct waiting_packet *p = g_ptr_array_index(wf->packets, wf->packets->len - 1);
		bool last = wf->packets->len == 1;

		answer(cor, p->gw, &p->ask, a->client, a);
		packet_forget(cor, p);	/* frees wf with its last packet */
		if (last)
			wf = NULL;
	}
	announcement_used(cor, a);
}

static gboolean on_tick(gpointer data)
{
	struct nuauth_correlator *cor = data;
	gint64 now = g_get_monotonic_time();
	gint64 timeout = (gint64)cor->srv->cfg.packet_timeout * G_USEC_PER_SEC;
	GHashTableIter it;
	struct announcement *a;
	char flow_text[NU_FLOW_STRLEN];

	/* Every packet waits as long (the timeout of now, also after a reload
	 * changed it), so the oldest are at the head. */
	while (cor->order.head) {
		struct waiting_packet *p = cor->order.head->data;

		if (p->arrived + timeout > now)
			break;
		log_info("%s: no user claimed it in %u s",
			 nu_flow_format(&p->ask.flow, flow_text, sizeof(flow_text)),
			 cor->srv->cfg.packet_timeout);
		cor->srv->stats.timeouts++;
		nuauth_gateway_send_decision(p->gw, p->ask.packet_id,
					     cor->srv->cfg.reject_after_timeout ? NU_VERDICT_REJECT
										: NU_VERDICT_DROP,
					     false, 0, 0);
		packet_forget(cor, p);
	}
	g_hash_table_iter_init(&it, cor->announced);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&a))
		if (a->expires <= now)
			g_hash_table_iter_remove(&it);
	return G_SOURCE_CONTINUE;
}

struct nuauth_correlator *nuauth_correlator_new(struct nuauth_server *srv)
{
	struct nuauth_correlator *cor = g_new0(struct nuauth_correlator, 1);

	cor->srv = srv;
	cor->waiting = g_hash_table_new_full(nu_flow_ghash, nu_flow_gequal, NULL, waiting_flow_free);
	cor->announced = g_hash_table_new_full(nu_flow_ghash, nu_flow_gequal, NULL, announcement_free);
	cor->per_client = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_queue_init(&cor->order);
	cor->tick = g_timeout_add(TICK_MS, on_tick, cor);
	return cor;
}

void nuauth_correlator_free(struct nuauth_correlator *cor)
{
	if (!cor)
		return;
	g_source_remove(cor->tick);
	while (cor->order.head)
		packet_forget(cor, cor->order.head->data);
	g_hash_table_destroy(cor->waiting);
	g_hash_table_destroy(cor->announced);
	g_hash_table_destroy(cor->per_client);
	g_free(cor);
}

void nuauth_correlate_gateway_gone(struct nuauth_correlator *cor, struct nuauth_gateway *gw)
{
	GList *l = cor->order.head;

	nuauth_ipauth_gateway_gone(cor->srv->ipauth, gw);
	while (l) {
		GList *next = l->next;
		struct waiting_packet *p = l->data;

		if (p->gw == gw)
			packet_forget(cor, p);
		l = next;
	}
}

unsigned nuauth_correlate_pending(const struct nuauth_correlator *cor)
{
	return cor->order.length;
}

void nuauth_correlate_client_gone(struct nuauth_correlator *cor, struct nuauth_client *cl)
{
	GHashTableIter it;
	struct announcement *a;

	g_hash_table_iter_init(&it, cor->announced);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&a))
		if (a->client == cl)
			g_hash_table_iter_remove(&it);
}
