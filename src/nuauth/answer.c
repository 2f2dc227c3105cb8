/* The answer stage: a packet whose user is known (correlate.c matched it
 * with a claim, or ipauth.c named the user of its host) is decided and
 * answered here, and nowhere else:
 *
 *   nuauth_decide        ACLs, their periods, the finalize modules (decide.c)
 *   DECISION             to the gateway, through its peer's operations
 *   the connection       followed (connections.c) when accepted, with the
 *                        end of its ACL's period
 *   NOTICE               to the client that claimed it when not accepted
 *   the log line         and the packet log hooks (nuauth_user_logs_module)
 *
 * Packets nobody's user claimed (timeouts, conflicts) get a plain verdict
 * from nuauth_answer_verdict.  Main loop's thread only. */
#include "config.h"
#include "nuauth.h"

#include <string.h>

#include "log.h"

static const char *verdict_name(int verdict)
{
	switch (verdict) {
	case NU_VERDICT_ACCEPT: return "accepted";
	case NU_VERDICT_REJECT: return "rejected";
	default: return "dropped";
	}
}

/* Sends a DECISION to gw and counts it; false when it was not sent. */
static bool send_decision(struct nuauth_server *srv, struct nuauth_peer *gw, uint32_t packet_id,
			  int verdict, bool has_mark, uint32_t mark, time_t expires,
			  uint64_t session, gint64 arrived)
{
	if (!gw->ops->decision(gw->link, packet_id, verdict, has_mark, mark, expires, session))
		return false;	/* logged by the session */
	nuauth_stats_decision(&srv->stats, verdict);
	nuauth_stats_latency(&srv->stats, arrived);
	return true;
}

/* The gateway peer of a packet to answer; NULL (logged) when it is gone:
 * the tables forget a gateway's packets when it goes, so it never is. */
static struct nuauth_peer *gateway_of(struct nuauth_server *srv, nuauth_peer_id id,
				      uint32_t packet_id)
{
	struct nuauth_peer *gw = nuauth_peers_get(srv->peers, id);

	if (!gw)
		log_warnx("no decision sent for packet %u: its gateway's link is gone", packet_id);
	return gw;
}

void nuauth_answer_verdict(struct nuauth_server *srv, nuauth_peer_id gw_id, uint32_t packet_id,
			   int verdict, gint64 arrived)
{
	struct nuauth_peer *gw = gateway_of(srv, gw_id, packet_id);

	if (gw)
		send_decision(srv, gw, packet_id, verdict, false, 0, 0, 0, arrived);
}

void nuauth_answer_not_mine(struct nuauth_server *srv, nuauth_peer_id gw_id, uint32_t packet_id,
			    int verdict)
{
	struct nuauth_peer *gw = gateway_of(srv, gw_id, packet_id);

	if (gw && gw->ops->not_mine(gw->link, packet_id, verdict))
		srv->stats.not_mine++;
}

