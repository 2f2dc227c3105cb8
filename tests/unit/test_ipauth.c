/* nuauth's IP authentication (src/nuauth/ipauth.c) with its floor and
 * below (peers.c): which packets it takes, one look-up of a user's groups
 * at a time (later packets join it), the cache and its flush, and a
 * gateway's packets forgotten at its end.  The worker pool, the modules
 * and the answer stage (answer.c) are fakes: the jobs run when the test
 * says, and the answers are recorded. */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>

#include "nuauth.h"
#include "unit.h"

/* ---- fakes ---- */

struct job {
	nuauth_work_fn work, done;
	void *data;
};

struct answer {
	nuauth_peer_id gw;
	uint32_t packet_id;
	char name[NU_NAME_MAX];
	enum nuauth_user_status status;
	uint32_t uid;
	const char *origin;
};

static bool session_only;		/* packet(): as correlate.c after NOT_MINEs */

static GArray *jobs;			/* struct job */
static GArray *answers;			/* struct answer */
static unsigned lookups;		/* nuauth_user_groups calls */

void nuauth_workers_submit(struct nuauth_workers *w, nuauth_work_fn work, nuauth_work_fn done,
			   void *data)
{
	struct job j = { .work = work, .done = done, .data = data };

	(void)w;
	g_array_append_val(jobs, j);
}

/* Runs the jobs queued, as the pool would: work, then done. */
static void run_jobs(void)
{
	while (jobs->len) {
		struct job j = g_array_index(jobs, struct job, 0);

		g_array_remove_index(jobs, 0);
		j.work(j.data);
		j.done(j.data);
	}
}

struct nuauth_modules *nuauth_modules_ref(struct nuauth_modules *mods)
{
	mods->refs++;
	return mods;
}

void nuauth_modules_unref(struct nuauth_modules *mods)
{
	mods->refs--;
}

enum nuauth_user_status nuauth_user_groups(struct nuauth_modules *mods, const char *name,
					   uint32_t *uid, GArray *groups)
{
	guint32 g = 100;

	(void)mods;
	lookups++;
	if (strcmp(name, "guest") != 0)
		return NUAUTH_USER_UNKNOWN;
	*uid = 2000;
	g_array_append_val(groups, g);
	return NUAUTH_USER_OK;
}

void nuauth_answer_ip(struct nuauth_server *srv, nuauth_peer_id gw,
		      const struct nu_packet_ask *ask, const char *name, const char *origin,
		      enum nuauth_user_status status, uint32_t uid, GArray *groups,
		      gint64 arrived)
{
	struct answer a = { .gw = gw, .packet_id = ask->packet_id, .status = status, .uid = uid,
			    .origin = origin };

	(void)srv, (void)groups;
	CHECK(arrived > 0);
	g_strlcpy(a.name, name, sizeof(a.name));
	g_array_append_val(answers, a);
}

/* The module: 10.201.0.7 is guest's host, 10.201.0.8 names a user no
 * database knows; others are nobody's. */
static bool fake_ip_authentication(void *priv, const struct nuauth_packet *packet, char *user,
				   size_t cap)
{
	struct in6_addr guest, stranger;

	(void)priv;
	nu_addr_from_v4(&guest, inet_addr("10.201.0.7"));
	nu_addr_from_v4(&stranger, inet_addr("10.201.0.8"));
	if (memcmp(&packet->flow.saddr, &guest, sizeof(guest)) == 0)
		g_strlcpy(user, "guest", cap);
	else if (memcmp(&packet->flow.saddr, &stranger, sizeof(stranger)) == 0)
		g_strlcpy(user, "stranger", cap);
	else
		return false;
	return true;
}


/* ---- helpers ---- */

static struct nuauth_server srv;
static struct nuauth_modules mods;
static struct nuauth_module_instance instance = {
	.desc = {
		.name = "fake",
		.services = NUAUTH_SVC_IP_AUTHENTICATION,
		.ip_authentication = fake_ip_authentication,
	},
	.label = "fake",
};
static struct nuauth_ipauth *ia;
static struct nuauth_peer *gw1, *gw2;

