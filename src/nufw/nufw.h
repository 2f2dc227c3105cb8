/* nufw, the gateway daemon: options shared by its parts.
 *
 *   main.c       options, signals, one worker thread per queue
 *   worker.c     the packet path of one queue
 *   queue.c      NFQUEUE socket: packets in, verdicts out
 *   verdicts.c   verdicts recorded and sent together (batch verdicts)
 *   ifnames.c    interface names by index, cached
 *   pending.c    packets waiting for nuauth's decision, by id and flow
 *   reject.c     the TCP reset or ICMP error that answers a rejected packet
 *   conntrack.c  connection ends (-C) reported to nuauth; deletions on request
 *   auth_link.c  the TLS link to nuauth, with reconnection */
#ifndef NUFW_H
#define NUFW_H

#include <stdbool.h>
#include <stdint.h>

#include "reject.h"

/* Queues one nufw reads at most (one thread each). */
#define NUFW_MAX_QUEUES 64

struct nufw_options {
	const char *nuauth_host;	/* -d */
	const char *nuauth_port;	/* -p */
	uint16_t queue_first;		/* -q N or -q A:B */
	uint16_t queue_last;
	bool set_mark;			/* -m */
	const char *key;		/* -k */
	const char *cert;		/* -c */
	const char *ca;			/* -a */
	const char *crl;		/* -r */
	bool check_name;		/* not -N */
	unsigned packet_timeout;	/* -t, seconds */
	unsigned max_pending;		/* -T */
	uint32_t queue_maxlen;		/* -L, 0 keeps the kernel's */
	bool fail_open;			/* --fail-open */
	bool ct_mark;			/* --ct-mark */
	bool follow_conntrack;		/* -C */
	bool only_marked;		/* -M */
	enum nufw_reject_kind reject_with;	/* --reject-with */
};

#endif
