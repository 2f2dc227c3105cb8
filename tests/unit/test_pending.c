/* nufw's pending table: groups by flow, answers by question id, expiry in
 * arrival order, re-asking after the link was lost; with several nuauth
 * nodes, "not mine" answers and a node's link lost. */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>

#include "pending.h"
#include "unit.h"

static GArray *seen;	/* ids handed to the callback, in order */

static void collect(uint32_t id, const uint8_t *head, size_t len, void *ctx)
{
	(void)head;
	(void)len;
	(void)ctx;
	g_array_append_val(seen, id);
}

static struct nu_packet_ask asked_about;
static unsigned asks;

static void record_ask(const struct nu_packet_ask *ask, void *ctx)
{
	(void)ctx;
	asked_about = *ask;
	asks++;
}

static struct nu_packet_ask ask_for(uint32_t id, uint16_t sport)
{
	struct nu_packet_ask a = { .packet_id = id };

	a.flow.family = AF_INET;
	a.flow.proto = IPPROTO_TCP;
	a.flow.sport = sport;
	a.flow.dport = 80;
	nu_addr_from_v4(&a.flow.saddr, htonl(0x0ac90002));
	nu_addr_from_v4(&a.flow.daddr, htonl(0x0aca0002));
	return a;
}

static enum nufw_pending_add add(struct nufw_pending *p, uint32_t id, uint16_t sport,
				 gint64 deadline, bool asked)
{
	struct nu_packet_ask a = ask_for(id, sport);
	uint8_t head[4] = { 0x45, 0, 0, (uint8_t)id };

	return nufw_pending_add(p, &a, head, sizeof(head), deadline, asked);
}

static bool seen_is(const uint32_t *ids, unsigned n)
{
	bool same = seen->len == n && memcmp(seen->data, ids, n * sizeof(*ids)) == 0;

	g_array_set_size(seen, 0);
	return same;
}

static void test_groups_and_answers(void)
{
	struct nufw_pending *p = nufw_pending_new(10);

	CHECK(add(p, 1, 1000, 100, true) == NUFW_PENDING_NEW_FLOW);
	CHECK(add(p, 2, 1000, 200, true) == NUFW_PENDING_JOINED);	/* retransmission */
	CHECK(add(p, 3, 2000, 300, true) == NUFW_PENDING_NEW_FLOW);
	CHECK(add(p, 3, 2000, 300, true) == NUFW_PENDING_DUPLICATE);
	CHECK(nufw_pending_count(p) == 3);

	/* The answer to question 1 settles the whole flow. */
	CHECK(nufw_pending_answer(p, 1, collect, NULL) == 2);
	CHECK(seen_is((uint32_t[]){ 1, 2 }, 2));
	CHECK(nufw_pending_answer(p, 2, collect, NULL) == 0);	/* never a question */
	CHECK(nufw_pending_answer(p, 1, collect, NULL) == 0);	/* answered already */
	CHECK(nufw_pending_count(p) == 1);
	nufw_pending_free(p);
}

static void test_full(void)
{
	struct nufw_pending *p = nufw_pending_new(2);

	CHECK(add(p, 1, 1, 100, true) == NUFW_PENDING_NEW_FLOW);
	CHECK(add(p, 2, 2, 100, true) == NUFW_PENDING_NEW_FLOW);
	CHECK(add(p, 3, 3, 100, true) == NUFW_PENDING_FULL);
	CHECK(add(p, 4, 1, 100, true) == NUFW_PENDING_FULL);	/* even a retransmission */
	nufw_pending_free(p);
}

static void test_expiry_keeps_question(void)
{
	struct nufw_pending *p = nufw_pending_new(10);

	/* Deadlines grow with arrival: every packet waits as long. */
	add(p, 1, 1000, 100, true);
	add(p, 3, 2000, 150, true);
	add(p, 2, 1000, 200, true);
	CHECK(nufw_pending_expire(p, 99, collect, NULL) == 0);
	CHECK(nufw_pending_expire(p, 160, collect, NULL) == 2);
	CHECK(seen_is((uint32_t[]){ 1, 3 }, 2));
	/* Packet 1 is gone, but the answer to its question still settles its
	 * retransmission. */
	CHECK(nufw_pending_answer(p, 1, collect, NULL) == 1);
	CHECK(seen_is((uint32_t[]){ 2 }, 1));
	CHECK(nufw_pending_count(p) == 0);
	nufw_pending_free(p);
}

static void test_link_lost(void)
{
	struct nufw_pending *p = nufw_pending_new(10);

	add(p, 1, 1000, 100, true);
	add(p, 2, 1000, 200, true);
	add(p, 5, 3000, 300, false);	/* arrived while the link was down */
	nufw_pending_forget_questions(p);
	CHECK(nufw_pending_answer(p, 1, collect, NULL) == 0);	/* a lost question */
	asks = 0;
	CHECK(nufw_pending_ask_all(p, 1, record_ask, NULL) == 2);
	CHECK(asks == 2);
	CHECK(nufw_pending_ask_all(p, 1, record_ask, NULL) == 0);	/* asked now */
	CHECK(nufw_pending_answer(p, 5, collect, NULL) == 1);
	CHECK(seen_is((uint32_t[]){ 5 }, 1));
	/* Packet 1 expires before the link comes back: flow 1000 is asked
	 * again with the id of the packet still waiting. */
	nufw_pending_forget_questions(p);
	CHECK(nufw_pending_expire(p, 150, collect, NULL) == 1);
	CHECK(seen_is((uint32_t[]){ 1 }, 1));
	asks = 0;
	CHECK(nufw_pending_ask_all(p, 1, record_ask, NULL) == 1);
	CHECK(asks == 1 && asked_about.packet_id == 2 && asked_about.flow.sport == 1000);
	CHECK(nufw_pending_answer(p, 2, collect, NULL) == 1);
	CHECK(seen_is((uint32_t[]){ 2 }, 1));
	nufw_pending_free(p);
}

