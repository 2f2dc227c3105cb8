/* Event sources on the calling thread's own main context.  nufw runs one
 * main loop per queue worker thread, so shared code must not attach its
 * sockets and timers to the global default context.  Each function returns
 * a source the caller holds a reference to; nu_source_cancel destroys it
 * and drops that reference.  A callback that returns G_SOURCE_REMOVE must
 * drop the caller's reference itself (g_clear_pointer(&p, g_source_unref)). */
#ifndef NU_EVLOOP_H
#define NU_EVLOOP_H

#include <glib.h>
#include <glib-unix.h>

GSource *nu_watch_fd(int fd, GIOCondition cond, GUnixFDSourceFunc fn, void *data);
GSource *nu_timeout(unsigned ms, GSourceFunc fn, void *data);
GSource *nu_idle(GSourceFunc fn, void *data);
/* An idle source that runs before the other sources of the next turn. */
GSource *nu_idle_high(GSourceFunc fn, void *data);
/* An idle source at the priority of the fd watches: it runs in the next
 * turn together with the watches of the fds that are ready then. */
GSource *nu_soon(GSourceFunc fn, void *data);
/* From another thread: fn(data) runs on the thread that runs ctx's loop,
 * in its next turn; notify(data) after.  Not g_main_context_invoke(),
 * which runs fn on the calling thread whenever it can acquire ctx (before
 * the loop runs, or after it returned). */
void nu_run_on(GMainContext *ctx, GSourceFunc fn, void *data, GDestroyNotify notify);
/* Destroys *src (when not NULL) and sets it to NULL. */
void nu_source_cancel(GSource **src);

#endif
