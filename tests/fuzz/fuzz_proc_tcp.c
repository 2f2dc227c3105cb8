/* libFuzzer harness for libnuclient's /proc/net/tcp{,6} reader
 * (src/libnuclient/procnet.c, linked with sockclaim.c and sockdiag.c; their
 * internal calls are declared in conntable_int.h).
 *
 * The input is the text of the file.  Each line is parsed on its own, as
 * tcp and as tcp6, in a buffer of exactly its size; then the whole input is
 * scanned through proc_scan, which also reads and skips overlong lines, and
 * each line's flow is looked up through proc_lookup_in as TCP and as UDP
 * (the file is then both tcp and udp): a socket proves its flow only in
 * SYN_SENT (TCP) or connected (UDP), with both ends. */
#include "config.h"
#include "conntable_int.h"

#include <string.h>
#include <sys/socket.h>
#include <netinet/tcp.h>

#include "fuzz.h"

static void check_conn(const struct nu_local_conn *c, uint64_t inode)
{
	char text[256];

	FUZZ_CHECK(c->flow.family == AF_INET || c->flow.family == AF_INET6);
	FUZZ_CHECK(c->flow.proto == IPPROTO_TCP && c->inode == inode);
	FUZZ_CHECK(c->flow.sport != 0 && c->flow.dport != 0 && !addr_is_any(&c->flow.daddr));
	nu_flow_format(&c->flow, text, sizeof(text));
	FUZZ_CHECK(strlen(text) < NU_FLOW_STRLEN);
}

static void check_line(const char *line, int family)
{
	struct proc_entry e;
	struct nu_local_conn conn;

	if (!proc_parse_line(line, family, &e))
		return;
	conn_fill(&conn, family, e.saddr, e.daddr, e.sport, e.dport, e.inode);
	FUZZ_CHECK(conn.flow.family == AF_INET || conn.flow.family == AF_INET6);
	FUZZ_CHECK(conn.inode == e.inode);
	if (family == AF_INET)
		FUZZ_CHECK(conn.flow.family == AF_INET);
}

/* Looks the flow of line (read as family) up in dir, whose tcp, tcp6, udp
 * and udp6 all hold the input. */
static void check_lookup(const char *dir, const char *line, int family)
{
	struct proc_entry e;
	struct nu_local_conn conn, got;
	struct sock_view s;
	int r;

	if (!proc_parse_line(line, family, &e))
		return;
	conn_fill(&conn, family, e.saddr, e.daddr, e.sport, e.dport, e.inode);
	sock_from_proc(&s, family, &e);
	conn.flow.proto = IPPROTO_TCP;
	r = proc_lookup_in(dir, &conn.flow, e.uid, 0, &got);
	FUZZ_CHECK(r == 0 || r == 1);
	/* this very line proves it: it is found (maybe on another line) */
	if (e.state == TCP_SYN_SENT && sock_has_peer(&s))
		FUZZ_CHECK(r == 1 && nu_flow_equal(&got.flow, &conn.flow));
	conn.flow.proto = IPPROTO_UDP;
	r = proc_lookup_in(dir, &conn.flow, e.uid, 0, &got);
	FUZZ_CHECK(r == 0 || r == 1);
	if (e.state == TCP_ESTABLISHED && sock_has_peer(&s))
		FUZZ_CHECK(r == 1 && nu_flow_equal(&got.flow, &conn.flow));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	GArray *out;
	char *path;
	unsigned i;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		char *line = g_strndup((const char *)p, n);

		check_line(line, AF_INET);
		check_line(line, AF_INET6);
		g_free(line);
		p += n;
	}

	path = fuzz_write("tcp", data, size);
	{
		static const char *const names[] = { "tcp6", "udp", "udp6" };
		char *other[3], *dir = g_path_get_dirname(path);

		for (i = 0; i < 3; i++)
			other[i] = fuzz_write(names[i], data, size);
		for (p = data; p < end;) {
			const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
			char *line = g_strndup((const char *)p, n);

			if (n < PROC_LINE_MAX - 1 && strlen(line) == n) {
				check_lookup(dir, line, AF_INET);
				check_lookup(dir, line, AF_INET6);
			}
			g_free(line);
			p += n;
		}
		for (i = 0; i < 3; i++) {
			fuzz_unlink(other[i]);
			g_free(other[i]);
		}
		g_free(dir);
	}
	out = g_array_new(FALSE, FALSE, sizeof(struct nu_local_conn));
	FUZZ_CHECK(proc_scan(path, AF_INET, 0, out) == 0);
	FUZZ_CHECK(proc_scan(path, AF_INET6, 0, out) == 0);
	for (i = 0; i < out->len; i++)
		check_conn(&g_array_index(out, struct nu_local_conn, i),
			   g_array_index(out, struct nu_local_conn, i).inode);
	g_array_free(out, TRUE);
	fuzz_unlink(path);
	g_free(path);
	return 0;
}
