/* The verdict table: a ring of every packet read from the queue and not yet
 * answered, oldest (lowest id) first, plus the list of ids answered since
 * the last flush. */
#include "config.h"
#include "verdicts.h"

#include <errno.h>
#include <glib.h>

#include "log.h"

enum slot_state { SLOT_WAITING, SLOT_ACCEPT, SLOT_DROP, SLOT_SENT };

struct slot {
	uint32_t id;
	uint32_t mark;
	uint8_t state;		/* enum slot_state */
	bool set_mark;
};

struct nufw_verdicts {
	struct nufw_queue *q;
	bool ct_mark;
	bool ordered;		/* ids came in increasing order: batches are safe */
	bool failing;		/* the last send was refused: log the streak once */
	struct slot *ring;
	size_t cap;		/* a power of two */
	size_t head, count;
	size_t live;		/* slots not sent yet */
	GArray *answered;	/* uint32_t ids given a verdict since the last flush */
	struct nufw_verdict_stats stats;
};

#define RING_MIN 1024

struct nufw_verdicts *nufw_verdicts_new(struct nufw_queue *q, bool ct_mark)
{
	struct nufw_verdicts *v = g_new0(struct nufw_verdicts, 1);

	v->q = q;
	v->ct_mark = ct_mark;
	v->ordered = true;
	v->cap = RING_MIN;
	v->ring = g_new(struct slot, v->cap);
	v->answered = g_array_sized_new(FALSE, FALSE, sizeof(uint32_t), 256);
	return v;
}

void nufw_verdicts_free(struct nufw_verdicts *v)
{
	if (!v)
		return;
	g_array_free(v->answered, TRUE);
	g_free(v->ring);
	g_free(v);
}

static struct slot *at(const struct nufw_verdicts *v, size_t i)
{
	return &v->ring[(v->head + i) & (v->cap - 1)];
}

/* The ring is sorted by id in serial order from its head: a direct guess
 * (ids are consecutive unless the kernel lost some), else a binary search. */
static struct slot *find(const struct nufw_verdicts *v, uint32_t id)
{
	uint32_t base, off;
	size_t lo = 0, hi = v->count;

