/* The connections nuauth accepted, kept until their gateway reports their
 * end (nufw -C): who owns each, for the log line with its byte counts, and
 * which ones to end when their user logs out or when the time period of the
 * ACL that accepted them ends.  Without -C nothing reports
 * ends, so the table is bounded and forgets its oldest entries first.
 *
 * A connection belongs to a gateway, not to one of its links: nufw opens a
 * link per queue, reports ends on one of them, and comes back on new links
 * after a restart.  So each connection keeps its gateway's identity (the
 * certificate CN) and, while no link of that gateway is up, waits for one:
 * an end due meanwhile (logout, period end) is sent when it is back.
 *
 * Links are peers (peers.h): a connection keeps the ids of its gateway's
 * link and of the client whose claim decided it, sends CONN_DESTROY and
 * CONN_EXPIRES through the gateway peer's operations, and hears of a
 * link's end from the registry's "gone" event. */
#include "config.h"
#include "nuauth.h"

#include <string.h>
#include <time.h>

#include "log.h"

#define CONNECTIONS_MAX 65536
/* Ended connections kept for nuauthctl connections, with their counts. */
#define RECENT_ENDS_MAX 256

struct conn {
	struct nu_flow flow;		/* the key: original direction */
	nuauth_peer_id gw;		/* a link of its gateway; 0 while none */
	char *gw_id;			/* the gateway's name (its peer's) */
	bool end_due;			/* to end as soon as gw is back */
	bool ending;			/* ended by us: its gateway's report of
					 * the end (nufw -C) is still to come */
	nuauth_peer_id client;		/* the session whose claim decided it
					 * (correlate.c): only its LOGOUT or
					 * disconnect ends it; 0 once gone */
	char *user;
	uint64_t session;		/* the client session's tag; 0 none */
	gint64 start;			/* g_get_monotonic_time() */
	time_t wall_start;		/* the same, wall clock (for the hooks) */
	GList link;			/* in order, oldest first */
	/* Accepted within a time period: ended when it ends. */
	time_t expires;			/* wall clock; 0 never */
	char *expiry_acl;		/* the ACL whose period it is */
	char *expiry_period;		/* the name of that period */
	guint expiry_timer;		/* GLib source; 0 none */
	struct nuauth_connections *cs;	/* the table, for its timer */
	bool expiry_moved;		/* by a reload since the decision: told
					 * again on each link it moves to, since a
					 * link may fail with the news unsent */
};

struct nuauth_connections {
	struct nuauth_server *srv;
	GHashTable *by_flow;
	GQueue order;
	GQueue recent_ends;		/* struct nuauth_conn_end_event, newest first */
};

static void on_peer_gone(const struct nuauth_peer *peer, void *ctx);

static void recent_end_free(gpointer p)
{
	struct nuauth_conn_end_event *ev = p;

	g_free((char *)ev->user);
	g_free(ev);
}

static void remember_end(struct nuauth_connections *cs, const struct nuauth_conn_end_event *ev)
{
	struct nuauth_conn_end_event *copy = g_memdup2(ev, sizeof(*ev));

	copy->user = g_strdup(ev->user);
	g_queue_push_head(&cs->recent_ends, copy);
	if (g_queue_get_length(&cs->recent_ends) > RECENT_ENDS_MAX)
		recent_end_free(g_queue_pop_tail(&cs->recent_ends));
}

void nuauth_connections_foreach_ended(const struct nuauth_connections *cs,
				      nuauth_conn_ended_fn fn, void *ctx)
{
	for (GList *l = cs->recent_ends.head; l; l = l->next)
		fn(l->data, ctx);
}

static void conn_free(gpointer p)
{
	struct conn *c = p;

	if (c->expiry_timer)
		g_source_remove(c->expiry_timer);
	g_free(c->expiry_acl);
	g_free(c->expiry_period);
	g_free(c->user);
	g_free(c->gw_id);
	g_free(c);
}

struct nuauth_connections *nuauth_connections_new(struct nuauth_server *srv)
{
	struct nuauth_connections *cs = g_new0(struct nuauth_connections, 1);

	cs->srv = srv;
	cs->by_flow = g_hash_table_new_full(nu_flow_ghash, nu_flow_gequal, NULL, conn_free);
	g_queue_init(&cs->order);
	g_queue_init(&cs->recent_ends);
	nuauth_peers_subscribe(srv->peers, on_peer_gone, cs);
	return cs;
}

void nuauth_connections_free(struct nuauth_connections *cs)
{
	if (!cs)
		return;
	nuauth_peers_unsubscribe(cs->srv->peers, on_peer_gone, cs);
	g_hash_table_destroy(cs->by_flow);
	g_queue_clear_full(&cs->recent_ends, recent_end_free);
	g_free(cs);
}

