/* What the clients announce with each connection beyond its flow.
 *
 * Finding the program that owns a socket is most of a client's work per
 * connection (a walk over /proc/PID/fd), and its SHA-256 costs a read of the
 * file, so nuauth asks for them only when a decision reads them: the union
 * of the modules' needs hooks (plaintext with App= or AppSHA256= ACLs,
 * mark_field on the application...), or the path always when
 * nuauth_client_send_app=always (sites that want it in their logs).  Each
 * client hears it in a NEEDS message after its login and again when a
 * reload changes it. */
#include "config.h"
#include "nuauth.h"

#include "log.h"

G_STATIC_ASSERT(NUAUTH_NEEDS_APP == NU_NEEDS_APP);
G_STATIC_ASSERT(NUAUTH_NEEDS_APP_SHA256 == NU_NEEDS_APP_SHA256);

const char *nuauth_needs_text(uint32_t needs)
{
	if (needs & NU_NEEDS_APP_SHA256)
		return "flow, program path and SHA-256";
	if (needs & NU_NEEDS_APP)
		return "flow and program path";
	return "flow only";
}

struct tell {
	uint32_t needs;
	unsigned told;
};

/* Sends NEEDS to a logged-in client (every client peer is). */
static void tell_client(struct nuauth_peer *peer, void *ctx)
{
	struct tell *t = ctx;

	peer->ops->needs(peer->link, t->needs);
	t->told++;
}

void nuauth_client_needs_update(struct nuauth_server *srv, const char *who)
{
	GString *by = g_string_new(NULL);
	uint32_t needs = nuauth_hooks_needs(srv->modules, by);
	bool changed;
	struct tell t = { .needs = needs };

	if (srv->cfg.client_send_app_always && !(needs & NU_NEEDS_APP)) {
		needs |= NU_NEEDS_APP;
		g_string_append_printf(by, "%snuauth_client_send_app=always", by->len ? ", " : "");
	}
	changed = needs != srv->client_needs;
	srv->client_needs = needs;
	t.needs = needs;
	/* Sending never closes a link under us (msgconn.h). */
	if (changed && srv->peers)
		nuauth_peers_foreach(srv->peers, NUAUTH_PEER_CLIENT, tell_client, &t);
	log_notice("%s: clients announce the %s%s%s%s%s", who, nuauth_needs_text(needs),
		   by->len ? " (needed by " : "", by->str, by->len ? ")" : "",
		   t.told ? "; logged-in clients told" : "");
	g_string_free(by, TRUE);
}
