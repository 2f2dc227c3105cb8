/* The JSON of etcd's v3 gateway (POST /v3/...): requests built, answers
 * read.  Keys and values travel in base64; 64-bit numbers come as strings
 * ("ID":"7587...") and are read in either form.  Pure functions, no I/O:
 * cluster_etcd.c sends and receives, the unit tests (test_etcd_json) feed
 * these with the answers a real etcd 3.4 gave. */
#ifndef NUAUTH_ETCD_JSON_H
#define NUAUTH_ETCD_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* One key and its value (empty for a DELETE event). */
struct etcd_kv {
	char *key;
	GBytes *value;
	bool deleted;			/* a watch event of type DELETE */
};
void etcd_kv_free(gpointer kv);

/* The end of the range of every key under prefix (the prefix with its last
 * byte incremented, shorter when it ends in 0xff bytes; "\0" for all keys). */
char *etcd_prefix_end(const char *prefix, size_t *len);

/* Request bodies (g_free). */
char *etcd_json_put(const char *key, const void *value, size_t len, int64_t lease);
char *etcd_json_delete(const char *key);
char *etcd_json_range(const char *prefix);
char *etcd_json_watch(const char *prefix, int64_t start_revision);
char *etcd_json_lease_grant(unsigned ttl);
char *etcd_json_lease_id(int64_t id);	/* keepalive and revoke */
char *etcd_json_auth(const char *user, const char *password);
/* Transactions (kv/txn) on one key, for the cluster-wide limits' slots
 * (cluster.c): put key (with lease) when it does not exist, or when its
 * value is expect (a slot taken over); delete it when its value is
 * expect (a slot released only by its holder). */
char *etcd_json_put_if_absent(const char *key, const void *value, size_t len,
			      int64_t lease);
char *etcd_json_put_if_value(const char *key, const char *expect, const void *value,
			     size_t len, int64_t lease);
char *etcd_json_delete_if_value(const char *key, const char *expect);

/* Answers.  Each returns false with *error (NU_ERROR_PROTOCOL) when the
 * body is not what etcd sends, or carries an "error". */
/* lease/grant (ID and TTL at the top) and lease/keepalive (inside
 * "result"): *ttl 0 means the lease is gone. */
bool etcd_json_read_lease(const char *body, size_t len, int64_t *id, int64_t *ttl,
			  GError **error);
/* kv/range: the revision of the snapshot and its keys (struct etcd_kv *). */
bool etcd_json_read_range(const char *body, size_t len, int64_t *revision, GPtrArray *kvs,
			  GError **error);
/* One message of a watch stream: its events appended to kvs, *revision
 * the header's; *canceled when etcd ended the watch (compacted...). */
bool etcd_json_read_watch(const char *body, size_t len, int64_t *revision, GPtrArray *kvs,
			  bool *canceled, GError **error);
/* kv/txn: whether the comparison held. */
bool etcd_json_read_txn(const char *body, size_t len, bool *succeeded, GError **error);
/* auth/authenticate: the token (g_free). */
char *etcd_json_read_token(const char *body, size_t len, GError **error);

/* A session of the directory (doc/cluster.md): the value of
 * PREFIX/sessions/NODE/ID, a JSON object. */
struct etcd_session {
	char *id, *user, *address, *node, *mechanism;
	int64_t login_time;		/* Unix time */
};
char *etcd_json_session(const struct etcd_session *s);
/* False with *error when a member is missing or of the wrong type. */
bool etcd_json_read_session(const char *body, size_t len, struct etcd_session *s,
			    GError **error);
void etcd_session_clear(struct etcd_session *s);

/* A command to the node that holds a session (doc/cluster.md): the value
 * of PREFIX/commands/NODE/ID, a JSON object; "disconnect" ends every
 * session of user on NODE; "connections" puts NODE's list of connections
 * under the key reply (user is "" then). */
struct etcd_command {
	char *command, *user, *from;	/* from: the node that sent it */
	char *reply;			/* optional: "" when absent */
};
char *etcd_json_command(const struct etcd_command *cmd);
bool etcd_json_read_command(const char *body, size_t len, struct etcd_command *cmd,
			    GError **error);
void etcd_command_clear(struct etcd_command *cmd);

/* A node's answer to "connections" (PREFIX/replies/ASKER/ID/NODE): a JSON
 * object {"node": NODE, "connections": [objects], "more": N} (N left out
 * to stay under etcd's size limit).  Each object of the array comes back
 * as JSON text of its own in *items (NULL-terminated); false with *error
 * when the record is malformed or an item is no object. */
bool etcd_json_read_listing(const char *body, size_t len, char ***items, uint64_t *more,
			    GError **error);

/* A node's failed-login record (doc/cluster.md, "Failed logins across the
 * cluster"): the value of PREFIX/fails/NODE/ID, {"failures":N,"window":T,
 * "locked_until":T,"lock":S,"spent":T}, or of PREFIX/known/NODE/ID, {"known_until":T}
 * (T: Unix time, 0 none; S: seconds).  No name, no address. */
struct etcd_throttle {
	int64_t failures, window, locked_until, lock, spent;
	int64_t known_until;
};
char *etcd_json_throttle(const struct etcd_throttle *t, bool known);
/* False with *error when a member is missing, negative or of the wrong
 * type. */
bool etcd_json_read_throttle(const char *body, size_t len, bool known, struct etcd_throttle *t,
			     GError **error);

#endif
