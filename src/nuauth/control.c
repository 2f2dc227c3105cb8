/* The control socket: nuauthctl asks the running nuauth who is logged in,
 * which gateways and connections it has, its counters, and to disconnect a
 * user or reload.  A Unix stream socket, mode 0600; each peer is checked
 * with SO_PEERCRED (root or nuauth's own uid only).  A line protocol
 * (doc/protocol.md, "Control socket"): "NUCTL 1" both ways, then one
 * request line "COMMAND [ARG]" and one JSON object line per reply.
 * Everything runs on the main loop, non-blocking; a request line is at most
 * CTL_LINE_MAX bytes.
 *
 * The accounting socket (nuauth_accounting_socket, doc/devices.md) speaks
 * the same protocol for FreeRADIUS' exec module: mode 0660, group
 * nuauth_accounting_socket_group, peers root, nuauth's uid or a member of
 * that group, and ip-session the only command (its sessions' origin is
 * "radius"; on the control socket "admin"). */
#include "config.h"
#include "nuauth.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>

#include "evloop.h"
#include "log.h"

#define CTL_VERSION_LINE "NUCTL 1"
#define CTL_LINE_MAX 4096
#define CTL_PEERS_MAX 16
/* Stop reading requests while this much output waits for the peer. */
#define CTL_OUT_HIGH (1024 * 1024)

struct nuauth_control {
	struct nuauth_server *srv;
	char *path;
	int fd;
	dev_t dev;		/* of the socket file we made, to unlink only it */
	ino_t ino;
	GSource *watch;
	GList *peers;		/* struct ctl_peer * */
	bool accounting;	/* the accounting socket: ip-session only */
	gid_t gid;		/* its group; (gid_t)-1 none */
};

struct ctl_peer {
	struct nuauth_control *ctl;
	int fd;
	unsigned uid;
	int pid;
	GSource *watch;
	GIOCondition cond;	/* of watch */
	GString *in;
	GString *out;
	bool greeted;		/* the peer sent its version line */
	bool closing;		/* close once out is written */
	/* A request waiting for the other nodes' answers (connections in a
	 * cluster): the peer's next lines wait in `in' meanwhile. */
	struct nuauth_cluster_ask *ask;
};

/* ---- JSON output ---- */

