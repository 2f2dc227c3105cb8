/* nutcpc: logs its user in to nuauth, then announces the user's new
 * connections: at once when nuauth asks (PUSH), and at a steady interval. */
#include "config.h"
#include "nutcpc.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <glib.h>
#include <glib-unix.h>

#include "conntable.h"
#include "log.h"
#include "msgconn.h"
#include "tls.h"

#define SCAN_INTERVAL_MS 500
#define RECONNECT_MIN_MS 250
#define RECONNECT_MAX_MS 30000

/* A connection already announced, with the last scan that saw it. */
struct announced {
	struct nu_flow flow;
	unsigned generation;
};

struct client {
	struct nutcpc_options opt;
	gnutls_certificate_credentials_t creds;
	GMainLoop *loop;
	struct nu_msgconn *conn;	/* NULL while logged out */
	GHashTable *announced;		/* struct nu_flow * -> struct announced */
	unsigned generation;
	unsigned reconnect_ms;
	guint reconnect_timer;
	int exit_code;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nutcpc -H HOST [-p PORT] [-U USER] [-P PASSWORD] -A CA [-N] [-d] [-v]... [-V]\n"
		"  -H HOST      nuauth's address or name\n"
		"  -p PORT      nuauth's client port (default 4129)\n"
		"  -U USER      user name (default: your login name)\n"
		"  -P PASSWORD  password (else NUTCPC_PASSWORD, else asked on the terminal)\n"
		"  -A CA        CA certificate that signed nuauth's certificate\n"
		"  -N           do not check that nuauth's certificate names HOST\n"
		"  -d           stay in the foreground\n"
		"  -v           more verbose (repeat for more)\n"
		"  -V           print the version and exit\n");
}

static char *ask_password(const char *user, const char *host)
{
	struct termios old, quiet;
	char line[512];
	FILE *tty = fopen("/dev/tty", "r+");
	bool ok;

	if (!tty)
		return NULL;
	fprintf(tty, "Password for %s on %s: ", user, host);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	ok = fgets(line, sizeof(line), tty) != NULL;
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (!ok)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	char *pw = g_strdup(line);
	memset(line, 0, sizeof(line));
	return pw;
}

static void send_msg(struct client *c, const uint8_t *buf, size_t len)
{
	if (c->conn)
		nu_msgconn_send(c->conn, buf, len);
}

/* Looks at the user's new connections and announces those nuauth has not
 * heard of; wanted (when not NULL) is announced even if it was before. */
static void scan_and_announce(struct client *c, const struct nu_flow *wanted)
{
	GArray *conns = g_array_new(FALSE, FALSE, sizeof(struct nu_local_conn));
	struct nu_msg_writer w;
	uint8_t buf[NU_MSG_MAX_LEN];
	unsigned count = 0;
	size_t len;

	if (nu_conntable_scan_syn_sent(getuid(), conns) < 0) {
		log_warn("cannot read the connection table");
		g_array_free(conns, TRUE);
		return;
	}
	c->generation++;
	nu_announce_begin(&w, buf, sizeof(buf));
	for (guint i = 0; i < conns->len; i++) {
		struct nu_local_conn *lc = &g_array_index(conns, struct nu_local_conn, i);
		struct nu_announce_conn ac = { .flow = lc->flow };
		struct announced *known = g_hash_table_lookup(c->announced, &lc->flow);

		if (known) {
			known->generation = c->generation;
			if (!wanted || !nu_flow_equal(wanted, &lc->flow))
				continue;
		} else {
			known = g_new(struct announced, 1);
			known->flow = lc->flow;
			known->generation = c->generation;
			g_hash_table_insert(c->announced, &known->flow, known);
		}
		if (lc->inode)
			nu_conntable_find_program(getuid(), lc->inode, ac.app, sizeof(ac.app));
		if (!nu_announce_add(&w, &ac)) {
			if (nu_msg_finish(&w, &len) == NU_PROTO_OK)
				send_msg(c, buf, len);
			nu_announce_begin(&w, buf, sizeof(buf));
			nu_announce_add(&w, &ac);
		}
		count++;
	}
	if (count && nu_msg_finish(&w, &len) == NU_PROTO_OK)
		send_msg(c, buf, len);
	if (count)
		log_debug("announced %u connection(s)", count);

	/* Forget the connections that are no longer opening. */
	GHashTableIter it;
	struct announced *a;
	g_hash_table_iter_init(&it, c->announced);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&a))
		if (a->generation != c->generation)
			g_hash_table_iter_remove(&it);
	g_array_free(conns, TRUE);
}

