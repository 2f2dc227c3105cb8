/* Message links over non-blocking TLS, driven by GLib sources. */
#include "config.h"
#include "msgconn.h"

#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <glib.h>
#include <glib-unix.h>

#include "evloop.h"
#include "log.h"
#include "tls.h"

/* A peer that lets this much pile up unsent is not reading: drop it rather
 * than grow without bound. */
#define MSGCONN_MAX_BACKLOG (4u << 20)
#define MSGCONN_CHUNK 16384
/* What one peer may have handled per turn of the main loop: then it yields
 * to the other sources (and links) and goes on at the next turn, so that
 * one peer sending as fast as it can delays the others by one budget's
 * work at most.  Whichever runs out first. */
#define MSGCONN_TURN_MSGS 64
#define MSGCONN_TURN_BYTES (2 * MSGCONN_CHUNK)
#define MSGCONN_TURN_RECORDS 64

static uint64_t budget_yields;	/* all links of the process (atomic) */
static uint64_t framing_errors;	/* likewise */

struct nu_msgconn {
	int fd;
	gnutls_session_t session;
	const struct nu_msgconn_ops *ops;
	void *ctx;
	bool handshaking;
	bool closed;
	bool free_requested;
	int dispatch_depth;	/* > 0 while our callbacks run */
	GSource *in_source;
	GSource *out_source;	/* NULL when nothing waits for POLLOUT */
	GSource *later_source;	/* idle source for a deferred close or read */
	GSource *flush_source;	/* idle source writing what this turn queued */
	GSource *resume_source;	/* reading goes on at the next turn */
	bool deferred;		/* the turn's budget ran out: resume_source reads */
	char *close_why;	/* a close decided inside send, done later */
	size_t send_pending;	/* chunk size of a send that returned EAGAIN */
	size_t max_backlog;	/* bytes queued unsent before the link closes */
	GByteArray *in;
	GByteArray *out;
};

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data);
static void flush(struct nu_msgconn *c);
static gboolean on_writable(gint fd, GIOCondition cond, gpointer data);

static void watch_out(struct nu_msgconn *c, bool want)
{
	if (want && !c->out_source)
		c->out_source = nu_watch_fd(c->fd, G_IO_OUT, on_writable, c);
	else if (!want)
		nu_source_cancel(&c->out_source);
}

static void really_free(struct nu_msgconn *c)
{
	nu_source_cancel(&c->later_source);
	nu_source_cancel(&c->flush_source);
	nu_source_cancel(&c->resume_source);
	g_free(c->close_why);
	if (c->session)
		gnutls_deinit(c->session);
	if (c->fd >= 0)
		close(c->fd);
	g_byte_array_unref(c->in);
	g_byte_array_unref(c->out);
	g_free(c);
}

void nu_msgconn_close(struct nu_msgconn *c, const char *why)
{
	if (c->closed)
		return;
	/* What was queued (an ERROR, a refused login's answer) goes out
	 * before the link closes, as far as the socket takes it now. */
	if (!c->handshaking && !c->close_why)
		flush(c);
	c->closed = true;
	nu_source_cancel(&c->in_source);
	nu_source_cancel(&c->flush_source);
	nu_source_cancel(&c->resume_source);
	watch_out(c, false);
	if (!c->handshaking)
		gnutls_bye(c->session, GNUTLS_SHUT_WR);	/* best effort, non-blocking */
	c->dispatch_depth++;
	c->ops->on_close(c, why, c->ctx);
	c->dispatch_depth--;
	if (c->free_requested && c->dispatch_depth == 0)
		really_free(c);
}

void nu_msgconn_free(struct nu_msgconn *c)
{
	if (!c)
		return;
	if (!c->closed) {
		/* Freed without a close: tear down quietly, no callback. */
		c->closed = true;
		nu_source_cancel(&c->in_source);
		nu_source_cancel(&c->resume_source);
		watch_out(c, false);
	}
	if (c->dispatch_depth > 0)
		c->free_requested = true;
	else
		really_free(c);
}

static void step(struct nu_msgconn *c, bool writable, bool resume);

static gboolean on_later(gpointer data)
{
	struct nu_msgconn *c = data;

	g_clear_pointer(&c->later_source, g_source_unref);
	step(c, false, true);
	return G_SOURCE_REMOVE;
}

static gboolean on_resume(gpointer data)
{
	struct nu_msgconn *c = data;

	g_clear_pointer(&c->resume_source, g_source_unref);
	step(c, false, true);
	return G_SOURCE_REMOVE;
}

/* A send that fails must not close the link under its caller, who may go on
 * using its own state: the close (and on_close) happens when the current
 * dispatch ends, or from the main loop. */
static void close_later(struct nu_msgconn *c, const char *why)
{
	if (c->closed || c->close_why)
		return;
	c->close_why = g_strdup(why);
	watch_out(c, false);
	if (c->dispatch_depth == 0 && !c->later_source)
		c->later_source = nu_idle(on_later, c);
}

