/* The announcer: how a connection gets announced.  nuauth asks (PUSH with a
 * FLOW) about a packet that waits, and takes a claim only for such a
 * packet.  The flow is queued; once the messages read together are handled
 * (an idle source), each queued flow is looked up in the kernel by its
 * exact tuple (a dump of the user's opening sockets where sock_diag cannot
 * say), and every one is answered, in one ANNOUNCE per link: a CONN for the
 * user's, NOT_MINE for the others, since nuauth waits for every client at
 * the address to answer before it gives a flow to one of them.  Nothing is
 * announced unasked: a claim made before its packet exists does not count.
 *
 * What goes with each flow is what nuauth's NEEDS asked for on that link:
 * nothing (the owning process is not even looked for), the program's path
 * (a walk over /proc/PID/fd), or the path and the SHA-256 of the program's
 * file (apphash.c).  Until a link gets NEEDS it sends the path, as nuauth
 * before NEEDS expects. */
#include "config.h"
#include "client_int.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "apphash.h"
#include "conntable.h"
#include "evloop.h"
#include "log.h"
#include "msgconn.h"

/* An answer to send: a claim (conn) or not_mine (conn.flow only). */
struct answer {
	struct nc_link *link;
	bool not_mine;
	struct nu_announce_conn conn;
};

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
				  nc_family_name(l->family), claims, others);
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

/* Looks each queued flow up by its exact tuple: a claim or NOT_MINE into
 * answers, or into unresolved where sock_diag cannot say. */
static void answer_looked_up(struct nuclient *nc, GArray *answers, GArray *unresolved)
{
	if (nc->diag_fd < 0)
		nc->diag_fd = nu_conntable_open();
	for (guint i = 0; i < nc->pushed->len; i++) {
		struct nc_pushed *p = &g_array_index(nc->pushed, struct nc_pushed, i);
		struct nu_local_conn lc;
		int r;

		if (!p->link->conn)
			continue;	/* that session is gone: nobody waits for it */
		if (p->flow.proto != IPPROTO_TCP && p->flow.proto != IPPROTO_UDP &&
		    p->flow.proto != IPPROTO_ICMP && p->flow.proto != IPPROTO_ICMPV6) {
			add_not_mine(answers, p->link, &p->flow);	/* no socket */
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
}

/* Answers the unresolved flows, and a PUSH without FLOW, from a scan of
 * the user's opening sockets. */
static void answer_from_scan(struct nuclient *nc, GArray *answers, GArray *unresolved)
{
	GArray *conns = NULL;
	GHashTable *by_flow = NULL;

	if (unresolved->len || nc->push_all)
		by_flow = scan_opening(nc, &conns);
	/* Where no table can be read, nothing is answered: nuauth's timeout
	 * decides, rather than a "not mine" that may be false. */
	for (guint i = 0; by_flow && i < unresolved->len; i++) {
		struct nc_pushed *p = &g_array_index(unresolved, struct nc_pushed, i);
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
	if (by_flow)
		g_hash_table_destroy(by_flow);
	if (conns)
		g_array_free(conns, TRUE);
}

/* Answers the PUSH requests read so far, each one, in one batch per link. */
static gboolean on_push_idle(gpointer data)
{
	struct nuclient *nc = data;
	GArray *answers = g_array_new(FALSE, FALSE, sizeof(struct answer));
	GArray *unresolved = g_array_new(FALSE, FALSE, sizeof(struct nc_pushed));

	g_clear_pointer(&nc->push_idle, g_source_unref);
	answer_looked_up(nc, answers, unresolved);
	answer_from_scan(nc, answers, unresolved);
	send_answers(nc, answers);
	g_array_set_size(nc->pushed, 0);
	nc->push_all = false;
	g_array_free(unresolved, TRUE);
	g_array_free(answers, TRUE);
	return G_SOURCE_REMOVE;
}

void nc_announce_push(struct nc_link *l, const struct nu_flow *flow)
{
	struct nuclient *nc = l->nc;

	if (flow) {
		struct nc_pushed p = { .link = l, .flow = *flow };

		g_array_append_val(nc->pushed, p);
	} else {
		nc->push_all = true;
	}
	/* Coalesce: the PUSHes read together are answered together. */
	if (!nc->push_idle)
		nc->push_idle = nu_idle(on_push_idle, nc);
}

void nc_announce_needs(struct nc_link *l, uint32_t needs)
{
	if (needs & NU_NEEDS_APP_SHA256)
		needs |= NU_NEEDS_APP;
	needs &= NU_NEEDS_APP | NU_NEEDS_APP_SHA256;
	if (needs != l->needs)
		log_info("nuauth at %s (%s) needs with each connection: %s", l->host,
			 nc_family_name(l->family),
			 needs & NU_NEEDS_APP_SHA256 ? "the program and its SHA-256"
			 : needs & NU_NEEDS_APP ? "the program" : "nothing but the flow");
	l->needs = needs;
}
