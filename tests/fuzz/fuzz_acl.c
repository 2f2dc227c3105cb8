/* libFuzzer harness for the plaintext module's ACL file
 * (modules/acl/, through modules/plaintext/aclfile.c).
 *
 * The input is written to a file and loaded; a set that loads is matched
 * against a fixed handful of packets and users (IPv4 and IPv6; TCP, UDP,
 * ICMP and ICMPv6; with and without program, OS and interfaces; a program
 * path that is not UTF-8), and every match is read. */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "aclfile.h"
#include "fuzz.h"

static void make_flow(struct nu_flow *f, uint8_t proto, const char *src,
		      uint16_t sport, const char *dst, uint16_t dport)
{
	uint8_t fam;

	memset(f, 0, sizeof(*f));
	FUZZ_CHECK(nu_addr_parse(src, &f->saddr, &fam));
	FUZZ_CHECK(nu_addr_parse(dst, &f->daddr, &fam));
	f->family = fam;
	f->proto = proto;
	f->sport = sport;
	f->dport = dport;
}

static struct nuauth_packet packets[7];
static const uint32_t groups_some[] = { 100, 200 };
static const uint32_t groups_many[] = { 0, 1, 100, 500, 65535, 4294967295u };
static const struct nuauth_user users[] = {
	{ .name = "alice", .uid = 1001, .groups = groups_some, .ngroups = 2 },
	{ .name = "root", .uid = 0, .groups = NULL, .ngroups = 0 },
	{ .name = "many", .uid = 4294967295u, .groups = groups_many, .ngroups = 6 },
};

static const uint8_t sha_zero[32];
static const uint8_t sha_ones[32] = { [0] = 0xff, [15] = 0x0f, [31] = 0xf0 };

static void init_packets(void)
{
	static bool done;
	unsigned i;

	if (done)
		return;
	done = true;
	for (i = 0; i < G_N_ELEMENTS(packets); i++) {
		packets[i].indev = packets[i].outdev = packets[i].app = "";
		packets[i].physindev = packets[i].physoutdev = "";
		packets[i].os_sysname = packets[i].os_release = packets[i].os_version = "";
	}
	make_flow(&packets[0].flow, IPPROTO_TCP, "10.201.0.2", 40000, "10.202.0.2", 80);
	packets[0].indev = "eth0";
	packets[0].outdev = "eth1";
	packets[0].app = "/usr/bin/curl";
	packets[0].os_sysname = "Linux";
	packets[0].os_release = "6.1.0";
	packets[0].os_version = "#1 SMP";
	make_flow(&packets[1].flow, IPPROTO_UDP, "2001:db8::1", 5353, "2001:db8:1::53", 53);
	make_flow(&packets[2].flow, IPPROTO_ICMP, "192.168.1.1", 0, "8.8.8.8", 0);
	packets[2].icmp_type = 8;
	make_flow(&packets[3].flow, IPPROTO_ICMPV6, "fe80::1", 0, "ff02::1", 0);
	packets[3].icmp_type = 128;
	make_flow(&packets[4].flow, IPPROTO_TCP, "0.0.0.0", 0, "255.255.255.255", 65535);
	packets[4].app = "/opt/app with space/bin";
	make_flow(&packets[5].flow, IPPROTO_TCP, "::", 1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 22);
	packets[5].indev = "wlan0";
	packets[5].physindev = "veth-c";
	packets[5].os_sysname = "linux";
	/* the client sends any bytes but NUL: not always UTF-8 */
	make_flow(&packets[6].flow, IPPROTO_TCP, "10.201.0.2", 40001, "10.202.0.2", 22);
	packets[6].app = "/home/u/\xd5";
	packets[6].os_sysname = "\xff\xfe";
	/* an announced SHA-256 (AppSHA256=): all zero bits, and some set */
	packets[0].app_sha256 = sha_zero;
	packets[1].app_sha256 = sha_ones;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_write("acls.nufw", data, size);
	GError *error = NULL;
	struct nu_acl_set *set;

	init_packets();
	set = nu_acl_load(path, &error);
	if (set) {
		GArray *matches = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
		unsigned count = nu_acl_count(set), p, u, i;

		FUZZ_CHECK(error == NULL);
		for (p = 0; p < G_N_ELEMENTS(packets); p++) {
			for (u = 0; u < G_N_ELEMENTS(users); u++) {
				g_array_set_size(matches, 0);
				nu_acl_match(set, &packets[p], &users[u], matches);
				FUZZ_CHECK(matches->len <= count);
				for (i = 0; i < matches->len; i++) {
					const struct nuauth_acl_match *m =
						&g_array_index(matches, struct nuauth_acl_match, i);

					FUZZ_CHECK(m->name && *m->name && m->log_prefix);
					(void)strlen(m->log_prefix);
					FUZZ_CHECK(m->decision == NUAUTH_VERDICT_DROP ||
						   m->decision == NUAUTH_VERDICT_ACCEPT ||
						   m->decision == NUAUTH_VERDICT_REJECT);
				}
			}
		}
		g_array_free(matches, TRUE);
		nu_acl_set_free(set);
	} else {
		FUZZ_CHECK(error != NULL && error->domain == NU_CONF_ERROR);
		g_clear_error(&error);
	}
	fuzz_unlink(path);
	g_free(path);
	return 0;
}
