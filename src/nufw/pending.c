/* The pending table: a hash by id for answers and a queue in arrival order
 * for expiry, both O(1) per packet. */
#include "config.h"
#include "pending.h"

struct entry {
	uint32_t id;
	gint64 deadline;
	GList link;		/* in p->order; data points back to the entry */
};

struct nufw_pending {
	GHashTable *by_id;	/* GUINT_TO_POINTER(id) -> struct entry */
	GQueue order;
	unsigned max_entries;
};

struct nufw_pending *nufw_pending_new(unsigned max_entries)
{
	struct nufw_pending *p = g_new0(struct nufw_pending, 1);

	p->by_id = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	g_queue_init(&p->order);
	p->max_entries = max_entries;
	return p;
}

void nufw_pending_free(struct nufw_pending *p)
{
	if (!p)
		return;
	g_hash_table_destroy(p->by_id);
	g_free(p);
}

bool nufw_pending_add(struct nufw_pending *p, uint32_t id, gint64 deadline)
{
	struct entry *e;

	if (g_hash_table_size(p->by_id) >= p->max_entries ||
	    g_hash_table_contains(p->by_id, GUINT_TO_POINTER(id)))
		return false;
	e = g_new0(struct entry, 1);
	e->id = id;
	e->deadline = deadline;
	e->link.data = e;
	g_queue_push_tail_link(&p->order, &e->link);
	g_hash_table_insert(p->by_id, GUINT_TO_POINTER(id), e);
	return true;
}

static void remove_entry(struct nufw_pending *p, struct entry *e)
{
	g_queue_unlink(&p->order, &e->link);
	g_hash_table_remove(p->by_id, GUINT_TO_POINTER(e->id));	/* frees e */
}

bool nufw_pending_take(struct nufw_pending *p, uint32_t id)
{
	struct entry *e = g_hash_table_lookup(p->by_id, GUINT_TO_POINTER(id));

	if (!e)
		return false;
	remove_entry(p, e);
	return true;
}

bool nufw_pending_take_expired(struct nufw_pending *p, gint64 now, uint32_t *id)
{
	struct entry *e = p->order.head ? p->order.head->data : NULL;

	if (!e || e->deadline > now)
		return false;
	*id = e->id;
	remove_entry(p, e);
	return true;
}

bool nufw_pending_take_any(struct nufw_pending *p, uint32_t *id)
{
	return nufw_pending_take_expired(p, G_MAXINT64, id);
}

unsigned nufw_pending_count(const struct nufw_pending *p)
{
	return g_hash_table_size(p->by_id);
}
