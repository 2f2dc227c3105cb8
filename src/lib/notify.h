/* Service-manager readiness notification: the sd_notify(3) datagram
 * protocol, without libsystemd.  When $NOTIFY_SOCKET names a Unix datagram
 * socket (a path, or "@name" for an abstract one), each state string
 * ("READY=1", "STOPPING=1", "STATUS=...") is sent to it as one datagram. */
#ifndef NU_NOTIFY_H
#define NU_NOTIFY_H

/* Sends state to $NOTIFY_SOCKET.  Returns 1 when sent, 0 when
 * $NOTIFY_SOCKET is unset or empty, -errno on failure (a failure is also
 * logged with log_warnx; the caller may go on). */
int nu_notify(const char *state);

#endif