static void json_str(GString *o, const char *s)
{
	char *valid = g_utf8_make_valid(s ? s : "", -1);

	g_string_append_c(o, '"');
	for (const unsigned char *p = (const unsigned char *)valid; *p; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_printf(o, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			g_string_append_printf(o, "\\u%04x", *p);
		else
			g_string_append_c(o, (char)*p);
	}
	g_string_append_c(o, '"');
	g_free(valid);
}

/* ,"key": (no comma for the first member: o ends with '{'). */
static void json_key(GString *o, const char *key)
{
	if (o->len && o->str[o->len - 1] != '{')
		g_string_append_c(o, ',');
	json_str(o, key);
	g_string_append_c(o, ':');
}

static void json_kstr(GString *o, const char *key, const char *val)
{
	json_key(o, key);
	json_str(o, val);
}

static void json_kuint(GString *o, const char *key, uint64_t val)
{
	json_key(o, key);
	g_string_append_printf(o, "%" G_GUINT64_FORMAT, val);
}

static void reply_error(GString *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_error(GString *o, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_string_append(o, "{\"ok\":false");
	json_kstr(o, "error", text);
	g_string_append_c(o, '}');
	g_free(text);
}

static gint64 real_seconds(gint64 real_us)
{
	return real_us / G_USEC_PER_SEC;
}

/* ---- commands ---- */

/* An address session as a line of `users' (origin radius or portal). */
struct users_out {
	struct nuauth_server *srv;
	GString *o;
	bool first;
};

static void one_ip_session(const struct nuauth_ipsession *e, void *ctx)
{
	struct users_out *w = ctx;
	char addr[INET6_ADDRSTRLEN];
	const GArray *groups = NULL;
	uint32_t uid = 0;
	bool known = nuauth_ipauth_cached(w->srv->ipauth, e->user, &uid, &groups);

	if (!w->first)
		g_string_append_c(w->o, ',');
	w->first = false;
	g_string_append_c(w->o, '{');
	json_kstr(w->o, "user", e->user);
	/* uid and groups once a packet made ipauth.c read them */
	if (known)
		json_kuint(w->o, "uid", uid);
	json_key(w->o, "groups");
	g_string_append_c(w->o, '[');
	for (guint i = 0; known && i < groups->len; i++)
		g_string_append_printf(w->o, "%s%u", i ? "," : "",
				       g_array_index(groups, guint32, i));
	g_string_append_c(w->o, ']');
	json_kstr(w->o, "address", nu_addr_format(&e->addr, addr, sizeof(addr)));
	json_kuint(w->o, "since", (uint64_t)real_seconds(e->since));
	json_kstr(w->o, "os", "");
	json_kstr(w->o, "client", "");
	json_kstr(w->o, "mechanism", "");
	json_kstr(w->o, "origin", e->origin);
	g_string_append_c(w->o, '}');
}

/* Another node's session, from the directory: what etcd has of it (no
 * uid, groups, OS or client). */
static void other_node_user(const struct nuauth_cluster_session *s, void *ctx)
{
	GString *o = ctx;
	char addr[INET6_ADDRSTRLEN];

	if (o->str[o->len - 1] != '[')
		g_string_append_c(o, ',');
	g_string_append_c(o, '{');
	json_kstr(o, "user", s->user);
	json_key(o, "groups");
	g_string_append(o, "[]");
	json_kstr(o, "address", nu_addr_format(&s->addr, addr, sizeof(addr)));
	json_kuint(o, "since", (uint64_t)s->login);
	json_kstr(o, "mechanism", s->mechanism);
	json_kstr(o, "node", s->node);
	json_kstr(o, "session", s->id);
	g_string_append_c(o, '}');
}

/* This node's sessions, then (in a cluster) the other nodes' by the
 * directory, each with its node. */
static void cmd_users(struct nuauth_control *ctl, const char *arg, GString *o)
{
	bool first = true;
	const char *node = nuauth_cluster_node(ctl->srv->cluster);

	(void)arg;
	g_string_append(o, "{\"ok\":true,\"users\":[");
	for (GList *l = g_list_last(ctl->srv->clients); l; l = l->prev) {
		struct nuauth_client *cl = l->data;
		const struct nuauth_session_user *u = nuauth_client_user(cl);
		char addr[INET6_ADDRSTRLEN];
		char *os;

		if (!nuauth_client_logged_in(cl))
			continue;
		if (!first)
			g_string_append_c(o, ',');
		first = false;
		g_string_append_c(o, '{');
		json_kstr(o, "user", u->name);
		json_kuint(o, "uid", u->uid);
		json_key(o, "groups");
		g_string_append_c(o, '[');
		for (guint i = 0; u->groups && i < u->groups->len; i++)
			g_string_append_printf(o, "%s%u", i ? "," : "",
					       g_array_index(u->groups, guint32, i));
		g_string_append_c(o, ']');
		json_kstr(o, "address", nu_addr_format(nuauth_client_addr(cl), addr, sizeof(addr)));
		json_kuint(o, "since", (uint64_t)real_seconds(nuauth_client_since(cl)));
		os = g_strdup_printf("%s %s", u->os_sysname ? u->os_sysname : "",
				     u->os_release ? u->os_release : "");
		json_kstr(o, "os", g_strstrip(os));
		g_free(os);
		json_kstr(o, "os_version", u->os_version ? u->os_version : "");
		json_kstr(o, "client", nuauth_client_software(cl));
		json_kstr(o, "mechanism", u->mechanism ? u->mechanism : "");
		json_kstr(o, "origin", "client");
		if (node)
			json_kstr(o, "node", node);
		g_string_append_c(o, '}');
	}
	{
		struct users_out w = { ctl->srv, o, first };

		nuauth_ipsessions_foreach(ctl->srv->ipsessions, one_ip_session, &w);
	}
	nuauth_cluster_foreach_other(ctl->srv->cluster, other_node_user, o);
	g_string_append_c(o, ']');
	if (node) {
		json_kstr(o, "node", node);
		if (!nuauth_cluster_synced(ctl->srv->cluster))
			json_kstr(o, "warning", "this node does not reach etcd: the other nodes' "
				  "sessions are as it last knew them");
	}
	g_string_append_c(o, '}');
}

/* The action of an ip-session request: ours, or the RADIUS
 * Acct-Status-Type FreeRADIUS passes as it is; NULL for others. */
static const char *ip_session_action(const char *w)
{
	static const struct {
		const char *word, *action;
	} words[] = {
		{ "start", "start" }, { "update", "update" }, { "interim-update", "update" },
		{ "alive", "update" }, { "stop", "stop" },
		{ "accounting-on", "nas-restart" }, { "accounting-off", "nas-restart" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(words); i++)
		if (!g_ascii_strcasecmp(w, words[i].word))
			return words[i].action;
	return NULL;
}

struct ended_nas {
	struct nuauth_server *srv;
	unsigned connections;
};

static void end_nas_session(const struct nuauth_ipsession *e, void *ctx)
{
	struct ended_nas *en = ctx;
	char text[INET6_ADDRSTRLEN];

	en->connections += nuauth_connections_end_address(en->srv->connections, e->user, &e->addr);
	log_notice("address session of %s at %s (%s) ended: its NAS restarted", e->user,
		   nu_addr_format(&e->addr, text, sizeof(text)), e->origin);
}

/* ip-session Accounting-On|Accounting-Off - NAS: the NAS restarted, its
 * sessions are over. */
static void ip_session_nas_restart(struct nuauth_control *ctl, const char *nas_text,
				   GString *o)
{
	struct ended_nas en = { ctl->srv, 0 };
	struct in6_addr nas;
	uint8_t family;
	unsigned n;

	if (!nu_addr_parse(nas_text, &nas, &family)) {
		reply_error(o, "ip-session: `%s' is not an address", nas_text);
		return;
	}
	n = nuauth_ipsessions_end_nas(ctl->srv->ipsessions, &nas, end_nas_session, &en);
	log_notice("NAS %s restarted: %u address session(s) ended", nas_text, n);
	g_string_append(o, "{\"ok\":true");
	json_kstr(o, "action", "nas-restart");
	json_kstr(o, "nas", nas_text);
	json_kuint(o, "sessions_ended", n);
	json_kuint(o, "connections_ended", en.connections);
	g_string_append_c(o, '}');
}

/* nuauthctl ip-session start|update|stop USER ADDRESS [NAS]: an address
 * session opened, refreshed or closed by FreeRADIUS' accounting (the
 * accounting socket: origin radius; NAS, the RADIUS client, for its
 * Accounting-On) or an administrator (origin admin); a stop ends the
 * connections it opened (doc/devices.md).  Accounting-On|Accounting-Off -
 * NAS ends every session of that NAS. */
static void cmd_ip_session(struct nuauth_control *ctl, const char *arg, GString *o)
{
	gchar **w = g_strsplit(arg, " ", 0);
	guint nw = g_strv_length(w);
	const char *origin = nuauth_origin(ctl->accounting ? "radius" : "admin");
	const char *action = nw == 3 || nw == 4 ? ip_session_action(w[0]) : NULL;
	struct in6_addr addr, nas;
	uint8_t family;
	GError *error = NULL;
	unsigned ended = 0;
	bool ok;

	if (!action) {
		reply_error(o, "ip-session needs start|update|stop USER ADDRESS [NAS]");
		goto out;
	}
	if (strcmp(action, "nas-restart") == 0) {
		ip_session_nas_restart(ctl, nw == 4 ? w[3] : w[2], o);
		goto out;
	}
	if (!nu_addr_parse(w[2], &addr, &family)) {
		reply_error(o, "ip-session: `%s' is not an address", w[2]);
		goto out;
	}
	if (nw == 4 && !nu_addr_parse(w[3], &nas, &family)) {
		reply_error(o, "ip-session: `%s' is not a NAS address", w[3]);
		goto out;
	}
	/* Without them its packets would be dropped: say so now. */
	if (strcmp(action, "stop") != 0 &&
	    !nuauth_hooks_chain_has(ctl->srv->modules, NUAUTH_HOOK_USER_GROUPS,
				    NUAUTH_SVC_USER_GROUPS, 0)) {
		reply_error(o, "ip-session: no get_user_groups module is loaded to give the "
			    "user's groups (they are with nuauth_accounting_socket, "
			    "nuauth_do_ip_authentication or nuauth_tls_auth_by_cert)");
		goto out;
	}
	if (strcmp(action, "start") == 0) {
		ok = nuauth_ipsession_start(ctl->srv->ipsessions, w[1], &addr, origin, &error);
	} else if (strcmp(action, "update") == 0) {
		ok = nuauth_ipsession_update(ctl->srv->ipsessions, w[1], &addr, origin, &error);
	} else {
		/* RADIUS stops only what RADIUS opened; an administrator
		 * any session. */
		ok = nuauth_ipsession_stop(ctl->srv->ipsessions, w[1], &addr,
					   ctl->accounting ? origin : NULL, &error);
		if (ok)
			ended = nuauth_connections_end_address(ctl->srv->connections, w[1], &addr);
	}
	if (!ok) {
		reply_error(o, "ip-session %s: %s", action, error->message);
		g_error_free(error);
		goto out;
	}
	if (nw == 4 && strcmp(action, "stop") != 0)
		nuauth_ipsession_set_nas(ctl->srv->ipsessions, &addr, &nas);
	log_notice("address session of %s at %s (%s): %s%s", w[1], w[2], origin, action,
		   ended ? ", its connections ended" : "");
	g_string_append(o, "{\"ok\":true");
	json_kstr(o, "user", w[1]);
	json_kstr(o, "address", w[2]);
	json_kstr(o, "action", action);
	json_kstr(o, "origin", origin);
	json_kuint(o, "connections_ended", ended);
	g_string_append_c(o, '}');
out:
	g_strfreev(w);
}

static void cmd_firewalls(struct nuauth_control *ctl, const char *arg, GString *o)
{
	bool first = true;

	(void)arg;
	g_string_append(o, "{\"ok\":true,\"firewalls\":[");
	for (GList *l = g_list_last(ctl->srv->gateways); l; l = l->prev) {
		struct nuauth_gateway_info gi;

		nuauth_gateway_info(l->data, &gi);
		if (!first)
			g_string_append_c(o, ',');
		first = false;
		g_string_append_c(o, '{');
		json_kstr(o, "address", gi.address);
		json_kstr(o, "cn", gi.cn);
		json_kuint(o, "since", (uint64_t)real_seconds(gi.since));
		json_kuint(o, "decisions", gi.decisions);
		g_string_append_c(o, '}');
	}
	g_string_append(o, "]}");
}

/* The flow's keys of a connection's object: flow (text), proto, src, sport,
 * dst, dport. */
static void json_flow(GString *o, const struct nu_flow *flow)
{
	char text[NU_FLOW_STRLEN], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	json_kstr(o, "flow", nu_flow_format(flow, text, sizeof(text)));
	json_kuint(o, "proto", flow->proto);
	json_kstr(o, "src", nu_addr_format(&flow->saddr, src, sizeof(src)));
	json_kuint(o, "sport", flow->sport);
	json_kstr(o, "dst", nu_addr_format(&flow->daddr, dst, sizeof(dst)));
	json_kuint(o, "dport", flow->dport);
}

struct conn_walk {
	GString *o;
	bool first;
	gint64 now_real, now_mono;
	const char *node;	/* in a cluster: this node's name */
	size_t max;		/* o's length not to pass (0: none) */
	uint64_t more;		/* connections left out for it */
};

static void one_connection(const char *user, const struct nu_flow *flow, gint64 start,
			   const struct nuauth_peer *gw, const char *gw_id, void *ctx)
{
	struct conn_walk *w = ctx;
	char address[INET6_ADDRSTRLEN] = "";
	GString *o = w->o;
	size_t before = o->len;

	if (w->more) {
		w->more++;
		return;
	}
	if (gw)
		nu_addr_format(&gw->addr, address, sizeof(address));
	if (!w->first)
		g_string_append_c(o, ',');
	g_string_append_c(o, '{');
	json_kstr(o, "user", user);
	json_flow(o, flow);
	json_kuint(o, "since", (uint64_t)real_seconds(w->now_real - (w->now_mono - start)));
	json_kstr(o, "firewall", address);	/* "" while it is away */
	json_kstr(o, "firewall_id", gw_id);
	if (w->node)
		json_kstr(o, "node", w->node);
	g_string_append_c(o, '}');
	if (w->max && o->len > w->max) {
		g_string_truncate(o, before);
		w->more = 1;
		return;
	}
	w->first = false;
}

static void one_ended(const struct nuauth_conn_end_event *ev, void *ctx)
{
	struct conn_walk *w = ctx;
	GString *o = w->o;

	if (!w->first)
		g_string_append_c(o, ',');
	w->first = false;
	g_string_append_c(o, '{');
	json_kstr(o, "user", ev->user);
	json_flow(o, &ev->flow);
	json_kuint(o, "since", (uint64_t)ev->start);
	json_kuint(o, "ended", (uint64_t)ev->end);
	json_kuint(o, "packets_out", ev->packets_out);
	json_kuint(o, "bytes_out", ev->bytes_out);
	json_kuint(o, "packets_in", ev->packets_in);
	json_kuint(o, "bytes_in", ev->bytes_in);
	g_string_append_c(o, '}');
}

/* This node's open connections, as array items (each with the node's name
 * in a cluster), o not past max bytes (0: no limit).  Returns how many
 * were left out. */
static uint64_t own_connections(struct nuauth_server *srv, GString *o, size_t max)
{
	struct conn_walk w = { .o = o, .first = true, .now_real = g_get_real_time(),
			       .now_mono = g_get_monotonic_time(),
			       .node = nuauth_cluster_node(srv->cluster), .max = max };

	nuauth_connections_foreach(srv->connections, one_connection, &w);
	return w.more;
}

char *nuauth_control_listing(struct nuauth_server *srv, size_t max)
{
	GString *o = g_string_new("{");
	uint64_t more;

	json_kstr(o, "node", nuauth_cluster_node(srv->cluster));
	json_key(o, "connections");
	g_string_append_c(o, '[');
	/* room for the members after the list */
	more = own_connections(srv, o, max > 64 ? max - 64 : 1);
	g_string_append_c(o, ']');
	json_kuint(o, "more", more);
	g_string_append_c(o, '}');
	return g_string_free(o, FALSE);
}

/* The other nodes' part of connections (a cluster): each one's items
 * after ours, and which answered. */
static void other_nodes_connections(GString *o, const struct nuauth_cluster_answer *answers,
				    unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		for (char **item = answers[i].items; item && *item; item++) {
			if (o->str[o->len - 1] != '[')
				g_string_append_c(o, ',');
			g_string_append(o, *item);
		}
}

static void nodes_answered(GString *o, const char *node,
			   const struct nuauth_cluster_answer *answers, unsigned n)
{
	bool all = true;

	json_key(o, "nodes");
	g_string_append(o, "[{");
	json_kstr(o, "node", node);
	g_string_append(o, ",\"answered\":true}");
	for (unsigned i = 0; i < n; i++) {
		bool ok = answers[i].answered && !*answers[i].error;

		g_string_append(o, ",{");
		json_kstr(o, "node", answers[i].node);
		json_key(o, "answered");
		g_string_append(o, ok ? "true" : "false");
		if (answers[i].more)
			json_kuint(o, "more", answers[i].more);
		g_string_append_c(o, '}');
		all = all && ok;
	}
	g_string_append_c(o, ']');
	if (!all)
		json_kstr(o, "warning", "some nodes did not answer: their connections are not "
			  "listed");
}

/* The answer to connections: this node's open connections, then (answers,
 * n: in a cluster) the other nodes', and the recently ended ones here. */
static void connections_reply(struct nuauth_control *ctl,
			      const struct nuauth_cluster_answer *answers, unsigned n, GString *o)
{
	struct conn_walk w = { .o = o, .first = true };
	const char *node = nuauth_cluster_node(ctl->srv->cluster);

	g_string_append(o, "{\"ok\":true");
	json_kstr(o, "note", "byte counts are known when a connection ends (nufw -C): "
		  "see the ended ones");
	g_string_append(o, ",\"connections\":[");
	own_connections(ctl->srv, o, 0);
	other_nodes_connections(o, answers, n);
	g_string_append(o, "],\"ended\":[");
	nuauth_connections_foreach_ended(ctl->srv->connections, one_ended, &w);
	g_string_append_c(o, ']');
	if (node) {
		json_kstr(o, "node", node);
		nodes_answered(o, node, answers, n);
	}
	g_string_append_c(o, '}');
}

static void cmd_connections(struct nuauth_control *ctl, const char *arg, GString *o)
{
	(void)arg;
	connections_reply(ctl, NULL, 0, o);
}

static void peer_resume(struct ctl_peer *p);

static void connections_answered(const struct nuauth_cluster_answer *answers, unsigned n,
				 void *ctx)
{
	struct ctl_peer *p = ctx;

	p->ask = NULL;
	connections_reply(p->ctl, answers, n, p->out);
	g_string_append_c(p->out, '\n');
	peer_resume(p);
}

/* In a cluster, the other nodes are asked first (cluster_ask.c): true when
 * the answer waits for theirs. */
static bool ask_connections(struct ctl_peer *p)
{
	p->ask = nuauth_cluster_ask_connections(p->ctl->srv->cluster, connections_answered, p);
	return p->ask != NULL;
}

/* The user's sessions here end at once; in a cluster, each other node
 * holding one is asked through etcd (nodes: the nodes asked; their own
 * logs tell what they ended). */
static void cmd_disconnect(struct nuauth_control *ctl, const char *arg, GString *o)
{
	unsigned sessions = 0;
	unsigned conns = nuauth_clients_disconnect_user(ctl->srv, arg,
							"disconnected by the administrator",
							&sessions);
	char **nodes = nuauth_cluster_disconnect(ctl->srv->cluster, arg);

	if (sessions == 0 && !nodes[0]) {
		reply_error(o, "user `%s' has no session", arg);
		g_strfreev(nodes);
		return;
	}
	g_string_append(o, "{\"ok\":true");
	json_kstr(o, "user", arg);
	json_kuint(o, "sessions", sessions);
	json_kuint(o, "connections", conns);
	json_key(o, "nodes_asked");
	g_string_append_c(o, '[');
	for (char **n = nodes; *n; n++) {
		if (n != nodes)
			g_string_append_c(o, ',');
		json_str(o, *n);
	}
	g_string_append_c(o, ']');
	if (nodes[0] && !nuauth_cluster_synced(ctl->srv->cluster))
		json_kstr(o, "warning", "this node does not reach etcd: the other nodes may not "
			  "be asked");
	g_string_append_c(o, '}');
	g_strfreev(nodes);
}

static void cmd_reload(struct nuauth_control *ctl, const char *arg, GString *o)
{
	GError *error = NULL;

	(void)arg;
	if (!nuauth_reload(ctl->srv, "reload (nuauthctl)", &error)) {
		reply_error(o, "%s: the running configuration stays", error->message);
		g_error_free(error);
		return;
	}
	g_string_append(o, "{\"ok\":true}");
}

static void cmd_stats(struct nuauth_control *ctl, const char *arg, GString *o)
{
	const struct nuauth_stats *st = &ctl->srv->stats;
	unsigned users = 0;

	(void)arg;
	for (GList *l = ctl->srv->clients; l; l = l->next)
		users += nuauth_client_logged_in(l->data);
	g_string_append(o, "{\"ok\":true");
	json_kuint(o, "since", (uint64_t)real_seconds(st->start));
	json_kuint(o, "accepted", st->accepted);
	json_kuint(o, "dropped", st->dropped);
	json_kuint(o, "rejected", st->rejected);
	json_kuint(o, "timeouts", st->timeouts);
	json_kuint(o, "pending", nuauth_correlate_pending(ctl->srv->correlator));
	json_kuint(o, "logins_ok", st->logins_ok);
	json_kuint(o, "logins_failed", st->logins_failed);
	json_kuint(o, "pushes", st->pushes);
	json_kuint(o, "announces_unmatched", st->announces_unmatched);
	json_kuint(o, "claim_conflicts", st->claim_conflicts);
	json_kuint(o, "budget_yields", nu_msgconn_budget_yields());
	json_kuint(o, "warnings_suppressed", nuauth_peer_log_suppressed(ctl->srv->peer_log));
	json_kuint(o, "sessions_refused_address", st->sessions_refused_address);
	json_kuint(o, "links_refused_prelogin", st->links_refused_prelogin);
	json_kuint(o, "protocol_closes", st->protocol_closes + nu_msgconn_framing_errors());
	json_key(o, "decisions_per_second");
	g_string_append_printf(o, "%.1f", nuauth_stats_rate(st));
	json_kuint(o, "sessions", users);
	json_kuint(o, "firewalls", g_list_length(ctl->srv->gateways));
	g_string_append_c(o, '}');
}

static const struct {
	const char *name;
	bool takes_arg;
	bool accounting;	/* allowed on the accounting socket */
	void (*run)(struct nuauth_control *ctl, const char *arg, GString *o);
	/* Optional: starts a request whose answer comes later (true), else
	 * run answers at once. */
	bool (*start)(struct ctl_peer *p);
} commands[] = {
	{ "users", false, false, cmd_users, NULL },
	{ "firewalls", false, false, cmd_firewalls, NULL },
	{ "connections", false, false, cmd_connections, ask_connections },
	{ "disconnect", true, false, cmd_disconnect, NULL },
	{ "ip-session", true, true, cmd_ip_session, NULL },
	{ "reload", false, false, cmd_reload, NULL },
	{ "stats", false, false, cmd_stats, NULL },
};

static void handle_request(struct ctl_peer *p, char *line)
{
	GString *o = p->out;
	char *arg = strchr(line, ' ');

	if (arg)
		*arg++ = '\0';
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (strcmp(line, commands[i].name) != 0)
			continue;
		if (p->ctl->accounting && !commands[i].accounting)
			reply_error(o, "%s: the accounting socket takes ip-session only", line);
		else if (commands[i].takes_arg && (!arg || !*arg))
			reply_error(o, "%s needs an argument", line);
		else if (!commands[i].takes_arg && arg)
			reply_error(o, "%s takes no argument", line);
		else {
			log_info("%s: uid %u: %s%s%s", p->ctl->accounting ? "accounting" : "control",
				 p->uid, line, arg ? " " : "", arg ? arg : "");
			if (commands[i].start && commands[i].start(p))
				return;		/* answered later */
			commands[i].run(p->ctl, arg, o);
		}
		g_string_append_c(o, '\n');
		return;
	}
	if (*line)
		reply_error(o, "unknown command `%s'", line);
	else
		reply_error(o, "empty request");
	g_string_append_c(o, '\n');
}

static void handle_line(struct ctl_peer *p, char *line)
{
	size_t n = strlen(line);

	if (n && line[n - 1] == '\r')
		line[n - 1] = '\0';
	if (p->greeted) {
		handle_request(p, line);
		return;
	}
	if (strcmp(line, CTL_VERSION_LINE) != 0) {
		reply_error(p->out, "unsupported protocol: this nuauth speaks " CTL_VERSION_LINE);
		g_string_append_c(p->out, '\n');
		p->closing = true;
		return;
	}
	p->greeted = true;
}

/* ---- peers ---- */

static gboolean on_peer(gint fd, GIOCondition cond, gpointer data);

static void peer_free(struct ctl_peer *p)
{
	nuauth_cluster_ask_cancel(p->ask);
	p->ctl->peers = g_list_remove(p->ctl->peers, p);
	nu_source_cancel(&p->watch);
	close(p->fd);
	g_string_free(p->in, TRUE);
	g_string_free(p->out, TRUE);
	g_free(p);
}

/* Watches for what the peer's state calls for. */
static void peer_rewatch(struct ctl_peer *p)
{
	GIOCondition cond = 0;

	if (!p->closing && !p->ask && p->out->len < CTL_OUT_HIGH)
		cond |= G_IO_IN;
	if (p->out->len)
		cond |= G_IO_OUT;
	if (p->watch && cond == p->cond)
		return;
	nu_source_cancel(&p->watch);
	p->cond = cond;
	p->watch = nu_watch_fd(p->fd, cond, on_peer, p);
}

/* False when the peer is gone. */
static bool peer_write(struct ctl_peer *p)
{
	while (p->out->len) {
		ssize_t n = send(p->fd, p->out->str, p->out->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false;
		g_string_erase(p->out, 0, n);
	}
	return true;
}

/* The whole lines waiting in p->in, until one waits for an answer. */
static void handle_lines(struct ctl_peer *p)
{
	char *nl;

	while (!p->closing && !p->ask && (nl = memchr(p->in->str, '\n', p->in->len))) {
		size_t len = (size_t)(nl - p->in->str);

		if (len > CTL_LINE_MAX)
			break;
		*nl = '\0';
		handle_line(p, p->in->str);
		g_string_erase(p->in, 0, len + 1);
	}
	nl = memchr(p->in->str, '\n', p->in->len);
	if (!p->closing && (p->in->len > CTL_LINE_MAX ||
			    (nl && (size_t)(nl - p->in->str) > CTL_LINE_MAX))) {
		log_warnx("control: uid %u: request longer than %d bytes: closing", p->uid,
			  CTL_LINE_MAX);
		reply_error(p->out, "request longer than %d bytes", CTL_LINE_MAX);
		g_string_append_c(p->out, '\n');
		p->closing = true;
	}
	if (p->closing)
		g_string_truncate(p->in, 0);
}

/* False when the peer closed or failed. */
static bool peer_read(struct ctl_peer *p)
{
	char buf[CTL_LINE_MAX];
	ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	g_string_append_len(p->in, buf, n);
	handle_lines(p);
	return true;
}

/* A deferred answer is in p->out: what the peer sent meanwhile is
 * handled, and the peer watched again. */
static void peer_resume(struct ctl_peer *p)
{
	handle_lines(p);
	peer_rewatch(p);
}

static gboolean on_peer(gint fd, GIOCondition cond, gpointer data)
{
	struct ctl_peer *p = data;
	bool alive = true;

	(void)fd;
	if (cond & G_IO_OUT)
		alive = peer_write(p);
	if (alive && (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && !p->closing) {
		alive = peer_read(p);
		if (alive)
			alive = peer_write(p);
	} else if (alive && (cond & (G_IO_HUP | G_IO_ERR))) {
		alive = false;
	}
	if (!alive || (p->closing && p->out->len == 0)) {
		peer_free(p);
		return G_SOURCE_REMOVE;
	}
	peer_rewatch(p);
	return G_SOURCE_CONTINUE;
}

static const char *ctl_name(const struct nuauth_control *ctl)
{
	return ctl->accounting ? "accounting" : "control";
}

/* Root and nuauth's own uid; on the accounting socket also a member of
 * its group (primary, or supplementary as the user database says). */
static bool peer_allowed(const struct nuauth_control *ctl, const struct ucred *cred)
{
	struct passwd *pw;
	gid_t groups[128];
	int n = G_N_ELEMENTS(groups);

	if (cred->uid == 0 || cred->uid == geteuid())
		return true;
	if (!ctl->accounting || ctl->gid == (gid_t)-1)
		return false;
	if (cred->gid == ctl->gid)
		return true;
	pw = getpwuid(cred->uid);
	if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == ctl->gid)
			return true;
	return false;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
	struct nuauth_control *ctl = data;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_peer *p;
	int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)cond;
	if (s < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("control: accept");
		return G_SOURCE_CONTINUE;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("control: SO_PEERCRED");
		close(s);
		return G_SOURCE_CONTINUE;
	}
	p = g_new0(struct ctl_peer, 1);
	p->ctl = ctl;
	p->fd = s;
	p->uid = cred.uid;
	p->pid = cred.pid;
	p->in = g_string_new(NULL);
	p->out = g_string_new(CTL_VERSION_LINE "\n");
	ctl->peers = g_list_prepend(ctl->peers, p);
	if (!peer_allowed(ctl, &cred)) {
		log_warnx("%s: uid %u (pid %d) refused: only root, uid %u%s may", ctl_name(ctl),
			  p->uid, p->pid, (unsigned)geteuid(),
			  ctl->accounting ? " and the socket's group" : "");
		reply_error(p->out, "permission denied: uid %u may not use nuauth's %s "
			    "socket (root and uid %u%s only)", p->uid, ctl_name(ctl),
			    (unsigned)geteuid(), ctl->accounting ? " and the socket's group" : "");
		g_string_append_c(p->out, '\n');
		p->closing = true;
	} else if (g_list_length(ctl->peers) > CTL_PEERS_MAX) {
		log_warnx("%s: uid %u (pid %d) refused: %d connections already", ctl_name(ctl),
			  p->uid, p->pid, CTL_PEERS_MAX);
		reply_error(p->out, "too many control connections (%d)", CTL_PEERS_MAX);
		g_string_append_c(p->out, '\n');
		p->closing = true;
	} else {
		log_debug("control: uid %u (pid %d) connected", p->uid, p->pid);
	}
	if (!peer_write(p) || (p->closing && p->out->len == 0)) {
		peer_free(p);
		return G_SOURCE_CONTINUE;
	}
	peer_rewatch(p);
	return G_SOURCE_CONTINUE;
}

/* ---- the listening socket ---- */

/* A socket file left by a nuauth that died is removed; a live one or any
 * other file is not. */
static bool clear_stale(const char *path, const struct sockaddr_un *sun, GError **error)
{
	struct stat st;
	int s;
	bool live;

	if (lstat(path, &st) < 0)
		return true;
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
			    "%s exists and is not a socket", path);
		return false;
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	live = s >= 0 && connect(s, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	if (s >= 0)
		close(s);
	if (live) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
			    "%s: another nuauth is listening there", path);
		return false;
	}
	if (unlink(path) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
			    "cannot remove the stale %s: %s", path, g_strerror(errno));
		return false;
	}
	return true;
}

