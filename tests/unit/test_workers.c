/* Unit tests for nuauth's worker pool (src/nuauth/workers.c): work() runs
 * off the main thread, done() on it, for every job; the pool bounds its
 * threads; at exit, queued jobs skip their work but still get done(). */
#include "config.h"

#include <glib.h>

#include "nuauth.h"
#include "unit.h"

/* Where work() waits until the test opens it. */
struct gate {
	GMutex lock;
	GCond opened;
	bool open;
};

static void gate_init(struct gate *g)
{
	g_mutex_init(&g->lock);
	g_cond_init(&g->opened);
	g->open = false;
}

static void gate_open(struct gate *g)
{
	g_mutex_lock(&g->lock);
	g->open = true;
	g_cond_broadcast(&g->opened);
	g_mutex_unlock(&g->lock);
}

static void gate_pass(struct gate *g)
{
	g_mutex_lock(&g->lock);
	while (!g->open)
		g_cond_wait(&g->opened, &g->lock);
	g_mutex_unlock(&g->lock);
}

static void gate_clear(struct gate *g)
{
	g_mutex_clear(&g->lock);
	g_cond_clear(&g->opened);
}

struct probe {
	GThread *main_thread;
	GThread *worked_on;	/* set by work() */
	bool done_on_main;
	bool done;
	struct gate *gate;	/* work() waits there */
	gint *running, *peak;	/* concurrent work() calls */
	gint *finished;		/* work() calls that returned */
};

static void work(void *data)
{
	struct probe *p = data;
	gint now;

	p->worked_on = g_thread_self();
	now = g_atomic_int_add(p->running, 1) + 1;
	for (gint seen = g_atomic_int_get(p->peak); now > seen; seen = g_atomic_int_get(p->peak))
		if (g_atomic_int_compare_and_exchange(p->peak, seen, now))
			break;
	gate_pass(p->gate);
	g_atomic_int_add(p->running, -1);
	g_atomic_int_inc(p->finished);
}

static void done(void *data)
{
	struct probe *p = data;

	p->done_on_main = g_thread_self() == p->main_thread;
	p->done = true;
}

/* Runs the main context until every probe is done (10 s at most). */
static bool wait_done(struct probe *p, unsigned n)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	unsigned left;

	do {
		left = 0;
		for (unsigned i = 0; i < n; i++)
			left += !p[i].done;
		if (left && !g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	} while (left && g_get_monotonic_time() < deadline);
	return left == 0;
}

#define JOBS 16

static void test_jobs(void)
{
	struct nuauth_workers *w = nuauth_workers_new(2);
	struct probe p[JOBS] = { 0 };
	gint running = 0, peak = 0, finished = 0;
	struct gate gate;
	unsigned off_main = 0, on_main = 0, done_early = 0;

	/* Every job waits at the gate, so that the pool's bound shows. */
	gate_init(&gate);
	for (unsigned i = 0; i < JOBS; i++) {
		p[i] = (struct probe){ .main_thread = g_thread_self(), .gate = &gate,
				       .running = &running, .peak = &peak,
				       .finished = &finished };
		nuauth_workers_submit(w, work, done, &p[i]);
	}
	CHECK(nuauth_workers_busy(w) == JOBS);
	gate_open(&gate);
	while (g_atomic_int_get(&finished) < JOBS)
		g_usleep(1000);
	/* Every work() has returned, but done() waits for the main loop. */
	for (unsigned i = 0; i < JOBS; i++)
		done_early += p[i].done;
	CHECK(done_early == 0);
	CHECK(nuauth_workers_busy(w) == JOBS);
	CHECK(wait_done(p, JOBS));
	for (unsigned i = 0; i < JOBS; i++) {
		off_main += p[i].worked_on && p[i].worked_on != g_thread_self();
		on_main += p[i].done_on_main;
	}
	CHECK(off_main == JOBS);
	CHECK(on_main == JOBS);
	CHECK(g_atomic_int_get(&peak) >= 1 && g_atomic_int_get(&peak) <= 2);
	CHECK(nuauth_workers_busy(w) == 0);
	nuauth_workers_free(w);
	gate_clear(&gate);
}

static gpointer open_gate_later(gpointer data)
{
	/* nuauth_workers_free() waits for the job at the gate, and nothing
	 * shows that it has begun: 200 ms is ample for its first line. */
	g_usleep(200000);
	gate_open(data);
	return NULL;
}

/* At exit the job at work finishes; the queued ones skip work() and every
 * done() runs before nuauth_workers_free() returns. */
static void test_free_with_queued_jobs(void)
{
	struct nuauth_workers *w = nuauth_workers_new(1);
	struct probe p[4] = { 0 };
	struct gate gate;
	GThread *opener;
	gint running = 0, peak = 0, finished = 0;
	unsigned worked = 0, done_count = 0;

	gate_init(&gate);
	for (unsigned i = 0; i < 4; i++) {
		p[i] = (struct probe){ .main_thread = g_thread_self(), .gate = &gate,
				       .running = &running, .peak = &peak,
				       .finished = &finished };
		nuauth_workers_submit(w, work, done, &p[i]);
	}
	/* The first job is at the gate: the others wait in the queue. */
	while (g_atomic_int_get(&running) == 0)
		g_usleep(1000);
	opener = g_thread_new("gate", open_gate_later, &gate);
	nuauth_workers_free(w);
	g_thread_join(opener);
	for (unsigned i = 0; i < 4; i++) {
		worked += p[i].worked_on != NULL;
		done_count += p[i].done && p[i].done_on_main;
	}
	CHECK(p[0].worked_on != NULL);
	CHECK(worked == 1);
	CHECK(done_count == 4);
	gate_clear(&gate);
}

int main(void)
{
	test_jobs();
	test_free_with_queued_jobs();
	return unit_done("workers");
}
