/* Questions to every node of the cluster: see cluster_ask.h. */
#include "config.h"
#include "cluster_ask.h"

#include <string.h>

#include "cluster_etcd.h"
#include "etcd_json.h"
#include "log.h"

struct cluster_asks {
	struct etcd_client *etcd;
	char *node;
	char *nodes;			/* PREFIX/nodes/ */
	char *presence;			/* PREFIX/nodes/NODE */
	char *commands;			/* PREFIX/commands/ */
	char *replies;			/* PREFIX/replies/ */
	char *my_replies;		/* PREFIX/replies/NODE/ */
	GHashTable *present;		/* other nodes' names (owned) */
	GHashTable *open;		/* ID -> struct nuauth_cluster_ask */
	unsigned seq;
};

struct nuauth_cluster_ask {
	struct cluster_asks *a;
	char *id;
	GPtrArray *nodes;		/* char *: the nodes asked */
	struct nuauth_cluster_answer *answers;	/* one per node */
	unsigned waiting;		/* answers still to come */
	guint timer;
	nuauth_cluster_answers_fn fn;
	void *ctx;
};

struct cluster_asks *cluster_asks_new(struct etcd_client *etcd, const char *prefix,
				      const char *node)
{
	struct cluster_asks *a = g_new0(struct cluster_asks, 1);

	a->etcd = etcd;
	a->node = g_strdup(node);
	a->nodes = g_strconcat(prefix, "nodes/", NULL);
	a->presence = g_strconcat(a->nodes, node, NULL);
	a->commands = g_strconcat(prefix, "commands/", NULL);
	a->replies = g_strconcat(prefix, "replies/", NULL);
	a->my_replies = g_strconcat(a->replies, node, "/", NULL);
	a->present = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->open = g_hash_table_new(g_str_hash, g_str_equal);
	etcd_client_put(etcd, a->presence, node, strlen(node));
	return a;
}

static void ask_free(struct nuauth_cluster_ask *q)
{
	if (q->timer)
		g_source_remove(q->timer);
	for (guint i = 0; i < q->nodes->len; i++)
		g_strfreev(q->answers[i].items);
	g_free(q->answers);
	g_ptr_array_free(q->nodes, TRUE);
	g_free(q->id);
	g_free(q);
}

void cluster_asks_free(struct cluster_asks *a)
{
	GHashTableIter it;
	gpointer q;

	if (!a)
		return;
	g_hash_table_iter_init(&it, a->open);
	while (g_hash_table_iter_next(&it, NULL, &q))
		ask_free(q);
	g_hash_table_destroy(a->open);
	g_hash_table_destroy(a->present);
	g_free(a->node);
	g_free(a->nodes);
	g_free(a->presence);
	g_free(a->commands);
	g_free(a->replies);
	g_free(a->my_replies);
	g_free(a);
}

/* Every answer is in, or the time is up: the asker hears, once. */
static void finish(struct nuauth_cluster_ask *q)
{
	g_hash_table_remove(q->a->open, q->id);
	q->fn(q->answers, q->nodes->len, q->ctx);
	ask_free(q);
}

static gboolean on_time_up(gpointer data)
{
	struct nuauth_cluster_ask *q = data;

	q->timer = 0;
	for (guint i = 0; i < q->nodes->len; i++)
		if (!q->answers[i].answered)
			log_warnx("cluster: node %s did not answer question %s in %d ms",
				  q->answers[i].node, q->id, NUAUTH_CLUSTER_ASK_MS);
	finish(q);
	return G_SOURCE_REMOVE;
}

