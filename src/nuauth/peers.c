/* The registry of peers (peers.h): a slot array with a free list, and the
 * subscribers of "gone" events. */
#include "config.h"
#include "peers.h"

#include <glib.h>

struct slot {
	struct nuauth_peer *peer;	/* NULL when free */
	uint32_t generation;		/* bumped when the slot is freed */
};

struct subscriber {
	nuauth_peer_gone_fn fn;
	void *ctx;
};

struct nuauth_peers {
	GArray *slots;			/* struct slot */
	GArray *free_slots;		/* guint */
	GArray *subscribers;		/* struct subscriber */
};

static nuauth_peer_id make_id(guint slot, uint32_t generation)
{
	return (nuauth_peer_id)generation << 32 | (nuauth_peer_id)(slot + 1);
}

struct nuauth_peers *nuauth_peers_new(void)
{
	struct nuauth_peers *ps = g_new0(struct nuauth_peers, 1);

	ps->slots = g_array_new(FALSE, TRUE, sizeof(struct slot));
	ps->free_slots = g_array_new(FALSE, FALSE, sizeof(guint));
	ps->subscribers = g_array_new(FALSE, FALSE, sizeof(struct subscriber));
	return ps;
}

static void peer_free(struct nuauth_peer *p)
{
	g_free(p->name);
	g_free(p);
}

void nuauth_peers_free(struct nuauth_peers *ps)
{
	if (!ps)
		return;
	for (guint i = 0; i < ps->slots->len; i++) {
		struct slot *s = &g_array_index(ps->slots, struct slot, i);

		if (s->peer)
			peer_free(s->peer);
	}
	g_array_free(ps->slots, TRUE);
	g_array_free(ps->free_slots, TRUE);
	g_array_free(ps->subscribers, TRUE);
	g_free(ps);
}

struct nuauth_peer *nuauth_peers_add(struct nuauth_peers *ps, enum nuauth_peer_kind kind,
				     const struct in6_addr *addr, const char *name,
				     const struct nuauth_peer_ops *ops, void *link)
{
	struct nuauth_peer *p = g_new0(struct nuauth_peer, 1);
	struct slot *s;
	guint i;

	if (ps->free_slots->len) {
		i = g_array_index(ps->free_slots, guint, ps->free_slots->len - 1);
		g_array_set_size(ps->free_slots, ps->free_slots->len - 1);
	} else {
		i = ps->slots->len;
		g_array_set_size(ps->slots, i + 1);
	}
	s = &g_array_index(ps->slots, struct slot, i);
	s->peer = p;
	p->id = make_id(i, s->generation);
	p->kind = kind;
	p->addr = *addr;
	p->name = g_strdup(name ? name : "");
	p->ops = ops;
	p->link = link;
	return p;
}

struct nuauth_peer *nuauth_peers_get(const struct nuauth_peers *ps, nuauth_peer_id id)
{
	guint i = (guint)(id & 0xffffffffu);
	struct nuauth_peer *p;

	if (i == 0 || i > ps->slots->len)
		return NULL;
	p = g_array_index(ps->slots, struct slot, i - 1).peer;
	return p && p->id == id ? p : NULL;
}

void nuauth_peers_remove(struct nuauth_peers *ps, nuauth_peer_id id)
{
	struct nuauth_peer *p = nuauth_peers_get(ps, id);
	guint i = (guint)(id & 0xffffffffu) - 1;
	struct slot *s;

	if (!p)
		return;
	/* The subscribers may send to other peers, never add or remove one. */
	for (guint k = 0; k < ps->subscribers->len; k++) {
		struct subscriber *sub = &g_array_index(ps->subscribers, struct subscriber, k);

		sub->fn(p, sub->ctx);
	}
	s = &g_array_index(ps->slots, struct slot, i);
	s->peer = NULL;
	s->generation++;
	g_array_append_val(ps->free_slots, i);
	peer_free(p);
}

void nuauth_peers_subscribe(struct nuauth_peers *ps, nuauth_peer_gone_fn fn, void *ctx)
{
	struct subscriber sub = { .fn = fn, .ctx = ctx };

	g_array_append_val(ps->subscribers, sub);
}

void nuauth_peers_unsubscribe(struct nuauth_peers *ps, nuauth_peer_gone_fn fn, void *ctx)
{
	for (guint k = 0; k < ps->subscribers->len; k++) {
		struct subscriber *sub = &g_array_index(ps->subscribers, struct subscriber, k);

		if (sub->fn == fn && sub->ctx == ctx) {
			g_array_remove_index(ps->subscribers, k);
			return;
		}
	}
}

struct nuauth_peer *nuauth_peers_find_gateway(const struct nuauth_peers *ps, const char *name,
					      nuauth_peer_id except)
{
	for (guint i = 0; i < ps->slots->len; i++) {
		struct nuauth_peer *p = g_array_index(ps->slots, struct slot, i).peer;

		if (p && p->id != except && p->kind == NUAUTH_PEER_GATEWAY &&
		    g_strcmp0(p->name, name) == 0)
			return p;
	}
	return NULL;
}

void nuauth_peers_foreach(const struct nuauth_peers *ps, enum nuauth_peer_kind kind,
			  nuauth_peer_fn fn, void *ctx)
{
	for (guint i = 0; i < ps->slots->len; i++) {
		struct nuauth_peer *p = g_array_index(ps->slots, struct slot, i).peer;

		if (p && p->kind == kind)
			fn(p, ctx);
	}
}
