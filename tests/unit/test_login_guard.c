/* Unit tests for the failed-login limiter (src/nuauth/login_guard.c). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "login_guard.h"
#include "unit.h"

static const struct nu_login_guard_params params = {
	.max_failures = 5, .name_max_failures = 20, .window_s = 60, .lock_s = 30,
	.lock_max_s = 120, .known_s = 86400, .max_entries = 100,
};

/* One login as nuauth runs it: refused when locked, else checked (and
 * here always wrong).  Returns true when it was refused. */
static bool wrong_login(struct nu_login_guard *g, const char *addr, const char *name,
			int64_t now)
{
	struct nu_login_guard_locks started;

	if (nu_login_guard_check(g, addr, name, now))
		return true;
	nu_login_guard_failed(g, addr, name, now, &started);
	return false;
}

/* 100 wrong passwords for alice from X, one a second: X is locked (as a
 * whole and for alice), alice from Y is not, at any time. */
static void test_one_address_locks_itself_only(void)
{
	struct nu_login_guard *g = nu_login_guard_new(&params);
	int64_t t = 1000;
	int refused = 0;

	for (int i = 0; i < 100; i++) {
		refused += wrong_login(g, "10.0.0.9", "alice", t + i);
		CHECK(nu_login_guard_check(g, "10.0.0.2", "alice", t + i) == 0);
		if (i == 4) {
			CHECK(nu_login_guard_check(g, "10.0.0.9", "alice", t + i) == 30);
			CHECK(nu_login_guard_check(g, "10.0.0.9", "bob", t + i) == 30);
		}
	}
	/* Locked 30 s, then 60 s after 5 more: 12 checked in 100 s. */
	CHECK(refused == 88);
	CHECK(nu_login_guard_check(g, "10.0.0.2", "alice", t + 100) == 0);
	CHECK(nu_login_guard_check(g, "10.0.0.2", NULL, t + 100) == 0);
	/* 100 at the same second: the same. */
	for (int i = 0; i < 100; i++)
		wrong_login(g, "10.0.0.10", "carol", t);
	CHECK(nu_login_guard_check(g, "10.0.0.10", "carol", t) == 30);
	CHECK(nu_login_guard_check(g, "10.0.0.3", "carol", t) == 0);
	nu_login_guard_free(g);
}

/* The lock of a (name, address) pair: with an address limit above the
 * pair's (a shared address), other names from it still get through. */
static void test_pair_lock(void)
{
	struct nu_login_guard_params p = params;
	struct nu_login_guard_locks started;
	struct nu_login_guard *g;

	g = nu_login_guard_new(&p);
	for (int i = 0; i < 4; i++) {
		nu_login_guard_failed(g, "10.0.0.5", "dave", 10 + i, &started);
		CHECK(!started.addr && !started.pair && !started.name);
	}
	/* A good login forgets the pair's failures (not the address's). */
	nu_login_guard_succeeded(g, "10.0.0.5", "dave", 14);
	nu_login_guard_failed(g, "10.0.0.5", "erin", 15, &started);
	CHECK(started.addr == 30 && started.pair == 0);
	nu_login_guard_free(g);

	/* The pair locks alone when its address may fail more. */
	p.max_failures = 5;
	g = nu_login_guard_new(&p);
	for (int i = 0; i < 5; i++)
		nu_login_guard_failed(g, "10.0.0.6", "dave", 10, &started);
	CHECK(started.pair == 30 && started.addr == 30);
	nu_login_guard_free(g);
}

/* A guesser spread over many addresses: 5 wrong passwords for alice from
 * each of 100 addresses lock the name for addresses it has not logged in
 * from, never for her desktop, which logged in a day before. */
static void test_spread_guesser_spares_desktop(void)
{
	struct nu_login_guard *g = nu_login_guard_new(&params);
	struct nu_login_guard_locks started;
	int64_t t = 100000;
	unsigned name_locks = 0;
	char addr[32];

	nu_login_guard_succeeded(g, "10.0.0.2", "alice", t - 3600);
	CHECK(nu_login_guard_known(g, "10.0.0.2", "alice", t));
	CHECK(!nu_login_guard_known(g, "10.0.0.2", "bob", t));
	for (int a = 0; a < 100; a++) {
		snprintf(addr, sizeof(addr), "10.1.%d.%d", a / 250, a % 250);
		for (int i = 0; i < 5; i++) {
			if (nu_login_guard_check(g, addr, "alice", t + a))
				continue;
			nu_login_guard_failed(g, addr, "alice", t + a, &started);
			name_locks += started.name != 0;
		}
		CHECK(nu_login_guard_check(g, "10.0.0.2", "alice", t + a) == 0);
	}
	CHECK(name_locks >= 1);
	/* A new address is refused for alice, not for bob. */
	CHECK(nu_login_guard_check(g, "10.0.0.77", "alice", t + 100) > 0);
	CHECK(nu_login_guard_check(g, "10.0.0.77", "bob", t + 100) == 0);
	CHECK(nu_login_guard_check(g, "10.0.0.2", "alice", t + 100) == 0);
	/* Her desktop is known for known_s, then no more. */
	CHECK(!nu_login_guard_known(g, "10.0.0.2", "alice", t - 3600 + 86400));
	nu_login_guard_free(g);
}

