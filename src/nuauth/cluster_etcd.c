/* The etcd client (cluster_etcd.h).
 *
 *   the request thread   grants the lease (authenticating first when a user
 *                        is set), keeps it alive every ttl/3 s, and sends
 *                        the puts and deletes the main loop queued; it keeps
 *                        every key it put, so that a new lease (the old one
 *                        expired while etcd was out of reach) or a failed
 *                        request is followed by putting them all again;
 *   the watch thread     reads the whole prefix (kv/range), hands it to the
 *                        main loop as a reset, then streams kv changes from
 *                        the next revision (POST /v3/watch, one JSON message
 *                        a line); a broken stream starts over with a range.
 *
 * Each thread has its own curl easy handle (a kept-alive connection) and
 * walks the endpoints in turn when one does not answer.  What reaches the
 * main loop goes through a mailbox (a queue under a mutex, drained by an
 * idle call on the main context), in order. */
#include "config.h"
#include "cluster_etcd.h"

#include <string.h>
#include <curl/curl.h>

#include "error.h"
#include "etcd_json.h"
#include "evloop.h"
#include "log.h"

#define REQUEST_TIMEOUT_MS 2000
#define CONNECT_TIMEOUT_MS 1000
#define RETRY_MS 500

/* What the threads hand to the main loop. */
struct mailbox {
	GMutex lock;
	GQueue items;			/* struct item */
	bool closed;			/* etcd_client_free ran: drop everything */
	GMainContext *main;
	etcd_update_fn update;
	etcd_lease_fn lease;
	void *ctx;
};

struct item {
	enum { ITEM_UPDATE, ITEM_LEASE, ITEM_CLAIM } kind;
	GPtrArray *kvs;
	bool flag;			/* reset, or lease up */
	/* ITEM_CLAIM */
	etcd_claim_fn claimed;
	void *claim_ctx;
	char *slot;			/* the slot won, NULL: none */
	bool answered;			/* etcd answered the claim */
};

enum op_kind { OP_PUT, OP_PUT_ONCE, OP_DELETE, OP_CLAIM, OP_RELEASE, OP_STOP };

struct op {
	enum op_kind kind;
	char *key;
	GBytes *value;
	unsigned ttl;			/* OP_PUT_ONCE: its own lease's, s */
	/* OP_CLAIM */
	char **slots, **takeover, *mine;
	etcd_claim_fn claimed;
	void *claim_ctx;
};

/* One thread's HTTP side. */
struct http {
	struct etcd_client *c;
	CURL *curl;
	unsigned endpoint;		/* the one tried first */
	char *token;			/* etcd's auth token, when a user is set */
	char *last_error;		/* logged once until it changes */
};

struct etcd_client {
	struct etcd_client_config cfg;
	char *prefix;
	struct mailbox *mb;
	GAsyncQueue *ops;		/* struct op */
	gint stop;			/* atomic */
	gint restart_watch;		/* atomic: the request thread lost etcd */
	GThread *req_thread, *watch_thread;
	/* what the main loop reads of the threads' health */
	GMutex health;
	gint64 req_ok_at;		/* the request thread's last answer (0: none) */
	gint64 snapshot_at;		/* when the last good range was asked */
	/* request thread only */
	struct http req;
	int64_t lease;			/* 0: none */
	GHashTable *owned;		/* key -> GBytes value: the node's keys */
	GHashTable *to_delete;		/* keys whose delete failed */
	GHashTable *slots;		/* slot key -> our value: the slots held */
	GHashTable *to_release;		/* slot key -> our value: release failed */
	bool dirty;			/* a request failed: put everything again */
	/* watch thread only */
	struct http watch;
	GString *stream;		/* the watch stream's bytes not yet a line */
	int64_t revision;
	bool stream_broken;
};

/* ---- the mailbox ---- */

static void item_free(gpointer p)
{
	struct item *it = p;

	if (it->kvs)
		g_ptr_array_unref(it->kvs);
	g_free(it->slot);
	g_free(it);
}

