/* The client's private parts, shared by its files.
 *
 *   client.c    the object, the login hand-off and the loop (on top)
 *   state.c     its state (below link.c and announce.c, which change it)
 *   options.c   nuclient_set, nuclient.conf
 *   announce.c  answering nuauth's PUSH: look-ups, claims and NOT_MINE in
 *               batches, NEEDS, the program and its hash
 *   link.c      one link per address family: login, keep-alive,
 *               reconnection with back-off, NOTICE */
#ifndef NUCLIENT_CLIENT_INT_H
#define NUCLIENT_CLIENT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>

#include "internal.h"
#include "flow.h"
#include "backoff.h"

/* The reconnection back-off (backoff.h): the first window, the cap, the
 * shortest delay. */
#define RECONNECT_BASE_MS 1000
#define RECONNECT_MAX_MS 30000
#define RECONNECT_FLOOR_MS 100
#define KEEPALIVE_DEFAULT_S 30
#define KEEPALIVE_MISSES 3		/* silent intervals before the link counts as dead */

struct nc_apphash;
struct nu_msgconn;

struct nc_link {
	struct nuclient *nc;
	int family;			/* AF_INET or AF_INET6 */
	char *host;			/* as given: address or name */
	struct nu_msgconn *conn;	/* NULL while down */
	GSource *reconnect_timer;
	struct nc_backoff backoff;
	gint64 down_since;		/* g_get_real_time() when it went down, 0 while up */
	gint64 last_rx;			/* g_get_monotonic_time() of the last message */
	char *why_down;
	uint32_t needs;			/* NU_NEEDS_* from nuauth's last NEEDS */
	struct nc_resume resume;	/* its session, for the next login */
};

/* A flow nuauth asked about, and the link it asked on (the answer goes
 * there: nuauth waits for that session's answer). */
struct nc_pushed {
	struct nc_link *link;
	struct nu_flow flow;
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
	GArray *pushed;			/* struct nc_pushed: asked about, not looked up yet */
	bool push_all;			/* a PUSH without FLOW came */
	GSource *push_idle;
	GSource *keepalive_timer;
	uint32_t keepalive_id;
	char *description;
	struct nc_apphash *apphash;	/* SHA-256 of programs, cached */
};

/* state.c */
const char *nc_family_name(int family);
void nc_set_state(struct nuclient *nc, enum nuclient_state state, const char *detail);
/* Logged in when every link is up, else reconnecting (unless stopped or
 * refused). */
void nc_update_state(struct nuclient *nc, const char *detail);

/* options.c */
void nc_options_init(struct nc_options *opt);
void nc_options_free(struct nc_options *opt);

/* announce.c: a flow nuauth asked about on link l (flow NULL: a PUSH
 * without FLOW, every opening socket), answered once the messages read
 * together are handled. */
void nc_announce_push(struct nc_link *l, const struct nu_flow *flow);
/* What nuauth's NEEDS on l asks for with each claim. */
void nc_announce_needs(struct nc_link *l, uint32_t needs);

/* link.c */
/* One link per address family of the server option; false with *err. */
bool nc_links_make(struct nuclient *nc, char **err);
/* Logs every link in that is down.  NUCLIENT_OK when one is up (the others
 * are retried by the loop); else why, with *err (g_malloc'ed). */
enum nuclient_status nc_links_up(struct nuclient *nc, char **err);
void nc_link_free(struct nc_link *l);
/* After a first login found nuauth unreachable: every link that is down
 * tries again on the back-off, and the state says reconnecting. */
void nc_links_retry(struct nuclient *nc);
/* Sends LOGOUT on every link that is up, once. */
void nc_send_logout(struct nuclient *nc);
/* Starts the keep-alive timer (once). */
void nc_keepalive_start(struct nuclient *nc);

#endif