/* The table of known pairs is bounded too. */
static void test_known_bounded(void)
{
	struct nu_login_guard *g = nu_login_guard_new(&params);
	char addr[32];

	for (int i = 0; i < 150; i++) {
		snprintf(addr, sizeof(addr), "10.2.0.%d", i);
		nu_login_guard_succeeded(g, addr, "alice", 10 + i);
	}
	CHECK(!nu_login_guard_known(g, "10.2.0.0", "alice", 200));
	CHECK(nu_login_guard_known(g, "10.2.0.149", "alice", 200));
	CHECK(nu_login_guard_known(g, "10.2.0.50", "alice", 200));
	nu_login_guard_free(g);
}

static void test_lock_after_failures(void)
{
	struct nu_login_guard *g = nu_login_guard_new(&params);
	int64_t t = 1000;

	for (int i = 0; i < 4; i++)
		CHECK(nu_login_guard_fail(g, "ip:10.0.0.1", t + i) == 0);
	CHECK(nu_login_guard_locked(g, "ip:10.0.0.1", t + 4) == 0);
	CHECK(nu_login_guard_fail(g, "ip:10.0.0.1", t + 4) == 30);
	CHECK(nu_login_guard_locked(g, "ip:10.0.0.1", t + 4) == 30);
	CHECK(nu_login_guard_locked(g, "ip:10.0.0.1", t + 33) == 1);
	/* Failures during the lock start no second lock (logged once). */
	for (int i = 0; i < 10; i++)
		CHECK(nu_login_guard_fail(g, "ip:10.0.0.1", t + 5 + i) == 0);
	CHECK(nu_login_guard_locked(g, "ip:10.0.0.1", t + 34) == 0);
	/* Other keys are unaffected. */
	CHECK(nu_login_guard_locked(g, "ip:10.0.0.2", t + 5) == 0);
	CHECK(nu_login_guard_locked(g, "user:alice", t + 5) == 0);
	nu_login_guard_free(g);
}

static void test_window(void)
{
	struct nu_login_guard *g = nu_login_guard_new(&params);

	/* Four failures a minute never lock. */
	for (int64_t t = 0; t < 600; t += 61)
		for (int i = 0; i < 4; i++)
			CHECK(nu_login_guard_fail(g, "user:bob", t + i) == 0);
	CHECK(nu_login_guard_locked(g, "user:bob", 700) == 0);
	/* A success forgets the failures. */
	for (int i = 0; i < 4; i++)
		nu_login_guard_fail(g, "user:carol", 1000 + i);
	nu_login_guard_success(g, "user:carol");
	CHECK(nu_login_guard_fail(g, "user:carol", 1005) == 0);
	nu_login_guard_free(g);
}

static void test_doubling(void)
{
	struct nu_login_guard *g = nu_login_guard_new(&params);
	int64_t t = 0;
	unsigned expect[] = { 30, 60, 120, 120 };

	for (unsigned k = 0; k < 4; k++) {
		unsigned lock = 0;

		for (int i = 0; i < 5; i++)
			lock = nu_login_guard_fail(g, "ip:x", t + i);
		CHECK(lock == expect[k]);
		t += 4 + lock;	/* just after the lock ends */
		CHECK(nu_login_guard_locked(g, "ip:x", t) == 0);
	}
	/* Quiet for long enough: forgotten, the next lock is the first again. */
	t += 1000;
	CHECK(nu_login_guard_size(g, t) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(nu_login_guard_fail(g, "ip:x", t + i) == 0);
	CHECK(nu_login_guard_fail(g, "ip:x", t + 4) == 30);
	nu_login_guard_free(g);
}

static void test_bounded(void)
{
	struct nu_login_guard *g = nu_login_guard_new(&params);
	char key[32];

	/* 1000 keys: the table keeps the newest 100. */
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "ip:%d", i);
		nu_login_guard_fail(g, key, 10);
	}
	CHECK(nu_login_guard_size(g, 10) == 100);
	/* The oldest went first: ip:999 still holds its failure. */
	for (int i = 0; i < 4; i++)
		nu_login_guard_fail(g, "ip:999", 11);
	CHECK(nu_login_guard_locked(g, "ip:999", 11) == 30);
	CHECK(nu_login_guard_fail(g, "ip:0", 11) == 0);
	/* Everything quiet is forgotten. */
	CHECK(nu_login_guard_size(g, 70) == 2);	/* ip:999 and ip:0, from t=11 */
	CHECK(nu_login_guard_size(g, 72) == 0);
	nu_login_guard_free(g);
}