static uint8_t settled_verdict;

static void collect_settled(uint32_t id, const uint8_t *head, size_t len, uint8_t verdict,
			    void *ctx)
{
	settled_verdict = verdict;
	collect(id, head, len, ctx);
}

/* Three nodes (bits 1, 2, 4): a real decision settles a group at once; a
 * group is dropped only when every node asked has disowned it. */
static void test_nodes(void)
{
	struct nufw_pending *p = nufw_pending_new(10);

	add(p, 1, 1000, 100, false);
	/* a group asked at a link up is asked of that node only */
	CHECK(nufw_pending_ask_all(p, 1, record_ask, NULL) == 1);
	nufw_pending_free(p);
	p = nufw_pending_new(10);
	{
		struct nu_packet_ask a = ask_for(1, 1000), b = ask_for(2, 2000),
				     c = ask_for(3, 3000);
		uint8_t head[4] = { 0x45, 0, 0, 1 };

		nufw_pending_add(p, &a, head, sizeof(head), 100, 1 | 2 | 4);
		nufw_pending_add(p, &b, head, sizeof(head), 100, 1 | 2);
		nufw_pending_add(p, &c, head, sizeof(head), 100, 1 | 2);
	}
	/* flow 1000: node 1 disowns it, node 0 owns it and decides */
	CHECK(nufw_pending_not_owner(p, 1, 2, 0, collect, NULL) == 0);
	CHECK(nufw_pending_answer(p, 1, collect, NULL) == 1);
	CHECK(seen_is((uint32_t[]){ 1 }, 1));
	/* a late "not mine" means nothing */
	CHECK(nufw_pending_not_owner(p, 1, 4, 0, collect, NULL) == 0);
	/* an answer from a node that was not asked counts for nothing */
	CHECK(nufw_pending_not_owner(p, 2, 4, 3, collect, NULL) == 0);
	/* flow 2000: both asked disown it: settled with their verdict */
	CHECK(nufw_pending_not_owner(p, 2, 1, 3, collect, NULL) == 0);
	CHECK(nufw_pending_not_owner(p, 2, 2, 3, collect, NULL) == 1);
	CHECK(seen_is((uint32_t[]){ 2 }, 1));
	/* flow 3000: node 1 disowns it, then node 0 (the owner) dies before
	 * answering: only node 1 is left asked and it said "not mine" */
	CHECK(nufw_pending_not_owner(p, 3, 2, 3, collect, NULL) == 0);
	CHECK(nufw_pending_node_down(p, 1, collect_settled, NULL) == 0);
	CHECK(seen_is((uint32_t[]){ 3 }, 1) && settled_verdict == 3);
	/* a group asked of one node only waits for the next link up */
	{
		struct nu_packet_ask d = ask_for(4, 4000);
		uint8_t head[4] = { 0x45, 0, 0, 4 };

		nufw_pending_add(p, &d, head, sizeof(head), 100, 2);
	}
	CHECK(nufw_pending_node_down(p, 2, collect_settled, NULL) == 1 && seen->len == 0);
	CHECK(nufw_pending_answer(p, 4, collect, NULL) == 0);	/* a lost question */
	asks = 0;
	CHECK(nufw_pending_ask_all(p, 4, record_ask, NULL) == 1 && asks == 1);
	CHECK(nufw_pending_not_owner(p, 4, 4, 0, collect, NULL) == 1);
	CHECK(seen_is((uint32_t[]){ 4 }, 1));
	CHECK(nufw_pending_count(p) == 0);

	/* A node that comes up (or is left when another goes down) is asked
	 * about what the others were asked about: their "not mine" no longer
	 * settles the packet without its answer, and it may own it. */
	{
		struct nu_packet_ask e = ask_for(5, 5000);
		uint8_t head[4] = { 0x45, 0, 0, 5 };

		nufw_pending_add(p, &e, head, sizeof(head), 100, 1);
	}
	asks = 0;
	CHECK(nufw_pending_ask_all(p, 2, record_ask, NULL) == 1 && asks == 1);
	CHECK(nufw_pending_ask_all(p, 2, record_ask, NULL) == 0);	/* asked now */
	CHECK(nufw_pending_not_owner(p, 5, 1, 0, collect, NULL) == 0);	/* node 2 may own it */
	CHECK(nufw_pending_answer(p, 5, collect, NULL) == 1);
	CHECK(seen_is((uint32_t[]){ 5 }, 1));
	CHECK(nufw_pending_count(p) == 0);
	nufw_pending_free(p);
}

static void test_drain(void)
{
	struct nufw_pending *p = nufw_pending_new(100);

	for (uint32_t id = 1; id <= 50; id++)
		add(p, id, (uint16_t)(id % 7), G_MAXINT64 - 1, id % 2);
	CHECK(nufw_pending_drain(p, collect, NULL) == 50);
	CHECK(seen->len == 50 && g_array_index(seen, uint32_t, 0) == 1 &&
	      g_array_index(seen, uint32_t, 49) == 50);
	g_array_set_size(seen, 0);
	CHECK(nufw_pending_count(p) == 0);
	nufw_pending_free(p);
}

int main(void)
{
	seen = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	test_groups_and_answers();
	test_full();
	test_expiry_keeps_question();
	test_link_lost();
	test_nodes();
	test_drain();
	g_array_free(seen, TRUE);
	return unit_done("pending");
}