static bool packet(struct nuauth_peer *gw, uint32_t id, const char *saddr)
{
	struct nu_packet_ask a;

	memset(&a, 0, sizeof(a));
	a.packet_id = id;
	a.flow.family = AF_INET;
	a.flow.proto = IPPROTO_TCP;
	a.flow.sport = (uint16_t)(40000 + id);
	a.flow.dport = 80;
	nu_addr_from_v4(&a.flow.saddr, inet_addr(saddr));
	nu_addr_from_v4(&a.flow.daddr, inet_addr("10.202.0.2"));
	return nuauth_ipauth_packet(ia, gw->id, &a, session_only);
}

static const struct answer *answer(guint i)
{
	return i < answers->len ? &g_array_index(answers, struct answer, i) : NULL;
}

/* ---- tests ---- */

static void test_lookup_and_cache(void)
{
	CHECK(!packet(gw1, 1, "10.201.0.2") && jobs->len == 0);	/* nobody's host */
	CHECK(packet(gw1, 2, "10.201.0.7") && jobs->len == 1 && answers->len == 0);
	/* a second packet of guest's joins the look-up under way */
	CHECK(packet(gw2, 3, "10.201.0.7") && jobs->len == 1);
	CHECK(nuauth_ipauth_waiting(ia) == 2 && mods.refs == 1);
	run_jobs();
	CHECK(lookups == 1 && answers->len == 2 && mods.refs == 0);
	CHECK(answer(0)->packet_id == 2 && answer(0)->gw == gw1->id &&
	      answer(0)->status == NUAUTH_USER_OK && answer(0)->uid == 2000 &&
	      strcmp(answer(0)->name, "guest") == 0);
	CHECK(answer(1)->packet_id == 3 && answer(1)->gw == gw2->id);
	CHECK(nuauth_ipauth_waiting(ia) == 0);
	/* cached: answered at once */
	CHECK(packet(gw1, 4, "10.201.0.7") && jobs->len == 0 && answers->len == 3);
	CHECK(answer(2)->packet_id == 4 && lookups == 1);
	/* a reload forgets the cache */
	nuauth_ipauth_flush(ia);
	CHECK(packet(gw1, 5, "10.201.0.7") && jobs->len == 1);
	run_jobs();
	CHECK(lookups == 2 && answers->len == 4);
}

static void test_unknown_user(void)
{
	CHECK(packet(gw1, 6, "10.201.0.8") && jobs->len == 1);
	run_jobs();
	CHECK(answers->len == 5 && answer(4)->status == NUAUTH_USER_UNKNOWN);
	/* "unknown" is cached too */
	CHECK(packet(gw1, 7, "10.201.0.8") && jobs->len == 0 && answers->len == 6);
	CHECK(answer(5)->status == NUAUTH_USER_UNKNOWN && lookups == 3);
}

static void test_gateway_gone(void)
{
	nuauth_peer_id gone = gw1->id;

	nuauth_ipauth_flush(ia);
	CHECK(packet(gw1, 8, "10.201.0.7") && packet(gw2, 9, "10.201.0.7"));
	CHECK(nuauth_ipauth_waiting(ia) == 2);
	/* gw1's link ends while the look-up runs: its packet is forgotten */
	nuauth_peers_remove(srv.peers, gone);
	CHECK(nuauth_ipauth_waiting(ia) == 1);
	run_jobs();
	CHECK(answers->len == 7 && answer(6)->packet_id == 9 && answer(6)->gw == gw2->id);
}

static void count_session(const struct nuauth_ipsession *e, void *ctx)
{
	(void)e;
	(*(unsigned *)ctx)++;
}

