/* The Prometheus metrics (nuauth_metrics_listen; doc/metrics.md).
 *
 * The main loop renders the text exposition of its counters once a second
 * into a snapshot kept under a mutex; libmicrohttpd serves GET /metrics on
 * a thread of its own and only ever copies that snapshot.  The HTTP thread
 * never reads the main loop's state, and the main loop never waits for a
 * scrape: a slow or hostile scraper costs the packet path nothing.
 *
 * The socket is bound at start, before nuauth drops its privileges; the
 * server's thread starts after nuauth went to the background (-D), so that
 * it belongs to the process that runs. */
#include "config.h"
#include "nuauth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#ifdef HAVE_MICROHTTPD
#include <microhttpd.h>
#endif

#include "error.h"
#include "evloop.h"
#include "log.h"

#define RENDER_EVERY_MS 1000
/* Gateways remembered (link state 0 once gone) beyond their links. */
#define KNOWN_GATEWAYS_MAX 1024
#define SCRAPERS_MAX 16
#define SCRAPE_TIMEOUT_S 10

struct nuauth_metrics {
	int fd;				/* the bound socket, until MHD owns it */
	GMutex lock;
	GString *text;			/* the last rendering: under lock */
	GSource *render_timer;
	GHashTable *known;		/* gateway names ever seen -> NULL */
#ifdef HAVE_MICROHTTPD
	struct MHD_Daemon *mhd;
#endif
};

/* A label value: backslash, double quote and new line escaped. */
static void put_label(GString *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			g_string_append_c(o, '\\');
		if (*v == '\n')
			g_string_append(o, "\\n");
		else
			g_string_append_c(o, *v);
	}
}

static void put_head(GString *o, const char *name, const char *type, const char *help)
{
	g_string_append_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

struct gw_sum {
	unsigned links;			/* links up */
};

static void render_gateways(struct nuauth_metrics *m, struct nuauth_server *srv, GString *o)
{
	GHashTable *up = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	GHashTableIter it;
	gpointer key, val;
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
#define C(n, h, f) { n, h, offsetof(struct nu_gw_stats, f) }
		C("nufw_packets_asked_total", "Packets the gateway asked nuauth about.", asked),
		C("nufw_packets_accepted_total", "Packets the gateway accepted.", accepted),
		C("nufw_packets_dropped_total", "Packets the gateway dropped (rejected ones included).",
		  dropped),
		C("nufw_packets_rejected_total", "Dropped packets answered with a TCP reset or ICMP error.",
		  rejected),
		C("nufw_packets_timeouts_total", "Packets not decided in time (the failure policy's verdict).",
		  timeouts),
		C("nufw_receive_overruns_total", "Times the gateway's queue socket overran.", overruns),
		C("nufw_kernel_queue_full_total", "Packets the kernel lost because the queue was full.",
		  kernel_queue_full),
		C("nufw_kernel_failed_total", "Packets the kernel could not pass to nufw.", kernel_failed),
#undef C
	};

	for (GList *l = srv->gateways; l; l = l->next) {
		struct nuauth_gateway_info info;
		const char *id = nuauth_gateway_id(l->data);
		struct gw_sum *s;

		nuauth_gateway_info(l->data, &info);
		if (!info.up)
			continue;
		s = g_hash_table_lookup(up, id);
		if (!s) {
			s = g_new0(struct gw_sum, 1);
			g_hash_table_insert(up, (gpointer)id, s);
		}
		s->links++;
		if (!g_hash_table_contains(m->known, id) &&
		    g_hash_table_size(m->known) < KNOWN_GATEWAYS_MAX)
			g_hash_table_add(m->known, g_strdup(id));
	}
	put_head(o, "nuauth_gateway_up", "gauge",
		 "1 while a link of the gateway (by certificate name) is up, else 0.");
	g_hash_table_iter_init(&it, m->known);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		g_string_append(o, "nuauth_gateway_up{gateway=\"");
		put_label(o, key);
		g_string_append_printf(o, "\"} %d\n", g_hash_table_contains(up, key));
	}
	put_head(o, "nuauth_gateway_links", "gauge", "Links of the gateway that are up (one per queue).");
	g_hash_table_iter_init(&it, up);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		g_string_append(o, "nuauth_gateway_links{gateway=\"");
		put_label(o, key);
		g_string_append_printf(o, "\"} %u\n", ((struct gw_sum *)val)->links);
	}
	g_hash_table_destroy(up);
	for (size_t c = 0; c < G_N_ELEMENTS(counters); c++) {
		put_head(o, counters[c].name, "counter", counters[c].help);
		for (GList *l = srv->gateways; l; l = l->next) {
			struct nuauth_gateway_info info;

			nuauth_gateway_info(l->data, &info);
			if (!info.up || !info.stats)
				continue;
			g_string_append_printf(o, "%s{gateway=\"", counters[c].name);
			put_label(o, nuauth_gateway_id(l->data));
			g_string_append_printf(o, "\",queue=\"%u\"} %" G_GUINT64_FORMAT "\n",
					       info.stats->queue,
					       *(const uint64_t *)(const void *)
					       ((const char *)info.stats + counters[c].off));
		}
	}
}