static void mailbox_clear(gpointer p)
{
	struct mailbox *mb = p;

	g_queue_clear_full(&mb->items, item_free);
	g_mutex_clear(&mb->lock);
	g_main_context_unref(mb->main);
}

static gboolean mailbox_drain(gpointer p)
{
	struct mailbox *mb = p;

	/* Only the main thread reads items and sets closed. */
	for (;;) {
		struct item *it;

		g_mutex_lock(&mb->lock);
		it = mb->closed ? NULL : g_queue_pop_head(&mb->items);
		g_mutex_unlock(&mb->lock);
		if (!it)
			break;
		if (it->kind == ITEM_UPDATE)
			mb->update(it->kvs, it->flag, mb->ctx);
		else if (it->kind == ITEM_CLAIM)
			it->claimed(it->slot, it->answered, it->claim_ctx);
		else if (mb->lease)
			mb->lease(it->flag, mb->ctx);
		item_free(it);
	}
	return G_SOURCE_REMOVE;
}

static void mailbox_unref(gpointer p)
{
	g_atomic_rc_box_release_full(p, mailbox_clear);
}

static void mailbox_post(struct mailbox *mb, struct item *it)
{
	g_mutex_lock(&mb->lock);
	g_queue_push_tail(&mb->items, it);
	g_mutex_unlock(&mb->lock);
	/* Never on this thread: before nuauth's main loop runs, the node's
	 * structures are still being made (a watch's first answer came 4 ms
	 * after start and ran here, on the etcd thread, into them). */
	nu_run_on(mb->main, mailbox_drain, g_atomic_rc_box_acquire(mb), mailbox_unref);
}

/* ---- HTTP ---- */

static size_t collect(char *data, size_t size, size_t n, void *user)
{
	g_string_append_len(user, data, (gssize)(size * n));
	return size * n;
}

/* Ends a transfer soon after etcd_client_free (or a watch restart). */
static int check_stop(void *user, curl_off_t a, curl_off_t b, curl_off_t c_, curl_off_t d)
{
	struct http *h = user;

	(void)a;
	(void)b;
	(void)c_;
	(void)d;
	/* The request thread's requests end by their time-out: the lease's
	 * revoke goes out after stop. */
	if (h != &h->c->watch)
		return 0;
	return g_atomic_int_get(&h->c->stop) || g_atomic_int_get(&h->c->restart_watch);
}

static void http_init(struct http *h, struct etcd_client *c)
{
	h->c = c;
	h->curl = curl_easy_init();
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, check_stop);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPIDLE, 2L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPINTVL, 1L);
	if (c->cfg.ca)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, c->cfg.ca);
	if (c->cfg.cert)
		curl_easy_setopt(h->curl, CURLOPT_SSLCERT, c->cfg.cert);
	if (c->cfg.key)
		curl_easy_setopt(h->curl, CURLOPT_SSLKEY, c->cfg.key);
}

static void http_clear(struct http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	g_free(h->token);
	g_free(h->last_error);
}

/* Logs e once (until another error or a success). */
static void http_note(struct http *h, const GError *e, const char *what)
{
	char *text = g_strdup_printf("%s: %s", what, e->message);

	if (g_strcmp0(text, h->last_error) != 0)
		log_warnx("cluster: etcd %s", text);
	g_free(h->last_error);
	h->last_error = text;
}

static void http_ok(struct http *h)
{
	if (h->last_error)
		log_notice("cluster: etcd answers again (%s)",
			   h->c->cfg.endpoints[h->endpoint]);
	g_clear_pointer(&h->last_error, g_free);
}

/* One POST to the endpoint h->endpoint; false with *error on a transport
 * failure or an HTTP status but 200 (body then holds etcd's error):
 * NU_ERROR_IO when another member may do better, NU_ERROR_PROTOCOL when
 * etcd refused the request itself. */
