/* Unit tests for the plaintext ACL file (the ACL engine, modules/acl/, read by
 * modules/plaintext/aclfile.c). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "aclfile.h"
#include "log.h"
#include "unit.h"
#include "unit_files.h"

/* Parses an address into the flow form (IPv4 v4-mapped) without flow.c. */
static void set_addr(struct in6_addr *dst, uint8_t *family, const char *text)
{
	struct in_addr v4;

	memset(dst, 0, sizeof(*dst));
	if (inet_pton(AF_INET, text, &v4) == 1) {
		dst->s6_addr[10] = dst->s6_addr[11] = 0xff;
		memcpy(&dst->s6_addr[12], &v4, 4);
		*family = AF_INET;
	} else if (inet_pton(AF_INET6, text, dst) == 1) {
		*family = AF_INET6;
	} else {
		g_error("bad test address %s", text);
	}
}

static struct nuauth_packet pkt(uint8_t proto, const char *src, uint16_t sport,
				const char *dst, uint16_t dport)
{
	struct nuauth_packet p;

	memset(&p, 0, sizeof(p));
	p.flow.proto = proto;
	set_addr(&p.flow.saddr, &p.flow.family, src);
	set_addr(&p.flow.daddr, &p.flow.family, dst);
	p.flow.sport = sport;
	p.flow.dport = dport;
	p.indev = p.outdev = p.app = "";
	p.physindev = p.physoutdev = "";
	p.os_sysname = p.os_release = p.os_version = "";
	p.gateway = "gw1.example.org";
	return p;
}

static struct nuauth_packet tcp(const char *dst, uint16_t dport)
{
	return pkt(IPPROTO_TCP, "10.1.1.1", 40000, dst, dport);
}

static const uint32_t g100[] = { 100 }, g100_200[] = { 100, 200 }, g999[] = { 999 };
static const struct nuauth_user alice = { "alice", 1001, g100, 1, NUAUTH_AUTHQ_PASSWORD, "client" };
static const struct nuauth_user bob = { "bob", 1002, g100_200, 2, NUAUTH_AUTHQ_PASSWORD, "client" };
static const struct nuauth_user carol = { "carol", 1003, NULL, 0, NUAUTH_AUTHQ_PASSWORD, "client" };
static const struct nuauth_user gid999 = { "g", 5, g999, 1, NUAUTH_AUTHQ_PASSWORD, "client" };
static const struct nuauth_user u1005 = { "u1005", 1005, NULL, 0, NUAUTH_AUTHQ_PASSWORD, "client" };
static const struct nuauth_user u1006 = { "u1006", 1006, NULL, 0, NUAUTH_AUTHQ_PASSWORD, "client" };
static const struct nuauth_user u1007 = { "u1007", 1007, NULL, 0, NUAUTH_AUTHQ_PASSWORD, "client" };
static const struct nuauth_user stranger = { "stranger", 4242, NULL, 0, NUAUTH_AUTHQ_PASSWORD,
					      "client" };

static const struct nu_acl_set *set;

/* Whether two results hold the same ACLs in the same order. */
static bool same_matches(const GArray *a, const GArray *b)
{
	unsigned i;

	if (a->len != b->len)
		return false;
	for (i = 0; i < a->len; i++) {
		const struct nuauth_acl_match *x = &g_array_index(a, struct nuauth_acl_match, i);
		const struct nuauth_acl_match *y = &g_array_index(b, struct nuauth_acl_match, i);

		if (strcmp(x->name, y->name) != 0 || x->decision != y->decision ||
		    x->flags != y->flags || x->log_prefix != y->log_prefix)
			return false;
	}
	return true;
}

/* The names of the matching ACLs, comma-separated. */
static char *match(const struct nuauth_packet *p, const struct nuauth_user *u)
{
	GArray *m = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	GArray *lin = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	GString *s = g_string_new(NULL);
	unsigned i;

	nu_acl_match(set, p, u, m);
	nu_acl_match_linear(set, p, u, lin);
	CHECK(same_matches(m, lin));
	for (i = 0; i < m->len; i++)
		g_string_append_printf(s, "%s%s", i ? "," : "",
				       g_array_index(m, struct nuauth_acl_match, i).name);
	g_array_free(m, TRUE);
	g_array_free(lin, TRUE);
	return g_string_free(s, FALSE);
}

static bool matches(const struct nuauth_packet p, const struct nuauth_user *u, const char *want)
{
	char *got = match(&p, u);
	bool ok = strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "  want `%s', got `%s'\n", want, got);
	g_free(got);
	return ok;
}

