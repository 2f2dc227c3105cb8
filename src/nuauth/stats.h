/* nuauth's counters since start (nuauthctl stats): bumped by the tables and
 * sessions, read by the control socket.  Below everything that counts. */
#ifndef NUAUTH_STATS_H
#define NUAUTH_STATS_H

#include <stdint.h>
#include <glib.h>

#define NUAUTH_RATE_SECONDS 10

struct nuauth_stats {
	gint64 start;			/* g_get_real_time() */
	uint64_t accepted, dropped, rejected;	/* decisions sent to gateways */
	uint64_t timeouts;		/* of which: no user claimed the packet */
	uint64_t logins_ok, logins_failed;
	uint64_t pushes;		/* PUSH messages sent to clients */
	uint64_t announces_unmatched;	/* claims of a flow no packet waited for:
					 * dropped, never stored (correlate.c) */
	uint64_t claim_conflicts;	/* flows two users claimed: dropped */
	uint64_t sessions_refused_address;	/* nuauth_single_ip_client_limit */
	uint64_t links_refused_prelogin;	/* nuauth_single_ip_prelogin_limit */
	uint64_t protocol_closes;	/* links closed for breaking the protocol */
	/* Decisions per second of monotonic time, for the recent rate. */
	gint64 rate_second[NUAUTH_RATE_SECONDS + 1];
	uint32_t rate_count[NUAUTH_RATE_SECONDS + 1];
};

/* Counts a decision sent to a gateway (verdict: enum nu_verdict). */
void nuauth_stats_decision(struct nuauth_stats *st, int verdict);
/* Decisions per second over the last NUAUTH_RATE_SECONDS seconds. */
double nuauth_stats_rate(const struct nuauth_stats *st);

#endif