static bool post_once(struct http *h, const char *path, const char *body, GString *out,
		      long timeout_ms, curl_write_callback write, void *write_data,
		      GError **error)
{
	char *url = g_strconcat(h->c->cfg.endpoints[h->endpoint], path, NULL);
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	long status = 0;
	CURLcode rc;

	if (h->token) {
		char *auth = g_strconcat("Authorization: ", h->token, NULL);

		headers = curl_slist_append(headers, auth);
		g_free(auth);
	}
	g_string_truncate(out, 0);
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, write ? write : collect);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, write ? write_data : (void *)out);
	rc = curl_easy_perform(h->curl);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		g_set_error(error, NU_ERROR, NU_ERROR_IO, "%s: %s", url, curl_easy_strerror(rc));
		g_free(url);
		return false;
	}
	if (status != 200) {
		/* A member that is going away, or has lost its own cluster
		 * (408, 5xx), is left for the next one; the rest is etcd's
		 * answer to the request. */
		g_set_error(error, NU_ERROR,
			    status == 408 || status >= 500 ? NU_ERROR_IO : NU_ERROR_PROTOCOL,
			    "%s: HTTP %ld: %.200s", url, status, out->str);
		g_free(url);
		return false;
	}
	g_free(url);
	return true;
}

static bool authenticate(struct http *h, GError **error);

/* A POST to the first endpoint that answers, starting with the last one
 * that did. */
static bool post(struct http *h, const char *path, const char *body, GString *out,
		 GError **error)
{
	unsigned n = g_strv_length(h->c->cfg.endpoints);
	GError *e = NULL;

	for (unsigned i = 0; i < n; i++) {
		if (g_atomic_int_get(&h->c->stop))
			break;
		g_clear_error(&e);
		/* A refused user or password is the error said when no
		 * member takes the request. */
		if (h->c->cfg.user && !h->token && strcmp(path, "/v3/auth/authenticate") != 0 &&
		    !authenticate(h, &e)) {
			h->endpoint = (h->endpoint + 1) % n;
			continue;
		}
		if (post_once(h, path, body, out, REQUEST_TIMEOUT_MS, NULL, NULL, &e)) {
			if (h == &h->c->req) {
				g_mutex_lock(&h->c->health);
				h->c->req_ok_at = g_get_monotonic_time();
				g_mutex_unlock(&h->c->health);
			}
			return true;
		}
		if (e->code == NU_ERROR_PROTOCOL) {
			/* etcd answered: an expired token is asked for again, the
			 * rest is the answer */
			g_clear_pointer(&h->token, g_free);
			break;
		}
		h->endpoint = (h->endpoint + 1) % n;
	}
	if (!e)
		g_set_error(&e, NU_ERROR, NU_ERROR_IO, "stopping");
	g_propagate_error(error, e);
	return false;
}

static bool authenticate(struct http *h, GError **error)
{
	char *body = etcd_json_auth(h->c->cfg.user, h->c->cfg.password ? h->c->cfg.password : "");
	GString *out = g_string_new(NULL);
	bool ok = post_once(h, "/v3/auth/authenticate", body, out, REQUEST_TIMEOUT_MS, NULL,
			    NULL, error);

	g_free(body);
	if (ok) {
		g_free(h->token);
		h->token = etcd_json_read_token(out->str, out->len, error);
		ok = h->token != NULL;
	}
	g_string_free(out, TRUE);
	return ok;
}

/* ---- the request thread ---- */

static void op_free(struct op *op)
{
	g_strfreev(op->slots);
	g_strfreev(op->takeover);
	g_free(op->mine);
	g_free(op->key);
	if (op->value)
		g_bytes_unref(op->value);
	g_free(op);
}

static bool do_put(struct etcd_client *c, const char *key, GBytes *value, GString *out)
{
	gsize len;
	const void *data = g_bytes_get_data(value, &len);
	char *body = etcd_json_put(key, data, len, c->lease);
	GError *e = NULL;
	bool ok = post(&c->req, "/v3/kv/put", body, out, &e);

	g_free(body);
	if (!ok) {
		http_note(&c->req, e, "put");
		g_error_free(e);
	}
	return ok;
}

