/* Writes the binary seed inputs of the fuzz harnesses: protocol messages
 * made with the project's own encoders (DIR/proto), IP packets
 * (DIR/packet) and sock_diag replies (DIR/sock_diag).  The text seeds
 * (configuration, users, ACLs, /proc/net/tcp) are written by hand.
 *
 *   make gen_corpus && ./gen_corpus $(srcdir)/corpus */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "flow.h"
#include "proto.h"

static const char *top;

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", top, dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void ok(enum nu_proto_status st, const char *what)
{
	if (st != NU_PROTO_OK) {
		fprintf(stderr, "gen_corpus: %s: %s\n", what, nu_proto_strerror(st));
		exit(1);
	}
}

static struct nu_flow flow(uint8_t proto, const char *src, uint16_t sport,
			   const char *dst, uint16_t dport)
{
	struct nu_flow f;

	memset(&f, 0, sizeof(f));
	if (!nu_addr_parse(src, &f.saddr, &f.family) || !nu_addr_parse(dst, &f.daddr, &f.family))
		exit(1);
	f.proto = proto;
	f.sport = sport;
	f.dport = dport;
	return f;
}

static void gen_proto(void)
{
	static uint8_t buf[NU_MSG_MAX_LEN], stream[2 * NU_MSG_MAX_LEN];
	struct nu_hello hello = { .version_min = 1, .version_max = 1, .role = NU_ROLE_CLIENT };
	struct nu_packet_ask ask = { .packet_id = 42, .mark = 0x10, .indev = "eth0" };
	struct nu_decision dec = { .packet_id = 42, .verdict = NU_VERDICT_ACCEPT,
				   .has_mark = true, .mark = 1001 };
	struct nu_auth_result res = { .result = NU_AUTH_OK, .user = "alice", .text = "welcome" };
	struct nu_client_info info = { .sysname = "Linux", .release = "6.1.0",
				       .version = "#1 SMP Debian" };
	struct nu_announce_conn conn;
	struct nu_msg_writer w;
	struct nu_flow f;
	size_t n, s = 0;

	strcpy(hello.software, "nutcpc 0.1.0");
	ok(nu_hello_encode(buf, sizeof(buf), &hello, &n), "hello");
	put("proto", "hello-client", buf, n);
	memcpy(stream, buf, n);
	s = n;
	hello.role = NU_ROLE_SERVER;
	strcpy(hello.mech_list, "PLAIN SCRAM-SHA-256");
	ok(nu_hello_encode(buf, sizeof(buf), &hello, &n), "hello");
	put("proto", "hello-server", buf, n);

	ok(nu_error_encode(buf, sizeof(buf), "authentication failed", &n), "error");
	put("proto", "error", buf, n);
	ok(nu_keepalive_encode(buf, sizeof(buf), 7, &n), "keepalive");
	put("proto", "keepalive", buf, n);
	memcpy(stream + s, buf, n);
	s += n;

	ask.flow = flow(IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.2", 80);
	ok(nu_packet_ask_encode(buf, sizeof(buf), &ask, &n), "packet_ask");
	put("proto", "packet-ask-tcp4", buf, n);
	ask.flow = flow(IPPROTO_ICMPV6, "2001:db8::1", 0, "2001:db8::2", 0);
	ask.icmp_type = 128;
	strcpy(ask.outdev, "eth1");
	ok(nu_packet_ask_encode(buf, sizeof(buf), &ask, &n), "packet_ask");
	put("proto", "packet-ask-icmp6", buf, n);
	ask.flow = flow(IPPROTO_TCP, "10.203.0.2", 40000, "10.203.0.3", 22);
	strcpy(ask.indev, "br0");
	strcpy(ask.outdev, "br0");
	strcpy(ask.physindev, "veth-c");
	strcpy(ask.physoutdev, "veth-s");
	ok(nu_packet_ask_encode(buf, sizeof(buf), &ask, &n), "packet_ask");
	put("proto", "packet-ask-bridged", buf, n);

	ok(nu_decision_encode(buf, sizeof(buf), &dec, &n), "decision");
	put("proto", "decision-mark", buf, n);
	dec.verdict = NU_VERDICT_REJECT;
	dec.has_mark = false;
	ok(nu_decision_encode(buf, sizeof(buf), &dec, &n), "decision");
	put("proto", "decision-reject", buf, n);
	dec.verdict = NU_VERDICT_ACCEPT;
	dec.session = 0x1122334455667788ull;
	ok(nu_decision_encode(buf, sizeof(buf), &dec, &n), "decision");
	put("proto", "decision-session", buf, n);
	ok(nu_session_end_encode(buf, sizeof(buf), dec.session, &n), "session_end");
	put("proto", "session-end", buf, n);

	ok(nu_auth_start_encode(buf, sizeof(buf), "PLAIN", (const uint8_t *)"\0alice\0secret",
				13, true, NULL, &n), "auth_start");
	put("proto", "auth-start", buf, n);
	ok(nu_auth_start_encode(buf, sizeof(buf), "PLAIN", (const uint8_t *)"\0alice\0secret",
				13, true, (const uint8_t *)"0123456789abcdef", &n), "auth_start");
	put("proto", "auth-start-resume", buf, n);
	ok(nu_auth_step_encode(buf, sizeof(buf), (const uint8_t *)"n,,n=alice,r=abc", 16, &n),
	   "auth_step");
	put("proto", "auth-step", buf, n);
	ok(nu_auth_step_encode(buf, sizeof(buf), NULL, 0, &n), "auth_step");
	put("proto", "auth-step-empty", buf, n);

	ok(nu_auth_result_encode(buf, sizeof(buf), &res, &n), "auth_result");
	put("proto", "auth-result", buf, n);
	res.has_resume = true;
	memset(res.resume, 0x5a, sizeof(res.resume));
	ok(nu_auth_result_encode(buf, sizeof(buf), &res, &n), "auth_result");
	put("proto", "auth-result-resume", buf, n);
	ok(nu_client_info_encode(buf, sizeof(buf), &info, &n), "client_info");
	put("proto", "client-info", buf, n);
	memcpy(stream + s, buf, n);
	s += n;

	nu_announce_begin(&w, buf, sizeof(buf));
	memset(&conn, 0, sizeof(conn));
	conn.flow = flow(IPPROTO_TCP, "10.201.0.2", 40001, "10.202.0.2", 443);
	strcpy(conn.app, "/usr/bin/curl");
	nu_announce_add(&w, &conn);
	memset(&conn, 0, sizeof(conn));
	conn.flow = flow(IPPROTO_TCP, "2001:db8::1", 50000, "2001:db8::2", 22);
	nu_announce_add(&w, &conn);
	ok(nu_msg_finish(&w, &n), "announce");
	put("proto", "announce", buf, n);
	memcpy(stream + s, buf, n);
	s += n;

	nu_announce_begin(&w, buf, sizeof(buf));
	memset(&conn, 0, sizeof(conn));
	conn.flow = flow(IPPROTO_UDP, "10.201.0.2", 40002, "10.202.0.2", 53);
	strcpy(conn.app, "/usr/bin/dig");
	conn.has_app_sha256 = true;
	for (unsigned i = 0; i < NU_SHA256_LEN; i++)
		conn.app_sha256[i] = (uint8_t)(i * 7 + 1);
	nu_announce_add(&w, &conn);
	ok(nu_msg_finish(&w, &n), "announce");
	put("proto", "announce-sha256", buf, n);

	/* the answer to three PUSHes: not mine, mine, not mine (IPv6) */
	nu_announce_begin(&w, buf, sizeof(buf));
	f = flow(IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.2", 7006);
	nu_announce_add_not_mine(&w, &f);
	memset(&conn, 0, sizeof(conn));
	conn.flow = flow(IPPROTO_TCP, "10.201.0.2", 40001, "10.202.0.2", 7006);
	nu_announce_add(&w, &conn);
	f = flow(IPPROTO_UDP, "2001:db8::1", 5353, "2001:db8::2", 53);
	nu_announce_add_not_mine(&w, &f);
	ok(nu_msg_finish(&w, &n), "announce");
	put("proto", "announce-not-mine", buf, n);
	memcpy(stream + s, buf, n);
	s += n;

	ok(nu_needs_encode(buf, sizeof(buf), NU_NEEDS_APP | NU_NEEDS_APP_SHA256, &n), "needs");
	put("proto", "needs", buf, n);
	memcpy(stream + s, buf, n);
	s += n;

	f = flow(IPPROTO_UDP, "10.201.0.2", 5353, "10.202.0.53", 53);
	ok(nu_push_encode(buf, sizeof(buf), &f, &n), "push");
	put("proto", "push-flow", buf, n);
	ok(nu_push_encode(buf, sizeof(buf), NULL, &n), "push");
	put("proto", "push-empty", buf, n);

	{
		struct nu_conn_end end = { .mark = 1001, .packets_out = 12, .bytes_out = 4096,
					   .packets_in = 10, .bytes_in = 90000 };
		struct nu_conn_expires moved = { .has_expires = true, .expires_in = 3600 };

		end.flow = flow(IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.2", 80);
		ok(nu_conn_end_encode(buf, sizeof(buf), &end, &n), "conn_end");
		put("proto", "conn-end", buf, n);
		ok(nu_conn_destroy_encode(buf, sizeof(buf), &end.flow, &n), "conn_destroy");
		put("proto", "conn-destroy", buf, n);
		moved.flow = end.flow;
		ok(nu_conn_expires_encode(buf, sizeof(buf), &moved, &n), "conn_expires");
		put("proto", "conn-expires", buf, n);
	}
	{
		struct nu_gw_stats gs = { .queue = 0, .asked = 7, .accepted = 4, .dropped = 3,
					  .rejected = 1, .timeouts = 1, .overruns = 2,
					  .kernel_queue_full = 5, .kernel_failed = 6 };

		ok(nu_gw_stats_encode(buf, sizeof(buf), &gs, &n), "gw_stats");
		put("proto", "gw-stats", buf, n);
	}

	/* Several messages back to back, as a link reads them. */
	put("proto", "stream", stream, s);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A minimal IPv4 header (no options) for total bytes, proto. */
static void ipv4(uint8_t *p, size_t total, uint8_t proto)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)total);
	p[8] = 64;
	p[9] = proto;
	inet_pton(AF_INET, "10.201.0.2", p + 12);
	inet_pton(AF_INET, "10.202.0.2", p + 16);
}

static void ipv6(uint8_t *p, size_t payload, uint8_t next)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, (uint16_t)payload);
	p[6] = next;
	p[7] = 64;
	inet_pton(AF_INET6, "2001:db8::1", p + 8);
	inet_pton(AF_INET6, "2001:db8::2", p + 24);
}

