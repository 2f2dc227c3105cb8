/* nuauth's correlation (src/nuauth/correlate.c): which claims count, and
 * when a flow is decided.  It links correlate.c with its floor and below
 * (peers.c, peer_log.c): the clients are peers with fake operations that
 * count the pushes, and the answer stage above (answer.c) is a fake that
 * records the decisions and their owners.  The cluster's directory
 * (cluster.c) is a fake too: the addresses another node holds. */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>

#include "nuauth.h"
#include "unit.h"

/* ---- fake peers and answer stage ---- */

struct nuauth_client {
	struct nuauth_session_user user;
	struct in6_addr addr;
	unsigned pushes;
	struct nuauth_peer *peer;	/* while "logged in" */
};

struct sent {
	uint32_t packet_id;
	int verdict;
	uint32_t mark;
	bool not_mine;
};

static GArray *decisions;		/* struct sent */
static char owner[64];			/* user of the last packet accepted */
static nuauth_peer_id owner_client;

static void fake_push(void *link, const struct nu_flow *flow)
{
	struct nuauth_client *cl = link;

	(void)flow;
	cl->pushes++;
}

static const struct nuauth_peer_ops client_ops = { .push = fake_push };
static const struct nuauth_peer_ops gateway_ops = { 0 };

/* The answer stage (answer.c) as correlate.c sees it: what it was asked to
 * send.  A user's packet is accepted with the uid for mark. */
void nuauth_answer_user(struct nuauth_server *srv, nuauth_peer_id gw,
			const struct nu_packet_ask *ask, const struct nuauth_session_user *su,
			nuauth_peer_id client, const char *app, const uint8_t *app_sha256,
			gint64 arrived)
{
	struct sent s = { .packet_id = ask->packet_id, .verdict = NU_VERDICT_ACCEPT,
			  .mark = su->uid };

	(void)srv, (void)gw, (void)app, (void)app_sha256;
	CHECK(arrived > 0);
	g_array_append_val(decisions, s);
	g_strlcpy(owner, su->name, sizeof(owner));
	owner_client = client;
}

void nuauth_answer_verdict(struct nuauth_server *srv, nuauth_peer_id gw, uint32_t packet_id,
			   int verdict, gint64 arrived)
{
	struct sent s = { .packet_id = packet_id, .verdict = verdict };

	(void)srv, (void)gw;
	CHECK(arrived > 0);
	g_array_append_val(decisions, s);
}

void nuauth_answer_not_mine(struct nuauth_server *srv, nuauth_peer_id gw, uint32_t packet_id,
			    int verdict)
{
	struct sent s = { .packet_id = packet_id, .verdict = verdict, .not_mine = true };

	(void)srv, (void)gw;
	g_array_append_val(decisions, s);
}

/* The directory: in a cluster (cluster_on), elsewhere holds the address
 * another node has a client at. */
static bool cluster_on;
static struct in6_addr elsewhere;

bool nuauth_cluster_enabled(const struct nuauth_cluster *c)
{
	(void)c;
	return cluster_on;
}

bool nuauth_cluster_synced(const struct nuauth_cluster *c)
{
	(void)c;
	return true;
}

bool nuauth_cluster_owned_elsewhere(const struct nuauth_cluster *c, const struct in6_addr *addr)
{
	(void)c;
	return cluster_on && memcmp(addr, &elsewhere, sizeof(*addr)) == 0;
}

bool nuauth_answer_portal(struct nuauth_server *srv, nuauth_peer_id gw,
			  const struct nu_packet_ask *ask, gint64 arrived)
{
	(void)srv, (void)gw, (void)ask, (void)arrived;
	return false;
}

/* ipauth.c as correlate.c sees it: an address session names "sessuser"
 * at session_addr (when set); session_only says whether a client disowned
 * the packet.  Taken packets are accepted with mark 4242. */
static struct in6_addr session_addr;
static unsigned ipauth_calls, ipauth_session_only;

