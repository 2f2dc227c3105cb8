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

/* Connects to host (family AF_INET or AF_INET6 only), checks nuauth's
 * certificate and logs in.  On failure *err is a g_strdup'ed sentence. */
enum nuclient_status nc_login(const struct nc_options *opt, const char *host, int family,
			      gnutls_certificate_credentials_t creds,
			      struct nc_tls_link *link, char **err);

#endif