static bool fail_errno(GError **error, const char *what, const char *path)
{
	int e = errno;

	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s %s: %s", what, path,
		    g_strerror(e));
	return false;
}

/* The socket's directory (/run/nuauth by default), made when it is missing
 * as systemd's RuntimeDirectory= would: mode 0750, owned by the user nuauth
 * runs as (nuauth_run_as), so that nuauthctl also reaches a nuauth started
 * by hand.  Only the last component is made. */
static bool make_runtime_dir(const char *path, const char *run_as, gid_t gid, GError **error)
{
	char *dir = g_path_get_dirname(path);
	struct passwd *pw = NULL;
	struct stat st;
	bool ok = true;

	if (stat(dir, &st) == 0 || errno != ENOENT)
		goto out;
	if (mkdir(dir, 0750) < 0) {
		if (errno != EEXIST)
			ok = fail_errno(error, "cannot make the directory", dir);
		goto out;
	}
	if (run_as && geteuid() == 0 && (pw = getpwnam(run_as)) &&
	    chown(dir, pw->pw_uid, gid != (gid_t)-1 ? gid : pw->pw_gid) < 0)
		log_warn("control: chown %s", dir);
	else if (!pw && gid != (gid_t)-1 && chown(dir, (uid_t)-1, gid) < 0)
		log_warn("control: chown %s", dir);
	if (!pw)
		pw = getpwuid(geteuid());
	if (chmod(dir, 0750) < 0)
		log_warn("control: chmod %s", dir);
	log_notice("control: made the runtime directory %s (mode 0750, owner %s)", dir,
		   pw ? pw->pw_name : "?");
out:
	g_free(dir);
	return ok;
}