/* A NAS's restart ends the sessions it opened, and only those. */
static void test_nas_restart(void)
{
	struct in6_addr a2, a7, a8, n1, n2;
	GError *error = NULL;
	unsigned called = 0;

	nu_addr_from_v4(&a2, inet_addr("10.201.0.2"));
	nu_addr_from_v4(&a7, inet_addr("10.201.0.7"));
	nu_addr_from_v4(&a8, inet_addr("10.201.0.8"));
	nu_addr_from_v4(&n1, inet_addr("10.203.0.1"));
	nu_addr_from_v4(&n2, inet_addr("10.203.0.2"));
	/* a user name with a space, a control character or a ':' (it would
	 * pass for something else in a log line or a column) is refused */
	for (const char *const *bad = (const char *const[]){ "", "a b", "eve\nroot", "a:b", NULL };
	     *bad; bad++) {
		CHECK(!nuauth_ipsession_start(srv.ipsessions, *bad, &a2, nuauth_origin("radius"),
					      &error) && error);
		g_clear_error(&error);
	}
	CHECK(nuauth_ipsession_start(srv.ipsessions, "guest", &a2, nuauth_origin("radius"), &error));
	nuauth_ipsession_set_nas(srv.ipsessions, &a2, &n1);
	CHECK(nuauth_ipsession_start(srv.ipsessions, "bob", &a7, nuauth_origin("radius"), &error));
	nuauth_ipsession_set_nas(srv.ipsessions, &a7, &n1);
	CHECK(nuauth_ipsession_start(srv.ipsessions, "carol", &a8, nuauth_origin("radius"), &error));
	nuauth_ipsession_set_nas(srv.ipsessions, &a8, &n2);
	CHECK(nuauth_ipsessions_end_nas(srv.ipsessions, &n1, count_session, &called) == 2);
	CHECK(called == 2 && nuauth_ipsessions_count(srv.ipsessions) == 1);
	CHECK(nuauth_ipsession_use(srv.ipsessions, &a8) != NULL);
	/* a new start forgets the NAS of the address's last session */
	CHECK(nuauth_ipsession_start(srv.ipsessions, "carol", &a8, nuauth_origin("admin"), &error));
	CHECK(nuauth_ipsessions_end_nas(srv.ipsessions, &n2, count_session, &called) == 0);
	CHECK(nuauth_ipsession_stop(srv.ipsessions, NULL, &a8, NULL, &error));

	/* Another user's start replaces a session, and says so first (main.c
	 * ends the old user's connections); the same user's start does not. */
	called = 0;
	nuauth_ipsessions_on_replace(srv.ipsessions, count_session, &called);
	CHECK(nuauth_ipsession_start(srv.ipsessions, "carol", &a8, nuauth_origin("radius"), &error));
	CHECK(nuauth_ipsession_start(srv.ipsessions, "carol", &a8, nuauth_origin("radius"), &error));
	CHECK(called == 0);
	CHECK(nuauth_ipsession_start(srv.ipsessions, "bob", &a8, nuauth_origin("portal"), &error));
	CHECK(called == 1);
	nuauth_ipsessions_on_replace(srv.ipsessions, NULL, NULL);
	/* RADIUS's stop (origin radius) leaves the login page's session. */
	CHECK(!nuauth_ipsession_stop(srv.ipsessions, "bob", &a8, nuauth_origin("radius"), &error));
	g_clear_error(&error);
	CHECK(nuauth_ipsession_use(srv.ipsessions, &a8) != NULL);
	CHECK(nuauth_ipsession_stop(srv.ipsessions, "bob", &a8, nuauth_origin("portal"), &error));
}

/* Address sessions (ipsession.c): a session names the address's user
 * before the modules, and with nuauth_do_ip_authentication off; its origin
 * goes with the answer; it ends on stop, after its idle timeout and at its
 * hard limit; a packet a client disowned (session_only) gets the session's
 * user but never a module's. */
