/* The JSON nuauth speaks with etcd's v3 gateway (src/nuauth/etcd_json.c):
 * requests as etcd reads them (base64 keys, int64 as strings, the range
 * end of a prefix), and answers as etcd 3.4 wrote them (copied from a
 * real etcd's replies), broken ones refused. */
#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "etcd_json.h"
#include "unit.h"

/* The string member path (a.b) of the JSON text, or NULL. */
static char *member(const char *json, const char *path)
{
	JsonParser *p = json_parser_new();
	char **parts = g_strsplit(path, ".", -1);
	JsonNode *n;
	char *out = NULL;

	if (json_parser_load_from_data(p, json, -1, NULL)) {
		n = json_parser_get_root(p);
		for (char **q = parts; *q && n; q++) {
			if (!JSON_NODE_HOLDS_OBJECT(n)) {
				n = NULL;
				break;
			}
			n = json_object_get_member(json_node_get_object(n), *q);
		}
		if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
			out = g_strdup(json_node_get_string(n));
	}
	g_strfreev(parts);
	g_object_unref(p);
	return out;
}

static bool member_is(const char *json, const char *path, const char *want)
{
	char *v = member(json, path);
	bool ok = g_strcmp0(v, want) == 0;

	if (!ok)
		fprintf(stderr, "%s: %s is %s, not %s\n", json, path, v ? v : "(none)", want);
	g_free(v);
	return ok;
}

static void test_requests(void)
{
	size_t len;
	char *end, *s;

	end = etcd_prefix_end("/nufw/sessions/", &len);
	CHECK(len == 15 && strcmp(end, "/nufw/sessions0") == 0);
	g_free(end);
	end = etcd_prefix_end("a\xff\xff", &len);
	CHECK(len == 1 && strcmp(end, "b") == 0);
	g_free(end);
	end = etcd_prefix_end("\xff", &len);
	CHECK(len == 1 && end[0] == '\0');
	g_free(end);

	s = etcd_json_put("/a/b", "xx", 2, 7587899411782447109LL);
	CHECK(member_is(s, "key", "L2EvYg==") && member_is(s, "value", "eHg=") &&
	      member_is(s, "lease", "7587899411782447109"));
	g_free(s);
	s = etcd_json_put("/a", "", 0, 0);
	CHECK(member_is(s, "value", "") && !member(s, "lease"));
	g_free(s);
	s = etcd_json_delete("/a/c");
	CHECK(member_is(s, "key", "L2EvYw=="));
	g_free(s);
	s = etcd_json_range("/a");
	CHECK(member_is(s, "key", "L2E=") && member_is(s, "range_end", "L2I="));
	g_free(s);
	s = etcd_json_watch("/a", 42);
	CHECK(member_is(s, "create_request.key", "L2E=") &&
	      member_is(s, "create_request.range_end", "L2I=") &&
	      member_is(s, "create_request.start_revision", "42"));
	g_free(s);
	s = etcd_json_lease_grant(5);
	CHECK(member_is(s, "TTL", "5"));
	g_free(s);
	s = etcd_json_lease_id(-1);
	CHECK(member_is(s, "ID", "-1"));
	g_free(s);
	s = etcd_json_auth("nuauth", "p\"w");
	CHECK(member_is(s, "name", "nuauth") && member_is(s, "password", "p\"w"));
	g_free(s);
	s = etcd_json_put_if_absent("/a", "x", 1, 9);
	CHECK(strstr(s, "\"compare\"") && strstr(s, "\"VERSION\"") && strstr(s, "\"request_put\""));
	g_free(s);
	/* "a\nb" is YQpi in base64, "x" eA== */
	s = etcd_json_put_if_value("/a", "a\nb", "x", 1, 9);
	CHECK(strstr(s, "\"VALUE\"") && strstr(s, "\"value\":\"YQpi\"") &&
	      strstr(s, "\"request_put\"") && strstr(s, "\"value\":\"eA==\"") &&
	      strstr(s, "\"lease\":\"9\""));
	g_free(s);
	s = etcd_json_delete_if_value("/a", "a\nb");
	CHECK(strstr(s, "\"VALUE\"") && strstr(s, "\"request_delete_range\"") &&
	      !strstr(s, "request_put"));
	g_free(s);
}