static void forget(struct nuauth_connections *cs, struct conn *c)
{
	g_queue_unlink(&cs->order, &c->link);
	g_hash_table_remove(cs->by_flow, &c->flow);	/* frees c */
}

/* The link of c's gateway, or NULL while none is up. */
static struct nuauth_peer *gateway_of(struct nuauth_connections *cs, const struct conn *c)
{
	return c->gw ? nuauth_peers_get(cs->srv->peers, c->gw) : NULL;
}

/* The table is full: forget the oldest connection that nothing will need
 * to end (no period expiry armed, no end waiting for its gateway); only if
 * every one has one, the oldest of all, said once per occasion. */
static void evict_one(struct nuauth_connections *cs)
{
	for (GList *l = cs->order.head; l; l = l->next) {
		struct conn *c = l->data;

		if (!c->expiry_timer && !c->end_due) {
			forget(cs, c);
			return;
		}
	}
	log_warnx("%u connections with a period expiry are tracked: forgetting the oldest, "
		  "whose period end will not be enforced", CONNECTIONS_MAX);
	forget(cs, cs->order.head->data);
}

/* The session tag of client (0: none, or an address session's). */
static uint64_t session_of(struct nuauth_connections *cs, nuauth_peer_id client)
{
	struct nuauth_peer *p = client ? nuauth_peers_get(cs->srv->peers, client) : NULL;

	return p && p->user ? p->user->session : 0;
}

void nuauth_connections_add(struct nuauth_connections *cs, const struct nuauth_peer *gw,
			    nuauth_peer_id client, const char *user, const struct nu_flow *flow)
{
	struct conn *c = g_hash_table_lookup(cs->by_flow, flow);

	if (c && strcmp(c->gw_id, gw->name) != 0)
		return;		/* another gateway's (a second firewall on the path) */
	if (c)
		forget(cs, c);	/* a retransmitted SYN answered again */
	if (g_hash_table_size(cs->by_flow) >= CONNECTIONS_MAX)
		evict_one(cs);
	c = g_new0(struct conn, 1);
	c->flow = *flow;
	c->cs = cs;
	c->gw = gw->id;
	c->gw_id = g_strdup(gw->name);
	c->client = client;
	c->session = session_of(cs, client);
	c->user = g_strdup(user);
	c->start = g_get_monotonic_time();
	c->wall_start = time(NULL);
	c->link.data = c;
	g_queue_push_tail_link(&cs->order, &c->link);
	g_hash_table_insert(cs->by_flow, &c->flow, c);
}

void nuauth_connections_ended(struct nuauth_connections *cs, const struct nuauth_peer *gw,
			      const struct nu_conn_end *end)
{
	struct conn *c = g_hash_table_lookup(cs->by_flow, &end->flow);
	struct nuauth_conn_end_event ev;
	char text[NU_FLOW_STRLEN];

	/* Only the gateway that passed the connection reports its end. */
	if (!c || strcmp(c->gw_id, gw->name) != 0)
		return;		/* not one of ours, or forgotten */
	ev = (struct nuauth_conn_end_event){
		.user = c->user, .flow = c->flow, .start = c->wall_start, .end = time(NULL),
		.packets_out = end->packets_out, .bytes_out = end->bytes_out,
		.packets_in = end->packets_in, .bytes_in = end->bytes_in,
	};
	log_notice("user %s: %s ended after %.1f s: %" G_GUINT64_FORMAT " bytes out (%"
		   G_GUINT64_FORMAT " packets), %" G_GUINT64_FORMAT " bytes in (%"
		   G_GUINT64_FORMAT " packets)", c->user,
		   nu_flow_format(&end->flow, text, sizeof(text)),
		   (double)(g_get_monotonic_time() - c->start) / G_USEC_PER_SEC,
		   end->bytes_out, end->packets_out, end->bytes_in, end->packets_in);
	nuauth_hooks_conn_end(cs->srv, &ev);
	remember_end(cs, &ev);
	forget(cs, c);
}

static void send_destroy(struct nuauth_peer *gw, const struct nu_flow *flow)
{
	gw->ops->destroy(gw->link, flow);
}

struct destroy_elsewhere {
	const char *owner;
	const struct nu_flow *flow;
};

static void destroy_on_other(struct nuauth_peer *peer, void *ctx)
{
	const struct destroy_elsewhere *d = ctx;

	if (strcmp(peer->name, d->owner) != 0)
		send_destroy(peer, d->flow);
}