void nu_msgconn_flush(struct nu_msgconn *c)
{
	if (!c->closed && !c->handshaking)
		flush(c);
}

static void flush(struct nu_msgconn *c)
{
	while (!c->closed && !c->close_why && c->out->len > 0) {
		ssize_t n;

		if (c->send_pending)
			n = gnutls_record_send(c->session, NULL, 0);
		else {
			c->send_pending = MIN(c->out->len, MSGCONN_CHUNK);
			n = gnutls_record_send(c->session, c->out->data, c->send_pending);
		}
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			watch_out(c, true);
			return;
		}
		c->send_pending = 0;
		if (n < 0) {
			char *why = g_strdup_printf("send failed: %s", gnutls_strerror((int)n));
			close_later(c, why);
			g_free(why);
			return;
		}
		g_byte_array_remove_range(c->out, 0, (guint)n);
	}
	watch_out(c, false);
}

static gboolean on_flush(gpointer data)
{
	struct nu_msgconn *c = data;

	g_clear_pointer(&c->flush_source, g_source_unref);
	c->dispatch_depth++;
	flush(c);
	if (c->close_why && !c->closed)
		nu_msgconn_close(c, c->close_why);
	c->dispatch_depth--;
	if (c->free_requested && c->dispatch_depth == 0)
		really_free(c);
	return G_SOURCE_REMOVE;
}

void nu_msgconn_send(struct nu_msgconn *c, const uint8_t *msg, size_t len)
{
	if (c->closed || c->close_why)
		return;
	if (c->out->len + len > c->max_backlog) {
		close_later(c, "peer does not read: send backlog full");
		return;
	}
	g_byte_array_append(c->out, msg, (guint)len);
	if (c->handshaking)
		return;
	/* Messages queued during one turn of the main loop (a burst of
	 * packets, a burst of decisions) leave together, in as few TLS
	 * records and system calls as they fit in, once the turn is over. */
	if (c->out->len >= MSGCONN_CHUNK)
		flush(c);
	else if (!c->flush_source && !c->out_source)
		c->flush_source = nu_idle_high(on_flush, c);
}

struct budget {
	unsigned msgs, records;
	size_t bytes;
};

static bool budget_spent(const struct budget *b)
{
	return b->msgs == 0 || b->records == 0 || b->bytes == 0;
}

/* Hands the whole messages in the input buffer to on_message, as many as
 * the budget allows. */
static void deliver(struct nu_msgconn *c, struct budget *b)
{
	size_t off = 0;

	while (!c->closed && !c->close_why && b->msgs > 0) {
		struct nu_msg_header hdr;
		enum nu_proto_status st = nu_msg_peek_header(c->in->data + off, c->in->len - off, &hdr);

		if (st == NU_PROTO_TRUNCATED)
			break;
		if (st != NU_PROTO_OK) {
			__atomic_fetch_add(&framing_errors, 1, __ATOMIC_RELAXED);
			nu_msgconn_closef(c, "bad message framing: %s", nu_proto_strerror(st));
			return;
		}
		if (c->in->len - off < hdr.length)
			break;
		b->msgs--;
		c->ops->on_message(c, &hdr, c->in->data + off, hdr.length, c->ctx);
		off += hdr.length;
	}
	if (!c->closed && off > 0)
		g_byte_array_remove_range(c->in, 0, (guint)off);
}

/* The budget ran out: stop reading until the next turn.  epoll would tell
 * again about bytes left in the socket, but not about records GnuTLS has
 * already read nor about messages waiting in c->in, so an idle source at
 * the watches' own priority comes back for them; meanwhile the fd's
 * watches do not read (one budget per turn). */
static void defer(struct nu_msgconn *c)
{
	c->deferred = true;
	__atomic_fetch_add(&budget_yields, 1, __ATOMIC_RELAXED);
	if (!c->resume_source)
		c->resume_source = nu_soon(on_resume, c);
}

uint64_t nu_msgconn_budget_yields(void)
{
	return __atomic_load_n(&budget_yields, __ATOMIC_RELAXED);
}

uint64_t nu_msgconn_framing_errors(void)
{
	return __atomic_load_n(&framing_errors, __ATOMIC_RELAXED);
}

static void do_handshake(struct nu_msgconn *c)
{
	int ret = gnutls_handshake(c->session);

	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
		watch_out(c, gnutls_record_get_direction(c->session) == 1);
		return;
	}
	watch_out(c, false);
	if (ret < 0) {
		char *err = nu_tls_handshake_error(c->session, ret);
		/* Tell the peer (a refused certificate: its client says so
		 * rather than that nobody answered). */
		nu_tls_send_refusal(c->session, ret);
		nu_msgconn_closef(c, "TLS handshake failed: %s", err);
		g_free(err);
		return;
	}
	c->handshaking = false;
	if (c->ops->on_ready)
		c->ops->on_ready(c, c->ctx);
	if (!c->closed)
		flush(c);
}