static void test_disabled(void)
{
	struct nu_login_guard_params p = params;
	struct nu_login_guard *g;

	p.max_failures = 0;
	g = nu_login_guard_new(&p);
	for (int i = 0; i < 100; i++)
		CHECK(nu_login_guard_fail(g, "ip:y", i) == 0);
	CHECK(nu_login_guard_locked(g, "ip:y", 100) == 0);
	CHECK(nu_login_guard_size(g, 100) == 0);
	nu_login_guard_free(g);
}

/* ---- across a cluster: nodes a and b, and a fake etcd between them ---- */

struct link {
	struct nu_login_guard *to;
	const char *from;		/* the sending node's name */
	int64_t now;
	unsigned records, gone;
	bool saw_name;			/* a record's id held a name in clear */
};

static void deliver(const struct nu_login_guard_record *r, void *ctx)
{
	struct link *l = ctx;

	l->records++;
	l->gone += r->gone;
	if (strstr(r->id, "alice") || strstr(r->id, "10.0."))
		l->saw_name = true;
	CHECK(strlen(r->id) == 32);
	CHECK(nu_login_guard_learn(l->to, l->from, r, l->now));
}

/* What from wrote since the last time reaches to (the watch). */
static unsigned sync_to(struct nu_login_guard *from, const char *name, struct nu_login_guard *to,
			int64_t now)
{
	struct link l = { .to = to, .from = name, .now = now };

	CHECK(nu_login_guard_take(from, now, 1000, deliver, &l) == 0);
	CHECK(!l.saw_name);
	return l.records;
}

static void sync_both(struct nu_login_guard *a, struct nu_login_guard *b, int64_t now)
{
	sync_to(a, "a", b, now);
	sync_to(b, "b", a, now);
}

static struct nu_login_guard *node(const char *secret)
{
	struct nu_login_guard *g = nu_login_guard_new(&params);

	nu_login_guard_share(g, secret);
	return g;
}

/* Wrong passwords from one address spread over two nodes, each learning
 * the other's at once: the address locks at the fifth in all, and on both
 * nodes; its failures are spent by the lock (four more after it do not
 * lock again), the next lock doubles on either node. */
static void test_cluster_sums(void)
{
	struct nu_login_guard *a = node("s"), *b = node("s");
	struct nu_login_guard_locks started;
	int64_t t = 5000;

	for (int i = 0; i < 4; i++) {
		nu_login_guard_failed(i % 2 ? b : a, "10.0.0.9", NULL, t, &started);
		CHECK(!started.addr);
		sync_both(a, b, t);
	}
	CHECK(nu_login_guard_check(a, "10.0.0.9", NULL, t) == 0);
	CHECK(nu_login_guard_check(b, "10.0.0.9", NULL, t) == 0);
	nu_login_guard_failed(b, "10.0.0.9", NULL, t, &started);
	CHECK(started.addr == 30);
	/* b's lock reaches a, which spends its own failures (its record
	 * goes back to b with none). */
	sync_both(a, b, t);
	CHECK(sync_to(a, "a", b, t) == 1);
	CHECK(nu_login_guard_check(a, "10.0.0.9", NULL, t + 1) == 29);
	CHECK(nu_login_guard_check(b, "10.0.0.9", NULL, t + 1) == 29);
	/* After the lock: the failures before it are spent on both nodes. */
	t += 30;
	CHECK(nu_login_guard_check(a, "10.0.0.9", NULL, t) == 0);
	for (int i = 0; i < 4; i++) {
		nu_login_guard_failed(i % 2 ? a : b, "10.0.0.9", NULL, t, &started);
		CHECK(!started.addr);
		sync_both(a, b, t);
	}
	/* The fifth, on node a (which did not start the first lock): the
	 * lock doubles there too. */
	nu_login_guard_failed(a, "10.0.0.9", NULL, t, &started);
	CHECK(started.addr == 60);
	sync_both(a, b, t);
	CHECK(nu_login_guard_check(b, "10.0.0.9", NULL, t) == 60);
	/* Another address is untouched. */
	CHECK(nu_login_guard_check(b, "10.0.0.8", NULL, t) == 0);
	nu_login_guard_free(a);
	nu_login_guard_free(b);
}

