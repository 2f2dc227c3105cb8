/* The pending table: packets by id, groups by flow and by the id they were
 * asked with, and one queue in arrival order for expiry. */
#include "config.h"
#include "pending.h"

#include <string.h>

struct group;

struct entry {
	uint32_t id;
	gint64 deadline;
	uint8_t head[NUFW_PENDING_HEAD_MAX];
	size_t head_len;
	struct group *group;
	GList order_link;	/* in p->order */
	GList group_link;	/* in group->entries */
};

struct group {
	struct nu_packet_ask ask;	/* the first packet's question */
	GQueue entries;			/* struct entry, oldest first */
	bool asked;			/* asked_id is in p->by_question */
	uint32_t asked_id;
	uint32_t nodes;			/* asked of these nodes (bits) */
	uint32_t not_owner;		/* of which these said "not mine" */
	uint8_t not_owner_verdict;	/* the last "not mine" answer's */
};

struct nufw_pending {
	GHashTable *by_id;		/* id -> struct entry */
	GHashTable *by_flow;		/* &group->ask.flow -> struct group */
	GHashTable *by_question;	/* asked id -> struct group */
	GQueue order;
	unsigned max_entries;
};

struct nufw_pending *nufw_pending_new(unsigned max_entries)
{
	struct nufw_pending *p = g_new0(struct nufw_pending, 1);

	p->by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
	p->by_flow = g_hash_table_new(nu_flow_ghash, nu_flow_gequal);
	p->by_question = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_queue_init(&p->order);
	p->max_entries = max_entries;
	return p;
}

static void noop(uint32_t id, const uint8_t *head, size_t head_len, void *ctx)
{
	(void)id;
	(void)head;
	(void)head_len;
	(void)ctx;
}

void nufw_pending_free(struct nufw_pending *p)
{
	if (!p)
		return;
	nufw_pending_drain(p, noop, NULL);
	g_hash_table_destroy(p->by_id);
	g_hash_table_destroy(p->by_flow);
	g_hash_table_destroy(p->by_question);
	g_free(p);
}

static void set_asked(struct nufw_pending *p, struct group *g, bool asked, uint32_t id)
{
	if (g->asked)
		g_hash_table_remove(p->by_question, GUINT_TO_POINTER(g->asked_id));
	g->asked = asked;
	g->asked_id = id;
	g->not_owner = 0;
	if (!asked)
		g->nodes = 0;
	if (asked)
		g_hash_table_insert(p->by_question, GUINT_TO_POINTER(id), g);
}

enum nufw_pending_add nufw_pending_add(struct nufw_pending *p, const struct nu_packet_ask *ask,
				       const uint8_t *packet, size_t len,
				       gint64 deadline, uint32_t asked)
{
	struct group *g;
	struct entry *e;
	bool new_flow = false;

	if (g_hash_table_size(p->by_id) >= p->max_entries)
		return NUFW_PENDING_FULL;
	if (g_hash_table_contains(p->by_id, GUINT_TO_POINTER(ask->packet_id)))
		return NUFW_PENDING_DUPLICATE;
	g = g_hash_table_lookup(p->by_flow, &ask->flow);
	if (!g) {
		g = g_new0(struct group, 1);
		g->ask = *ask;
		g_queue_init(&g->entries);
		g_hash_table_insert(p->by_flow, &g->ask.flow, g);
		if (asked) {
			set_asked(p, g, true, ask->packet_id);
			g->nodes = asked;
		}
		new_flow = true;
	}
	e = g_new0(struct entry, 1);
	e->id = ask->packet_id;
	e->deadline = deadline;
	e->head_len = MIN(len, sizeof(e->head));
	memcpy(e->head, packet, e->head_len);
	e->group = g;
	e->order_link.data = e;
	e->group_link.data = e;
	g_queue_push_tail_link(&p->order, &e->order_link);
	g_queue_push_tail_link(&g->entries, &e->group_link);
	g_hash_table_insert(p->by_id, GUINT_TO_POINTER(e->id), e);
	return new_flow ? NUFW_PENDING_NEW_FLOW : NUFW_PENDING_JOINED;
}

/* Removes e; its group goes too with its last packet. */
static void remove_entry(struct nufw_pending *p, struct entry *e)
{
	struct group *g = e->group;

	g_queue_unlink(&p->order, &e->order_link);
	g_queue_unlink(&g->entries, &e->group_link);
	g_hash_table_remove(p->by_id, GUINT_TO_POINTER(e->id));
	if (g_queue_is_empty(&g->entries)) {
		set_asked(p, g, false, 0);
		g_hash_table_remove(p->by_flow, &g->ask.flow);
		g_free(g);
	} else if (e->id == g->ask.packet_id) {
		/* A later question about this flow must carry a live id. */
		struct entry *next = g->entries.head->data;
		g->ask.packet_id = next->id;
	}
	g_free(e);
}