/* PREFIX/replies/ME/ID/NODE: node's answer to question ID. */
static void take_answer(struct cluster_asks *a, const struct etcd_kv *kv)
{
	const char *rest = kv->key + strlen(a->my_replies);
	const char *slash = strchr(rest, '/');
	char *id = slash ? g_strndup(rest, (gsize)(slash - rest)) : NULL;
	struct nuauth_cluster_ask *q = id ? g_hash_table_lookup(a->open, id) : NULL;
	GError *e = NULL;
	gsize len;
	const char *data;

	g_free(id);
	if (kv->deleted || !q)
		return;		/* ours deleting it, or a question ended */
	etcd_client_delete(a->etcd, kv->key);
	for (guint i = 0; i < q->nodes->len; i++) {
		struct nuauth_cluster_answer *ans = &q->answers[i];

		if (strcmp(ans->node, slash + 1) != 0 || ans->answered)
			continue;
		data = g_bytes_get_data(kv->value, &len);
		if (!etcd_json_read_listing(data, len, &ans->items, &ans->more, &e)) {
			log_warnx("cluster: node %s's answer %s: %s", ans->node, kv->key,
				  e->message);
			ans->error = "malformed answer";
			g_clear_error(&e);
		}
		ans->answered = true;
		if (--q->waiting == 0)
			finish(q);
		return;
	}
}

bool cluster_asks_update(struct cluster_asks *a, const struct etcd_kv *kv)
{
	if (g_str_has_prefix(kv->key, a->nodes)) {
		const char *name = kv->key + strlen(a->nodes);

		if (strcmp(name, a->node) == 0 || !*name || strchr(name, '/'))
			return true;
		if (kv->deleted)
			g_hash_table_remove(a->present, name);
		else
			g_hash_table_add(a->present, g_strdup(name));
		return true;
	}
	if (g_str_has_prefix(kv->key, a->my_replies)) {
		take_answer(a, kv);
		return true;
	}
	return g_str_has_prefix(kv->key, a->replies);	/* another asker's */
}

void cluster_asks_reset(struct cluster_asks *a)
{
	g_hash_table_remove_all(a->present);
}

bool cluster_asks_reply_key_ok(const struct cluster_asks *a, const char *key)
{
	return g_str_has_prefix(key, a->replies) && !strstr(key, "/../");
}

static int by_name(gconstpointer x, gconstpointer y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

struct nuauth_cluster_ask *cluster_asks_connections(struct cluster_asks *a, unsigned ttl,
						    nuauth_cluster_answers_fn fn, void *ctx)
{
	struct nuauth_cluster_ask *q;
	GHashTableIter it;
	gpointer name;

	if (g_hash_table_size(a->present) == 0)
		return NULL;
	q = g_new0(struct nuauth_cluster_ask, 1);
	q->a = a;
	q->id = g_strdup_printf("%" G_GINT64_MODIFIER "x-%u", (guint64)g_get_real_time(),
				++a->seq);
	q->nodes = g_ptr_array_new_with_free_func(g_free);
	g_hash_table_iter_init(&it, a->present);
	while (g_hash_table_iter_next(&it, &name, NULL))
		g_ptr_array_add(q->nodes, g_strdup(name));
	g_ptr_array_sort(q->nodes, by_name);
	q->answers = g_new0(struct nuauth_cluster_answer, q->nodes->len);
	q->waiting = q->nodes->len;
	q->fn = fn;
	q->ctx = ctx;
	for (guint i = 0; i < q->nodes->len; i++) {
		const char *node = g_ptr_array_index(q->nodes, i);
		char *reply = g_strconcat(a->my_replies, q->id, "/", node, NULL);
		struct etcd_command cmd = { .command = "connections", .user = "", .from = a->node,
					    .reply = reply };
		char *value = etcd_json_command(&cmd);
		char *key = g_strconcat(a->commands, node, "/", a->node, "-", q->id, NULL);

		q->answers[i].node = node;
		q->answers[i].error = "";
		etcd_client_put_once(a->etcd, key, value, strlen(value), ttl);
		g_free(key);
		g_free(value);
		g_free(reply);
	}
	g_hash_table_insert(a->open, q->id, q);
	q->timer = g_timeout_add(NUAUTH_CLUSTER_ASK_MS, on_time_up, q);
	log_info("cluster: question %s (connections) to %u node(s)", q->id, q->nodes->len);
	return q;
}

void nuauth_cluster_ask_cancel(struct nuauth_cluster_ask *q)
{
	if (!q)
		return;
	g_hash_table_remove(q->a->open, q->id);
	ask_free(q);
}