static void test_address_sessions(void)
{
	struct in6_addr a2, a7;
	GError *error = NULL;
	const GArray *groups;
	uint32_t uid;
	guint n;

	nu_addr_from_v4(&a2, inet_addr("10.201.0.2"));
	nu_addr_from_v4(&a7, inet_addr("10.201.0.7"));
	CHECK(nuauth_origin("radius") && nuauth_origin("portal") && nuauth_origin("client"));
	CHECK(!nuauth_origin("RADIUS") && !nuauth_origin("") && !nuauth_origin(NULL));
	srv.cfg.do_ip_authentication = false;
	CHECK(!packet(gw2, 20, "10.201.0.7"));		/* the module is off */
	CHECK(nuauth_ipsession_start(srv.ipsessions, "guest", &a2, nuauth_origin("radius"),
				     &error));
	CHECK(nuauth_ipsession_start(srv.ipsessions, "stranger", &a7, nuauth_origin("portal"),
				     &error));
	CHECK(nuauth_ipsessions_count(srv.ipsessions) == 2);
	n = answers->len;
	CHECK(packet(gw2, 21, "10.201.0.2"));
	run_jobs();
	CHECK(answers->len == n + 1 && strcmp(answer(n)->name, "guest") == 0);
	CHECK(strcmp(answer(n)->origin, "radius") == 0);
	CHECK(nuauth_ipauth_cached(ia, "guest", &uid, &groups) && uid == 2000 &&
	      groups->len == 1);
	CHECK(!nuauth_ipauth_cached(ia, "stranger", &uid, &groups));
	/* the session wins over the module's answer for the address */
	srv.cfg.do_ip_authentication = true;
	CHECK(packet(gw2, 22, "10.201.0.7"));
	run_jobs();
	CHECK(answers->len == n + 2 && strcmp(answer(n + 1)->name, "stranger") == 0);
	CHECK(strcmp(answer(n + 1)->origin, "portal") == 0);
	/* a packet disowned by a client: the session's user, never a
	 * module's (10.201.0.8 is the module's "stranger") */
	session_only = true;
	CHECK(packet(gw2, 23, "10.201.0.2"));
	CHECK(!packet(gw2, 24, "10.201.0.8"));
	session_only = false;
	CHECK(answers->len == n + 3 && strcmp(answer(n + 2)->name, "guest") == 0);
	/* stop: another user's stop is refused, the user's ends it */
	CHECK(!nuauth_ipsession_stop(srv.ipsessions, "bob", &a2, NULL, &error));
	CHECK(error && strstr(error->message, "bob"));
	g_clear_error(&error);
	CHECK(nuauth_ipsession_stop(srv.ipsessions, "guest", &a2, NULL, &error));
	CHECK(!nuauth_ipsession_stop(srv.ipsessions, "guest", &a2, NULL, &error));
	g_clear_error(&error);
	srv.cfg.do_ip_authentication = false;
	CHECK(!packet(gw2, 25, "10.201.0.2"));
	CHECK(!nuauth_ipsession_start(srv.ipsessions, "", &a2, nuauth_origin("radius"), &error));
	g_clear_error(&error);
	/* another user's start at an address replaces its session; an
	 * update for an unknown session opens it */
	CHECK(nuauth_ipsession_start(srv.ipsessions, "guest", &a7, nuauth_origin("radius"),
				     &error));
	CHECK(nuauth_ipsessions_count(srv.ipsessions) == 1);
	CHECK(strcmp(nuauth_ipsession_use(srv.ipsessions, &a7)->user, "guest") == 0);
	CHECK(nuauth_ipsession_stop(srv.ipsessions, NULL, &a7, NULL, &error));
	/* MAC address: learnt from the first packet that has one, kept by
	 * packets without one and by an update; another ends the session;
	 * a new start learns it anew */
	{
		static const uint8_t m1[6] = { 2, 0, 0, 0, 0, 1 }, m2[6] = { 2, 0, 0, 0, 0, 2 };

		CHECK(nuauth_ipsession_start(srv.ipsessions, "guest", &a7, nuauth_origin("radius"),
					     &error));
		CHECK(nuauth_ipsession_use_mac(srv.ipsessions, &a7, NULL) != NULL);
		CHECK(nuauth_ipsession_use_mac(srv.ipsessions, &a7, m1) != NULL);
		CHECK(nuauth_ipsession_use_mac(srv.ipsessions, &a7, NULL) != NULL);
		CHECK(nuauth_ipsession_update(srv.ipsessions, "guest", &a7, nuauth_origin("radius"),
					      &error));
		CHECK(nuauth_ipsession_use_mac(srv.ipsessions, &a7, m1) != NULL);
		CHECK(nuauth_ipsession_use_mac(srv.ipsessions, &a7, m2) == NULL);
		CHECK(nuauth_ipsession_use(srv.ipsessions, &a7) == NULL);	/* ended */
		CHECK(nuauth_ipsession_start(srv.ipsessions, "guest", &a7, nuauth_origin("radius"),
					     &error));
		CHECK(nuauth_ipsession_use_mac(srv.ipsessions, &a7, m2) != NULL);
		CHECK(nuauth_ipsession_stop(srv.ipsessions, "guest", &a7, NULL, &error));
	}
	/* idle timeout: 1 s without use ends it; an update or a packet
	 * keeps it */
	nuauth_ipsessions_set_limits(srv.ipsessions, 1, 0);
	CHECK(nuauth_ipsession_update(srv.ipsessions, "guest", &a2, nuauth_origin("radius"),
				      &error));
	g_usleep(600 * 1000);
	CHECK(nuauth_ipsession_use(srv.ipsessions, &a2) != NULL);
	g_usleep(600 * 1000);
	CHECK(nuauth_ipsession_use(srv.ipsessions, &a2) != NULL);	/* 1.2 s, used */
	g_usleep(1100 * 1000);
	CHECK(nuauth_ipsession_use(srv.ipsessions, &a2) == NULL);
	CHECK(nuauth_ipsessions_count(srv.ipsessions) == 0);
	/* hard limit: ends it even in use */
	nuauth_ipsessions_set_limits(srv.ipsessions, 0, 1);
	CHECK(nuauth_ipsession_start(srv.ipsessions, "guest", &a2, nuauth_origin("admin"),
				     &error));
	g_usleep(600 * 1000);
	CHECK(nuauth_ipsession_use(srv.ipsessions, &a2) != NULL);
	g_usleep(600 * 1000);
	CHECK(nuauth_ipsession_use(srv.ipsessions, &a2) == NULL);
	CHECK(nuauth_ipsessions_count(srv.ipsessions) == 0);
	nuauth_ipsessions_set_limits(srv.ipsessions, 0, 0);
	srv.cfg.do_ip_authentication = true;
}

