/* etcd v3 gateway JSON: see etcd_json.h. */
#include "config.h"
#include "etcd_json.h"

#include <stdlib.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "error.h"

void etcd_kv_free(gpointer p)
{
	struct etcd_kv *kv = p;

	if (!kv)
		return;
	g_free(kv->key);
	if (kv->value)
		g_bytes_unref(kv->value);
	g_free(kv);
}

char *etcd_prefix_end(const char *prefix, size_t *len)
{
	size_t n = strlen(prefix);
	char *end = g_strndup(prefix, n);

	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		n--;
	if (n == 0) {
		/* every key: etcd's "\0" range end */
		end[0] = '\0';
		*len = 1;
		return end;
	}
	end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	end[n] = '\0';
	*len = n;
	return end;
}

static void add_b64(JsonBuilder *b, const char *name, const void *data, size_t len)
{
	char *enc = g_base64_encode(data, len);

	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, enc);
	g_free(enc);
}

/* etcd's int64 fields are strings in its JSON. */
static void add_i64(JsonBuilder *b, const char *name, int64_t v)
{
	char text[24];

	g_snprintf(text, sizeof(text), "%" G_GINT64_FORMAT, (gint64)v);
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, text);
}

static void add_range(JsonBuilder *b, const char *prefix)
{
	size_t end_len;
	char *end = etcd_prefix_end(prefix, &end_len);

	add_b64(b, "key", prefix, strlen(prefix));
	add_b64(b, "range_end", end, end_len);
	g_free(end);
}

static char *finish(JsonBuilder *b)
{
	JsonGenerator *g = json_generator_new();
	JsonNode *root;
	char *text;

	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	text = json_generator_to_data(g, NULL);
	json_node_unref(root);
	g_object_unref(g);
	g_object_unref(b);
	return text;
}

static JsonBuilder *start(void)
{
	JsonBuilder *b = json_builder_new();

	json_builder_begin_object(b);
	return b;
}

static void add_put_fields(JsonBuilder *b, const char *key, const void *value, size_t len,
			   int64_t lease)
{
	add_b64(b, "key", key, strlen(key));
	add_b64(b, "value", value, len);
	if (lease)
		add_i64(b, "lease", lease);
}

char *etcd_json_put(const char *key, const void *value, size_t len, int64_t lease)
{
	JsonBuilder *b = start();

	add_put_fields(b, key, value, len, lease);
	return finish(b);
}

char *etcd_json_delete(const char *key)
{
	JsonBuilder *b = start();

	add_b64(b, "key", key, strlen(key));
	return finish(b);
}

char *etcd_json_range(const char *prefix)
{
	JsonBuilder *b = start();

	add_range(b, prefix);
	return finish(b);
}

char *etcd_json_watch(const char *prefix, int64_t start_revision)
{
	JsonBuilder *b = start();

	json_builder_set_member_name(b, "create_request");
	json_builder_begin_object(b);
	add_range(b, prefix);
	if (start_revision > 0)
		add_i64(b, "start_revision", start_revision);
	json_builder_end_object(b);
	return finish(b);
}

char *etcd_json_lease_grant(unsigned ttl)
{
	JsonBuilder *b = start();

	add_i64(b, "TTL", ttl);
	return finish(b);
}

char *etcd_json_lease_id(int64_t id)
{
	JsonBuilder *b = start();

	add_i64(b, "ID", id);
	return finish(b);
}

char *etcd_json_auth(const char *user, const char *password)
{
	JsonBuilder *b = start();

	json_builder_set_member_name(b, "name");
	json_builder_add_string_value(b, user);
	json_builder_set_member_name(b, "password");
	json_builder_add_string_value(b, password);
	return finish(b);
}

/* A transaction of one comparison on key (its version 0, or its value
 * expect) and one operation when it holds (a put of value under lease,
 * or a delete when value is NULL). */
