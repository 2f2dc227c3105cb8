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

#endif
