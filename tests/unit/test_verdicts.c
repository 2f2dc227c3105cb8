/* The verdict table (src/nufw/verdicts.c) against a model of the kernel's
 * queue: NFQNL_MSG_VERDICT answers one queued id, NFQNL_MSG_VERDICT_BATCH
 * every queued id up to the one given, as nfnetlink_queue does.  Random
 * runs (packets in, answers in any order with a few verdicts and marks,
 * flushes at random points, sends refused at random with ENOBUFS) must end
 * with every packet answered exactly once, with its own verdict and mark,
 * and with fewer messages than packets when answers come in order. */
#include "config.h"

#include <errno.h>
#include <glib.h>

#include "log.h"
#include "verdicts.h"
#include "unit.h"

/* The model kernel: packets queued (by id) and the verdicts they got. */
struct kpacket {
	uint32_t id;
	bool queued;
	int answers;		/* verdicts the kernel applied to it */
	bool accepted;
	bool has_mark;
	uint32_t mark;
};

static GArray *kernel;		/* struct kpacket, in id order */
static unsigned refuse_percent;	/* sends refused with ENOBUFS */
static GRand *rnd;
static unsigned messages;

static bool refuse(void)
{
	if (refuse_percent && g_rand_int_range(rnd, 0, 100) < (gint32)refuse_percent) {
		errno = ENOBUFS;
		return true;
	}
	return false;
}

static void apply(struct kpacket *k, bool accept, bool set_mark, uint32_t mark)
{
	k->queued = false;
	k->answers++;
	k->accepted = accept;
	k->has_mark = set_mark;
	k->mark = mark;
}

int nufw_queue_verdict(struct nufw_queue *q, uint32_t id, bool accept, bool set_mark,
		       uint32_t mark)
{
	(void)q;
	if (refuse())
		return -1;
	messages++;
	for (guint i = 0; i < kernel->len; i++) {
		struct kpacket *k = &g_array_index(kernel, struct kpacket, i);

		if (k->id == id && k->queued)
			apply(k, accept, set_mark, mark);
	}
	return 0;
}

int nufw_queue_verdict_batch(struct nufw_queue *q, uint32_t id, bool accept, bool set_mark,
			     uint32_t mark)
{
	(void)q;
	if (refuse())
		return -1;
	messages++;
	for (guint i = 0; i < kernel->len; i++) {
		struct kpacket *k = &g_array_index(kernel, struct kpacket, i);

		if (k->queued && (int32_t)(k->id - id) <= 0)
			apply(k, accept, set_mark, mark);
	}
	return 0;
}

struct want {
	bool answered;
	bool accept, set_mark;
	uint32_t mark;
};

/* One run: n packets from first_id; answers in order when in_order, else
 * shuffled; ct_mark as for --ct-mark. */
static void run(uint32_t first_id, unsigned n, bool in_order, bool ct_mark, unsigned refuse_pct)
{
	struct nufw_verdicts *v = nufw_verdicts_new(NULL, ct_mark);
	struct want *want = g_new0(struct want, n);
	unsigned *order = g_new(unsigned, n);
	unsigned received = 0, answered = 0;
	bool ok = true;

	g_array_set_size(kernel, 0);
	messages = 0;
	refuse_percent = refuse_pct;
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	if (!in_order)
		for (unsigned i = n - 1; i > 0; i--) {
			unsigned j = g_rand_int_range(rnd, 0, i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
	while (answered < n) {
		/* Packets arrive ahead of the answers. */
		while (received < n && (received <= answered || g_rand_boolean(rnd))) {
			struct kpacket k = { .id = first_id + received, .queued = true };

			g_array_append_val(kernel, k);
			nufw_verdicts_received(v, k.id);
			received++;
		}
		/* An answer, to a packet received already. */
		for (unsigned i = answered; i < n; i++) {
			unsigned p = order[i];
			struct want *w;
			unsigned kind;

			if (p >= received)
				continue;
			order[i] = order[answered];
			order[answered++] = p;
			w = &want[p];
			kind = in_order ? (p / 17) % 3 : (unsigned)g_rand_int_range(rnd, 0, 4);
			w->answered = true;
			w->accept = kind != 1;
			w->set_mark = kind >= 2;
			w->mark = kind == 3 ? 7 : 5;
			nufw_verdicts_set(v, first_id + p, w->accept, w->set_mark, w->mark);
			break;
		}
		if (g_rand_int_range(rnd, 0, 8) == 0)
			nufw_verdicts_flush(v);
	}
	refuse_percent = 0;
	CHECK(nufw_verdicts_flush(v));
	CHECK(!nufw_verdicts_due(v));
	for (unsigned i = 0; i < n; i++) {
		const struct kpacket *k = &g_array_index(kernel, struct kpacket, i);

		if (k->answers != 1 || k->accepted != want[i].accept ||
		    k->has_mark != want[i].set_mark || (k->has_mark && k->mark != want[i].mark)) {
			fprintf(stderr, "packet %u: %d answers, accept %d (want %d), mark %d/%u "
				"(want %d/%u)\n", k->id, k->answers, k->accepted, want[i].accept,
				k->has_mark, k->mark, want[i].set_mark, want[i].mark);
			ok = false;
			break;
		}
	}
	CHECK(ok);
	if (in_order && !ct_mark && !refuse_pct)
		CHECK(messages < n / 4);
	if (ct_mark) {
		/* Marked verdicts cannot be batched (no connection mark in a
		 * batch): each got a message of its own. */
		unsigned marked = 0;

		for (unsigned i = 0; i < n; i++)
			marked += want[i].set_mark;
		CHECK(messages >= marked);
	}
	nufw_verdicts_free(v);
	g_free(order);
	g_free(want);
}

int main(void)
{
	/* The refused sends are logged: not what is tested. */
	nu_log_init("test_verdicts", false, LOG_ERR);
	kernel = g_array_new(FALSE, FALSE, sizeof(struct kpacket));
	rnd = g_rand_new_with_seed(4);
	run(1, 5000, true, false, 0);
	for (unsigned i = 0; i < 40; i++) {
		run(g_rand_int(rnd), 300, false, false, 0);
		run(g_rand_int(rnd), 300, false, true, 0);
		run(g_rand_int(rnd), 300, false, false, 20);
	}
	/* Ids that wrap around 2^32 in the middle of a run. */
	run(UINT32_MAX - 100, 3000, true, false, 0);
	run(UINT32_MAX - 100, 3000, false, false, 5);
	g_rand_free(rnd);
	g_array_free(kernel, TRUE);
	return unit_done("verdicts");
}
