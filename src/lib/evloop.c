/* Sources attached to the thread-default main context.
 *
 * File descriptors are not GLib sources of their own: GLib polls every fd
 * of every source on each turn of the loop, so with thousands of idle TLS
 * links (nuauth's logged-in users) each turn costs a poll() over all of
 * them and a check of each, whatever is ready.  Instead each main context
 * gets one hub: an epoll instance, itself the only fd GLib polls, whose
 * dispatch calls the watches of the fds that are ready.  A watch is handed
 * out as a GSource that is never attached (so that the callers keep one
 * handle type for all sources); nu_source_cancel knows it by its funcs.
 * Watches of the same fd (a link's read and write watches) share one epoll
 * registration with the union of their events. */
#include "config.h"
#include "evloop.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "log.h"

#define HUB_BATCH 256

struct hub {
	GSource source;		/* attached to ctx; polls epfd */
	GMainContext *ctx;
	int epfd;
	GHashTable *by_fd;	/* fd -> GPtrArray of struct watch (refs) */
};

struct watch {
	GSource source;		/* never attached: a handle */
	struct hub *hub;	/* NULL once removed */
	int fd;
	GIOCondition cond;
	GUnixFDSourceFunc fn;
	void *data;
};

static GMutex hubs_lock;
static GHashTable *hubs;	/* GMainContext * -> struct hub * */

static gboolean hub_dispatch(GSource *source, GSourceFunc cb, gpointer data);
static void hub_finalize(GSource *source);

static GSourceFuncs hub_funcs = {
	.dispatch = hub_dispatch,
	.finalize = hub_finalize,
};

/* A watch is dispatched by its hub, never by GLib. */
static GSourceFuncs watch_funcs = { 0 };

static uint32_t epoll_events(GIOCondition cond)
{
	return (cond & G_IO_IN ? EPOLLIN : 0) | (cond & G_IO_PRI ? EPOLLPRI : 0) |
	       (cond & G_IO_OUT ? EPOLLOUT : 0);
}

static GIOCondition io_condition(uint32_t ev)
{
	return (ev & EPOLLIN ? G_IO_IN : 0) | (ev & EPOLLPRI ? G_IO_PRI : 0) |
	       (ev & EPOLLOUT ? G_IO_OUT : 0) | (ev & EPOLLHUP ? G_IO_HUP : 0) |
	       (ev & EPOLLERR ? G_IO_ERR : 0);
}

/* Registers fd with the union of its watches' events; with no watch left,
 * unregisters it and drops its list. */
static void hub_update(struct hub *h, int fd, GPtrArray *list, bool was_registered)
{
	struct epoll_event ev = { .data.fd = fd };
	GIOCondition cond = 0;

	if (list->len == 0) {
		/* A closed fd has left the epoll set by itself: EBADF is fine. */
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
		g_hash_table_remove(h->by_fd, GINT_TO_POINTER(fd));
		return;
	}
	for (guint i = 0; i < list->len; i++)
		cond |= ((struct watch *)g_ptr_array_index(list, i))->cond;
	ev.events = epoll_events(cond);
	if (epoll_ctl(h->epfd, was_registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0)
		return;
	/* ENOENT: the fd was closed (and the number reused) since; EEXIST:
	 * the same file is registered under this number already. */
	if (errno == ENOENT)
		epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev);
	else if (errno == EEXIST)
		epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev);
	else
		log_warn("epoll_ctl on fd %d", fd);
}

/* Takes w out of its hub (its callback will not run again). */
static void watch_remove(struct watch *w)
{
	struct hub *h = w->hub;
	int fd = w->fd;
	GPtrArray *list;

	if (!h)
		return;
	w->hub = NULL;
	list = g_hash_table_lookup(h->by_fd, GINT_TO_POINTER(fd));
	if (list && g_ptr_array_remove(list, w))	/* drops the hub's ref to w */
		hub_update(h, fd, list, true);
}

static gboolean hub_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
	struct hub *h = (struct hub *)source;
	struct epoll_event ev[HUB_BATCH];
	int n = epoll_wait(h->epfd, ev, HUB_BATCH, 0);

	(void)cb;
	(void)data;
	for (int i = 0; i < n; i++) {
		GPtrArray *list = g_hash_table_lookup(h->by_fd, GINT_TO_POINTER(ev[i].data.fd));
		GIOCondition got = io_condition(ev[i].events);
		GPtrArray *ready;

		if (!list)
			continue;	/* every watch of it went during this batch */
		/* Callbacks may add and remove watches: call a copy. */
		ready = g_ptr_array_new_with_free_func((GDestroyNotify)g_source_unref);
		for (guint j = 0; j < list->len; j++) {
			struct watch *w = g_ptr_array_index(list, j);

			/* As with poll(), hang-ups and errors come unasked. */
			if (got & (w->cond | G_IO_HUP | G_IO_ERR))
				g_ptr_array_add(ready, g_source_ref(&w->source));
		}
		for (guint j = 0; j < ready->len; j++) {
			struct watch *w = g_ptr_array_index(ready, j);

			if (w->hub && !w->fn(w->fd, got & (w->cond | G_IO_HUP | G_IO_ERR), w->data))
				watch_remove(w);
		}
		g_ptr_array_unref(ready);
	}
	return G_SOURCE_CONTINUE;
}