static const char acl_text[] =
	"# test ACLs\n"
	"[web]\n"					/* 2 */
	"gid=100\n"
	"DstPort=80,443, 8000-8080\n"
	"\n"
	"[ssh]\n"					/* 6 */
	"GID = 200\n"
	"dstport=22\n"
	"decision=3\n"
	"flags=0x10\n"
	"log_prefix=\"SSH \"\n"
	"[uidonly]\n"					/* 12 */
	"uid=1001\n"
	"proto=17\n"
	"DstIP=10.0.0.0/8\n"
	"DstPort=53\n"
	"[v6net]\n"					/* 17 */
	"uid=1001\n"
	"DstIP=2001:DB8::1/32\n"
	"[srcnet]\n"					/* 20 */
	"uid=1001\n"
	"SrcIP=192.168.1.0/24\n"
	"srcip=172.16.0.1\n"
	"SrcPort=1024-65535\n"
	"dstport=9000\n"
	"[icmp]\n"					/* 26 */
	"gid=100\n"
	"proto=1,58\n"
	"type=8,128\n"
	"[app]\n"					/* 30 */
	"uid=1002\n"
	"App=/usr/bin/*\n"
	"app=/opt/firefox/firefox\n"
	"dstport=8443\n"
	"[os]\n"					/* 35 */
	"uid=1002\n"
	"OS=Linux\n"
	"OS=windows;10\n"
	"dstport=8444\n"
	"[osfull]\n"					/* 40 */
	"uid=1002\n"
	"OS=linux;6.1;#1 SMP\n"
	"dstport=8445\n"
	"[dev]\n"					/* 44 */
	"uid=1002\n"
	"indev=eth0,eth1\n"
	"outdev=wan0\n"
	"dstport=8446\n"
	"[drop]\n"					/* 49 */
	"uid=1003, 1004\n"
	"gid=999\n"
	"decision=0\n"
	"period=workhours\n"
	"dstport=8447\n"
	"[unknownkey]\n"				/* 55 */
	"uid=1005\n"
	"log_prefix=blue\n"				/* 57 */
	"[anyv6]\n"
	"uid=1006\n"
	"DstIP=::/0\n"
	"[anyv4]\n"
	"uid=1006\n"
	"DstIP=0.0.0.0/0\n"
	"[mapped]\n"
	"uid=1007\n"
	"DstIP=::ffff:10.1.0.0/112\n"
	"[tcpudp]\n"
	"uid=1007\n"
	"proto=tcp,UDP\n"
	"DstIP=192.0.2.1\n"
	"dstport=7\n";

