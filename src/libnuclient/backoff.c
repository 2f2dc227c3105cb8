/* The reconnection back-off (see backoff.h). */
#include "config.h"
#include "backoff.h"

void nc_backoff_init(struct nc_backoff *b, unsigned base_ms, unsigned cap_ms, unsigned floor_ms)
{
	b->cap_ms = cap_ms ? cap_ms : 1;
	b->base_ms = base_ms == 0 ? 1 : base_ms > b->cap_ms ? b->cap_ms : base_ms;
	b->floor_ms = floor_ms > b->base_ms ? b->base_ms : floor_ms;
	nc_backoff_reset(b);
}

void nc_backoff_reset(struct nc_backoff *b)
{
	b->window_ms = b->base_ms;
	b->attempts = 0;
}

unsigned nc_backoff_next(struct nc_backoff *b, uint32_t rnd)
{
	/* window >= base >= floor, so the span is at least 1 */
	uint64_t span = (uint64_t)b->window_ms - b->floor_ms + 1;
	unsigned delay = b->floor_ms + (unsigned)(rnd % span);

	b->window_ms = b->window_ms > b->cap_ms / 2 ? b->cap_ms : b->window_ms * 2;
	b->attempts++;
	return delay;
}
