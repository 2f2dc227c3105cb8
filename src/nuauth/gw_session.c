/* One nufw gateway link: mutual TLS (the gateway must show a certificate
 * from our CA), HELLO, then PACKET_ASK in and DECISION out, matched by the
 * packet id the gateway chose.
 *
 * After HELLO the link is a peer (peers.h): the tables and the answer stage
 * send DECISION, CONN_DESTROY and CONN_EXPIRES through the operations
 * below, and its close is the peer's "gone" event. */
#include "config.h"
#include "nuauth.h"

#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "log.h"
#include "tls.h"

struct nuauth_gateway {
	struct nuauth_server *srv;
	struct nu_msgconn *link;
	char *name;		/* "address (certificate CN)" for log lines */
	bool hello_done;
	struct in6_addr addr;
	char address[INET6_ADDRSTRLEN];
	char *cn;		/* NULL until the handshake */
	gint64 since;		/* g_get_real_time() */
	uint64_t decisions;
	struct nuauth_peer *peer;	/* after HELLO */
	struct nu_gw_stats stats;	/* its last GW_STATS (the metrics) */
	bool has_stats;
};

void nuauth_gateway_info(const struct nuauth_gateway *gw, struct nuauth_gateway_info *out)
{
	out->address = gw->address;
	out->cn = gw->cn ? gw->cn : "";
	out->since = gw->since;
	out->decisions = gw->decisions;
	out->up = gw->hello_done;
	out->stats = gw->has_stats ? &gw->stats : NULL;
}

void nuauth_gateway_close(struct nuauth_gateway *gw, const char *why)
{
	nu_msgconn_close(gw->link, why);	/* on_close frees gw */
}

const char *nuauth_gateway_name(const struct nuauth_gateway *gw)
{
	return gw->name;
}

const char *nuauth_gateway_id(const struct nuauth_gateway *gw)
{
	return gw->cn && gw->cn[0] ? gw->cn : gw->address;
}

static void send_hello(struct nuauth_gateway *gw)
{
	struct nu_hello h = { .version_min = NU_PROTO_VERSION,
			      .version_max = NU_PROTO_VERSION,
			      .role = NU_ROLE_SERVER };
	uint8_t buf[NU_MSG_MAX_LEN];
	size_t len;

	g_strlcpy(h.software, PACKAGE_STRING, sizeof(h.software));
	if (nu_hello_encode(buf, sizeof(buf), &h, &len) == NU_PROTO_OK)
		nu_msgconn_send(gw->link, buf, len);
}

/* An end time as the gateway gets it: seconds from now, so that its clock
 * need not agree with ours. */
static uint32_t seconds_left(time_t expires)
{
	time_t now = time(NULL);

	return expires > now ? (uint32_t)MIN(expires - now, (time_t)UINT32_MAX) : 0;
}

/* ---- the peer operations (peers.h) ---- */

/* d encoded and sent; false, with a line, when it cannot be encoded. */
static bool send_decision_msg(struct nuauth_gateway *gw, const struct nu_decision *d)
{
	uint8_t buf[64];
	size_t len;
	enum nu_proto_status st = nu_decision_encode(buf, sizeof(buf), d, &len);

	if (st != NU_PROTO_OK) {
		log_warnx("gateway %s: DECISION%s for packet %u not sent: %s", gw->name,
			  d->not_owner ? " (not mine)" : "", d->packet_id, nu_proto_strerror(st));
		return false;
	}
	nu_msgconn_send(gw->link, buf, len);
	return true;
}

static bool send_decision(void *link, uint32_t packet_id, int verdict, bool has_mark,
			  uint32_t mark, time_t expires, uint64_t session)
{
	struct nuauth_gateway *gw = link;
	struct nu_decision d = { .packet_id = packet_id, .verdict = (uint8_t)verdict,
				 .has_mark = has_mark, .mark = mark,
				 .has_expires = expires != 0,
				 .expires_in = expires ? seconds_left(expires) : 0,
				 .session = session };

	if (!send_decision_msg(gw, &d))
		return false;
	gw->decisions++;
	return true;
}

/* In a cluster: not this node's to decide (NOT_OWNER); not a decision, so
 * not counted as one (the owner's node counts it). */
static bool send_not_mine(void *link, uint32_t packet_id, int verdict)
{
	struct nu_decision d = { .packet_id = packet_id, .verdict = (uint8_t)verdict,
				 .not_owner = 1 };

	return send_decision_msg(link, &d);
}

static void send_destroy(void *link, const struct nu_flow *flow)
{
	struct nuauth_gateway *gw = link;
	uint8_t buf[128];
	size_t len;
	enum nu_proto_status st = nu_conn_destroy_encode(buf, sizeof(buf), flow, &len);

	if (st == NU_PROTO_OK)
		nu_msgconn_send(gw->link, buf, len);
	else
		log_warnx("gateway %s: CONN_DESTROY not sent: %s", gw->name, nu_proto_strerror(st));
}

