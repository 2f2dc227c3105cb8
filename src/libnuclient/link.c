/* The links to nuauth, one per address family: the login hand-off (login.c
 * connects and logs in; the link then reads and writes through a
 * nu_msgconn), the messages nuauth sends (PUSH and NEEDS go to the
 * announcer, NOTICE to the application), keep-alives, and reconnection
 * on a capped exponential back-off with full jitter (backoff.h). */
#include "config.h"
#include "client_int.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <arpa/inet.h>

#include "evloop.h"
#include "log.h"
#include "msgconn.h"

static void link_down(struct nc_link *l, const char *why);
static void schedule_reconnect(struct nc_link *l);

void nc_link_free(struct nc_link *l)
{
	nu_source_cancel(&l->reconnect_timer);
	nu_msgconn_free(l->conn);
	g_free(l->host);
	g_free(l->why_down);
	g_free(l);
}

void nc_send_logout(struct nuclient *nc)
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

/* ---- messages from nuauth ---- */

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

static void on_message(struct nu_msgconn *conn, const struct nu_msg_header *hdr,
		       const uint8_t *msg, size_t len, void *ctx)
{
	struct nc_link *l = ctx;
	struct nuclient *nc = l->nc;
	struct nu_flow flow;
	bool has_flow = false;
	struct nu_notice n;
	uint32_t needs;

	l->last_rx = g_get_monotonic_time();
	switch (hdr->type) {
	case NU_MSG_PUSH:
		if (nu_push_decode(msg, len, &has_flow, &flow) != NU_PROTO_OK) {
			nu_msgconn_close(conn, "malformed PUSH from nuauth");
			return;
		}
		nc_announce_push(l, has_flow ? &flow : NULL);
		return;
	case NU_MSG_NOTICE:
		if (nu_notice_decode(msg, len, &n) != NU_PROTO_OK) {
			nu_msgconn_close(conn, "malformed NOTICE from nuauth");
			return;
		}
		handle_notice(nc, &n);
		return;
	case NU_MSG_NEEDS:
		if (nu_needs_decode(msg, len, &needs) != NU_PROTO_OK) {
			nu_msgconn_close(conn, "malformed NEEDS from nuauth");
			return;
		}
		nc_announce_needs(l, needs);
		return;
	case NU_MSG_KEEPALIVE:
		return;
	case NU_MSG_ERROR:
		nu_msgconn_close_peer_error(conn, msg, len);
		return;
	default:
		log_debug("ignoring %s message from nuauth", nu_msg_type_name(hdr->type));
	}
}

/* ---- up, down, again ---- */

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
	enum nuclient_status r = nc_login(&nc->opt, l->host, l->family, nc->creds, &tl,
					  &l->resume, err);

	if (r != NUCLIENT_OK)
		return r;
	l->conn = nu_msgconn_new(tl.fd, tl.tls, true, &link_ops, l);
	l->last_rx = g_get_monotonic_time();
	l->needs = NU_NEEDS_APP;	/* what a nuauth that sends no NEEDS expects */
	nc_backoff_reset(&l->backoff);
	l->down_since = 0;
	/* A login of nuclient_login while a retry was pending. */
	nu_source_cancel(&l->reconnect_timer);
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
	log_warnx("disconnected from nuauth at %s (%s): %s", l->host, nc_family_name(l->family), why);
	nc_backoff_reset(&l->backoff);
	l->down_since = g_get_real_time();
	schedule_reconnect(l);
	nc_update_state(nc, why);
}

static gboolean on_reconnect(gpointer data)
{
	struct nc_link *l = data;
	struct nuclient *nc = l->nc;
	char *err = NULL;
	enum nuclient_status r;

	g_clear_pointer(&l->reconnect_timer, g_source_unref);
	if (l->conn)
		return G_SOURCE_REMOVE;
	r = link_up(l, &err);
	if (r == NUCLIENT_OK) {
		log_notice("logged in again to %s (%s) as %s", l->host, nc_family_name(l->family),
			   nc->opt.user);
		nc_update_state(nc, "logged in again");
	} else if (r == NUCLIENT_REFUSED) {
		log_err("%s", err);
		nc->run_result = 1;
		nc_set_state(nc, NUCLIENT_STATE_REFUSED, err);
		if (nc->loop)
			g_main_loop_quit(nc->loop);
	} else {
		log_debug("reconnecting to %s failed: %s", l->host, err);
		g_free(l->why_down);
		l->why_down = g_strdup(err);
		schedule_reconnect(l);
	}
	g_free(err);
	return G_SOURCE_REMOVE;
}

