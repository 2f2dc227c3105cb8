/* Sources attached to the thread-default main context. */
#include "config.h"
#include "evloop.h"

static GSource *attach(GSource *s, GSourceFunc fn, void *data)
{
	g_source_set_callback(s, fn, data, NULL);
	g_source_attach(s, g_main_context_get_thread_default());
	return s;
}

GSource *nu_watch_fd(int fd, GIOCondition cond, GUnixFDSourceFunc fn, void *data)
{
	return attach(g_unix_fd_source_new(fd, cond), (GSourceFunc)(void (*)(void))fn, data);
}

GSource *nu_timeout(unsigned ms, GSourceFunc fn, void *data)
{
	return attach(g_timeout_source_new(ms), fn, data);
}

GSource *nu_idle(GSourceFunc fn, void *data)
{
	return attach(g_idle_source_new(), fn, data);
}

GSource *nu_idle_high(GSourceFunc fn, void *data)
{
	GSource *s = g_idle_source_new();

	g_source_set_priority(s, G_PRIORITY_HIGH);
	return attach(s, fn, data);
}

void nu_source_cancel(GSource **src)
{
	if (!*src)
		return;
	g_source_destroy(*src);
	g_source_unref(*src);
	*src = NULL;
}
