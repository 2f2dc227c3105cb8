/* Unit tests for nufw's table of the connections of each client session
 * (src/nufw/sessions.c): a session's flows taken together and only once,
 * a flow moved to another session, forgotten when it ends, the bound. */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "sessions.h"
#include "unit.h"

static struct nu_flow flow(uint32_t n)
{
	struct nu_flow f;

	memset(&f, 0, sizeof(f));
	f.family = 4;
	f.proto = 6;
	f.sport = (uint16_t)n;
	f.dport = (uint16_t)(n >> 16);
	return f;
}

static bool has(const GArray *flows, uint32_t n)
{
	struct nu_flow f = flow(n);

	for (guint i = 0; i < flows->len; i++)
		if (nu_flow_equal(&g_array_index(flows, struct nu_flow, i), &f))
			return true;
	return false;
}

static void test_take(void)
{
	struct nufw_sessions *s = nufw_sessions_new();
	struct nu_flow f1 = flow(1), f2 = flow(2), f3 = flow(3);
	GArray *got;

	CHECK(nufw_sessions_count(s) == 0);
	CHECK(!nufw_sessions_add(s, &f1, 0xa11ce));
	nufw_sessions_add(s, &f2, 0xa11ce);
	nufw_sessions_add(s, &f3, 0xb0b);
	CHECK(nufw_sessions_count(s) == 3);
	got = nufw_sessions_take(s, 0xa11ce);
	CHECK(got->len == 2 && has(got, 1) && has(got, 2) && !has(got, 3));
	g_array_free(got, TRUE);
	/* taken once: a second SESSION_END finds nothing */
	got = nufw_sessions_take(s, 0xa11ce);
	CHECK(got->len == 0);
	g_array_free(got, TRUE);
	CHECK(nufw_sessions_count(s) == 1);
	/* an unknown session: nothing, and the others stay */
	got = nufw_sessions_take(s, 42);
	CHECK(got->len == 0 && nufw_sessions_count(s) == 1);
	g_array_free(got, TRUE);
	nufw_sessions_free(s);
}

static void test_moved_and_forgotten(void)
{
	struct nufw_sessions *s = nufw_sessions_new();
	struct nu_flow f1 = flow(1), f2 = flow(2);
	GArray *got;

	nufw_sessions_add(s, &f1, 0xa11ce);
	nufw_sessions_add(s, &f2, 0xa11ce);
	/* f1's 5-tuple decided again, for bob: alice's logout leaves it */
	nufw_sessions_add(s, &f1, 0xb0b);
	CHECK(nufw_sessions_count(s) == 2);
	/* f2 ended (conntrack's destroy event) */
	nufw_sessions_forget(s, &f2);
	nufw_sessions_forget(s, &f2);
	got = nufw_sessions_take(s, 0xa11ce);
	CHECK(got->len == 0);
	g_array_free(got, TRUE);
	got = nufw_sessions_take(s, 0xb0b);
	CHECK(got->len == 1 && has(got, 1));
	g_array_free(got, TRUE);
	CHECK(nufw_sessions_count(s) == 0);
	nufw_sessions_forget(s, &f1);	/* an empty table: nothing to do */
	nufw_sessions_free(s);
}

/* Past the bound the oldest entry goes, whichever session it is of. */
static void test_bound(void)
{
	struct nufw_sessions *s = nufw_sessions_new();
	struct nu_flow f;
	bool evicted = false;
	GArray *got;

	for (uint32_t i = 0; i < NUFW_SESSIONS_MAX; i++) {
		f = flow(i);
		evicted |= nufw_sessions_add(s, &f, i == 0 ? 7 : 8);
	}
	CHECK(!evicted && nufw_sessions_count(s) == NUFW_SESSIONS_MAX);
	f = flow(NUFW_SESSIONS_MAX);
	CHECK(nufw_sessions_add(s, &f, 8));
	CHECK(nufw_sessions_count(s) == NUFW_SESSIONS_MAX);
	got = nufw_sessions_take(s, 7);		/* flow 0 was the oldest */
	CHECK(got->len == 0);
	g_array_free(got, TRUE);
	got = nufw_sessions_take(s, 8);
	CHECK(got->len == NUFW_SESSIONS_MAX && has(got, NUFW_SESSIONS_MAX) && has(got, 1));
	g_array_free(got, TRUE);
	nufw_sessions_free(s);
}

int main(void)
{
	test_take();
	test_moved_and_forgotten();
	test_bound();
	return unit_done("sessions");
}