static void test_matching(void)
{
	struct nuauth_packet p;
	GArray *m;

	/* Ports, lists and ranges; gid matching. */
	CHECK(matches(tcp("93.184.216.34", 443), &alice, "web"));
	CHECK(matches(tcp("93.184.216.34", 80), &alice, "web"));
	CHECK(matches(tcp("93.184.216.34", 8000), &alice, "web"));
	CHECK(matches(tcp("93.184.216.34", 8080), &alice, "web"));
	CHECK(matches(tcp("93.184.216.34", 8081), &alice, ""));
	CHECK(matches(tcp("93.184.216.34", 79), &alice, ""));
	CHECK(matches(tcp("93.184.216.34", 22), &alice, ""));
	CHECK(matches(tcp("93.184.216.34", 22), &bob, "ssh"));
	CHECK(matches(tcp("93.184.216.34", 443), &bob, "web"));
	CHECK(matches(tcp("93.184.216.34", 443), &stranger, ""));

	/* What a match carries. */
	m = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	p = tcp("93.184.216.34", 22);
	nu_acl_match(set, &p, &bob, m);
	CHECK(m->len == 1);
	if (m->len == 1) {
		const struct nuauth_acl_match *a = &g_array_index(m, struct nuauth_acl_match, 0);

		CHECK(strcmp(a->name, "ssh") == 0 && a->decision == 3 && a->flags == 0x10 &&
		      strcmp(a->log_prefix, "SSH ") == 0);
	}
	g_array_set_size(m, 0);
	p = tcp("93.184.216.34", 80);
	nu_acl_match(set, &p, &bob, m);
	CHECK(m->len == 1);
	if (m->len == 1) {
		const struct nuauth_acl_match *a = &g_array_index(m, struct nuauth_acl_match, 0);

		CHECK(a->decision == 1 && a->flags == 0 && strcmp(a->log_prefix, "") == 0);
	}
	g_array_free(m, TRUE);

	/* uid matching, proto, IPv4 prefix. */
	CHECK(matches(pkt(IPPROTO_UDP, "10.1.1.1", 5353, "10.2.3.4", 53), &alice, "uidonly"));
	CHECK(matches(pkt(IPPROTO_UDP, "10.1.1.1", 5353, "11.0.0.1", 53), &alice, ""));
	CHECK(matches(pkt(IPPROTO_UDP, "10.1.1.1", 5353, "10.2.3.4", 54), &alice, ""));
	CHECK(matches(tcp("10.2.3.4", 53), &alice, ""));
	CHECK(matches(pkt(IPPROTO_UDP, "10.1.1.1", 5353, "10.2.3.4", 53), &bob, ""));

	/* IPv6 prefix; an IPv4 network does not match IPv6 and back. */
	CHECK(matches(pkt(IPPROTO_TCP, "2001:db8::2", 40000, "2001:db8:ffff::1", 80), &alice, "web,v6net"));
	CHECK(matches(pkt(IPPROTO_TCP, "2001:db8::2", 40000, "2001:db9::1", 80), &alice, "web"));
	CHECK(matches(pkt(IPPROTO_UDP, "::1", 5353, "::a02:304", 53), &alice, ""));

	/* Source networks and source port ranges. */
	CHECK(matches(pkt(IPPROTO_TCP, "192.168.1.77", 5000, "1.2.3.4", 9000), &alice, "srcnet"));
	CHECK(matches(pkt(IPPROTO_TCP, "192.168.1.0", 1024, "1.2.3.4", 9000), &alice, "srcnet"));
	CHECK(matches(pkt(IPPROTO_TCP, "192.168.1.255", 65535, "1.2.3.4", 9000), &alice, "srcnet"));
	CHECK(matches(pkt(IPPROTO_TCP, "192.168.2.1", 5000, "1.2.3.4", 9000), &alice, ""));
	CHECK(matches(pkt(IPPROTO_TCP, "172.16.0.1", 5000, "1.2.3.4", 9000), &alice, "srcnet"));
	CHECK(matches(pkt(IPPROTO_TCP, "172.16.0.2", 5000, "1.2.3.4", 9000), &alice, ""));
	CHECK(matches(pkt(IPPROTO_TCP, "192.168.1.77", 1023, "1.2.3.4", 9000), &alice, ""));

	/* ICMP and ICMPv6 types. */
	p = pkt(IPPROTO_ICMP, "10.1.1.1", 0, "8.8.8.8", 0);
	p.icmp_type = 8;
	CHECK(matches(p, &alice, "icmp"));
	p.icmp_type = 0;
	CHECK(matches(p, &alice, ""));
	p = pkt(IPPROTO_ICMPV6, "2001:db8::2", 0, "2001:4860::8888", 0);
	p.icmp_type = 128;
	CHECK(matches(p, &bob, "icmp"));
	CHECK(matches(p, &carol, ""));

	/* Applications. */
	p = tcp("1.2.3.4", 8443);
	CHECK(matches(p, &bob, ""));
	p.app = "/usr/bin/curl";
	CHECK(matches(p, &bob, "app"));
	p.app = "/usr/local/bin/curl";
	CHECK(matches(p, &bob, ""));
	p.app = "/opt/firefox/firefox";
	CHECK(matches(p, &bob, "app"));
	/* A program path that is not UTF-8 (a client sends any bytes):
	 * matched, never a crash; `*' covers the bad bytes. */
	p.app = "/usr/bin/c\xffrl";
	CHECK(matches(p, &bob, "app"));
	p.app = "/opt/firefox/firefox-bin";
	CHECK(matches(p, &bob, ""));

	/* Operating systems. */
	p = tcp("1.2.3.4", 8444);
	CHECK(matches(p, &bob, ""));
	p.os_sysname = "LINUX";
	CHECK(matches(p, &bob, "os"));
	p.os_sysname = "Windows";
	p.os_release = "10";
	CHECK(matches(p, &bob, "os"));
	p.os_release = "11";
	CHECK(matches(p, &bob, ""));
	p.os_sysname = "FreeBSD";
	CHECK(matches(p, &bob, ""));
	p = tcp("1.2.3.4", 8445);
	p.os_sysname = "Linux";
	p.os_release = "6.1";
	p.os_version = "#1 smp";
	CHECK(matches(p, &bob, "osfull"));
	p.os_version = "#2 SMP";
	CHECK(matches(p, &bob, ""));
	p.os_version = "#1 SMP";
	p.os_release = "6.2";
	CHECK(matches(p, &bob, ""));

	/* Interfaces. */
	p = tcp("1.2.3.4", 8446);
	p.indev = "eth1";
	p.outdev = "wan0";
	CHECK(matches(p, &bob, "dev"));
	p.indev = "eth0";
	CHECK(matches(p, &bob, "dev"));
	p.indev = "eth2";
	CHECK(matches(p, &bob, ""));
	p.indev = "eth0";
	p.outdev = "";
	CHECK(matches(p, &bob, ""));
	p.outdev = "wan";
	CHECK(matches(p, &bob, ""));

	/* uid lists, gid, decision 0. */
	CHECK(matches(tcp("1.2.3.4", 8447), &carol, "drop"));
	CHECK(matches(tcp("1.2.3.4", 8447), &gid999, "drop"));
	CHECK(matches(tcp("1.2.3.4", 8448), &gid999, ""));
	m = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	p = tcp("1.2.3.4", 8447);
	nu_acl_match(set, &p, &carol, m);
	CHECK(m->len == 1 && g_array_index(m, struct nuauth_acl_match, 0).decision == 0);
	g_array_free(m, TRUE);

	/* An ACL with only uid: any TCP (the default protocol), nothing else. */
	CHECK(matches(tcp("1.2.3.4", 1), &u1005, "unknownkey"));
	CHECK(matches(pkt(IPPROTO_TCP, "::1", 1, "::2", 2), &u1005, "unknownkey"));
	CHECK(matches(pkt(IPPROTO_UDP, "10.1.1.1", 1, "1.2.3.4", 1), &u1005, ""));

	/* ::/0 is any IPv6 address, 0.0.0.0/0 any IPv4 address. */
	CHECK(matches(tcp("10.0.0.1", 1), &u1006, "anyv4"));
	CHECK(matches(pkt(IPPROTO_TCP, "::1", 1, "2001::1", 2), &u1006, "anyv6"));

	/* An IPv4 network written v4-mapped. */
	CHECK(matches(tcp("10.1.2.3", 1), &u1007, "mapped"));
	CHECK(matches(tcp("10.2.0.1", 1), &u1007, ""));
	CHECK(matches(pkt(IPPROTO_TCP, "::1", 1, "2001::1", 2), &u1007, ""));

	/* Protocols by name. */
	CHECK(matches(tcp("192.0.2.1", 7), &u1007, "tcpudp"));
	CHECK(matches(pkt(IPPROTO_UDP, "10.1.1.1", 1, "192.0.2.1", 7), &u1007, "tcpudp"));

	/* NULL user or set: nothing. */
	m = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	p = tcp("1.2.3.4", 80);
	nu_acl_match(set, &p, NULL, m);
	nu_acl_match(NULL, &p, &alice, m);
	CHECK(m->len == 0);
	g_array_free(m, TRUE);
}