static void render_latency(const struct nuauth_stats *st, GString *o)
{
	uint64_t cumulative = 0;

	put_head(o, "nuauth_decision_latency_seconds", "histogram",
		 "Time from a PACKET_ASK's arrival to its DECISION sent.");
	for (unsigned b = 0; b < NUAUTH_LATENCY_BUCKETS; b++) {
		cumulative += st->latency_bucket[b];
		g_string_append_printf(o, "nuauth_decision_latency_seconds_bucket{le=\"%g\"} %"
				       G_GUINT64_FORMAT "\n",
				       nuauth_latency_bounds_us[b] / 1e6, cumulative);
	}
	g_string_append_printf(o, "nuauth_decision_latency_seconds_bucket{le=\"+Inf\"} %"
			       G_GUINT64_FORMAT "\n", st->latency_count);
	g_string_append_printf(o, "nuauth_decision_latency_seconds_sum %.6f\n",
			       st->latency_sum_us / 1e6);
	g_string_append_printf(o, "nuauth_decision_latency_seconds_count %" G_GUINT64_FORMAT "\n",
			       st->latency_count);
}

static GString *render(struct nuauth_metrics *m, struct nuauth_server *srv)
{
	const struct nuauth_stats *st = &srv->stats;
	GString *o = g_string_sized_new(4096);
	unsigned sessions = 0;
	uint64_t by_verdict[3] = { st->accepted, st->dropped, st->rejected };
	static const char *const verdicts[3] = { "accept", "drop", "reject" };

	for (GList *l = srv->clients; l; l = l->next)
		sessions += nuauth_client_logged_in(l->data);
	put_head(o, "nuauth_decisions_total", "counter", "Decisions sent to gateways, by verdict.");
	for (unsigned v = 0; v < 3; v++)
		g_string_append_printf(o, "nuauth_decisions_total{verdict=\"%s\"} %" G_GUINT64_FORMAT
				       "\n", verdicts[v], by_verdict[v]);
	put_head(o, "nuauth_decision_timeouts_total", "counter",
		 "Packets no user claimed in time (counted in their verdict too).");
	g_string_append_printf(o, "nuauth_decision_timeouts_total %" G_GUINT64_FORMAT "\n",
			       st->timeouts);
	put_head(o, "nuauth_logins_total", "counter", "Logins by SASL mechanism and result.");
	for (unsigned i = 0; i <= NUAUTH_LOGIN_MECHS; i++) {
		const struct nuauth_login_count *c = &st->logins[i];

		if (!c->mech[0])
			continue;
		g_string_append(o, "nuauth_logins_total{mechanism=\"");
		put_label(o, c->mech);
		g_string_append_printf(o, "\",result=\"ok\"} %" G_GUINT64_FORMAT "\n", c->ok);
		g_string_append(o, "nuauth_logins_total{mechanism=\"");
		put_label(o, c->mech);
		g_string_append_printf(o, "\",result=\"failed\"} %" G_GUINT64_FORMAT "\n", c->failed);
	}
	put_head(o, "nuauth_sessions", "gauge", "Logged-in client sessions.");
	g_string_append_printf(o, "nuauth_sessions %u\n", sessions);
	put_head(o, "nuauth_pending_packets", "gauge", "Packets waiting for their user or groups.");
	g_string_append_printf(o, "nuauth_pending_packets %u\n",
			       nuauth_correlate_pending(srv->correlator) +
			       nuauth_ipauth_waiting(srv->ipauth));
	render_latency(st, o);
	render_gateways(m, srv, o);
	put_head(o, "nuauth_start_time_seconds", "gauge", "When nuauth started (Unix time).");
	g_string_append_printf(o, "nuauth_start_time_seconds %" G_GINT64_FORMAT "\n",
			       st->start / G_USEC_PER_SEC);
	return o;
}

