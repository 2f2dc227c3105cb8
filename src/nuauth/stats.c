/* nuauth's counters (stats.h). */
#include "config.h"
#include "stats.h"

#include <string.h>

#include "proto.h"

const uint32_t nuauth_latency_bounds_us[NUAUTH_LATENCY_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 5000000, 15000000,
};

void nuauth_stats_latency(struct nuauth_stats *st, gint64 arrived)
{
	gint64 waited;
	unsigned b = 0;

	if (arrived <= 0)
		return;
	waited = g_get_monotonic_time() - arrived;
	if (waited < 0)
		waited = 0;
	while (b < NUAUTH_LATENCY_BUCKETS && (uint64_t)waited > nuauth_latency_bounds_us[b])
		b++;
	st->latency_bucket[b]++;
	st->latency_count++;
	st->latency_sum_us += (uint64_t)waited;
}

/* Is name one of the space separated words of list? */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p; ) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

void nuauth_stats_login(struct nuauth_stats *st, const char *mech, const char *offered, bool ok)
{
	struct nuauth_login_count *c = &st->logins[NUAUTH_LOGIN_MECHS];	/* "other" */

	if (ok)
		st->logins_ok++;
	else
		st->logins_failed++;
	if (!mech || !*mech)
		mech = "none";
	else if (!in_list(offered, mech) || strlen(mech) >= NUAUTH_MECH_NAME_MAX)
		mech = NULL;
	for (unsigned i = 0; mech && i < NUAUTH_LOGIN_MECHS; i++) {
		if (!st->logins[i].mech[0])
			g_strlcpy(st->logins[i].mech, mech, sizeof(st->logins[i].mech));
		if (strcmp(st->logins[i].mech, mech) == 0) {
			c = &st->logins[i];
			break;
		}
	}
	if (c == &st->logins[NUAUTH_LOGIN_MECHS] && !c->mech[0])
		g_strlcpy(c->mech, "other", sizeof(c->mech));
	if (ok)
		c->ok++;
	else
		c->failed++;
}

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