/* Loads text and expects the message "<path>:<suffix>". */
static bool load_fails(const char *text, const char *suffix)
{
	char *path = unit_write_file("bad.nufw", text);
	GError *error = NULL;
	struct nu_acl_set *s = nu_acl_load(path, &error);
	bool ok = !s && unit_error_is(error, path, suffix);

	nu_acl_set_free(s);
	g_clear_error(&error);
	g_remove(path);
	g_free(path);
	return ok;
}

/* The ACLs matches() uses while a test's own stand in: use_acls() loads
 * TEXT (as file NAME) in place of the suite's set, restore_acls() frees
 * them and puts the suite's back.  NULL (a failed CHECK) when TEXT does not
 * load: the tests then skip their matches. */
static const struct nu_acl_set *suite_set;

static struct nu_acl_set *use_acls(const char *name, const char *text)
{
	char *path = unit_write_file(name, text);
	GError *error = NULL;
	struct nu_acl_set *q = nu_acl_load(path, &error);

	CHECK(q != NULL);
	if (!q)
		printf("    %s\n", error->message);
	g_clear_error(&error);
	g_free(path);
	suite_set = set;
	set = q;
	return q;
}

static void restore_acls(struct nu_acl_set *q)
{
	nu_acl_set_free(q);
	set = suite_set;
}

/* gid= takes the names of the system's groups too ("root" is 0). */
static void test_group_names(void)
{
	static const uint32_t g0[] = { 0 };
	const struct nuauth_user wheel = { "w", 4243, g0, 1, NUAUTH_AUTHQ_PASSWORD, "client" };
	struct nu_acl_set *names = use_acls("names.nufw", "[by name]\ngid=root, 100\nproto=6\n");

	if (set) {
		CHECK(matches(tcp("192.0.2.1", 80), &wheel, "by name"));
		CHECK(matches(tcp("192.0.2.1", 80), &alice, "by name"));
		CHECK(matches(tcp("192.0.2.1", 80), &carol, ""));
	}
	restore_acls(names);
}

/* origin=: where the user's name comes from (module.h's origin). */
static void test_origin(void)
{
	struct nu_acl_set *q = use_acls("origin.nufw",
					    "[devices]\ngid=100\norigin=radius, portal\n"
					    "[clients]\ngid=100\norigin=client\nDstPort=22\n");
	struct nuauth_user u = alice;

	if (set) {
		CHECK(matches(tcp("192.0.2.1", 80), &u, ""));
		CHECK(matches(tcp("192.0.2.1", 22), &u, "clients"));
		u.origin = "radius";
		CHECK(matches(tcp("192.0.2.1", 80), &u, "devices"));
		CHECK(matches(tcp("192.0.2.1", 22), &u, "devices"));
		u.origin = "portal";
		CHECK(matches(tcp("192.0.2.1", 80), &u, "devices"));
		u.origin = "admin";
		CHECK(matches(tcp("192.0.2.1", 80), &u, ""));
		u.origin = "ipauth";
		CHECK(matches(tcp("192.0.2.1", 22), &u, ""));
	}
	restore_acls(q);
	CHECK(load_fails("[a]\ngid=1\norigin=radius,wifi\n",
			 "3: origin: expected a comma list of client, ipauth, radius, portal, "
			 "admin, got `radius,wifi'"));
	CHECK(load_fails("[a]\ngid=1\norigin=,\n", "3: origin: expected a comma list of "
			 "client, ipauth, radius, portal, admin, got `,'"));
	CHECK(load_fails("[a]\ngid=1\norigin=client\norigin=radius\n",
			 "4: origin: already set at line 3, got `radius'"));
}

/* authquality=: the least strength of the login, on module.h's scale. */
static void test_authquality(void)
{
	struct nu_acl_set *q = use_acls("quality.nufw",
					    "[strong]\ngid=100\nauthquality=3\n[any]\ngid=100\nDstPort=22\n");
	struct nuauth_user u = alice;

	if (set) {
		u.auth_quality = NUAUTH_AUTHQ_PASSWORD;
		CHECK(matches(tcp("192.0.2.1", 80), &u, ""));
		CHECK(matches(tcp("192.0.2.1", 22), &u, "any"));
		u.auth_quality = NUAUTH_AUTHQ_PROOF;
		CHECK(matches(tcp("192.0.2.1", 80), &u, "strong"));
		u.auth_quality = NUAUTH_AUTHQ_CERTIFICATE;
		CHECK(matches(tcp("192.0.2.1", 22), &u, "strong,any"));
		u.auth_quality = NUAUTH_AUTHQ_IP;
		CHECK(matches(tcp("192.0.2.1", 80), &u, ""));
	}
	restore_acls(q);
	CHECK(load_fails("[a]\ngid=1\nauthquality=5\n",
			 "3: authquality: expected 0 (any), 1 (IP authentication), 2 (password), "
			 "3 (password proof, SCRAM) or 4 (certificate), got `5'"));
	CHECK(load_fails("[a]\ngid=1\nauthquality=2\nauthquality=3\n",
			 "4: authquality: already set at line 3, got `3'"));
}

