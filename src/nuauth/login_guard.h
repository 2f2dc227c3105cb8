/* Failed-login rate limiting, in the manner of OpenSSH's per-source
 * penalties and fail2ban: what fails is locked close to where it fails.
 *
 *   "ip:ADDR"         every failure from an address;
 *   "pair:ADDR NAME"  the failures of one name from one address;
 *   "user:NAME"       the failures of one name from anywhere, with its own,
 *                     higher limit (a guesser spread over many addresses);
 *                     its lock never applies to an address the name logged
 *                     in from within known_s (the user's own desktop).
 *
 * A key that fails max_failures times within window_s is locked for lock_s,
 * each following lock twice as long, up to lock_max_s.
 *
 * The core is pure: every call takes the time (seconds of any monotonic
 * clock), so the unit tests drive it with made-up times.  The tables are
 * bounded: entries are forgotten once quiet, and past max_entries the one
 * touched least recently is dropped. */
#ifndef NU_LOGIN_GUARD_H
#define NU_LOGIN_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nu_login_guard_params {
	unsigned max_failures;	/* per address, per (name, address); 0 never */
	unsigned name_max_failures;	/* per name, from every address; 0 never */
	unsigned window_s;
	unsigned lock_s;	/* first lock; each later one doubles */
	unsigned lock_max_s;	/* ... up to this */
	unsigned known_s;	/* a good login makes (name, address) known this
				 * long; 0 never */
	size_t max_entries;	/* in each of the two tables */
};

struct nu_login_guard;

struct nu_login_guard *nu_login_guard_new(const struct nu_login_guard_params *p);
void nu_login_guard_free(struct nu_login_guard *g);
/* New limits (a reload); the entries stay. */
void nu_login_guard_set_params(struct nu_login_guard *g, const struct nu_login_guard_params *p);

/* ---- one login: the three keys at once ---- */

/* Locks a failed login may start (seconds, 0 none), for the log. */
struct nu_login_guard_locks {
	unsigned addr, pair, name;
};

/* Seconds a login of name (NULL: not known yet) from addr must wait: the
 * longest of the locks that apply to it; 0 when it may go on. */
unsigned nu_login_guard_check(struct nu_login_guard *g, const char *addr, const char *name,
			      int64_t now);
/* Counts a failed login of name (NULL: none given) from addr; *started
 * gets the locks it starts.  A login that check refused is not counted. */
void nu_login_guard_failed(struct nu_login_guard *g, const char *addr, const char *name,
			   int64_t now, struct nu_login_guard_locks *started);
/* A good login: the (name, addr) failures are forgotten and addr becomes
 * known for name for known_s. */
void nu_login_guard_succeeded(struct nu_login_guard *g, const char *addr, const char *name,
			      int64_t now);
/* Has name logged in from addr within known_s? */
bool nu_login_guard_known(struct nu_login_guard *g, const char *addr, const char *name,
			  int64_t now);

/* ---- single keys (the building blocks, with max_failures) ---- */

/* Seconds key stays locked at now; 0 when it is not locked. */
unsigned nu_login_guard_locked(struct nu_login_guard *g, const char *key, int64_t now);
/* Counts a failed login of key.  Returns the length of the lock this
 * failure starts (log it: it happens once per lock), else 0. */
unsigned nu_login_guard_fail(struct nu_login_guard *g, const char *key, int64_t now);
/* A successful login of key: its failures are forgotten. */
void nu_login_guard_success(struct nu_login_guard *g, const char *key);
/* Failure entries held (after forgetting those quiet at now). */
size_t nu_login_guard_size(struct nu_login_guard *g, int64_t now);

/* ---- across a cluster (doc/cluster.md, "Failed logins across the
 * cluster") ----
 *
 * Each node publishes its own entries (failures in its window, its lock)
 * and known pairs, named by an id: a keyed hash of the key, so that no
 * name or address is readable where they are published.  Every node keeps
 * the other nodes' records: a key's failures are the node's own plus
 * those of every other node whose window is still open and began after
 * the key was last spent (a lock began, or a good login forgot a pair's
 * failures) on any node; a lock another node started is taken over (it
 * applies here, the failures before it are spent, the next lock doubles
 * it); a pair another node knows is known here.  The times are the guard's clock: the
 * caller converts them to and from what it publishes. */

/* One published record: an entry's state, or a known pair's end. */
struct nu_login_guard_record {
	const char *id;
	bool known;		/* a known pair (until), else an entry */
	bool gone;		/* the node no longer holds it */
	unsigned failures;	/* within the window from window_start */
	int64_t window_start;
	int64_t locked_until;	/* 0: never locked */
	unsigned lock;		/* the last lock's length, s */
	int64_t spent;		/* failures before it are spent: a lock began,
				 * or the pair logged in */
	int64_t until;		/* known: the end of the pair's exemption */
};

/* Starts recording the node's changes and naming keys by ids (HMAC-SHA-256
 * with secret, 128 bits in hex; "" is a hash without a key). */
void nu_login_guard_share(struct nu_login_guard *g, const char *secret);
/* The id of key: "ip:ADDR", "pair:ADDR NAME", "user:NAME", or
 * "known:ADDR NAME" for a known pair (g_free). */
char *nu_login_guard_id(const struct nu_login_guard *g, const char *key);
/* Hands at most max of the node's records changed since the last call to
 * fn, first forgetting the entries quiet at now (each then gone once, if
 * it was handed before); returns how many are left for the next call. */
typedef void (*nu_login_guard_record_fn)(const struct nu_login_guard_record *r, void *ctx);
size_t nu_login_guard_take(struct nu_login_guard *g, int64_t now, size_t max,
			   nu_login_guard_record_fn fn, void *ctx);
/* Another node's record (its name: node); returns false when it is left
 * out (the table of other nodes' records is full). */
bool nu_login_guard_learn(struct nu_login_guard *g, const char *node,
			  const struct nu_login_guard_record *r, int64_t now);
/* Forgets every other node's record (they are read again). */
void nu_login_guard_forget_others(struct nu_login_guard *g);

#endif
