/* nuauth's correlation (src/nuauth/correlate.c): which claims count, and
 * when a flow is decided, with the rest of nuauth replaced by stubs that
 * record what it would send: pushes to clients, decisions to the gateway,
 * connections and their owners. */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>

#include "nuauth.h"
#include "unit.h"

/* ---- stubs ---- */

struct nuauth_client {
	struct nuauth_session_user user;
	struct in6_addr addr;
	unsigned pushes;
};

struct sent {
	uint32_t packet_id;
	int verdict;
	uint32_t mark;
};

static GArray *decisions;		/* struct sent */
static char owner[64];			/* user of the last connection added */
static const struct nuauth_client *owner_client;

const struct nuauth_session_user *nuauth_client_user(const struct nuauth_client *cl)
{
	return &cl->user;
}

const struct in6_addr *nuauth_client_addr(const struct nuauth_client *cl)
{
	return &cl->addr;
}

void nuauth_client_push(struct nuauth_client *cl, const struct nu_flow *flow)
{
	(void)flow;
	cl->pushes++;
}

void nuauth_client_notice(struct nuauth_client *cl, const struct nu_flow *flow, int verdict,
			  const char *app, const char *text)
{
	(void)cl, (void)flow, (void)verdict, (void)app, (void)text;
}

void nuauth_decide(struct nuauth_server *srv, const struct nuauth_packet *packet,
		   const struct nuauth_user *user, struct nuauth_decision *out)
{
	(void)srv, (void)packet;
	memset(out, 0, sizeof(*out));
	out->verdict = NU_VERDICT_ACCEPT;
	out->mark = user->uid;
	g_strlcpy(out->acl_name, "test", sizeof(out->acl_name));
}

void nuauth_gateway_send_decision(struct nuauth_gateway *gw, uint32_t packet_id,
				  int verdict, bool has_mark, uint32_t mark, time_t expires)
{
	struct sent s = { .packet_id = packet_id, .verdict = verdict, .mark = has_mark ? mark : 0 };

	(void)gw, (void)expires;
	g_array_append_val(decisions, s);
}

const char *nuauth_gateway_id(const struct nuauth_gateway *gw)
{
	(void)gw;
	return "gw";
}

void nuauth_connections_add(struct nuauth_connections *cs, struct nuauth_gateway *gw,
			    struct nuauth_client *client, const char *user,
			    const struct nu_flow *flow)
{
	(void)cs, (void)gw, (void)flow;
	g_strlcpy(owner, user, sizeof(owner));
	owner_client = client;
}

void nuauth_connections_set_expiry(struct nuauth_connections *cs,
				   const struct nu_flow *flow, time_t expires, const char *acl,
				   const char *period)
{
	(void)cs, (void)flow, (void)expires, (void)acl, (void)period;
}

void nuauth_hooks_packet_log(struct nuauth_server *srv, const struct nuauth_packet *packet,
			     const struct nuauth_user *user, int verdict, const char *acl_name)
{
	(void)srv, (void)packet, (void)user, (void)verdict, (void)acl_name;
}

bool nuauth_ipauth_packet(struct nuauth_ipauth *ia, struct nuauth_gateway *gw,
			  const struct nu_packet_ask *ask)
{
	(void)ia, (void)gw, (void)ask;
	return false;
}

void nuauth_ipauth_gateway_gone(struct nuauth_ipauth *ia, struct nuauth_gateway *gw)
{
	(void)ia, (void)gw;
}

/* ---- helpers ---- */

static struct nuauth_server srv;
static struct nuauth_correlator *cor;
static GArray *groups;
static struct nuauth_gateway *const GW = (struct nuauth_gateway *)&srv;	/* opaque */
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
	nuauth_correlate_packet(cor, GW, &ask);
}

static void claim(struct nuauth_client *cl, const struct nu_flow *f)
{
	struct nu_announce_conn c;

	memset(&c, 0, sizeof(c));
	c.flow = *f;
	nuauth_correlate_announce(cor, cl, &c, false);
}

static void not_mine(struct nuauth_client *cl, const struct nu_flow *f)
{
	struct nu_announce_conn c;

	memset(&c, 0, sizeof(c));
	c.flow = *f;
	nuauth_correlate_announce(cor, cl, &c, true);
}

static void reset(void)
{
	nuauth_correlator_free(cor);
	cor = nuauth_correlator_new(&srv);
	srv.correlator = cor;
	g_array_set_size(decisions, 0);
	memset(&srv.stats, 0, sizeof(srv.stats));
	owner[0] = '\0';
	owner_client = NULL;
	carol.pushes = carol2.pushes = dave.pushes = alice.pushes = far.pushes = 0;
}

/* The last decision sent: verdict and mark, for packet id. */
static bool decided(uint32_t id, int verdict, uint32_t mark)
{
	for (guint i = 0; i < decisions->len; i++) {
		struct sent *s = &g_array_index(decisions, struct sent, i);

		if (s->packet_id == id)
			return s->verdict == verdict && s->mark == mark;
	}
	return false;
}

/* ---- tests ---- */

