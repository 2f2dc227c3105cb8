/* The arithmetic of the session_expire module, apart for the unit tests. */
#ifndef SESSION_EXPIRE_H
#define SESSION_EXPIRE_H

#include <time.h>
#include <glib.h>

/* When a session that began at login_time ends after duration seconds
 * (wall clock, s), combined with what an earlier module set (current; 0
 * none): the earlier of the two ends.  duration 0 leaves current as it is. */
gint64 session_expire_at(time_t login_time, unsigned long duration, gint64 current);

#endif
