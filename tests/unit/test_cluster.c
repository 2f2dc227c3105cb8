/* nuauth's session directory (src/nuauth/cluster.c) with its floor
 * (peers.c) and etcd_json.c, against a fake etcd client: what a login
 * writes and a logout n_deletes, and the map the watch's news build: which
 * addresses another node holds, the limits' counts, a reset that keeps the
 * node's own sessions. */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <arpa/inet.h>

#include "nuauth.h"
#include "cluster_etcd.h"
#include "etcd_json.h"
#include "login_guard.h"
#include "unit.h"

/* ---- the fake etcd client ---- */

static etcd_update_fn fake_update;
static etcd_lease_fn fake_lease;
static void *fake_ctx;
static GHashTable *stored;		/* key -> value (string): what was put */
static unsigned n_puts, n_deletes;

struct etcd_client *etcd_client_new(const struct etcd_client_config *cfg, const char *prefix,
				    GMainContext *main, etcd_update_fn update,
				    etcd_lease_fn lease, void *ctx)
{
	(void)main;
	CHECK(strcmp(prefix, "/lab/") == 0);
	CHECK(cfg->ttl == 4 && g_strv_length(cfg->endpoints) == 2);
	fake_update = update;
	fake_lease = lease;
	fake_ctx = ctx;
	return (struct etcd_client *)&fake_ctx;
}

void etcd_client_put(struct etcd_client *c, const char *key, const void *value, size_t len)
{
	(void)c;
	n_puts++;
	g_hash_table_replace(stored, g_strdup(key), g_strndup(value, len));
}

void etcd_client_delete(struct etcd_client *c, const char *key)
{
	(void)c;
	n_deletes++;
	CHECK(g_hash_table_remove(stored, key));
}

void etcd_client_free(struct etcd_client *c)
{
	(void)c;
}

/* put_once: the commands sent (key -> value), and their leases' ttl. */
static GHashTable *sent;
static unsigned sent_ttl;

void etcd_client_put_once(struct etcd_client *c, const char *key, const void *value,
			  size_t len, unsigned ttl)
{
	(void)c;
	sent_ttl = ttl;
	g_hash_table_replace(sent, g_strdup(key), g_strndup(value, len));
}

/* claim: the last one asked (its slots, takeovers and value) and its
 * callback; release: the slots released. */
static char **claim_slots, **claim_takeover, *claim_mine;
static etcd_claim_fn claim_fn;
static void *claim_ctx;
static GPtrArray *released;

void etcd_client_claim(struct etcd_client *c, char **slots, char **takeover, const char *mine,
		       etcd_claim_fn fn, void *ctx)
{
	(void)c;
	g_strfreev(claim_slots);
	g_strfreev(claim_takeover);
	g_free(claim_mine);
	claim_slots = g_strdupv(slots);
	claim_takeover = g_strdupv(takeover);
	claim_mine = g_strdup(mine);
	claim_fn = fn;
	claim_ctx = ctx;
}

void etcd_client_release(struct etcd_client *c, const char *key)
{
	(void)c;
	g_ptr_array_add(released, g_strdup(key));
}

/* What the health check reads: the silence and the last full read. */
static gint64 fake_silence, fake_snapshot_at;
static unsigned restarts;

gint64 etcd_client_silence(struct etcd_client *c, gint64 now)
{
	(void)c;
	(void)now;
	return fake_silence;
}

gint64 etcd_client_snapshot_at(struct etcd_client *c)
{
	(void)c;
	return fake_snapshot_at;
}

void etcd_client_restart_watch(struct etcd_client *c)
{
	(void)c;
	restarts++;
}

gint64 etcd_client_keepalive_interval(const struct etcd_client_config *cfg)
{
	return (gint64)cfg->ttl * G_USEC_PER_SEC / 3;
}

/* The disconnect a command asks for (main.c's is client_session.c's). */
static char *disconnected;
static unsigned n_disconnects;