static void test_single_client(void)
{
	struct nu_flow f = flow("10.201.0.2", 40000);

	reset();
	nuauth_correlate_client_ready(cor, &carol);
	packet(1, &f);
	CHECK(carol.pushes == 1 && srv.stats.pushes == 1 && decisions->len == 0);
	claim(&carol, &f);
	CHECK(decisions->len == 1 && decided(1, NU_VERDICT_ACCEPT, 1003));
	CHECK(strcmp(owner, "carol") == 0 && owner_client == &carol);
	CHECK(nuauth_correlate_pending(cor) == 0);
	/* a late answer is an unmatched claim, and stores nothing */
	claim(&carol, &f);
	CHECK(decisions->len == 1 && srv.stats.announces_unmatched == 1);
	nuauth_correlate_client_gone(cor, &carol);
}

static void test_early_claims(void)
{
	struct nu_flow f = flow("10.201.0.2", 40001);

	reset();
	nuauth_correlate_client_ready(cor, &dave);
	nuauth_correlate_client_ready(cor, &carol);
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
	nuauth_correlate_client_gone(cor, &dave);
	nuauth_correlate_client_gone(cor, &carol);
}

static void test_conflict(void)
{
	struct nu_flow f = flow("10.201.0.2", 40002), g = flow("10.201.0.2", 40003);

	reset();
	nuauth_correlate_client_ready(cor, &carol);
	nuauth_correlate_client_ready(cor, &dave);
	nuauth_correlate_client_ready(cor, &alice);
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
	nuauth_correlate_client_gone(cor, &carol);
	nuauth_correlate_client_gone(cor, &dave);
	nuauth_correlate_client_gone(cor, &alice);
}

static void test_nobody_and_gone(void)
{
	struct nu_flow f = flow("10.201.0.2", 40004), g = flow("10.201.0.2", 40005);

	reset();
	nuauth_correlate_client_ready(cor, &carol);
	nuauth_correlate_client_ready(cor, &dave);
	/* everyone says "not mine": it waits for the timeout */
	packet(6, &f);
	not_mine(&carol, &f);
	not_mine(&dave, &f);
	CHECK(decisions->len == 0 && nuauth_correlate_pending(cor) == 1);
	/* carol claims, dave's link closes before he answers: carol's */
	packet(7, &g);
	claim(&carol, &g);
	CHECK(decisions->len == 0);
	nuauth_correlate_client_gone(cor, &dave);
	CHECK(decisions->len == 1 && decided(7, NU_VERDICT_ACCEPT, 1003));
	nuauth_correlate_client_gone(cor, &carol);
	CHECK(nuauth_correlate_pending(cor) == 1);	/* f still waits */
}

static void test_late_login(void)
{
	struct nu_flow f = flow("10.201.0.2", 40006);
	unsigned before;

	reset();
	packet(8, &f);		/* nobody at the address yet */
	CHECK(decisions->len == 0);
	before = carol.pushes;
	nuauth_correlate_client_ready(cor, &carol);
	CHECK(carol.pushes == before + 1);
	before = dave.pushes;
	nuauth_correlate_client_ready(cor, &dave);
	CHECK(dave.pushes == before + 1);
	claim(&carol, &f);
	CHECK(decisions->len == 0);	/* dave, asked at his login, must answer */
	not_mine(&dave, &f);
	CHECK(decisions->len == 1 && decided(8, NU_VERDICT_ACCEPT, 1003));
	nuauth_correlate_client_gone(cor, &carol);
	nuauth_correlate_client_gone(cor, &dave);
}

static void test_same_user_and_address(void)
{
	struct nu_flow f = flow("10.201.0.2", 40007), g = flow("10.201.0.2", 40008);

	reset();
	nuauth_correlate_client_ready(cor, &carol);
	nuauth_correlate_client_ready(cor, &carol2);
	nuauth_correlate_client_ready(cor, &far);
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
	nuauth_correlate_client_gone(cor, &far);
	nuauth_correlate_client_gone(cor, &carol);
	nuauth_correlate_client_gone(cor, &carol2);
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
	nuauth_correlate_client_ready(cor, &carol);
	nuauth_correlate_client_ready(cor, &dave);
	packet(11, &f);
	claim(&carol, &f);		/* dave never answers */
	g_timeout_add(1300, quit_loop, loop);
	g_main_loop_run(loop);
	CHECK(decisions->len == 1 && decided(11, NU_VERDICT_DROP, 0));
	CHECK(srv.stats.timeouts == 1 && nuauth_correlate_pending(cor) == 0);
	nuauth_correlate_client_gone(cor, &carol);
	nuauth_correlate_client_gone(cor, &dave);
	g_main_loop_unref(loop);
}

int main(void)
{
	groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	decisions = g_array_new(FALSE, FALSE, sizeof(struct sent));
	srv.cfg.packet_timeout = 1;
	srv.cfg.user_check_ip_equality = true;
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
	test_late_login();
	test_same_user_and_address();
	test_timeout();
	nuauth_correlator_free(cor);
	g_array_free(decisions, TRUE);
	g_array_free(groups, TRUE);
	nuauth_peer_log_free(srv.peer_log);
	return unit_done("correlate");
}