static void schedule_reconnect(struct nc_link *l)
{
	unsigned delay;

	if (l->reconnect_timer)
		return;
	delay = nc_backoff_next(&l->backoff, g_random_int());
	log_debug("next attempt to reach nuauth at %s (%s) in %u ms (attempt %u)", l->host,
		  nc_family_name(l->family), delay, l->backoff.attempts);
	l->reconnect_timer = nu_timeout(delay, on_reconnect, l);
}

void nc_links_retry(struct nuclient *nc)
{
	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);

		if (l->conn)
			continue;
		if (!l->down_since)
			l->down_since = g_get_real_time();
		schedule_reconnect(l);
	}
	nc_set_state(nc, NUCLIENT_STATE_RECONNECTING, "nuauth unreachable: trying again");
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

void nc_keepalive_start(struct nuclient *nc)
{
	if (!nc->keepalive_timer)
		nc->keepalive_timer = nu_timeout(nc->opt.keepalive_s * 1000u, on_keepalive, nc);
}

/* ---- the links of the server option ---- */

/* The address families host (an address or a name) gives, at most two, in
 * fams; how many. */
static int host_families(const char *host, int fams[2])
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	struct in6_addr a;
	uint8_t fam;
	int nfams = 0;

	if (nu_addr_parse(host, &a, &fam)) {
		fams[nfams++] = fam;
		return nfams;
	}
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;	/* tried again, and reported, at login */
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
		    (nfams == 0 || fams[0] != ai->ai_family) && nfams < 2)
			fams[nfams++] = ai->ai_family;
	freeaddrinfo(res);
	if (nfams == 0) {
		/* let the login say why */
		fams[nfams++] = AF_INET;
	}
	return nfams;
}

/* One link per address family: the first address (or name) of the server
 * option that gives that family. */
bool nc_links_make(struct nuclient *nc, char **err)
{
	gchar **hosts = g_strsplit_set(nc->opt.server, ", ", -1);
	bool have[2] = { false, false };

	for (gchar **h = hosts; *h; h++) {
		int fams[2];
		int nfams;

		if (!**h)
			continue;
		nfams = host_families(*h, fams);
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
			nc_backoff_init(&l->backoff, RECONNECT_BASE_MS, RECONNECT_MAX_MS,
					RECONNECT_FLOOR_MS);
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

/* Logs in every link that is down: how many came up, *refused when nuauth
 * refused one, *untrusted when a certificate did not verify; *err the
 * first error (a refusal's before any other). */
static guint links_login(struct nuclient *nc, bool *refused, bool *untrusted, char **err)
{
	guint up = 0;

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
			*refused = true;
		if (r == NUCLIENT_UNTRUSTED)
			*untrusted = true;
		l->why_down = g_strdup(e);
		if (!*err || r == NUCLIENT_REFUSED) {
			g_free(*err);
			*err = e;
		} else {
			g_free(e);
		}
	}
	return up;
}

enum nuclient_status nc_links_up(struct nuclient *nc, char **err)
{
	bool refused = false, untrusted = false;
	guint up = links_login(nc, &refused, &untrusted, err);

	if (refused) {
		for (guint i = 0; i < nc->links->len; i++) {
			struct nc_link *l = g_ptr_array_index(nc->links, i);

			g_clear_pointer(&l->conn, nu_msgconn_free);
		}
		return NUCLIENT_REFUSED;
	}
	if (up == 0)
		return untrusted ? NUCLIENT_UNTRUSTED : NUCLIENT_UNREACHABLE;
	/* The links that failed are retried by the loop. */
	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);

		if (!l->conn) {
			log_warnx("nuauth at %s (%s) unreachable for now: %s", l->host,
				  nc_family_name(l->family), l->why_down ? l->why_down : "");
			l->down_since = g_get_real_time();
			schedule_reconnect(l);
		}
	}
	g_clear_pointer(err, g_free);
	return NUCLIENT_OK;
}

void nuclient_reconnect(struct nuclient *nc)
{
	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);

		if (l->conn)
			nu_msgconn_close(l->conn, "reconnecting now, as asked");
		/* Now, and with the back-off starting afresh. */
		nu_source_cancel(&l->reconnect_timer);
		nc_backoff_reset(&l->backoff);
		l->reconnect_timer = nu_timeout(0, on_reconnect, l);
	}
}