static bool do_delete(struct etcd_client *c, const char *key, GString *out)
{
	char *body = etcd_json_delete(key);
	GError *e = NULL;
	bool ok = post(&c->req, "/v3/kv/deleterange", body, out, &e);

	g_free(body);
	if (!ok) {
		http_note(&c->req, e, "delete");
		g_error_free(e);
	}
	return ok;
}

/* One transaction: 1 when its comparison held (and its operation ran), 0
 * when not, -1 when etcd did not answer (logged). */
static int do_txn(struct etcd_client *c, char *body, GString *out)
{
	GError *e = NULL;
	bool held = false;
	bool ok = post(&c->req, "/v3/kv/txn", body, out, &e) &&
		  etcd_json_read_txn(out->str, out->len, &held, &e);

	g_free(body);
	if (!ok) {
		http_note(&c->req, e, "transaction");
		g_error_free(e);
		return -1;
	}
	return held;
}

/* The slot key, ours (value mine) when it is free or already ours. */
static int take_slot(struct etcd_client *c, const char *key, const char *mine, GString *out)
{
	int r = do_txn(c, etcd_json_put_if_absent(key, mine, strlen(mine), c->lease), out);

	if (r == 0)
		r = do_txn(c, etcd_json_put_if_value(key, mine, mine, strlen(mine), c->lease), out);
	return r;
}

/* With a new lease (the old one's keys are gone) the slots held are
 * taken again; one another node took meanwhile is logged and left. */
static bool resync_slots(struct etcd_client *c, GString *out)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, c->slots);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		int r = take_slot(c, k, v, out);

		if (r < 0)
			return false;
		if (r == 0) {
			log_warnx("cluster: limit slot %s was taken by another node while this one "
				  "was away: its session here stays, over the limit", (char *)k);
			g_hash_table_iter_remove(&it);
		}
	}
	g_hash_table_iter_init(&it, c->to_release);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (do_txn(c, etcd_json_delete_if_value(k, v), out) < 0)
			return false;
		g_hash_table_iter_remove(&it);
	}
	return true;
}

static void post_claim(struct etcd_client *c, struct op *op, const char *slot, bool answered)
{
	struct item *it = g_new0(struct item, 1);

	it->answered = answered;
	it->kind = ITEM_CLAIM;
	it->claimed = op->claimed;
	it->claim_ctx = op->claim_ctx;
	it->slot = g_strdup(slot);
	mailbox_post(c->mb, it);
}

/* A free slot, or one with this node's value that no live session here
 * holds (left by this node before a restart), else one another node's
 * session of the same user at the same address holds (a failover:
 * op->takeover, its values), else none. */
static void claim(struct etcd_client *c, struct op *op, GString *out)
{
	int r = -1;

	for (char **s = op->slots; c->lease && *s; s++) {
		/* A slot held here stays one session's, though its value is
		 * the same for two sessions of a user at one address. */
		r = g_hash_table_contains(c->slots, *s) ? 0 : take_slot(c, *s, op->mine, out);
		for (char **t = op->takeover; r == 0 && *t; t++)
			r = do_txn(c, etcd_json_put_if_value(*s, *t, op->mine, strlen(op->mine),
							     c->lease), out);
		if (r == 1) {
			/* a release of it still due was an earlier session's:
			 * it would delete this one's (same value) */
			g_hash_table_remove(c->to_release, *s);
			g_hash_table_replace(c->slots, g_strdup(*s), g_strdup(op->mine));
			post_claim(c, op, *s, true);
			return;
		}
		if (r < 0)
			break;
	}
	if (r < 0)
		c->dirty = true;
	post_claim(c, op, NULL, r == 0);
}

static void release(struct etcd_client *c, const char *key, GString *out)
{
	char *mine = g_hash_table_lookup(c->slots, key);

	if (!mine)
		return;		/* lost (logged), or never won */
	if (c->dirty || !c->lease || do_txn(c, etcd_json_delete_if_value(key, mine), out) < 0) {
		g_hash_table_replace(c->to_release, g_strdup(key), g_strdup(mine));
		c->dirty = true;
	}
	g_hash_table_remove(c->slots, key);
}

