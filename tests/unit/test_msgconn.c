/* Unit tests for the per-turn budget of src/lib/msgconn.c: two links over
 * a socketpair with anonymous TLS.  A peer sending as fast as it can gets
 * at most one budget of messages per turn of the main loop, every message
 * still arrives in order (also those GnuTLS has read ahead, which epoll
 * does not report again), and a second link's message is not held up
 * behind the flood. */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <glib.h>
#include <gnutls/gnutls.h>

#include "msgconn.h"
#include "proto.h"
#include "unit.h"

#define TURN_MSGS 64	/* MSGCONN_TURN_MSGS */

struct end {
	struct nu_msgconn *c;
	bool ready, closed;
	unsigned got;		/* messages received */
	unsigned this_turn;	/* of which in the current turn */
	unsigned most_in_turn;
	uint32_t next_id;	/* ids must arrive in order */
	bool in_order;
};

static void on_ready(struct nu_msgconn *c, void *ctx)
{
	(void)c;
	((struct end *)ctx)->ready = true;
}

static void on_message(struct nu_msgconn *c, const struct nu_msg_header *hdr,
		       const uint8_t *msg, size_t len, void *ctx)
{
	struct end *e = ctx;

	(void)c;
	(void)msg;
	(void)len;
	if (hdr->id != e->next_id)
		e->in_order = false;
	e->next_id = hdr->id + 1;
	e->got++;
	e->this_turn++;
}

static void on_close(struct nu_msgconn *c, const char *why, void *ctx)
{
	(void)c;
	(void)why;
	((struct end *)ctx)->closed = true;
}

static const struct nu_msgconn_ops ops = {
	.on_ready = on_ready, .on_message = on_message, .on_close = on_close,
};

static gnutls_anon_server_credentials_t server_creds;
static gnutls_anon_client_credentials_t client_creds;

static gnutls_session_t session(unsigned flags, int fd)
{
	gnutls_session_t s;

	gnutls_init(&s, flags | GNUTLS_NONBLOCK);
	gnutls_priority_set_direct(s, "NORMAL:-VERS-TLS1.3:+ANON-ECDH", NULL);
	if (flags & GNUTLS_SERVER)
		gnutls_credentials_set(s, GNUTLS_CRD_ANON, server_creds);
	else
		gnutls_credentials_set(s, GNUTLS_CRD_ANON, client_creds);
	gnutls_transport_set_int(s, fd);
	return s;
}

/* One turn of the default context; records the most any end got in it. */
static bool turn(struct end *ends, size_t n)
{
	bool did;

	for (size_t i = 0; i < n; i++)
		ends[i].this_turn = 0;
	did = g_main_context_iteration(NULL, FALSE);
	for (size_t i = 0; i < n; i++)
		ends[i].most_in_turn = MAX(ends[i].most_in_turn, ends[i].this_turn);
	return did;
}

/* A connected pair: tx sends, rx receives. */
static void pair(struct end *tx, struct end *rx)
{
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	memset(tx, 0, sizeof(*tx));
	memset(rx, 0, sizeof(*rx));
	tx->in_order = rx->in_order = true;
	rx->c = nu_msgconn_new(sv[0], session(GNUTLS_SERVER, sv[0]), false, &ops, rx);
	tx->c = nu_msgconn_new(sv[1], session(GNUTLS_CLIENT, sv[1]), false, &ops, tx);
	for (int i = 0; i < 1000 && !(tx->ready && rx->ready); i++)
		g_main_context_iteration(NULL, FALSE);
	CHECK(tx->ready && rx->ready);
}

static void send_keepalives(struct end *tx, uint32_t first, unsigned n)
{
	uint8_t buf[NU_MSG_HEADER_LEN];
	size_t len;

	for (unsigned i = 0; i < n; i++)
		if (nu_keepalive_encode(buf, sizeof(buf), first + i, &len) == NU_PROTO_OK)
			nu_msgconn_send(tx->c, buf, len);
	nu_msgconn_flush(tx->c);
}

static void test_budget_per_turn(void)
{
	struct end e[2];
	uint64_t yields = nu_msgconn_budget_yields();
	int turns = 0;

	pair(&e[0], &e[1]);
	send_keepalives(&e[0], 0, 3000);
	while (e[1].got < 3000 && turns < 10000) {
		turn(e, 2);
		turns++;
	}
	CHECK(e[1].got == 3000);
	CHECK(e[1].in_order);
	CHECK(e[1].most_in_turn == TURN_MSGS);	/* the budget, not the socket, limited it */
	CHECK(turns >= 3000 / TURN_MSGS);
	CHECK(nu_msgconn_budget_yields() > yields);
	/* Nothing left over: the loop goes idle with everything delivered. */
	while (turn(e, 2))
		;
	CHECK(e[1].got == 3000 && !e[1].closed);
	nu_msgconn_free(e[0].c);
	nu_msgconn_free(e[1].c);
}

/* Messages the receiver's GnuTLS read ahead in one record are delivered
 * with no more bytes arriving on the socket. */
static void test_buffered_records(void)
{
	struct end e[2];
	int turns = 0;

	pair(&e[0], &e[1]);
	/* 2000 keepalives of 8 bytes: one TLS record holds 2048. */
	send_keepalives(&e[0], 0, 2000);
	while (e[1].got < 2000 && turns < 1000) {
		turn(e, 2);
		turns++;
	}
	CHECK(e[1].got == 2000 && e[1].in_order && e[1].most_in_turn <= TURN_MSGS);
	nu_msgconn_free(e[0].c);
	nu_msgconn_free(e[1].c);
}

/* While one link floods, another link's single message arrives within a
 * couple of turns. */
static void test_fair(void)
{
	struct end e[4];
	int turns = 0;

	pair(&e[0], &e[1]);
	pair(&e[2], &e[3]);
	send_keepalives(&e[0], 0, 20000);
	for (int i = 0; i < 5; i++)
		turn(e, 4);
	CHECK(e[1].got > 0 && e[1].got < 20000);
	send_keepalives(&e[2], 0, 1);
	while (e[3].got == 0 && turns < 100) {
		turn(e, 4);
		turns++;
	}
	CHECK(e[3].got == 1);
	CHECK(turns <= 3);
	CHECK(e[1].got < 20000);	/* the flood was still going */
	while (e[1].got < 20000 && turns < 100000) {
		turn(e, 4);
		turns++;
	}
	CHECK(e[1].got == 20000 && e[1].in_order);
	for (int i = 0; i < 4; i++)
		nu_msgconn_free(e[i].c);
}

int main(void)
{
	gnutls_global_init();
	gnutls_anon_allocate_server_credentials(&server_creds);
	gnutls_anon_allocate_client_credentials(&client_creds);
	test_budget_per_turn();
	test_buffered_records();
	test_fair();
	gnutls_anon_free_server_credentials(server_creds);
	gnutls_anon_free_client_credentials(client_creds);
	return unit_done("test_msgconn");
}
