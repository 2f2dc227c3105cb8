/* The client: options, one link to nuauth per address family, the loop that
 * answers nuauth's PUSH requests, keep-alives, reconnection, and the notices
 * nuauth sends about refusals.
 *
 * How a connection gets announced: nuauth asks (PUSH with a FLOW) about a
 * packet that waits, and takes a claim only for such a packet.  The flow is
 * queued; once the messages read together are handled (an idle source),
 * each queued flow is looked up in the kernel by its exact tuple (a dump of
 * the user's opening sockets where sock_diag cannot say), and every one is
 * answered, in one ANNOUNCE per link: a CONN for the user's, NOT_MINE for
 * the others, since nuauth waits for every client at the address to answer
 * before it gives a flow to one of them.  Nothing is announced unasked: a
 * claim made before its packet exists does not count.
 *
 * What goes with each flow is what nuauth's NEEDS asked for on that link:
 * nothing (the owning process is not even looked for), the program's path
 * (a walk over /proc/PID/fd), or the path and the SHA-256 of the program's
 * file (apphash.c).  Until a link gets NEEDS it sends the path, as nuauth
 * before NEEDS expects. */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/utsname.h>
#include <glib.h>

#include "apphash.h"
#include "conf.h"
#include "conntable.h"
#include "evloop.h"
#include "log.h"
#include "msgconn.h"
#include "tls.h"

#define RECONNECT_MIN_MS 250
#define RECONNECT_MAX_MS 30000
#define KEEPALIVE_DEFAULT_S 30
#define KEEPALIVE_MISSES 3		/* silent intervals before the link counts as dead */

struct nc_link {
	struct nuclient *nc;
	int family;			/* AF_INET or AF_INET6 */
	char *host;			/* as given: address or name */
	struct nu_msgconn *conn;	/* NULL while down */
	GSource *reconnect_timer;
	unsigned backoff_ms;
	gint64 last_rx;			/* g_get_monotonic_time() of the last message */
	char *why_down;
	uint32_t needs;			/* NU_NEEDS_* from nuauth's last NEEDS */
};

/* A flow nuauth asked about, and the link it asked on (the answer goes
 * there: nuauth waits for that session's answer). */
struct pushed {
	struct nc_link *link;
	struct nu_flow flow;
};

/* An answer to send: a claim (conn) or not_mine (conn.flow only). */
struct answer {
	struct nc_link *link;
	bool not_mine;
	struct nu_announce_conn conn;
};

struct nuclient {
	struct nc_options opt;
	gnutls_certificate_credentials_t creds;
	GPtrArray *links;		/* struct nc_link *, owned */
	GMainLoop *loop;
	enum nuclient_state state;
	int run_result;
	bool stopped;
	bool logged_out;
	nuclient_notice_fn notice_fn;
	void *notice_ctx;
	nuclient_state_fn state_fn;
	void *state_ctx;
	uid_t uid;
	int diag_fd;
	GArray *pushed;			/* struct pushed: asked about, not looked up yet */
	bool push_all;			/* a PUSH without FLOW came */
	GSource *push_idle;
	GSource *keepalive_timer;
	uint32_t keepalive_id;
	char *description;
	struct nc_apphash *apphash;	/* SHA-256 of programs, cached */
};

static void link_down(struct nc_link *l, const char *why);
static void schedule_reconnect(struct nc_link *l);

const char *nuclient_version(void)
{
	return PACKAGE_VERSION;
}

void nuclient_log_init(const char *ident, bool to_syslog, int level)
{
	nu_log_init(ident, to_syslog, level);
}

struct nuclient *nuclient_new(void)
{
	struct nuclient *nc = g_new0(struct nuclient, 1);

	nc->opt.port = g_strdup("4129");
	nc->opt.check_name = true;
	nc->opt.keepalive_s = KEEPALIVE_DEFAULT_S;
	nc->links = g_ptr_array_new();
	nc->uid = getuid();
	nc->diag_fd = -1;
	nc->pushed = g_array_new(FALSE, FALSE, sizeof(struct pushed));
	nc->apphash = nc_apphash_new();
	return nc;
}

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		g_free(s);
	}
}