/* Listens on path: the control socket (mode 0600) or the accounting one
 * (0660, group gid); NULL with *error. */
static struct nuauth_control *control_listen(struct nuauth_server *srv, const char *path,
					     bool accounting, gid_t gid, GError **error)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t mode = accounting && gid != (gid_t)-1 ? 0660 : 0600;
	struct nuauth_control *ctl;
	struct stat st;
	mode_t old_umask;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG,
			    "%s: longer than %zu bytes", path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (!make_runtime_dir(path, srv->cfg.run_as, accounting ? gid : (gid_t)-1, error) ||
	    !clear_stale(path, &sun, error))
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail_errno(error, "cannot make the socket", path);
		return NULL;
	}
	old_umask = umask(0177);
	r = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (r < 0 || chmod(path, mode) < 0 || listen(fd, CTL_PEERS_MAX) < 0 ||
	    stat(path, &st) < 0) {
		fail_errno(error, "cannot listen on", path);
		if (r == 0)
			unlink(path);
		close(fd);
		return NULL;
	}
	/* nuauth_run_as: the socket belongs to the user nuauth becomes; the
	 * accounting socket to the group FreeRADIUS runs in. */
	{
		struct passwd *pw = srv->cfg.run_as ? getpwnam(srv->cfg.run_as) : NULL;

		if ((pw || mode == 0660) &&
		    chown(path, pw ? pw->pw_uid : (uid_t)-1,
			  mode == 0660 ? gid : pw ? pw->pw_gid : (gid_t)-1) < 0)
			log_warn("%s: chown %s", accounting ? "accounting" : "control", path);
	}
	ctl = g_new0(struct nuauth_control, 1);
	ctl->srv = srv;
	ctl->path = g_strdup(path);
	ctl->fd = fd;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	ctl->accounting = accounting;
	ctl->gid = gid;
	ctl->watch = nu_watch_fd(fd, G_IO_IN, on_accept, ctl);
	log_info("%s socket on %s (mode %04o)", ctl_name(ctl), path, (unsigned)mode);
	return ctl;
}