static void send_expires(void *link, const struct nu_flow *flow, time_t expires)
{
	struct nuauth_gateway *gw = link;
	struct nu_conn_expires m = { .flow = *flow, .has_expires = expires != 0 };
	uint8_t buf[128];
	size_t len;
	enum nu_proto_status st;

	if (expires)
		m.expires_in = seconds_left(expires);
	st = nu_conn_expires_encode(buf, sizeof(buf), &m, &len);
	if (st == NU_PROTO_OK)
		nu_msgconn_send(gw->link, buf, len);
	else
		log_warnx("gateway %s: CONN_EXPIRES not sent: %s", gw->name, nu_proto_strerror(st));
}

static void send_session_end(void *link, uint64_t session)
{
	struct nuauth_gateway *gw = link;
	uint8_t buf[32];
	size_t len;
	enum nu_proto_status st = nu_session_end_encode(buf, sizeof(buf), session, &len);

	if (st == NU_PROTO_OK)
		nu_msgconn_send(gw->link, buf, len);
	else
		log_warnx("gateway %s: SESSION_END not sent: %s", gw->name, nu_proto_strerror(st));
}

static const struct nuauth_peer_ops gateway_peer_ops = {
	.decision = send_decision,
	.not_mine = send_not_mine,
	.destroy = send_destroy,
	.expires = send_expires,
	.session_end = send_session_end,
};

/* The gateway speaks our protocol now: it is a peer, the connections it
 * passed before a restart are its again, and those due to end meanwhile
 * are ended. */
static void gateway_back(struct nuauth_gateway *gw)
{
	unsigned n;

	gw->peer = nuauth_peers_add(gw->srv->peers, NUAUTH_PEER_GATEWAY, &gw->addr,
				    nuauth_gateway_id(gw), &gateway_peer_ops, gw);
	n = nuauth_connections_gateway_back(gw->srv->connections, gw->peer);

	if (n)
		log_notice("gateway %s: %u connections it passed before are followed again",
			   gw->name, n);
}

/* A gateway is known by its certificate's CN, so it must have one; and the
 * certificate must be a gateway's, not a user's from the same CA: one of
 * nufw_gw_names, or, when that is unset, marked OU=nufw (as nuauthctl pki
 * issue nufw marks them).  Why not, or NULL. */
static const char *certificate_refusal(const struct nuauth_gateway *gw)
{
	const struct nuauth_config *cfg = &gw->srv->cfg;

	if (!gw->cn[0])
		return "its certificate has no CN";
	if (cfg->gw_names && cfg->gw_names[0])
		return nuauth_config_allows_gateway_name(cfg, gw->cn)
			       ? NULL : "its certificate name is not in nufw_gw_names";
	if (!nu_tls_peer_has_ou(nu_msgconn_session(gw->link), NU_TLS_OU_GATEWAY))
		return "its certificate is no gateway's (no OU=" NU_TLS_OU_GATEWAY
		       "; list the names of certificates from another CA in nufw_gw_names)";
	return NULL;
}

static bool gateway_certificate_ok(struct nuauth_gateway *gw, struct nu_msgconn *c)
{
	const char *why = certificate_refusal(gw);

	if (!why)
		return true;
	log_warnx("gateway %s refused: %s", gw->name, why);
	nu_msgconn_close(c, why);
	return false;
}

static void on_ready(struct nu_msgconn *c, void *ctx)
{
	struct nuauth_gateway *gw = ctx;
	char *cn = nu_tls_peer_cn(nu_msgconn_session(c));
	char *name = g_strdup_printf("%s (%s)", gw->name, cn ? cn : "no CN");

	g_free(gw->name);
	gw->name = name;
	gw->cn = cn ? cn : g_strdup("");
	if (!gateway_certificate_ok(gw, c))
		return;
	log_notice("gateway %s connected", gw->name);
}

/* The gateway broke the protocol: told why, closed, counted. */
#define protocol_violation(gw, ...)						\
	do {									\
		(gw)->srv->stats.protocol_closes++;				\
		nu_msgconn_fail((gw)->link, __VA_ARGS__);			\
	} while (0)

