/* Packets sent to nuauth and not yet decided, found by packet id, expired in
 * arrival order (every packet waits as long). */
#ifndef NUFW_PENDING_H
#define NUFW_PENDING_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

struct nufw_pending;

struct nufw_pending *nufw_pending_new(unsigned max_entries);
void nufw_pending_free(struct nufw_pending *p);
/* False when the table is full or id is already there. */
bool nufw_pending_add(struct nufw_pending *p, uint32_t id, gint64 deadline);
/* True (and the entry gone) when id was waiting. */
bool nufw_pending_take(struct nufw_pending *p, uint32_t id);
/* Takes the oldest entry whose deadline is <= now; false when none. */
bool nufw_pending_take_expired(struct nufw_pending *p, gint64 now, uint32_t *id);
/* Takes any entry; false when empty.  For draining the table. */
bool nufw_pending_take_any(struct nufw_pending *p, uint32_t *id);
unsigned nufw_pending_count(const struct nufw_pending *p);

#endif
