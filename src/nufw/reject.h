/* REJECT: nufw drops the packet and answers its sender, so that the user's
 * program fails at once instead of waiting for its connect to time out: a
 * TCP reset for TCP, ICMP port unreachable (ICMPv6 destination unreachable,
 * port) for the rest.  The answer is sent through raw sockets, from the
 * packet's destination address, as the destination host would. */
#ifndef NUFW_REJECT_H
#define NUFW_REJECT_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct nufw_rejecter;

/* NULL with *error when the raw sockets cannot be opened (CAP_NET_RAW). */
struct nufw_rejecter *nufw_rejecter_new(GError **error);
void nufw_rejecter_free(struct nufw_rejecter *r);

/* Builds the answer to packet (an IPv4 or IPv6 packet as queued) into out;
 * returns its length, 0 when the packet gets no answer (a fragment, an
 * ICMP error, a RST, or too short to answer).  Pure: unit-testable. */
size_t nufw_reject_build(const uint8_t *packet, size_t len, uint8_t *out, size_t cap);

/* Sends the answer to packet; 0, or -1 with errno. */
int nufw_reject_send(struct nufw_rejecter *r, const uint8_t *packet, size_t len);

#endif
