/* One queue's worker: its own thread, main loop, queue socket, link to
 * nuauth and pending table (see worker.c). */
#ifndef NUFW_WORKER_H
#define NUFW_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include "nufw.h"

struct nufw_worker;

struct nufw_worker_stats {
	uint64_t asked;		/* questions sent to nuauth */
	uint64_t joined;	/* retransmissions that joined a question */
	uint64_t accepted;
	uint64_t dropped;
	uint64_t rejected;	/* dropped and answered with RST/ICMP */
	uint64_t timed_out;	/* undecided within -t: failure policy */
	uint64_t table_full;
	uint64_t unparsable;
	uint64_t ends_reported;	/* -C */
	uint64_t ends_lost;	/* -C while nuauth was unreachable */
	uint64_t destroyed;	/* connections ended at nuauth's request */
	uint64_t verdict_messages;	/* sent to the kernel */
	uint64_t batched;	/* packets answered by batch verdicts */
	uint64_t verdicts_refused;	/* sends refused for a moment, retried */
	uint64_t verdicts_lost;	/* given up on (hard socket error) */
};

struct nufw_addrs;

struct nufw_expiry;
struct nufw_sessions;

/* The tables every worker shares (main.c's): any queue's worker may hear
 * of a connection's end or of nuauth's news about it. */
struct nufw_tables {
	struct nufw_expiry *expiry;	/* connections with an end time */
	struct nufw_sessions *sessions;	/* connections by client session */
};

/* Opens the queue (and conntrack; report_ends: this worker follows
 * conntrack's ends for -C).  NULL with *error. */
struct nufw_worker *nufw_worker_new(const struct nufw_options *opt, uint16_t queue_num,
				    bool report_ends, gnutls_certificate_credentials_t creds,
				    struct nufw_addrs *addrs, const struct nufw_tables *tables,
				    GError **error);
/* Starts the worker's thread: it connects to nuauth and reads its queue. */
void nufw_worker_start(struct nufw_worker *w);
/* From any thread: new certificates, and a new link made with them to
 * addrs (NULL: the addresses it has). */
void nufw_worker_reload(struct nufw_worker *w, gnutls_certificate_credentials_t creds,
			struct nufw_addrs *addrs);
/* From any thread: nuauth's addresses, for a worker started without. */
void nufw_worker_set_addrs(struct nufw_worker *w, struct nufw_addrs *addrs);
/* Stops the thread; every waiting packet gets the failure policy's verdict. */
void nufw_worker_stop(struct nufw_worker *w);
void nufw_worker_free(struct nufw_worker *w);
const struct nufw_worker_stats *nufw_worker_stats(struct nufw_worker *w);
uint64_t nufw_worker_overruns(const struct nufw_worker *w);

#endif
