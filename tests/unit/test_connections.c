/* nuauth's table of accepted connections (src/nuauth/connections.c) with
 * its floor and below only (peers.c): gateways are peers whose fake
 * operations record each CONN_DESTROY and CONN_EXPIRES, and the module
 * hooks and periods (modules.c, decide.c) are fakes.  It shows who ends a
 * connection, and that a gateway's connections follow its links. */
#include "config.h"

#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "nuauth.h"
#include "unit.h"

/* ---- fakes ---- */

struct sent {
	char what;			/* 'd' destroy, 'e' expires */
	const char *link;		/* the gateway link's tag */
	struct nu_flow flow;
	time_t expires;
};

static GArray *sent;			/* struct sent */
static unsigned ends_logged;		/* conn_end_log hook calls */
static uint64_t last_bytes_in;
static bool period_covers;		/* what the periods say after a reload */
static time_t period_ends;

static void fake_destroy(void *link, const struct nu_flow *flow)
{
	struct sent s = { .what = 'd', .link = link, .flow = *flow };

	g_array_append_val(sent, s);
}

static void fake_expires(void *link, const struct nu_flow *flow, time_t expires)
{
	struct sent s = { .what = 'e', .link = link, .flow = *flow, .expires = expires };

	g_array_append_val(sent, s);
}

static const struct nuauth_peer_ops gateway_ops = {
	.destroy = fake_destroy,
	.expires = fake_expires,
};

void nuauth_hooks_conn_end(struct nuauth_server *srv, const struct nuauth_conn_end_event *ev)
{
	(void)srv;
	ends_logged++;
	last_bytes_in = ev->bytes_in;
}

bool nuauth_period_current(struct nuauth_server *srv, const char *period, time_t now,
			   time_t *ends_at)
{
	(void)srv, (void)period, (void)now;
	*ends_at = period_ends;
	return period_covers;
}

/* ---- helpers ---- */

static struct nuauth_server srv;
static struct nuauth_connections *cs;

static struct nu_flow flow(uint16_t sport)
{
	struct nu_flow f;

	memset(&f, 0, sizeof(f));
	f.family = AF_INET;
	f.proto = IPPROTO_TCP;
	f.sport = sport;
	f.dport = 22;
	nu_addr_from_v4(&f.saddr, inet_addr("10.201.0.2"));
	nu_addr_from_v4(&f.daddr, inet_addr("10.202.0.2"));
	return f;
}

/* A link of gateway name, tagged tag (what the fake sends record). */
static struct nuauth_peer *gateway(const char *name, const char *tag)
{
	struct nuauth_peer *p = nuauth_peers_add(srv.peers, NUAUTH_PEER_GATEWAY, &in6addr_any, name,
						 &gateway_ops, (void *)tag);

	nuauth_connections_gateway_back(cs, p);
	return p;
}

static struct nuauth_peer *client(const char *user)
{
	return nuauth_peers_add(srv.peers, NUAUTH_PEER_CLIENT, &in6addr_any, user, NULL, NULL);
}

/* Was the n-th thing sent (0: first) a what for flow f on link tag? */
static bool was_sent(guint n, char what, const char *tag, const struct nu_flow *f)
{
	struct sent *s;

	if (n >= sent->len)
		return false;
	s = &g_array_index(sent, struct sent, n);
	return s->what == what && strcmp(s->link, tag) == 0 && nu_flow_equal(&s->flow, f);
}

struct walk {
	unsigned n, away;
};

static void count_one(const char *user, const struct nu_flow *f, gint64 start,
		      const struct nuauth_peer *gw, const char *gw_id, void *ctx)
{
	struct walk *w = ctx;

	(void)user, (void)f, (void)start, (void)gw_id;
	w->n++;
	w->away += gw == NULL;
}

static struct walk walk(void)
{
	struct walk w = { 0 };

	nuauth_connections_foreach(cs, count_one, &w);
	return w;
}

static void reset(void)
{
	nuauth_connections_free(cs);
	nuauth_peers_free(srv.peers);
	srv.peers = nuauth_peers_new();
	cs = nuauth_connections_new(&srv);
	g_array_set_size(sent, 0);
	ends_logged = 0;
}

/* ---- tests ---- */

static void test_end_reported(void)
{
	struct nu_flow f = flow(40000);
	struct nuauth_peer *gw, *other;
	struct nu_conn_end end = { .flow = f, .bytes_in = 1234 };

	reset();
	gw = gateway("fw1", "fw1-a");
	other = gateway("fw2", "fw2-a");
	nuauth_connections_add(cs, gw, client("carol")->id, "carol", &f);
	CHECK(walk().n == 1);
	/* only the gateway that passed it reports its end */
	nuauth_connections_ended(cs, other, &end);
	CHECK(ends_logged == 0 && walk().n == 1);
	nuauth_connections_ended(cs, gw, &end);
	CHECK(ends_logged == 1 && last_bytes_in == 1234 && walk().n == 0);
	CHECK(sent->len == 0);
}

static void test_logout_ends(void)
{
	struct nu_flow f = flow(40001), g = flow(40002);
	struct nuauth_peer *gw, *carol, *dave;
	nuauth_peer_id dave_id;

	reset();
	gw = gateway("fw1", "fw1-a");
	carol = client("carol");
	dave = client("dave");
	nuauth_connections_add(cs, gw, carol->id, "carol", &f);
	nuauth_connections_add(cs, gw, dave->id, "dave", &g);
	CHECK(nuauth_connections_end_user(cs, carol->id) == 1);
	CHECK(sent->len == 1 && was_sent(0, 'd', "fw1-a", &f));
	/* ending: not asked again, kept for its end report */
	CHECK(nuauth_connections_end_user(cs, carol->id) == 0 && sent->len == 1);
	CHECK(walk().n == 2);
	/* dave's link is gone: his connection stays, no logout can end it */
	dave_id = dave->id;
	nuauth_peers_remove(srv.peers, dave_id);
	CHECK(nuauth_connections_end_user(cs, dave_id) == 0 && sent->len == 1 && walk().n == 2);
	/* an ip-authenticated user's connection (no client) is nobody's */
	CHECK(nuauth_connections_end_user(cs, 0) == 0);
}

