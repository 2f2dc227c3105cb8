/* nutcpc in the desktop (see desktop.h and doc/dbus.md).
 *
 * Refusals are collected, not shown one by one: a burst (a browser opening
 * twenty connections to a refused site) is gathered until no refusal came
 * for GATHER_QUIET_MS, or for GATHER_MAX_MS in all, then each group (one
 * program, destination and rule) becomes one notification, at most
 * MAX_GROUPS_SHOWN of them, the rest summed up in one more.  A group seen
 * again within REPLACE_S replaces its previous notification.  At most
 * MAX_GROUPS groups are kept; refusals beyond are only counted. */
#include "config.h"
#include "desktop.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <gio/gio.h>

#define BUS_NAME "org.nufw.Client1"
#define OBJECT_PATH "/org/nufw/Client1"
#define IFACE_NAME "org.nufw.Client1"
#define NOTIFY_NAME "org.freedesktop.Notifications"
#define NOTIFY_PATH "/org/freedesktop/Notifications"

#define GATHER_QUIET_MS 1000
#define GATHER_MAX_MS 5000
#define MAX_GROUPS_SHOWN 3
#define MAX_GROUPS 256		/* kept (a scan of many destinations); more are counted */
#define REPLACE_S 60
#define LAST_REFUSALS 20
#define UNREACHABLE_NOTICE_S 15	/* nuauth unreachable this long: say so */

static const char introspection[] =
	"<node>"
	" <interface name='" IFACE_NAME "'>"
	"  <property name='State' type='s' access='read'/>"
	"  <property name='Server' type='s' access='read'/>"
	"  <property name='User' type='s' access='read'/>"
	"  <property name='Description' type='s' access='read'/>"
	"  <property name='Notifications' type='b' access='read'/>"
	"  <method name='LastRefusals'>"
	"   <arg name='refusals' type='a(xssqsss)' direction='out'/>"
	"  </method>"
	" </interface>"
	"</node>";

struct refusal {
	gint64 when;		/* seconds since the epoch */
	char *program, *protocol, *destination, *verdict, *reason;
	unsigned port;
};

/* One program, destination and rule. */
struct group {
	char *program;		/* the program's file name */
	char *destination;	/* "10.0.0.1:443", "10.0.0.1 (icmp)" */
	char *reason;
	unsigned pending;	/* refusals since the last notification */
	guint32 last_id;	/* the notification that showed it, 0 none */
	gint64 last_shown;	/* monotonic us */
};

struct desktop {
	struct nuclient *nc;
	bool notify;
	GDBusConnection *bus;
	guint object_id, name_id;
	GHashTable *groups;	/* key "program\ndestination\nreason" -> struct group */
	GQueue refusals;	/* struct refusal *, newest last, at most LAST_REFUSALS */
	GSource *gather_timer;
	gint64 gather_start;	/* monotonic us of the first refusal gathered */
	guint32 more_id;	/* the "and N more" notification */
	unsigned overflow;	/* refusals gathered beyond MAX_GROUPS */
	guint32 state_id;	/* the login's notification */
	GSource *unreachable_timer;
	gint64 down_since;	/* real time us, 0 while logged in */
	bool told_unreachable;
	enum nuclient_state state;
};

static bool debug_on, debug_syslog;

/* Debug lines: the desktop's troubles are no user's concern (a session
 * without a bus or a notification server is normal). */
static void log_debug(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!debug_on)
		return;
	va_start(ap, fmt);
	if (debug_syslog) {
		vsyslog(LOG_DEBUG, fmt, ap);
	} else {
		fputs("nutcpc: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/* ---- notifications ---- */

struct notify_call {
	guint32 *id_slot;	/* where the id goes; NULL: nowhere */
	GCancellable *cancel;
};

static void on_notify_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct notify_call *call = data;
	GError *error = NULL;
	GVariant *ret = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);

	if (!ret) {
		log_debug("desktop notification not shown: %s", error->message);
		g_error_free(error);
	} else {
		if (call->id_slot && !g_cancellable_is_cancelled(call->cancel))
			g_variant_get(ret, "(u)", call->id_slot);
		g_variant_unref(ret);
	}
	g_object_unref(call->cancel);
	g_free(call);
}

