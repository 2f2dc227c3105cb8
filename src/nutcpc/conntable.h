/* The client's view of its user's new connections, read from the kernel
 * through netlink sock_diag (inet_diag), with /proc/net/tcp{,6} as fallback
 * where sock_diag is unavailable. */
#ifndef NUTCPC_CONNTABLE_H
#define NUTCPC_CONNTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "flow.h"

struct nu_local_conn {
	struct nu_flow flow;	/* source = this host, as the gateway sees it */
	uint64_t inode;		/* socket inode, 0 when unknown */
};

/* Appends to out (a GArray of struct nu_local_conn) every TCP socket, IPv4
 * and IPv6, that is in state SYN_SENT and belongs to uid.  Returns 0, or -1
 * with errno when neither sock_diag nor /proc could be read. */
struct _GArray;
int nu_conntable_scan_syn_sent(uid_t uid, struct _GArray *out);

/* Finds the program that owns socket inode among the processes of uid:
 * writes the full path of its executable into path.  False when not found
 * (the process may have gone). */
bool nu_conntable_find_program(uid_t uid, uint64_t inode, char *path, size_t cap);

#endif