bool nuauth_ipauth_packet(struct nuauth_ipauth *ia, nuauth_peer_id gw,
			  const struct nu_packet_ask *ask, bool session_only)
{
	struct sent s = { .packet_id = ask->packet_id, .verdict = NU_VERDICT_ACCEPT,
			  .mark = 4242 };

	(void)ia, (void)gw;
	ipauth_calls++;
	ipauth_session_only += session_only;
	if (memcmp(&ask->flow.saddr, &session_addr, sizeof(session_addr)) != 0)
		return false;
	g_array_append_val(decisions, s);
	g_strlcpy(owner, "sessuser", sizeof(owner));
	owner_client = 0;
	return true;
}

/* ---- helpers ---- */

static struct nuauth_server srv;
static struct nuauth_correlator *cor;
static GArray *groups;
static struct nuauth_peer *gw;
static struct nuauth_client carol, dave, alice, carol2, far;

static void client_init(struct nuauth_client *cl, const char *name, uint32_t uid,
			const char *addr)
{
	memset(cl, 0, sizeof(*cl));
	cl->user.name = (char *)name;
	cl->user.uid = uid;
	cl->user.groups = groups;
	nu_addr_from_v4(&cl->addr, inet_addr(addr));
}

static struct nu_flow flow(const char *saddr, uint16_t sport)
{
	struct nu_flow f;

	memset(&f, 0, sizeof(f));
	f.family = AF_INET;
	f.proto = IPPROTO_TCP;
	f.sport = sport;
	f.dport = 7006;
	nu_addr_from_v4(&f.saddr, inet_addr(saddr));
	nu_addr_from_v4(&f.daddr, inet_addr("10.202.0.2"));
	return f;
}

static void packet(uint32_t id, const struct nu_flow *f)
{
	struct nu_packet_ask ask;

	memset(&ask, 0, sizeof(ask));
	ask.packet_id = id;
	ask.flow = *f;
	nuauth_correlate_packet(cor, gw->id, &ask);
}

static void claim(struct nuauth_client *cl, const struct nu_flow *f)
{
	struct nu_announce_conn c;

	memset(&c, 0, sizeof(c));
	c.flow = *f;
	nuauth_correlate_announce(cor, cl->peer, &c, false);
}

static void not_mine(struct nuauth_client *cl, const struct nu_flow *f)
{
	struct nu_announce_conn c;

	memset(&c, 0, sizeof(c));
	c.flow = *f;
	nuauth_correlate_announce(cor, cl->peer, &c, true);
}

/* cl logs in: a peer (as client_session.c registers it), then ready. */
static void ready(struct nuauth_client *cl)
{
	cl->peer = nuauth_peers_add(srv.peers, NUAUTH_PEER_CLIENT, &cl->addr, cl->user.name,
				    &client_ops, cl);
	cl->peer->user = &cl->user;
	nuauth_correlate_client_ready(cor, cl->peer);
}

/* cl's link closes: the registry's "gone" event. */
static void gone(struct nuauth_client *cl)
{
	nuauth_peers_remove(srv.peers, cl->peer->id);
	cl->peer = NULL;
}

static void reset(void)
{
	nuauth_correlator_free(cor);
	cor = nuauth_correlator_new(&srv);
	srv.correlator = cor;
	g_array_set_size(decisions, 0);
	memset(&srv.stats, 0, sizeof(srv.stats));
	owner[0] = '\0';
	owner_client = 0;
	carol.pushes = carol2.pushes = dave.pushes = alice.pushes = far.pushes = 0;
}

/* The last decision sent: verdict and mark, for packet id. */
static bool decided(uint32_t id, int verdict, uint32_t mark)
{
	for (guint i = 0; i < decisions->len; i++) {
		struct sent *s = &g_array_index(decisions, struct sent, i);

		if (s->packet_id == id)
			return s->verdict == verdict && s->mark == mark && !s->not_mine;
	}
	return false;
}

/* ---- tests ---- */

