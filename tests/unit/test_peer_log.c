/* Unit tests for src/nuauth/peer_log.c: per address, the first lines of an
 * interval pass, the rest are counted and summed up in one line when the
 * interval ends; addresses do not share a budget; quiet ones are
 * forgotten; beyond the table's size the others share one budget. */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>

#include "peer_log.h"
#include "unit.h"

#define S G_USEC_PER_SEC

static struct in6_addr addr(const char *text)
{
	struct in6_addr a;

	inet_pton(AF_INET6, text, &a);
	return a;
}

static unsigned allowed(struct nuauth_peer_log *pl, const struct in6_addr *a, unsigned n,
			gint64 now)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		k += nuauth_peer_log_allow_at(pl, a, now);
	return k;
}

static void test_burst_and_summary(void)
{
	struct nuauth_peer_log *pl = nuauth_peer_log_new(5, 10, false);
	struct in6_addr a = addr("::ffff:10.201.0.50"), b = addr("::ffff:10.201.0.2");

	CHECK(allowed(pl, &a, 100000, 1 * S) == 5);
	CHECK(nuauth_peer_log_suppressed(pl) == 99995);
	/* b has a budget of its own. */
	CHECK(allowed(pl, &b, 3, 2 * S) == 3);
	CHECK(nuauth_peer_log_peers(pl) == 2);
	/* Within the interval: nothing to sum up yet. */
	CHECK(nuauth_peer_log_flush_at(pl, 5 * S) == 0);
	/* a's interval is over: one summary; b had nothing left out. */
	CHECK(nuauth_peer_log_flush_at(pl, 12 * S) == 2 - 1);
	CHECK(nuauth_peer_log_peers(pl) == 0);
	/* A new interval: the burst again. */
	CHECK(allowed(pl, &a, 10, 13 * S) == 5);
	nuauth_peer_log_free(pl);
}

static void test_window_rolls_on_use(void)
{
	struct nuauth_peer_log *pl = nuauth_peer_log_new(2, 10, false);
	struct in6_addr a = addr("fd00::1");

	CHECK(allowed(pl, &a, 4, 0) == 2);
	CHECK(allowed(pl, &a, 4, 11 * S) == 2);	/* the summary went out here */
	CHECK(nuauth_peer_log_suppressed(pl) == 4);
	nuauth_peer_log_free(pl);
}

static void test_table_bound(void)
{
	struct nuauth_peer_log *pl = nuauth_peer_log_new(1, 10, false);
	struct in6_addr a = addr("fd00::");
	unsigned ok = 0;

	for (unsigned i = 0; i < PEER_LOG_MAX_PEERS + 100; i++) {
		a.s6_addr[14] = (uint8_t)(i >> 8);
		a.s6_addr[15] = (uint8_t)i;
		ok += nuauth_peer_log_allow_at(pl, &a, 0);
	}
	/* Each known address its line, the others one between them. */
	CHECK(ok == PEER_LOG_MAX_PEERS + 1);
	CHECK(nuauth_peer_log_peers(pl) == PEER_LOG_MAX_PEERS + 1);
	CHECK(nuauth_peer_log_flush_at(pl, 20 * S) == 1);
	CHECK(nuauth_peer_log_peers(pl) == 0);
	nuauth_peer_log_free(pl);
}

int main(void)
{
	nu_log_init("test_peer_log", false, LOG_DEBUG);
	test_burst_and_summary();
	test_window_rolls_on_use();
	test_table_bound();
	return unit_done("test_peer_log");
}
