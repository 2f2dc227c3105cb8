/* nufw's TLS link to nuauth.  It connects, checks nuauth's certificate
 * (CA, and host name unless told not to), exchanges HELLO, and reconnects
 * with a capped back-off whenever the link is lost. */
#ifndef NUFW_AUTH_LINK_H
#define NUFW_AUTH_LINK_H

#include <stdbool.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include "proto.h"

struct nufw_link;

struct nufw_link_ops {
	void (*on_up)(void *ctx);
	void (*on_down)(void *ctx);
	void (*on_decision)(const struct nu_decision *d, void *ctx);
	void (*on_destroy)(const struct nu_flow *flow, void *ctx);
	void (*on_expires)(const struct nu_conn_expires *m, void *ctx);
	void (*on_session_end)(uint64_t session, void *ctx);
};

/* nuauth's addresses.  main.c resolves nuauth's name once per (re)connect
 * cycle, at start and at each SIGHUP, on its own thread, and every worker's
 * link shares the result: a slow resolver never stalls a packet path, and
 * N queues do not mean N look-ups. */
struct nufw_addrs;

/* -d names up to this many nuauth nodes, comma-separated; nufw keeps a
 * link to each (doc/cluster.md). */
#define NUFW_NODES_MAX 8

/* The node names of -d, stripped (g_strfreev); NULL with *error when the
 * list is empty, has an empty name or too many. */
char **nufw_nodes_split(const char *list, GError **error);

/* Every node of the list host resolved: NULL with *error (NU_ERROR_RESOLVE)
 * when a name does not resolve. */
struct nufw_addrs *nufw_addrs_resolve(const char *host, const char *port, GError **error);
struct nufw_addrs *nufw_addrs_ref(struct nufw_addrs *a);
void nufw_addrs_unref(struct nufw_addrs *a);

/* A link to the node-th node of addrs; host is that node's name, which
 * its certificate names (checked unless !check_name).  addrs NULL: the
 * link waits for nufw_link_set_addrs. */
struct nufw_link *nufw_link_new(const char *host, const char *port, struct nufw_addrs *addrs,
				unsigned node, gnutls_certificate_credentials_t creds,
				bool check_name, const struct nufw_link_ops *ops, void *ctx);
/* The addresses, once resolved, of a link that had none: it connects. */
void nufw_link_set_addrs(struct nufw_link *l, struct nufw_addrs *addrs);
void nufw_link_free(struct nufw_link *l);
/* True once HELLO was answered, until the link drops. */
bool nufw_link_is_up(const struct nufw_link *l);
void nufw_link_send(struct nufw_link *l, const uint8_t *msg, size_t len);

#endif