/* gateway=: the ACL holds for packets these gateways ask about. */
static void test_gateways(void)
{
	struct nu_acl_set *g = use_acls("gateways.nufw",
					    "[branch]\ngid=100\ngateway=gw2.example.org, gw1.example.org\n"
					    "[hq]\ngid=100\ngateway=hq.example.org\n");
	struct nuauth_packet p = tcp("192.0.2.1", 80);

	if (set) {
		CHECK(matches(p, &alice, "branch"));
		p.gateway = "hq.example.org";
		CHECK(matches(p, &alice, "hq"));
		p.gateway = "gw1";
		CHECK(matches(p, &alice, ""));
	}
	restore_acls(g);
	CHECK(load_fails("[a]\ngid=1\ngateway=gw1,\n",
			 "3: gateway: expected a comma list of gateway certificate names, got `gw1,'"));
}

/* physindev=, physoutdev=: the bridge ports of a bridged packet; a packet
 * that was not bridged (no port, "") never matches an ACL naming one. */
static void test_physdev(void)
{
	struct nu_acl_set *b = use_acls("physdev.nufw",
					    "[from lan ports]\ngid=100\nphysindev=veth-c, eth2\n"
					    "[to the dmz port]\ngid=100\nphysoutdev=veth-s\nDstPort=22\n"
					    "[both]\nuid=1001\nindev=br0\nphysindev=veth-c\n"
					    "physoutdev=veth-s\nDstPort=443\n");
	struct nuauth_packet p = tcp("192.0.2.1", 80);

	if (set) {
		CHECK(matches(p, &alice, ""));			/* routed: no ports */
		p.physindev = "veth-c";
		CHECK(matches(p, &alice, "from lan ports"));
		p.physindev = "eth2";
		CHECK(matches(p, &alice, "from lan ports"));
		p.physindev = "veth-s";				/* the other port */
		CHECK(matches(p, &alice, ""));
		p.physindev = "veth";				/* exact names, no prefix */
		CHECK(matches(p, &alice, ""));
		p.indev = "veth-c";				/* indev is not physindev */
		p.physindev = "";
		CHECK(matches(p, &alice, ""));

		p = tcp("192.0.2.1", 22);
		p.physoutdev = "veth-s";
		CHECK(matches(p, &alice, "to the dmz port"));
		p.physoutdev = "veth-c";
		CHECK(matches(p, &alice, ""));
		p.physindev = "veth-s";		/* physindev is not physoutdev */
		p.physoutdev = "";
		CHECK(matches(p, &alice, ""));

		p = tcp("192.0.2.1", 443);
		p.indev = "br0";
		p.physindev = "veth-c";
		p.physoutdev = "veth-s";
		CHECK(matches(p, &alice, "from lan ports,both"));
		CHECK(matches(p, &bob, "from lan ports"));
		p.indev = "br1";
		CHECK(matches(p, &alice, "from lan ports"));
		p.indev = "br0";
		p.physoutdev = NULL;		/* a module may be handed NULL */
		CHECK(matches(p, &alice, "from lan ports"));
	}
	restore_acls(b);
	CHECK(load_fails("[a]\nuid=1\nphysindev=veth-c,,veth-s\n",
			 "3: physindev: expected a comma list of interface names, got `veth-c,,veth-s'"));
	CHECK(load_fails("[a]\nuid=1\nphysoutdev=\n",
			 "3: physoutdev: expected a comma list of interface names, got `'"));
	CHECK(load_fails("[a]\nuid=1\nPhysInDev=a-name-of-16-chars\n",
			 "3: PhysInDev: expected a comma list of interface names, got `a-name-of-16-chars'"));
}

/* AppSHA256=: the announced hash of the program's file among the ACL's;
 * and what the ACLs need the client to announce. */