/* Every owned key put again, every failed delete sent again. */
static bool resync(struct etcd_client *c, GString *out)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, c->owned);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (!do_put(c, k, v, out))
			return false;
	g_hash_table_iter_init(&it, c->to_delete);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		if (!do_delete(c, k, out))
			return false;
		g_hash_table_iter_remove(&it);
	}
	return resync_slots(c, out);
}

static void post_lease(struct etcd_client *c, bool up)
{
	struct item *it = g_new0(struct item, 1);

	it->kind = ITEM_LEASE;
	it->flag = up;
	mailbox_post(c->mb, it);
}

static bool grant(struct etcd_client *c, GString *out)
{
	char *body = etcd_json_lease_grant(c->cfg.ttl);
	int64_t ttl = 0;
	GError *e = NULL;
	bool ok = post(&c->req, "/v3/lease/grant", body, out, &e) &&
		  etcd_json_read_lease(out->str, out->len, &c->lease, &ttl, &e);

	g_free(body);
	if (!ok) {
		c->lease = 0;
		http_note(&c->req, e, "lease grant");
		g_error_free(e);
		return false;
	}
	http_ok(&c->req);
	log_info("cluster: etcd lease %" G_GINT64_MODIFIER "x granted (%" G_GINT64_FORMAT " s)",
		 (gint64)c->lease, (gint64)ttl);
	c->dirty = true;
	post_lease(c, true);
	return true;
}

/* False when etcd did not answer; the lease is dropped when etcd says it
 * is gone. */
static bool keepalive(struct etcd_client *c, GString *out)
{
	char *body = etcd_json_lease_id(c->lease);
	int64_t id = 0, ttl = 0;
	GError *e = NULL;
	bool ok = post(&c->req, "/v3/lease/keepalive", body, out, &e);

	g_free(body);
	if (ok && (!etcd_json_read_lease(out->str, out->len, &id, &ttl, &e) || ttl <= 0)) {
		log_warnx("cluster: etcd lease %" G_GINT64_MODIFIER "x is gone%s%s: a new one",
			  (gint64)c->lease, e ? ": " : "", e ? e->message : "");
		g_clear_error(&e);
		c->lease = 0;
		post_lease(c, false);
		return true;
	}
	if (!ok) {
		http_note(&c->req, e, "lease keep-alive");
		g_error_free(e);
		g_atomic_int_set(&c->restart_watch, 1);
		c->dirty = true;
		return false;
	}
	http_ok(&c->req);
	return true;
}

/* A key under a lease of its own (op->ttl), not kept: a command to
 * another node, which deletes it once done; unsent when etcd does not
 * answer (logged). */
static void put_once(struct etcd_client *c, struct op *op, GString *out)
{
	char *body = etcd_json_lease_grant(op->ttl);
	int64_t lease = 0, ttl = 0;
	GError *e = NULL;
	gsize len;
	const void *data = g_bytes_get_data(op->value, &len);
	bool ok = c->lease && post(&c->req, "/v3/lease/grant", body, out, &e) &&
		  etcd_json_read_lease(out->str, out->len, &lease, &ttl, &e);

	g_free(body);
	if (ok) {
		body = etcd_json_put(op->key, data, len, lease);
		ok = post(&c->req, "/v3/kv/put", body, out, &e);
		g_free(body);
	}
	if (!ok)
		log_warnx("cluster: etcd put of %s: %s: not sent", op->key,
			  e ? e->message : "etcd is not reached");
	g_clear_error(&e);
}

static void apply_op(struct etcd_client *c, struct op *op, GString *out)
{
	switch (op->kind) {
	case OP_PUT:
		g_hash_table_remove(c->to_delete, op->key);
		g_hash_table_replace(c->owned, g_strdup(op->key), g_bytes_ref(op->value));
		if (c->lease && !c->dirty && !do_put(c, op->key, op->value, out))
			c->dirty = true;
		break;
	case OP_DELETE:
		g_hash_table_remove(c->owned, op->key);
		if (!c->lease || c->dirty || !do_delete(c, op->key, out)) {
			g_hash_table_add(c->to_delete, g_strdup(op->key));
			c->dirty = true;
		}
		break;
	case OP_PUT_ONCE:
		put_once(c, op, out);
		break;
	case OP_CLAIM:
		claim(c, op, out);
		break;
	case OP_RELEASE:
		release(c, op->key, out);
		break;
	case OP_STOP:
		break;
	}
}