/* A good login forgets its pair's failures on every node: four wrong
 * passwords of dave from 10.0.0.5 on node b, his login there on node a,
 * then four more on node b lock nothing; the address's count goes on. */
static void test_cluster_success(void)
{
	struct nu_login_guard_params p = params;
	struct nu_login_guard *a, *b;
	struct nu_login_guard_locks started;

	p.max_failures = 5;
	p.name_max_failures = 100;
	a = nu_login_guard_new(&p);
	b = nu_login_guard_new(&p);
	nu_login_guard_share(a, "s");
	nu_login_guard_share(b, "s");
	/* (the address's own limit is lifted by a success elsewhere: other
	 * addresses' failures are not involved) */
	for (int i = 0; i < 4; i++)
		nu_login_guard_fail(b, "pair:10.0.0.5 dave", 10);
	sync_both(a, b, 10);
	nu_login_guard_succeeded(a, "10.0.0.5", "dave", 11);
	sync_both(a, b, 11);
	sync_both(a, b, 11);
	for (int i = 0; i < 4; i++)
		CHECK(nu_login_guard_fail(b, "pair:10.0.0.5 dave", 12) == 0);
	sync_both(a, b, 12);
	/* a counts b's four new ones (after the login), and its fifth locks */
	CHECK(nu_login_guard_fail(a, "pair:10.0.0.5 dave", 12) == 30);
	(void)started;
	nu_login_guard_free(a);
	nu_login_guard_free(b);
}

/* Cut off (nothing synced): each node still locks at its own count. */
static void test_cluster_partition(void)
{
	struct nu_login_guard *a = node("s"), *b = node("s");
	struct nu_login_guard_locks started = { 0 };
	unsigned refused = 0;

	for (int i = 0; i < 20; i++) {
		struct nu_login_guard *g = i % 2 ? b : a;

		if (nu_login_guard_check(g, "10.0.0.9", NULL, 100)) {
			refused++;
			continue;
		}
		nu_login_guard_failed(g, "10.0.0.9", NULL, 100, &started);
	}
	/* 5 counted on each node, 10 in all: the bound without etcd. */
	CHECK(refused == 10);
	CHECK(nu_login_guard_check(a, "10.0.0.9", NULL, 100) == 30);
	CHECK(nu_login_guard_check(b, "10.0.0.9", NULL, 100) == 30);
	nu_login_guard_free(a);
	nu_login_guard_free(b);
}

/* A name guessed at over both nodes from many addresses locks at 20 in
 * all; the address alice logged in from on node a stays open for her on
 * node b. */
static void test_cluster_known(void)
{
	struct nu_login_guard *a = node("s"), *b = node("s");
	struct nu_login_guard_locks started;
	char addr[32];
	int i;

	nu_login_guard_succeeded(a, "10.0.0.2", "alice", 10);
	CHECK(sync_to(a, "a", b, 10) == 1);
	CHECK(nu_login_guard_known(b, "10.0.0.2", "alice", 11));
	CHECK(!nu_login_guard_known(b, "10.0.0.2", "bob", 11));
	CHECK(!nu_login_guard_known(b, "10.0.0.3", "alice", 11));
	for (i = 0; i < 19; i++) {
		snprintf(addr, sizeof(addr), "10.1.0.%d", i);
		nu_login_guard_failed(i % 2 ? a : b, addr, "alice", 20, &started);
		CHECK(!started.name);
		sync_both(a, b, 20);
	}
	nu_login_guard_failed(b, "10.1.0.99", "alice", 20, &started);
	CHECK(started.name == 30);
	sync_both(a, b, 20);
	CHECK(nu_login_guard_check(a, "10.0.0.77", "alice", 21) > 0);
	CHECK(nu_login_guard_check(b, "10.0.0.77", "alice", 21) > 0);
	CHECK(nu_login_guard_check(a, "10.0.0.2", "alice", 21) == 0);
	CHECK(nu_login_guard_check(b, "10.0.0.2", "alice", 21) == 0);
	CHECK(nu_login_guard_check(b, "10.0.0.77", "bob", 21) == 0);
	/* Node a forgets the pair at its end (known_s): it is gone on b. */
	CHECK(sync_to(a, "a", b, 10 + 86400) >= 1);
	CHECK(!nu_login_guard_known(b, "10.0.0.2", "alice", 10 + 86400));
	nu_login_guard_free(a);
	nu_login_guard_free(b);
}