static GCancellable *cancellable;	/* ends callbacks into a freed desktop */

/* One Notify call; *id_slot replaced (when not 0) and then set to the new
 * notification's id. */
static void notify(struct desktop *d, guint32 *id_slot, const char *icon, const char *category,
		   const char *summary, const char *body)
{
	GVariantBuilder hints;
	struct notify_call *call;

	if (!d->bus || !d->notify)
		return;
	g_variant_builder_init(&hints, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&hints, "{sv}", "category", g_variant_new_string(category));
	g_variant_builder_add(&hints, "{sv}", "urgency", g_variant_new_byte(1));
	call = g_new0(struct notify_call, 1);
	call->id_slot = id_slot;
	call->cancel = g_object_ref(cancellable);
	g_dbus_connection_call(d->bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_NAME, "Notify",
			       g_variant_new("(susssasa{sv}i)", "nutcpc", id_slot ? *id_slot : 0,
					     icon, summary, body, NULL, &hints, -1),
			       G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, cancellable,
			       on_notify_done, call);
}

/* A body with markup-safe text (servers may read markup in it). */
static void notify_text(struct desktop *d, guint32 *id_slot, const char *icon,
			const char *category, const char *summary, const char *text)
{
	char *body = g_markup_escape_text(text, -1);

	notify(d, id_slot, icon, category, summary, body);
	g_free(body);
}

static void group_free(gpointer p)
{
	struct group *g = p;

	g_free(g->program);
	g_free(g->destination);
	g_free(g->reason);
	g_free(g);
}

static void refusal_free(gpointer p)
{
	struct refusal *r = p;

	g_free(r->program);
	g_free(r->protocol);
	g_free(r->destination);
	g_free(r->verdict);
	g_free(r->reason);
	g_free(r);
}

static gint by_pending(gconstpointer a, gconstpointer b)
{
	const struct group *x = *(struct group *const *)a, *y = *(struct group *const *)b;

	return x->pending < y->pending ? 1 : x->pending > y->pending ? -1 : 0;
}

/* The gathered refusals become notifications. */
static void flush_groups(struct desktop *d)
{
	GPtrArray *due = g_ptr_array_new();
	GHashTableIter it;
	gpointer value;
	gint64 now = g_get_monotonic_time();
	unsigned more = d->overflow, more_groups = d->overflow ? 1 : 0;

	g_hash_table_iter_init(&it, d->groups);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct group *g = value;

		if (g->pending)
			g_ptr_array_add(due, g);
		else if (now - g->last_shown > (gint64)REPLACE_S * G_USEC_PER_SEC)
			g_hash_table_iter_remove(&it);	/* old and quiet */
	}
	g_ptr_array_sort(due, by_pending);
	for (guint i = 0; i < due->len; i++) {
		struct group *g = g_ptr_array_index(due, i);
		char *text;

		if (i >= MAX_GROUPS_SHOWN) {
			more += g->pending;
			more_groups++;
			g->pending = 0;
			continue;
		}
		if (g->pending == 1)
			text = g_strdup_printf("%s: a connection to %s refused (%s)", g->program,
					       g->destination, g->reason);
		else
			text = g_strdup_printf("%s: %u connections to %s refused (%s)", g->program,
					       g->pending, g->destination, g->reason);
		log_debug("desktop notice: %s", text);
		if (now - g->last_shown > (gint64)REPLACE_S * G_USEC_PER_SEC)
			g->last_id = 0;
		notify_text(d, &g->last_id, "network-error", "network.error",
			    "Connection refused by the firewall", text);
		g->last_shown = now;
		g->pending = 0;
		g_free(text);
	}
	d->overflow = 0;
	if (more) {
		char *text = g_strdup_printf("and %u more connection%s refused (%u program%s or "
					     "destination%s); nutcpc -c or the log tells which",
					     more, more == 1 ? "" : "s", more_groups,
					     more_groups == 1 ? "" : "s", more_groups == 1 ? "" : "s");

		notify_text(d, &d->more_id, "network-error", "network.error",
			    "Connections refused by the firewall", text);
		g_free(text);
	}
	g_ptr_array_free(due, TRUE);
}