static gpointer request_thread(gpointer data)
{
	struct etcd_client *c = data;
	GString *out = g_string_new(NULL);
	gint64 interval = etcd_client_keepalive_interval(&c->cfg);
	gint64 next_keepalive = 0;

	while (!g_atomic_int_get(&c->stop)) {
		gint64 now = g_get_monotonic_time();
		gint64 wait;
		struct op *op;

		if (!c->lease) {
			if (!grant(c, out)) {
				op = g_async_queue_timeout_pop(c->ops, RETRY_MS * 1000);
				if (op) {
					apply_op(c, op, out);
					op_free(op);
				}
				continue;
			}
			next_keepalive = g_get_monotonic_time() + interval;
		}
		if (c->dirty && resync(c, out))
			c->dirty = false;
		now = g_get_monotonic_time();
		if (now >= next_keepalive) {
			/* after a failure, again soon: the lease may still be
			 * alive on a member that answers */
			next_keepalive = now + (keepalive(c, out) ? interval : RETRY_MS * 1000);
			continue;
		}
		wait = next_keepalive - now;
		if (c->dirty)
			wait = MIN(wait, RETRY_MS * 1000);
		op = g_async_queue_timeout_pop(c->ops, (guint64)wait);
		if (op) {
			apply_op(c, op, out);
			op_free(op);
		}
	}
	if (c->lease) {
		/* The node's keys go now rather than at the lease's end. */
		char *body = etcd_json_lease_id(c->lease);
		GError *e = NULL;

		if (post_once(&c->req, "/v3/lease/revoke", body, out, REQUEST_TIMEOUT_MS, NULL,
			      NULL, &e))
			log_info("cluster: etcd lease %" G_GINT64_MODIFIER "x revoked",
				 (gint64)c->lease);
		else
			log_warnx("cluster: etcd lease revoke: %s (the keys go with the lease)",
				  e->message);
		g_clear_error(&e);
		g_free(body);
	}
	g_string_free(out, TRUE);
	return NULL;
}

/* ---- the watch thread ---- */

static void post_update(struct etcd_client *c, GPtrArray *kvs, bool reset)
{
	struct item *it = g_new0(struct item, 1);

	it->kind = ITEM_UPDATE;
	it->kvs = kvs;
	it->flag = reset;
	mailbox_post(c->mb, it);
}

/* Each complete line of the stream is one watch message. */
static size_t on_stream(char *data, size_t size, size_t n, void *user)
{
	struct etcd_client *c = user;
	char *nl;

	g_string_append_len(c->stream, data, (gssize)(size * n));
	while ((nl = memchr(c->stream->str, '\n', c->stream->len))) {
		size_t len = (size_t)(nl - c->stream->str);
		GPtrArray *kvs = g_ptr_array_new_with_free_func(etcd_kv_free);
		int64_t rev = 0;
		bool canceled = false;
		GError *e = NULL;

		if (len && !etcd_json_read_watch(c->stream->str, len, &rev, kvs, &canceled, &e)) {
			http_note(&c->watch, e, "watch");
			g_error_free(e);
			g_ptr_array_unref(kvs);
			c->stream_broken = true;
			return 0;	/* ends the transfer: start over */
		}
		g_string_erase(c->stream, 0, (gssize)len + 1);
		if (canceled) {
			g_ptr_array_unref(kvs);
			c->stream_broken = true;
			return 0;
		}
		if (rev > c->revision)
			c->revision = rev;
		if (kvs->len)
			post_update(c, kvs, false);
		else
			g_ptr_array_unref(kvs);
	}
	if (c->stream->len > 1024 * 1024) {
		c->stream_broken = true;	/* no line in 1 MB: not etcd */
		return 0;
	}
	return size * n;
}

