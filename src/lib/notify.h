/* Service-manager readiness notification: the sd_notify(3) datagram
 * protocol, without libsystemd.  When $NOTIFY_SOCKET names a Unix datagram
 * socket (a path, or "@name" for an abstract one), each state string
 * ("READY=1", "STOPPING=1", "STATUS=...") is sent to it as one datagram. */
#ifndef NU_NOTIFY_H
#define NU_NOTIFY_H

#include <glib.h>

/* Sends state to $NOTIFY_SOCKET.  Returns 1 when sent, 0 when
 * $NOTIFY_SOCKET is unset or empty, -errno on failure (a failure is also
 * logged with log_warnx; the caller may go on). */
int nu_notify(const char *state);

/* The service manager's watchdog (WatchdogSec=): when $WATCHDOG_USEC is set
 * (and $WATCHDOG_PID, if set, is this process), sends WATCHDOG=1 now and
 * then every half interval from the calling thread's main loop; returns
 * that timer (nu_source_cancel it), or NULL when there is no watchdog. */
GSource *nu_notify_watchdog_start(void);

#endif
