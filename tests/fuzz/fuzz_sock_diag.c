/* libFuzzer harness for libnuclient's sock_diag reply parser
 * (src/libnuclient/sockdiag.c, linked with sockclaim.c and procnet.c; their
 * internal calls are declared in conntable_int.h).
 *
 * The input is the sequence number (4 bytes, host order) and the uid
 * (4 bytes) the dump was asked with, then one datagram as recvmsg returns
 * it, copied to a buffer of exactly its size.  The same datagram is also
 * read as the answer to an exact look-up (diag_parse_one), and the socket
 * it names is put to the proof (sock_claims) against flows built from it:
 * only a SYN_SENT or connected socket of that uid with the flow's very
 * tuple may prove it. */
#include "config.h"
#include "conntable_int.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/tcp.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seq, uid;
	struct inet_diag_msg m;
	struct sock_view s;
	uint8_t *buf;
	GArray *out;
	unsigned i;
	int r;

	if (size < 8)
		return 0;
	memcpy(&seq, data, 4);
	memcpy(&uid, data + 4, 4);
	buf = g_memdup2(data + 8, size - 8);
	out = g_array_new(FALSE, FALSE, sizeof(struct nu_local_conn));

	errno = 0;
	r = diag_parse(buf, size - 8, seq, (uid_t)uid, out);
	/* errno is an errno value, whatever error code the reply holds */
	FUZZ_CHECK(r == 1 || r == 0 || (r == -1 && errno > 0 && errno <= 4095));
	for (i = 0; i < out->len; i++) {
		const struct nu_local_conn *c = &g_array_index(out, struct nu_local_conn, i);
		char text[256];

		FUZZ_CHECK(c->flow.family == AF_INET || c->flow.family == AF_INET6);
		FUZZ_CHECK(c->flow.proto == IPPROTO_TCP);
		/* the dump keeps only sockets with both ends */
		FUZZ_CHECK(c->flow.sport != 0 && c->flow.dport != 0 && !addr_is_any(&c->flow.daddr));
		nu_flow_format(&c->flow, text, sizeof(text));
		FUZZ_CHECK(strlen(text) < NU_FLOW_STRLEN);
	}
	g_array_free(out, TRUE);

	errno = 0;
	r = diag_parse_one(buf, size - 8, seq, &m);
	FUZZ_CHECK(r == 0 || r == 1 || r == 2 || (r == -1 && errno > 0 && errno <= 4095));
	if (r == 1 && sock_from_diag(&s, &m)) {
		struct nu_flow f;

		/* the socket's own tuple, as TCP and as UDP */
		memset(&f, 0, sizeof(f));
		f.family = nu_addr_is_v4(&s.dst, NULL) ? AF_INET : AF_INET6;
		f.sport = s.sport;
		f.dport = s.dport;
		f.saddr = s.src;
		f.daddr = s.dst;
		f.proto = IPPROTO_TCP;
		FUZZ_CHECK(sock_claims(&s, &f, (uid_t)uid, 0) ==
			   (s.uid == uid && s.state == TCP_SYN_SENT && sock_has_peer(&s)));
		f.proto = IPPROTO_UDP;
		FUZZ_CHECK(sock_claims(&s, &f, (uid_t)uid, 0) ==
			   (s.uid == uid && s.state == TCP_ESTABLISHED && sock_has_peer(&s)));
		/* one port off proves nothing */
		f.dport++;
		FUZZ_CHECK(!sock_claims(&s, &f, (uid_t)uid, 0));
		f.proto = IPPROTO_TCP;
		FUZZ_CHECK(!sock_claims(&s, &f, (uid_t)uid, 0));
		FUZZ_CHECK(!sock_claims(&s, &f, (uid_t)uid, NU_CONNTABLE_UDP_UNCONNECTED));
	}
	g_free(buf);
	return 0;
}