static bool read_snapshot(struct etcd_client *c, GString *out)
{
	char *body = etcd_json_range(c->prefix);
	gint64 asked = g_get_monotonic_time();
	GPtrArray *kvs = g_ptr_array_new_with_free_func(etcd_kv_free);
	GError *e = NULL;
	bool ok = post(&c->watch, "/v3/kv/range", body, out, &e) &&
		  etcd_json_read_range(out->str, out->len, &c->revision, kvs, &e);

	g_free(body);
	if (!ok) {
		http_note(&c->watch, e, "range");
		g_error_free(e);
		g_ptr_array_unref(kvs);
		return false;
	}
	http_ok(&c->watch);
	g_mutex_lock(&c->health);
	c->snapshot_at = asked;
	g_mutex_unlock(&c->health);
	post_update(c, kvs, true);
	return true;
}

static void pause_unless_stopped(struct etcd_client *c)
{
	for (int i = 0; i < RETRY_MS / 50 && !g_atomic_int_get(&c->stop); i++)
		g_usleep(50000);
}

static gpointer watch_thread(gpointer data)
{
	struct etcd_client *c = data;
	GString *out = g_string_new(NULL);
	unsigned n = g_strv_length(c->cfg.endpoints);

	while (!g_atomic_int_get(&c->stop)) {
		char *body;
		GError *e = NULL;

		g_atomic_int_set(&c->restart_watch, 0);
		if (!read_snapshot(c, out)) {
			pause_unless_stopped(c);
			continue;
		}
		body = etcd_json_watch(c->prefix, c->revision + 1);
		g_string_truncate(c->stream, 0);
		c->stream_broken = false;
		/* No time-out: the stream lasts until etcd or we end it. */
		if (!post_once(&c->watch, "/v3/watch", body, out, 0, on_stream, c, &e) &&
		    !g_atomic_int_get(&c->stop) && !c->stream_broken)
			http_note(&c->watch, e, "watch");
		g_clear_error(&e);
		g_free(body);
		if (!c->stream_broken)
			c->watch.endpoint = (c->watch.endpoint + 1) % n;
		pause_unless_stopped(c);
	}
	g_string_free(out, TRUE);
	return NULL;
}

/* ---- the main loop's side ---- */

struct etcd_client *etcd_client_new(const struct etcd_client_config *cfg, const char *prefix,
				    GMainContext *main, etcd_update_fn update,
				    etcd_lease_fn lease, void *ctx)
{
	struct etcd_client *c = g_new0(struct etcd_client, 1);
	static gsize curl_ready;

	if (g_once_init_enter(&curl_ready)) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		g_once_init_leave(&curl_ready, 1);
	}
	c->cfg.endpoints = g_strdupv(cfg->endpoints);
	c->cfg.ca = g_strdup(cfg->ca);
	c->cfg.cert = g_strdup(cfg->cert);
	c->cfg.key = g_strdup(cfg->key);
	c->cfg.user = g_strdup(cfg->user);
	c->cfg.password = g_strdup(cfg->password);
	c->cfg.ttl = cfg->ttl;
	c->prefix = g_strdup(prefix);
	c->mb = g_atomic_rc_box_new0(struct mailbox);
	g_mutex_init(&c->mb->lock);
	g_queue_init(&c->mb->items);
	c->mb->main = g_main_context_ref(main);
	c->mb->update = update;
	c->mb->lease = lease;
	c->mb->ctx = ctx;
	c->ops = g_async_queue_new();
	g_mutex_init(&c->health);
	c->owned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 (GDestroyNotify)g_bytes_unref);
	c->to_delete = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	c->slots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	c->to_release = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	c->stream = g_string_new(NULL);
	http_init(&c->req, c);
	http_init(&c->watch, c);
	c->req_thread = g_thread_new("etcd-req", request_thread, c);
	c->watch_thread = g_thread_new("etcd-watch", watch_thread, c);
	return c;
}

