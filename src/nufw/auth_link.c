/* The link from nufw to nuauth. */
#include "config.h"
#include "auth_link.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib.h>
#include <glib-unix.h>

#include "evloop.h"
#include "error.h"
#include "log.h"
#include "msgconn.h"
#include "tls.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000
/* How long a connect and handshake may take before we try again. */
#define CONNECT_TIMEOUT_S 10

enum link_state { LINK_IDLE, LINK_CONNECTING, LINK_HELLO, LINK_UP };

struct nufw_link {
	char *host;
	char *port;
	gnutls_certificate_credentials_t creds;
	bool check_name;
	const struct nufw_link_ops *ops;
	void *ctx;
	enum link_state state;
	struct nu_msgconn *conn;
	GSource *retry_timer;
	GSource *connect_timer;
	unsigned backoff_ms;
	char *last_error;	/* to log each distinct failure once */
	struct nufw_addrs *addrs;	/* NULL until main.c resolved the name */
	unsigned node;			/* this link's node in addrs */
	/* A name may resolve to several addresses (localhost: ::1 and
	 * 127.0.0.1) of which one may not answer: each is tried in turn
	 * before the back-off, and the failures of the round are logged
	 * together. */
	const struct addrinfo *trying;	/* the address of the attempt */
	GString *round_errors;
};

/* One list of addresses per node of -d (doc/cluster.md). */
struct nufw_addrs {
	unsigned n;
	struct addrinfo *ai[NUFW_NODES_MAX];
};

char **nufw_nodes_split(const char *list, GError **error)
{
	char **nodes = g_strsplit(list, ",", -1);
	unsigned n = 0;

	for (char **p = nodes; *p; p++) {
		g_strstrip(*p);
		if (!**p || ++n > NUFW_NODES_MAX) {
			g_set_error(error, NU_ERROR, NU_ERROR_RESOLVE,
				    !**p ? "-d %s: an empty node name" :
				    "-d %s: more than " G_STRINGIFY(NUFW_NODES_MAX) " nodes",
				    list);
			g_strfreev(nodes);
			return NULL;
		}
	}
	if (n == 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_RESOLVE, "-d: no node given");
		g_strfreev(nodes);
		return NULL;
	}
	return nodes;
}

static void addrs_clear(gpointer data);

struct nufw_addrs *nufw_addrs_resolve(const char *host, const char *port, GError **error)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct nufw_addrs *a;
	char **nodes = nufw_nodes_split(host, error);

	if (!nodes)
		return NULL;
	a = g_atomic_rc_box_new0(struct nufw_addrs);
	for (char **p = nodes; *p; p++) {
		int ret = getaddrinfo(*p, port, &hints, &a->ai[a->n]);

		if (ret != 0) {
			g_set_error(error, NU_ERROR, NU_ERROR_RESOLVE,
				    "cannot resolve nuauth's name %s: %s", *p,
				    gai_strerror(ret));
			g_strfreev(nodes);
			g_atomic_rc_box_release_full(a, addrs_clear);
			return NULL;
		}
		a->n++;
	}
	g_strfreev(nodes);
	return a;
}

struct nufw_addrs *nufw_addrs_ref(struct nufw_addrs *a)
{
	return a ? g_atomic_rc_box_acquire(a) : NULL;
}

static void addrs_clear(gpointer data)
{
	struct nufw_addrs *a = data;

	for (unsigned i = 0; i < a->n; i++)
		freeaddrinfo(a->ai[i]);
}

void nufw_addrs_unref(struct nufw_addrs *a)
{
	if (a)
		g_atomic_rc_box_release_full(a, addrs_clear);
}

static void start_connect(struct nufw_link *l, const struct addrinfo *from);
static void schedule_retry(struct nufw_link *l);

static void report_failure(struct nufw_link *l, const char *why)
{
	if (g_strcmp0(l->last_error, why) != 0) {
		log_warnx("cannot reach nuauth at %s port %s: %s (retrying)", l->host, l->port, why);
		g_free(l->last_error);
		l->last_error = g_strdup(why);
	}
}

/* Notes why the attempt on l->trying failed, naming the address when the
 * name has several. */