static void test_app_sha256(void)
{
	static const char h1[] = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
	static const char h2[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
	uint8_t d1[32], d2[32], d3[32];
	char *text = g_strdup_printf("[by hash]\ngid=100\nDstPort=80\nAppSHA256=%s , %s\n"
				     "[path and hash]\ngid=100\nDstPort=443\nApp=/usr/bin/*\n"
				     "appsha256=%s\n", h1, h2, h2);
	struct nu_acl_set *h = use_acls("sha.nufw", text);
	struct nuauth_packet p = tcp("192.0.2.1", 80);

	for (unsigned i = 0; i < 32; i++) {
		d1[i] = (uint8_t)(i % 16 * 0x11);
		d2[i] = (uint8_t)(0xff - i % 16 * 0x11);
	}
	memcpy(d3, d1, sizeof(d3));
	d3[31] ^= 1;
	if (set) {
		CHECK(nu_acl_needs(set) == (NUAUTH_NEEDS_APP | NUAUTH_NEEDS_APP_SHA256));
		CHECK(matches(p, &alice, ""));		/* no hash announced */
		p.app_sha256 = d1;
		CHECK(matches(p, &alice, "by hash"));	/* upper or lower case */
		p.app_sha256 = d2;
		CHECK(matches(p, &alice, "by hash"));
		p.app_sha256 = d3;
		CHECK(matches(p, &alice, ""));		/* one bit off */
		p = tcp("192.0.2.1", 443);
		p.app_sha256 = d2;
		CHECK(matches(p, &alice, ""));		/* the path is needed too */
		p.app = "/usr/bin/curl";
		CHECK(matches(p, &alice, "path and hash"));
		p.app_sha256 = d1;
		CHECK(matches(p, &alice, ""));
	}
	restore_acls(h);
	g_free(text);

	/* What the ACLs need: nothing, the path, the path and the hash. */
	h = use_acls("needs.nufw", "[plain]\ngid=100\n");
	CHECK(h && nu_acl_needs(h) == 0);
	restore_acls(h);
	h = use_acls("needs.nufw", "[plain]\ngid=100\n[app]\nuid=1\nApp=/bin/*\n");
	CHECK(h && nu_acl_needs(h) == NUAUTH_NEEDS_APP);
	restore_acls(h);
	CHECK(nu_acl_needs(NULL) == 0);

	CHECK(load_fails("[a]\ngid=1\nAppSHA256=00ff\n",
			 "3: AppSHA256: expected a comma list of SHA-256 digests "
			 "(64 hexadecimal digits each), got `00ff'"));
	{
		char *bad[] = { g_strdup_printf("%s,", h1), g_strdup_printf("%.63sg", h1),
				g_strdup_printf("%s0", h1), g_strdup_printf("%s %s", h1, h2) };

		for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
			char *value = bad[i];
			char *want = g_strdup_printf("3: AppSHA256: expected a comma list of SHA-256 "
						     "digests (64 hexadecimal digits each), got `%s'",
						     value);

			text = g_strdup_printf("[a]\ngid=1\nAppSHA256=%s\n", value);
			CHECK(load_fails(text, want));
			g_free(text);
			g_free(want);
			g_free(value);
		}
	}
}

static void test_errors(void)
{
	GError *error = NULL;
	char *path, *want;

	path = g_build_filename(unit_tmpdir(), "missing.nufw", NULL);
	CHECK(nu_acl_load(path, &error) == NULL);
	want = g_strdup_printf("%s: No such file or directory", path);
	CHECK(error && strcmp(error->message, want) == 0);
	g_clear_error(&error);
	g_free(want);
	g_free(path);

	CHECK(load_fails("uid=1\n", "1: `uid=1' outside of any [ACL] section"));
	CHECK(load_fails("[a\n", "1: expected `[name]', got `[a'"));
	CHECK(load_fails("[a] x\n", "1: expected `[name]', got `[a] x'"));
	CHECK(load_fails("[ ]\n", "1: empty ACL name `[]'"));
	CHECK(load_fails("[a]\nuid=1\njunk line\n",
			 "3: expected `key=value' or `[name]', got `junk line'"));
	CHECK(load_fails("[a]\nproto=6\n[b]\nuid=1\n", "1: ACL `a' has neither uid= nor gid="));
	CHECK(load_fails("[a]\nuid=1\n\n[b]\nproto=6\n", "4: ACL `b' has neither uid= nor gid="));
	CHECK(load_fails("[a]\nuid=1\n[a]\nuid=2\n", "3: duplicate ACL `[a]' (first at line 1)"));

	CHECK(load_fails("[a]\nuid=abc\n",
			 "2: uid: expected a comma list of unsigned 32-bit numbers, got `abc'"));
	CHECK(load_fails("[a]\nuid=1,,2\n",
			 "2: uid: expected a comma list of unsigned 32-bit numbers, got `1,,2'"));
	CHECK(load_fails("[a]\nUID=-1\n",
			 "2: UID: expected a comma list of unsigned 32-bit numbers, got `-1'"));
	CHECK(load_fails("[a]\ngid=4294967296\n",
			 "2: gid: expected a comma list of group numbers or names, got `4294967296'"));
	CHECK(load_fails("[a]\ngid=\n",
			 "2: gid: expected a comma list of group numbers or names, got `'"));
	CHECK(load_fails("[a]\ngid=100, no-such-group-here\n",
			 "2: gid: no group `no-such-group-here' in the system's group database"));
	CHECK(load_fails("[a]\nuid=1\nproto=7\n",
			 "3: proto: expected protocols among 6 (tcp), 17 (udp), 1 (icmp), 58 (icmpv6), got `7'"));
	CHECK(load_fails("[a]\nuid=1\ntype=256\n",
			 "3: type: expected a comma list of ICMP types (0 to 255), got `256'"));
	CHECK(load_fails("[a]\nuid=1\nDstIP=10.0.0.0/33\n",
			 "3: DstIP: expected a comma list of addresses with optional /prefix, got `10.0.0.0/33'"));
	CHECK(load_fails("[a]\nuid=1\nSrcIP=300.1.1.1\n",
			 "3: SrcIP: expected a comma list of addresses with optional /prefix, got `300.1.1.1'"));
	CHECK(load_fails("[a]\nuid=1\nSrcIP=2001:db8::/129\n",
			 "3: SrcIP: expected a comma list of addresses with optional /prefix, got `2001:db8::/129'"));
	CHECK(load_fails("[a]\nuid=1\nSrcIP=10.0.0.0/\n",
			 "3: SrcIP: expected a comma list of addresses with optional /prefix, got `10.0.0.0/'"));
	CHECK(load_fails("[a]\nuid=1\nDstPort=80-70\n",
			 "3: DstPort: expected a comma list of ports (n or a-b, 0 to 65535), got `80-70'"));
	CHECK(load_fails("[a]\nuid=1\nDstPort=65536\n",
			 "3: DstPort: expected a comma list of ports (n or a-b, 0 to 65535), got `65536'"));
	CHECK(load_fails("[a]\nuid=1\nSrcPort=1-\n",
			 "3: SrcPort: expected a comma list of ports (n or a-b, 0 to 65535), got `1-'"));
	CHECK(load_fails("[a]\nuid=1\ndecision=2\n",
			 "3: decision: expected 0 (drop), 1 (accept) or 3 (reject), got `2'"));
	CHECK(load_fails("[a]\nuid=1\ndecision=accept\n",
			 "3: decision: expected 0 (drop), 1 (accept) or 3 (reject), got `accept'"));
	CHECK(load_fails("[a]\nuid=1\ndecision=1\ndecision=0\n",
			 "4: decision: already set at line 3, got `0'"));
	CHECK(load_fails("[a]\nuid=1\nflags=0x100000000\n",
			 "3: flags: expected an unsigned 32-bit number, got `0x100000000'"));
	CHECK(load_fails("[a]\nuid=1\nOS=;5.10\n",
			 "3: OS: expected sysname[;release[;version]], got `;5.10'"));
	CHECK(load_fails("[a]\nuid=1\nindev=eth0,,eth1\n",
			 "3: indev: expected a comma list of interface names, got `eth0,,eth1'"));
	CHECK(load_fails("[a]\nuid=1\nApp=/usr/bin/\xff*\n",
			 "3: App: expected a glob on the program's path, got `/usr/bin/\xff*'"));
	CHECK(load_fails("[a]\nuid=1\nApp=\n",
			 "3: App: expected a glob on the program's path, got `'"));
	CHECK(load_fails("[a]\nuid=1\nDstPrt=22\n", "3: unknown ACL key `DstPrt'"));
}