int main(void)
{
	jobs = g_array_new(FALSE, FALSE, sizeof(struct job));
	answers = g_array_new(FALSE, FALSE, sizeof(struct answer));
	for (unsigned h = 0; h < NUAUTH_HOOK_COUNT; h++)
		mods.hook[h] = g_ptr_array_new();
	g_ptr_array_add(mods.hook[NUAUTH_HOOK_IP_AUTHENTICATION], &instance);
	srv.modules = &mods;
	srv.cfg.user_groups_cache_ttl = 60;
	srv.cfg.do_ip_authentication = true;
	srv.ipsessions = nuauth_ipsessions_new();
	srv.peers = nuauth_peers_new();
	ia = nuauth_ipauth_new(&srv);
	srv.ipauth = ia;
	gw1 = nuauth_peers_add(srv.peers, NUAUTH_PEER_GATEWAY, &in6addr_any, "fw1", NULL,
			       (void *)"fw1-a");
	gw2 = nuauth_peers_add(srv.peers, NUAUTH_PEER_GATEWAY, &in6addr_any, "fw2", NULL,
			       (void *)"fw2-a");
	test_lookup_and_cache();
	test_unknown_user();
	test_gateway_gone();
	test_address_sessions();
	test_nas_restart();
	nuauth_ipauth_free(ia);
	nuauth_ipsessions_free(srv.ipsessions);
	nuauth_peers_free(srv.peers);
	for (unsigned h = 0; h < NUAUTH_HOOK_COUNT; h++)
		g_ptr_array_free(mods.hook[h], TRUE);
	g_array_free(answers, TRUE);
	g_array_free(jobs, TRUE);
	return unit_done("ipauth");
}
