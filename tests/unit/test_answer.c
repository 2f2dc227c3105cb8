/* nuauth's answer stage (src/nuauth/answer.c) with its floor and below
 * (connections.c, peers.c, stats.c): a matched packet is decided once,
 * answered through its gateway peer's operation, followed when accepted,
 * and told to the client that claimed it when not.  The decision pipeline
 * (decide.c) and the module hooks (modules.c) are fakes. */
#include "config.h"

#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "nuauth.h"
#include "unit.h"

/* ---- fakes ---- */

struct decision {
	const char *link;
	uint32_t packet_id;
	int verdict;
	bool has_mark;
	uint32_t mark;
	time_t expires;
	uint64_t session;
};

static GArray *decisions;		/* struct decision */
static unsigned notices, decides, packet_logs;
static char notice_text[NU_TEXT_MAX], decided_gateway[64];
static int logged_verdict;
static bool encode_fails;
static struct nuauth_decision next;	/* what nuauth_decide decides */

static bool fake_decision(void *link, uint32_t packet_id, int verdict, bool has_mark,
			  uint32_t mark, time_t expires, uint64_t session)
{
	struct decision d = { .link = link, .packet_id = packet_id, .verdict = verdict,
			      .has_mark = has_mark, .mark = mark, .expires = expires,
			      .session = session };

	if (encode_fails)
		return false;
	g_array_append_val(decisions, d);
	return true;
}

static void fake_destroy(void *link, const struct nu_flow *flow)
{
	(void)link, (void)flow;
}

static void fake_expires(void *link, const struct nu_flow *flow, time_t expires)
{
	(void)link, (void)flow, (void)expires;
}

static uint64_t session_ended;	/* the last SESSION_END's tag */
static unsigned session_ends;

static void fake_session_end(void *link, uint64_t session)
{
	(void)link;
	session_ended = session;
	session_ends++;
}

static void fake_notice(void *link, const struct nu_flow *flow, int verdict, const char *app,
			const char *text)
{
	(void)link, (void)flow, (void)verdict, (void)app;
	notices++;
	g_strlcpy(notice_text, text, sizeof(notice_text));
}

static const struct nuauth_peer_ops gateway_ops = {
	.decision = fake_decision, .destroy = fake_destroy, .expires = fake_expires,
	.session_end = fake_session_end,
};
static const struct nuauth_peer_ops client_ops = { .notice = fake_notice };

void nuauth_decide(struct nuauth_server *srv, const struct nuauth_packet *packet,
		   const struct nuauth_user *user, struct nuauth_decision *out)
{
	(void)srv, (void)user;
	decides++;
	g_strlcpy(decided_gateway, packet->gateway, sizeof(decided_gateway));
	*out = next;
}

void nuauth_hooks_packet_log(struct nuauth_server *srv, const struct nuauth_packet *packet,
			     const struct nuauth_user *user, int verdict, const char *acl_name)
{
	(void)srv, (void)packet, (void)user, (void)acl_name;
	packet_logs++;
	logged_verdict = verdict;
}

void nuauth_hooks_conn_end(struct nuauth_server *srv, const struct nuauth_conn_end_event *ev)
{
	(void)srv, (void)ev;
}

bool nuauth_period_current(struct nuauth_server *srv, const char *period, time_t now,
			   time_t *ends_at)
{
	(void)srv, (void)period, (void)now;
	*ends_at = 0;
	return true;
}

/* ---- helpers ---- */

static struct nuauth_server srv;
static struct nuauth_peer *gw, *carol_peer;
static struct nuauth_session_user carol;
static GArray *groups;

static struct nu_packet_ask ask(uint32_t id, uint16_t sport)
{
	struct nu_packet_ask a;

	memset(&a, 0, sizeof(a));
	a.packet_id = id;
	a.flow.family = AF_INET;
	a.flow.proto = IPPROTO_TCP;
	a.flow.sport = sport;
	a.flow.dport = 22;
	nu_addr_from_v4(&a.flow.saddr, inet_addr("10.201.0.2"));
	nu_addr_from_v4(&a.flow.daddr, inet_addr("10.202.0.2"));
	return a;
}

static const struct decision *last(void)
{
	return decisions->len ? &g_array_index(decisions, struct decision, decisions->len - 1)
			      : NULL;
}

static void count_one(const char *user, const struct nu_flow *f, gint64 start,
		      const struct nuauth_peer *p, const char *gw_id, void *ctx)
{
	(void)user, (void)f, (void)start, (void)p, (void)gw_id;
	(*(unsigned *)ctx)++;
}

static unsigned connections(void)
{
	unsigned n = 0;

	nuauth_connections_foreach(srv.connections, count_one, &n);
	return n;
}

static void decide_next(int verdict, uint32_t mark, const char *acl, time_t expires)
{
	memset(&next, 0, sizeof(next));
	next.verdict = verdict;
	next.mark = mark;
	next.expires = expires;
	g_strlcpy(next.acl_name, acl, sizeof(next.acl_name));
	if (expires)
		g_strlcpy(next.period, "office", sizeof(next.period));
}

