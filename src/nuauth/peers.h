/* The links nuauth answers through, below the tables that remember them.
 *
 * A peer is a gateway link that spoke HELLO or a client link that logged
 * in.  The sessions (gw_session.c, client_session.c) register it with a
 * table of send operations; the tables (correlate.c, connections.c,
 * ipauth.c) and the answer stage (answer.c) keep its id, send through the
 * operations, and hear of its end by subscribing to "gone" events.  So
 * nothing below the sessions calls a session, and a table can be tested
 * with fake operations (tests/unit).
 *
 * An id is never reused: a slot number and a generation, so that resolving
 * one is an array index (O(1), no hash), and the id of a peer that is gone
 * resolves to NULL.  Main loop's thread only. */
#ifndef NUAUTH_PEERS_H
#define NUAUTH_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>

#include "flow.h"

typedef uint64_t nuauth_peer_id;	/* 0: none */

enum nuauth_peer_kind { NUAUTH_PEER_GATEWAY = 1, NUAUTH_PEER_CLIENT };

/* What can be sent to a peer; link is the session's own pointer.  A
 * gateway has the first five, a client the last three.  None closes a
 * link under the caller (sends are deferred, msgconn.h). */
struct nuauth_peer_ops {
	/* DECISION for a packet; expires: wall clock, 0 none; session: the
	 * tag of the client session it is accepted for, 0 none.  False when
	 * it could not be encoded (logged by the session). */
	bool (*decision)(void *link, uint32_t packet_id, int verdict, bool has_mark,
			 uint32_t mark, time_t expires, uint64_t session);
	/* DECISION with NOT_OWNER (a cluster's node that owns no client at
	 * the packet's address): verdict applies when no node owns it. */
	bool (*not_mine)(void *link, uint32_t packet_id, int verdict);
	/* CONN_DESTROY: end the connection. */
	void (*destroy)(void *link, const struct nu_flow *flow);
	/* CONN_EXPIRES: the connection's new end time (0: none). */
	void (*expires)(void *link, const struct nu_flow *flow, time_t expires);
	/* SESSION_END: end every connection accepted for the client session
	 * with this tag (any node's decision).  May be NULL. */
	void (*session_end)(void *link, uint64_t session);
	/* PUSH: announce the flow nuauth waits for. */
	void (*push)(void *link, const struct nu_flow *flow);
	/* NOTICE: the user's connection was not accepted, and why. */
	void (*notice)(void *link, const struct nu_flow *flow, int verdict, const char *app,
		       const char *text);
	/* NEEDS: what the client must announce (NU_NEEDS_*). */
	void (*needs)(void *link, uint32_t needs);
};

struct nuauth_session_user;

struct nuauth_peer {
	nuauth_peer_id id;
	enum nuauth_peer_kind kind;
	struct in6_addr addr;		/* v4-mapped for IPv4 */
	/* A gateway: who it is, the same across its links and restarts (its
	 * certificate's CN, or its address).  A client: its user's name. */
	char *name;
	const struct nuauth_session_user *user;	/* a client's, owned by its session */
	const struct nuauth_peer_ops *ops;
	void *link;
};

struct nuauth_peers;

/* Told when a peer is gone, before its id stops resolving. */
typedef void (*nuauth_peer_gone_fn)(const struct nuauth_peer *peer, void *ctx);

struct nuauth_peers *nuauth_peers_new(void);
void nuauth_peers_free(struct nuauth_peers *ps);
/* Registers a peer (name is copied); returns it, with its id. */
struct nuauth_peer *nuauth_peers_add(struct nuauth_peers *ps, enum nuauth_peer_kind kind,
				     const struct in6_addr *addr, const char *name,
				     const struct nuauth_peer_ops *ops, void *link);
/* The peer's link ends: every subscriber is told (in the order they
 * subscribed), then the peer is freed.  Nothing when id is unknown. */
void nuauth_peers_remove(struct nuauth_peers *ps, nuauth_peer_id id);
/* The peer of id; NULL when it is gone (or id is 0). */
struct nuauth_peer *nuauth_peers_get(const struct nuauth_peers *ps, nuauth_peer_id id);
void nuauth_peers_subscribe(struct nuauth_peers *ps, nuauth_peer_gone_fn fn, void *ctx);
void nuauth_peers_unsubscribe(struct nuauth_peers *ps, nuauth_peer_gone_fn fn, void *ctx);
/* A gateway peer named name other than except, or NULL. */
struct nuauth_peer *nuauth_peers_find_gateway(const struct nuauth_peers *ps, const char *name,
					      nuauth_peer_id except);
/* Calls fn for each peer of kind. */
typedef void (*nuauth_peer_fn)(struct nuauth_peer *peer, void *ctx);
void nuauth_peers_foreach(const struct nuauth_peers *ps, enum nuauth_peer_kind kind,
			  nuauth_peer_fn fn, void *ctx);

#endif