static void tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags)
{
	memset(p, 0, 20);
	put16(p, sport);
	put16(p + 2, dport);
	p[12] = 5 << 4;
	p[13] = flags;
}

static void gen_packet(void)
{
	uint8_t p[128];

	ipv4(p, 40, IPPROTO_TCP);
	tcp(p + 20, 40000, 80, 0x02);
	put("packet", "tcp4-syn", p, 40);
	/* cut short by the copy range */
	put("packet", "tcp4-truncated", p, 34);

	ipv4(p, 28, IPPROTO_UDP);
	memset(p + 20, 0, 8);
	put16(p + 20, 5353);
	put16(p + 22, 53);
	put16(p + 24, 8);
	put("packet", "udp4", p, 28);

	ipv4(p, 28, IPPROTO_ICMP);
	memset(p + 20, 0, 8);
	p[20] = 8;
	put("packet", "icmp4-echo", p, 28);

	ipv4(p, 40, IPPROTO_TCP);
	put16(p + 6, 0x0010);	/* fragment offset 16 */
	put("packet", "ipv4-fragment", p, 40);

	ipv6(p, 20, IPPROTO_TCP);
	tcp(p + 40, 50000, 22, 0x02);
	put("packet", "tcp6-syn", p, 60);

	ipv6(p, 8, IPPROTO_ICMPV6);
	memset(p + 40, 0, 8);
	p[40] = 128;
	put("packet", "icmp6-echo", p, 48);

	/* hop-by-hop options, then a first fragment, then UDP */
	ipv6(p, 8 + 8 + 8, 0);
	memset(p + 40, 0, 24);
	p[40] = 44;		/* hop-by-hop: next is fragment, length 0 (8 bytes) */
	p[48] = IPPROTO_UDP;	/* fragment header: offset 0, more fragments */
	p[51] = 1;
	put16(p + 56, 5353);
	put16(p + 58, 53);
	put16(p + 60, 8);
	put("packet", "udp6-ext-headers", p, 64);
}

