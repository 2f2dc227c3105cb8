/* Address sessions (doc/devices.md): an address whose user is known
 * without a client, from a RADIUS accounting record (nuauthctl ip-session
 * on the accounting socket, called by FreeRADIUS), an administrator's
 * nuauthctl ip-session, or a login page.  One session per address; it ends
 * when stopped, after nuauth_ip_session_idle_timeout seconds without a
 * packet or an update, and nuauth_ip_session_max_duration seconds after
 * its start.  Expired sessions are dropped when met (look-up, listing, a
 * new start).  ipauth.c gives a session's packets their user; a client's
 * claim on a connection wins over it (correlate.c). */
#include "config.h"
#include "nuauth.h"

#include <string.h>

#include "log.h"
#include "peer_log.h"

/* Sessions kept at most: a campus' worth of addresses. */
#define IPSESSION_MAX 65536

struct nuauth_ipsessions {
	GHashTable *by_addr;		/* struct in6_addr * -> struct nuauth_ipsession */
	unsigned idle;			/* s, 0 none */
	unsigned max;			/* s, 0 none */
	void (*on_replace)(const struct nuauth_ipsession *e, void *ctx);
	void *on_replace_ctx;
};

const char *nuauth_origin(const char *text)
{
	static const char *const names[] = { "client", "ipauth", "radius", "portal", "admin" };

	for (size_t i = 0; text && i < G_N_ELEMENTS(names); i++)
		if (strcmp(text, names[i]) == 0)
			return names[i];
	return NULL;
}

struct nuauth_ipsessions *nuauth_ipsessions_new(void)
{
	struct nuauth_ipsessions *s = g_new0(struct nuauth_ipsessions, 1);

	s->by_addr = g_hash_table_new_full(nuauth_addr_hash, nuauth_addr_equal, NULL, g_free);
	return s;
}

void nuauth_ipsessions_free(struct nuauth_ipsessions *s)
{
	if (!s)
		return;
	g_hash_table_destroy(s->by_addr);
	g_free(s);
}

void nuauth_ipsessions_on_replace(struct nuauth_ipsessions *s,
				  void (*fn)(const struct nuauth_ipsession *e, void *ctx),
				  void *ctx)
{
	s->on_replace = fn;
	s->on_replace_ctx = ctx;
}

void nuauth_ipsessions_set_limits(struct nuauth_ipsessions *s, unsigned idle, unsigned max)
{
	s->idle = idle;
	s->max = max;
}

static bool expired(const struct nuauth_ipsessions *s, const struct nuauth_ipsession *e,
		    gint64 now)
{
	return (s->idle && now - e->last >= (gint64)s->idle * G_USEC_PER_SEC) ||
	       (s->max && now - e->started >= (gint64)s->max * G_USEC_PER_SEC);
}

static void prune(struct nuauth_ipsessions *s, gint64 now)
{
	GHashTableIter it;
	struct nuauth_ipsession *e;
	char text[INET6_ADDRSTRLEN];

	g_hash_table_iter_init(&it, s->by_addr);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&e))
		if (expired(s, e, now)) {
			bool idle = s->idle && now - e->last >= (gint64)s->idle * G_USEC_PER_SEC;

			log_notice("address session of %s at %s (%s) ended: %s", e->user,
				   nu_addr_format(&e->addr, text, sizeof(text)), e->origin,
				   idle ? "idle timeout" : "hard limit");
			g_hash_table_iter_remove(&it);
		}
}

bool nuauth_ipsession_start(struct nuauth_ipsessions *s, const char *user,
			    const struct in6_addr *addr, const char *origin, GError **error)
{
	gint64 now = g_get_monotonic_time();
	struct nuauth_ipsession *e;

	if (!nuauth_username_usable(user) || strlen(user) >= sizeof(e->user)) {
		/* escaped: the reply and the log show what came, not its effect */
		char *shown = g_strescape(user, NULL);

		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "`%s' is not a user name "
			    "(1 to %zu bytes, no space, control character or ':')", shown,
			    sizeof(e->user) - 1);
		g_free(shown);
		return false;
	}
	prune(s, now);
	e = g_hash_table_lookup(s->by_addr, addr);
	if (!e && g_hash_table_size(s->by_addr) >= IPSESSION_MAX) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOSPC,
			    "%u address sessions already", IPSESSION_MAX);
		return false;
	}
	if (!e) {
		e = g_new0(struct nuauth_ipsession, 1);
		e->addr = *addr;
		g_hash_table_insert(s->by_addr, &e->addr, e);
	}
	/* A start for another user, or again, is a new session; what the
	 * other user opened from the address is not the new one's. */
	if (*e->user && strcmp(e->user, user) != 0 && s->on_replace)
		s->on_replace(e, s->on_replace_ctx);
	g_strlcpy(e->user, user, sizeof(e->user));
	e->origin = origin;
	e->has_mac = false;	/* a new session: its host's MAC is learnt anew */
	e->has_nas = false;
	e->started = e->last = now;
	e->since = g_get_real_time();
	return true;
}

