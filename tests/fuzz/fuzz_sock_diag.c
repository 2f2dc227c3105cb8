/* libFuzzer harness for nutcpc's sock_diag reply parser
 * (src/libnuclient/conntable.c, included through src/nutcpc/conntable.c so
 * that its static diag_parse can be called, as wireguard-tools' fuzzers do).
 *
 * The input is the sequence number (4 bytes, host order) and the uid
 * (4 bytes) the dump was asked with, then one datagram as recvmsg returns
 * it, copied to a buffer of exactly its size. */
#include "../../src/nutcpc/conntable.c"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seq, uid;
	uint8_t *buf;
	GArray *out;
	unsigned i;
	int r;

	(void)conn_fill;	/* fuzz_proc_tcp's */
	(void)proc_scan;

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
		nu_flow_format(&c->flow, text, sizeof(text));
		FUZZ_CHECK(strlen(text) < NU_FLOW_STRLEN);
	}
	g_array_free(out, TRUE);
	g_free(buf);
	return 0;
}