static void test_single_client(void)
{
	struct nu_flow f = flow("10.201.0.2", 40000);

	reset();
	ready(&carol);
	packet(1, &f);
	CHECK(carol.pushes == 1 && srv.stats.pushes == 1 && decisions->len == 0);
	claim(&carol, &f);
	CHECK(decisions->len == 1 && decided(1, NU_VERDICT_ACCEPT, 1003));
	CHECK(strcmp(owner, "carol") == 0 && owner_client == carol.peer->id);
	CHECK(nuauth_correlate_pending(cor) == 0);
	/* a late answer is an unmatched claim, and stores nothing */
	claim(&carol, &f);
	CHECK(decisions->len == 1 && srv.stats.announces_unmatched == 1);
	gone(&carol);
}

static void test_early_claims(void)
{
	struct nu_flow f = flow("10.201.0.2", 40001);

	reset();
	ready(&dave);
	ready(&carol);
	/* dave announces before the packet exists: counted, not kept */
	for (int i = 0; i < 5; i++)
		claim(&dave, &f);
	CHECK(srv.stats.announces_unmatched == 5 && decisions->len == 0);
	packet(2, &f);
	CHECK(carol.pushes == 1 && dave.pushes == 1);
	/* carol claims; dave has not answered: no decision */
	claim(&carol, &f);
	CHECK(decisions->len == 0 && nuauth_correlate_pending(cor) == 1);
	not_mine(&dave, &f);
	CHECK(decisions->len == 1 && decided(2, NU_VERDICT_ACCEPT, 1003));
	CHECK(strcmp(owner, "carol") == 0);
	gone(&dave);
	gone(&carol);
}

static void test_conflict(void)
{
	struct nu_flow f = flow("10.201.0.2", 40002), g = flow("10.201.0.2", 40003);

	reset();
	ready(&carol);
	ready(&dave);
	ready(&alice);
	packet(3, &f);
	packet(4, &f);		/* a retransmitted SYN waits with it, unasked */
	CHECK(carol.pushes == 1 && dave.pushes == 1 && alice.pushes == 1);
	claim(&dave, &f);
	CHECK(decisions->len == 0);
	claim(&carol, &f);	/* alice has not answered: the drop is certain anyway */
	CHECK(decisions->len == 2 && decided(3, NU_VERDICT_DROP, 0) && decided(4, NU_VERDICT_DROP, 0));
	CHECK(srv.stats.claim_conflicts == 1 && owner[0] == '\0');
	CHECK(nuauth_correlate_pending(cor) == 0);
	not_mine(&alice, &f);	/* too late: ignored */
	CHECK(decisions->len == 2);

	/* the first answer stands: "not mine" then a claim is "not mine" */
	packet(5, &g);
	not_mine(&dave, &g);
	claim(&dave, &g);
	not_mine(&alice, &g);
	CHECK(decisions->len == 2);
	claim(&carol, &g);
	CHECK(decisions->len == 3 && decided(5, NU_VERDICT_ACCEPT, 1003));
	gone(&carol);
	gone(&dave);
	gone(&alice);
}

static void test_nobody_and_gone(void)
{
	struct nu_flow f = flow("10.201.0.2", 40004), g = flow("10.201.0.2", 40005);

	reset();
	ready(&carol);
	ready(&dave);
	/* everyone says "not mine": it waits for the timeout */
	packet(6, &f);
	not_mine(&carol, &f);
	not_mine(&dave, &f);
	CHECK(decisions->len == 0 && nuauth_correlate_pending(cor) == 1);
	/* carol claims, dave's link closes before he answers: carol's */
	packet(7, &g);
	claim(&carol, &g);
	CHECK(decisions->len == 0);
	gone(&dave);
	CHECK(decisions->len == 1 && decided(7, NU_VERDICT_ACCEPT, 1003));
	gone(&carol);
	CHECK(nuauth_correlate_pending(cor) == 1);	/* f still waits */
}

/* An address session on a host with clients (ipsession.c): a client's
 * claim wins, and ipauth is not even asked; a flow every client disowned
 * goes to the session's user; without a session it waits as before. */