static void link_free(struct nc_link *l)
{
	nu_source_cancel(&l->reconnect_timer);
	nu_msgconn_free(l->conn);
	g_free(l->host);
	g_free(l->why_down);
	g_free(l);
}

static void send_logout(struct nuclient *nc)
{
	uint8_t buf[NU_MSG_HEADER_LEN];
	size_t len;

	if (nc->logged_out || nu_logout_encode(buf, sizeof(buf), &len) != NU_PROTO_OK)
		return;
	/* A small message on an idle link: the socket takes it at once. */
	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);

		if (l->conn) {
			nu_msgconn_send(l->conn, buf, len);
			nu_msgconn_flush(l->conn);
		}
	}
	nc->logged_out = true;
}

void nuclient_free(struct nuclient *nc)
{
	if (!nc)
		return;
	send_logout(nc);
	nc->stopped = true;
	nu_source_cancel(&nc->push_idle);
	nu_source_cancel(&nc->keepalive_timer);
	for (guint i = 0; i < nc->links->len; i++)
		link_free(g_ptr_array_index(nc->links, i));
	g_ptr_array_free(nc->links, TRUE);
	if (nc->creds)
		gnutls_certificate_free_credentials(nc->creds);
	if (nc->loop)
		g_main_loop_unref(nc->loop);
	if (nc->diag_fd >= 0)
		close(nc->diag_fd);
	g_array_free(nc->pushed, TRUE);
	nc_apphash_free(nc->apphash);
	g_free(nc->opt.server);
	g_free(nc->opt.port);
	g_free(nc->opt.user);
	wipe_free(nc->opt.password);
	g_free(nc->opt.ca);
	g_free(nc->opt.cert);
	g_free(nc->opt.key);
	g_free(nc->opt.crl);
	g_free(nc->opt.mechanisms);
	g_free(nc->description);
	g_free(nc);
}

/* ---- options ---- */

