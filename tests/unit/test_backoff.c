/* libnuclient's backoff.c: capped exponential back-off with full jitter.
 * Every delay lies in its window, windows double up to the cap, a reset
 * starts over, and a thousand clients' first delays spread over the first
 * window (no second of it holds most of them). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "backoff.h"
#include "unit.h"

static void test_bounds(void)
{
	struct nc_backoff b;
	unsigned window = 1000;

	nc_backoff_init(&b, 1000, 30000, 100);
	/* the extremes of the random number give the window's two ends */
	for (int n = 0; n < 12; n++) {
		struct nc_backoff lo = b, hi = b;
		unsigned dlo = nc_backoff_next(&lo, 0);
		unsigned dhi = nc_backoff_next(&hi, window - 100);

		CHECK(dlo == 100);
		CHECK(dhi == window);
		CHECK(lo.window_ms == hi.window_ms);
		nc_backoff_next(&b, 12345);
		window = window * 2 > 30000 ? 30000 : window * 2;
		CHECK(b.window_ms == window);
	}
	CHECK(b.window_ms == 30000);
	CHECK(b.attempts == 12);
	/* any random number stays within [floor, cap] */
	for (uint32_t r = UINT32_MAX - 1000; r != 0; r++) {
		unsigned d = nc_backoff_next(&b, r);

		CHECK(d >= 100 && d <= 30000);
	}
	nc_backoff_reset(&b);
	CHECK(b.window_ms == 1000 && b.attempts == 0);
	CHECK(nc_backoff_next(&b, UINT32_MAX) <= 1000);
	CHECK(b.window_ms == 2000);
}

static void test_odd_settings(void)
{
	struct nc_backoff b;

	/* a base above the cap is the cap; a floor above the base is the base */
	nc_backoff_init(&b, 50000, 30000, 40000);
	CHECK(b.base_ms == 30000 && b.floor_ms == 30000);
	CHECK(nc_backoff_next(&b, 7) == 30000);
	CHECK(nc_backoff_next(&b, UINT32_MAX) == 30000);
	/* zeros do not divide by zero */
	nc_backoff_init(&b, 0, 0, 0);
	CHECK(nc_backoff_next(&b, UINT32_MAX) <= 1);
	/* an odd cap: the window reaches it exactly, never beyond */
	nc_backoff_init(&b, 700, 2999, 0);
	for (int n = 0; n < 10; n++)
		nc_backoff_next(&b, 1);
	CHECK(b.window_ms == 2999);
}

/* 1000 clients cut off together: their first delays (1 s window) spread
 * evenly; over six attempts with nuauth away, their total waits spread
 * over tens of seconds. */
static void test_spread(void)
{
	unsigned buckets[10] = { 0 }, first_max = 0;
	unsigned long total_min = ~0ul, total_max = 0;
	GRand *rand = g_rand_new_with_seed(19);

	for (int c = 0; c < 1000; c++) {
		struct nc_backoff b;
		unsigned long total = 0;
		unsigned d;

		nc_backoff_init(&b, 1000, 30000, 100);
		d = nc_backoff_next(&b, g_rand_int(rand));
		buckets[d * 10 / 1001]++;
		first_max = d > first_max ? d : first_max;
		total = d;
		for (int n = 1; n < 6; n++)
			total += nc_backoff_next(&b, g_rand_int(rand));
		total_min = total < total_min ? total : total_min;
		total_max = total > total_max ? total : total_max;
	}
	CHECK(first_max <= 1000);
	CHECK(buckets[0] < 90);		/* [0, 100): only the floor's share */
	for (int i = 1; i < 10; i++)
		CHECK(buckets[i] > 60 && buckets[i] < 160);
	CHECK(total_max - total_min > 20000);
	g_rand_free(rand);
}

int main(void)
{
	test_bounds();
	test_odd_settings();
	test_spread();
	return unit_done("test_backoff");
}
