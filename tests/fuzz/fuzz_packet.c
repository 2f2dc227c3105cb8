/* libFuzzer harness for the NFQUEUE packet parser (src/lib/packet.c).
 *
 * The input is one IPv4 or IPv6 packet, as NFQUEUE may hand it over (cut
 * short by the copy range, or followed by bytes the IP header does not
 * claim).  What parses is formatted; a packet that parses must parse the
 * same way when more bytes follow it. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "flow.h"
#include "packet.h"
#include "fuzz.h"

static void check_info(const struct nu_packet_info *p)
{
	char text[256];

	FUZZ_CHECK(p->flow.family == AF_INET || p->flow.family == AF_INET6);
	nu_flow_format(&p->flow, text, sizeof(text));
	FUZZ_CHECK(strlen(text) < NU_FLOW_STRLEN);
	(void)nu_flow_hash(&p->flow);
	if (p->flow.family == AF_INET)
		FUZZ_CHECK(nu_addr_is_v4(&p->flow.saddr, NULL) && nu_addr_is_v4(&p->flow.daddr, NULL));
	switch (p->flow.proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		FUZZ_CHECK(p->icmp_type == 0 && p->icmp_code == 0);
		break;
	case IPPROTO_ICMP:
		/* sport: an echo request's identifier, 0 for other types */
		FUZZ_CHECK(p->flow.family == AF_INET);
		FUZZ_CHECK((p->icmp_type == 8 || p->flow.sport == 0) && p->flow.dport == 0 &&
			   p->tcp_flags == 0);
		break;
	case IPPROTO_ICMPV6:
		FUZZ_CHECK(p->flow.family == AF_INET6);
		FUZZ_CHECK((p->icmp_type == 128 || p->flow.sport == 0) && p->flow.dport == 0 &&
			   p->tcp_flags == 0);
		break;
	default:
		FUZZ_CHECK(!"a transport the parser does not support was accepted");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nu_packet_info info, longer;
	enum nu_packet_status st;
	uint8_t *copy;

	st = nu_packet_parse(data, size, &info);
	(void)nu_packet_strerror(st);
	if (st != NU_PACKET_OK)
		return 0;
	check_info(&info);

	/* Bytes after the packet cannot change a packet that parsed. */
	copy = g_malloc(size + 64);
	memcpy(copy, data, size);
	memset(copy + size, 0xa5, 64);
	FUZZ_CHECK(nu_packet_parse(copy, size + 64, &longer) == NU_PACKET_OK);
	FUZZ_CHECK(memcmp(&info, &longer, sizeof(info)) == 0);
	g_free(copy);
	return 0;
}