/* ---- tests ---- */

static void test_accept(void)
{
	struct nu_packet_ask a = ask(1, 40000);
	time_t ends = time(NULL) + 3600;

	decide_next(NU_VERDICT_ACCEPT, 0x3eb, "ssh", ends);
	/* Its PACKET_ASK came 3 ms ago: above the histogram's 2.5 ms bucket
	 * (in the 5 ms one unless the machine stalls). */
	nuauth_answer_user(&srv, gw->id, &a, &carol, carol_peer->id, "/usr/bin/ssh", NULL,
			   g_get_monotonic_time() - 3000);
	CHECK(srv.stats.latency_count == 1 && srv.stats.latency_sum_us >= 3000);
	CHECK(nuauth_latency_bounds_us[5] == 2500);
	for (unsigned b = 0; b <= 5; b++)
		CHECK(srv.stats.latency_bucket[b] == 0);
	CHECK(decides == 1 && strcmp(decided_gateway, "fw1") == 0);
	CHECK(decisions->len == 1 && strcmp(last()->link, "fw1-a") == 0 && last()->packet_id == 1);
	CHECK(last()->verdict == NU_VERDICT_ACCEPT && last()->has_mark && last()->mark == 0x3eb &&
	      last()->expires == ends);
	/* nufw learns whose session it is */
	CHECK(last()->session == carol.session && carol.session != 0);
	CHECK(srv.stats.accepted == 1 && notices == 0);
	CHECK(connections() == 1);
	/* followed, and owned by carol's session: her logout ends it, and
	 * every gateway ends what other nodes accepted for the session */
	CHECK(nuauth_connections_end_user(srv.connections, carol_peer->id) == 1);
	CHECK(session_ends == 1 && session_ended == carol.session);
	CHECK(packet_logs == 1 && logged_verdict == NU_VERDICT_ACCEPT);
}

static void test_drop_told(void)
{
	struct nu_packet_ask a = ask(2, 40001);

	decide_next(NU_VERDICT_DROP, 0, "deny-all", 0);
	nuauth_answer_user(&srv, gw->id, &a, &carol, carol_peer->id, "", NULL, 0);
	CHECK(decisions->len == 2 && last()->verdict == NU_VERDICT_DROP && !last()->has_mark);
	CHECK(srv.stats.dropped == 1 && connections() == 1);
	CHECK(notices == 1 && strcmp(notice_text, "acl deny-all") == 0);
	/* no ACL matched: said so */
	decide_next(NU_VERDICT_REJECT, 0, "", 0);
	nuauth_answer_user(&srv, gw->id, &a, &carol, carol_peer->id, "", NULL, 0);
	CHECK(notices == 2 && strcmp(notice_text, "no acl allows it") == 0);
	CHECK(srv.stats.rejected == 1 && packet_logs == 3);
}

static void test_ip_user(void)
{
	struct nu_packet_ask a = ask(3, 40002);

	/* no client to tell */
	decide_next(NU_VERDICT_DROP, 0, "deny-all", 0);
	nuauth_answer_ip(&srv, gw->id, &a, "guest", "ipauth", NUAUTH_USER_OK, 2000, groups, 0);
	CHECK(decides == 4 && decisions->len == 4 && notices == 2);
	/* an unknown user: dropped without a decision */
	nuauth_answer_ip(&srv, gw->id, &a, "nobody", "ipauth", NUAUTH_USER_UNKNOWN, 0, groups, 0);
	CHECK(decides == 4 && decisions->len == 5 && last()->verdict == NU_VERDICT_DROP);
	nuauth_answer_ip(&srv, gw->id, &a, "guest", "ipauth", NUAUTH_USER_ERROR, 0, groups, 0);
	CHECK(decides == 4 && decisions->len == 6 && srv.stats.dropped == 4);
}

/* nuauth_portal_mark: a host with no user; HTTP accepted with the mark
 * (for the gateway's redirect), HTTPS rejected, the rest left alone; no
 * connection followed, nothing decided by the ACLs. */
static void test_portal(void)
{
	struct nu_packet_ask a = ask(5, 40003);
	guint n = decisions->len;
	unsigned conns = connections();

	a.flow.dport = 80;
	CHECK(!nuauth_answer_portal(&srv, gw->id, &a, 0));	/* off */
	srv.cfg.portal_mark = 0x77;
	CHECK(nuauth_answer_portal(&srv, gw->id, &a, 0));
	CHECK(decisions->len == n + 1 && last()->verdict == NU_VERDICT_ACCEPT &&
	      last()->has_mark && last()->mark == 0x77);
	a.flow.dport = 443;
	CHECK(nuauth_answer_portal(&srv, gw->id, &a, 0));
	CHECK(decisions->len == n + 2 && last()->verdict == NU_VERDICT_REJECT && !last()->has_mark);
	a.flow.dport = 22;
	CHECK(!nuauth_answer_portal(&srv, gw->id, &a, 0));
	a.flow.dport = 80;
	a.flow.proto = IPPROTO_UDP;
	CHECK(!nuauth_answer_portal(&srv, gw->id, &a, 0));
	CHECK(decisions->len == n + 2 && connections() == conns && decides == 4);
	srv.cfg.portal_mark = 0;
}

