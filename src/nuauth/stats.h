/* nuauth's counters since start (nuauthctl stats): bumped by the tables and
 * sessions, read by the control socket.  Below everything that counts. */
#ifndef NUAUTH_STATS_H
#define NUAUTH_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define NUAUTH_RATE_SECONDS 10
/* The decision latency histogram's upper bounds, in microseconds (the
 * metrics show them in seconds); one more bucket counts the rest. */
#define NUAUTH_LATENCY_BUCKETS 16
extern const uint32_t nuauth_latency_bounds_us[NUAUTH_LATENCY_BUCKETS];
/* Logins counted by mechanism: the first this many names nuauth offered;
 * any other is counted as "other". */
#define NUAUTH_LOGIN_MECHS 12
#define NUAUTH_MECH_NAME_MAX 24

struct nuauth_login_count {
	char mech[NUAUTH_MECH_NAME_MAX];	/* "" : a free slot */
	uint64_t ok, failed;
};

struct nuauth_stats {
	gint64 start;			/* g_get_real_time() */
	uint64_t accepted, dropped, rejected;	/* decisions sent to gateways */
	uint64_t timeouts;		/* of which: no user claimed the packet */
	uint64_t logins_ok, logins_failed;
	uint64_t pushes;		/* PUSH messages sent to clients */
	uint64_t announces_unmatched;	/* claims of a flow no packet waited for:
					 * dropped, never stored (correlate.c) */
	uint64_t not_mine;		/* cluster: "not mine" answers (NOT_OWNER) */
	uint64_t claim_conflicts;	/* flows two users claimed: dropped */
	uint64_t sessions_refused_address;	/* nuauth_single_ip_client_limit */
	uint64_t links_refused_prelogin;	/* nuauth_single_ip_prelogin_limit */
	uint64_t protocol_closes;	/* links closed for breaking the protocol */
	/* From PACKET_ASK arrival to DECISION sent (the answer stage), in
	 * the buckets of nuauth_latency_bounds_us (not cumulative; the last
	 * is above every bound), their count and sum. */
	uint64_t latency_bucket[NUAUTH_LATENCY_BUCKETS + 1];
	uint64_t latency_count;
	uint64_t latency_sum_us;
	struct nuauth_login_count logins[NUAUTH_LOGIN_MECHS + 1];	/* last: "other" */
	/* Decisions per second of monotonic time, for the recent rate. */
	gint64 rate_second[NUAUTH_RATE_SECONDS + 1];
	uint32_t rate_count[NUAUTH_RATE_SECONDS + 1];
};

/* Counts a decision sent to a gateway (verdict: enum nu_verdict). */
void nuauth_stats_decision(struct nuauth_stats *st, int verdict);
/* The time a packet waited for its decision: arrived is the monotonic
 * time (g_get_monotonic_time) its PACKET_ASK came; 0: unknown, not counted. */
void nuauth_stats_latency(struct nuauth_stats *st, gint64 arrived);
/* Counts a login (logins_ok or logins_failed, and by mechanism).  mech:
 * the mechanism the client asked for (NULL or "": none yet, "none");
 * offered: the space separated names nuauth offers; another name counts
 * as "other", so a client cannot make the table grow. */
void nuauth_stats_login(struct nuauth_stats *st, const char *mech, const char *offered, bool ok);
/* Decisions per second over the last NUAUTH_RATE_SECONDS seconds. */
double nuauth_stats_rate(const struct nuauth_stats *st);

#endif
