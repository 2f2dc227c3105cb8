/* libnuclient's private parts.
 *
 *   client.c     the public API: the object, its state, login, the loop
 *                (options.c, announce.c, link.c: see client_int.h)
 *   login.c      connect, TLS, HELLO and the SASL login (blocking, bounded)
 *   conntable.c  the user's sockets from the kernel; their programs (its
 *                readers: see conntable_int.h) */
#ifndef NUCLIENT_INTERNAL_H
#define NUCLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include "nuclient.h"
#include "proto.h"

/* What a login needs (owned by struct nuclient). */
struct nc_options {
	char *server;		/* comma-separated addresses or names */
	char *port;
	char *user;
	char *password;
	char *ca;
	char *cert;
	char *key;
	char *crl;
	char *mechanisms;	/* NULL: any nuauth offers (SCRAM first) */
	bool check_name;
	unsigned keepalive_s;
	bool udp_unconnected;	/* unconnected UDP sockets prove their port */
	bool desktop_notify;	/* for the front end: notices in the desktop */
	char keepalive_str[16];	/* nuclient_get's answer for the keep-alive */
};

/* A logged-in TLS link before the main loop takes it. */
struct nc_tls_link {
	int fd;
	gnutls_session_t tls;
};

/* A link's session, to resume on its next login (doc/protocol.md,
 * "Resuming a session"): nuauth's token from the last good login, so that
 * a logout after a failover also ends the connections the last node
 * accepted.  Kept in memory only, for the life of the process. */
struct nc_resume {
	bool valid;
	uint8_t token[NU_RESUME_LEN];
};

/* Connects to host (family AF_INET or AF_INET6 only), checks nuauth's
 * certificate and logs in, presenting resume's token when it is valid;
 * a good login leaves nuauth's new token there.  On failure *err is a
 * g_strdup'ed sentence. */
enum nuclient_status nc_login(const struct nc_options *opt, const char *host, int family,
			      gnutls_certificate_credentials_t creds,
			      struct nc_tls_link *link, struct nc_resume *resume, char **err);

#endif
