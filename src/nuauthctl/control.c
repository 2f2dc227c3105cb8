/* nuauthctl users, firewalls, connections, disconnect, reload, stats, top:
 * the commands that ask the running nuauth through its control socket
 * (doc/protocol.md, "Control socket").  Each prints a table, or nuauth's
 * JSON reply with --json. */
#include "config.h"
#include "nuauthctl.h"
#include "json.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <glib.h>

#include "error.h"

#define CTL_VERSION_LINE "NUCTL 1"
#define CTL_LINE_MAX 4096
#define CTL_TIMEOUT_S 10

struct ctl {
	const char *path;
	int fd;
	GString *in;		/* read and not yet returned */
};

struct opts {
	const char *path;
	bool json;
	long iterations;	/* top -n; 0: until interrupted */
};

void nuctl_control_usage(FILE *out)
{
	fprintf(out,
		"usage: nuauthctl users|firewalls|connections|stats [-s PATH] [--json]\n"
		"       nuauthctl disconnect USER [-s PATH] [--json]\n"
		"       nuauthctl ip-session start|update|stop USER ADDRESS [NAS] [-s PATH] [--json]\n"
		"       nuauthctl reload [-s PATH] [--json]\n"
		"       nuauthctl top [-n N] [-s PATH] [--json]\n"
		"  users        logged-in sessions: user, uid, groups, address, OS, client\n"
		"               (a cluster: every node's, with its node)\n"
		"  firewalls    connected nufw gateways: address, certificate CN, decisions\n"
		"  connections  accepted connections not yet ended: user, flow, since; and the\n"
		"               last ones ended, with their bytes (nufw -C)\n"
		"  disconnect   closes every session of USER and ends its connections\n"
		"               (a cluster: asks each node holding one, through etcd)\n"
		"  ip-session   opens, refreshes or ends USER's session at ADDRESS (a host\n"
		"               without a client; FreeRADIUS' accounting uses it too)\n"
		"  reload       reads the configuration, users and ACLs again (as SIGHUP)\n"
		"  stats        decisions, timeouts, pending packets, logins since start\n"
		"  top          a per-user view refreshed every second\n"
		"  -s PATH      nuauth's control socket (default " NUAUTH_CONTROL_SOCKET ")\n"
		"  --json       print nuauth's JSON replies as they are\n"
		"  -n N         top: stop after N refreshes\n");
}

/* ---- the link ---- */

static bool ctl_send(struct ctl *c, const char *line)
{
	size_t len = strlen(line), done = 0;

	while (done < len) {
		ssize_t n = send(c->fd, line + done, len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* The next line (without its newline, g_free it), or NULL with *error. */
static char *ctl_read_line(struct ctl *c, GError **error)
{
	char buf[65536];
	char *nl;

	while (!(nl = memchr(c->in->str, '\n', c->in->len))) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			g_set_error(error, NU_ERROR, NU_ERROR_IO,
				    "no answer from nuauth within %d s (%s)", CTL_TIMEOUT_S, c->path);
			return NULL;
		}
		if (n <= 0) {
			g_set_error(error, NU_ERROR, NU_ERROR_IO,
				    "nuauth closed the control connection (%s)", c->path);
			return NULL;
		}
		g_string_append_len(c->in, buf, n);
	}
	{
		size_t len = (size_t)(nl - c->in->str);
		char *line = g_strndup(c->in->str, len);

		g_string_erase(c->in, 0, len + 1);
		return line;
	}
}

static void ctl_close(struct ctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->in)
		g_string_free(c->in, TRUE);
	c->in = NULL;
}

/* Connects to nuauth's control socket at path and checks its greeting;
 * false with *error. */
