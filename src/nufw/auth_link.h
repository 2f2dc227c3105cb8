/* nufw's TLS link to nuauth.  It connects, checks nuauth's certificate
 * (CA, and host name unless told not to), exchanges HELLO, and reconnects
 * with a capped back-off whenever the link is lost. */
#ifndef NUFW_AUTH_LINK_H
#define NUFW_AUTH_LINK_H

#include <stdbool.h>
#include <gnutls/gnutls.h>
#include "proto.h"

struct nufw_link;

struct nufw_link_ops {
	void (*on_up)(void *ctx);
	void (*on_down)(void *ctx);
	void (*on_decision)(const struct nu_decision *d, void *ctx);
	void (*on_destroy)(const struct nu_flow *flow, void *ctx);
};

struct nufw_link *nufw_link_new(const char *host, const char *port,
				gnutls_certificate_credentials_t creds, bool check_name,
				const struct nufw_link_ops *ops, void *ctx);
void nufw_link_free(struct nufw_link *l);
/* True once HELLO was answered, until the link drops. */
bool nufw_link_is_up(const struct nufw_link *l);
void nufw_link_send(struct nufw_link *l, const uint8_t *msg, size_t len);

#endif
