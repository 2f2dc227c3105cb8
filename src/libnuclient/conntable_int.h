/* conntable's private parts, shared by its files and by the tests that
 * call its parsers (tests/unit/test_conntable.c, tests/fuzz/fuzz_proc_tcp.c,
 * fuzz_sock_diag.c).
 *
 *   conntable.c  the public calls: scans and look-ups, which reader answers
 *   sockclaim.c  one socket as the kernel describes it, and the proof
 *                (sock_claims) that both readers' answers are put to
 *   sockdiag.c   netlink sock_diag: the dump, the exact look-up, the checks
 *                of the kernel's answers
 *   procnet.c    the /proc/net/{tcp,udp}{,6} reader, where sock_diag fails
 *   procowner.c  the process owning a socket: /proc/PID/fd, its program */
#ifndef NUCLIENT_CONNTABLE_INT_H
#define NUCLIENT_CONNTABLE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <glib.h>
#include <linux/inet_diag.h>

#include "conntable.h"

/* Big enough for any dump datagram the kernel builds (it sizes them to at
 * most 32 KiB plus headers). */
#define DIAG_RECV_BUF	(64 * 1024)
/* Longest /proc/net/tcp6 line is about 180 characters. */
#define PROC_LINE_MAX	512

/* --- sockclaim.c ------------------------------------------------------------ */

/* One socket as the kernel describes it (a sock_diag answer, a /proc/net
 * line), its addresses in the unified form of struct nu_flow. */
struct sock_view {
	struct in6_addr src, dst;	/* local, remote (:: or 0.0.0.0: none) */
	uint16_t sport, dport;		/* host order; dport 0: no remote */
	unsigned int state;		/* TCP_*; UDP: ESTABLISHED connected, CLOSE not */
	uint32_t uid;
	uint64_t inode;
};

/* What a scan keeps: the protocol, the states (bit 1 << TCP_*), the owner;
 * and only sockets with a remote end (sock_has_peer). */
struct scan_filter {
	uint8_t proto;
	uint32_t states;
	uid_t uid;
};

/* dst from raw (4 bytes for AF_INET, mapped; 16 for AF_INET6). */
void addr_from_raw(struct in6_addr *dst, int family, const void *raw);
/* :: or (v4-mapped) 0.0.0.0 */
bool addr_is_any(const struct in6_addr *a);
/* A socket with both ends: a local port, a remote address and port. */
bool sock_has_peer(const struct sock_view *s);
/* The proof: true when socket s shows that flow is uid's (see sockclaim.c). */
bool sock_claims(const struct sock_view *s, const struct nu_flow *flow, uid_t uid,
		 unsigned int flags);
/* Whether a scan with filter f keeps s. */
bool scan_keeps(const struct sock_view *s, const struct scan_filter *f);
/* conn from socket s of protocol proto (the flow it is opening). */
void conn_from_sock(struct nu_local_conn *conn, uint8_t proto, const struct sock_view *s);
/* conn proving flow through socket s (the look-ups' answer). */
void conn_claimed(struct nu_local_conn *conn, const struct nu_flow *flow,
		  const struct sock_view *s);
/* conn from raw addresses (4 bytes each for AF_INET, 16 for AF_INET6), as
 * TCP: what tests/fuzz/fuzz_proc_tcp makes of a parsed line. */
void conn_fill(struct nu_local_conn *conn, int family, const void *saddr, const void *daddr,
	       uint16_t sport, uint16_t dport, uint64_t inode);

/* --- sockdiag.c ------------------------------------------------------------- */

/* s from a sock_diag answer; false when it is of no inet family. */
bool sock_from_diag(struct sock_view *s, const struct inet_diag_msg *m);
/* Parses one dump datagram.  1 while the dump goes on, 0 at its end, -1
 * with errno on the kernel's error. */
int diag_parse_filter(const uint8_t *buf, size_t len, uint32_t seq,
		      const struct scan_filter *f, GArray *out);
/* The TCP SYN_SENT dump's parser (what tests/fuzz/fuzz_sock_diag calls). */
int diag_parse(const uint8_t *buf, size_t len, uint32_t seq, uid_t uid, GArray *out);
/* One family's dump on fd into out (buf: DIAG_RECV_BUF bytes).  0, or -1
 * with errno. */
int diag_scan(int fd, int family, uint32_t seq, const struct scan_filter *f,
	      GArray *out, uint8_t *buf);
/* The kernel's answer to one look-up: 1 with *m filled; 0 when the kernel
 * knows no such socket; 2 when the datagram answers another request (skip
 * it); -1 with errno when it is malformed or an error. */
int diag_parse_one(const uint8_t *buf, size_t n, uint32_t seq, struct inet_diag_msg *m);
/* The exact look-up through sock_diag: 1 with *out, 0, -1 with errno. */
int diag_lookup(int fd, const struct nu_flow *flow, uid_t uid, unsigned int flags,
		struct nu_local_conn *out);

/* --- procnet.c -------------------------------------------------------------- */

/* One line of /proc/net/{tcp,udp}{,6}, as written there. */
struct proc_entry {
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint16_t sport;
	uint16_t dport;
	unsigned int state;
	uint32_t uid;
	uint64_t inode;
};

/* One line (family AF_INET: tcp or udp; AF_INET6: tcp6 or udp6).  False for
 * the header line and anything malformed. */
bool proc_parse_line(const char *line, int family, struct proc_entry *e);
void sock_from_proc(struct sock_view *s, int family, const struct proc_entry *e);
/* Appends file's sockets that f keeps.  0, or -1 with errno. */
int proc_scan_filter(const char *file, int family, const struct scan_filter *f, GArray *out);
/* The TCP SYN_SENT reader (what tests/fuzz/fuzz_proc_tcp calls). */
int proc_scan(const char *file, int family, uid_t uid, GArray *out);
/* The exact look-up where sock_diag cannot answer, among dir's files (dir
 * is "/proc/net"; tests give another).  1 with *out, 0 when none proves
 * flow, -1 with errno when no file could be read. */
int proc_lookup_in(const char *dir, const struct nu_flow *flow, uid_t uid,
		   unsigned int flags, struct nu_local_conn *out);

#endif
