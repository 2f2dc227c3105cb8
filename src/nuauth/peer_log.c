/* Log lines about one peer's bad input, rate-limited per address and kind
 * of line (peer_log.h). */
#include "config.h"
#include "peer_log.h"

#include <string.h>
#include <arpa/inet.h>

#include "flow.h"

struct bucket_key {
	struct in6_addr addr;
	const char *site;	/* the line's format string */
};

struct bucket {
	struct bucket_key key;
	gint64 tokens_at;	/* monotonic us at which tokens was right */
	unsigned tokens;
	gint64 summary_at;	/* last summary (or the bucket's start) */
	uint64_t suppressed;	/* since the last summary */
	int level;		/* of the last line left out */
};

struct nuauth_peer_log {
	unsigned burst;
	gint64 refill_us, interval_us;
	GHashTable *buckets;	/* struct bucket_key * (in the bucket) -> struct bucket */
	struct bucket overflow;	/* every key beyond PEER_LOG_MAX_PEERS */
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

static guint key_hash(gconstpointer p)
{
	const struct bucket_key *k = p;

	return nuauth_addr_hash(&k->addr) ^ g_direct_hash(k->site);
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	const struct bucket_key *x = a, *y = b;

	return x->site == y->site && nuauth_addr_equal(&x->addr, &y->addr);
}

static gboolean on_timer(gpointer data)
{
	nuauth_peer_log_flush_at(data, g_get_monotonic_time());
	return G_SOURCE_CONTINUE;
}

struct nuauth_peer_log *nuauth_peer_log_new(unsigned burst, unsigned refill_s,
					    unsigned interval_s, bool start_timer)
{
	struct nuauth_peer_log *pl = g_new0(struct nuauth_peer_log, 1);

	pl->burst = MAX(burst, 1u);
	pl->refill_us = (gint64)MAX(refill_s, 1u) * G_USEC_PER_SEC;
	pl->interval_us = (gint64)MAX(interval_s, 1u) * G_USEC_PER_SEC;
	pl->buckets = g_hash_table_new_full(key_hash, key_equal, NULL, g_free);
	/* Summaries come at most one interval late. */
	if (start_timer)
		pl->timer = g_timeout_add_seconds(MAX(interval_s, 1u), on_timer, pl);
	return pl;
}

/* The summary of b's lines left out, if any. */
static bool summarize(struct nuauth_peer_log *pl, struct bucket *b, bool overflow, gint64 now_us)
{
	/* The timer comes at most one interval late (and free() at once). */
	unsigned seconds = (unsigned)((MIN(now_us, b->summary_at + 2 * pl->interval_us) -
				       b->summary_at + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC);
	char text[INET6_ADDRSTRLEN];

	b->summary_at = now_us;
	if (!b->suppressed)
		return false;
	if (overflow)
		nu_log(b->level, "%" G_GUINT64_FORMAT " more lines about other clients left out "
		       "in the last %u s", b->suppressed, seconds);
	else
		nu_log(b->level, "%" G_GUINT64_FORMAT " more lines like this about client %s left "
		       "out in the last %u s: \"%.60s\"", b->suppressed,
		       nu_addr_format(&b->key.addr, text, sizeof(text)), seconds, b->key.site);
	b->suppressed = 0;
	return true;
}

/* Tokens back since b was last looked at. */
static void refill(struct nuauth_peer_log *pl, struct bucket *b, gint64 now_us)
{
	gint64 n = (now_us - b->tokens_at) / pl->refill_us;

	if (n <= 0)
		return;
	b->tokens = (unsigned)MIN((gint64)pl->burst, b->tokens + n);
	b->tokens_at = b->tokens == pl->burst ? now_us : b->tokens_at + n * pl->refill_us;
}

void nuauth_peer_log_free(struct nuauth_peer_log *pl)
{
	if (!pl)
		return;
	nuauth_peer_log_flush_at(pl, G_MAXINT64 / 2);
	if (pl->timer)
		g_source_remove(pl->timer);
	g_hash_table_destroy(pl->buckets);
	g_free(pl);
}

unsigned nuauth_peer_log_flush_at(struct nuauth_peer_log *pl, gint64 now_us)
{
	GHashTableIter it;
	gpointer value;
	unsigned n = 0;

	g_hash_table_iter_init(&it, pl->buckets);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct bucket *b = value;

		if (now_us - b->summary_at < pl->interval_us)
			continue;
		n += summarize(pl, b, false, now_us);
		refill(pl, b, now_us);
		if (b->tokens == pl->burst)
			g_hash_table_iter_remove(&it);	/* full and quiet: forgotten */
	}
	if (pl->overflow_used && now_us - pl->overflow.summary_at >= pl->interval_us) {
		n += summarize(pl, &pl->overflow, true, now_us);
		pl->overflow_used = false;
	}
	return n;
}

bool nuauth_peer_log_allow_at(struct nuauth_peer_log *pl, const struct in6_addr *peer,
			      const char *site, int level, gint64 now_us)
{
	struct bucket_key key;
	struct bucket *b;

	memset(&key, 0, sizeof(key));	/* no padding left undefined in a hash key */
	key.addr = *peer;
	key.site = site;
	b = g_hash_table_lookup(pl->buckets, &key);
	bool overflow = false;

	if (!b && g_hash_table_size(pl->buckets) >= PEER_LOG_MAX_PEERS) {
		b = &pl->overflow;
		overflow = true;
		if (!pl->overflow_used) {
			memset(b, 0, sizeof(*b));
			b->tokens = pl->burst;
			b->tokens_at = b->summary_at = now_us;
			pl->overflow_used = true;
		}
	} else if (!b) {
		b = g_new0(struct bucket, 1);
		b->key = key;
		b->tokens = pl->burst;
		b->tokens_at = b->summary_at = now_us;
		g_hash_table_insert(pl->buckets, &b->key, b);
	}
	if (b->suppressed && now_us - b->summary_at >= pl->interval_us)
		summarize(pl, b, overflow, now_us);
	refill(pl, b, now_us);
	if (b->tokens > 0) {
		b->tokens--;
		return true;
	}
	if (!b->suppressed)
		b->summary_at = now_us;	/* the summary covers from here */
	b->suppressed++;
	b->level = level;
	pl->suppressed_total++;
	return false;
}

bool nuauth_peer_log_allow(struct nuauth_peer_log *pl, const struct in6_addr *peer,
			   const char *site, int level)
{
	return nuauth_peer_log_allow_at(pl, peer, site, level, g_get_monotonic_time());
}

uint64_t nuauth_peer_log_suppressed(const struct nuauth_peer_log *pl)
{
	return pl->suppressed_total;
}

unsigned nuauth_peer_log_buckets(const struct nuauth_peer_log *pl)
{
	return g_hash_table_size(pl->buckets) + (pl->overflow_used ? 1 : 0);
}