static bool ctl_open(struct ctl *c, const char *path, GError **error)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_S };
	char *greeting;

	c->path = path;
	c->fd = -1;
	c->in = g_string_new(NULL);
	if (strlen(path) >= sizeof(sun.sun_path)) {
		g_set_error(error, NU_ERROR, NU_ERROR_FAILED, "%s: socket path too long", path);
		return false;
	}
	memcpy(sun.sun_path, path, strlen(path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_IO, "socket: %s", strerror(errno));
		return false;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
			g_set_error(error, NU_ERROR, NU_ERROR_IO,
				    "cannot reach nuauth: is nuauth running? (%s)", path);
		else if (e == EACCES || e == EPERM)
			g_set_error(error, NU_ERROR, NU_ERROR_PRIVILEGE,
				    "%s: permission denied: only root and nuauth's user may "
				    "use the control socket", path);
		else
			g_set_error(error, NU_ERROR, NU_ERROR_IO, "%s: %s", path, strerror(e));
		return false;
	}
	greeting = ctl_read_line(c, error);
	if (!greeting)
		return false;
	if (strcmp(greeting, CTL_VERSION_LINE) != 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_PROTOCOL,
			    "%s: not nuauth's control protocol " CTL_VERSION_LINE
			    " (it says `%.40s')", path, greeting);
		g_free(greeting);
		return false;
	}
	g_free(greeting);
	/* A refused peer's error follows the greeting: read as the reply. */
	ctl_send(c, CTL_VERSION_LINE "\n");
	return true;
}

/* Sends one request; returns the reply line (g_free it) and its parsed
 * form in *doc, or NULL with *error. */
static char *ctl_request(struct ctl *c, const char *request, struct json **doc, GError **error)
{
	char *line = g_strdup_printf("%s\n", request);
	char *reply;

	ctl_send(c, line);	/* a failure shows as no reply */
	g_free(line);
	reply = ctl_read_line(c, error);
	if (!reply)
		return NULL;
	*doc = json_parse(reply);
	if (!*doc || (*doc)->type != JSON_OBJECT) {
		g_set_error(error, NU_ERROR, NU_ERROR_PROTOCOL, "malformed reply from nuauth: %.80s",
			    reply);
		json_free(*doc);
		*doc = NULL;
		g_free(reply);
		return NULL;
	}
	return reply;
}

/* ---- tables ---- */

static const char *fmt_time(double t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !localtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm))
		g_strlcpy(buf, "-", cap);
	return buf;
}

static const char *fmt_groups(const struct json *u, char *buf, size_t cap)
{
	const struct json *g = json_get(u, "groups");
	GString *s = g_string_new(NULL);

	for (size_t i = 0; g && g->type == JSON_ARRAY && i < g->count; i++)
		g_string_append_printf(s, "%s%.0f", i ? "," : "", g->items[i]->n);
	g_strlcpy(buf, s->len ? s->str : "-", cap);
	g_string_free(s, TRUE);
	return buf;
}

static const struct json *list_of(const struct json *doc, const char *key)
{
	const struct json *l = json_get(doc, key);

	return l && l->type == JSON_ARRAY ? l : NULL;
}

/* A reply's warning (a cluster node out of reach of etcd, nodes that did
 * not answer), on stderr. */
static void print_warning(const struct json *doc)
{
	char text[512];

	if (json_get(doc, "warning"))
		fprintf(stderr, "nuauthctl: %s\n", json_text(doc, "warning", text, sizeof(text)));
}

/* In a cluster (the reply names its node) a NODE column: every node's
 * sessions are listed, the other nodes' from the directory (no uid,
 * origin, OS or client: "-"). */
