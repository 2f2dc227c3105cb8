/* The worker pool: hooks that may wait (a password check against a
 * directory, PBKDF2, a group look-up) run here, so that the main loop
 * never waits for them.  A job is two functions: work() on a worker, then
 * done() back on the main loop's thread, which owns every link and table.
 *
 * done() always runs, also for a job whose client went away meanwhile (it
 * then only frees), and also at exit: nuauth_workers_free() lets the
 * running jobs end, skips the work of those still queued, and runs every
 * done(). */
#include "config.h"
#include "nuauth.h"

#include "evloop.h"
#include "log.h"

struct nuauth_workers {
	GThreadPool *pool;
	GMainContext *main_ctx;		/* where done() runs */
	gint stopping;			/* exit: queued jobs skip their work */
	unsigned outstanding;		/* submitted, done() not yet run (main thread) */
};

struct job {
	struct nuauth_workers *w;
	nuauth_work_fn work;
	nuauth_work_fn done;
	void *data;
};

static gboolean run_done(gpointer p)
{
	struct job *j = p;

	j->w->outstanding--;
	j->done(j->data);
	g_free(j);
	return G_SOURCE_REMOVE;
}

/* done() on the main loop (nu_run_on).  The context's lock orders
 * everything work() wrote before what done() reads. */
static void hand_back(struct job *j)
{
	nu_run_on(j->w->main_ctx, run_done, j, NULL);
}

static void run_work(gpointer p, gpointer user_data)
{
	struct job *j = p;

	(void)user_data;
	if (!g_atomic_int_get(&j->w->stopping))
		j->work(j->data);
	hand_back(j);
}

struct nuauth_workers *nuauth_workers_new(unsigned threads)
{
	struct nuauth_workers *w = g_new0(struct nuauth_workers, 1);
	GError *error = NULL;

	w->main_ctx = g_main_context_ref(g_main_context_default());
	/* Not exclusive: threads start with the first jobs (after nuauth -D
	 * has forked) and end after a while without work. */
	w->pool = g_thread_pool_new(run_work, w, (gint)threads, FALSE, &error);
	if (!w->pool)
		fatalx("cannot create the worker pool: %s", error->message);
	return w;
}

void nuauth_workers_set_threads(struct nuauth_workers *w, unsigned threads)
{
	GError *error = NULL;

	if (!g_thread_pool_set_max_threads(w->pool, (gint)threads, &error)) {
		log_warnx("nuauth_number_authcheckers: %s", error->message);
		g_error_free(error);
	}
}

void nuauth_workers_submit(struct nuauth_workers *w, nuauth_work_fn work, nuauth_work_fn done,
			   void *data)
{
	struct job *j = g_new0(struct job, 1);
	GError *error = NULL;

	j->w = w;
	j->work = work;
	j->done = done;
	j->data = data;
	w->outstanding++;
	if (!g_thread_pool_push(w->pool, j, &error)) {
		/* No thread could start: do the work here rather than lose it. */
		log_warnx("worker pool: %s: working on the main thread", error->message);
		g_error_free(error);
		work(data);
		hand_back(j);
	}
}

unsigned nuauth_workers_busy(const struct nuauth_workers *w)
{
	return w->outstanding;
}

void nuauth_workers_free(struct nuauth_workers *w)
{
	if (!w)
		return;
	g_atomic_int_set(&w->stopping, 1);
	/* Waits for the running jobs; the queued ones only hand over done(). */
	g_thread_pool_free(w->pool, FALSE, TRUE);
	while (w->outstanding)
		g_main_context_iteration(w->main_ctx, TRUE);
	g_main_context_unref(w->main_ctx);
	g_free(w);
}