void nuauth_answer_user(struct nuauth_server *srv, nuauth_peer_id gw_id,
			const struct nu_packet_ask *ask, const struct nuauth_session_user *su,
			nuauth_peer_id client_id, const char *app, const uint8_t *app_sha256,
			gint64 arrived)
{
	struct nuauth_peer *gw = gateway_of(srv, gw_id, ask->packet_id);
	struct nuauth_packet pkt = {
		.flow = ask->flow,
		.mark = ask->mark,
		.icmp_type = ask->icmp_type,
		.indev = ask->indev,
		.outdev = ask->outdev,
		.physindev = ask->physindev,
		.physoutdev = ask->physoutdev,
		.app = app ? app : "",
		.os_sysname = su->os_sysname ? su->os_sysname : "",
		.os_release = su->os_release ? su->os_release : "",
		.os_version = su->os_version ? su->os_version : "",
		.app_sha256 = app_sha256,
	};
	struct nuauth_user user = {
		.name = su->name,
		.uid = su->uid,
		.groups = (const uint32_t *)(const void *)su->groups->data,
		.ngroups = su->groups->len,
		.auth_quality = su->auth_quality,
		.origin = su->origin ? su->origin : "client",
	};
	struct nuauth_decision v;
	char flow_text[NU_FLOW_STRLEN];
	char sha_text[2 * NU_SHA256_LEN + 1] = "";

	if (!gw)
		return;
	pkt.gateway = gw->name;
	nuauth_decide(srv, &pkt, &user, &v);
	/* An accepted connection carries its session's tag to nufw, which
	 * ends it when the session ends on whichever node holds it then. */
	send_decision(srv, gw, ask->packet_id, v.verdict, v.verdict == NU_VERDICT_ACCEPT, v.mark,
		      v.verdict == NU_VERDICT_ACCEPT ? v.expires : 0,
		      v.verdict == NU_VERDICT_ACCEPT && client_id ? su->session : 0, arrived);
	if (v.verdict == NU_VERDICT_ACCEPT) {
		/* Owned by the session that claimed it: only its LOGOUT ends it. */
		nuauth_connections_add(srv->connections, gw, client_id, user.name, &ask->flow);
		nuauth_connections_set_expiry(srv->connections, &ask->flow, v.expires,
					      v.acl_name, v.period);
	} else if (client_id) {
		/* The ACL decision is the user's to know: the client shows it. */
		struct nuauth_peer *cl = nuauth_peers_get(srv->peers, client_id);
		char why[NU_TEXT_MAX];

		g_snprintf(why, sizeof(why), "%s%s", *v.acl_name ? "acl " : "no acl allows it",
			   v.acl_name);
		if (cl)
			cl->ops->notice(cl->link, &ask->flow, v.verdict, pkt.app, why);
	}
	if (app_sha256)
		for (unsigned i = 0; i < NU_SHA256_LEN; i++)
			g_snprintf(sha_text + 2 * i, 3, "%02x", app_sha256[i]);
	/* The program only when the client sent it (see client_needs.c). */
	/* The ACL's log_prefix, as NuFW wrote it with the decision. */
	/* An address's user says where the name came from (radius...). */
	log_info("%s %s%s%s%s: %s %s (%s%s%s%s%s), mark 0x%x%s%s%s%s",
		 client_id ? "user" : "ip-authenticated user", user.name,
		 client_id ? "" : " (", client_id ? "" : user.origin, client_id ? "" : ")",
		 nu_flow_format(&ask->flow, flow_text, sizeof(flow_text)),
		 verdict_name(v.verdict), *v.acl_name ? "acl " : "no acl matched", v.acl_name,
		 *v.log_prefix ? ", log_prefix \"" : "", v.log_prefix, *v.log_prefix ? "\"" : "",
		 v.mark, *pkt.app ? ", app " : "", pkt.app, *sha_text ? ", sha256 " : "", sha_text);
	nuauth_hooks_packet_log(srv, &pkt, &user, v.verdict, v.acl_name);
}

bool nuauth_answer_portal(struct nuauth_server *srv, nuauth_peer_id gw_id,
			  const struct nu_packet_ask *ask, gint64 arrived)
{
	const struct nu_flow *f = &ask->flow;
	struct nuauth_peer *gw;
	char flow_text[NU_FLOW_STRLEN];
	bool http;

	if (!srv->cfg.portal_mark || f->proto != IPPROTO_TCP ||
	    (f->dport != 80 && f->dport != 443))
		return false;
	gw = gateway_of(srv, gw_id, ask->packet_id);
	if (!gw)
		return true;
	/* HTTP goes to the login page (the gateway's rule for the mark); a
	 * TLS connection cannot be answered by the page without a certificate
	 * error, so it is refused at once (a reset) rather than left to time
	 * out. */
	http = f->dport == 80;
	send_decision(srv, gw, ask->packet_id, http ? NU_VERDICT_ACCEPT : NU_VERDICT_REJECT, http,
		      http ? srv->cfg.portal_mark : 0, 0, 0, arrived);
	log_info("%s: no user at the address: %s", nu_flow_format(f, flow_text, sizeof(flow_text)),
		 http ? "sent to the login page" : "refused (HTTPS before the login page)");
	return true;
}

void nuauth_answer_ip(struct nuauth_server *srv, nuauth_peer_id gw,
		      const struct nu_packet_ask *ask, const char *name, const char *origin,
		      enum nuauth_user_status status, uint32_t uid, GArray *groups,
		      gint64 arrived)
{
	struct nuauth_session_user su = { .name = (char *)name, .uid = uid, .groups = groups,
					  .auth_quality = NUAUTH_AUTHQ_IP, .origin = origin };
	char flow_text[NU_FLOW_STRLEN];

	if (status == NUAUTH_USER_OK) {
		nuauth_answer_user(srv, gw, ask, &su, 0, NULL, NULL, arrived);
		return;
	}
	nu_flow_format(&ask->flow, flow_text, sizeof(flow_text));
	if (status == NUAUTH_USER_UNKNOWN)
		log_warnx("%s: IP authentication names user `%s', whom no user database knows: dropped",
			  flow_text, name);
	else
		log_warnx("%s: the groups of ip-authenticated user `%s' could not be read "
			  "(user database unavailable): dropped", flow_text, name);
	nuauth_answer_verdict(srv, gw, ask->packet_id, NU_VERDICT_DROP, arrived);
}
