/* The connections of each client session (sessions.h): an index by flow,
 * one list per session tag, and one list of every entry oldest first, for
 * the bound. */
#include "config.h"
#include "sessions.h"

struct entry {
	struct nu_flow flow;
	struct session *session;
	GList in_session;		/* in session->entries */
	GList in_order;			/* in nufw_sessions.order */
};

struct session {
	uint64_t tag;
	GQueue entries;			/* struct entry, oldest first */
};

struct nufw_sessions {
	GMutex lock;
	GHashTable *by_flow;		/* &entry->flow -> entry (owned) */
	GHashTable *by_tag;		/* &session->tag -> session (owned) */
	GQueue order;			/* every entry, oldest first */
	gint count;			/* read without the lock */
};

struct nufw_sessions *nufw_sessions_new(void)
{
	struct nufw_sessions *s = g_new0(struct nufw_sessions, 1);

	g_mutex_init(&s->lock);
	s->by_flow = g_hash_table_new_full(nu_flow_ghash, nu_flow_gequal, NULL, g_free);
	s->by_tag = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
	g_queue_init(&s->order);
	return s;
}

void nufw_sessions_free(struct nufw_sessions *s)
{
	if (!s)
		return;
	g_hash_table_destroy(s->by_flow);
	g_hash_table_destroy(s->by_tag);
	g_mutex_clear(&s->lock);
	g_free(s);
}

/* The callers hold the lock.  Unlinks and frees e, and its session when it
 * was the last. */
static void drop_locked(struct nufw_sessions *s, struct entry *e)
{
	struct session *ses = e->session;

	g_queue_unlink(&ses->entries, &e->in_session);
	g_queue_unlink(&s->order, &e->in_order);
	if (g_queue_is_empty(&ses->entries))
		g_hash_table_remove(s->by_tag, &ses->tag);
	g_hash_table_remove(s->by_flow, &e->flow);
}

static struct session *session_locked(struct nufw_sessions *s, uint64_t tag)
{
	struct session *ses = g_hash_table_lookup(s->by_tag, &tag);

	if (!ses) {
		ses = g_new0(struct session, 1);
		ses->tag = tag;
		g_queue_init(&ses->entries);
		g_hash_table_insert(s->by_tag, &ses->tag, ses);
	}
	return ses;
}

bool nufw_sessions_add(struct nufw_sessions *s, const struct nu_flow *flow, uint64_t tag)
{
	struct entry *e;
	bool evicted = false;

	g_mutex_lock(&s->lock);
	e = g_hash_table_lookup(s->by_flow, flow);
	if (e)
		drop_locked(s, e);	/* its 5-tuple reused, or a SYN asked again */
	else if (g_hash_table_size(s->by_flow) >= NUFW_SESSIONS_MAX) {
		drop_locked(s, s->order.head->data);
		evicted = true;
	}
	e = g_new0(struct entry, 1);
	e->flow = *flow;
	e->session = session_locked(s, tag);
	e->in_session.data = e;
	e->in_order.data = e;
	g_queue_push_tail_link(&e->session->entries, &e->in_session);
	g_queue_push_tail_link(&s->order, &e->in_order);
	g_hash_table_insert(s->by_flow, &e->flow, e);
	g_atomic_int_set(&s->count, (gint)g_hash_table_size(s->by_flow));
	g_mutex_unlock(&s->lock);
	return evicted;
}

void nufw_sessions_forget(struct nufw_sessions *s, const struct nu_flow *flow)
{
	struct entry *e;

	if (g_atomic_int_get(&s->count) == 0)
		return;		/* every connection's end, with -C: no lock */
	g_mutex_lock(&s->lock);
	e = g_hash_table_lookup(s->by_flow, flow);
	if (e) {
		drop_locked(s, e);
		g_atomic_int_set(&s->count, (gint)g_hash_table_size(s->by_flow));
	}
	g_mutex_unlock(&s->lock);
}

GArray *nufw_sessions_take(struct nufw_sessions *s, uint64_t tag)
{
	GArray *flows = g_array_new(FALSE, FALSE, sizeof(struct nu_flow));
	struct session *ses;

	g_mutex_lock(&s->lock);
	while ((ses = g_hash_table_lookup(s->by_tag, &tag))) {
		struct entry *e = ses->entries.head->data;

		g_array_append_val(flows, e->flow);
		drop_locked(s, e);	/* the last one frees ses */
	}
	g_atomic_int_set(&s->count, (gint)g_hash_table_size(s->by_flow));
	g_mutex_unlock(&s->lock);
	return flows;
}

unsigned nufw_sessions_count(const struct nufw_sessions *s)
{
	return (unsigned)g_atomic_int_get(&s->count);
}
