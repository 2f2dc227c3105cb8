/* The baseline of the verdict-path benchmark: the barest NFQUEUE program,
 * reading packets and accepting each one at once, through the same queue
 * code and settings nufw uses (src/nufw/queue.c).
 *
 *   nfq_accept QUEUE SECONDS
 *
 * Prints "ready" once the queue is bound, then after SECONDS the number of
 * packets it accepted. */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <glib.h>

#include "log.h"
#include "queue.h"

static uint64_t accepted;

static void accept_packet(const struct nufw_queued_packet *pkt, void *ctx)
{
	struct nufw_queue *q = ctx;

	if (nufw_queue_verdict(q, pkt->id, true, false, 0) == 0)
		accepted++;
}

int main(int argc, char **argv)
{
	struct nufw_queue *q;
	GError *error = NULL;
	time_t end;

	if (argc != 3) {
		fprintf(stderr, "usage: nfq_accept QUEUE SECONDS\n");
		return 2;
	}
	nu_log_init("nfq_accept", false, LOG_WARNING);
	q = nufw_queue_open((uint16_t)atoi(argv[1]), 0, 128, false, &error);
	if (!q) {
		fprintf(stderr, "nfq_accept: %s\n", error->message);
		g_error_free(error);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	end = time(NULL) + atoi(argv[2]);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = nufw_queue_fd(q), .events = POLLIN };

		if (poll(&p, 1, 200) > 0 && nufw_queue_read(q, accept_packet, q) < 0)
			break;
	}
	printf("accepted %" G_GUINT64_FORMAT ", overruns %" G_GUINT64_FORMAT "\n",
	       accepted, nufw_queue_overruns(q));
	nufw_queue_close(q);
	return 0;
}