static void test_answers(void)
{
	int64_t id, ttl, rev;
	GPtrArray *kvs = g_ptr_array_new_with_free_func(etcd_kv_free);
	GError *e = NULL;
	bool canceled, ok;
	const char *s;
	char *tok;

	s = "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":"
	    "\"10276657743932975437\",\"revision\":\"1\",\"raft_term\":\"2\"},"
	    "\"ID\":\"7587899411782447109\",\"TTL\":\"5\"}";
	CHECK(etcd_json_read_lease(s, strlen(s), &id, &ttl, NULL));
	CHECK(id == 7587899411782447109LL && ttl == 5);
	/* keepalive of a lease that is gone: no TTL */
	s = "{\"result\":{\"header\":{\"revision\":\"4\"},\"ID\":\"1\"}}";
	CHECK(etcd_json_read_lease(s, strlen(s), &id, &ttl, NULL) && id == 1 && ttl == 0);
	s = "{\"result\":{\"header\":{\"revision\":\"4\"},\"ID\":\"12\",\"TTL\":\"3\"}}";
	CHECK(etcd_json_read_lease(s, strlen(s), &id, &ttl, NULL) && id == 12 && ttl == 3);
	s = "{\"error\":\"etcdserver: requested lease not found\",\"code\":5,"
	    "\"message\":\"etcdserver: requested lease not found\"}";
	CHECK(!etcd_json_read_lease(s, strlen(s), &id, &ttl, &e));
	CHECK(e && strstr(e->message, "lease not found"));
	g_clear_error(&e);
	s = "{\"ID\":\"12x\",\"TTL\":\"3\"}";
	CHECK(!etcd_json_read_lease(s, strlen(s), &id, &ttl, NULL));
	s = "not json";
	CHECK(!etcd_json_read_lease(s, strlen(s), &id, &ttl, NULL));
	s = "[1]";
	CHECK(!etcd_json_read_lease(s, strlen(s), &id, &ttl, NULL));

	s = "{\"header\":{\"revision\":\"2\"},\"kvs\":[{\"key\":\"L2EvYg==\",\"create_revision\":"
	    "\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"eHg=\"}],\"count\":\"1\"}";
	CHECK(etcd_json_read_range(s, strlen(s), &rev, kvs, NULL) && rev == 2 && kvs->len == 1);
	if (kvs->len == 1) {
		struct etcd_kv *kv = g_ptr_array_index(kvs, 0);
		gsize n;
		const char *v = g_bytes_get_data(kv->value, &n);

		CHECK(strcmp(kv->key, "/a/b") == 0 && n == 2 && memcmp(v, "xx", 2) == 0 &&
		      !kv->deleted);
	}
	g_ptr_array_set_size(kvs, 0);
	/* an empty range has no kvs member */
	s = "{\"header\":{\"revision\":\"9\"}}";
	CHECK(etcd_json_read_range(s, strlen(s), &rev, kvs, NULL) && rev == 9 && kvs->len == 0);
	s = "{\"header\":{\"revision\":\"9\"},\"kvs\":[{\"key\":\"not base64!\"}]}";
	CHECK(!etcd_json_read_range(s, strlen(s), &rev, kvs, NULL));
	g_ptr_array_set_size(kvs, 0);
	s = "{\"kvs\":[]}";
	CHECK(!etcd_json_read_range(s, strlen(s), &rev, kvs, NULL));

	/* a watch stream's messages */
	s = "{\"result\":{\"header\":{\"revision\":\"2\"},\"created\":true}}";
	CHECK(etcd_json_read_watch(s, strlen(s), &rev, kvs, &canceled, NULL) && rev == 2 &&
	      kvs->len == 0 && !canceled);
	s = "{\"result\":{\"header\":{\"revision\":\"3\"},\"events\":[{\"kv\":{\"key\":"
	    "\"L2EvYw==\",\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\","
	    "\"value\":\"eXk=\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":\"L2EvYg==\","
	    "\"mod_revision\":\"4\"}}]}}";
	CHECK(etcd_json_read_watch(s, strlen(s), &rev, kvs, &canceled, NULL) && rev == 3 &&
	      kvs->len == 2);
	if (kvs->len == 2) {
		struct etcd_kv *put = g_ptr_array_index(kvs, 0), *del = g_ptr_array_index(kvs, 1);

		CHECK(strcmp(put->key, "/a/c") == 0 && !put->deleted &&
		      g_bytes_get_size(put->value) == 2);
		CHECK(strcmp(del->key, "/a/b") == 0 && del->deleted &&
		      g_bytes_get_size(del->value) == 0);
	}
	g_ptr_array_set_size(kvs, 0);
	s = "{\"result\":{\"header\":{\"revision\":\"7\"},\"canceled\":true,"
	    "\"compact_revision\":\"5\"}}";
	CHECK(etcd_json_read_watch(s, strlen(s), &rev, kvs, &canceled, NULL) && canceled);
	s = "{\"result\":{\"header\":{\"revision\":\"7\"},\"events\":[{\"type\":\"DELETE\"}]}}";
	CHECK(!etcd_json_read_watch(s, strlen(s), &rev, kvs, &canceled, NULL));
	g_ptr_array_set_size(kvs, 0);
	s = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"unavailable\"}}";
	CHECK(!etcd_json_read_watch(s, strlen(s), &rev, kvs, &canceled, NULL));

	s = "{\"header\":{\"revision\":\"5\"},\"succeeded\":true,\"responses\":[{\"response_put\":"
	    "{\"header\":{\"revision\":\"5\"}}}]}";
	CHECK(etcd_json_read_txn(s, strlen(s), &ok, NULL) && ok);
	s = "{\"header\":{\"revision\":\"5\"}}";
	CHECK(etcd_json_read_txn(s, strlen(s), &ok, NULL) && !ok);

	s = "{\"header\":{\"revision\":\"5\"},\"token\":\"abc.12\"}";
	tok = etcd_json_read_token(s, strlen(s), NULL);
	CHECK(g_strcmp0(tok, "abc.12") == 0);
	g_free(tok);
	s = "{\"header\":{\"revision\":\"5\"}}";
	CHECK(etcd_json_read_token(s, strlen(s), NULL) == NULL);
	g_ptr_array_free(kvs, TRUE);
}

