/* nutcpc in the desktop, over the session D-Bus (GDBus, no toolkit):
 * notifications (org.freedesktop.Notifications) about refused connections,
 * grouped, and about the login (logged out by the administrator, nuauth
 * unreachable for a while); and the status interface org.nufw.Client1 (see
 * doc/dbus.md).  Without a session bus every call does nothing. */
#ifndef NUTCPC_DESKTOP_H
#define NUTCPC_DESKTOP_H

#include <stdbool.h>

#include "nuclient.h"

struct desktop;

/* Connects to the session bus when there is one (after nutcpc went to the
 * background: GDBus runs a thread).  notify: send notifications;
 * verbosity: a syslog level (debug lines at LOG_DEBUG), to syslog or to
 * stderr. */
struct desktop *desktop_new(struct nuclient *nc, bool notify, int verbosity, bool to_syslog);
void desktop_free(struct desktop *d);
void desktop_notice(struct desktop *d, const struct nuclient_notice *n);
void desktop_state(struct desktop *d, enum nuclient_state state, const char *detail);

#endif