static void push_op(struct etcd_client *c, enum op_kind kind, const char *key,
		    const void *value, size_t len)
{
	struct op *op = g_new0(struct op, 1);

	op->kind = kind;
	op->key = g_strdup(key);
	if (kind == OP_PUT)
		op->value = g_bytes_new(value, len);
	g_async_queue_push(c->ops, op);
}

void etcd_client_put(struct etcd_client *c, const char *key, const void *value, size_t len)
{
	push_op(c, OP_PUT, key, value, len);
}

void etcd_client_delete(struct etcd_client *c, const char *key)
{
	push_op(c, OP_DELETE, key, NULL, 0);
}

void etcd_client_put_once(struct etcd_client *c, const char *key, const void *value,
			  size_t len, unsigned ttl)
{
	struct op *op = g_new0(struct op, 1);

	op->kind = OP_PUT_ONCE;
	op->key = g_strdup(key);
	op->value = g_bytes_new(value, len);
	op->ttl = ttl;
	g_async_queue_push(c->ops, op);
}

void etcd_client_claim(struct etcd_client *c, char **slots, char **takeover, const char *mine,
		       etcd_claim_fn fn, void *ctx)
{
	struct op *op = g_new0(struct op, 1);

	op->kind = OP_CLAIM;
	op->slots = g_strdupv(slots);
	op->takeover = takeover ? g_strdupv(takeover) : g_new0(char *, 1);
	op->mine = g_strdup(mine);
	op->claimed = fn;
	op->claim_ctx = ctx;
	g_async_queue_push(c->ops, op);
}

void etcd_client_release(struct etcd_client *c, const char *key)
{
	push_op(c, OP_RELEASE, key, NULL, 0);
}

gint64 etcd_client_silence(struct etcd_client *c, gint64 now)
{
	gint64 ok_at;

	g_mutex_lock(&c->health);
	ok_at = c->req_ok_at;
	g_mutex_unlock(&c->health);
	return ok_at ? now - ok_at : G_MAXINT64;
}

gint64 etcd_client_snapshot_at(struct etcd_client *c)
{
	gint64 at;

	g_mutex_lock(&c->health);
	at = c->snapshot_at;
	g_mutex_unlock(&c->health);
	return at;
}

void etcd_client_restart_watch(struct etcd_client *c)
{
	g_atomic_int_set(&c->restart_watch, 1);
}

gint64 etcd_client_keepalive_interval(const struct etcd_client_config *cfg)
{
	return MAX((gint64)cfg->ttl * G_USEC_PER_SEC / 3, 300000);
}

void etcd_client_free(struct etcd_client *c)
{
	struct op *op;

	if (!c)
		return;
	/* The queued puts and deletes go first; then the lease's revoke. */
	push_op(c, OP_STOP, "", NULL, 0);
	for (int i = 0; i < 300 && g_async_queue_length(c->ops) > 0; i++)
		g_usleep(10000);
	g_atomic_int_set(&c->stop, 1);
	g_thread_join(c->req_thread);
	g_thread_join(c->watch_thread);
	while ((op = g_async_queue_try_pop(c->ops)))
		op_free(op);
	g_async_queue_unref(c->ops);
	g_mutex_clear(&c->health);
	g_mutex_lock(&c->mb->lock);
	c->mb->closed = true;
	g_mutex_unlock(&c->mb->lock);
	mailbox_unref(c->mb);
	http_clear(&c->req);
	http_clear(&c->watch);
	g_hash_table_destroy(c->owned);
	g_hash_table_destroy(c->to_delete);
	g_hash_table_destroy(c->slots);
	g_hash_table_destroy(c->to_release);
	g_string_free(c->stream, TRUE);
	g_strfreev(c->cfg.endpoints);
	g_free((char *)c->cfg.ca);
	g_free((char *)c->cfg.cert);
	g_free((char *)c->cfg.key);
	g_free((char *)c->cfg.user);
	g_free((char *)c->cfg.password);
	g_free(c->prefix);
	g_free(c);
}