static gboolean on_gather_done(gpointer data)
{
	struct desktop *d = data;

	g_clear_pointer(&d->gather_timer, g_source_unref);
	flush_groups(d);
	return G_SOURCE_REMOVE;
}

/* (Re)arms the gathering: quiet for GATHER_QUIET_MS, at most GATHER_MAX_MS
 * after the first refusal. */
static void gather(struct desktop *d)
{
	gint64 now = g_get_monotonic_time();
	gint64 left_ms;

	if (!d->gather_timer) {
		d->gather_start = now;
	} else {
		g_source_destroy(d->gather_timer);
		g_clear_pointer(&d->gather_timer, g_source_unref);
	}
	left_ms = GATHER_MAX_MS - (now - d->gather_start) / 1000;
	d->gather_timer = g_timeout_source_new((guint)CLAMP(left_ms, 0, GATHER_QUIET_MS));
	g_source_set_callback(d->gather_timer, on_gather_done, d, NULL);
	g_source_attach(d->gather_timer, g_main_context_get_thread_default());
}

void desktop_notice(struct desktop *d, const struct nuclient_notice *n)
{
	struct refusal *r;
	struct group *g;
	char *dest, *key, *program;

	if (!d)
		return;
	r = g_new0(struct refusal, 1);
	r->when = g_get_real_time() / G_USEC_PER_SEC;
	r->program = g_strdup(n->program);
	r->protocol = g_strdup(n->protocol);
	r->destination = g_strdup(n->destination);
	r->port = n->port;
	r->verdict = g_strdup(n->verdict);
	r->reason = g_strdup(*n->reason ? n->reason : "no reason given");
	g_queue_push_tail(&d->refusals, r);
	while (d->refusals.length > LAST_REFUSALS)
		refusal_free(g_queue_pop_head(&d->refusals));
	if (!d->bus || !d->notify)
		return;

	program = *n->program ? g_path_get_basename(n->program) : g_strdup("a program");
	dest = n->port ? g_strdup_printf(strchr(n->destination, ':') ? "[%s]:%u" : "%s:%u",
					 n->destination, n->port)
		: g_strdup_printf("%s (%s)", n->destination, n->protocol);
	key = g_strdup_printf("%s\n%s\n%s", program, dest, r->reason);
	g = g_hash_table_lookup(d->groups, key);
	if (!g && g_hash_table_size(d->groups) >= MAX_GROUPS) {
		g_free(program);
		g_free(dest);
		g_free(key);
		d->overflow++;
		gather(d);
		return;
	}
	if (!g) {
		g = g_new0(struct group, 1);
		g->program = program;
		g->destination = dest;
		g->reason = g_strdup(r->reason);
		g_hash_table_insert(d->groups, key, g);
	} else {
		g_free(program);
		g_free(dest);
		g_free(key);
	}
	g->pending++;
	gather(d);
}

/* ---- the login ---- */

static gboolean on_unreachable_long(gpointer data)
{
	struct desktop *d = data;
	char when[16] = "?", *text;
	time_t t = (time_t)(d->down_since / G_USEC_PER_SEC);
	struct tm tm;

	g_clear_pointer(&d->unreachable_timer, g_source_unref);
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%H:%M", &tm);
	text = g_strdup_printf("cannot reach nuauth since %s; connections that need your "
			       "login are refused until it answers (trying again)", when);
	notify_text(d, &d->state_id, "network-offline", "network.disconnected",
		    "Firewall login", text);
	d->told_unreachable = true;
	g_free(text);
	return G_SOURCE_REMOVE;
}

