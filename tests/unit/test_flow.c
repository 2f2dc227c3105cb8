/* Unit tests for src/lib/flow.c: address forms, formatting, equality and
 * hashing (including padding independence and the GHashTable adaptors). */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <glib.h>

#include "flow.h"
#include "unit.h"

static struct nu_flow make_flow(uint8_t family, uint8_t proto, const char *s,
				uint16_t sport, const char *d, uint16_t dport)
{
	struct nu_flow f;
	uint8_t fam;

	memset(&f, 0, sizeof(f));
	f.family = family;
	f.proto = proto;
	f.sport = sport;
	f.dport = dport;
	CHECK(nu_addr_parse(s, &f.saddr, &fam));
	CHECK(nu_addr_parse(d, &f.daddr, &fam));
	return f;
}

static void test_v4_mapping(void)
{
	struct in6_addr a;
	uint32_t v4 = 0, be = htonl(0x0ac90002);

	nu_addr_from_v4(&a, be);
	CHECK(a.s6_addr[10] == 0xff && a.s6_addr[11] == 0xff);
	CHECK(a.s6_addr[0] == 0 && a.s6_addr[9] == 0);
	CHECK(a.s6_addr[12] == 10 && a.s6_addr[13] == 201 &&
	      a.s6_addr[14] == 0 && a.s6_addr[15] == 2);
	CHECK(nu_addr_is_v4(&a, &v4));
	CHECK(v4 == be);
	CHECK(nu_addr_is_v4(&a, NULL));
	CHECK(inet_pton(AF_INET6, "2001:db8::1", &a) == 1);
	CHECK(!nu_addr_is_v4(&a, &v4));
	/* IPv4-compatible (::a.b.c.d) is not v4-mapped */
	CHECK(inet_pton(AF_INET6, "::10.0.0.1", &a) == 1);
	CHECK(!nu_addr_is_v4(&a, NULL));
}

static void test_parse(void)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "foo", "2001:db8::1::2",
		"1.2.3.4 ", " 1.2.3.4", "[2001:db8::1]", "2001:db8::1/64",
		"::fffff:1.2.3.4", "gggg::1",
	};
	struct in6_addr a, b;
	uint8_t fam = 0;
	uint32_t v4;
	size_t i;

	CHECK(nu_addr_parse("10.0.0.1", &a, &fam));
	CHECK(fam == AF_INET);
	CHECK(nu_addr_is_v4(&a, &v4) && v4 == htonl(0x0a000001));
	CHECK(nu_addr_parse("::ffff:10.0.0.1", &b, &fam));
	CHECK(fam == AF_INET);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	CHECK(nu_addr_parse("2001:db8::1", &a, &fam));
	CHECK(fam == AF_INET6);
	CHECK(a.s6_addr[0] == 0x20 && a.s6_addr[1] == 0x01 && a.s6_addr[15] == 1);
	CHECK(nu_addr_parse("::", &a, NULL));
	CHECK(!nu_addr_parse(NULL, &a, &fam));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!nu_addr_parse(bad[i], &a, &fam));
}

static void test_format(void)
{
	struct in6_addr a;
	char buf[NU_FLOW_STRLEN], small[5];

	CHECK(nu_addr_parse("192.168.10.254", &a, NULL));
	CHECK(strcmp(nu_addr_format(&a, buf, sizeof(buf)), "192.168.10.254") == 0);
	CHECK(nu_addr_format(&a, small, sizeof(small)) == small);
	CHECK(strcmp(small, "192.") == 0);
	CHECK(nu_addr_format(&a, buf, 0) == buf);
	CHECK(nu_addr_parse("2001:db8:0:0:1::1", &a, NULL));
	CHECK(strcmp(nu_addr_format(&a, buf, sizeof(buf)), "2001:db8::1:0:0:1") == 0);
	CHECK(nu_addr_parse("::", &a, NULL));
	CHECK(strcmp(nu_addr_format(&a, buf, sizeof(buf)), "::") == 0);
}

static void test_sockaddr(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	struct in6_addr a, want;
	uint32_t v4;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x7f000001);
	CHECK(nu_addr_from_sockaddr((struct sockaddr *)&ss, &a));
	CHECK(nu_addr_is_v4(&a, &v4) && v4 == htonl(0x7f000001));

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	CHECK(inet_pton(AF_INET6, "fe80::1:2", &want) == 1);
	sin6->sin6_addr = want;
	CHECK(nu_addr_from_sockaddr((struct sockaddr *)&ss, &a));
	CHECK(memcmp(&a, &want, sizeof(a)) == 0);

	memset(&ss, 0, sizeof(ss));
	sun->sun_family = AF_UNIX;
	CHECK(!nu_addr_from_sockaddr((struct sockaddr *)&ss, &a));
	CHECK(!nu_addr_from_sockaddr(NULL, &a));
}

