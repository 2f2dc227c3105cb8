/* Unit tests for nufw's table of connections that end at a time
 * (src/nufw/expiry.c): order, a deadline moved, the bound, and several
 * threads at once. */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "expiry.h"
#include "unit.h"

static struct nu_flow flow(uint16_t sport)
{
	struct nu_flow f;

	memset(&f, 0, sizeof(f));
	f.family = 4;
	f.proto = 6;
	f.sport = sport;
	f.dport = 80;
	return f;
}

static GArray *seen;

static void collect(const struct nu_flow *f, void *ctx)
{
	(void)ctx;
	g_array_append_val(seen, f->sport);
}

/* Every queue's worker uses the one table: two threads add flows (and
 * remove every fourth) while this one takes what is due.  Each flow added
 * and not removed is taken exactly once. */
#define RACE_FLOWS 20000

struct adder {
	struct nufw_expiry *e;
	uint16_t dport;		/* tells the two adders' flows apart */
};

static gint race_taken[2][RACE_FLOWS];
static gint race_adding = 2;	/* adders still at work */

static gpointer race_add(gpointer data)
{
	const struct adder *a = data;

	for (unsigned i = 0; i < RACE_FLOWS; i++) {
		struct nu_flow f = flow((uint16_t)i);

		f.dport = a->dport;
		nufw_expiry_add(a->e, &f, i);
		if (i % 4 == 3)
			nufw_expiry_remove(a->e, &f);
	}
	g_atomic_int_add(&race_adding, -1);
	return NULL;
}

static void race_take(const struct nu_flow *f, void *ctx)
{
	(void)ctx;
	g_atomic_int_inc(&race_taken[f->dport - 1][f->sport]);
}

static void test_shared(void)
{
	struct nufw_expiry *e = nufw_expiry_new();
	struct adder one = { e, 1 }, two = { e, 2 };
	GThread *a = g_thread_new("add1", race_add, &one);
	GThread *b = g_thread_new("add2", race_add, &two);
	unsigned wrong = 0;

	while (g_atomic_int_get(&race_adding) > 0)
		nufw_expiry_due(e, RACE_FLOWS / 2, race_take, NULL);
	g_thread_join(a);
	g_thread_join(b);
	nufw_expiry_due(e, RACE_FLOWS, race_take, NULL);
	CHECK(nufw_expiry_count(e) == 0);
	for (unsigned t = 0; t < 2; t++)
		for (unsigned i = 0; i < RACE_FLOWS; i++) {
			/* A removed flow may have been taken before its removal. */
			gint want = i % 4 == 3 ? -1 : 1;
			gint got = g_atomic_int_get(&race_taken[t][i]);

			if (want == 1 ? got != 1 : got > 1)
				wrong++;
		}
	CHECK(wrong == 0);
	nufw_expiry_free(e);
}

int main(void)
{
	struct nufw_expiry *e = nufw_expiry_new();
	struct nu_flow f;
	unsigned i;

	seen = g_array_new(FALSE, FALSE, sizeof(uint16_t));
	f = flow(1);
	CHECK(nufw_expiry_add(e, &f, 300));
	f = flow(2);
	CHECK(nufw_expiry_add(e, &f, 100));
	f = flow(3);
	CHECK(nufw_expiry_add(e, &f, 200));
	/* Asked about again: the flow moves, it is not followed twice. */
	f = flow(2);
	CHECK(nufw_expiry_add(e, &f, 400));
	CHECK(nufw_expiry_count(e) == 3);
	/* Ended, or decided again with no end time: not followed any more. */
	f = flow(4);
	CHECK(nufw_expiry_add(e, &f, 150));
	CHECK(nufw_expiry_remove(e, &f));
	CHECK(!nufw_expiry_remove(e, &f));
	CHECK(nufw_expiry_count(e) == 3);
	/* A deadline moved by nuauth: only a flow followed already moves. */
	CHECK(!nufw_expiry_move(e, &f, 50));
	CHECK(nufw_expiry_count(e) == 3);
	f = flow(3);
	CHECK(nufw_expiry_move(e, &f, 250));
	CHECK(nufw_expiry_move(e, &f, 200));
	CHECK(nufw_expiry_due(e, 99, collect, NULL) == 0);
	CHECK(nufw_expiry_due(e, 300, collect, NULL) == 2);
	CHECK(seen->len == 2 && g_array_index(seen, uint16_t, 0) == 3 &&
	      g_array_index(seen, uint16_t, 1) == 1);
	CHECK(nufw_expiry_due(e, 1000, collect, NULL) == 1);
	CHECK(seen->len == 3 && g_array_index(seen, uint16_t, 2) == 2);
	CHECK(nufw_expiry_count(e) == 0);

	/* Full: the next one is refused, one already there still moves. */
	for (i = 0; i < NUFW_EXPIRY_MAX; i++) {
		f = flow((uint16_t)i);
		f.dport = (uint16_t)(i >> 16);
		nufw_expiry_add(e, &f, 10 + i);
	}
	CHECK(nufw_expiry_count(e) == NUFW_EXPIRY_MAX);
	f = flow(7);
	f.dport = 9999;
	CHECK(!nufw_expiry_add(e, &f, 5));
	f = flow(7);
	f.dport = 0;
	CHECK(nufw_expiry_add(e, &f, 5));
	g_array_set_size(seen, 0);
	CHECK(nufw_expiry_due(e, 5, collect, NULL) == 1 && g_array_index(seen, uint16_t, 0) == 7);
	nufw_expiry_free(e);
	g_array_free(seen, TRUE);
	test_shared();
	return unit_done("expiry");
}