static void note_failure(struct nufw_link *l, const struct addrinfo *ai, const char *why)
{
	char host[NI_MAXHOST];

	if (l->round_errors->len)
		g_string_append(l->round_errors, "; ");
	if (ai && (ai != l->addrs->ai[l->node] || ai->ai_next) &&
	    getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0,
			NI_NUMERICHOST) == 0)
		g_string_append_printf(l->round_errors, "%s: ", host);
	g_string_append(l->round_errors, why);
}

/* The attempt failed: the next address now, or, after the last, the
 * round's failures logged and a retry after the back-off. */
static void attempt_failed(struct nufw_link *l, const struct addrinfo *ai, const char *why)
{
	note_failure(l, ai, why);
	if (ai && ai->ai_next) {
		start_connect(l, ai->ai_next);
		return;
	}
	report_failure(l, l->round_errors->str);
	g_string_truncate(l->round_errors, 0);
	schedule_retry(l);
}

static gboolean on_retry(gpointer data)
{
	struct nufw_link *l = data;

	g_clear_pointer(&l->retry_timer, g_source_unref);
	start_connect(l, NULL);
	return G_SOURCE_REMOVE;
}

static void schedule_retry(struct nufw_link *l)
{
	l->state = LINK_IDLE;
	nu_source_cancel(&l->connect_timer);
	if (!l->retry_timer)
		l->retry_timer = nu_timeout(l->backoff_ms, on_retry, l);
	l->backoff_ms = MIN(l->backoff_ms * 2, BACKOFF_MAX_MS);
}

static void on_ready(struct nu_msgconn *c, void *ctx)
{
	struct nufw_link *l = ctx;
	struct nu_hello h = { .version_min = NU_PROTO_VERSION, .version_max = NU_PROTO_VERSION,
			      .role = NU_ROLE_GATEWAY };
	uint8_t buf[256];
	size_t len;

	g_strlcpy(h.software, PACKAGE_STRING, sizeof(h.software));
	l->state = LINK_HELLO;
	if (nu_hello_encode(buf, sizeof(buf), &h, &len) == NU_PROTO_OK)
		nu_msgconn_send(c, buf, len);
}

static void on_message(struct nu_msgconn *c, const struct nu_msg_header *hdr,
		       const uint8_t *msg, size_t len, void *ctx)
{
	struct nufw_link *l = ctx;
	enum nu_proto_status st = NU_PROTO_OK;

	switch (hdr->type) {
	case NU_MSG_HELLO: {
		struct nu_hello h;
		st = nu_hello_decode(msg, len, &h);
		if (st != NU_PROTO_OK)
			break;
		if (l->state != LINK_HELLO || h.version_min > NU_PROTO_VERSION ||
		    h.version_max < NU_PROTO_VERSION) {
			nu_msgconn_close(c, "nuauth speaks no protocol version we know");
			return;
		}
		l->state = LINK_UP;
		l->backoff_ms = BACKOFF_MIN_MS;
		g_string_truncate(l->round_errors, 0);
		nu_source_cancel(&l->connect_timer);
		g_clear_pointer(&l->last_error, g_free);
		log_notice("connected to nuauth at %s port %s", l->host, l->port);
		l->ops->on_up(l->ctx);
		return;
	}
	case NU_MSG_DECISION: {
		struct nu_decision d;
		st = nu_decision_decode(msg, len, &d);
		if (st == NU_PROTO_OK && l->state == LINK_UP)
			l->ops->on_decision(&d, l->ctx);
		break;
	}
	case NU_MSG_CONN_DESTROY: {
		struct nu_flow flow;
		st = nu_conn_destroy_decode(msg, len, &flow);
		if (st == NU_PROTO_OK && l->state == LINK_UP)
			l->ops->on_destroy(&flow, l->ctx);
		break;
	}
	case NU_MSG_CONN_EXPIRES: {
		struct nu_conn_expires m;
		st = nu_conn_expires_decode(msg, len, &m);
		if (st == NU_PROTO_OK && l->state == LINK_UP)
			l->ops->on_expires(&m, l->ctx);
		break;
	}
	case NU_MSG_SESSION_END: {
		uint64_t session;
		st = nu_session_end_decode(msg, len, &session);
		if (st == NU_PROTO_OK && l->state == LINK_UP)
			l->ops->on_session_end(session, l->ctx);
		break;
	}
	case NU_MSG_KEEPALIVE:
		return;
	case NU_MSG_ERROR:
		nu_msgconn_close_peer_error(c, msg, len);
		return;
	default:
		log_debug("ignoring %s message from nuauth", nu_msg_type_name(hdr->type));
		return;
	}
	if (st != NU_PROTO_OK)
		nu_msgconn_closef(c, "malformed %s message from nuauth: %s",
				  nu_msg_type_name(hdr->type), nu_proto_strerror(st));
}