static char *txn(const char *key, const char *expect, const void *value, size_t len,
		 int64_t lease)
{
	JsonBuilder *b = start();

	json_builder_set_member_name(b, "compare");
	json_builder_begin_array(b);
	json_builder_begin_object(b);
	add_b64(b, "key", key, strlen(key));
	json_builder_set_member_name(b, "target");
	json_builder_add_string_value(b, expect ? "VALUE" : "VERSION");
	json_builder_set_member_name(b, "result");
	json_builder_add_string_value(b, "EQUAL");
	if (expect)
		add_b64(b, "value", expect, strlen(expect));
	else
		add_i64(b, "version", 0);
	json_builder_end_object(b);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "success");
	json_builder_begin_array(b);
	json_builder_begin_object(b);
	json_builder_set_member_name(b, value ? "request_put" : "request_delete_range");
	json_builder_begin_object(b);
	if (value)
		add_put_fields(b, key, value, len, lease);
	else
		add_b64(b, "key", key, strlen(key));
	json_builder_end_object(b);
	json_builder_end_object(b);
	json_builder_end_array(b);
	return finish(b);
}

char *etcd_json_put_if_absent(const char *key, const void *value, size_t len, int64_t lease)
{
	return txn(key, NULL, value, len, lease);
}

char *etcd_json_put_if_value(const char *key, const char *expect, const void *value,
			     size_t len, int64_t lease)
{
	return txn(key, expect, value, len, lease);
}

char *etcd_json_delete_if_value(const char *key, const char *expect)
{
	return txn(key, expect, NULL, 0, 0);
}

/* ---- answers ---- */

static JsonParser *parse(const char *body, size_t len, JsonObject **root, GError **error)
{
	JsonParser *p = json_parser_new_immutable();
	GError *e = NULL;
	JsonNode *node;

	if (!json_parser_load_from_data(p, body, (gssize)len, &e)) {
		g_set_error(error, NU_ERROR, NU_ERROR_PROTOCOL, "etcd's answer is not JSON: %s",
			    e->message);
		g_error_free(e);
		g_object_unref(p);
		return NULL;
	}
	node = json_parser_get_root(p);
	if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error, NU_ERROR, NU_ERROR_PROTOCOL, "etcd's answer is not an object");
		g_object_unref(p);
		return NULL;
	}
	*root = json_node_get_object(node);
	/* {"error":"...","code":N,"message":"..."} */
	if (json_object_has_member(*root, "error") || json_object_has_member(*root, "code")) {
		JsonNode *m = json_object_get_member(*root, "message");
		JsonNode *er = json_object_get_member(*root, "error");
		const char *text = m && JSON_NODE_HOLDS_VALUE(m) ? json_node_get_string(m) :
				   er && JSON_NODE_HOLDS_VALUE(er) ? json_node_get_string(er) : NULL;

		g_set_error(error, NU_ERROR, NU_ERROR_PROTOCOL, "etcd: %s",
			    text ? text : "an error without a message");
		g_object_unref(p);
		return NULL;
	}
	return p;
}

/* An int64 member, string or number; def when absent.  False when present
 * but neither. */
static bool get_i64(JsonObject *o, const char *name, int64_t def, int64_t *out)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;
	const char *s;
	char *end;

	*out = def;
	if (!n)
		return true;
	if (!JSON_NODE_HOLDS_VALUE(n))
		return false;
	switch (json_node_get_value_type(n) == G_TYPE_STRING ? 's' :
		json_node_get_value_type(n) == G_TYPE_INT64 ? 'i' : '?') {
	case 'i':
		*out = json_node_get_int(n);
		return true;
	case 's':
		s = json_node_get_string(n);
		*out = g_ascii_strtoll(s, &end, 10);
		return *s && !*end;
	default:
		return false;
	}
}

