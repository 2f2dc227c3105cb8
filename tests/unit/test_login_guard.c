/* Unit tests for the failed-login limiter (src/nuauth/login_guard.c). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
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
	return unit_done("test_login_guard");
}