static void do_read(struct nu_msgconn *c)
{
	uint8_t buf[MSGCONN_CHUNK];
	struct budget b = { MSGCONN_TURN_MSGS, MSGCONN_TURN_RECORDS, MSGCONN_TURN_BYTES };

	c->deferred = false;
	while (!c->closed && !c->close_why) {
		ssize_t n;

		/* Messages left over from the last turn go first; nothing
		 * more is read while a whole one waits, so c->in stays
		 * below two messages. */
		deliver(c, &b);
		if (c->closed || c->close_why)
			return;
		if (budget_spent(&b)) {
			defer(c);
			return;
		}
		n = gnutls_record_recv(c->session, buf, sizeof(buf));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return;
		if (n == 0) {
			nu_msgconn_close(c, "closed by peer");
			return;
		}
		b.records--;
		if (n < 0) {
			if (!gnutls_error_is_fatal((int)n))
				continue;
			nu_msgconn_closef(c, "receive failed: %s", gnutls_strerror((int)n));
			return;
		}
		g_byte_array_append(c->in, buf, (guint)n);
		b.bytes = (size_t)n < b.bytes ? b.bytes - (size_t)n : 0;
	}
}

static void step(struct nu_msgconn *c, bool writable, bool resume)
{
	c->dispatch_depth++;
	if (c->handshaking && !c->close_why)
		do_handshake(c);
	if (!c->closed && !c->handshaking && !c->close_why) {
		if (writable)
			flush(c);
		/* While deferred, only resume_source reads. */
		if (!c->closed && !c->close_why && (!c->deferred || resume))
			do_read(c);
	}
	if (c->close_why && !c->closed)
		nu_msgconn_close(c, c->close_why);
	c->dispatch_depth--;
	if (c->free_requested && c->dispatch_depth == 0)
		really_free(c);
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	(void)fd;
	(void)cond;
	step(data, false, false);
	return G_SOURCE_CONTINUE;	/* a closed link has removed the source */
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data)
{
	struct nu_msgconn *c = data;

	(void)fd;
	(void)cond;
	/* Returning REMOVE would leave a stale id: let watch_out do it. */
	step(c, true, false);
	return G_SOURCE_CONTINUE;
}

struct nu_msgconn *nu_msgconn_new(int fd, gnutls_session_t session, bool handshake_done,
				  const struct nu_msgconn_ops *ops, void *ctx)
{
	struct nu_msgconn *c = g_new0(struct nu_msgconn, 1);

	c->fd = fd;
	c->session = session;
	c->ops = ops;
	c->ctx = ctx;
	c->handshaking = !handshake_done;
	c->max_backlog = MSGCONN_MAX_BACKLOG;
	c->in = g_byte_array_new();
	c->out = g_byte_array_new();
	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	c->in_source = nu_watch_fd(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, c);
	if (c->handshaking)
		watch_out(c, true);	/* a client speaks first: start at once */
	else if (gnutls_record_check_pending(session) > 0)
		/* Records read during a blocking login wait inside GnuTLS,
		 * where poll cannot see them. */
		c->later_source = nu_idle(on_later, c);
	return c;
}

void nu_msgconn_closef(struct nu_msgconn *c, const char *fmt, ...)
{
	va_list ap;
	char *why;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	nu_msgconn_close(c, why);
	g_free(why);
}

void nu_msgconn_fail(struct nu_msgconn *c, const char *fmt, ...)
{
	uint8_t buf[NU_TEXT_MAX + 64];
	va_list ap;
	char *why;
	size_t len;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (nu_error_encode(buf, sizeof(buf), why, &len) == NU_PROTO_OK)
		nu_msgconn_send(c, buf, len);
	nu_msgconn_close(c, why);
	g_free(why);
}

void nu_msgconn_close_peer_error(struct nu_msgconn *c, const uint8_t *msg, size_t len)
{
	char text[NU_TEXT_MAX] = "";

	if (nu_error_decode(msg, len, text, sizeof(text)) != NU_PROTO_OK)
		g_strlcpy(text, "(malformed ERROR message)", sizeof(text));
	nu_msgconn_closef(c, "the peer said: %s", text);
}

bool nu_msgconn_is_open(const struct nu_msgconn *c)
{
	return !c->closed && !c->handshaking && !c->close_why;
}

gnutls_session_t nu_msgconn_session(const struct nu_msgconn *c)
{
	return c->session;
}

int nu_msgconn_fd(const struct nu_msgconn *c)
{
	return c->fd;
}

size_t nu_msgconn_backlog(const struct nu_msgconn *c)
{
	return c->out->len;
}

void nu_msgconn_set_max_backlog(struct nu_msgconn *c, size_t bytes)
{
	c->max_backlog = MAX(bytes, (size_t)NU_MSG_MAX_LEN);
}