static JsonObject *get_obj(JsonObject *o, const char *name)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* A base64 member: NULL when absent or not base64 (*bad set then). */
static GBytes *get_b64(JsonObject *o, const char *name, bool *bad)
{
	JsonNode *n = json_object_get_member(o, name);
	const char *s;
	guchar *data;
	gsize len;

	if (!n)
		return NULL;
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
		*bad = true;
		return NULL;
	}
	s = json_node_get_string(n);
	/* g_base64_decode accepts anything; a character out of the alphabet
	 * means this is not etcd's answer. */
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
	    strlen(s) || strlen(s) % 4) {
		*bad = true;
		return NULL;
	}
	data = g_base64_decode(s, &len);
	return g_bytes_new_take(data, len);
}

static bool bad_answer(GError **error, const char *what)
{
	g_set_error(error, NU_ERROR, NU_ERROR_PROTOCOL, "etcd's answer has a bad %s", what);
	return false;
}

bool etcd_json_read_lease(const char *body, size_t len, int64_t *id, int64_t *ttl,
			  GError **error)
{
	JsonObject *root, *o;
	JsonParser *p = parse(body, len, &root, error);
	bool ok;

	if (!p)
		return false;
	o = get_obj(root, "result") ? get_obj(root, "result") : root;
	ok = get_i64(o, "ID", 0, id) && get_i64(o, "TTL", 0, ttl) && *id != 0;
	g_object_unref(p);
	return ok ? true : bad_answer(error, "lease");
}

/* One {"key":..,"value":..} into kvs; false when malformed. */
static bool read_kv(JsonObject *kvo, bool deleted, GPtrArray *kvs)
{
	bool bad = false;
	GBytes *key = kvo ? get_b64(kvo, "key", &bad) : NULL;
	GBytes *value = kvo ? get_b64(kvo, "value", &bad) : NULL;
	struct etcd_kv *kv;
	gsize klen;
	const char *kdata;

	if (!key || bad) {
		if (key)
			g_bytes_unref(key);
		if (value)
			g_bytes_unref(value);
		return false;
	}
	kdata = g_bytes_get_data(key, &klen);
	kv = g_new0(struct etcd_kv, 1);
	kv->key = g_strndup(kdata, klen);
	kv->value = value ? value : g_bytes_new(NULL, 0);
	kv->deleted = deleted;
	g_bytes_unref(key);
	g_ptr_array_add(kvs, kv);
	return true;
}

/* Each object of the array member name, through read_kv (events: their
 * "kv" and "type"). */
static bool read_kv_array(JsonObject *o, const char *name, bool events, GPtrArray *kvs)
{
	JsonNode *n = json_object_get_member(o, name);
	JsonArray *a;

	if (!n)
		return true;
	if (!JSON_NODE_HOLDS_ARRAY(n))
		return false;
	a = json_node_get_array(n);
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonNode *e = json_array_get_element(a, i);
		JsonObject *eo = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
		bool deleted = false;

		if (!eo)
			return false;
		if (events) {
			JsonNode *t = json_object_get_member(eo, "type");

			/* PUT is the default (0), left out of the JSON */
			if (t && JSON_NODE_HOLDS_VALUE(t) &&
			    json_node_get_value_type(t) == G_TYPE_STRING)
				deleted = strcmp(json_node_get_string(t), "DELETE") == 0;
			eo = get_obj(eo, "kv");
		}
		if (!read_kv(eo, deleted, kvs))
			return false;
	}
	return true;
}

bool etcd_json_read_range(const char *body, size_t len, int64_t *revision, GPtrArray *kvs,
			  GError **error)
{
	JsonObject *root;
	JsonParser *p = parse(body, len, &root, error);
	bool ok;

	if (!p)
		return false;
	ok = get_i64(get_obj(root, "header"), "revision", 0, revision) && *revision > 0 &&
	     read_kv_array(root, "kvs", false, kvs);
	g_object_unref(p);
	return ok ? true : bad_answer(error, "range");
}

