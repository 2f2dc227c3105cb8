/* Connections to end at a time (expiry.h): a sequence sorted by deadline,
 * and an index by flow so that a flow asked about again is moved, not
 * added twice. */
#include "config.h"
#include "expiry.h"

struct item {
	struct nu_flow flow;
	gint64 deadline;
	GSequenceIter *pos;
};

struct nufw_expiry {
	GMutex lock;
	GSequence *by_deadline;		/* struct item, owned */
	GHashTable *by_flow;		/* &item->flow -> item */
	gint count;			/* read without the lock */
};

static gint by_deadline(gconstpointer a, gconstpointer b, gpointer data)
{
	const struct item *x = a, *y = b;

	(void)data;
	return x->deadline < y->deadline ? -1 : x->deadline > y->deadline;
}

struct nufw_expiry *nufw_expiry_new(void)
{
	struct nufw_expiry *e = g_new0(struct nufw_expiry, 1);

	e->by_deadline = g_sequence_new(g_free);
	e->by_flow = g_hash_table_new(nu_flow_ghash, nu_flow_gequal);
	g_mutex_init(&e->lock);
	return e;
}

void nufw_expiry_free(struct nufw_expiry *e)
{
	if (!e)
		return;
	g_hash_table_destroy(e->by_flow);
	g_sequence_free(e->by_deadline);
	g_mutex_clear(&e->lock);
	g_free(e);
}

/* The callers hold the lock. */
static bool move_locked(struct nufw_expiry *e, const struct nu_flow *flow, gint64 deadline)
{
	struct item *it = g_hash_table_lookup(e->by_flow, flow);

	if (!it)
		return false;
	it->deadline = deadline;
	g_sequence_sort_changed(it->pos, by_deadline, NULL);
	return true;
}

static void forget_locked(struct nufw_expiry *e, struct item *it)
{
	g_hash_table_remove(e->by_flow, &it->flow);
	g_sequence_remove(it->pos);	/* frees it */
	g_atomic_int_set(&e->count, (gint)g_hash_table_size(e->by_flow));
}

bool nufw_expiry_move(struct nufw_expiry *e, const struct nu_flow *flow, gint64 deadline)
{
	bool moved;

	g_mutex_lock(&e->lock);
	moved = move_locked(e, flow, deadline);
	g_mutex_unlock(&e->lock);
	return moved;
}

bool nufw_expiry_add(struct nufw_expiry *e, const struct nu_flow *flow, gint64 deadline)
{
	struct item *it;
	bool ok = true;

	g_mutex_lock(&e->lock);
	if (move_locked(e, flow, deadline))
		goto out;
	if (g_hash_table_size(e->by_flow) >= NUFW_EXPIRY_MAX) {
		ok = false;
		goto out;
	}
	it = g_new(struct item, 1);
	it->flow = *flow;
	it->deadline = deadline;
	it->pos = g_sequence_insert_sorted(e->by_deadline, it, by_deadline, NULL);
	g_hash_table_insert(e->by_flow, &it->flow, it);
	g_atomic_int_set(&e->count, (gint)g_hash_table_size(e->by_flow));
out:
	g_mutex_unlock(&e->lock);
	return ok;
}

bool nufw_expiry_remove(struct nufw_expiry *e, const struct nu_flow *flow)
{
	struct item *it;
	bool found;

	if (g_atomic_int_get(&e->count) == 0)
		return false;	/* every connection's end, with -C: no lock */
	g_mutex_lock(&e->lock);
	it = g_hash_table_lookup(e->by_flow, flow);
	found = it != NULL;
	if (found)
		forget_locked(e, it);
	g_mutex_unlock(&e->lock);
	return found;
}

unsigned nufw_expiry_due(struct nufw_expiry *e, gint64 now,
			 void (*fn)(const struct nu_flow *flow, void *ctx), void *ctx)
{
	unsigned n = 0;

	while (g_atomic_int_get(&e->count) > 0) {
		struct nu_flow flow;
		bool due = false;

		g_mutex_lock(&e->lock);
		if (g_sequence_get_length(e->by_deadline) > 0) {
			struct item *it = g_sequence_get(g_sequence_get_begin_iter(e->by_deadline));

			due = it->deadline <= now;
			if (due) {
				flow = it->flow;
				forget_locked(e, it);
			}
		}
		g_mutex_unlock(&e->lock);
		if (!due)
			break;
		fn(&flow, ctx);
		n++;
	}
	return n;
}

unsigned nufw_expiry_count(const struct nufw_expiry *e)
{
	return (unsigned)g_atomic_int_get(&e->count);
}
