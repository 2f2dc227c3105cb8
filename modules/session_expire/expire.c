#include "config.h"

#include "expire.h"

gint64 session_expire_at(time_t login_time, unsigned long duration, gint64 current)
{
	gint64 ends;

	if (duration == 0 || login_time < 0)
		return current;
	if ((guint64)duration > (guint64)(G_MAXINT64 - (gint64)login_time))
		return current;
	ends = (gint64)login_time + (gint64)duration;
	return current > 0 && current < ends ? current : ends;
}