bool etcd_json_read_watch(const char *body, size_t len, int64_t *revision, GPtrArray *kvs,
			  bool *canceled, GError **error)
{
	JsonObject *root, *r;
	JsonParser *p = parse(body, len, &root, error);
	bool ok;

	if (!p)
		return false;
	r = get_obj(root, "result");
	*canceled = false;
	if (r && json_object_has_member(r, "canceled")) {
		JsonNode *c = json_object_get_member(r, "canceled");

		*canceled = JSON_NODE_HOLDS_VALUE(c) && json_node_get_boolean(c);
	}
	ok = r && get_i64(get_obj(r, "header"), "revision", 0, revision) &&
	     read_kv_array(r, "events", true, kvs);
	g_object_unref(p);
	return ok ? true : bad_answer(error, "watch message");
}

bool etcd_json_read_txn(const char *body, size_t len, bool *succeeded, GError **error)
{
	JsonObject *root;
	JsonParser *p = parse(body, len, &root, error);
	JsonNode *n;

	if (!p)
		return false;
	n = json_object_get_member(root, "succeeded");
	*succeeded = n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_boolean(n);
	g_object_unref(p);
	return true;
}

char *etcd_json_read_token(const char *body, size_t len, GError **error)
{
	JsonObject *root;
	JsonParser *p = parse(body, len, &root, error);
	JsonNode *n;
	char *token = NULL;

	if (!p)
		return NULL;
	n = json_object_get_member(root, "token");
	if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING &&
	    *json_node_get_string(n))
		token = g_strdup(json_node_get_string(n));
	g_object_unref(p);
	if (!token)
		bad_answer(error, "token");
	return token;
}

/* ---- the session directory's records ---- */

static void add_str(JsonBuilder *b, const char *name, const char *v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, v ? v : "");
}

char *etcd_json_session(const struct etcd_session *s)
{
	JsonBuilder *b = start();

	add_str(b, "id", s->id);
	add_str(b, "user", s->user);
	add_str(b, "address", s->address);
	add_str(b, "node", s->node);
	add_str(b, "mechanism", s->mechanism);
	json_builder_set_member_name(b, "login");
	json_builder_add_int_value(b, s->login_time);
	return finish(b);
}

static char *dup_str(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return g_strdup(json_node_get_string(n));
}

bool etcd_json_read_session(const char *body, size_t len, struct etcd_session *s,
			    GError **error)
{
	JsonObject *root;
	JsonParser *p = parse(body, len, &root, error);
	bool ok;

	memset(s, 0, sizeof(*s));
	if (!p)
		return false;
	s->id = dup_str(root, "id");
	s->user = dup_str(root, "user");
	s->address = dup_str(root, "address");
	s->node = dup_str(root, "node");
	s->mechanism = dup_str(root, "mechanism");
	ok = s->id && s->user && s->address && s->node && s->mechanism &&
	     get_i64(root, "login", -1, &s->login_time) && s->login_time >= 0;
	g_object_unref(p);
	if (!ok) {
		etcd_session_clear(s);
		return bad_answer(error, "session record");
	}
	return true;
}

void etcd_session_clear(struct etcd_session *s)
{
	g_free(s->id);
	g_free(s->user);
	g_free(s->address);
	g_free(s->node);
	g_free(s->mechanism);
	memset(s, 0, sizeof(*s));
}

/* ---- the commands to a node ---- */

char *etcd_json_command(const struct etcd_command *cmd)
{
	JsonBuilder *b = start();

	add_str(b, "command", cmd->command);
	add_str(b, "user", cmd->user);
	add_str(b, "from", cmd->from);
	if (cmd->reply && *cmd->reply)
		add_str(b, "reply", cmd->reply);
	return finish(b);
}

