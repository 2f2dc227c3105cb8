/* The desktop suite's notification server (tests/e2e/desktop.sh): owns
 * org.freedesktop.Notifications on the session bus and prints each Notify
 * call as one line on stdout,
 *   Notify id=N replaces=N app=APP summary=SUMMARY body=BODY
 * answering with a new id each time (the id replaced, when one is).
 * Prints its bus's address ("bus=ADDRESS", so the test starts the clients
 * on the same bus), then "ready" once the name is its own; ends when the
 * bus goes away or on SIGTERM. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <glib-unix.h>

static const char introspection[] =
	"<node>"
	" <interface name='org.freedesktop.Notifications'>"
	"  <method name='Notify'>"
	"   <arg type='s' direction='in'/><arg type='u' direction='in'/>"
	"   <arg type='s' direction='in'/><arg type='s' direction='in'/>"
	"   <arg type='s' direction='in'/><arg type='as' direction='in'/>"
	"   <arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
	"   <arg type='u' direction='out'/>"
	"  </method>"
	"  <method name='GetCapabilities'><arg type='as' direction='out'/></method>"
	"  <method name='GetServerInformation'>"
	"   <arg type='s' direction='out'/><arg type='s' direction='out'/>"
	"   <arg type='s' direction='out'/><arg type='s' direction='out'/>"
	"  </method>"
	"  <method name='CloseNotification'><arg type='u' direction='in'/></method>"
	" </interface>"
	"</node>";

static guint32 next_id = 1;

static void on_call(GDBusConnection *bus, const char *sender, const char *path,
		    const char *iface, const char *method, GVariant *params,
		    GDBusMethodInvocation *inv, gpointer data)
{
	(void)bus, (void)sender, (void)path, (void)iface, (void)data;
	if (strcmp(method, "Notify") == 0) {
		const char *app, *icon, *summary, *body;
		guint32 replaces, id;

		g_variant_get(params, "(&su&s&s&s@as@a{sv}i)", &app, &replaces, &icon, &summary,
			      &body, NULL, NULL, NULL);
		id = replaces ? replaces : next_id++;
		printf("Notify id=%u replaces=%u app=%s summary=%s body=%s\n", id, replaces, app,
		       summary, body);
		fflush(stdout);
		g_dbus_method_invocation_return_value(inv, g_variant_new("(u)", id));
	} else if (strcmp(method, "GetCapabilities") == 0) {
		const char *caps[] = { "body", NULL };

		g_dbus_method_invocation_return_value(inv, g_variant_new("(^as)", caps));
	} else if (strcmp(method, "GetServerInformation") == 0) {
		g_dbus_method_invocation_return_value(inv, g_variant_new("(ssss)", "notify_sink",
									 "nufw tests", "0", "1.2"));
	} else {
		g_dbus_method_invocation_return_value(inv, NULL);
	}
}

static const GDBusInterfaceVTable vtable = { .method_call = on_call };

static void on_acquired(GDBusConnection *bus, const char *name, gpointer data)
{
	(void)bus, (void)name, (void)data;
	printf("bus=%s\nready\n", g_getenv("DBUS_SESSION_BUS_ADDRESS"));
	fflush(stdout);
}

static void on_lost(GDBusConnection *bus, const char *name, gpointer data)
{
	(void)bus;
	fprintf(stderr, "notify_sink: cannot own %s\n", name);
	g_main_loop_quit(data);
}

static gboolean on_term(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

int main(void)
{
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	GError *error = NULL;
	GDBusConnection *bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	GDBusNodeInfo *node;

	if (!bus) {
		fprintf(stderr, "notify_sink: no session bus: %s\n", error->message);
		return 1;
	}
	node = g_dbus_node_info_new_for_xml(introspection, NULL);
	if (!g_dbus_connection_register_object(bus, "/org/freedesktop/Notifications",
					       node->interfaces[0], &vtable, NULL, NULL, &error)) {
		fprintf(stderr, "notify_sink: %s\n", error->message);
		return 1;
	}
	g_bus_own_name_on_connection(bus, "org.freedesktop.Notifications",
				     G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, on_acquired, on_lost,
				     loop, NULL);
	g_unix_signal_add(SIGTERM, on_term, loop);
	g_main_loop_run(loop);
	g_dbus_node_info_unref(node);
	g_object_unref(bus);
	g_main_loop_unref(loop);
	return 0;
}
