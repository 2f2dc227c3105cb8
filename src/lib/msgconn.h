/* A protocol link: one TLS session on a non-blocking socket, driven by the
 * GLib main loop.  It completes the handshake, cuts the byte stream into
 * whole messages (see proto.h) and hands each to on_message, and queues
 * what is sent until the socket takes it.  Each link reads a bounded
 * amount per turn of the main loop, then lets the other sources run.  A framing error (bad version,
 * impossible or oversized length) closes the link with a reason; nothing
 * else in the program is touched. */
#ifndef NU_MSGCONN_H
#define NU_MSGCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include "proto.h"

struct nu_msgconn;

struct nu_msgconn_ops {
	/* The handshake completed (not called for links made established). */
	void (*on_ready)(struct nu_msgconn *c, void *ctx);
	/* One whole message: msg[0..len) with its header decoded. */
	void (*on_message)(struct nu_msgconn *c, const struct nu_msg_header *hdr,
			   const uint8_t *msg, size_t len, void *ctx);
	/* The link is closed (by the peer, an error, or nu_msgconn_close);
	 * called once.  The owner drops its references and calls
	 * nu_msgconn_free, which may be done from inside this callback. */
	void (*on_close)(struct nu_msgconn *c, const char *why, void *ctx);
};

/* Takes ownership of fd and session.  handshake_done: the session is
 * already established (e.g. by a blocking login). */
struct nu_msgconn *nu_msgconn_new(int fd, gnutls_session_t session, bool handshake_done,
				  const struct nu_msgconn_ops *ops, void *ctx);
/* Queues msg; it is written at the end of the main loop's turn, with
 * whatever else was queued meanwhile.  Ignored once closed.  Never calls
 * on_close itself: when the socket fails, the link closes once
 * the current callback has returned, so the caller's state stays valid. */
void nu_msgconn_send(struct nu_msgconn *c, const uint8_t *msg, size_t len);
/* Writes what is queued now, as far as the socket takes it (sends are
 * otherwise written together at the end of the main loop's turn). */
void nu_msgconn_flush(struct nu_msgconn *c);
/* Closes the link now (on_close is called with why before this returns);
 * what was queued is written first, as far as the socket takes it. */
void nu_msgconn_close(struct nu_msgconn *c, const char *why);
void nu_msgconn_closef(struct nu_msgconn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Tells the peer why in an ERROR message, then closes the link. */
void nu_msgconn_fail(struct nu_msgconn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Closes the link after the peer sent ERROR (msg), quoting its text. */
void nu_msgconn_close_peer_error(struct nu_msgconn *c, const uint8_t *msg, size_t len);
/* Frees the link; safe from any callback of its own. */
void nu_msgconn_free(struct nu_msgconn *c);

bool nu_msgconn_is_open(const struct nu_msgconn *c);
gnutls_session_t nu_msgconn_session(const struct nu_msgconn *c);
int nu_msgconn_fd(const struct nu_msgconn *c);
/* Bytes queued for sending and not yet taken by the socket. */
size_t nu_msgconn_backlog(const struct nu_msgconn *c);
/* A peer that leaves more than this many bytes unread (4 MiB unless set;
 * at least one whole message) has its link closed. */
void nu_msgconn_set_max_backlog(struct nu_msgconn *c, size_t bytes);
/* Times, in this process, that a link used up its budget for one turn of
 * the main loop (64 messages, 64 TLS records or 32 KiB read) and its
 * reading was put off to the next turn. */
uint64_t nu_msgconn_budget_yields(void);
/* Links of this process closed for bad framing (a bad version or length). */
uint64_t nu_msgconn_framing_errors(void);

#endif