/* A gateway pair (doc/gateway-pair.md): after a takeover the connection
 * runs through the other gateway of the pair, whose conntrack entry came
 * from conntrackd, and which nuauth cannot tell from a stranger.  So an
 * end goes to every gateway link; one without the flow finds nothing to
 * delete and says nothing.  Only the owner's report of the end counts. */
static void send_destroy_elsewhere(struct nuauth_connections *cs, const struct conn *c)
{
	struct destroy_elsewhere d = { .owner = c->gw_id, .flow = &c->flow };

	nuauth_peers_foreach(cs->srv->peers, NUAUTH_PEER_GATEWAY, destroy_on_other, &d);
}

static void send_expires(struct nuauth_peer *gw, const struct nu_flow *flow, time_t expires)
{
	gw->ops->expires(gw->link, flow, expires);
}

/* Has the gateway end c now, or when one of its links is back. */
static void end_connection(struct nuauth_connections *cs, struct conn *c)
{
	struct nuauth_peer *gw = gateway_of(cs, c);

	if (gw) {
		/* Kept for the report of its end, with its byte counts. */
		send_destroy(gw, &c->flow);
		send_destroy_elsewhere(cs, c);
		c->ending = true;
		c->end_due = false;
		if (c->expiry_timer)
			g_source_remove(c->expiry_timer);
		c->expiry_timer = 0;
	} else {
		send_destroy_elsewhere(cs, c);
		c->end_due = true;
	}
}

static void session_end_on(struct nuauth_peer *gw, void *ctx)
{
	if (gw->ops->session_end)
		gw->ops->session_end(gw->link, *(const uint64_t *)ctx);
}

unsigned nuauth_connections_end_user(struct nuauth_connections *cs, nuauth_peer_id client)
{
	GList *l = cs->order.head;
	uint64_t session = session_of(cs, client);
	unsigned n = 0;

	while (l) {
		GList *next = l->next;
		struct conn *c = l->data;

		if (client && c->client == client && !c->end_due && !c->ending) {
			end_connection(cs, c);
			n++;
		}
		l = next;
	}
	/* What another node accepted for this session (before a failover),
	 * or this one before it restarted, only the gateways know: each ends
	 * its share.  Sent on every link (nufw's table is one for all its
	 * queues: the later copies find nothing), after this node's own
	 * CONN_DESTROYs, which nufw has forgotten by then. */
	if (session)
		nuauth_peers_foreach(cs->srv->peers, NUAUTH_PEER_GATEWAY, session_end_on, &session);
	return n;
}

unsigned nuauth_connections_adopt(struct nuauth_connections *cs, nuauth_peer_id client)
{
	uint64_t session = session_of(cs, client);
	unsigned n = 0;

	if (!session)
		return 0;
	for (GList *l = cs->order.head; l; l = l->next) {
		struct conn *c = l->data;

		if (!c->client && c->session == session) {
			c->client = client;
			n++;
		}
	}
	return n;
}

unsigned nuauth_connections_end_address(struct nuauth_connections *cs, const char *user,
					const struct in6_addr *addr)
{
	GList *l = cs->order.head;
	unsigned n = 0;

	while (l) {
		GList *next = l->next;
		struct conn *c = l->data;

		if (!c->client && !c->end_due && !c->ending && strcmp(c->user, user) == 0 &&
		    memcmp(&c->flow.saddr, addr, sizeof(*addr)) == 0) {
			end_connection(cs, c);
			n++;
		}
		l = next;
	}
	return n;
}

void nuauth_connections_foreach(const struct nuauth_connections *cs,
				nuauth_connection_fn fn, void *ctx)
{
	for (GList *l = cs->order.head; l; l = l->next) {
		const struct conn *c = l->data;

		fn(c->user, &c->flow, c->start, gateway_of((struct nuauth_connections *)cs, c),
		   c->gw_id, ctx);
	}
}

static void client_gone(struct nuauth_connections *cs, nuauth_peer_id client)
{
	for (GList *l = cs->order.head; l; l = l->next) {
		struct conn *c = l->data;

		if (c->client == client)
			c->client = 0;
	}
}

/* A link of a gateway is gone: its connections move to another link of
 * the same gateway, or wait for one. */
static void gateway_gone(struct nuauth_connections *cs, const struct nuauth_peer *gw)
{
	struct nuauth_peer *other = nuauth_peers_find_gateway(cs->srv->peers, gw->name, gw->id);

	for (GList *l = cs->order.head; l; l = l->next) {
		struct conn *c = l->data;

		if (c->gw != gw->id)
			continue;
		c->gw = other ? other->id : 0;
		/* An end or an end time sent on the link that failed may never
		 * have left. */
		if (other && c->ending)
			send_destroy(other, &c->flow);
		else if (other && c->expiry_moved && !c->end_due)
			send_expires(other, &c->flow, c->expires);
	}
}