bool nuauth_control_start(struct nuauth_server *srv, GError **error)
{
	const char *path = srv->cfg.control_socket;

	if (!path || !*path)
		return true;
	srv->control = control_listen(srv, path, false, (gid_t)-1, error);
	return srv->control != NULL;
}

bool nuauth_accounting_start(struct nuauth_server *srv, GError **error)
{
	const char *path = srv->cfg.accounting_socket;

	if (!path || !*path)
		return true;
	srv->accounting = control_listen(srv, path, true, srv->cfg.accounting_gid, error);
	if (!srv->accounting)
		g_prefix_error(error, "nuauth_accounting_socket: ");
	return srv->accounting != NULL;
}

static void control_close(struct nuauth_control *ctl)
{
	struct stat st;

	if (!ctl)
		return;
	while (ctl->peers)
		peer_free(ctl->peers->data);
	nu_source_cancel(&ctl->watch);
	close(ctl->fd);
	/* Only our own socket file: another nuauth may have taken the path. */
	if (stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
		unlink(ctl->path);
	g_free(ctl->path);
	g_free(ctl);
}

void nuauth_control_stop(struct nuauth_server *srv)
{
	control_close(srv->control);
	srv->control = NULL;
	control_close(srv->accounting);
	srv->accounting = NULL;
}