static void on_close(struct nu_msgconn *c, const char *why, void *ctx)
{
	struct nufw_link *l = ctx;
	bool was_up = l->state == LINK_UP;

	nu_msgconn_free(c);
	l->conn = NULL;
	nu_source_cancel(&l->connect_timer);
	if (was_up) {
		log_warnx("lost the link to nuauth: %s", why);
		g_free(l->last_error);
		l->last_error = g_strdup(why);
		l->ops->on_down(l->ctx);
		schedule_retry(l);
		return;
	}
	attempt_failed(l, l->trying, why);
}

static const struct nu_msgconn_ops link_ops = {
	.on_ready = on_ready,
	.on_message = on_message,
	.on_close = on_close,
};

static gboolean on_connect_timeout(gpointer data)
{
	struct nufw_link *l = data;

	g_clear_pointer(&l->connect_timer, g_source_unref);
	if (l->conn)
		nu_msgconn_close(l->conn, "no answer");	/* schedules the retry */
	return G_SOURCE_REMOVE;
}

/* A non-blocking connect to ai (NULL: the first address); the TLS
 * handshake (run by msgconn) waits for the connect to finish.  A refused
 * connect or handshake goes on with the next address (on_close). */
static void start_connect(struct nufw_link *l, const struct addrinfo *ai)
{
	gnutls_session_t tls;
	int fd;

	if (!l->addrs || l->node >= l->addrs->n) {
		/* main.c retries the name (and logs it) and hands the
		 * addresses over. */
		l->state = LINK_IDLE;
		return;
	}
	if (!ai)
		ai = l->addrs->ai[l->node];
	l->trying = ai;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0) {
		attempt_failed(l, ai, g_strerror(errno));
		return;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		int err = errno;

		close(fd);
		attempt_failed(l, ai, g_strerror(err));
		return;
	}
	tls = nu_tls_client_session(l->creds, fd, l->host, l->check_name);
	if (!tls) {
		close(fd);
		attempt_failed(l, ai, "cannot start TLS");
		return;
	}
	l->state = LINK_CONNECTING;
	l->conn = nu_msgconn_new(fd, tls, false, &link_ops, l);
	l->connect_timer = nu_timeout(CONNECT_TIMEOUT_S * 1000, on_connect_timeout, l);
}

struct nufw_link *nufw_link_new(const char *host, const char *port, struct nufw_addrs *addrs,
				unsigned node, gnutls_certificate_credentials_t creds,
				bool check_name, const struct nufw_link_ops *ops, void *ctx)
{
	struct nufw_link *l = g_new0(struct nufw_link, 1);

	l->node = node;

	l->addrs = nufw_addrs_ref(addrs);
	l->host = g_strdup(host);
	l->port = g_strdup(port);
	l->creds = creds;
	l->check_name = check_name;
	l->ops = ops;
	l->ctx = ctx;
	l->backoff_ms = BACKOFF_MIN_MS;
	l->round_errors = g_string_new(NULL);
	start_connect(l, NULL);
	return l;
}

void nufw_link_free(struct nufw_link *l)
{
	if (!l)
		return;
	nu_source_cancel(&l->retry_timer);
	nu_source_cancel(&l->connect_timer);
	nu_msgconn_free(l->conn);
	g_free(l->host);
	g_free(l->port);
	g_free(l->last_error);
	g_string_free(l->round_errors, TRUE);
	nufw_addrs_unref(l->addrs);
	g_free(l);
}

void nufw_link_set_addrs(struct nufw_link *l, struct nufw_addrs *addrs)
{
	if (l->addrs || !addrs)
		return;
	l->addrs = nufw_addrs_ref(addrs);
	if (l->state == LINK_IDLE && !l->retry_timer)
		start_connect(l, NULL);
}

bool nufw_link_is_up(const struct nufw_link *l)
{
	return l->state == LINK_UP;
}

void nufw_link_send(struct nufw_link *l, const uint8_t *msg, size_t len)
{
	if (l->conn)
		nu_msgconn_send(l->conn, msg, len);
}