static void on_message(struct nu_msgconn *c, const struct nu_msg_header *hdr,
		       const uint8_t *msg, size_t len, void *ctx)
{
	struct nuauth_gateway *gw = ctx;
	enum nu_proto_status st = NU_PROTO_OK;

	(void)c;
	if (!gw->hello_done && hdr->type != NU_MSG_HELLO) {
		protocol_violation(gw, "the first message must be HELLO");
		return;
	}
	switch (hdr->type) {
	case NU_MSG_HELLO: {
		struct nu_hello h;
		st = nu_hello_decode(msg, len, &h);
		if (st != NU_PROTO_OK)
			break;
		if (gw->hello_done || h.role != NU_ROLE_GATEWAY) {
			protocol_violation(gw, "unexpected HELLO");
			return;
		}
		if (h.version_min > NU_PROTO_VERSION || h.version_max < NU_PROTO_VERSION) {
			nu_msgconn_fail(gw->link, "no common protocol version");
			return;
		}
		gw->hello_done = true;
		send_hello(gw);
		gateway_back(gw);
		return;
	}
	case NU_MSG_PACKET_ASK: {
		struct nu_packet_ask ask;
		st = nu_packet_ask_decode(msg, len, &ask);
		if (st == NU_PROTO_OK)
			nuauth_correlate_packet(gw->srv->correlator, gw->peer->id, &ask);
		break;
	}
	case NU_MSG_CONN_END: {
		struct nu_conn_end end;
		st = nu_conn_end_decode(msg, len, &end);
		if (st == NU_PROTO_OK)
			nuauth_connections_ended(gw->srv->connections, gw->peer, &end);
		break;
	}
	case NU_MSG_GW_STATS: {
		struct nu_gw_stats gs;
		st = nu_gw_stats_decode(msg, len, &gs);
		if (st == NU_PROTO_OK) {
			gw->stats = gs;
			gw->has_stats = true;
		}
		break;
	}
	case NU_MSG_KEEPALIVE: {
		uint8_t buf[NU_MSG_HEADER_LEN];
		size_t n;
		if (nu_keepalive_encode(buf, sizeof(buf), hdr->id, &n) == NU_PROTO_OK)
			nu_msgconn_send(gw->link, buf, n);
		return;
	}
	default:
		if (!nu_msg_type_known(hdr->type)) {
			log_debug("gateway %s: ignoring a message of unknown type %u", gw->name,
				  hdr->type);
			return;
		}
		protocol_violation(gw, "unexpected %s message", nu_msg_type_name(hdr->type));
		return;
	}
	if (st != NU_PROTO_OK)
		protocol_violation(gw, "malformed %s message: %s",
				   nu_msg_type_name(hdr->type), nu_proto_strerror(st));
}

static void on_close(struct nu_msgconn *c, const char *why, void *ctx)
{
	struct nuauth_gateway *gw = ctx;

	(void)c;
	log_notice("gateway %s disconnected: %s", gw->name, why);
	/* The tables forget its packets; its connections move to another
	 * link of the gateway, or wait for one. */
	if (gw->peer)
		nuauth_peers_remove(gw->srv->peers, gw->peer->id);
	gw->srv->gateways = g_list_remove(gw->srv->gateways, gw);
	nu_msgconn_free(gw->link);
	g_free(gw->name);
	g_free(gw->cn);
	g_free(gw);
}

void nuauth_gateways_recheck(struct nuauth_server *srv, const char *who)
{
	GList *l = srv->gateways;
	const char *why;

	while (l) {
		struct nuauth_gateway *gw = l->data;

		l = l->next;	/* the close may unlink gw */
		if (!nuauth_config_allows_gateway(&srv->cfg, &gw->addr)) {
			log_warnx("%s: gateway %s is no longer in nufw_gw_addr: closing its link",
				  who, gw->name);
			nuauth_gateway_close(gw, "no longer in nufw_gw_addr");
		} else if (gw->cn && (why = certificate_refusal(gw))) {
			log_warnx("%s: gateway %s is no longer allowed, %s: closing its link",
				  who, gw->name, why);
			nuauth_gateway_close(gw, why);
		} else if (gw->cn && !nu_tls_peer_still_trusted(nu_msgconn_session(gw->link))) {
			log_warnx("%s: the certificate of gateway %s is no longer trusted (revoked?): "
				  "closing its link", who, gw->name);
			nuauth_gateway_close(gw, "certificate no longer trusted");
		}
	}
}

static const struct nu_msgconn_ops gateway_ops = {
	.on_ready = on_ready,
	.on_message = on_message,
	.on_close = on_close,
};

void nuauth_gateway_accept(struct nuauth_server *srv, int fd,
			   const struct sockaddr_storage *peer)
{
	gnutls_session_t tls = nu_tls_server_session(srv->creds, fd, true);
	struct nuauth_gateway *gw;
	struct in6_addr addr = IN6ADDR_ANY_INIT;
	char text[INET6_ADDRSTRLEN];

	if (!tls) {
		log_warnx("cannot start TLS for a gateway");
		close(fd);
		return;
	}
	if (!nu_addr_from_sockaddr((const struct sockaddr *)peer, &addr) ||
	    !nuauth_config_allows_gateway(&srv->cfg, &addr)) {
		log_warnx("gateway connection from %s refused: not in nufw_gw_addr",
			  nu_addr_format(&addr, text, sizeof(text)));
		gnutls_deinit(tls);
		close(fd);
		return;
	}
	gw = g_new0(struct nuauth_gateway, 1);
	gw->srv = srv;
	gw->name = g_strdup(nu_addr_format(&addr, text, sizeof(text)));
	gw->addr = addr;
	g_strlcpy(gw->address, text, sizeof(gw->address));
	gw->since = g_get_real_time();
	gw->link = nu_msgconn_new(fd, tls, false, &gateway_ops, gw);
	srv->gateways = g_list_prepend(srv->gateways, gw);
}
