/* nutcpc, the desktop client.
 *
 *   main.c         options, password, the main loop and announcements
 *   session.c      connect, TLS, HELLO and login (blocking, with timeouts)
 *   sasl_client.c  the SASL conversation
 *   conntable.c    the user's new connections, from the kernel */
#ifndef NUTCPC_H
#define NUTCPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include "proto.h"

struct nutcpc_options {
	const char *host;		/* -H */
	const char *port;		/* -p */
	const char *user;		/* -U */
	char *password;			/* -P, NUTCPC_PASSWORD or prompt */
	const char *ca;			/* -A */
	bool check_name;		/* not -N */
	bool foreground;		/* -d */
};

/* A logged-in link, ready to be handed to the main loop. */
struct nutcpc_link {
	int fd;
	gnutls_session_t tls;
};

enum nutcpc_login_result {
	NUTCPC_LOGIN_OK,
	NUTCPC_LOGIN_REFUSED,		/* nuauth said no: wrong password, unknown user */
	NUTCPC_LOGIN_UNREACHABLE,	/* network, TLS or protocol trouble: try again */
};

/* Connects, checks nuauth's certificate, and logs in.  On failure *err is a
 * g_strdup'ed sentence for the user. */
enum nutcpc_login_result nutcpc_login(const struct nutcpc_options *opt,
				      gnutls_certificate_credentials_t creds,
				      struct nutcpc_link *link, char **err);

/* Blocking message I/O on a non-blocking TLS link, bounded by timeout_ms. */
bool nutcpc_send_msg(const struct nutcpc_link *link, const uint8_t *msg, size_t len,
		     int timeout_ms);
/* Reads one whole message into buf (cap >= NU_MSG_MAX_LEN); false on
 * timeout, close or a framing error. */
bool nutcpc_recv_msg(const struct nutcpc_link *link, uint8_t *buf, size_t cap,
		     struct nu_msg_header *hdr, int timeout_ms);

/* The SASL conversation, once HELLO has told the mechanisms on offer. */
enum nutcpc_login_result nutcpc_sasl_login(const struct nutcpc_link *link,
					   const struct nutcpc_options *opt,
					   const char *mech_list, char **err);

#endif
