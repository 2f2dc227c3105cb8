/* The reconnection back-off: capped exponential with full jitter.  After a
 * link drops, attempt n waits a delay drawn uniformly from
 * [RECONNECT_FLOOR_MS, min(cap, base * 2^n)], so that many clients cut off
 * at the same moment (nuauth restarting) spread their logins over the
 * window instead of arriving in the same second; the window doubles with
 * each failed attempt up to the cap.  Pure arithmetic: the random number
 * is the caller's (unit tests pass their own). */
#ifndef NUCLIENT_BACKOFF_H
#define NUCLIENT_BACKOFF_H

#include <stdint.h>

struct nc_backoff {
	unsigned base_ms;	/* the first window */
	unsigned cap_ms;	/* the largest window */
	unsigned floor_ms;	/* no delay is shorter */
	unsigned window_ms;	/* the next attempt's window */
	unsigned attempts;	/* since the last reset */
};

void nc_backoff_init(struct nc_backoff *b, unsigned base_ms, unsigned cap_ms, unsigned floor_ms);
/* After a login: the next drop starts at the first window again. */
void nc_backoff_reset(struct nc_backoff *b);
/* The delay before the next attempt, drawn from the current window with
 * rnd (any 32-bit value, uniform), and the window doubled for the one
 * after (at most the cap). */
unsigned nc_backoff_next(struct nc_backoff *b, uint32_t rnd);

#endif