static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !g_ascii_isdigit(*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void replace(char **field, const char *value)
{
	g_free(*field);
	*field = value && *value ? g_strdup(value) : NULL;
}

int nuclient_set(struct nuclient *nc, enum nuclient_option option, const char *value)
{
	unsigned long v;

	switch (option) {
	case NUCLIENT_OPT_SERVER:
		replace(&nc->opt.server, value);
		return 0;
	case NUCLIENT_OPT_PORT:
		if (value && !parse_uint(value, 1, 65535, &v))
			break;
		g_free(nc->opt.port);
		nc->opt.port = g_strdup(value ? value : "4129");
		return 0;
	case NUCLIENT_OPT_USER:
		replace(&nc->opt.user, value);
		return 0;
	case NUCLIENT_OPT_PASSWORD:
		wipe_free(nc->opt.password);
		nc->opt.password = value ? g_strdup(value) : NULL;
		return 0;
	case NUCLIENT_OPT_CA:
		replace(&nc->opt.ca, value);
		return 0;
	case NUCLIENT_OPT_CERT:
		replace(&nc->opt.cert, value);
		return 0;
	case NUCLIENT_OPT_KEY:
		replace(&nc->opt.key, value);
		return 0;
	case NUCLIENT_OPT_CRL:
		replace(&nc->opt.crl, value);
		return 0;
	case NUCLIENT_OPT_CHECK_NAME:
		if (value && !parse_uint(value, 0, 1, &v))
			break;
		nc->opt.check_name = !value || v == 1;
		return 0;
	case NUCLIENT_OPT_MECHANISMS:
		replace(&nc->opt.mechanisms, value);
		return 0;
	case NUCLIENT_OPT_KEEPALIVE:
		if (value && !parse_uint(value, 1, 3600, &v))
			break;
		nc->opt.keepalive_s = value ? (unsigned)v : KEEPALIVE_DEFAULT_S;
		return 0;
	case NUCLIENT_OPT_UDP_UNCONNECTED:
		if (value && !parse_uint(value, 0, 1, &v))
			break;
		nc->opt.udp_unconnected = value && v == 1;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

/* A yes/no key (also 1/0): *out 1 or 0, -1 when absent.  False with *error
 * ("file:line: key: ...") for any other value. */
static bool conf_get_yes_no(struct nu_conf *conf, const char *key, int *out, GError **error)
{
	const char *v = nu_conf_get_str(conf, key, NULL);

	*out = -1;
	if (!v)
		return true;
	if (g_ascii_strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (g_ascii_strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: %s: `%s' is not yes or no", nu_conf_where(conf, key), key, v);
	return *out >= 0;
}

int nuclient_load_config(struct nuclient *nc, const char *path, char **err)
{
	static const struct {
		const char *key;
		enum nuclient_option option;
	} keys[] = {
		{ "nuauth_ip", NUCLIENT_OPT_SERVER },
		{ "nuauth_tls_ca", NUCLIENT_OPT_CA },
		{ "nuauth_tls_cert", NUCLIENT_OPT_CERT },
		{ "nuauth_tls_key", NUCLIENT_OPT_KEY },
		{ "nuauth_tls_crl", NUCLIENT_OPT_CRL },
		{ "nuauth_sasl_mechanisms", NUCLIENT_OPT_MECHANISMS },
	};
	GError *error = NULL;
	struct nu_conf *conf;
	long port, suppress;
	int udp_unconnected;
	char num[16];

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 1;
	conf = nu_conf_load(path, &error);
	if (!conf)
		goto fail;
	if (!nu_conf_get_int(conf, "nuauth_port", 0, 1, 65535, &port, &error) ||
	    !nu_conf_get_int(conf, "nuauth_suppress_fqdn_verif", -1, 0, 1, &suppress, &error) ||
	    !conf_get_yes_no(conf, "udp_unconnected", &udp_unconnected, &error))
		goto fail;
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *v = nu_conf_get_str(conf, keys[i].key, NULL);

		if (v)
			nuclient_set(nc, keys[i].option, v);
	}
	if (port) {
		g_snprintf(num, sizeof(num), "%ld", port);
		nuclient_set(nc, NUCLIENT_OPT_PORT, num);
	}
	if (suppress >= 0)
		nc->opt.check_name = suppress == 0;
	if (udp_unconnected >= 0)
		nc->opt.udp_unconnected = udp_unconnected == 1;
	nu_conf_warn_unused(conf);
	nu_conf_free(conf);
	return 0;
fail:
	if (err)
		*err = strdup(error->message);
	g_error_free(error);
	nu_conf_free(conf);
	return -1;
}

void nuclient_on_notice(struct nuclient *nc, nuclient_notice_fn fn, void *ctx)
{
	nc->notice_fn = fn;
	nc->notice_ctx = ctx;
}

void nuclient_on_state(struct nuclient *nc, nuclient_state_fn fn, void *ctx)
{
	nc->state_fn = fn;
	nc->state_ctx = ctx;
}

/* ---- state ---- */

const char *nuclient_state_name(enum nuclient_state state)
{
	switch (state) {
	case NUCLIENT_STATE_LOGGED_OUT: return "logged out";
	case NUCLIENT_STATE_LOGGED_IN: return "logged in";
	case NUCLIENT_STATE_RECONNECTING: return "reconnecting";
	case NUCLIENT_STATE_REFUSED: return "login refused";
	}
	return "unknown";
}

enum nuclient_state nuclient_get_state(const struct nuclient *nc)
{
	return nc->state;
}

static const char *family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

const char *nuclient_describe(struct nuclient *nc)
{
	GString *s = g_string_new(nuclient_state_name(nc->state));

	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);

		g_string_append_printf(s, "%s %s (%s) %s", i ? "," : ":", l->host,
				       family_name(l->family), l->conn ? "up" : "down");
		if (!l->conn && l->why_down)
			g_string_append_printf(s, " [%s]", l->why_down);
	}
	if (nc->opt.user)
		g_string_append_printf(s, "; user %s", nc->opt.user);
	g_free(nc->description);
	nc->description = g_string_free(s, FALSE);
	return nc->description;
}

static void set_state(struct nuclient *nc, enum nuclient_state state, const char *detail)
{
	if (nc->state == state)
		return;
	nc->state = state;
	if (nc->state_fn)
		nc->state_fn(state, detail ? detail : "", nc->state_ctx);
}

static void update_state(struct nuclient *nc, const char *detail)
{
	bool all_up = nc->links->len > 0;

	if (nc->stopped || nc->state == NUCLIENT_STATE_REFUSED)
		return;
	for (guint i = 0; i < nc->links->len; i++)
		if (!((struct nc_link *)g_ptr_array_index(nc->links, i))->conn)
			all_up = false;
	set_state(nc, all_up ? NUCLIENT_STATE_LOGGED_IN : NUCLIENT_STATE_RECONNECTING, detail);
}

/* ---- announcements ---- */

/* The link that announces flows of family: its own family's when up (nuauth
 * checks the flow's source against the link's address), else any. */
static struct nc_link *link_for(struct nuclient *nc, int family)
{
	struct nc_link *any = NULL;

	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);

		if (!l->conn)
			continue;
		if (l->family == family)
			return l;
		if (!any)
			any = l;
	}
	return any;
}

/* Sends answers (struct answer), as few ANNOUNCE messages as fit, each on
 * its link. */
static void send_answers(struct nuclient *nc, GArray *answers)
{
	static uint8_t buf[NU_MSG_MAX_LEN];
	struct nu_msg_writer w;
	size_t len;

	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);
		unsigned claims = 0, others = 0;

		if (!l->conn)
			continue;
		nu_announce_begin(&w, buf, sizeof(buf));
		for (guint j = 0; j < answers->len; j++) {
			struct answer *a = &g_array_index(answers, struct answer, j);
			bool fit;

			if (a->link != l)
				continue;
			fit = a->not_mine ? nu_announce_add_not_mine(&w, &a->conn.flow)
					  : nu_announce_add(&w, &a->conn);
			if (!fit) {
				if (nu_msg_finish(&w, &len) == NU_PROTO_OK)
					nu_msgconn_send(l->conn, buf, len);
				nu_announce_begin(&w, buf, sizeof(buf));
				if (a->not_mine)
					nu_announce_add_not_mine(&w, &a->conn.flow);
				else
					nu_announce_add(&w, &a->conn);
			}
			if (a->not_mine)
				others++;
			else
				claims++;
		}
		if (claims + others && l->conn && nu_msg_finish(&w, &len) == NU_PROTO_OK)
			nu_msgconn_send(l->conn, buf, len);
		if (claims + others)
			log_debug("answered over %s: %u connection(s) claimed, %u not ours",
				  family_name(l->family), claims, others);
	}
}

/* Appends the claim of lc, with what nuauth's NEEDS asks for on link l. */
static void add_claim(struct nuclient *nc, GArray *answers, struct nc_link *l,
		      const struct nu_local_conn *lc)
{
	struct answer a;
	uint32_t needs = l ? l->needs : NU_NEEDS_APP;
	pid_t pid;

	memset(&a, 0, sizeof(a));
	a.link = l;
	a.conn.flow = lc->flow;
	/* The walk over /proc is most of a connection's cost here: only
	 * when nuauth needs the program. */
	if (lc->inode && (needs & (NU_NEEDS_APP | NU_NEEDS_APP_SHA256)) &&
	    nu_conntable_find_process(nc->uid, lc->inode, &pid, a.conn.app, sizeof(a.conn.app)) &&
	    (needs & NU_NEEDS_APP_SHA256))
		a.conn.has_app_sha256 = nc_apphash_get(nc->apphash, pid, a.conn.app,
						       a.conn.app_sha256);
	g_array_append_val(answers, a);
}

static void add_not_mine(GArray *answers, struct nc_link *l, const struct nu_flow *flow)
{
	struct answer a;

	memset(&a, 0, sizeof(a));
	a.link = l;
	a.not_mine = true;
	a.conn.flow = *flow;
	g_array_append_val(answers, a);
}

/* The user's opening sockets (TCP SYN_SENT, connected UDP), by flow; NULL
 * when no table can be read. */
static GHashTable *scan_opening(struct nuclient *nc, GArray **conns)
{
	GHashTable *by_flow;

	*conns = g_array_new(FALSE, FALSE, sizeof(struct nu_local_conn));
	if (nu_conntable_scan(nc->uid, *conns) < 0) {
		log_debug("cannot read the connection tables: %s", g_strerror(errno));
		g_array_free(*conns, TRUE);
		*conns = NULL;
		return NULL;
	}
	by_flow = g_hash_table_new(nu_flow_ghash, nu_flow_gequal);
	for (guint i = 0; i < (*conns)->len; i++) {
		struct nu_local_conn *lc = &g_array_index(*conns, struct nu_local_conn, i);

		g_hash_table_insert(by_flow, &lc->flow, lc);
	}
	return by_flow;
}

/* Answers the PUSH requests read so far, each one, in one batch per link. */
static gboolean on_push_idle(gpointer data)
{
	struct nuclient *nc = data;
	GArray *answers = g_array_new(FALSE, FALSE, sizeof(struct answer));
	GArray *unresolved = g_array_new(FALSE, FALSE, sizeof(struct pushed));
	GArray *conns = NULL;
	GHashTable *by_flow = NULL;

	g_clear_pointer(&nc->push_idle, g_source_unref);
	if (nc->diag_fd < 0)
		nc->diag_fd = nu_conntable_open();
	for (guint i = 0; i < nc->pushed->len; i++) {
		struct pushed *p = &g_array_index(nc->pushed, struct pushed, i);
		struct nu_local_conn lc;
		int r;

		if (!p->link->conn)
			continue;	/* that session is gone: nobody waits for it */
		if (p->flow.proto != IPPROTO_TCP && p->flow.proto != IPPROTO_UDP) {
			add_not_mine(answers, p->link, &p->flow);	/* no socket (ICMP) */
			continue;
		}
		r = nu_conntable_lookup(nc->diag_fd, &p->flow, nc->uid,
					nc->opt.udp_unconnected ? NU_CONNTABLE_UDP_UNCONNECTED : 0,
					&lc);
		if (r > 0)
			add_claim(nc, answers, p->link, &lc);
		else if (r == 0)
			add_not_mine(answers, p->link, &p->flow);
		else
			g_array_append_val(unresolved, *p);	/* sock_diag cannot say */
	}
	if (unresolved->len || nc->push_all)
		by_flow = scan_opening(nc, &conns);
	/* Where no table can be read, nothing is answered: nuauth's timeout
	 * decides, rather than a "not mine" that may be false. */
	for (guint i = 0; by_flow && i < unresolved->len; i++) {
		struct pushed *p = &g_array_index(unresolved, struct pushed, i);
		struct nu_local_conn *lc = g_hash_table_lookup(by_flow, &p->flow);

		if (lc)
			add_claim(nc, answers, p->link, lc);
		else
			add_not_mine(answers, p->link, &p->flow);
	}
	/* A PUSH without FLOW (none of ours sends it): every opening socket. */
	for (guint i = 0; by_flow && nc->push_all && i < conns->len; i++) {
		struct nu_local_conn *lc = &g_array_index(conns, struct nu_local_conn, i);
		struct nc_link *l = link_for(nc, lc->flow.family);

		if (l)
			add_claim(nc, answers, l, lc);
	}
	send_answers(nc, answers);
	g_array_set_size(nc->pushed, 0);
	nc->push_all = false;
	if (by_flow)
		g_hash_table_destroy(by_flow);
	if (conns)
		g_array_free(conns, TRUE);
	g_array_free(unresolved, TRUE);
	g_array_free(answers, TRUE);
	return G_SOURCE_REMOVE;
}

/* ---- notices ---- */

static void handle_notice(struct nuclient *nc, const struct nu_notice *m)
{
	struct nuclient_notice n;
	char dst[INET6_ADDRSTRLEN + 2];
	char *line;
	const char *proto = m->flow.proto == IPPROTO_TCP ? "tcp"
		: m->flow.proto == IPPROTO_UDP ? "udp"
		: m->flow.proto == IPPROTO_ICMP ? "icmp"
		: m->flow.proto == IPPROTO_ICMPV6 ? "icmpv6" : "ip";

	nu_addr_format(&m->flow.daddr, dst, sizeof(dst));
	n.program = m->app;
	n.protocol = proto;
	n.destination = dst;
	n.port = m->flow.dport;
	n.verdict = m->verdict == NU_VERDICT_REJECT ? "rejected" : "dropped";
	n.reason = m->text;
	if (n.port)
		line = g_strdup_printf("%s to %s port %u (%s) %s by nuauth: %s",
				       *m->app ? m->app : "a program", dst, n.port, proto,
				       n.verdict, *m->text ? m->text : "no reason given");
	else
		line = g_strdup_printf("%s to %s (%s) %s by nuauth: %s",
				       *m->app ? m->app : "a program", dst, proto,
				       n.verdict, *m->text ? m->text : "no reason given");
	n.line = line;
	if (nc->notice_fn)
		nc->notice_fn(&n, nc->notice_ctx);
	else
		log_notice("%s", line);
	g_free(line);
}

/* ---- links ---- */

static void on_message(struct nu_msgconn *conn, const struct nu_msg_header *hdr,
		       const uint8_t *msg, size_t len, void *ctx)
{
	struct nc_link *l = ctx;
	struct nuclient *nc = l->nc;

	l->last_rx = g_get_monotonic_time();
	switch (hdr->type) {
	case NU_MSG_PUSH: {
		struct nu_flow flow;
		bool has_flow = false;

		if (nu_push_decode(msg, len, &has_flow, &flow) != NU_PROTO_OK) {
			nu_msgconn_close(conn, "malformed PUSH from nuauth");
			return;
		}
		if (has_flow) {
			struct pushed p = { .link = l, .flow = flow };

			g_array_append_val(nc->pushed, p);
		} else {
			nc->push_all = true;
		}
		/* Coalesce: the PUSHes read together are answered together. */
		if (!nc->push_idle)
			nc->push_idle = nu_idle(on_push_idle, nc);
		return;
	}
	case NU_MSG_NOTICE: {
		struct nu_notice n;

		if (nu_notice_decode(msg, len, &n) != NU_PROTO_OK) {
			nu_msgconn_close(conn, "malformed NOTICE from nuauth");
			return;
		}
		handle_notice(nc, &n);
		return;
	}
	case NU_MSG_NEEDS: {
		uint32_t needs;

		if (nu_needs_decode(msg, len, &needs) != NU_PROTO_OK) {
			nu_msgconn_close(conn, "malformed NEEDS from nuauth");
			return;
		}
		if (needs & NU_NEEDS_APP_SHA256)
			needs |= NU_NEEDS_APP;
		needs &= NU_NEEDS_APP | NU_NEEDS_APP_SHA256;
		if (needs != l->needs)
			log_info("nuauth at %s (%s) needs with each connection: %s", l->host,
				 family_name(l->family),
				 needs & NU_NEEDS_APP_SHA256 ? "the program and its SHA-256"
				 : needs & NU_NEEDS_APP ? "the program" : "nothing but the flow");
		l->needs = needs;
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

static void on_close(struct nu_msgconn *conn, const char *why, void *ctx)
{
	struct nc_link *l = ctx;

	nu_msgconn_free(conn);
	l->conn = NULL;
	link_down(l, why);
}

static const struct nu_msgconn_ops link_ops = {
	.on_message = on_message,
	.on_close = on_close,
};

static void send_client_info(struct nc_link *l)
{
	struct nu_client_info info;
	struct utsname u;
	uint8_t buf[1024];
	size_t len;

	memset(&info, 0, sizeof(info));
	if (uname(&u) == 0) {
		g_strlcpy(info.sysname, u.sysname, sizeof(info.sysname));
		g_strlcpy(info.release, u.release, sizeof(info.release));
		g_strlcpy(info.version, u.version, sizeof(info.version));
	} else {
		g_strlcpy(info.sysname, "Linux", sizeof(info.sysname));
	}
	if (nu_client_info_encode(buf, sizeof(buf), &info, &len) == NU_PROTO_OK)
		nu_msgconn_send(l->conn, buf, len);
}

static enum nuclient_status link_up(struct nc_link *l, char **err)
{
	struct nuclient *nc = l->nc;
	struct nc_tls_link tl;
	enum nuclient_status r = nc_login(&nc->opt, l->host, l->family, nc->creds, &tl, err);

	if (r != NUCLIENT_OK)
		return r;
	l->conn = nu_msgconn_new(tl.fd, tl.tls, true, &link_ops, l);
	l->last_rx = g_get_monotonic_time();
	l->needs = NU_NEEDS_APP;	/* what a nuauth that sends no NEEDS expects */
	l->backoff_ms = RECONNECT_MIN_MS;
	g_clear_pointer(&l->why_down, g_free);
	send_client_info(l);
	return r;
}

static void link_down(struct nc_link *l, const char *why)
{
	struct nuclient *nc = l->nc;

	g_free(l->why_down);
	l->why_down = g_strdup(why);
	if (nc->stopped)
		return;
	log_warnx("disconnected from nuauth at %s (%s): %s", l->host, family_name(l->family), why);
	l->backoff_ms = RECONNECT_MIN_MS;
	schedule_reconnect(l);
	update_state(nc, why);
}

static gboolean on_reconnect(gpointer data)
{
	struct nc_link *l = data;
	struct nuclient *nc = l->nc;
	char *err = NULL;
	enum nuclient_status r;

	g_clear_pointer(&l->reconnect_timer, g_source_unref);
	r = link_up(l, &err);
	if (r == NUCLIENT_OK) {
		log_notice("logged in again to %s (%s) as %s", l->host, family_name(l->family),
			   nc->opt.user);
		update_state(nc, "logged in again");
	} else if (r == NUCLIENT_REFUSED) {
		log_err("%s", err);
		nc->run_result = 1;
		set_state(nc, NUCLIENT_STATE_REFUSED, err);
		if (nc->loop)
			g_main_loop_quit(nc->loop);
	} else {
		log_debug("reconnecting to %s failed: %s", l->host, err);
		g_free(l->why_down);
		l->why_down = g_strdup(err);
		l->backoff_ms = MIN(l->backoff_ms * 2, RECONNECT_MAX_MS);
		schedule_reconnect(l);
	}
	g_free(err);
	return G_SOURCE_REMOVE;
}

static void schedule_reconnect(struct nc_link *l)
{
	if (!l->reconnect_timer)
		l->reconnect_timer = nu_timeout(l->backoff_ms, on_reconnect, l);
}

static gboolean on_keepalive(gpointer data)
{
	struct nuclient *nc = data;
	gint64 now = g_get_monotonic_time();
	gint64 limit = (gint64)nc->opt.keepalive_s * KEEPALIVE_MISSES * G_USEC_PER_SEC;
	uint8_t buf[NU_MSG_HEADER_LEN];
	size_t len;

	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);

		if (!l->conn)
			continue;
		if (now - l->last_rx > limit) {
			nu_msgconn_closef(l->conn, "nuauth silent for %u s",
					  nc->opt.keepalive_s * KEEPALIVE_MISSES);
			continue;
		}
		if (nu_keepalive_encode(buf, sizeof(buf), ++nc->keepalive_id, &len) == NU_PROTO_OK)
			nu_msgconn_send(l->conn, buf, len);
	}
	return G_SOURCE_CONTINUE;
}

/* One link per address family: the first address (or name) of the server
 * option that gives that family. */
static bool make_links(struct nuclient *nc, char **err)
{
	gchar **hosts = g_strsplit_set(nc->opt.server, ", ", -1);
	bool have[2] = { false, false };

	for (gchar **h = hosts; *h; h++) {
		struct in6_addr a;
		uint8_t fam;
		int fams[2];
		int nfams = 0;

		if (!**h)
			continue;
		if (nu_addr_parse(*h, &a, &fam)) {
			fams[nfams++] = fam;
		} else {
			struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
			struct addrinfo *res = NULL;

			if (getaddrinfo(*h, NULL, &hints, &res) != 0)
				continue;	/* tried again, and reported, at login */
			for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
				if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
				    (nfams == 0 || fams[0] != ai->ai_family) && nfams < 2)
					fams[nfams++] = ai->ai_family;
			freeaddrinfo(res);
			if (nfams == 0) {
				/* let the login say why */
				fams[nfams++] = AF_INET;
			}
		}
		for (int i = 0; i < nfams; i++) {
			int slot = fams[i] == AF_INET6;
			struct nc_link *l;

			if (have[slot])
				continue;
			have[slot] = true;
			l = g_new0(struct nc_link, 1);
			l->nc = nc;
			l->family = fams[i];
			l->host = g_strdup(*h);
			l->backoff_ms = RECONNECT_MIN_MS;
			g_ptr_array_add(nc->links, l);
		}
	}
	g_strfreev(hosts);
	if (nc->links->len == 0) {
		*err = g_strdup_printf("no usable nuauth address in `%s'", nc->opt.server);
		return false;
	}
	return true;
}

enum nuclient_status nuclient_login(struct nuclient *nc, char **err)
{
	enum nuclient_status result = NUCLIENT_UNREACHABLE;
	char *first_err = NULL, *tls_err = NULL;
	guint up = 0;

	if (err)
		*err = NULL;
	if (!nc->opt.server || !nc->opt.ca) {
		first_err = g_strdup(!nc->opt.server ? "no nuauth address given"
				     : "no CA certificate given");
		result = NUCLIENT_BAD_CONFIG;
		goto out;
	}
	if (!nc->opt.user) {
		struct passwd *pw = getpwuid(getuid());
		const char *name = pw ? pw->pw_name : g_getenv("USER");

		if (!name) {
			first_err = g_strdup("cannot tell the user name: set it");
			result = NUCLIENT_BAD_CONFIG;
			goto out;
		}
		nc->opt.user = g_strdup(name);
	}
	if (nc->opt.udp_unconnected)
		log_warnx("udp_unconnected is on: an unconnected UDP socket of yours claims "
			  "every flow from its port, also datagrams others forge from it");
	if (!nc->creds) {
		nc->creds = nu_tls_creds_load(nc->opt.ca, nc->opt.cert, nc->opt.key, nc->opt.crl,
					      &tls_err);
		if (!nc->creds) {
			first_err = tls_err;
			result = NUCLIENT_BAD_CONFIG;
			goto out;
		}
	}
	if (nc->links->len == 0 && !make_links(nc, &first_err)) {
		result = NUCLIENT_BAD_CONFIG;
		goto out;
	}
	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);
		char *e = NULL;
		enum nuclient_status r;

		if (l->conn)
			continue;
		r = link_up(l, &e);
		if (r == NUCLIENT_OK) {
			up++;
			continue;
		}
		if (r == NUCLIENT_REFUSED)
			result = NUCLIENT_REFUSED;
		l->why_down = g_strdup(e);
		if (!first_err || r == NUCLIENT_REFUSED) {
			g_free(first_err);
			first_err = e;
		} else {
			g_free(e);
		}
	}
	if (result == NUCLIENT_REFUSED) {
		for (guint i = 0; i < nc->links->len; i++) {
			struct nc_link *l = g_ptr_array_index(nc->links, i);

			g_clear_pointer(&l->conn, nu_msgconn_free);
		}
		goto out;
	}
	if (up == 0)
		goto out;
	/* The links that failed are retried by the loop. */
	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);

		if (!l->conn) {
			log_warnx("nuauth at %s (%s) unreachable for now: %s", l->host,
				  family_name(l->family), l->why_down ? l->why_down : "");
			schedule_reconnect(l);
		}
	}
	result = NUCLIENT_OK;
	nc->stopped = false;
	nc->logged_out = false;
	update_state(nc, "logged in");
	g_free(first_err);
	first_err = NULL;
out:
	if (first_err) {
		if (err)
			*err = strdup(first_err);
		g_free(first_err);
	}
	return result;
}

int nuclient_run(struct nuclient *nc)
{
	if (!nc->loop)
		nc->loop = g_main_loop_new(g_main_context_get_thread_default(), FALSE);
	nc->run_result = 0;
	if (!nc->keepalive_timer)
		nc->keepalive_timer = nu_timeout(nc->opt.keepalive_s * 1000u, on_keepalive, nc);
	if (nc->state != NUCLIENT_STATE_REFUSED)
		g_main_loop_run(nc->loop);
	return nc->run_result;
}

void nuclient_stop(struct nuclient *nc, bool logout)
{
	if (logout)
		send_logout(nc);
	nc->stopped = true;
	set_state(nc, NUCLIENT_STATE_LOGGED_OUT, logout ? "logged out" : "stopped");
	if (nc->loop)
		g_main_loop_quit(nc->loop);
}

void nuclient_reconnect(struct nuclient *nc)
{
	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);

		if (l->conn)
			nu_msgconn_close(l->conn, "reconnecting now, as asked");
		/* Now, and with the back-off starting afresh. */
		nu_source_cancel(&l->reconnect_timer);
		l->backoff_ms = RECONNECT_MIN_MS;
		l->reconnect_timer = nu_timeout(0, on_reconnect, l);
	}
}