static gboolean on_scan_timer(gpointer data)
{
	struct client *c = data;

	if (c->conn)
		scan_and_announce(c, NULL);
	return G_SOURCE_CONTINUE;
}

static void on_message(struct nu_msgconn *conn, const struct nu_msg_header *hdr,
		       const uint8_t *msg, size_t len, void *ctx)
{
	struct client *c = ctx;

	switch (hdr->type) {
	case NU_MSG_PUSH: {
		struct nu_flow flow;
		bool has_flow = false;
		if (nu_push_decode(msg, len, &has_flow, &flow) != NU_PROTO_OK) {
			nu_msgconn_close(conn, "malformed PUSH from nuauth");
			return;
		}
		scan_and_announce(c, has_flow ? &flow : NULL);
		return;
	}
	case NU_MSG_KEEPALIVE:
		return;
	case NU_MSG_ERROR:
		nu_msgconn_close_peer_error(conn, msg, len);
		return;
	default:
		log_debug("ignoring %s message from nuauth", nu_msg_type_name(hdr->type));
	}
}

static void schedule_reconnect(struct client *c);

static void on_close(struct nu_msgconn *conn, const char *why, void *ctx)
{
	struct client *c = ctx;

	log_warnx("disconnected from nuauth: %s", why);
	nu_msgconn_free(conn);
	c->conn = NULL;
	c->reconnect_ms = RECONNECT_MIN_MS;
	schedule_reconnect(c);
}

static const struct nu_msgconn_ops conn_ops = {
	.on_message = on_message,
	.on_close = on_close,
};

static void send_client_info(struct client *c)
{
	struct nu_client_info info = { 0 };
	struct utsname u;
	uint8_t buf[1024];
	size_t len;

	if (uname(&u) == 0) {
		g_strlcpy(info.sysname, u.sysname, sizeof(info.sysname));
		g_strlcpy(info.release, u.release, sizeof(info.release));
		g_strlcpy(info.version, u.version, sizeof(info.version));
	}
	if (nu_client_info_encode(buf, sizeof(buf), &info, &len) == NU_PROTO_OK)
		send_msg(c, buf, len);
}

/* Logs in; false (and c->exit_code set) when the login was refused. */
static enum nutcpc_login_result connect_and_login(struct client *c, char **err)
{
	struct nutcpc_link link;
	enum nutcpc_login_result r = nutcpc_login(&c->opt, c->creds, &link, err);

	if (r != NUTCPC_LOGIN_OK)
		return r;
	c->conn = nu_msgconn_new(link.fd, link.tls, true, &conn_ops, c);
	send_client_info(c);
	g_hash_table_remove_all(c->announced);
	return r;
}

static gboolean on_reconnect(gpointer data)
{
	struct client *c = data;
	char *err = NULL;
	enum nutcpc_login_result r;

	c->reconnect_timer = 0;
	r = connect_and_login(c, &err);
	if (r == NUTCPC_LOGIN_OK) {
		log_notice("logged in again to %s as %s", c->opt.host, c->opt.user);
	} else if (r == NUTCPC_LOGIN_REFUSED) {
		log_err("%s", err);
		c->exit_code = 1;
		g_main_loop_quit(c->loop);
	} else {
		log_debug("reconnect failed: %s", err);
		c->reconnect_ms = MIN(c->reconnect_ms * 2, RECONNECT_MAX_MS);
		schedule_reconnect(c);
	}
	g_free(err);
	return G_SOURCE_REMOVE;
}

static void schedule_reconnect(struct client *c)
{
	if (!c->reconnect_timer)
		c->reconnect_timer = g_timeout_add(c->reconnect_ms, on_reconnect, c);
}

/* Ending the client ends the user's session: nuauth is told so (LOGOUT)
 * and ends the user's connections; a link that merely drops keeps them. */
