/* Log lines about one peer's bad input, rate-limited per address
 * (peer_log.h). */
#include "config.h"
#include "peer_log.h"

#include <string.h>
#include <arpa/inet.h>

#include "flow.h"

struct peer {
	struct in6_addr addr;
	gint64 window_start;	/* monotonic, us */
	unsigned logged;	/* lines written in this window */
	uint64_t suppressed;	/* lines left out in this window */
	int level;		/* of the last line left out */
};

struct nuauth_peer_log {
	unsigned burst;
	gint64 interval_us;
	GHashTable *peers;	/* struct in6_addr * (in struct peer) -> struct peer */
	struct peer overflow;	/* the addresses beyond PEER_LOG_MAX_PEERS */
	bool overflow_used;
	uint64_t suppressed_total;
	guint timer;
};

guint nuauth_addr_hash(gconstpointer p)
{
	const uint32_t *w = p;

	return w[0] * 31u ^ w[1] * 17u ^ w[2] * 13u ^ w[3];
}

gboolean nuauth_addr_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(struct in6_addr)) == 0;
}

static gboolean on_timer(gpointer data)
{
	struct nuauth_peer_log *pl = data;

	nuauth_peer_log_flush_at(pl, g_get_monotonic_time());
	return G_SOURCE_CONTINUE;
}

struct nuauth_peer_log *nuauth_peer_log_new(unsigned burst, unsigned interval_s,
					    bool start_timer)
{
	struct nuauth_peer_log *pl = g_new0(struct nuauth_peer_log, 1);

	pl->burst = burst;
	pl->interval_us = (gint64)MAX(interval_s, 1u) * G_USEC_PER_SEC;
	pl->peers = g_hash_table_new_full(nuauth_addr_hash, nuauth_addr_equal, NULL, g_free);
	/* Summaries come at most one interval late. */
	if (start_timer)
		pl->timer = g_timeout_add_seconds(MAX(interval_s, 1u), on_timer, pl);
	return pl;
}

/* The summary of p's window, if anything was left out. */
static bool summarize(struct nuauth_peer_log *pl, struct peer *p, bool overflow)
{
	char text[INET6_ADDRSTRLEN];

	if (!p->suppressed)
		return false;
	if (overflow)
		nu_log(p->level, "%" G_GUINT64_FORMAT " more lines about other clients left out "
		       "in the last %u s", p->suppressed, (unsigned)(pl->interval_us / G_USEC_PER_SEC));
	else
		nu_log(p->level, "%" G_GUINT64_FORMAT " more lines about client %s left out in "
		       "the last %u s", p->suppressed, nu_addr_format(&p->addr, text, sizeof(text)),
		       (unsigned)(pl->interval_us / G_USEC_PER_SEC));
	p->suppressed = 0;
	return true;
}

void nuauth_peer_log_free(struct nuauth_peer_log *pl)
{
	if (!pl)
		return;
	nuauth_peer_log_flush_at(pl, G_MAXINT64);
	if (pl->timer)
		g_source_remove(pl->timer);
	g_hash_table_destroy(pl->peers);
	g_free(pl);
}

unsigned nuauth_peer_log_flush_at(struct nuauth_peer_log *pl, gint64 now_us)
{
	GHashTableIter it;
	gpointer value;
	unsigned n = 0;

	g_hash_table_iter_init(&it, pl->peers);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct peer *p = value;

		if (now_us - p->window_start < pl->interval_us)
			continue;
		n += summarize(pl, p, false);
		g_hash_table_iter_remove(&it);	/* quiet now: forgotten */
	}
	if (pl->overflow_used && now_us - pl->overflow.window_start >= pl->interval_us) {
		n += summarize(pl, &pl->overflow, true);
		pl->overflow_used = false;
	}
	return n;
}

/* Starts a new window for p when its last one is over. */
static void roll(struct nuauth_peer_log *pl, struct peer *p, gint64 now_us, bool overflow)
{
	if (now_us - p->window_start < pl->interval_us)
		return;
	summarize(pl, p, overflow);
	p->window_start = now_us;
	p->logged = 0;
}

static bool allow(struct nuauth_peer_log *pl, const struct in6_addr *addr, int level,
		  gint64 now_us)
{
	struct peer *p = g_hash_table_lookup(pl->peers, addr);
	bool overflow = false;

	if (!p && g_hash_table_size(pl->peers) >= PEER_LOG_MAX_PEERS) {
		p = &pl->overflow;
		overflow = true;
		if (!pl->overflow_used) {
			memset(p, 0, sizeof(*p));
			p->window_start = now_us;
			pl->overflow_used = true;
		}
	} else if (!p) {
		p = g_new0(struct peer, 1);
		p->addr = *addr;
		p->window_start = now_us;
		g_hash_table_insert(pl->peers, &p->addr, p);
	}
	roll(pl, p, now_us, overflow);
	if (p->logged < pl->burst) {
		p->logged++;
		return true;
	}
	p->suppressed++;
	p->level = level;
	pl->suppressed_total++;
	return false;
}

bool nuauth_peer_log_allow_at(struct nuauth_peer_log *pl, const struct in6_addr *peer,
			      gint64 now_us)
{
	return allow(pl, peer, LOG_WARNING, now_us);
}

bool nuauth_peer_log_allow(struct nuauth_peer_log *pl, const struct in6_addr *peer)
{
	return allow(pl, peer, LOG_WARNING, g_get_monotonic_time());
}

bool nuauth_peer_log_allow_level(struct nuauth_peer_log *pl, const struct in6_addr *peer,
				 int level)
{
	return allow(pl, peer, level, g_get_monotonic_time());
}

uint64_t nuauth_peer_log_suppressed(const struct nuauth_peer_log *pl)
{
	return pl->suppressed_total;
}

unsigned nuauth_peer_log_peers(const struct nuauth_peer_log *pl)
{
	return g_hash_table_size(pl->peers) + (pl->overflow_used ? 1 : 0);
}
