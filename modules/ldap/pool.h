/* A bounded pool of LDAP connections, bound as the service account
 * (ldap_bind_dn, or anonymous).
 *
 * Threads may share a pool.  Every network call has a time limit
 * (ldap_network_timeout to connect, ldap_request_timeout per request), so
 * no call hangs.  A connection that failed is closed, with every idle one
 * (after a server restart they are all dead); the next request opens new
 * ones.  After a failed connect, requests fail at once for a second
 * instead of each waiting for its own connect to fail. */
#ifndef NU_LDAP_POOL_H
#define NU_LDAP_POOL_H

#include <stdbool.h>
#include <ldap.h>

#include "ldapconf.h"

struct nu_ldap_pool;

/* conf must outlive the pool. */
struct nu_ldap_pool *nu_ldap_pool_new(const struct nu_ldap_conf *conf);
void nu_ldap_pool_free(struct nu_ldap_pool *pool);

/* One request on a connection: returns an LDAP result code.  It may bind
 * as someone else on ld; it must then set *rebind, and the connection is
 * bound as the service account again before its next use. */
typedef int (*nu_ldap_op)(LDAP *ld, bool *rebind, void *ctx);

/* Runs op on a pooled connection, and once more on a new connection when
 * a reused one turns out to be dead (server restarted).  Returns op's
 * code, or the code of the failure to connect, bind or get a connection
 * in time (then op did not run). */
int nu_ldap_pool_run(struct nu_ldap_pool *pool, nu_ldap_op op, void *ctx);

/* A simple bind as dn with password (len bytes) on ld, waiting at most
 * timeout seconds for the answer: an LDAP result code. */
int nu_ldap_simple_bind(LDAP *ld, const char *dn, const char *password, size_t len,
			unsigned timeout);

/* Does rc mean that the connection (or the server) is gone? */
bool nu_ldap_rc_is_link_error(int rc);

#endif