bool nuauth_ipsession_update(struct nuauth_ipsessions *s, const char *user,
			     const struct in6_addr *addr, const char *origin, GError **error)
{
	gint64 now = g_get_monotonic_time();
	struct nuauth_ipsession *e;

	prune(s, now);
	e = g_hash_table_lookup(s->by_addr, addr);
	/* An interim update of a session nuauth does not know (nuauth
	 * restarted after the start) opens it. */
	if (!e || strcmp(e->user, user) != 0)
		return nuauth_ipsession_start(s, user, addr, origin, error);
	e->last = now;
	return true;
}

bool nuauth_ipsession_stop(struct nuauth_ipsessions *s, const char *user,
			   const struct in6_addr *addr, const char *origin, GError **error)
{
	struct nuauth_ipsession *e = g_hash_table_lookup(s->by_addr, addr);

	if (!e || (user && strcmp(e->user, user) != 0) || (origin && e->origin != origin)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
			    "no address session of %s there", user ? user : "anyone");
		return false;
	}
	g_hash_table_remove(s->by_addr, addr);
	return true;
}

const struct nuauth_ipsession *nuauth_ipsession_use(struct nuauth_ipsessions *s,
						    const struct in6_addr *addr)
{
	return nuauth_ipsession_use_mac(s, addr, NULL);
}

const struct nuauth_ipsession *nuauth_ipsession_use_mac(struct nuauth_ipsessions *s,
							const struct in6_addr *addr,
							const uint8_t *mac)
{
	gint64 now = g_get_monotonic_time();
	struct nuauth_ipsession *e = g_hash_table_lookup(s->by_addr, addr);
	char text[INET6_ADDRSTRLEN];

	if (!e)
		return NULL;
	if (expired(s, e, now)) {
		prune(s, now);
		return NULL;
	}
	/* The first packet the gateway saw the MAC address of ties the
	 * session to it; another MAC address at the address is another
	 * host (a spoofer, or the address given to someone else). */
	if (mac && e->has_mac && memcmp(mac, e->mac, sizeof(e->mac)) != 0) {
		log_notice("address session of %s at %s (%s) ended: seen with another MAC address "
			   "(%02x:%02x:%02x:%02x:%02x:%02x, the session's %02x:%02x:%02x:%02x:%02x:%02x)",
			   e->user, nu_addr_format(&e->addr, text, sizeof(text)), e->origin,
			   mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], e->mac[0], e->mac[1],
			   e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
		g_hash_table_remove(s->by_addr, addr);
		return NULL;
	}
	if (mac && !e->has_mac) {
		memcpy(e->mac, mac, sizeof(e->mac));
		e->has_mac = true;
	}
	e->last = now;
	return e;
}

void nuauth_ipsessions_foreach(struct nuauth_ipsessions *s,
			       void (*fn)(const struct nuauth_ipsession *e, void *ctx), void *ctx)
{
	GHashTableIter it;
	struct nuauth_ipsession *e;

	prune(s, g_get_monotonic_time());
	g_hash_table_iter_init(&it, s->by_addr);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&e))
		fn(e, ctx);
}

unsigned nuauth_ipsessions_count(const struct nuauth_ipsessions *s)
{
	return g_hash_table_size(s->by_addr);
}

void nuauth_ipsession_set_nas(struct nuauth_ipsessions *s, const struct in6_addr *addr,
			      const struct in6_addr *nas)
{
	struct nuauth_ipsession *e = g_hash_table_lookup(s->by_addr, addr);

	if (e) {
		e->nas = *nas;
		e->has_nas = true;
	}
}

unsigned nuauth_ipsessions_end_nas(struct nuauth_ipsessions *s, const struct in6_addr *nas,
				   void (*fn)(const struct nuauth_ipsession *e, void *ctx),
				   void *ctx)
{
	GHashTableIter it;
	struct nuauth_ipsession *e;
	unsigned n = 0;

	g_hash_table_iter_init(&it, s->by_addr);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&e))
		if (e->has_nas && memcmp(&e->nas, nas, sizeof(*nas)) == 0) {
			fn(e, ctx);
			g_hash_table_iter_remove(&it);
			n++;
		}
	return n;
}