static void test_address_session(void)
{
	struct nu_flow f = flow("10.201.0.2", 40020), g = flow("10.201.0.2", 40021);
	struct nu_flow h = flow("10.201.0.9", 40022);

	reset();
	nu_addr_from_v4(&session_addr, inet_addr("10.201.0.2"));
	ipauth_calls = ipauth_session_only = 0;
	ready(&carol);
	ready(&dave);
	packet(30, &f);
	CHECK(ipauth_calls == 0 && carol.pushes == 1 && dave.pushes == 1);
	claim(&carol, &f);
	not_mine(&dave, &f);
	CHECK(decided(30, NU_VERDICT_ACCEPT, 1003) && strcmp(owner, "carol") == 0);
	CHECK(ipauth_calls == 0);
	/* nobody's: the session's, after the last "not mine" only */
	packet(31, &g);
	packet(32, &g);			/* a retransmission waits with it */
	not_mine(&carol, &g);
	CHECK(ipauth_calls == 0 && !decided(31, NU_VERDICT_ACCEPT, 4242));
	not_mine(&dave, &g);
	CHECK(decided(31, NU_VERDICT_ACCEPT, 4242) && decided(32, NU_VERDICT_ACCEPT, 4242));
	CHECK(strcmp(owner, "sessuser") == 0 && ipauth_session_only == 2);
	CHECK(nuauth_correlate_pending(cor) == 0);
	/* a host without a client: ipauth first (session or modules) */
	packet(33, &h);
	CHECK(ipauth_calls == 3 && ipauth_session_only == 2);
	CHECK(nuauth_correlate_pending(cor) == 1);	/* no session there */
	memset(&session_addr, 0, sizeof(session_addr));
	gone(&carol);
	gone(&dave);
}

static void test_late_login(void)
{
	struct nu_flow f = flow("10.201.0.2", 40006);
	unsigned before;

	reset();
	packet(8, &f);		/* nobody at the address yet */
	CHECK(decisions->len == 0);
	before = carol.pushes;
	ready(&carol);
	CHECK(carol.pushes == before + 1);
	before = dave.pushes;
	ready(&dave);
	CHECK(dave.pushes == before + 1);
	claim(&carol, &f);
	CHECK(decisions->len == 0);	/* dave, asked at his login, must answer */
	not_mine(&dave, &f);
	CHECK(decisions->len == 1 && decided(8, NU_VERDICT_ACCEPT, 1003));
	gone(&carol);
	gone(&dave);
}

static void test_same_user_and_address(void)
{
	struct nu_flow f = flow("10.201.0.2", 40007), g = flow("10.201.0.2", 40008);

	reset();
	ready(&carol);
	ready(&carol2);
	ready(&far);
	/* two sessions of one user both claim: hers */
	packet(9, &f);
	CHECK(far.pushes == 0);		/* another address is not asked */
	claim(&carol2, &f);
	claim(&carol, &f);
	CHECK(decisions->len == 1 && decided(9, NU_VERDICT_ACCEPT, 1003));
	/* a claim from another address is refused (ip equality) */
	srv.cfg.user_check_ip_equality = true;
	packet(10, &g);
	claim(&far, &g);
	not_mine(&carol2, &g);
	CHECK(decisions->len == 1 && srv.stats.announces_unmatched == 0);
	/* without ip equality it counts as one more answer */
	srv.cfg.user_check_ip_equality = false;
	claim(&far, &g);
	CHECK(decisions->len == 1);
	claim(&carol, &g);
	CHECK(decisions->len == 2 && decided(10, NU_VERDICT_DROP, 0));
	gone(&far);
	gone(&carol);
	gone(&carol2);
	srv.cfg.user_check_ip_equality = true;
}

static gboolean quit_loop(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

static void test_timeout(void)
{
	struct nu_flow f = flow("10.201.0.2", 40009);
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);

	reset();
	ready(&carol);
	ready(&dave);
	packet(11, &f);
	claim(&carol, &f);		/* dave never answers */
	g_timeout_add(1300, quit_loop, loop);
	g_main_loop_run(loop);
	CHECK(decisions->len == 1 && decided(11, NU_VERDICT_DROP, 0));
	CHECK(srv.stats.timeouts == 1 && nuauth_correlate_pending(cor) == 0);
	gone(&carol);
	gone(&dave);
	g_main_loop_unref(loop);
}