static void on_peer_gone(const struct nuauth_peer *peer, void *ctx)
{
	if (peer->kind == NUAUTH_PEER_GATEWAY)
		gateway_gone(ctx, peer);
	else
		client_gone(ctx, peer->id);
}

unsigned nuauth_connections_gateway_back(struct nuauth_connections *cs,
					 struct nuauth_peer *gw)
{
	const char *id = gw->name;
	GList *l = cs->order.head;
	unsigned n = 0;

	while (l) {
		GList *next = l->next;
		struct conn *c = l->data;

		l = next;
		if (c->gw || strcmp(c->gw_id, id) != 0)
			continue;
		c->gw = gw->id;
		if (c->end_due || c->ending)
			end_connection(cs, c);	/* again, for an ending one */
		else if (c->expiry_moved)
			send_expires(gw, &c->flow, c->expires);
		n++;
	}
	return n;
}

/* ---- connections accepted within a time period ---- */

static gboolean on_expiry(gpointer data);

/* Arms the timer of c for its expiry (at most an hour ahead: the wall
 * clock may move meanwhile, so a long wait is checked again). */
static void arm_expiry(struct conn *c)
{
	gint64 left_ms = ((gint64)c->expires * G_USEC_PER_SEC - g_get_real_time()) / 1000 + 1;

	if (left_ms < 0)
		left_ms = 0;
	if (left_ms > 3600 * 1000)
		left_ms = 3600 * 1000;
	c->expiry_timer = g_timeout_add((guint)left_ms, on_expiry, c);
}

static gboolean on_expiry(gpointer data)
{
	struct conn *c = data;
	char text[NU_FLOW_STRLEN];

	c->expiry_timer = 0;
	if (g_get_real_time() < (gint64)c->expires * G_USEC_PER_SEC) {
		arm_expiry(c);
		return G_SOURCE_REMOVE;
	}
	log_notice("user %s: %s: the period of acl %s ended: closing the connection%s", c->user,
		   nu_flow_format(&c->flow, text, sizeof(text)), c->expiry_acl,
		   c->gw ? "" : " when its gateway is back");
	end_connection(c->cs, c);
	return G_SOURCE_REMOVE;
}

void nuauth_connections_set_expiry(struct nuauth_connections *cs, const struct nu_flow *flow,
				   time_t expires, const char *acl, const char *period)
{
	struct conn *c = g_hash_table_lookup(cs->by_flow, flow);

	if (!c || !expires)
		return;
	if (c->expiry_timer)
		g_source_remove(c->expiry_timer);
	g_free(c->expiry_acl);
	g_free(c->expiry_period);
	c->expires = expires;
	c->expiry_acl = g_strdup(acl);
	c->expiry_period = g_strdup(period);
	arm_expiry(c);
}

unsigned nuauth_connections_recheck_periods(struct nuauth_connections *cs,
					    struct nuauth_server *srv)
{
	time_t now = time(NULL), ends_at;
	GList *l = cs->order.head;
	char text[NU_FLOW_STRLEN];
	unsigned n = 0;

	while (l) {
		GList *next = l->next;
		struct conn *c = l->data;

		l = next;
		if (!c->expiry_period || c->end_due || c->ending)
			continue;
		if (c->expiry_timer)
			g_source_remove(c->expiry_timer);
		c->expiry_timer = 0;
		if (nuauth_period_current(srv, c->expiry_period, now, &ends_at)) {
			time_t from_start;

			/* A period that limits how long a connection lasts
			 * (duration=) counts from its acceptance, not from
			 * the reload: the earlier of the two ends. */
			if (c->wall_start < now &&
			    nuauth_period_current(srv, c->expiry_period, c->wall_start,
						  &from_start) &&
			    from_start && (!ends_at || from_start < ends_at))
				ends_at = from_start;
			if (ends_at != c->expires) {
				/* nufw ends it at the time it was given:
				 * move that too. */
				struct nuauth_peer *gw = gateway_of(cs, c);

				c->expiry_moved = true;
				if (gw)
					send_expires(gw, &c->flow, ends_at);
			}
			c->expires = ends_at;
			if (ends_at)
				arm_expiry(c);
			continue;
		}
		log_notice("user %s: %s: after the reload, period %s of acl %s does not cover "
			   "now: closing the connection", c->user,
			   nu_flow_format(&c->flow, text, sizeof(text)), c->expiry_period,
			   c->expiry_acl);
		end_connection(cs, c);
		n++;
	}
	return n;
}
