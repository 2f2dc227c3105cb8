/* Log lines about one peer's bad input, rate-limited per peer address.
 *
 * A client that sends the same mistake as fast as it can must not make
 * nuauth write a line per mistake: the log would cost more than the
 * mistake, and bury everything else.  Of the lines about one address in
 * each interval, the first `burst' are logged; the others are only
 * counted, and when the interval ends one line says how many about that
 * address were left out.  Lines about different addresses do not share a
 * budget (up to PEER_LOG_MAX_PEERS addresses at a time; beyond, the
 * others share one).  Everything runs on the main loop's thread.
 *
 *     if (nuauth_peer_log_allow(pl, &cl->addr))
 *             log_warnx("user %s announced %s, ...", ...);
 *
 * or peer_log_warnx(pl, addr, fmt, ...), which does the same; neither
 * formats a line it does not write. */
#ifndef NUAUTH_PEER_LOG_H
#define NUAUTH_PEER_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <glib.h>

#include "log.h"

#define PEER_LOG_BURST 5
#define PEER_LOG_INTERVAL_S 10
#define PEER_LOG_MAX_PEERS 4096

struct nuauth_peer_log;

/* burst lines per address and interval; a GLib timer on the thread-default
 * context writes the summaries when start_timer is set (tests pass false
 * and call nuauth_peer_log_flush_at themselves). */
struct nuauth_peer_log *nuauth_peer_log_new(unsigned burst, unsigned interval_s,
					    bool start_timer);
/* Writes the pending summaries, then frees; NULL-safe. */
void nuauth_peer_log_free(struct nuauth_peer_log *pl);

/* May a line about peer be logged now?  Counts it as suppressed if not. */
bool nuauth_peer_log_allow(struct nuauth_peer_log *pl, const struct in6_addr *peer);
bool nuauth_peer_log_allow_at(struct nuauth_peer_log *pl, const struct in6_addr *peer,
			      gint64 now_us);
/* Ends the intervals that are over at now_us: one summary line for each
 * address with lines left out (at the level of the last one), and forgets
 * the addresses with nothing to say.  Returns the summaries written. */
unsigned nuauth_peer_log_flush_at(struct nuauth_peer_log *pl, gint64 now_us);

/* Lines left out since the start (nuauthctl stats: warnings_suppressed). */
uint64_t nuauth_peer_log_suppressed(const struct nuauth_peer_log *pl);
/* Addresses with an interval running. */
unsigned nuauth_peer_log_peers(const struct nuauth_peer_log *pl);

/* GHashTable functions for struct in6_addr keys. */
guint nuauth_addr_hash(gconstpointer addr);
gboolean nuauth_addr_equal(gconstpointer a, gconstpointer b);

#define peer_log_level(pl, peer, level, ...)					\
	do {									\
		if (nu_log_enabled(level) && nuauth_peer_log_allow_level(pl, peer, level)) \
			nu_log(level, __VA_ARGS__);				\
	} while (0)
#define peer_log_warnx(pl, peer, ...)	peer_log_level(pl, peer, LOG_WARNING, __VA_ARGS__)
#define peer_log_notice(pl, peer, ...)	peer_log_level(pl, peer, LOG_NOTICE, __VA_ARGS__)
#define peer_log_info(pl, peer, ...)	peer_log_level(pl, peer, LOG_INFO, __VA_ARGS__)
/* nuauth_peer_log_allow, remembering the level for the summary line. */
bool nuauth_peer_log_allow_level(struct nuauth_peer_log *pl, const struct in6_addr *peer,
				 int level);

#endif