/* fn for every packet of g, which leaves the table. */
static unsigned answer_group(struct nufw_pending *p, struct group *g, nufw_pending_fn fn,
			     void *ctx)
{
	unsigned n = 0;
	bool last;

	do {
		struct entry *e = g->entries.head->data;

		last = g->entries.length == 1;
		fn(e->id, e->head, e->head_len, ctx);
		remove_entry(p, e);	/* frees g with the last entry */
		n++;
	} while (!last);
	return n;
}

unsigned nufw_pending_answer(struct nufw_pending *p, uint32_t id, nufw_pending_fn fn, void *ctx)
{
	struct group *g = g_hash_table_lookup(p->by_question, GUINT_TO_POINTER(id));

	return g ? answer_group(p, g, fn, ctx) : 0;
}

unsigned nufw_pending_not_owner(struct nufw_pending *p, uint32_t id, uint32_t node,
				uint8_t verdict, nufw_pending_fn fn, void *ctx)
{
	struct group *g = g_hash_table_lookup(p->by_question, GUINT_TO_POINTER(id));

	if (!g || !(g->nodes & node))
		return 0;
	g->not_owner |= node;
	g->not_owner_verdict = verdict;
	if ((g->not_owner & g->nodes) != g->nodes)
		return 0;
	return answer_group(p, g, fn, ctx);
}

struct settle_ctx {
	nufw_pending_settled_fn fn;
	void *ctx;
	uint8_t verdict;
};

static void settle_one(uint32_t id, const uint8_t *head, size_t head_len, void *data)
{
	struct settle_ctx *s = data;

	s->fn(id, head, head_len, s->verdict, s->ctx);
}

unsigned nufw_pending_node_down(struct nufw_pending *p, uint32_t node,
				nufw_pending_settled_fn fn, void *ctx)
{
	GHashTableIter it;
	struct group *g;
	GPtrArray *settled = g_ptr_array_new();
	unsigned again = 0;

	g_hash_table_iter_init(&it, p->by_flow);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&g)) {
		if (!g->asked || !(g->nodes & node))
			continue;
		g->nodes &= ~node;
		g->not_owner &= ~node;
		if (!g->nodes) {
			set_asked(p, g, false, 0);
			again++;
		} else if ((g->not_owner & g->nodes) == g->nodes) {
			g_ptr_array_add(settled, g);
		}
	}
	/* answered outside the walk: it frees the groups */
	for (guint i = 0; i < settled->len; i++) {
		struct settle_ctx s = { fn, ctx, 0 };

		g = g_ptr_array_index(settled, i);
		s.verdict = g->not_owner_verdict;
		answer_group(p, g, settle_one, &s);
	}
	g_ptr_array_free(settled, TRUE);
	return again;
}

unsigned nufw_pending_expire(struct nufw_pending *p, gint64 now, nufw_pending_fn fn, void *ctx)
{
	unsigned n = 0;

	while (p->order.head) {
		struct entry *e = p->order.head->data;

		if (e->deadline > now)
			break;
		fn(e->id, e->head, e->head_len, ctx);
		remove_entry(p, e);
		n++;
	}
	return n;
}

void nufw_pending_forget_questions(struct nufw_pending *p)
{
	GHashTableIter it;
	struct group *g;

	g_hash_table_iter_init(&it, p->by_flow);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&g))
		set_asked(p, g, false, 0);
}

unsigned nufw_pending_ask_all(struct nufw_pending *p, uint32_t node, nufw_pending_ask_fn ask,
			      void *ctx)
{
	GHashTableIter it;
	struct group *g;
	unsigned n = 0;

	g_hash_table_iter_init(&it, p->by_flow);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&g)) {
		if (g->nodes & node)
			continue;
		/* A group asked already is asked of node too, under the same
		 * question (the owner may be node: the others' "not mine"
		 * must not settle it without node's answer); one whose
		 * question's packet is gone waits for its own answers. */
		if (!g->asked)
			set_asked(p, g, true, g->ask.packet_id);
		else if (g->asked_id != g->ask.packet_id)
			continue;
		g->nodes |= node;
		ask(&g->ask, ctx);
		n++;
	}
	return n;
}

unsigned nufw_pending_drain(struct nufw_pending *p, nufw_pending_fn fn, void *ctx)
{
	return nufw_pending_expire(p, G_MAXINT64, fn, ctx);
}

unsigned nufw_pending_count(const struct nufw_pending *p)
{
	return g_hash_table_size(p->by_id);
}
