/* The registry of peers (src/nuauth/peers.c), alone: ids that never come
 * back, the "gone" event told to each subscriber in order before the id
 * stops resolving, and the look-ups the tables use. */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "peers.h"
#include "unit.h"

static GString *told;			/* "name:tag " per gone event */
static nuauth_peer_id resolved_during;

static struct nuauth_peers *ps;

static void gone_a(const struct nuauth_peer *p, void *ctx)
{
	(void)ctx;
	g_string_append_printf(told, "%s:a ", p->name);
	resolved_during = nuauth_peers_get(ps, p->id) ? p->id : 0;
}

static void gone_b(const struct nuauth_peer *p, void *ctx)
{
	g_string_append_printf(told, "%s:%s ", p->name, (const char *)ctx);
}

static void count(struct nuauth_peer *p, void *ctx)
{
	(void)p;
	(*(unsigned *)ctx)++;
}

int main(void)
{
	struct nuauth_peer *gw1, *gw1b, *carol, *dave;
	nuauth_peer_id old;
	unsigned n = 0;

	told = g_string_new(NULL);
	ps = nuauth_peers_new();
	nuauth_peers_subscribe(ps, gone_a, NULL);
	nuauth_peers_subscribe(ps, gone_b, "b");
	gw1 = nuauth_peers_add(ps, NUAUTH_PEER_GATEWAY, &in6addr_any, "fw1", NULL, NULL);
	gw1b = nuauth_peers_add(ps, NUAUTH_PEER_GATEWAY, &in6addr_any, "fw1", NULL, NULL);
	carol = nuauth_peers_add(ps, NUAUTH_PEER_CLIENT, &in6addr_any, "carol", NULL, NULL);
	CHECK(gw1->id && gw1->id != gw1b->id && gw1b->id != carol->id);
	CHECK(nuauth_peers_get(ps, carol->id) == carol && nuauth_peers_get(ps, 0) == NULL);
	CHECK(nuauth_peers_get(ps, 12345) == NULL);
	/* another link of the same gateway, not itself */
	CHECK(nuauth_peers_find_gateway(ps, "fw1", gw1->id) == gw1b);
	CHECK(nuauth_peers_find_gateway(ps, "fw2", 0) == NULL);
	CHECK(nuauth_peers_find_gateway(ps, "carol", 0) == NULL);	/* a client */
	nuauth_peers_foreach(ps, NUAUTH_PEER_CLIENT, count, &n);
	CHECK(n == 1);

	/* gone: every subscriber, in order, while the id still resolves */
	old = carol->id;
	nuauth_peers_remove(ps, old);
	CHECK(strcmp(told->str, "carol:a carol:b ") == 0 && resolved_during == old);
	CHECK(nuauth_peers_get(ps, old) == NULL);
	nuauth_peers_remove(ps, old);		/* twice: nothing */
	CHECK(strcmp(told->str, "carol:a carol:b ") == 0);
	/* the slot is used again under a new id; the old one stays dead */
	dave = nuauth_peers_add(ps, NUAUTH_PEER_CLIENT, &in6addr_any, "dave", NULL, NULL);
	CHECK(dave->id != old && nuauth_peers_get(ps, old) == NULL);
	CHECK(nuauth_peers_get(ps, dave->id) == dave);
	/* an unsubscribed table hears nothing */
	nuauth_peers_unsubscribe(ps, gone_a, NULL);
	g_string_truncate(told, 0);
	nuauth_peers_remove(ps, gw1->id);
	CHECK(strcmp(told->str, "fw1:b ") == 0);
	CHECK(nuauth_peers_find_gateway(ps, "fw1", 0) == gw1b);
	nuauth_peers_free(ps);
	g_string_free(told, TRUE);
	return unit_done("peers");
}