bool etcd_json_read_command(const char *body, size_t len, struct etcd_command *cmd,
			    GError **error)
{
	JsonObject *root;
	JsonParser *p = parse(body, len, &root, error);
	bool ok;

	memset(cmd, 0, sizeof(*cmd));
	if (!p)
		return false;
	cmd->command = dup_str(root, "command");
	cmd->user = dup_str(root, "user");
	cmd->from = dup_str(root, "from");
	cmd->reply = dup_str(root, "reply");
	if (!cmd->reply)
		cmd->reply = g_strdup("");
	g_object_unref(p);
	ok = cmd->command && cmd->user && cmd->from && *cmd->command;
	if (!ok) {
		etcd_command_clear(cmd);
		return bad_answer(error, "command record");
	}
	return true;
}

void etcd_command_clear(struct etcd_command *cmd)
{
	g_free(cmd->command);
	g_free(cmd->user);
	g_free(cmd->from);
	g_free(cmd->reply);
	memset(cmd, 0, sizeof(*cmd));
}

bool etcd_json_read_listing(const char *body, size_t len, char ***items, uint64_t *more,
			    GError **error)
{
	JsonObject *root;
	JsonParser *p = parse(body, len, &root, error);
	JsonNode *list, *n;
	GPtrArray *out;
	bool ok = true;

	*items = NULL;
	*more = 0;
	if (!p)
		return false;
	list = json_object_get_member(root, "connections");
	if (!list || !JSON_NODE_HOLDS_ARRAY(list)) {
		g_object_unref(p);
		return bad_answer(error, "list of connections");
	}
	n = json_object_get_member(root, "more");
	if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64 &&
	    json_node_get_int(n) > 0)
		*more = (uint64_t)json_node_get_int(n);
	out = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; ok && i < json_array_get_length(json_node_get_array(list)); i++) {
		JsonNode *item = json_array_get_element(json_node_get_array(list), i);

		ok = JSON_NODE_HOLDS_OBJECT(item);
		if (ok)
			g_ptr_array_add(out, json_to_string(item, FALSE));
	}
	g_object_unref(p);
	if (!ok) {
		g_ptr_array_free(out, TRUE);
		return bad_answer(error, "connection");
	}
	g_ptr_array_add(out, NULL);
	g_ptr_array_set_free_func(out, NULL);
	*items = (char **)g_ptr_array_free(out, FALSE);
	return true;
}

/* ---- the failed-login records ---- */

static void add_int(JsonBuilder *b, const char *name, int64_t v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, v);
}

char *etcd_json_throttle(const struct etcd_throttle *t, bool known)
{
	JsonBuilder *b = start();

	if (known) {
		add_int(b, "known_until", t->known_until);
	} else {
		add_int(b, "failures", t->failures);
		add_int(b, "window", t->window);
		add_int(b, "locked_until", t->locked_until);
		add_int(b, "lock", t->lock);
		add_int(b, "spent", t->spent);
	}
	return finish(b);
}

/* A member that must be there, a number >= 0. */
static bool need_i64(JsonObject *o, const char *name, int64_t *out)
{
	return json_object_has_member(o, name) && get_i64(o, name, -1, out) && *out >= 0;
}

bool etcd_json_read_throttle(const char *body, size_t len, bool known, struct etcd_throttle *t,
			     GError **error)
{
	JsonObject *root;
	JsonParser *p = parse(body, len, &root, error);
	bool ok;

	memset(t, 0, sizeof(*t));
	if (!p)
		return false;
	if (known)
		ok = need_i64(root, "known_until", &t->known_until);
	else
		ok = need_i64(root, "failures", &t->failures) &&
		     need_i64(root, "window", &t->window) &&
		     need_i64(root, "locked_until", &t->locked_until) &&
		     need_i64(root, "lock", &t->lock) && need_i64(root, "spent", &t->spent);
	g_object_unref(p);
	if (!ok) {
		memset(t, 0, sizeof(*t));
		return bad_answer(error, known ? "known-address record" : "failed-login record");
	}
	return true;
}
