/* Unit tests for src/nuauth/peer_log.c: per address and kind of line, a
 * burst passes, then one line per refill period; the rest is counted and
 * summed up at most once an interval; addresses and kinds do not share a
 * bucket; full quiet buckets are forgotten; beyond the table's size the
 * others share one bucket. */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>

#include "peer_log.h"
#include "unit.h"

#define S G_USEC_PER_SEC

static const char KIND_A[] = "kind a %s", KIND_B[] = "kind b %s";

static struct in6_addr addr(const char *text)
{
	struct in6_addr a;

	inet_pton(AF_INET6, text, &a);
	return a;
}

static unsigned allowed(struct nuauth_peer_log *pl, const struct in6_addr *a, const char *kind,
			unsigned n, gint64 now)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		k += nuauth_peer_log_allow_at(pl, a, kind, LOG_WARNING, now);
	return k;
}

static void test_burst_refill_summary(void)
{
	struct nuauth_peer_log *pl = nuauth_peer_log_new(5, 2, 10, false);
	struct in6_addr a = addr("::ffff:10.201.0.50"), b = addr("::ffff:10.201.0.2");

	CHECK(allowed(pl, &a, KIND_A, 100000, 1 * S) == 5);
	CHECK(nuauth_peer_log_suppressed(pl) == 99995);
	/* Another address, another kind: buckets of their own. */
	CHECK(allowed(pl, &b, KIND_A, 3, 1 * S) == 3);
	CHECK(allowed(pl, &a, KIND_B, 3, 1 * S) == 3);
	CHECK(nuauth_peer_log_buckets(pl) == 3);
	/* One more line per 2 s. */
	CHECK(allowed(pl, &a, KIND_A, 100, 2 * S) == 0);
	CHECK(allowed(pl, &a, KIND_A, 100, 3 * S) == 1);
	CHECK(allowed(pl, &a, KIND_A, 100, 7 * S) == 2);
	/* Within the interval: nothing to sum up yet. */
	CHECK(nuauth_peer_log_flush_at(pl, 5 * S) == 0);
	/* a's interval is over: one summary; the quiet buckets are full
	 * again and forgotten, a's is not full yet. */
	CHECK(nuauth_peer_log_flush_at(pl, 12 * S) == 1);
	CHECK(nuauth_peer_log_buckets(pl) == 1);
	/* Quiet long enough: full again, forgotten. */
	CHECK(nuauth_peer_log_flush_at(pl, 30 * S) == 0);
	CHECK(nuauth_peer_log_buckets(pl) == 0);
	CHECK(allowed(pl, &a, KIND_A, 10, 31 * S) == 5);
	nuauth_peer_log_free(pl);
}

/* A line let through after the interval sums up what came before it. */
static void test_summary_on_use(void)
{
	struct nuauth_peer_log *pl = nuauth_peer_log_new(2, 5, 10, false);
	struct in6_addr a = addr("fd00::1");

	CHECK(allowed(pl, &a, KIND_A, 4, 0) == 2);
	CHECK(allowed(pl, &a, KIND_A, 4, 11 * S) == 2);	/* the summary went out here */
	CHECK(nuauth_peer_log_suppressed(pl) == 4);
	CHECK(nuauth_peer_log_flush_at(pl, 15 * S) == 0);
	nuauth_peer_log_free(pl);
}

static void test_table_bound(void)
{
	struct nuauth_peer_log *pl = nuauth_peer_log_new(1, 10, 10, false);
	struct in6_addr a = addr("fd00::");
	unsigned ok = 0;

	for (unsigned i = 0; i < PEER_LOG_MAX_PEERS + 100; i++) {
		a.s6_addr[14] = (uint8_t)(i >> 8);
		a.s6_addr[15] = (uint8_t)i;
		ok += nuauth_peer_log_allow_at(pl, &a, KIND_A, LOG_WARNING, 0);
	}
	/* Each known address its line, the others one between them. */
	CHECK(ok == PEER_LOG_MAX_PEERS + 1);
	CHECK(nuauth_peer_log_buckets(pl) == PEER_LOG_MAX_PEERS + 1);
	CHECK(nuauth_peer_log_flush_at(pl, 20 * S) == 1);
	CHECK(nuauth_peer_log_buckets(pl) == 0);
	nuauth_peer_log_free(pl);
}

int main(void)
{
	nu_log_init("test_peer_log", false, LOG_DEBUG);
	test_burst_refill_summary();
	test_summary_on_use();
	test_table_bound();
	return unit_done("test_peer_log");
}