static void test_flow_format(void)
{
	struct nu_flow f;
	char buf[NU_FLOW_STRLEN], tiny[8];

	f = make_flow(AF_INET, IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.2", 80);
	CHECK(strcmp(nu_flow_format(&f, buf, sizeof(buf)),
		     "tcp 10.201.0.2:40000 -> 10.202.0.2:80") == 0);
	f = make_flow(AF_INET6, IPPROTO_UDP, "2001:db8::1", 53, "2001:db8::2", 5353);
	CHECK(strcmp(nu_flow_format(&f, buf, sizeof(buf)),
		     "udp [2001:db8::1]:53 -> [2001:db8::2]:5353") == 0);
	f = make_flow(AF_INET, IPPROTO_ICMP, "1.2.3.4", 0, "5.6.7.8", 0);
	CHECK(strcmp(nu_flow_format(&f, buf, sizeof(buf)),
		     "icmp 1.2.3.4 -> 5.6.7.8") == 0);
	f = make_flow(AF_INET6, IPPROTO_ICMPV6, "fe80::1", 0, "ff02::1", 0);
	CHECK(strcmp(nu_flow_format(&f, buf, sizeof(buf)),
		     "icmpv6 fe80::1 -> ff02::1") == 0);
	f = make_flow(AF_INET, 132, "1.2.3.4", 1, "5.6.7.8", 2);
	CHECK(strcmp(nu_flow_format(&f, buf, sizeof(buf)),
		     "proto-132 1.2.3.4:1 -> 5.6.7.8:2") == 0);

	/* the longest text still fits NU_FLOW_STRLEN untruncated */
	f = make_flow(AF_INET6, 255, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535,
		      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	nu_flow_format(&f, buf, sizeof(buf));
	CHECK(strlen(buf) < NU_FLOW_STRLEN - 1);
	CHECK(strcmp(buf + strlen(buf) - 6, ":65535") == 0);

	f = make_flow(AF_INET, IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.2", 80);
	CHECK(nu_flow_format(&f, tiny, sizeof(tiny)) == tiny);
	CHECK(strcmp(tiny, "tcp 10.") == 0);
	CHECK(nu_flow_format(&f, buf, 0) == buf);
}

static void test_equal_hash(void)
{
	struct nu_flow a, b, c;

	a = make_flow(AF_INET, IPPROTO_TCP, "10.0.0.1", 1234, "10.0.0.2", 80);
	/* same fields, different padding bytes */
	memset(&b, 0xa5, sizeof(b));
	b.family = a.family;
	b.proto = a.proto;
	b.sport = a.sport;
	b.dport = a.dport;
	b.saddr = a.saddr;
	b.daddr = a.daddr;
	CHECK(nu_flow_equal(&a, &b));
	CHECK(nu_flow_hash(&a) == nu_flow_hash(&b));
	CHECK(nu_flow_gequal(&a, &b));
	CHECK(nu_flow_ghash(&a) == nu_flow_ghash(&b));

	c = a; c.family = AF_INET6;
	CHECK(!nu_flow_equal(&a, &c) && nu_flow_hash(&a) != nu_flow_hash(&c));
	c = a; c.proto = IPPROTO_UDP;
	CHECK(!nu_flow_equal(&a, &c) && nu_flow_hash(&a) != nu_flow_hash(&c));
	c = a; c.sport++;
	CHECK(!nu_flow_equal(&a, &c) && nu_flow_hash(&a) != nu_flow_hash(&c));
	c = a; c.dport++;
	CHECK(!nu_flow_equal(&a, &c) && nu_flow_hash(&a) != nu_flow_hash(&c));
	c = a; c.saddr.s6_addr[15] ^= 1;
	CHECK(!nu_flow_equal(&a, &c) && nu_flow_hash(&a) != nu_flow_hash(&c));
	c = a; c.daddr.s6_addr[0] ^= 0x80;
	CHECK(!nu_flow_equal(&a, &c) && nu_flow_hash(&a) != nu_flow_hash(&c));
	/* swapping the direction gives another flow */
	c = a; c.saddr = a.daddr; c.daddr = a.saddr;
	c.sport = a.dport; c.dport = a.sport;
	CHECK(!nu_flow_equal(&a, &c) && nu_flow_hash(&a) != nu_flow_hash(&c));
}

static void test_ghash_table(void)
{
	enum { N = 4096 };
	struct nu_flow *flows = g_new0(struct nu_flow, N);
	struct nu_flow probe;
	GHashTable *t = g_hash_table_new(nu_flow_ghash, nu_flow_gequal);
	GHashTable *hashes = g_hash_table_new(g_direct_hash, g_direct_equal);
	int i, found = 0;

	for (i = 0; i < N; i++) {
		flows[i].family = AF_INET;
		flows[i].proto = IPPROTO_TCP;
		flows[i].sport = (uint16_t)(30000 + i);
		flows[i].dport = 443;
		nu_addr_from_v4(&flows[i].saddr, htonl(0x0a000001));
		nu_addr_from_v4(&flows[i].daddr, htonl(0x0a000002 + (uint32_t)(i & 7)));
		g_hash_table_insert(t, &flows[i], GINT_TO_POINTER(i + 1));
		g_hash_table_add(hashes, GUINT_TO_POINTER(nu_flow_hash(&flows[i])));
	}
	CHECK(g_hash_table_size(t) == N);
	/* a decent hash: almost no collisions over close-by flows */
	CHECK(g_hash_table_size(hashes) > N - 8);
	for (i = 0; i < N; i++) {
		memset(&probe, 0x5a, sizeof(probe));
		probe.family = flows[i].family;
		probe.proto = flows[i].proto;
		probe.sport = flows[i].sport;
		probe.dport = flows[i].dport;
		probe.saddr = flows[i].saddr;
		probe.daddr = flows[i].daddr;
		if (GPOINTER_TO_INT(g_hash_table_lookup(t, &probe)) == i + 1)
			found++;
	}
	CHECK(found == N);
	probe.dport = 444;
	CHECK(g_hash_table_lookup(t, &probe) == NULL);
	g_hash_table_destroy(hashes);
	g_hash_table_destroy(t);
	g_free(flows);
}

int main(void)
{
	test_v4_mapping();
	test_parse();
	test_format();
	test_sockaddr();
	test_flow_format();
	test_equal_hash();
	test_ghash_table();
	return unit_done("flow");
}
