/* Unit tests for the failed-login limiter (src/nuauth/login_guard.c). */
#include "config.h"

#include <stdio.h>
#include "login_guard.h"
#include "unit.h"

static const struct nu_login_guard_params params = {
	.max_failures = 5, .window_s = 60, .lock_s = 30, .lock_max_s = 120,
	.max_entries = 100,
};

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
	return unit_done("test_login_guard");
}