static void test_gateway_links(void)
{
	struct nu_flow f = flow(40003), g = flow(40004);
	struct nuauth_peer *a, *b, *carol;

	reset();
	a = gateway("fw1", "fw1-a");
	b = gateway("fw1", "fw1-b");	/* a second queue's link */
	carol = client("carol");
	nuauth_connections_add(cs, a, carol->id, "carol", &f);
	nuauth_connections_add(cs, a, 0, "guest", &g);
	CHECK(nuauth_connections_end_user(cs, carol->id) == 1 && was_sent(0, 'd', "fw1-a", &f));
	/* link a fails: its connections move to b, and the end sent on a
	 * (which may never have left) is sent again on b */
	nuauth_peers_remove(srv.peers, a->id);
	CHECK(sent->len == 2 && was_sent(1, 'd', "fw1-b", &f));
	CHECK(walk().n == 2 && walk().away == 0);
	/* b fails too: they wait for the gateway */
	nuauth_peers_remove(srv.peers, b->id);
	CHECK(walk().away == 2 && sent->len == 2);
	/* the gateway is back (nufw restarted): the ending one is ended
	 * again, the other is followed */
	gateway("fw1", "fw1-c");
	CHECK(sent->len == 3 && was_sent(2, 'd', "fw1-c", &f));
	CHECK(walk().away == 0);
	/* another gateway's link coming up takes none */
	nuauth_peers_remove(srv.peers, nuauth_peers_find_gateway(srv.peers, "fw1", 0)->id);
	CHECK(nuauth_connections_gateway_back(cs, nuauth_peers_add(srv.peers, NUAUTH_PEER_GATEWAY,
			&in6addr_any, "fw2", &gateway_ops, (void *)"fw2-a")) == 0);
	CHECK(walk().away == 2);
}

static void test_period_end(void)
{
	struct nu_flow f = flow(40005), g = flow(40006);
	struct nuauth_peer *gw;
	gint64 deadline;

	reset();
	gw = gateway("fw1", "fw1-a");
	nuauth_connections_add(cs, gw, 0, "guest", &f);
	nuauth_connections_set_expiry(cs, &f, time(NULL) - 1, "workhours", "office");
	/* the timer ends it on the main loop */
	deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
	while (sent->len == 0 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	CHECK(sent->len == 1 && was_sent(0, 'd', "fw1-a", &f));

	/* a reload that moves the period's end: the gateway is told */
	nuauth_connections_add(cs, gw, 0, "guest", &g);
	nuauth_connections_set_expiry(cs, &g, time(NULL) + 3600, "workhours", "office");
	period_covers = true;
	period_ends = time(NULL) + 7200;
	CHECK(nuauth_connections_recheck_periods(cs, &srv) == 0);
	CHECK(sent->len == 2 && was_sent(1, 'e', "fw1-a", &g) &&
	      g_array_index(sent, struct sent, 1).expires == period_ends);
	/* a reload after which the period does not cover now: ended */
	period_covers = false;
	CHECK(nuauth_connections_recheck_periods(cs, &srv) == 1);
	CHECK(sent->len == 3 && was_sent(2, 'd', "fw1-a", &g));
}

/* A gateway pair (doc/gateway-pair.md): after a takeover the connection
 * runs through the other gateway, so an end goes to every gateway's links;
 * only the owner's report of the end counts. */
static void test_pair(void)
{
	struct nu_flow f = flow(40007), g = flow(40008);
	struct nuauth_peer *a, *b, *carol;
	struct nu_conn_end end = { .flow = f, .bytes_in = 99 };

	reset();
	a = gateway("gw-a", "gw-a-1");
	b = gateway("gw-b", "gw-b-1");
	carol = client("carol");
	nuauth_connections_add(cs, a, carol->id, "carol", &f);
	CHECK(nuauth_connections_end_user(cs, carol->id) == 1);
	CHECK(sent->len == 2 && was_sent(0, 'd', "gw-a-1", &f) && was_sent(1, 'd', "gw-b-1", &f));
	/* gw-b's report of the end (it carried it last) is not counted */
	nuauth_connections_ended(cs, b, &end);
	CHECK(ends_logged == 0 && walk().n == 1);
	nuauth_connections_ended(cs, a, &end);
	CHECK(ends_logged == 1 && walk().n == 0);

	/* gw-a is down: the end reaches gw-b at once, gw-a when it is back */
	g_array_set_size(sent, 0);
	nuauth_connections_add(cs, a, carol->id, "carol", &g);
	nuauth_peers_remove(srv.peers, a->id);
	CHECK(nuauth_connections_end_user(cs, carol->id) == 1);
	CHECK(sent->len == 1 && was_sent(0, 'd', "gw-b-1", &g));
	gateway("gw-a", "gw-a-2");
	CHECK(sent->len >= 2 && was_sent(1, 'd', "gw-a-2", &g));
}

int main(void)
{
	sent = g_array_new(FALSE, FALSE, sizeof(struct sent));
	test_end_reported();
	test_logout_ends();
	test_gateway_links();
	test_period_end();
	test_pair();
	nuauth_connections_free(cs);
	nuauth_peers_free(srv.peers);
	g_array_free(sent, TRUE);
	return unit_done("connections");
}