static void emit_changed(struct desktop *d)
{
	GVariantBuilder changed;
	const char *server = nuclient_get(d->nc, NUCLIENT_OPT_SERVER);
	const char *user = nuclient_get(d->nc, NUCLIENT_OPT_USER);

	if (!d->bus || !d->object_id)
		return;
	g_variant_builder_init(&changed, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&changed, "{sv}", "State",
			      g_variant_new_string(nuclient_state_name(d->state)));
	g_variant_builder_add(&changed, "{sv}", "Server", g_variant_new_string(server ? server : ""));
	g_variant_builder_add(&changed, "{sv}", "User", g_variant_new_string(user ? user : ""));
	g_variant_builder_add(&changed, "{sv}", "Description",
			      g_variant_new_string(nuclient_describe(d->nc)));
	g_dbus_connection_emit_signal(d->bus, NULL, OBJECT_PATH, "org.freedesktop.DBus.Properties",
				      "PropertiesChanged",
				      g_variant_new("(sa{sv}as)", IFACE_NAME, &changed, NULL), NULL);
}

/* Not (or no longer) waiting for nuauth: no "cannot reach" notice to come;
 * one shown is replaced by "again" when logged in. */
static void reachable(struct desktop *d, bool logged_in)
{
	d->down_since = 0;
	if (d->unreachable_timer) {
		g_source_destroy(d->unreachable_timer);
		g_clear_pointer(&d->unreachable_timer, g_source_unref);
	}
	if (d->told_unreachable && logged_in)
		notify_text(d, &d->state_id, "network-idle", "network.connected",
			    "Firewall login", "logged in to nuauth again");
	d->told_unreachable = false;
}

void desktop_state(struct desktop *d, enum nuclient_state state, const char *detail)
{
	char *text;

	if (!d)
		return;
	d->state = state;
	emit_changed(d);
	switch (state) {
	case NUCLIENT_STATE_LOGGED_IN:
		reachable(d, true);
		break;
	case NUCLIENT_STATE_RECONNECTING:
		if (detail && strstr(detail, "disconnected by the administrator")) {
			notify_text(d, &d->state_id, "network-offline", "network.disconnected",
				    "Firewall login", "logged out by the administrator");
			d->told_unreachable = false;
		}
		if (!d->down_since)
			d->down_since = g_get_real_time();
		if (!d->unreachable_timer) {
			d->unreachable_timer = g_timeout_source_new_seconds(UNREACHABLE_NOTICE_S);
			g_source_set_callback(d->unreachable_timer, on_unreachable_long, d, NULL);
			g_source_attach(d->unreachable_timer, g_main_context_get_thread_default());
		}
		break;
	case NUCLIENT_STATE_REFUSED:
		reachable(d, false);
		text = g_strdup_printf("nuauth refused the login: %s", detail ? detail : "");
		notify_text(d, &d->state_id, "dialog-error", "network.error", "Firewall login", text);
		g_free(text);
		break;
	case NUCLIENT_STATE_LOGGED_OUT:
		reachable(d, false);
		break;
	}
}

/* ---- org.nufw.Client1 ---- */

static GVariant *get_property(GDBusConnection *bus, const char *sender, const char *path,
			      const char *iface, const char *name, GError **error, gpointer data)
{
	struct desktop *d = data;
	const char *v = NULL;

	(void)bus, (void)sender, (void)path, (void)iface;
	if (strcmp(name, "State") == 0)
		v = nuclient_state_name(nuclient_get_state(d->nc));
	else if (strcmp(name, "Server") == 0)
		v = nuclient_get(d->nc, NUCLIENT_OPT_SERVER);
	else if (strcmp(name, "User") == 0)
		v = nuclient_get(d->nc, NUCLIENT_OPT_USER);
	else if (strcmp(name, "Description") == 0)
		v = nuclient_describe(d->nc);
	else if (strcmp(name, "Notifications") == 0)
		return g_variant_new_boolean(d->notify);
	else {
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
			    "no property %s", name);
		return NULL;
	}
	return g_variant_new_string(v ? v : "");
}

