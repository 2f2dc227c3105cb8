/* The user's connections as the kernel knows them: netlink sock_diag
 * (inet_diag) for TCP and UDP over IPv4 and IPv6, /proc/net/{tcp,udp}{,6}
 * where sock_diag is missing, /proc/net/icmp{,6} for ping sockets; and the
 * program that owns a socket. */
#ifndef NUCLIENT_CONNTABLE_H
#define NUCLIENT_CONNTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "flow.h"

struct nu_local_conn {
	struct nu_flow flow;	/* source = this host, as the gateway sees it */
	uint64_t inode;		/* socket inode, 0 when unknown */
};

struct _GArray;

/* Appends to out (a GArray of struct nu_local_conn) every socket of uid that
 * is opening a connection: TCP in SYN_SENT and connected UDP (a remote
 * address and port: never a listener or an unconnected socket), IPv4 and
 * IPv6.
 * Returns 0, or -1 with errno when no table could be read at all. */
int nu_conntable_scan(uid_t uid, struct _GArray *out);
/* The TCP part alone (SYN_SENT). */
int nu_conntable_scan_syn_sent(uid_t uid, struct _GArray *out);

/* A sock_diag socket kept open for exact look-ups; -1 where there is none
 * (look-ups then read /proc/net). */
int nu_conntable_open(void);

/* nu_conntable_lookup's flags. */
enum {
	/* An unconnected UDP socket bound to the flow's source port (on its
	 * source address or on none) proves the flow too.  It does not prove
	 * much: any datagram forged with that source port is claimed. */
	NU_CONNTABLE_UDP_UNCONNECTED = 1U << 0,
};

/* Whether flow is uid's: asks the kernel for exactly the socket of flow
 * (one hash look-up, no dump; /proc/net where sock_diag fails or fd is
 * -1) and checks the answer.  TCP: a socket of uid's in SYN_SENT whose
 * four-tuple is flow's; UDP: a connected socket of uid's whose four-tuple
 * is flow's (flags may add unconnected ones); ICMP and ICMPv6 (an echo
 * request, its identifier in flow's sport): a ping socket of uid's whose
 * port is that identifier, read from /proc/net/icmp{,6} (sock_diag lists
 * none).  A listener or any other state proves nothing.  1: proven (*out
 * filled); 0: not; -1 with errno: neither sock_diag nor /proc/net could be
 * read. */
int nu_conntable_lookup(int fd, const struct nu_flow *flow, uid_t uid, unsigned int flags,
			struct nu_local_conn *out);

/* Finds the program that owns socket inode among the processes of uid:
 * writes the full path of its executable into path.  False when not found
 * (the process may have gone). */
bool nu_conntable_find_program(uid_t uid, uint64_t inode, char *path, size_t cap);
/* The same, and the process found in *pid (for /proc/PID/exe). */
bool nu_conntable_find_process(uid_t uid, uint64_t inode, pid_t *pid, char *path, size_t cap);

#endif