/* ---- the index against the linear scan ---- */

static const char *pick(GRand *r, const char *const *pool, unsigned n)
{
	return pool[g_rand_int_range(r, 0, (gint32)n)];
}

#define PICK(r, pool) pick(r, pool, G_N_ELEMENTS(pool))

static const char *const rnd_nets[] = {
	"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3", "192.168.0.0/16",
	"0.0.0.0/0", "2001:db8::/32", "2001:db8:1::/48", "::/0", "::ffff:10.1.0.0/112",
	"2001:db8::1",
};
static const char *const rnd_addrs[] = {
	"10.1.2.3", "10.1.9.9", "10.200.0.1", "192.168.4.4", "8.8.8.8",
	"2001:db8::1", "2001:db8:1::5", "2001:db9::1", "::1",
};
static const char *const rnd_protos[] = { "6", "17", "1", "58", "tcp", "udp,icmp", "6,17" };
static const char *const rnd_devs[] = { "eth0", "eth1", "wan0" };
static const char *const rnd_apps[] = { "/usr/bin/*", "/opt/x", "*" };
static const char *const rnd_oses[] = { "Linux", "linux;6.1", "Windows;10" };
static const uint16_t rnd_ports[] = { 0, 1, 22, 53, 80, 443, 8080, 65535 };
/* Range widths around PORT_EXPAND_MAX (32) and beyond. */
static const unsigned rnd_widths[] = { 0, 1, 5, 30, 31, 32, 33, 100, 65535 };

static uint32_t rnd_port(GRand *r)
{
	if (g_rand_boolean(r))
		return rnd_ports[g_rand_int_range(r, 0, G_N_ELEMENTS(rnd_ports))];
	return g_rand_int_range(r, 0, 65536);
}

static void rnd_port_list(GRand *r, GString *s, const char *key)
{
	int i, n = g_rand_int_range(r, 1, 4);

	g_string_append_printf(s, "%s=", key);
	for (i = 0; i < n; i++) {
		uint32_t lo = rnd_port(r);
		uint32_t width = rnd_widths[g_rand_int_range(r, 0, G_N_ELEMENTS(rnd_widths))];
		uint32_t hi = MIN(65535u, lo + width);

		if (lo == hi)
			g_string_append_printf(s, "%s%u", i ? "," : "", lo);
		else
			g_string_append_printf(s, "%s%u-%u", i ? "," : "", lo, hi);
	}
	g_string_append_c(s, '\n');
}

/* Small pools of uids (1000-1007) and gids (100-107) so that users and
 * ACLs meet often. */