static gboolean on_quit_signal(gpointer data)
{
	struct client *c = data;
	uint8_t buf[NU_MSG_HEADER_LEN];
	size_t len;

	/* A small message on an idle link: the socket takes it at once. */
	if (c->conn && nu_logout_encode(buf, sizeof(buf), &len) == NU_PROTO_OK)
		nu_msgconn_send(c->conn, buf, len);
	g_main_loop_quit(c->loop);
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	struct client c = { .opt = { .port = "4129", .check_name = true } };
	int verbosity = LOG_NOTICE;
	char *err = NULL;
	enum nutcpc_login_result r;
	int opt;

	while ((opt = getopt(argc, argv, "H:p:U:P:A:NdvVh")) != -1) {
		switch (opt) {
		case 'H': c.opt.host = optarg; break;
		case 'p': c.opt.port = optarg; break;
		case 'U': c.opt.user = optarg; break;
		case 'P':
			/* Keep the password out of ps: copy it, blank the argument. */
			g_free(c.opt.password);
			c.opt.password = g_strdup(optarg);
			memset(optarg, 'x', strlen(optarg));
			break;
		case 'A': c.opt.ca = optarg; break;
		case 'N': c.opt.check_name = false; break;
		case 'd': c.opt.foreground = true; break;
		case 'v': if (verbosity < LOG_DEBUG) verbosity++; break;
		case 'V': printf("nutcpc %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !c.opt.host || !c.opt.ca) {
		fprintf(stderr, "nutcpc: %s\n", optind != argc ? "unexpected argument"
			: !c.opt.host ? "give nuauth's address with -H" : "give the CA certificate with -A");
		usage(stderr);
		return 2;
	}
	nu_log_init("nutcpc", false, verbosity);
	signal(SIGPIPE, SIG_IGN);
	if (!c.opt.user) {
		struct passwd *pw = getpwuid(getuid());
		c.opt.user = pw ? pw->pw_name : g_getenv("USER");
		if (!c.opt.user) {
			fprintf(stderr, "nutcpc: cannot tell your user name: give it with -U\n");
			return 2;
		}
	}
	if (!c.opt.password && g_getenv("NUTCPC_PASSWORD"))
		c.opt.password = g_strdup(g_getenv("NUTCPC_PASSWORD"));
	if (!c.opt.password && isatty(STDIN_FILENO))
		c.opt.password = ask_password(c.opt.user, c.opt.host);
	if (!c.opt.password) {
		fprintf(stderr, "nutcpc: no password: give it with -P, NUTCPC_PASSWORD or on a terminal\n");
		return 2;
	}
	c.creds = nu_tls_creds_load(c.opt.ca, NULL, NULL, NULL, &err);
	if (!c.creds) {
		fprintf(stderr, "nutcpc: %s\n", err);
		return 1;
	}
	c.loop = g_main_loop_new(NULL, FALSE);
	c.announced = g_hash_table_new_full(nu_flow_ghash, nu_flow_gequal, NULL, g_free);
	r = connect_and_login(&c, &err);
	if (r != NUTCPC_LOGIN_OK) {
		fprintf(stderr, "nutcpc: %s\n", err);
		return 1;
	}
	printf("nutcpc: logged in to %s as %s\n", c.opt.host, c.opt.user);
	fflush(stdout);
	if (!c.opt.foreground) {
		if (daemon(0, 0) < 0) {
			fprintf(stderr, "nutcpc: cannot run in the background: %s\n", g_strerror(errno));
			return 1;
		}
		nu_log_init("nutcpc", true, verbosity);
	}
	g_timeout_add(SCAN_INTERVAL_MS, on_scan_timer, &c);
	g_unix_signal_add(SIGTERM, on_quit_signal, &c);
	g_unix_signal_add(SIGINT, on_quit_signal, &c);
	g_main_loop_run(c.loop);

	nu_msgconn_free(c.conn);
	g_hash_table_destroy(c.announced);
	gnutls_certificate_free_credentials(c.creds);
	memset(c.opt.password, 0, strlen(c.opt.password));
	g_free(c.opt.password);
	g_main_loop_unref(c.loop);
	return c.exit_code;
}