static void print_users(const struct json *doc)
{
	const struct json *l = list_of(doc, "users");
	bool cluster = json_get(doc, "node") != NULL;
	char a[32], b[32], g[128], t[32], o[16];

	print_warning(doc);
	if (cluster)
		printf("%-12s ", "NODE");
	printf("%-16s %7s %-16s %-39s %-19s %-7s %-20s %s\n", "USER", "UID", "GROUPS",
	       "ADDRESS", "SINCE", "ORIGIN", "OS", "CLIENT");
	for (size_t i = 0; l && i < l->count; i++) {
		const struct json *u = l->items[i];
		/* another node's session (from the directory) */
		bool remote = json_get(u, "session") != NULL;

		if (cluster)
			printf("%-12s ", json_text(u, "node", a, sizeof(a)));
		printf("%-16s %7s %-16s %-39s %-19s %-7s %-20s %s\n",
		       json_text(u, "user", a, sizeof(a)),
		       remote ? "-" : json_text(u, "uid", b, sizeof(b)),
		       fmt_groups(u, g, sizeof(g)), json_text(u, "address", a, sizeof(a)),
		       fmt_time(json_num(u, "since"), t, sizeof(t)),
		       remote ? "-" : json_text(u, "origin", o, sizeof(o)),
		       remote ? "-" : json_text(u, "os", a, sizeof(a)),
		       remote ? "-" : json_text(u, "client", a, sizeof(a)));
	}
}

static void print_ip_session(const struct json *doc)
{
	char a[64], u[64], w[16], o[16];

	if (json_num(doc, "sessions_ended") > 0 || json_get(doc, "nas")) {
		printf("NAS %s restarted: %.0f address session(s) ended\n",
		       json_text(doc, "nas", a, sizeof(a)), json_num(doc, "sessions_ended"));
		return;
	}

	printf("address session of %s at %s (%s): %s", json_text(doc, "user", u, sizeof(u)),
	       json_text(doc, "address", a, sizeof(a)), json_text(doc, "origin", o, sizeof(o)),
	       json_text(doc, "action", w, sizeof(w)));
	if (json_num(doc, "connections_ended") > 0)
		printf(", %.0f connection(s) ended", json_num(doc, "connections_ended"));
	putchar('\n');
}

static void print_firewalls(const struct json *doc)
{
	const struct json *l = list_of(doc, "firewalls");
	char a[32], t[32];

	printf("%-39s %-32s %-19s %s\n", "ADDRESS", "CN", "SINCE", "DECISIONS");
	for (size_t i = 0; l && i < l->count; i++) {
		const struct json *f = l->items[i];

		printf("%-39s %-32s %-19s %s\n", json_text(f, "address", a, sizeof(a)),
		       json_text(f, "cn", a, sizeof(a)),
		       fmt_time(json_num(f, "since"), t, sizeof(t)),
		       json_text(f, "decisions", a, sizeof(a)));
	}
}

/* In a cluster (the reply names its node) a NODE column: every node's
 * connections are listed, the other nodes' as they answered. */
static void print_connections(const struct json *doc)
{
	const struct json *l = list_of(doc, "connections");
	bool cluster = json_get(doc, "node") != NULL;
	char a[32], t[32];

	print_warning(doc);
	if (cluster)
		printf("%-12s ", "NODE");
	printf("%-16s %-19s %-15s %s\n", "USER", "SINCE", "FIREWALL", "FLOW");
	for (size_t i = 0; l && i < l->count; i++) {
		const struct json *c = l->items[i];

		if (cluster)
			printf("%-12s ", json_text(c, "node", a, sizeof(a)));
		printf("%-16s %-19s %-15s %s\n", json_text(c, "user", a, sizeof(a)),
		       fmt_time(json_num(c, "since"), t, sizeof(t)),
		       json_text(c, "firewall", a, sizeof(a)), json_text(c, "flow", a, sizeof(a)));
	}
	l = list_of(doc, "ended");
	if (!l || l->count == 0)
		return;
	printf("\nrecently ended (newest first):\n%-16s %-19s %12s %12s %s\n", "USER", "ENDED",
	       "BYTES OUT", "BYTES IN", "FLOW");
	for (size_t i = 0; i < l->count; i++) {
		const struct json *c = l->items[i];
		char out[32], in[32];

		printf("%-16s %-19s %12s %12s %s\n", json_text(c, "user", a, sizeof(a)),
		       fmt_time(json_num(c, "ended"), t, sizeof(t)),
		       json_text(c, "bytes_out", out, sizeof(out)),
		       json_text(c, "bytes_in", in, sizeof(in)), json_text(c, "flow", a, sizeof(a)));
	}
}