static char *rnd_acl_file(GRand *r, unsigned nacls)
{
	GString *s = g_string_new(NULL);
	unsigned i;

	for (i = 0; i < nacls; i++) {
		bool uid = g_rand_int_range(r, 0, 3) == 0, gid = !uid || g_rand_boolean(r);

		g_string_append_printf(s, "[a%u]\n", i);
		if (uid)
			g_string_append_printf(s, "uid=%d\n", g_rand_int_range(r, 1000, 1008));
		if (gid && g_rand_int_range(r, 0, 4) == 0)
			g_string_append_printf(s, "gid=%d,%d\n", g_rand_int_range(r, 100, 108),
					       g_rand_int_range(r, 100, 108));
		else if (gid)
			g_string_append_printf(s, "gid=%d\n", g_rand_int_range(r, 100, 108));
		if (g_rand_int_range(r, 0, 4) != 0)
			g_string_append_printf(s, "proto=%s\n", PICK(r, rnd_protos));
		if (g_rand_int_range(r, 0, 5) != 0)
			rnd_port_list(r, s, "DstPort");
		if (g_rand_int_range(r, 0, 6) == 0)
			rnd_port_list(r, s, "SrcPort");
		if (g_rand_int_range(r, 0, 3) == 0)
			g_string_append_printf(s, "DstIP=%s\n", PICK(r, rnd_nets));
		if (g_rand_int_range(r, 0, 5) == 0)
			g_string_append_printf(s, "SrcIP=%s\n", PICK(r, rnd_nets));
		if (g_rand_int_range(r, 0, 5) == 0)
			g_string_append_printf(s, "type=%d\n", g_rand_boolean(r) ? 8 : 128);
		if (g_rand_int_range(r, 0, 10) == 0)
			g_string_append_printf(s, "indev=%s\n", PICK(r, rnd_devs));
		if (g_rand_int_range(r, 0, 10) == 0)
			g_string_append_printf(s, "App=%s\n", PICK(r, rnd_apps));
		if (g_rand_int_range(r, 0, 10) == 0)
			g_string_append_printf(s, "OS=%s\n", PICK(r, rnd_oses));
		if (g_rand_int_range(r, 0, 4) == 0)
			g_string_append_printf(s, "decision=%d\n", g_rand_boolean(r) ? 0 : 3);
	}
	return g_string_free(s, FALSE);
}

static void rnd_packet(GRand *r, struct nuauth_packet *p)
{
	static const uint8_t protos[] = { 6, 6, 6, 17, 17, 1, 58, 47 };
	const char *src = PICK(r, rnd_addrs), *dst = PICK(r, rnd_addrs);

	*p = pkt(protos[g_rand_int_range(r, 0, G_N_ELEMENTS(protos))], src,
		 (uint16_t)rnd_port(r), dst, (uint16_t)rnd_port(r));
	p->icmp_type = g_rand_boolean(r) ? 8 : 128;
	if (g_rand_boolean(r))
		p->indev = PICK(r, rnd_devs);
	if (g_rand_boolean(r))
		p->app = "/usr/bin/curl";
	if (g_rand_boolean(r))
		p->os_sysname = "Linux";
}

/* Random ACL sets, packets and users (fixed seed): nu_acl_match gives
 * exactly what the linear scan gives, in the same order. */
static void test_index_equivalence(void)
{
	GRand *r = g_rand_new_with_seed(20261124);
	GArray *idx = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	GArray *lin = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	unsigned round, q, total = 0, multi = 0, bad = 0, lookups = 0;

	for (round = 0; round < 300; round++) {
		char *text = rnd_acl_file(r, (unsigned)g_rand_int_range(r, 1, 80));
		char *path = unit_write_file("random.nufw", text);
		GError *error = NULL;
		struct nu_acl_set *s = nu_acl_load(path, &error);

		CHECK(s != NULL);
		if (!s) {
			fprintf(stderr, "%s\n%s", error->message, text);
			g_clear_error(&error);
		}
		for (q = 0; s && q < 200; q++) {
			uint32_t groups[6];
			struct nuauth_user u = { "u", 0, groups, 0, NUAUTH_AUTHQ_PASSWORD, "client" };
			struct nuauth_packet p;
			size_t i;

			rnd_packet(r, &p);
			u.uid = (uint32_t)g_rand_int_range(r, 999, 1009);
			u.ngroups = (size_t)g_rand_int_range(r, 0, 7);
			for (i = 0; i < u.ngroups; i++)
				groups[i] = (uint32_t)g_rand_int_range(r, 99, 109);
			g_array_set_size(idx, 0);
			g_array_set_size(lin, 0);
			nu_acl_match(s, &p, &u, idx);
			nu_acl_match_linear(s, &p, &u, lin);
			lookups++;
			total += lin->len;
			multi += lin->len > 1;
			if (!same_matches(idx, lin) && bad++ < 5)
				fprintf(stderr, "round %u query %u: index %u matches, linear %u\n",
					round, q, idx->len, lin->len);
		}
		nu_acl_set_free(s);
		g_remove(path);
		g_free(path);
		g_free(text);
	}
	printf("acl: index against linear scan: %u lookups, %u matches, %u differ\n",
	       lookups, total, bad);
	CHECK(bad == 0);
	/* The sets and queries are not all trivial. */
	CHECK(total > lookups / 4 && multi > lookups / 50);
	g_array_free(idx, TRUE);
	g_array_free(lin, TRUE);
	g_rand_free(r);
}

int main(void)
{
	GError *error = NULL;
	char *path;
	struct nu_acl_set *s;

	nu_log_init("test_acl", false, LOG_WARNING);

	path = unit_write_file("acls.nufw", acl_text);
	s = nu_acl_load(path, &error);
	CHECK(s != NULL);
	if (!s)
		fprintf(stderr, "%s\n", error->message);
	g_clear_error(&error);
	if (s) {
		CHECK(nu_acl_count(s) == 16);
		set = s;
		test_matching();
	}
	nu_acl_set_free(s);
	nu_acl_set_free(NULL);
	g_remove(path);
	g_free(path);

	test_errors();
	test_group_names();
	test_authquality();
	test_origin();
	test_gateways();
	test_physdev();
	test_app_sha256();
	test_index_equivalence();

	unit_files_cleanup();
	return unit_done("acl");
}