/* "not mine" for packet id, with verdict. */
static bool said_not_mine(uint32_t id, int verdict)
{
	for (guint i = 0; i < decisions->len; i++) {
		struct sent *s = &g_array_index(decisions, struct sent, i);

		if (s->packet_id == id)
			return s->not_mine && s->verdict == verdict;
	}
	return false;
}

/* A cluster: a node never decides for an address it holds no client at;
 * it says "not mine" (at once when another node holds the address). */
static void test_cluster(void)
{
	struct nu_flow f = flow("10.201.0.9", 40010), g = flow("10.201.0.2", 40011);
	struct nu_flow h = flow("10.201.0.7", 40012), k = flow("10.201.0.2", 40013);
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);

	reset();
	cluster_on = true;
	nu_addr_from_v4(&elsewhere, inet_addr("10.201.0.9"));
	/* frank's desktop is another node's: not mine at once */
	packet(20, &f);
	CHECK(decisions->len == 1 && said_not_mine(20, NU_VERDICT_DROP));
	CHECK(nuauth_correlate_pending(cor) == 0);
	/* carol is here: her claim is decided here as ever */
	ready(&carol);
	packet(21, &g);
	claim(&carol, &g);
	CHECK(decisions->len == 2 && decided(21, NU_VERDICT_ACCEPT, 1003));
	/* a shared address (carol here, someone on another node): carol
	 * says not mine, so the other node's user may own it */
	nu_addr_from_v4(&elsewhere, inet_addr("10.201.0.2"));
	packet(22, &k);
	CHECK(decisions->len == 2);
	not_mine(&carol, &k);
	CHECK(decisions->len == 3 && said_not_mine(22, NU_VERDICT_DROP));
	/* nobody anywhere: it waits (a client may log in here), then "not
	 * mine" with the timeout's verdict, never a decision of its own */
	srv.cfg.reject_after_timeout = true;
	packet(23, &h);
	CHECK(decisions->len == 3 && nuauth_correlate_pending(cor) == 1);
	g_timeout_add(1300, quit_loop, loop);
	g_main_loop_run(loop);
	CHECK(decisions->len == 4 && said_not_mine(23, NU_VERDICT_REJECT));
	srv.cfg.reject_after_timeout = false;
	gone(&carol);
	cluster_on = false;
	g_main_loop_unref(loop);
}

int main(void)
{
	groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	decisions = g_array_new(FALSE, FALSE, sizeof(struct sent));
	srv.cfg.packet_timeout = 1;
	srv.cfg.user_check_ip_equality = true;
	srv.peers = nuauth_peers_new();
	gw = nuauth_peers_add(srv.peers, NUAUTH_PEER_GATEWAY, &in6addr_any, "gw", &gateway_ops, NULL);
	srv.peer_log = nuauth_peer_log_new(PEER_LOG_BURST, PEER_LOG_REFILL_S, PEER_LOG_INTERVAL_S,
					   false);
	client_init(&carol, "carol", 1003, "10.201.0.2");
	client_init(&carol2, "carol", 1003, "10.201.0.2");
	client_init(&dave, "dave", 1004, "10.201.0.2");
	client_init(&alice, "alice", 1001, "10.201.0.2");
	client_init(&far, "frank", 1005, "10.201.0.9");
	test_single_client();
	test_early_claims();
	test_conflict();
	test_nobody_and_gone();
	test_address_session();
	test_late_login();
	test_same_user_and_address();
	test_timeout();
	test_cluster();
	nuauth_correlator_free(cor);
	nuauth_peers_free(srv.peers);
	g_array_free(decisions, TRUE);
	g_array_free(groups, TRUE);
	nuauth_peer_log_free(srv.peer_log);
	return unit_done("correlate");
}