	if (v->count == 0)
		return NULL;
	base = at(v, 0)->id;
	off = id - base;
	if (off < v->count && at(v, off)->id == id)
		return at(v, off);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (at(v, mid)->id - base < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->count && at(v, lo)->id == id ? at(v, lo) : NULL;
}

/* Makes room for one more slot: drops the slots already sent when they are
 * at least half of the ring (a packet that waits long for nuauth holds the
 * head while the packets behind it are answered), else doubles the ring. */
static void make_room(struct nufw_verdicts *v)
{
	struct slot *ring;
	size_t n = 0, cap = v->cap;

	if (v->count < v->cap)
		return;
	if (v->live > v->count / 2)
		cap *= 2;
	ring = g_new(struct slot, cap);
	for (size_t i = 0; i < v->count; i++)
		if (at(v, i)->state != SLOT_SENT)
			ring[n++] = *at(v, i);
	g_free(v->ring);
	v->ring = ring;
	v->cap = cap;
	v->head = 0;
	v->count = n;
}

void nufw_verdicts_received(struct nufw_verdicts *v, uint32_t id)
{
	if (v->count && (int32_t)(id - at(v, v->count - 1)->id) <= 0 && v->ordered) {
		/* Never seen from a kernel: without the order a batch could
		 * answer a packet it should not, so none is sent from now on. */
		log_warnx("queue packet %u came after a higher id: verdicts go one by one", id);
		v->ordered = false;
	}
	if (!v->ordered)
		return;
	make_room(v);
	*at(v, v->count) = (struct slot){ .id = id, .state = SLOT_WAITING };
	v->count++;
	v->live++;
}

/* 0 when sent, -1 to try again later, 1 when given up (counted). */
static int send_verdict(struct nufw_verdicts *v, const struct slot *s, bool batch)
{
	bool accept = s->state == SLOT_ACCEPT;
	int tries = 0, r;

	for (;;) {
		if (batch)
			r = nufw_queue_verdict_batch(v->q, s->id, accept, s->set_mark, s->mark);
		else
			r = nufw_queue_verdict(v->q, s->id, accept, s->set_mark, s->mark);
		if (r == 0)
			break;
		if (errno == EINTR)
			continue;
		if ((errno == ENOBUFS || errno == ENOMEM || errno == EAGAIN) && tries++ == 0)
			continue;
		break;
	}
	if (r == 0) {
		v->stats.messages++;
		if (v->failing)
			log_notice("verdicts reach the kernel again");
		v->failing = false;
		return 0;
	}
	if (errno == ENOBUFS || errno == ENOMEM || errno == EAGAIN) {
		/* The packet stays in the kernel's queue (NFQUEUE has no
		 * time-out of its own): keep the verdict and send it later. */
		v->stats.send_failed++;
		if (!v->failing)
			log_warn("the kernel refused a verdict for packet %u; retrying", s->id);
		v->failing = true;
		return -1;
	}
	v->stats.lost++;
	log_warn("verdict for packet %u lost", s->id);
	/* The packet may still be queued: a later batch would give it that
	 * batch's verdict.  No more batches. */
	if (v->ordered)
		log_warnx("verdicts go one by one from now on");
	v->ordered = false;
	return 1;
}

void nufw_verdicts_set(struct nufw_verdicts *v, uint32_t id, bool accept,
		       bool set_mark, uint32_t mark)
{
	struct slot *s = find(v, id);

	if (!s) {
		/* Not recorded (ids out of order): sent at once, alone. */
		struct slot alone = { .id = id, .mark = mark, .set_mark = set_mark,
				      .state = accept ? SLOT_ACCEPT : SLOT_DROP };

		send_verdict(v, &alone, false);
		return;
	}
	if (s->state != SLOT_WAITING) {
		log_debug("packet %u was already answered", id);
		return;
	}
	s->state = accept ? SLOT_ACCEPT : SLOT_DROP;
	s->set_mark = set_mark;
	s->mark = mark;
	g_array_append_val(v->answered, id);
}

bool nufw_verdicts_due(const struct nufw_verdicts *v)
{
	return v->answered->len > 0;
}

static bool answered(const struct slot *s)
{
	return s->state == SLOT_ACCEPT || s->state == SLOT_DROP;
}

static bool same_verdict(const struct slot *a, const struct slot *b)
{
	return a->state == b->state && a->set_mark == b->set_mark &&
	       (!a->set_mark || a->mark == b->mark);
}

static void pop(struct nufw_verdicts *v, size_t n)
{
	v->head = (v->head + n) & (v->cap - 1);
	v->count -= n;
}

/* Runs of answered packets at the head: one message each.  False when a
 * send must be tried again later. */
static bool flush_head(struct nufw_verdicts *v)
{
	while (v->count) {
		const struct slot *first = at(v, 0);
		size_t end = 0, n = 0;

		if (first->state == SLOT_SENT) {
			pop(v, 1);
			continue;
		}
		if (first->state == SLOT_WAITING)
			break;
		/* The run ends at a waiting packet or another verdict.  Slots
		 * already sent are left out of the kernel's queue, so a batch
		 * may cover their ids.  A mark that must reach the connection
		 * (--ct-mark) needs a verdict of its own. */
		for (size_t i = 0; i < v->count; i++) {
			const struct slot *s = at(v, i);
			bool alone = v->ct_mark && s->set_mark;

			if (s->state == SLOT_SENT)
				continue;
			if (!answered(s) || !same_verdict(first, s) || (n && alone))
				break;
			end = i;
			n++;
			if (alone || !v->ordered)
				break;
		}
		if (send_verdict(v, at(v, end), n > 1) < 0)
			return false;
		if (n > 1) {
			v->stats.batches++;
			v->stats.batched += n;
		}
		v->live -= n;
		pop(v, end + 1);
	}
	return true;
}

bool nufw_verdicts_flush(struct nufw_verdicts *v)
{
	guint i;

	if (!flush_head(v))
		return false;
	/* What remains answered sits behind a packet still waiting for
	 * nuauth: a batch would answer that one too. */
	for (i = 0; i < v->answered->len; i++) {
		struct slot *s = find(v, g_array_index(v->answered, uint32_t, i));

		if (!s || !answered(s))
			continue;
		if (send_verdict(v, s, false) < 0) {
			g_array_remove_range(v->answered, 0, i);
			return false;
		}
		s->state = SLOT_SENT;
		v->live--;
	}
	g_array_set_size(v->answered, 0);
	return true;
}

const struct nufw_verdict_stats *nufw_verdicts_stats(const struct nufw_verdicts *v)
{
	return &v->stats;
}
