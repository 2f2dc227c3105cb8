/* REJECT: nufw drops the packet and answers its sender, so that the user's
 * program fails at once instead of waiting for its connect to time out.  By
 * default as the destination host would: a TCP reset for TCP, ICMP port
 * unreachable (ICMPv6 destination unreachable, port) for the rest.  Or, as
 * a firewall says it (iptables' icmp-admin-prohibited): ICMP destination
 * unreachable, communication administratively prohibited (ICMPv6: with the
 * destination administratively prohibited), for every protocol, which
 * programs see as EHOSTUNREACH (IPv4) or EACCES (IPv6).  The answer is sent
 * through raw sockets, from the packet's destination address. */
#ifndef NUFW_REJECT_H
#define NUFW_REJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct nufw_rejecter;

enum nufw_reject_kind {
	NUFW_REJECT_AS_HOST,		/* TCP reset, else port unreachable */
	NUFW_REJECT_ADMIN_PROHIBITED,	/* ICMP administratively prohibited */
};

/* The kind named NAME as nufw's --reject-with takes it ("tcp-reset",
 * "icmp-admin-prohibited"); false when it names none. */
bool nufw_reject_kind_parse(const char *name, enum nufw_reject_kind *kind);

/* NULL with *error when the raw sockets cannot be opened (CAP_NET_RAW). */
struct nufw_rejecter *nufw_rejecter_new(enum nufw_reject_kind kind, GError **error);
void nufw_rejecter_free(struct nufw_rejecter *r);

/* Builds the answer to packet (an IPv4 or IPv6 packet as queued) into out;
 * returns its length, 0 when the packet gets no answer (a fragment, an
 * ICMP error, a RST, or too short to answer).  Pure: unit-testable. */
size_t nufw_reject_build(const uint8_t *packet, size_t len, enum nufw_reject_kind kind,
			 uint8_t *out, size_t cap);

/* Sends the answer to packet; 0, or -1 with errno. */
int nufw_reject_send(struct nufw_rejecter *r, const uint8_t *packet, size_t len);

#endif