/* sock_diag seeds: seq (4 bytes), uid (4 bytes), then the datagram. */
static void gen_sock_diag(void)
{
	uint8_t buf[512];
	uint32_t seq = 1, uid = 1000;
	struct nlmsghdr nlh;
	struct inet_diag_msg m;
	int done_status = 0;
	struct nlmsgerr err;
	size_t off = 8;

	memcpy(buf, &seq, 4);
	memcpy(buf + 4, &uid, 4);

	memset(&m, 0, sizeof(m));
	m.idiag_family = AF_INET;
	m.idiag_state = TCP_SYN_SENT;
	m.idiag_uid = uid;
	m.idiag_inode = 123456;
	m.id.idiag_sport = htons(40000);
	m.id.idiag_dport = htons(80);
	inet_pton(AF_INET, "10.201.0.2", m.id.idiag_src);
	inet_pton(AF_INET, "10.202.0.2", m.id.idiag_dst);
	memset(&nlh, 0, sizeof(nlh));
	nlh.nlmsg_len = NLMSG_LENGTH(sizeof(m));
	nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh.nlmsg_flags = NLM_F_MULTI;
	nlh.nlmsg_seq = seq;
	memcpy(buf + off, &nlh, sizeof(nlh));
	memcpy(buf + off + NLMSG_HDRLEN, &m, sizeof(m));
	off += NLMSG_ALIGN(nlh.nlmsg_len);

	m.idiag_family = AF_INET6;
	m.idiag_inode = 654321;
	memset(m.id.idiag_src, 0, sizeof(m.id.idiag_src));
	memset(m.id.idiag_dst, 0, sizeof(m.id.idiag_dst));
	inet_pton(AF_INET6, "2001:db8::1", m.id.idiag_src);
	inet_pton(AF_INET6, "2001:db8::2", m.id.idiag_dst);
	memcpy(buf + off, &nlh, sizeof(nlh));
	memcpy(buf + off + NLMSG_HDRLEN, &m, sizeof(m));
	off += NLMSG_ALIGN(nlh.nlmsg_len);
	put("sock_diag", "two-syn-sent", buf, off);

	nlh.nlmsg_len = NLMSG_LENGTH(sizeof(done_status));
	nlh.nlmsg_type = NLMSG_DONE;
	memcpy(buf + off, &nlh, sizeof(nlh));
	memcpy(buf + off + NLMSG_HDRLEN, &done_status, sizeof(done_status));
	off += NLMSG_ALIGN(nlh.nlmsg_len);
	put("sock_diag", "dump-done", buf, off);

	off = 8;
	memset(&err, 0, sizeof(err));
	err.error = -ENOENT;
	nlh.nlmsg_len = NLMSG_LENGTH(sizeof(err));
	nlh.nlmsg_type = NLMSG_ERROR;
	memcpy(buf + off, &nlh, sizeof(nlh));
	memcpy(buf + off + NLMSG_HDRLEN, &err, sizeof(err));
	off += NLMSG_ALIGN(nlh.nlmsg_len);
	put("sock_diag", "error-enoent", buf, off);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	top = argv[1];
	gen_proto();
	gen_packet();
	gen_sock_diag();
	return 0;
}
