/* Log lines about one peer's bad input, rate-limited per peer address.
 *
 * A client that sends the same mistake as fast as it can must not make
 * nuauth write a line per mistake: the log would cost more than the
 * mistake, and bury everything else.  Each kind of line (its format
 * string) about each address has a bucket of PEER_LOG_BURST lines that
 * refills by one every PEER_LOG_REFILL_S seconds: a few mistakes are all
 * logged, a flood gets its first lines and then a trickle.  The lines left
 * out are counted, and at most every PEER_LOG_INTERVAL_S seconds one line
 * per address and kind says how many.  The table holds at most
 * PEER_LOG_MAX_PEERS buckets; beyond, the others share one.  Everything
 * runs on the main loop's thread.
 *
 *     peer_log_warnx(srv->peer_log, &cl->addr, "user %s announced %s, ...", ...);
 *
 * formats and writes the line only when it is let through. */
#ifndef NUAUTH_PEER_LOG_H
#define NUAUTH_PEER_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <glib.h>

#include "log.h"

#define PEER_LOG_BURST 10
#define PEER_LOG_REFILL_S 2
#define PEER_LOG_INTERVAL_S 10
#define PEER_LOG_MAX_PEERS 4096

struct nuauth_peer_log;

/* burst lines at once, one more each refill_s, summaries every interval_s;
 * a GLib timer on the thread-default context writes the summaries when
 * start_timer is set (tests pass false and call nuauth_peer_log_flush_at). */
struct nuauth_peer_log *nuauth_peer_log_new(unsigned burst, unsigned refill_s,
					    unsigned interval_s, bool start_timer);
/* Writes the pending summaries, then frees; NULL-safe. */
void nuauth_peer_log_free(struct nuauth_peer_log *pl);

/* May a line of kind site (its format string) about peer, at level, be
 * written now?  Counts it as left out if not. */
bool nuauth_peer_log_allow(struct nuauth_peer_log *pl, const struct in6_addr *peer,
			   const char *site, int level);
bool nuauth_peer_log_allow_at(struct nuauth_peer_log *pl, const struct in6_addr *peer,
			      const char *site, int level, gint64 now_us);
/* Writes the summaries due at now_us (one line for each bucket with lines
 * left out, at the level of the last one, at most every interval) and
 * forgets the buckets that are full and quiet.  Returns the summaries. */
unsigned nuauth_peer_log_flush_at(struct nuauth_peer_log *pl, gint64 now_us);

/* Lines left out since the start (nuauthctl stats: warnings_suppressed). */
uint64_t nuauth_peer_log_suppressed(const struct nuauth_peer_log *pl);
/* Buckets in the table. */
unsigned nuauth_peer_log_buckets(const struct nuauth_peer_log *pl);

/* GHashTable functions for struct in6_addr keys. */
guint nuauth_addr_hash(gconstpointer addr);
gboolean nuauth_addr_equal(gconstpointer a, gconstpointer b);

#define PEER_LOG_FMT_(fmt, ...) fmt
#define peer_log_level(pl, peer, level, ...)					\
	do {									\
		if (nu_log_enabled(level) &&					\
		    nuauth_peer_log_allow(pl, peer, PEER_LOG_FMT_(__VA_ARGS__, ""), level)) \
			nu_log(level, __VA_ARGS__);				\
	} while (0)
#define peer_log_warnx(pl, peer, ...)	peer_log_level(pl, peer, LOG_WARNING, __VA_ARGS__)
#define peer_log_notice(pl, peer, ...)	peer_log_level(pl, peer, LOG_NOTICE, __VA_ARGS__)
#define peer_log_info(pl, peer, ...)	peer_log_level(pl, peer, LOG_INFO, __VA_ARGS__)

#endif
