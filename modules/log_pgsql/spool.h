/* The bounded queue between nuauth's thread, which adds records from the
 * hooks and must never wait, and the writer thread, which takes them in
 * batches.  A record that finds the queue full is dropped and counted. */
#ifndef LOG_PGSQL_SPOOL_H
#define LOG_PGSQL_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct pgsql_spool;

struct pgsql_spool *pgsql_spool_new(unsigned capacity);
/* Frees the records still queued; the writer must be gone. */
void pgsql_spool_free(struct pgsql_spool *sp);

/* Queues r (the spool owns it), or frees it and counts it when full: false.
 * Never blocks beyond a short mutex hold. */
bool pgsql_spool_push(struct pgsql_spool *sp, struct pgsql_record *r);
/* Waits for records (or stop), moves up to max of them into out, oldest
 * first; returns how many.  0 only when stopped and empty. */
size_t pgsql_spool_take(struct pgsql_spool *sp, struct pgsql_record **out, size_t max);
/* Waits ms milliseconds or until stop; true when stopped. */
bool pgsql_spool_sleep(struct pgsql_spool *sp, unsigned ms);
/* Ends the writer's waits; take then drains what is left. */
/* Stops the spool: the writer has PGSQL_STOP_GRACE_MS more to write what
 * is queued, so that a reload or an exit never waits long on PostgreSQL
 * (nuauth's main loop waits for the writer). */
#define PGSQL_STOP_GRACE_MS 2000
void pgsql_spool_stop(struct pgsql_spool *sp);
/* When the writer must give up (monotonic time); G_MAXINT64 until stop. */
gint64 pgsql_spool_deadline(struct pgsql_spool *sp);
bool pgsql_spool_stopped(struct pgsql_spool *sp);
/* Records dropped since the last call (the count restarts at 0). */
uint64_t pgsql_spool_take_dropped(struct pgsql_spool *sp);
/* Records queued now. */
size_t pgsql_spool_length(struct pgsql_spool *sp);

#endif