static void test_verdict_and_failures(void)
{
	struct nuauth_peer *gone;
	uint64_t counted;

	nuauth_answer_verdict(&srv, gw->id, 4, NU_VERDICT_REJECT, 0);
	CHECK(decisions->len == 7 && last()->packet_id == 4 && last()->verdict == NU_VERDICT_REJECT);
	CHECK(srv.stats.rejected == 2);
	/* a decision that could not be encoded is not counted as sent */
	counted = srv.stats.dropped;
	encode_fails = true;
	nuauth_answer_verdict(&srv, gw->id, 5, NU_VERDICT_DROP, 0);
	encode_fails = false;
	CHECK(decisions->len == 7 && srv.stats.dropped == counted);
	/* a gateway that is gone gets nothing (and nothing breaks) */
	gone = nuauth_peers_add(srv.peers, NUAUTH_PEER_GATEWAY, &in6addr_any, "fw9", &gateway_ops,
				(void *)"fw9-a");
	{
		nuauth_peer_id id = gone->id;

		nuauth_peers_remove(srv.peers, id);
		nuauth_answer_verdict(&srv, id, 6, NU_VERDICT_DROP, 0);
		CHECK(decisions->len == 7 && srv.stats.dropped == counted);
	}
}

/* Decisions without an arrival time are not in the histogram; logins are
 * counted by the mechanisms offered, any other name as "other". */
static void test_stats(void)
{
	struct nuauth_stats st = { 0 };
	uint64_t count = srv.stats.latency_count;

	nuauth_answer_verdict(&srv, gw->id, 9, NU_VERDICT_DROP, 0);
	CHECK(srv.stats.latency_count == count);
	nuauth_stats_latency(&st, g_get_monotonic_time() - 60 * G_USEC_PER_SEC);
	CHECK(st.latency_bucket[NUAUTH_LATENCY_BUCKETS] == 1);
	nuauth_stats_login(&st, "PLAIN", "SCRAM-SHA-256 PLAIN", true);
	nuauth_stats_login(&st, "PLAIN", "SCRAM-SHA-256 PLAIN", false);
	nuauth_stats_login(&st, "SCRAM-SHA-256", "SCRAM-SHA-256 PLAIN", true);
	nuauth_stats_login(&st, "", "SCRAM-SHA-256 PLAIN", false);
	for (int i = 0; i < 100; i++) {
		char name[16];

		g_snprintf(name, sizeof(name), "X%d", i);
		nuauth_stats_login(&st, name, "SCRAM-SHA-256 PLAIN", false);
	}
	nuauth_stats_login(&st, "PLAI", "SCRAM-SHA-256 PLAIN", false);
	CHECK(st.logins_ok == 2 && st.logins_failed == 103);
	CHECK(strcmp(st.logins[0].mech, "PLAIN") == 0 && st.logins[0].ok == 1 &&
	      st.logins[0].failed == 1);
	CHECK(strcmp(st.logins[1].mech, "SCRAM-SHA-256") == 0 && st.logins[1].ok == 1);
	CHECK(strcmp(st.logins[2].mech, "none") == 0 && st.logins[2].failed == 1);
	CHECK(st.logins[3].mech[0] == '\0');
	CHECK(strcmp(st.logins[NUAUTH_LOGIN_MECHS].mech, "other") == 0 &&
	      st.logins[NUAUTH_LOGIN_MECHS].failed == 101);
}

int main(void)
{
	decisions = g_array_new(FALSE, FALSE, sizeof(struct decision));
	groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	srv.peers = nuauth_peers_new();
	srv.connections = nuauth_connections_new(&srv);
	gw = nuauth_peers_add(srv.peers, NUAUTH_PEER_GATEWAY, &in6addr_any, "fw1", &gateway_ops,
			      (void *)"fw1-a");
	nuauth_connections_gateway_back(srv.connections, gw);
	carol = (struct nuauth_session_user){ .name = "carol", .uid = 1003, .groups = groups,
					      .session = 0x5e5510a };
	carol_peer = nuauth_peers_add(srv.peers, NUAUTH_PEER_CLIENT, &in6addr_any, "carol",
				      &client_ops, NULL);
	carol_peer->user = &carol;
	test_accept();
	test_drop_told();
	test_ip_user();
	test_verdict_and_failures();
	test_stats();
	test_portal();
	nuauth_connections_free(srv.connections);
	nuauth_peers_free(srv.peers);
	g_array_free(groups, TRUE);
	g_array_free(decisions, TRUE);
	return unit_done("answer");
}
