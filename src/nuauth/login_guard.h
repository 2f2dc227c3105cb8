/* Failed-login rate limiting: a key (an address, a user name) that fails
 * too often within a window is locked for a while, longer each time.
 *
 * The core is pure: every call takes the time (seconds of any monotonic
 * clock), so the unit tests drive it with made-up times.  The table is
 * bounded: entries are forgotten once quiet, and past max_entries the one
 * touched least recently is dropped. */
#ifndef NU_LOGIN_GUARD_H
#define NU_LOGIN_GUARD_H

#include <stddef.h>
#include <stdint.h>

struct nu_login_guard_params {
	unsigned max_failures;	/* failures within window_s that lock; 0 never */
	unsigned window_s;
	unsigned lock_s;	/* first lock; each later one doubles */
	unsigned lock_max_s;	/* ... up to this */
	size_t max_entries;
};

struct nu_login_guard;

struct nu_login_guard *nu_login_guard_new(const struct nu_login_guard_params *p);
void nu_login_guard_free(struct nu_login_guard *g);
/* New limits (a reload); the entries stay. */
void nu_login_guard_set_params(struct nu_login_guard *g, const struct nu_login_guard_params *p);
/* Seconds key stays locked at now; 0 when it is not locked. */
unsigned nu_login_guard_locked(struct nu_login_guard *g, const char *key, int64_t now);
/* Counts a failed login of key.  Returns the length of the lock this
 * failure starts (log it: it happens once per lock), else 0. */
unsigned nu_login_guard_fail(struct nu_login_guard *g, const char *key, int64_t now);
/* A successful login of key: its failures are forgotten. */
void nu_login_guard_success(struct nu_login_guard *g, const char *key);
/* Entries held (after forgetting those quiet at now). */
size_t nu_login_guard_size(struct nu_login_guard *g, int64_t now);

#endif