void nuauth_metrics_render(struct nuauth_server *srv)
{
	struct nuauth_metrics *m = srv->metrics;
	GString *text, *old;

	if (!m)
		return;
	text = render(m, srv);
	g_mutex_lock(&m->lock);
	old = m->text;
	m->text = text;
	g_mutex_unlock(&m->lock);
	if (old)
		g_string_free(old, TRUE);
}

static gboolean on_render_timer(gpointer data)
{
	nuauth_metrics_render(data);
	return G_SOURCE_CONTINUE;
}

bool nuauth_metrics_bind(struct nuauth_server *srv, GError **error)
{
	struct nuauth_metrics *m;
	int fd;

	if (!srv->cfg.metrics_addr)
		return true;
	fd = nuauth_bind_http(srv, "nuauth_metrics_listen", srv->cfg.metrics_addr,
			      srv->cfg.metrics_port, error);
	if (fd < 0)
		return false;
	m = g_new0(struct nuauth_metrics, 1);
	m->fd = fd;
	g_mutex_init(&m->lock);
	m->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	srv->metrics = m;
	return true;
}

#ifdef HAVE_MICROHTTPD
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static char *copy_text(const char *s, size_t len)
{
	char *c = malloc(len + 1);

	if (c) {
		memcpy(c, s, len);
		c[len] = '\0';
	}
	return c;
}

/* On libmicrohttpd's thread: reads nothing but the snapshot. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req)
{
	struct nuauth_metrics *m = cls;
	static const char not_found[] = "not found: the metrics are at /metrics\n";
	static const char not_allowed[] = "only GET\n";
	char *body = NULL;
	size_t len = 0;

	(void)version, (void)upload_data, (void)req;
	*upload_data_size = 0;	/* a body is never read */
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
			     copy_text(not_found, sizeof(not_found) - 1), sizeof(not_found) - 1);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
			     copy_text(not_allowed, sizeof(not_allowed) - 1),
			     sizeof(not_allowed) - 1);
	g_mutex_lock(&m->lock);
	if (m->text) {
		len = m->text->len;
		body = copy_text(m->text->str, len);
	}
	g_mutex_unlock(&m->lock);
	if (!body)
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len);
}
#endif

bool nuauth_metrics_start(struct nuauth_server *srv, GError **error)
{
	struct nuauth_metrics *m = srv->metrics;

	if (!m)
		return true;
	nuauth_metrics_render(srv);
	m->render_timer = nu_timeout(RENDER_EVERY_MS, on_render_timer, srv);
#ifdef HAVE_MICROHTTPD
	m->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
				  on_request, m,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)m->fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)SCRAPERS_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SCRAPE_TIMEOUT_S,
				  MHD_OPTION_END);
	if (!m->mhd) {
		g_set_error(error, NU_ERROR, NU_ERROR_IO,
			    "nuauth_metrics_listen: libmicrohttpd cannot start its server");
		return false;
	}
	m->fd = -1;	/* libmicrohttpd's now */
	log_info("metrics on http://%s%s%s:%u/metrics",
		 strchr(srv->cfg.metrics_addr, ':') ? "[" : "", srv->cfg.metrics_addr,
		 strchr(srv->cfg.metrics_addr, ':') ? "]" : "", srv->cfg.metrics_port);
	return true;
#else
	(void)error;
	return true;
#endif
}

void nuauth_metrics_stop(struct nuauth_server *srv)
{
	struct nuauth_metrics *m = srv->metrics;

	if (!m)
		return;
#ifdef HAVE_MICROHTTPD
	if (m->mhd)
		MHD_stop_daemon(m->mhd);	/* joins its thread, closes the socket */
#endif
	if (m->fd >= 0)
		close(m->fd);
	nu_source_cancel(&m->render_timer);
	if (m->text)
		g_string_free(m->text, TRUE);
	g_mutex_clear(&m->lock);
	g_hash_table_destroy(m->known);
	g_free(m);
	srv->metrics = NULL;
}
