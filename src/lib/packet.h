/* Parser for the IPv4/IPv6 packets nufw reads from NFQUEUE: yields the flow
 * tuple and the transport details the decision needs.  Reads only within
 * [buf, buf + len). */
#ifndef NU_PACKET_H
#define NU_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include "flow.h"

enum nu_packet_status {
	NU_PACKET_OK = 0,
	NU_PACKET_TRUNCATED,		/* a header runs past the end of the buffer */
	NU_PACKET_BAD_HEADER,		/* a length or version field is impossible */
	NU_PACKET_FRAGMENT,		/* not the first fragment: no transport header */
	NU_PACKET_UNSUPPORTED,		/* a transport protocol we do not decide on */
};

/* TCP flag bits as they stand in the header's flags byte. */
#define NU_TCP_FIN 0x01
#define NU_TCP_SYN 0x02
#define NU_TCP_RST 0x04
#define NU_TCP_ACK 0x10

struct nu_packet_info {
	struct nu_flow flow;
	uint8_t tcp_flags;	/* TCP only */
	uint8_t icmp_type;	/* ICMP and ICMPv6 only */
	uint8_t icmp_code;
	uint16_t l3_len;	/* total length the IP header claims */
};

enum nu_packet_status nu_packet_parse(const uint8_t *buf, size_t len,
				      struct nu_packet_info *out);
const char *nu_packet_strerror(enum nu_packet_status status);

#endif