static void hub_finalize(GSource *source)
{
	struct hub *h = (struct hub *)source;

	g_mutex_lock(&hubs_lock);
	if (hubs && g_hash_table_lookup(hubs, h->ctx) == h)
		g_hash_table_remove(hubs, h->ctx);
	g_mutex_unlock(&hubs_lock);
	g_hash_table_destroy(h->by_fd);
	close(h->epfd);
}

static void watch_list_free(gpointer p)
{
	GPtrArray *list = p;

	for (guint i = 0; i < list->len; i++)
		((struct watch *)g_ptr_array_index(list, i))->hub = NULL;
	g_ptr_array_unref(list);
}

/* The hub of the thread-default context, made at first use. */
static struct hub *hub_get(void)
{
	GMainContext *ctx = g_main_context_get_thread_default();
	struct hub *h;

	if (!ctx)
		ctx = g_main_context_default();
	g_mutex_lock(&hubs_lock);
	if (!hubs)
		hubs = g_hash_table_new(g_direct_hash, g_direct_equal);
	h = g_hash_table_lookup(hubs, ctx);
	if (!h) {
		int epfd = epoll_create1(EPOLL_CLOEXEC);

		if (epfd < 0)
			fatalx("epoll_create1: %s", g_strerror(errno));
		h = (struct hub *)g_source_new(&hub_funcs, sizeof(*h));
		h->ctx = ctx;
		h->epfd = epfd;
		h->by_fd = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
						 watch_list_free);
		g_source_set_name(&h->source, "nu-evloop-hub");
		g_source_add_unix_fd(&h->source, epfd, G_IO_IN);
		g_source_attach(&h->source, ctx);
		g_source_unref(&h->source);	/* the context keeps it */
		g_hash_table_insert(hubs, ctx, h);
	}
	g_mutex_unlock(&hubs_lock);
	return h;
}

GSource *nu_watch_fd(int fd, GIOCondition cond, GUnixFDSourceFunc fn, void *data)
{
	struct hub *h = hub_get();
	struct watch *w = (struct watch *)g_source_new(&watch_funcs, sizeof(*w));
	GPtrArray *list = g_hash_table_lookup(h->by_fd, GINT_TO_POINTER(fd));
	bool registered = list != NULL;

	w->hub = h;
	w->fd = fd;
	w->cond = cond;
	w->fn = fn;
	w->data = data;
	if (!list) {
		list = g_ptr_array_new_with_free_func((GDestroyNotify)g_source_unref);
		g_hash_table_insert(h->by_fd, GINT_TO_POINTER(fd), list);
	}
	g_ptr_array_add(list, g_source_ref(&w->source));	/* the hub's ref */
	hub_update(h, fd, list, registered);
	return &w->source;	/* the caller's ref */
}

static GSource *attach(GSource *s, GSourceFunc fn, void *data)
{
	g_source_set_callback(s, fn, data, NULL);
	g_source_attach(s, g_main_context_get_thread_default());
	return s;
}

GSource *nu_timeout(unsigned ms, GSourceFunc fn, void *data)
{
	return attach(g_timeout_source_new(ms), fn, data);
}

GSource *nu_idle(GSourceFunc fn, void *data)
{
	return attach(g_idle_source_new(), fn, data);
}

void nu_run_on(GMainContext *ctx, GSourceFunc fn, void *data, GDestroyNotify notify)
{
	GSource *s = g_idle_source_new();

	g_source_set_priority(s, G_PRIORITY_DEFAULT);
	g_source_set_callback(s, fn, data, notify);
	g_source_attach(s, ctx);
	g_source_unref(s);
}

GSource *nu_idle_high(GSourceFunc fn, void *data)
{
	GSource *s = g_idle_source_new();

	g_source_set_priority(s, G_PRIORITY_HIGH);
	return attach(s, fn, data);
}

GSource *nu_soon(GSourceFunc fn, void *data)
{
	GSource *s = g_idle_source_new();

	g_source_set_priority(s, G_PRIORITY_DEFAULT);
	return attach(s, fn, data);
}

void nu_source_cancel(GSource **src)
{
	if (!*src)
		return;
	if ((*src)->source_funcs == &watch_funcs)
		watch_remove((struct watch *)*src);
	else
		g_source_destroy(*src);
	g_source_unref(*src);
	*src = NULL;
}