static void method_call(GDBusConnection *bus, const char *sender, const char *path,
			const char *iface, const char *method, GVariant *params,
			GDBusMethodInvocation *inv, gpointer data)
{
	struct desktop *d = data;
	GVariantBuilder list;

	(void)bus, (void)sender, (void)path, (void)iface, (void)params;
	if (strcmp(method, "LastRefusals") != 0) {
		g_dbus_method_invocation_return_error(inv, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
						      "no method %s", method);
		return;
	}
	g_variant_builder_init(&list, G_VARIANT_TYPE("a(xssqsss)"));
	for (GList *l = d->refusals.head; l; l = l->next) {
		struct refusal *r = l->data;

		g_variant_builder_add(&list, "(xssqsss)", r->when, r->program, r->destination,
				      (guint16)r->port, r->protocol, r->verdict, r->reason);
	}
	g_dbus_method_invocation_return_value(inv, g_variant_new("(a(xssqsss))", &list));
}

static const GDBusInterfaceVTable vtable = {
	.method_call = method_call,
	.get_property = get_property,
};

static void on_name_lost(GDBusConnection *bus, const char *name, gpointer data)
{
	(void)bus, (void)data;
	log_debug("the session bus name %s is not ours (another client has it, or no bus)",
		  name);
}

/* The session bus, when this session has one.  GLib would otherwise try to
 * start one (dbus-launch): a client without a desktop needs none. */
static GDBusConnection *session_bus(void)
{
	const char *runtime = g_getenv("XDG_RUNTIME_DIR");
	char *path = runtime ? g_build_filename(runtime, "bus", NULL) : NULL;
	bool have = g_getenv("DBUS_SESSION_BUS_ADDRESS") ||
		(path && g_file_test(path, G_FILE_TEST_EXISTS));
	GDBusConnection *bus = NULL;
	GError *error = NULL;

	g_free(path);
	if (!have) {
		log_debug("no session bus: no desktop notifications or D-Bus status");
		return NULL;
	}
	bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	if (!bus) {
		log_debug("no session bus (%s): no desktop notifications or D-Bus status",
			  error->message);
		g_error_free(error);
	}
	return bus;
}

struct desktop *desktop_new(struct nuclient *nc, bool notify, int verbosity, bool to_syslog)
{
	struct desktop *d = g_new0(struct desktop, 1);
	GDBusNodeInfo *node;
	GError *error = NULL;

	debug_on = verbosity >= LOG_DEBUG;
	debug_syslog = to_syslog;
	d->nc = nc;
	d->notify = notify;
	d->groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, group_free);
	g_queue_init(&d->refusals);
	if (!cancellable)
		cancellable = g_cancellable_new();
	d->bus = session_bus();
	if (!d->bus)
		return d;
	g_dbus_connection_set_exit_on_close(d->bus, FALSE);
	node = g_dbus_node_info_new_for_xml(introspection, NULL);
	d->object_id = g_dbus_connection_register_object(d->bus, OBJECT_PATH, node->interfaces[0],
							 &vtable, d, NULL, &error);
	g_dbus_node_info_unref(node);
	if (!d->object_id) {
		log_debug("cannot offer %s on the session bus: %s", OBJECT_PATH, error->message);
		g_clear_error(&error);
	} else {
		d->name_id = g_bus_own_name_on_connection(d->bus, BUS_NAME,
							  G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
							  NULL, on_name_lost, d, NULL);
	}
	desktop_state(d, nuclient_get_state(nc), "");
	return d;
}

void desktop_free(struct desktop *d)
{
	if (!d)
		return;
	g_cancellable_cancel(cancellable);
	g_clear_object(&cancellable);
	if (d->gather_timer) {
		g_source_destroy(d->gather_timer);
		g_source_unref(d->gather_timer);
	}
	if (d->unreachable_timer) {
		g_source_destroy(d->unreachable_timer);
		g_source_unref(d->unreachable_timer);
	}
	if (d->name_id)
		g_bus_unown_name(d->name_id);
	if (d->object_id)
		g_dbus_connection_unregister_object(d->bus, d->object_id);
	if (d->bus) {
		g_dbus_connection_flush_sync(d->bus, NULL, NULL);
		g_object_unref(d->bus);
	}
	g_hash_table_destroy(d->groups);
	g_queue_clear_full(&d->refusals, refusal_free);
	g_free(d);
}
