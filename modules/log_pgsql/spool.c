/* The bounded record queue (spool.h): a GQueue under a mutex, one
 * condition for "records or stop". */
#include "config.h"
#include "spool.h"

#include <glib.h>

struct pgsql_spool {
	GMutex lock;
	GCond ready;			/* records queued, or stop */
	GQueue records;
	unsigned capacity;
	uint64_t dropped;
	bool stop;
	gint64 stop_deadline;		/* monotonic: the writer gives up then */
};

struct pgsql_spool *pgsql_spool_new(unsigned capacity)
{
	struct pgsql_spool *sp = g_new0(struct pgsql_spool, 1);

	g_mutex_init(&sp->lock);
	g_cond_init(&sp->ready);
	g_queue_init(&sp->records);
	sp->capacity = capacity ? capacity : 1;
	return sp;
}

void pgsql_spool_free(struct pgsql_spool *sp)
{
	struct pgsql_record *r;

	if (!sp)
		return;
	while ((r = g_queue_pop_head(&sp->records)))
		pgsql_record_free(r);
	g_cond_clear(&sp->ready);
	g_mutex_clear(&sp->lock);
	g_free(sp);
}

bool pgsql_spool_push(struct pgsql_spool *sp, struct pgsql_record *r)
{
	bool queued;

	g_mutex_lock(&sp->lock);
	queued = sp->records.length < sp->capacity;
	if (queued) {
		g_queue_push_tail(&sp->records, r);
		g_cond_signal(&sp->ready);
	} else {
		sp->dropped++;
	}
	g_mutex_unlock(&sp->lock);
	if (!queued)
		pgsql_record_free(r);
	return queued;
}

size_t pgsql_spool_take(struct pgsql_spool *sp, struct pgsql_record **out, size_t max)
{
	size_t n = 0;

	g_mutex_lock(&sp->lock);
	while (!sp->records.length && !sp->stop)
		g_cond_wait(&sp->ready, &sp->lock);
	while (n < max && sp->records.length)
		out[n++] = g_queue_pop_head(&sp->records);
	g_mutex_unlock(&sp->lock);
	return n;
}

bool pgsql_spool_sleep(struct pgsql_spool *sp, unsigned ms)
{
	gint64 until = g_get_monotonic_time() + (gint64)ms * 1000;
	bool stop;

	g_mutex_lock(&sp->lock);
	/* Records arriving meanwhile wake it too: it then goes back to sleep. */
	while (!sp->stop && g_cond_wait_until(&sp->ready, &sp->lock, until))
		;
	stop = sp->stop;
	g_mutex_unlock(&sp->lock);
	return stop;
}

void pgsql_spool_stop(struct pgsql_spool *sp)
{
	g_mutex_lock(&sp->lock);
	if (!sp->stop)
		sp->stop_deadline = g_get_monotonic_time() + PGSQL_STOP_GRACE_MS * 1000;
	sp->stop = true;
	g_cond_broadcast(&sp->ready);
	g_mutex_unlock(&sp->lock);
}

gint64 pgsql_spool_deadline(struct pgsql_spool *sp)
{
	gint64 deadline;

	g_mutex_lock(&sp->lock);
	deadline = sp->stop ? sp->stop_deadline : G_MAXINT64;
	g_mutex_unlock(&sp->lock);
	return deadline;
}

bool pgsql_spool_stopped(struct pgsql_spool *sp)
{
	bool stop;

	g_mutex_lock(&sp->lock);
	stop = sp->stop;
	g_mutex_unlock(&sp->lock);
	return stop;
}

uint64_t pgsql_spool_take_dropped(struct pgsql_spool *sp)
{
	uint64_t n;

	g_mutex_lock(&sp->lock);
	n = sp->dropped;
	sp->dropped = 0;
	g_mutex_unlock(&sp->lock);
	return n;
}

size_t pgsql_spool_length(struct pgsql_spool *sp)
{
	size_t n;

	g_mutex_lock(&sp->lock);
	n = sp->records.length;
	g_mutex_unlock(&sp->lock);
	return n;
}
