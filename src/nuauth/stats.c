/* nuauth's counters (stats.h). */
#include "config.h"
#include "stats.h"

#include "proto.h"

void nuauth_stats_decision(struct nuauth_stats *st, int verdict)
{
	gint64 sec = g_get_monotonic_time() / G_USEC_PER_SEC;
	unsigned slot = (unsigned)(sec % (NUAUTH_RATE_SECONDS + 1));

	switch (verdict) {
	case NU_VERDICT_ACCEPT: st->accepted++; break;
	case NU_VERDICT_REJECT: st->rejected++; break;
	default: st->dropped++; break;
	}
	if (st->rate_second[slot] != sec) {
		st->rate_second[slot] = sec;
		st->rate_count[slot] = 0;
	}
	st->rate_count[slot]++;
}

double nuauth_stats_rate(const struct nuauth_stats *st)
{
	gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
	uint64_t sum = 0;

	for (unsigned i = 0; i <= NUAUTH_RATE_SECONDS; i++)
		if (st->rate_second[i] > now - NUAUTH_RATE_SECONDS && st->rate_second[i] <= now)
			sum += st->rate_count[i];
	return (double)sum / NUAUTH_RATE_SECONDS;
}
