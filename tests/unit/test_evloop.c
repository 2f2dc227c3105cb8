/* Unit tests for the fd watches of src/lib/evloop.c: two watches on one fd,
 * watches removed by their own callback or by another one in the same
 * batch, hang-ups delivered unasked, and a context of another thread. */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <glib.h>

#include "evloop.h"
#include "unit.h"

struct probe {
	int calls;
	GIOCondition last;
	bool keep;		/* the callback's answer */
	GSource **cancel;	/* cancelled by the callback, when set */
	GSource **self;		/* the caller's reference, dropped on removal */
};

static gboolean on_fd(gint fd, GIOCondition cond, gpointer data)
{
	struct probe *p = data;
	char buf[64];

	(void)fd;
	p->calls++;
	p->last = cond;
	if (cond & G_IO_IN)
		(void)!read(fd, buf, sizeof(buf));
	if (p->cancel)
		nu_source_cancel(p->cancel);
	if (!p->keep && p->self)
		g_clear_pointer(p->self, g_source_unref);
	return p->keep;
}

/* Runs the default context until nothing is ready. */
static void spin(void)
{
	for (int i = 0; i < 10 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

static void test_two_watches_one_fd(void)
{
	int sv[2];
	struct probe rd = { .keep = true }, wr = { .keep = true };
	GSource *r, *w;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	r = nu_watch_fd(sv[0], G_IO_IN, on_fd, &rd);
	w = nu_watch_fd(sv[0], G_IO_OUT, on_fd, &wr);
	spin();
	CHECK(rd.calls == 0 && wr.calls > 0 && (wr.last & G_IO_OUT));
	nu_source_cancel(&w);
	CHECK(w == NULL);
	wr.calls = 0;
	CHECK(write(sv[1], "x", 1) == 1);
	spin();
	CHECK(rd.calls == 1 && (rd.last & G_IO_IN) && wr.calls == 0);

	/* The peer hangs up: a read watch hears it without asking. */
	close(sv[1]);
	rd.calls = 0;
	spin();
	CHECK(rd.calls > 0 && (rd.last & G_IO_HUP));
	nu_source_cancel(&r);
	close(sv[0]);
}

static void test_removal_in_callbacks(void)
{
	int sv[2];
	struct probe a = { .keep = false }, b = { .keep = true };
	GSource *wa, *wb;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	/* a removes itself by its answer, and cancels b, which is ready in
	 * the same batch: b must not run. */
	wa = nu_watch_fd(sv[0], G_IO_OUT, on_fd, &a);
	wb = nu_watch_fd(sv[1], G_IO_OUT, on_fd, &b);
	a.self = &wa;
	a.cancel = &wb;
	b.cancel = &wa;
	spin();
	CHECK(a.calls + b.calls == 1);
	if (a.calls) {
		CHECK(wa == NULL && wb == NULL);
	} else {
		/* b ran first and cancelled a. */
		CHECK(wa == NULL && wb != NULL);
		nu_source_cancel(&wb);
	}
	spin();
	CHECK(a.calls + b.calls == 1);

	/* A new watch on a number that was closed and reused. */
	close(sv[0]);
	close(sv[1]);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	b = (struct probe){ .keep = true };
	wb = nu_watch_fd(sv[0], G_IO_OUT, on_fd, &b);
	spin();
	CHECK(b.calls > 0);
	nu_source_cancel(&wb);
	close(sv[0]);
	close(sv[1]);
}

/* A thread with a context of its own gets a hub of its own. */
static gpointer thread_main(gpointer data)
{
	GMainContext *ctx = g_main_context_new();
	int *sv = data;
	struct probe p = { .keep = true };
	GSource *w;

	g_main_context_push_thread_default(ctx);
	w = nu_watch_fd(sv[0], G_IO_IN, on_fd, &p);
	for (int i = 0; i < 200 && !p.calls; i++)
		g_main_context_iteration(ctx, TRUE);
	nu_source_cancel(&w);
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	return GINT_TO_POINTER(p.calls);
}

static void test_other_thread(void)
{
	int sv[2];
	GThread *t;
	struct probe here = { .keep = true };
	GSource *w;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	/* A watch on the default context must not fire for the thread's. */
	w = nu_watch_fd(sv[0], G_IO_IN, on_fd, &here);
	t = g_thread_new("evloop-test", thread_main, sv);
	CHECK(write(sv[1], "y", 1) == 1);
	CHECK(GPOINTER_TO_INT(g_thread_join(t)) == 1);
	/* The thread's hub is gone with its context; this context's still
	 * serves its own watch of the same fd. */
	CHECK(here.calls == 0);
	CHECK(write(sv[1], "z", 1) == 1);
	spin();
	CHECK(here.calls == 1 && (here.last & G_IO_IN));
	nu_source_cancel(&w);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	test_two_watches_one_fd();
	test_removal_in_callbacks();
	test_other_thread();
	return unit_done("evloop");
}