static void print_stats(const struct json *doc)
{
	static const char *const keys[][2] = {
		{ "accepted", "decisions accepted" }, { "dropped", "decisions dropped" },
		{ "rejected", "decisions rejected" }, { "timeouts", "of which timeouts" },
		{ "pending", "packets pending" }, { "logins_ok", "logins ok" },
		{ "logins_failed", "logins failed" }, { "pushes", "push requests" },
		{ "announces_unmatched", "claims unmatched" },
		{ "claim_conflicts", "claim conflicts" },
		{ "decisions_per_second", "decisions/s (10 s)" }, { "sessions", "sessions" },
		{ "firewalls", "firewalls" },
		{ "budget_yields", "reads put off" },
		{ "warnings_suppressed", "log lines left out" },
		{ "sessions_refused_address", "refused: per address" },
		{ "links_refused_prelogin", "refused: not logged in" },
		{ "protocol_closes", "protocol violations" },
	};
	char a[32], t[32];

	printf("%-20s %s\n", "since", fmt_time(json_num(doc, "since"), t, sizeof(t)));
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		printf("%-20s %s\n", keys[i][1], json_text(doc, keys[i][0], a, sizeof(a)));
}

static void print_disconnect(const struct json *doc)
{
	char a[32], b[32], c[32];

	const struct json *nodes = list_of(doc, "nodes_asked");

	printf("%s: %s session(s) closed, %s connection(s) ended\n",
	       json_text(doc, "user", a, sizeof(a)), json_text(doc, "sessions", b, sizeof(b)),
	       json_text(doc, "connections", c, sizeof(c)));
	for (size_t i = 0; nodes && i < nodes->count; i++)
		printf("%s: node %s asked to close its session(s)\n", json_text(doc, "user", a, sizeof(a)),
		       nodes->items[i]->type == JSON_STRING ? nodes->items[i]->s : "?");
	if (json_get(doc, "warning"))
		fprintf(stderr, "nuauthctl: %s\n", json_text(doc, "warning", a, sizeof(a)));
}

static void print_reload(const struct json *doc)
{
	(void)doc;
	printf("nuauth reloaded its configuration, users and ACLs\n");
}

/* ---- top ---- */

struct top_user {
	char *name;
	double uid;
	unsigned sessions, conns;
	GString *addrs;
	char *os;
};

static void top_user_free(gpointer p)
{
	struct top_user *u = p;

	g_free(u->name);
	g_free(u->os);
	g_string_free(u->addrs, TRUE);
	g_free(u);
}