static unsigned fake_disconnect(struct nuauth_server *s, const char *user, const char *why,
				unsigned *sessions)
{
	(void)s;
	CHECK(strstr(why, "from node b") != NULL);
	g_free(disconnected);
	disconnected = g_strdup(user);
	n_disconnects++;
	*sessions = 1;
	return 2;
}

/* ---- helpers ---- */

static struct nuauth_server srv;

static struct in6_addr addr(const char *text)
{
	struct in6_addr a;

	nu_addr_from_v4(&a, inet_addr(text));
	return a;
}

/* kvs as the watch hands them: (key, JSON record or NULL for a delete)... */
static void feed(bool reset, ...)
{
	GPtrArray *kvs = g_ptr_array_new_with_free_func(etcd_kv_free);
	va_list ap;
	const char *key;

	va_start(ap, reset);
	while ((key = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		struct etcd_kv *kv = g_new0(struct etcd_kv, 1);

		kv->key = g_strdup(key);
		kv->deleted = value == NULL;
		kv->value = g_bytes_new(value ? value : "", value ? strlen(value) : 0);
		g_ptr_array_add(kvs, kv);
	}
	va_end(ap);
	fake_update(kvs, reset, fake_ctx);
	g_ptr_array_unref(kvs);
}

static char *record(const char *user, const char *address, const char *node)
{
	struct etcd_session s = { .id = "x", .user = (char *)user, .address = (char *)address,
				  .node = (char *)node, .mechanism = "PLAIN", .login_time = 1 };

	return etcd_json_session(&s);
}

static bool counts(const char *user, const char *address, unsigned want_users,
		   unsigned want_addrs)
{
	struct in6_addr a = addr(address);
	unsigned u, n;

	nuauth_cluster_count_elsewhere(srv.cluster, user, &a, &u, &n);
	if (u == want_users && n == want_addrs)
		return true;
	fprintf(stderr, "%s at %s: %u user(s), %u at the address; wanted %u, %u\n", user,
		address, u, n, want_users, want_addrs);
	return false;
}

static char *won, *refusal;

static void on_claimed(const char *slot, const char *why, void *ctx)
{
	CHECK(ctx == &won);
	g_free(won);
	g_free(refusal);
	won = g_strdup(slot);
	refusal = g_strdup(why);
}

/* The single-login limit's slots: which are asked for, which a failover
 * may take over, what etcd's answers make of the login. */
static void test_claims(void)
{
	struct in6_addr desk = addr("10.201.0.2"), far = addr("10.203.0.2");
	struct nuauth_cluster_claim *cl;

	/* no limit, or one too large for slots: no claim */
	CHECK(!nuauth_cluster_claim_login(srv.cluster, "dave", &desk, 0, on_claimed, &won));
	CHECK(!nuauth_cluster_claim_login(srv.cluster, "dave", &desk, NUAUTH_CLUSTER_SLOTS_MAX + 1,
					  on_claimed, &won));
	CHECK(!nuauth_cluster_claim_login(NULL, "dave", &desk, 1, on_claimed, &won));
	/* dave (on node b at 10.201.0.3) logs in here from 10.201.0.2: two
	 * slots, none to take over; his name escaped in the key */
	CHECK(nuauth_cluster_claim_login(srv.cluster, "dave", &desk, 2, on_claimed, &won));
	CHECK(g_strv_length(claim_slots) == 2 &&
	      strcmp(claim_slots[0], "/lab/limits/user/dave/0") == 0 &&
	      strcmp(claim_slots[1], "/lab/limits/user/dave/1") == 0);
	CHECK(g_strv_length(claim_takeover) == 0);
	CHECK(strcmp(claim_mine, "a\ndave\n10.201.0.2") == 0);
	claim_fn("/lab/limits/user/dave/1", true, claim_ctx);
	CHECK(g_strcmp0(won, "/lab/limits/user/dave/1") == 0);
	/* every slot taken: refused with "" (the limit), or etcd silent */
	CHECK(nuauth_cluster_claim_login(srv.cluster, "dave", &desk, 1, on_claimed, &won));
	claim_fn(NULL, true, claim_ctx);
	CHECK(!won && g_strcmp0(refusal, "") == 0);
	CHECK(nuauth_cluster_claim_login(srv.cluster, "dave", &desk, 1, on_claimed, &won));
	claim_fn(NULL, false, claim_ctx);
	CHECK(!won && refusal && strstr(refusal, "etcd did not answer"));
	/* dave at his own address on node b: a failover takes that slot over;
	 * from another address, no */
	CHECK(nuauth_cluster_claim_login(srv.cluster, "dave", &(struct in6_addr){0}, 1, on_claimed,
					 &won) != NULL);
	CHECK(g_strv_length(claim_takeover) == 0);
	claim_fn(NULL, true, claim_ctx);
	CHECK(nuauth_cluster_claim_login(srv.cluster, "dave", &far, 1, on_claimed, &won));
	CHECK(g_strv_length(claim_takeover) == 0);
	claim_fn(NULL, true, claim_ctx);
	{
		struct in6_addr dave_addr = addr("10.201.0.3");

		CHECK(nuauth_cluster_claim_login(srv.cluster, "dave", &dave_addr, 1, on_claimed,
						 &won));
		CHECK(g_strv_length(claim_takeover) == 1 &&
		      strcmp(claim_takeover[0], "b\ndave\n10.201.0.3") == 0);
		claim_fn(NULL, true, claim_ctx);
	}
	/* a login gone before the answer: no callback, the slot released */
	g_free(won);
	won = g_strdup("untouched");
	cl = nuauth_cluster_claim_login(srv.cluster, "eve", &desk, 1, on_claimed, &won);
	nuauth_cluster_claim_cancel(cl);
	claim_fn("/lab/limits/user/eve/0", true, claim_ctx);
	CHECK(strcmp(won, "untouched") == 0);
	CHECK(released->len == 1 && strcmp(g_ptr_array_index(released, 0),
					   "/lab/limits/user/eve/0") == 0);
	nuauth_cluster_release(srv.cluster, "/lab/limits/user/dave/1");
	CHECK(released->len == 2);
	g_clear_pointer(&won, g_free);
	g_clear_pointer(&refusal, g_free);
}

/* Runs the main context until the health check (every 200 ms) ran. */
static void tick(void)
{
	g_main_context_iteration(NULL, TRUE);
}

/* disconnect: a command key to each node holding the user; a command to
 * this node runs once and is deleted; another node's is left alone. */
static void test_commands(const char *rd)
{
	struct etcd_command cmd = { .command = "disconnect", .user = "carol", .from = "b" };
	char *v = etcd_json_command(&cmd), **nodes;
	unsigned deletes = n_deletes;
	struct etcd_command got;
	GHashTableIter it;
	gpointer k, val;

	nuauth_cluster_on_disconnect(srv.cluster, fake_disconnect);
	/* dave is on node b (the record rd at /lab/sessions/b/7) */
	nodes = nuauth_cluster_disconnect(srv.cluster, "dave");
	CHECK(g_strv_length(nodes) == 1 && strcmp(nodes[0], "b") == 0);
	g_strfreev(nodes);
	CHECK(g_hash_table_size(sent) == 1 && sent_ttl > 0 && sent_ttl <= 30);
	g_hash_table_iter_init(&it, sent);
	CHECK(g_hash_table_iter_next(&it, &k, &val));
	CHECK(g_str_has_prefix(k, "/lab/commands/b/a-"));
	CHECK(etcd_json_read_command(val, strlen(val), &got, NULL));
	CHECK(strcmp(got.command, "disconnect") == 0 && strcmp(got.user, "dave") == 0 &&
	      strcmp(got.from, "a") == 0);
	etcd_command_clear(&got);
	/* nobody holds eve: no node asked */
	nodes = nuauth_cluster_disconnect(srv.cluster, "eve");
	CHECK(nodes[0] == NULL && g_hash_table_size(sent) == 1);
	g_strfreev(nodes);
	/* a command to node b is not this node's */
	feed(false, "/lab/commands/b/x-1", v, NULL);
	CHECK(n_disconnects == 0);
	/* one to node a runs, and is deleted */
	g_hash_table_replace(stored, g_strdup("/lab/commands/a/b-1"), g_strdup(v));
	feed(false, "/lab/commands/a/b-1", v, NULL);
	CHECK(n_disconnects == 1 && g_strcmp0(disconnected, "carol") == 0);
	CHECK(n_deletes == deletes + 1);
	/* seen again in a new read before its delete is: not run again */
	feed(true, "/lab/sessions/b/7", rd, "/lab/commands/a/b-1", v, NULL);
	CHECK(n_disconnects == 1);
	/* a command that is not JSON is not run, but deleted */
	g_hash_table_replace(stored, g_strdup("/lab/commands/a/b-2"), g_strdup("x"));
	feed(false, "/lab/commands/a/b-2", "x", NULL);
	CHECK(n_disconnects == 1 && n_deletes == deletes + 2);
	g_free(v);
}

/* nuauthctl connections across the cluster: node b, present, is asked
 * and answers; node a answers node b's question with its listing. */
static unsigned n_answered;
static struct nuauth_cluster_answer last_answer;	/* its strings: below */
static char *last_items, last_node[16];

static void on_answers(const struct nuauth_cluster_answer *answers, unsigned n, void *ctx)
{
	(void)ctx;
	n_answered++;
	CHECK(n == 1);
	last_answer = answers[0];
	g_strlcpy(last_node, answers[0].node, sizeof(last_node));
	last_answer.node = last_node;
	last_answer.error = *answers[0].error ? "yes" : "";
	last_answer.items = NULL;
	g_free(last_items);
	last_items = answers[0].items ? g_strjoinv("|", answers[0].items) : g_strdup("");
}

static char *fake_listing(struct nuauth_server *s, size_t max)
{
	(void)s;
	CHECK(max >= 65536);
	return g_strdup("{\"node\":\"a\",\"connections\":[],\"more\":0}");
}

static char *sent_key(const char *prefix)
{
	GHashTableIter it;
	gpointer k;

	g_hash_table_iter_init(&it, sent);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (g_str_has_prefix(k, prefix))
			return k;
	return NULL;
}

static void test_questions(void)
{
	struct nuauth_cluster_ask *q;
	struct etcd_command got;
	char *key, *reply, *answer, *v;
	struct etcd_command cmd = { .command = "connections", .user = "", .from = "b",
				    .reply = "/lab/replies/b/q1/a" };

	g_hash_table_remove_all(sent);
	/* nobody else present: nothing asked */
	CHECK(!nuauth_cluster_ask_connections(srv.cluster, on_answers, NULL));
	feed(false, "/lab/nodes/b", "b", "/lab/nodes/a", "a", NULL);
	q = nuauth_cluster_ask_connections(srv.cluster, on_answers, NULL);
	CHECK(q != NULL && n_answered == 0);
	key = sent_key("/lab/commands/b/a-");
	CHECK(key && etcd_json_read_command(g_hash_table_lookup(sent, key),
					    strlen(g_hash_table_lookup(sent, key)), &got, NULL));
	CHECK(strcmp(got.command, "connections") == 0 && g_str_has_prefix(got.reply, "/lab/replies/a/"));
	reply = g_strdup(got.reply);
	etcd_command_clear(&got);
	/* node b's answer: read, deleted, handed over once */
	answer = g_strdup("{\"node\":\"b\",\"connections\":[{\"user\":\"bob\"},{\"user\":\"dave\"}],"
			  "\"more\":3}");
	g_hash_table_replace(stored, g_strdup(reply), g_strdup(answer));
	feed(false, reply, answer, NULL);
	CHECK(n_answered == 1 && last_answer.answered && !*last_answer.error &&
	      last_answer.more == 3 && strcmp(last_answer.node, "b") == 0);
	CHECK(g_strcmp0(last_items, "{\"user\":\"bob\"}|{\"user\":\"dave\"}") == 0);
	CHECK(!g_hash_table_contains(stored, reply));
	feed(false, reply, answer, NULL);	/* again: the question is over */
	CHECK(n_answered == 1);
	/* a malformed answer counts as unanswered, and says why */
	g_free(reply);
	g_hash_table_remove_all(sent);
	q = nuauth_cluster_ask_connections(srv.cluster, on_answers, NULL);
	key = sent_key("/lab/commands/b/a-");
	CHECK(key && etcd_json_read_command(g_hash_table_lookup(sent, key),
					    strlen(g_hash_table_lookup(sent, key)), &got, NULL));
	reply = g_strdup(got.reply);
	etcd_command_clear(&got);
	g_hash_table_replace(stored, g_strdup(reply), g_strdup("{\"connections\":[1]}"));
	feed(false, reply, "{\"connections\":[1]}", NULL);
	CHECK(n_answered == 2 && last_answer.answered && *last_answer.error);
	g_free(reply);
	/* the asker goes away: never called */
	q = nuauth_cluster_ask_connections(srv.cluster, on_answers, NULL);
	nuauth_cluster_ask_cancel(q);
	CHECK(n_answered == 2);
	/* node b asks node a: a's listing goes under b's reply key */
	nuauth_cluster_on_listing(srv.cluster, fake_listing);
	g_hash_table_remove_all(sent);
	v = etcd_json_command(&cmd);
	g_hash_table_replace(stored, g_strdup("/lab/commands/a/b-q1"), g_strdup(v));
	feed(false, "/lab/commands/a/b-q1", v, NULL);
	CHECK(g_strcmp0(g_hash_table_lookup(sent, "/lab/replies/b/q1/a"),
			"{\"node\":\"a\",\"connections\":[],\"more\":0}") == 0);
	g_free(v);
	/* a reply key outside PREFIX/replies/ is not written */
	cmd.reply = "/lab/sessions/a/1";
	v = etcd_json_command(&cmd);
	g_hash_table_replace(stored, g_strdup("/lab/commands/a/b-q2"), g_strdup(v));
	feed(false, "/lab/commands/a/b-q2", v, NULL);
	CHECK(!g_hash_table_contains(sent, "/lab/sessions/a/1"));
	g_free(v);
	/* node b leaves: nobody to ask */
	feed(false, "/lab/nodes/b", NULL, NULL);
	CHECK(!nuauth_cluster_ask_connections(srv.cluster, on_answers, NULL));
	g_free(last_items);
	g_free(answer);
}

/* A node cut off from etcd: lost after two keep-alive periods without an
 * answer; limited logins refused meanwhile (the default), back once etcd
 * answers and the prefix was read again. */
static void test_partition(void)
{
	gint64 interval = 4 * G_USEC_PER_SEC / 3;
	struct in6_addr zoe = addr("10.201.0.9"), dave_addr = addr("10.201.0.3");
	char *why;

	fake_silence = 0;
	fake_snapshot_at = g_get_monotonic_time();
	tick();
	CHECK(nuauth_cluster_synced(srv.cluster));
	CHECK(!nuauth_cluster_login_refusal(srv.cluster, true, "zoe", &zoe));
	/* one keep-alive late: still in */
	fake_silence = interval + interval / 2;
	tick();
	CHECK(nuauth_cluster_synced(srv.cluster));
	/* two periods without an answer: cut off, the watch starts again */
	fake_silence = 2 * interval + 1;
	tick();
	CHECK(!nuauth_cluster_synced(srv.cluster) && restarts == 1);
	why = nuauth_cluster_login_refusal(srv.cluster, true, "zoe", &zoe);
	CHECK(why && strstr(why, "node a is cut off from the cluster (etcd)"));
	g_free(why);
	CHECK(!nuauth_cluster_login_refusal(srv.cluster, false, "zoe", &zoe));
	/* dave's session at 10.201.0.3 is on node b: his client failing over
	 * here is not limited; from elsewhere it is */
	CHECK(nuauth_cluster_is_failover(srv.cluster, "dave", &dave_addr));
	CHECK(!nuauth_cluster_is_failover(srv.cluster, "dave", &zoe));
	CHECK(!nuauth_cluster_login_refusal(srv.cluster, true, "dave", &dave_addr));
	why = nuauth_cluster_login_refusal(srv.cluster, true, "dave", &zoe);
	CHECK(why != NULL);
	g_free(why);
	srv.cfg.cluster_partition_logins = NUAUTH_PARTITION_REFUSE;
	why = nuauth_cluster_login_refusal(srv.cluster, false, "zoe", &zoe);
	CHECK(why != NULL);
	g_free(why);
	srv.cfg.cluster_partition_logins = NUAUTH_PARTITION_ALLOW;
	CHECK(!nuauth_cluster_login_refusal(srv.cluster, true, "zoe", &zoe));
	srv.cfg.cluster_partition_logins = NUAUTH_PARTITION_LIMITED;
	/* etcd answers, but the directory was not read since: still out */
	fake_silence = 0;
	tick();
	CHECK(!nuauth_cluster_synced(srv.cluster));
	fake_snapshot_at = g_get_monotonic_time();
	tick();
	CHECK(nuauth_cluster_synced(srv.cluster) && restarts == 1);
	/* the lease gone is etcd lost too */
	fake_lease(false, fake_ctx);
	tick();
	CHECK(!nuauth_cluster_synced(srv.cluster));
	fake_lease(true, fake_ctx);
	fake_snapshot_at = g_get_monotonic_time();
	tick();
	CHECK(nuauth_cluster_synced(srv.cluster));
}

/* The key in etcd of the node's failed-login record for guard key. */
static char *fails_key(const char *kind, const char *node, const char *key)
{
	char *id = nu_login_guard_id(srv.login_guard, key);
	char *k = g_strdup_printf("/lab/%s/%s/%s", kind, node, id);

	g_free(id);
	return k;
}

/* Failed logins across the cluster: a failure here is written (after the
 * coalescing delay) under PREFIX/fails/a/ID, by its id, with no name; a
 * lock node b wrote applies here; a known address node b wrote exempts
 * the name's lock here; node a's own records from the watch are ignored;
 * a reset forgets node b's. */
static void test_throttle(void)
{
	char *ip = fails_key("fails", "a", "ip:10.9.0.1");
	char *user = fails_key("fails", "a", "user:erin");
	char *remote = fails_key("fails", "b", "ip:10.9.0.2");
	char *mine = fails_key("fails", "a", "ip:10.9.0.2");
	char *name = fails_key("fails", "b", "user:frank");
	char *known = fails_key("known", "b", "known:10.9.0.3 frank");
	struct etcd_throttle t = { .failures = 0, .window = 0 };
	char *v;
	const char *stored_ip;
	gint64 unix_now = g_get_real_time() / G_USEC_PER_SEC;

	nuauth_login_failed(&srv, "10.9.0.1", "erin");
	for (int i = 0; i < 50 && !g_hash_table_contains(stored, ip); i++)
		g_main_context_iteration(NULL, TRUE);
	stored_ip = g_hash_table_lookup(stored, ip);
	CHECK(stored_ip && etcd_json_read_throttle(stored_ip, strlen(stored_ip), false, &t, NULL) &&
	      t.failures == 1 && t.locked_until == 0 && t.window >= unix_now - 1 &&
	      t.window <= unix_now + 1);
	CHECK(stored_ip && !strstr(stored_ip, "erin") && !strstr(stored_ip, "10.9"));
	CHECK(g_hash_table_contains(stored, user));
	/* node b locked 10.9.0.2 for 30 s; frank's name after 20 failures,
	 * and knows frank at 10.9.0.3 */
	t = (struct etcd_throttle){ .window = unix_now, .locked_until = unix_now + 30, .lock = 30 };
	v = etcd_json_throttle(&t, false);
	feed(false, remote, v, name, v, NULL);
	g_free(v);
	CHECK(nuauth_login_locked(&srv, "10.9.0.2", NULL) >= 29);
	CHECK(nuauth_login_locked(&srv, "10.9.0.4", "frank") >= 29);
	CHECK(nuauth_login_locked(&srv, "10.9.0.3", "frank") >= 29);
	t.known_until = unix_now + 3600;
	v = etcd_json_throttle(&t, true);
	feed(false, known, v, NULL);
	g_free(v);
	CHECK(nuauth_login_locked(&srv, "10.9.0.3", "frank") == 0);
	CHECK(nuauth_login_locked(&srv, "10.9.0.4", "frank") >= 29);
	/* its own record from the watch: ignored (not a lock of node b) */
	t = (struct etcd_throttle){ .window = unix_now, .locked_until = unix_now + 30, .lock = 30 };
	v = etcd_json_throttle(&t, false);
	feed(false, mine, v, "/lab/fails/b/nothex", v, NULL);
	g_free(v);
	CHECK(nuauth_login_locked(&srv, "10.9.0.1", NULL) == 0);
	/* node b's lock record deleted: gone here too */
	feed(false, remote, NULL, NULL);
	CHECK(nuauth_login_locked(&srv, "10.9.0.2", NULL) == 0);
	/* a new snapshot without node b's records forgets them */
	feed(true, NULL);
	CHECK(nuauth_login_locked(&srv, "10.9.0.4", "frank") == 0);
	g_free(ip);
	g_free(user);
	g_free(remote);
	g_free(mine);
	g_free(name);
	g_free(known);
}

static void test_cluster(void)
{
	struct in6_addr desk = addr("10.201.0.2"), other = addr("10.201.0.3");
	static const struct nuauth_peer_ops ops = { 0 };
	struct nuauth_peer *carol;
	char *rb = record("bob", "10.201.0.2", "b"), *rd = record("dave", "10.201.0.3", "b");
	char *bad = g_strdup("{\"user\":\"x\"}");
	char *value;

	CHECK(nuauth_cluster_start(&srv, NULL) && srv.cluster);
	CHECK(nuauth_cluster_enabled(srv.cluster));
	CHECK(strcmp(nuauth_cluster_node(srv.cluster), "a") == 0);
	/* the node is present for the others' questions (cluster_ask.c) */
	CHECK(g_strcmp0(g_hash_table_lookup(stored, "/lab/nodes/a"), "a") == 0);
	g_hash_table_remove(stored, "/lab/nodes/a");
	n_puts = 0;
	/* carol logs in here: her record goes to etcd, under this node */
	carol = nuauth_peers_add(srv.peers, NUAUTH_PEER_CLIENT, &desk, "carol", &ops, NULL);
	nuauth_cluster_session_up(srv.cluster, carol, "SCRAM-SHA-256", 1796000000LL * G_USEC_PER_SEC);
	CHECK(n_puts == 1 && g_hash_table_size(stored) == 1);
	{
		GHashTableIter it;
		gpointer k, v;
		struct etcd_session s;

		g_hash_table_iter_init(&it, stored);
		CHECK(g_hash_table_iter_next(&it, &k, &v));
		CHECK(g_str_has_prefix(k, "/lab/sessions/a/"));
		value = g_strdup(v);
		CHECK(etcd_json_read_session(v, strlen(v), &s, NULL));
		CHECK(strcmp(s.user, "carol") == 0 && strcmp(s.address, "10.201.0.2") == 0 &&
		      strcmp(s.node, "a") == 0 && strcmp(s.mechanism, "SCRAM-SHA-256") == 0 &&
		      s.login_time == 1796000000);
		etcd_session_clear(&s);
	}
	/* this node's own session is not "elsewhere" */
	CHECK(!nuauth_cluster_owned_elsewhere(srv.cluster, &desk));
	CHECK(nuauth_cluster_sessions(srv.cluster) == 1);
	/* the watch's first snapshot: bob and dave on node b, a bad record,
	 * and carol's own record (ignored: the node knows its own) */
	feed(true, "/lab/sessions/b/1", rb, "/lab/sessions/b/2", rd, "/lab/sessions/b/3", bad,
	     "/lab/sessions/a/ffff", value, NULL);
	CHECK(nuauth_cluster_sessions(srv.cluster) == 3);
	CHECK(nuauth_cluster_owned_elsewhere(srv.cluster, &desk));
	CHECK(nuauth_cluster_owned_elsewhere(srv.cluster, &other));
	CHECK(counts("bob", "10.201.0.9", 1, 0));	/* bob elsewhere: counts */
	CHECK(counts("bob", "10.201.0.2", 0, 0));	/* bob at his address: a failover */
	CHECK(counts("carol", "10.201.0.2", 0, 1));	/* bob's session at her address */
	CHECK(counts("dave", "10.201.0.2", 1, 1));
	/* dave logs out on node b */
	feed(false, "/lab/sessions/b/2", NULL, NULL);
	CHECK(!nuauth_cluster_owned_elsewhere(srv.cluster, &other));
	CHECK(counts("dave", "10.201.0.3", 0, 0));
	/* the watch starts again: a new snapshot replaces the other nodes'
	 * records (bob is gone), never this node's */
	feed(true, "/lab/sessions/b/7", rd, NULL);
	CHECK(!nuauth_cluster_owned_elsewhere(srv.cluster, &desk));
	CHECK(nuauth_cluster_owned_elsewhere(srv.cluster, &other));
	CHECK(nuauth_cluster_sessions(srv.cluster) == 2);
	/* carol's link closes: her record is deleted */
	nuauth_peers_remove(srv.peers, carol->id);
	CHECK(n_deletes == 1 && g_hash_table_size(stored) == 0);
	CHECK(nuauth_cluster_sessions(srv.cluster) == 1);
	fake_lease(false, fake_ctx);
	fake_lease(true, fake_ctx);
	test_commands(rd);
	test_questions();
	test_claims();
	test_partition();
	test_throttle();
	nuauth_cluster_stop(&srv);
	CHECK(srv.cluster == NULL);
	/* no cluster: nothing is elsewhere */
	CHECK(!nuauth_cluster_owned_elsewhere(NULL, &desk));
	CHECK(!nuauth_cluster_enabled(NULL));
	g_free(rb);
	g_free(rd);
	g_free(bad);
	g_free(value);
}

int main(void)
{
	char *endpoints[] = { "http://127.0.0.1:1", "http://127.0.0.1:2", NULL };

	stored = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	sent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	released = g_ptr_array_new_with_free_func(g_free);
	srv.peers = nuauth_peers_new();
	srv.cfg.cluster_endpoints = endpoints;
	srv.cfg.cluster_node = "a";
	srv.cfg.cluster_prefix = "/lab";
	srv.cfg.cluster_lease_ttl = 4;
	srv.cfg.cluster_partition_logins = NUAUTH_PARTITION_LIMITED;
	srv.cfg.cluster_throttle_secret = "lab";
	srv.cfg.login_failure_limit = 5;
	srv.cfg.login_user_failure_limit = 20;
	srv.cfg.login_failure_window = 60;
	srv.cfg.login_lock_time = 30;
	srv.cfg.login_known_address_time = 86400;
	nuauth_login_guard_configure(&srv);
	test_cluster();
	nu_login_guard_free(srv.login_guard);
	nuauth_peers_free(srv.peers);
	g_hash_table_destroy(stored);
	g_hash_table_destroy(sent);
	g_ptr_array_unref(released);
	g_strfreev(claim_slots);
	g_strfreev(claim_takeover);
	g_free(claim_mine);
	g_free(disconnected);
	return unit_done("cluster");
}