/* Records: written once per change (coalesced), deleted once when the
 * entry is forgotten, bounded per take; a reset forgets the others';
 * another secret names keys otherwise; a record from the future or too
 * long is cut to what this node would do. */
static void test_cluster_records(void)
{
	struct nu_login_guard *a = node("s"), *b = node("s"), *c = node("other");
	struct nu_login_guard_record r = { .id = "0123456789abcdef0123456789abcdef" };
	struct link l = { .to = b, .from = "a", .now = 10 };
	char key[32];
	char *ida = nu_login_guard_id(a, "user:alice"), *idc = nu_login_guard_id(c, "user:alice");

	CHECK(strcmp(ida, idc) != 0);
	g_free(ida);
	g_free(idc);
	/* Three failures of one key: one record. */
	for (int i = 0; i < 3; i++)
		nu_login_guard_fail(a, "ip:10.0.0.5", 10);
	CHECK(sync_to(a, "a", b, 10) == 1);
	CHECK(sync_to(a, "a", b, 10) == 0);
	/* Quiet past its window: gone, once. */
	l.now = 100;
	CHECK(nu_login_guard_take(a, 100, 1000, deliver, &l) == 0);
	CHECK(l.records == 1 && l.gone == 1);
	/* A key failing and forgotten between two takes is never written. */
	nu_login_guard_fail(a, "ip:10.0.0.6", 200);
	l.records = l.gone = 0;
	l.now = 300;
	CHECK(nu_login_guard_take(a, 300, 1000, deliver, &l) == 0);
	CHECK(l.records == 0);
	/* 90 keys: 64 a take, the rest left for the next. */
	for (int i = 0; i < 90; i++) {
		snprintf(key, sizeof(key), "ip:10.3.0.%d", i);
		nu_login_guard_fail(a, key, 400);
	}
	l.records = 0;
	l.now = 400;
	CHECK(nu_login_guard_take(a, 400, 64, deliver, &l) == 90 - 64);
	CHECK(l.records == 64);
	CHECK(nu_login_guard_take(a, 400, 64, deliver, &l) == 0);
	CHECK(l.records == 90);
	/* A record of an id no entry here has is kept (an address this node
	 * has not seen fail yet). */
	r.failures = 4;
	r.window_start = 1000;
	r.locked_until = 1000000;
	r.lock = 1000000;
	CHECK(nu_login_guard_learn(c, "b", &r, 1000));
	nu_login_guard_free(a);
	nu_login_guard_free(b);
	nu_login_guard_free(c);
}

/* The clamp, through a real key's id. */
static void test_cluster_clamp(void)
{
	struct nu_login_guard *a = node("s");
	char *id = nu_login_guard_id(a, "ip:10.0.0.7");
	struct nu_login_guard_record r = {
		.id = id, .failures = 2, .window_start = 1000, .locked_until = 1000000,
		.lock = 1000000,
	};

	CHECK(nu_login_guard_learn(a, "b", &r, 1000));
	CHECK(nu_login_guard_check(a, "10.0.0.7", NULL, 1000) == 120);
	/* Gone: the lock goes with it. */
	r.gone = true;
	CHECK(nu_login_guard_learn(a, "b", &r, 1001));
	CHECK(nu_login_guard_check(a, "10.0.0.7", NULL, 1001) == 0);
	/* Two failures there and three here lock (5 in all)... */
	r.gone = false;
	r.locked_until = 0;
	r.lock = 0;
	CHECK(nu_login_guard_learn(a, "b", &r, 1001));
	for (int i = 0; i < 2; i++)
		CHECK(nu_login_guard_fail(a, "ip:10.0.0.7", 1001) == 0);
	CHECK(nu_login_guard_fail(a, "ip:10.0.0.7", 1001) == 30);
	/* ... and a reset forgets the other node's. */
	nu_login_guard_forget_others(a);
	CHECK(nu_login_guard_check(a, "10.0.0.7", NULL, 1040) == 0);
	g_free(id);
	nu_login_guard_free(a);
}

int main(void)
{
	test_lock_after_failures();
	test_window();
	test_doubling();
	test_bounded();
	test_disabled();
	test_one_address_locks_itself_only();
	test_pair_lock();
	test_spread_guesser_spares_desktop();
	test_known_bounded();
	test_cluster_sums();
	test_cluster_partition();
	test_cluster_success();
	test_cluster_known();
	test_cluster_records();
	test_cluster_clamp();
	return unit_done("test_login_guard");
}