static int top_cmp(gconstpointer a, gconstpointer b)
{
	const struct top_user *x = *(struct top_user *const *)a;
	const struct top_user *y = *(struct top_user *const *)b;

	if (x->conns != y->conns)
		return x->conns < y->conns ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void print_top(const struct json *users, const struct json *conns,
		      const struct json *stats)
{
	GHashTable *by_name = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *rows = g_ptr_array_new_with_free_func(top_user_free);
	const struct json *l;
	char a[32], b[32], c[32], d[32], e[32], f[32], g[32];

	l = list_of(users, "users");
	for (size_t i = 0; l && i < l->count; i++) {
		const char *name = json_text(l->items[i], "user", a, sizeof(a));
		const char *addr = json_text(l->items[i], "address", b, sizeof(b));
		struct top_user *u = g_hash_table_lookup(by_name, name);

		if (!u) {
			u = g_new0(struct top_user, 1);
			u->name = g_strdup(name);
			u->uid = json_num(l->items[i], "uid");
			u->addrs = g_string_new(NULL);
			u->os = g_strdup(json_text(l->items[i], "os", c, sizeof(c)));
			g_hash_table_insert(by_name, u->name, u);
			g_ptr_array_add(rows, u);
		}
		u->sessions++;
		if (!strstr(u->addrs->str, addr))
			g_string_append_printf(u->addrs, "%s%s", u->addrs->len ? "," : "", addr);
	}
	l = list_of(conns, "connections");
	for (size_t i = 0; l && i < l->count; i++) {
		struct top_user *u = g_hash_table_lookup(by_name,
							 json_text(l->items[i], "user", a, sizeof(a)));
		if (u)
			u->conns++;
	}
	g_ptr_array_sort(rows, top_cmp);
	printf("nuauth: %s sessions, %s firewalls, %s decisions/s; accepted %s, dropped %s, "
	       "rejected %s, pending %s\n",
	       json_text(stats, "sessions", a, sizeof(a)), json_text(stats, "firewalls", b, sizeof(b)),
	       json_text(stats, "decisions_per_second", c, sizeof(c)),
	       json_text(stats, "accepted", d, sizeof(d)), json_text(stats, "dropped", e, sizeof(e)),
	       json_text(stats, "rejected", f, sizeof(f)), json_text(stats, "pending", g, sizeof(g)));
	printf("%-16s %7s %8s %11s %-20s %s\n", "USER", "UID", "SESSIONS", "CONNECTIONS", "OS",
	       "ADDRESSES");
	for (guint i = 0; i < rows->len; i++) {
		struct top_user *u = g_ptr_array_index(rows, i);

		printf("%-16s %7.0f %8u %11u %-20s %s\n", u->name, u->uid, u->sessions, u->conns,
		       u->os, u->addrs->str);
	}
	g_hash_table_destroy(by_name);
	g_ptr_array_free(rows, TRUE);
}

static int run_top(struct ctl *c, const struct opts *o)
{
	static const char *const requests[] = { "users", "connections", "stats" };
	bool tty = isatty(STDOUT_FILENO);

	for (long n = 0; o->iterations == 0 || n < o->iterations; n++) {
		struct json *docs[3] = { NULL, NULL, NULL };
		char *replies[3] = { NULL, NULL, NULL };
		int status = NUCTL_OK;
		GError *error = NULL;

		if (n > 0)
			sleep(1);
		for (int i = 0; i < 3 && status == NUCTL_OK; i++) {
			replies[i] = ctl_request(c, requests[i], &docs[i], &error);
			if (!replies[i]) {
				nuctl_error("%s", error->message);
				g_clear_error(&error);
				status = NUCTL_FAILED;
			} else if (!json_get(docs[i], "ok") || !json_get(docs[i], "ok")->b) {
				char a[32];
				nuctl_error("%s", json_text(docs[i], "error", a, sizeof(a)));
				status = NUCTL_FAILED;
			}
		}
		if (status == NUCTL_OK) {
			if (o->json) {
				for (int i = 0; i < 3; i++)
					printf("%s\n", replies[i]);
			} else {
				if (tty)
					fputs("\033[H\033[2J", stdout);
				print_top(docs[0], docs[1], docs[2]);
			}
			fflush(stdout);
		}
		for (int i = 0; i < 3; i++) {
			json_free(docs[i]);
			g_free(replies[i]);
		}
		if (status != NUCTL_OK)
			return status;
	}
	return NUCTL_OK;
}

/* ---- the commands ---- */

struct control_command {
	const char *name;
	unsigned nargs;			/* words after the command */
	void (*print)(const struct json *doc);
};

static const struct control_command control_commands[] = {
	{ "users", 0, print_users },
	{ "firewalls", 0, print_firewalls },
	{ "connections", 0, print_connections },
	{ "disconnect", 1, print_disconnect },
	{ "ip-session", 3, print_ip_session },
	{ "reload", 0, print_reload },
	{ "stats", 0, print_stats },
	{ "top", 0, NULL },
};

/* Reads the options and the argument of cmd into *o and *arg; false with
 * the command's *status when it ends there (--help, a bad option or
 * argument). */
static bool parse_options(int argc, char **argv, const struct control_command *cmd,
			  struct opts *o, char **arg, int *status)
{
	unsigned words;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*status = NUCTL_USAGE;
	while ((opt = getopt_long(argc, argv, "s:n:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			o->path = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'n': {
			char *end;
			errno = 0;
			o->iterations = strtol(optarg, &end, 10);
			if (strcmp(cmd->name, "top") != 0 || *end || end == optarg || errno ||
			    o->iterations < 1 || o->iterations > 1000000) {
				if (strcmp(cmd->name, "top") != 0)
					nuctl_error("-n is for top only");
				else
					nuctl_error("-n: a number of refreshes from 1 to "
						    "1000000, not `%s'", optarg);
				return false;
			}
			break;
		}
		case 'h':
			nuctl_control_usage(stdout);
			*status = NUCTL_OK;
			return false;
		default:
			nuctl_control_usage(stderr);
			return false;
		}
	}
	/* ip-session's action is checked by nuauth (which also takes the
	 * RADIUS Acct-Status-Type names FreeRADIUS passes). */
	if (cmd->nargs == 3 && optind + 3 > argc) {
		nuctl_error("%s needs start|update|stop USER ADDRESS [NAS]", cmd->name);
		return false;
	}
	/* ip-session's fourth word: the NAS (RADIUS client) */
	words = cmd->nargs + (cmd->nargs == 3 && argc - optind == 4);
	for (unsigned i = 0; i < words; i++) {
		const char *w;

		if (optind >= argc) {
			nuctl_error("%s needs a user name", cmd->name);
			return false;
		}
		w = argv[optind++];
		if (!*w || strlen(w) > 256 || strpbrk(w, " \t\r\n")) {
			nuctl_error("`%s' is not a %s", w,
				    cmd->nargs == 3 && i >= 2 ? "network address" :
				    cmd->nargs == 3 && i == 0 ? "start, update or stop" : "user name");
			return false;
		}
		if (*arg) {
			char *j = g_strdup_printf("%s %s", *arg, w);

			g_free(*arg);
			*arg = j;
		} else {
			*arg = g_strdup(w);
		}
	}
	if (optind < argc) {
		nuctl_error("%s: unexpected argument `%s'", cmd->name, argv[optind]);
		return false;
	}
	return true;
}

/* One request and its reply, printed as a table (or as it is, --json). */
static int run_once(struct ctl *c, const struct control_command *cmd, const char *arg,
		    const struct opts *o)
{
	struct json *doc = NULL;
	GError *error = NULL;
	char *reply, *request;
	int status = NUCTL_OK;

	request = arg ? g_strdup_printf("%s %s", cmd->name, arg) : g_strdup(cmd->name);
	reply = ctl_request(c, request, &doc, &error);
	g_free(request);
	if (!reply) {
		nuctl_error("%s", error->message);
		g_error_free(error);
		return NUCTL_FAILED;
	}
	if (!json_get(doc, "ok") || !json_get(doc, "ok")->b) {
		char a[32];
		nuctl_error("%s", json_text(doc, "error", a, sizeof(a)));
		status = NUCTL_FAILED;
		if (o->json)
			printf("%s\n", reply);
	} else if (o->json) {
		printf("%s\n", reply);
	} else {
		cmd->print(doc);
	}
	json_free(doc);
	g_free(reply);
	return status;
}

int nuctl_control_main(int argc, char **argv)
{
	const struct control_command *cmd = NULL;
	struct opts o = { .path = NUAUTH_CONTROL_SOCKET };
	char *arg = NULL;
	struct ctl c = { .fd = -1 };
	GError *error = NULL;
	int status;

	for (size_t i = 0; i < G_N_ELEMENTS(control_commands); i++)
		if (strcmp(argv[0], control_commands[i].name) == 0)
			cmd = &control_commands[i];
	if (!cmd)
		return NUCTL_USAGE;
	if (!parse_options(argc, argv, cmd, &o, &arg, &status)) {
		g_free(arg);
		return status;
	}
	if (!ctl_open(&c, o.path, &error)) {
		nuctl_error("%s", error->message);
		g_error_free(error);
		ctl_close(&c);
		g_free(arg);
		return NUCTL_FAILED;
	}
	status = cmd->print ? run_once(&c, cmd, arg, &o) : run_top(&c, &o);
	ctl_close(&c);
	g_free(arg);
	return status;
}