static void test_session(void)
{
	struct etcd_session in = { .id = "n1/2a", .user = "carol", .address = "10.201.0.2",
				   .node = "n1", .mechanism = "SCRAM-SHA-256",
				   .login_time = 1796000000 };
	struct etcd_session out;
	char *s = etcd_json_session(&in);
	const char *bad = "{\"id\":\"x\",\"user\":\"u\",\"address\":\"a\",\"node\":\"n\"}";

	CHECK(etcd_json_read_session(s, strlen(s), &out, NULL));
	CHECK(strcmp(out.id, "n1/2a") == 0 && strcmp(out.user, "carol") == 0 &&
	      strcmp(out.address, "10.201.0.2") == 0 && strcmp(out.node, "n1") == 0 &&
	      strcmp(out.mechanism, "SCRAM-SHA-256") == 0 && out.login_time == 1796000000);
	etcd_session_clear(&out);
	g_free(s);
	CHECK(!etcd_json_read_session(bad, strlen(bad), &out, NULL));
	CHECK(out.id == NULL);
	bad = "{\"id\":1,\"user\":\"u\",\"address\":\"a\",\"node\":\"n\",\"mechanism\":\"m\","
	      "\"login\":1}";
	CHECK(!etcd_json_read_session(bad, strlen(bad), &out, NULL));
}

/* The failed-login records: written and read back; one missing a member,
 * negative, a string that is no number, or of the other kind is refused. */
static void test_throttle(void)
{
	struct etcd_throttle in = { .failures = 3, .window = 1796000000,
				    .locked_until = 1796000030, .lock = 30, .spent = 1796000000 };
	struct etcd_throttle out;
	char *s = etcd_json_throttle(&in, false);
	const char *bad[] = {
		"{\"failures\":3,\"window\":1,\"locked_until\":0,\"lock\":0}",
		"{\"failures\":-1,\"window\":1,\"locked_until\":0,\"lock\":0,\"spent\":0}",
		"{\"failures\":\"3x\",\"window\":1,\"locked_until\":0,\"lock\":0,\"spent\":0}",
		"{\"known_until\":5}",
		"[1]",
	};

	CHECK(etcd_json_read_throttle(s, strlen(s), false, &out, NULL));
	CHECK(out.failures == 3 && out.window == 1796000000 && out.locked_until == 1796000030 &&
	      out.lock == 30 && out.spent == 1796000000);
	CHECK(!etcd_json_read_throttle(s, strlen(s), true, &out, NULL));
	g_free(s);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		GError *e = NULL;

		CHECK(!etcd_json_read_throttle(bad[i], strlen(bad[i]), false, &out, &e));
		CHECK(e != NULL);
		g_clear_error(&e);
	}
	in.known_until = 1796086400;
	s = etcd_json_throttle(&in, true);
	CHECK(strcmp(s, "{\"known_until\":1796086400}") == 0);
	CHECK(etcd_json_read_throttle(s, strlen(s), true, &out, NULL) &&
	      out.known_until == 1796086400);
	g_free(s);
}

int main(void)
{
	test_requests();
	test_answers();
	test_session();
	test_throttle();
	return unit_done("etcd_json");
}
