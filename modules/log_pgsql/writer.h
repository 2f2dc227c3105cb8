/* The writer thread of log_pgsql: it alone owns the PostgreSQL connection.
 * It takes records from the spool in batches of up to PGSQL_BATCH_MAX and
 * sends each batch as one pipeline of prepared statements ended by one
 * Sync, so a batch costs one round trip and is one transaction.
 *
 * When PostgreSQL cannot be reached (or a batch gets no answer within
 * pgsql_request_timeout), it keeps the batch, logs the outage once and
 * tries again after 0.25 s, doubling up to pgsql_reconnect_max_delay;
 * meanwhile the spool fills up to its bound and drops the rest.  Back, it
 * logs how long the outage lasted and how many records were dropped.  A
 * batch that PostgreSQL refuses (an SQL error) is tried again record by
 * record, and only the records it still refuses are given up (and logged). */
#ifndef LOG_PGSQL_WRITER_H
#define LOG_PGSQL_WRITER_H

#include <stdint.h>

#include "pgconf.h"
#include "spool.h"

#define PGSQL_BATCH_MAX 256

struct pgsql_writer_stats {
	uint64_t written;		/* records stored */
	uint64_t batches;		/* transactions that stored them */
	uint64_t refused;		/* records PostgreSQL refused */
	uint64_t lost;			/* records taken but unwritten at stop */
};

struct pgsql_writer;

/* Starts the thread (label names it in log lines); NULL with a log line
 * when no thread can be made.  conf is copied. */
struct pgsql_writer *pgsql_writer_start(const struct pgsql_conf *conf,
					struct pgsql_spool *spool, const char *label);
/* Stops the spool, lets the writer store what is queued while PostgreSQL
 * answers (at most a request timeout per batch), joins it, logs the
 * totals, and fills *stats if not NULL. */
void pgsql_writer_stop(struct pgsql_writer *w, struct pgsql_writer_stats *stats);

#endif
