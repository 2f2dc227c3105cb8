/* acl_bench [SECONDS]: decisions per second of the plaintext module's ACL
 * matching (modules/acl/acl_match.c), indexed against the linear scan.
 *
 * Writes an acls.nufw of 10,000 ACLs over 1,000 groups (one or two gids
 * each, one protocol, a port or a small range, some with a DstIP=
 * network), makes 2,000 users of 1 to 5 groups and 4,096 queries (a user
 * and a packet; half aimed at an ACL of one of the user's groups), checks
 * that both paths give the same matches, then calls each path on the same
 * queries for SECONDS (default 3) in one thread. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "aclfile.h"
#include "log.h"

#define NACLS 10000
#define NGROUPS 1000
#define GID_BASE 10000
#define NUSERS 2000
#define UID_BASE 20000
#define NQUERIES 4096
#define NSERVICES 200

/* What the generator wrote for one ACL: enough to aim a packet at it. */
struct gen_acl {
	uint8_t proto;
	uint16_t lo, hi;	/* DstPort= (unused for ICMP) */
	uint32_t net;		/* DstIP= network, host order; 0: none */
	unsigned plen;
};

struct query {
	struct nuauth_user user;
	struct nuauth_packet packet;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void addr4(struct in6_addr *a, uint32_t host)
{
	memset(a, 0, sizeof(*a));
	a->s6_addr[10] = a->s6_addr[11] = 0xff;
	a->s6_addr[12] = (uint8_t)(host >> 24);
	a->s6_addr[13] = (uint8_t)(host >> 16);
	a->s6_addr[14] = (uint8_t)(host >> 8);
	a->s6_addr[15] = (uint8_t)host;
}

/* Writes the ACL file; acls[i] and by_group[gid - GID_BASE] (ACL numbers)
 * describe it. */
static char *write_acls(GRand *r, const char *dir, struct gen_acl *acls, GArray **by_group)
{
	static const uint16_t wellknown[] = {
		22, 25, 53, 80, 110, 123, 143, 389, 443, 445, 465, 587, 636, 993, 995,
		1194, 1433, 1521, 3128, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9090,
	};
	uint16_t services[NSERVICES];
	GString *s = g_string_new("# acl_bench: generated\n");
	char *path = g_build_filename(dir, "acls.nufw", NULL);
	unsigned i, g;

	for (i = 0; i < NSERVICES; i++)
		services[i] = i < G_N_ELEMENTS(wellknown) ? wellknown[i]
			: (uint16_t)g_rand_int_range(r, 1024, 20000);
	for (i = 0; i < NACLS; i++) {
		struct gen_acl *a = &acls[i];
		unsigned pick = (unsigned)g_rand_int_range(r, 0, 100);
		unsigned ngids = g_rand_int_range(r, 0, 10) < 7 ? 1 : 2, k;

		g_string_append_printf(s, "[acl%u]\ngid=", i);
		for (k = 0; k < ngids; k++) {
			g = (unsigned)g_rand_int_range(r, 0, NGROUPS);
			g_string_append_printf(s, "%s%u", k ? "," : "", GID_BASE + g);
			g_array_append_val(by_group[g], i);
		}
		a->proto = pick < 70 ? IPPROTO_TCP : pick < 95 ? IPPROTO_UDP : IPPROTO_ICMP;
		g_string_append_printf(s, "\nproto=%u\n", a->proto);
		if (a->proto != IPPROTO_ICMP) {
			a->lo = a->hi = services[g_rand_int_range(r, 0, NSERVICES)];
			if (g_rand_int_range(r, 0, 5) == 0)
				a->hi = (uint16_t)(a->lo + g_rand_int_range(r, 1, 20));
			if (a->lo == a->hi)
				g_string_append_printf(s, "DstPort=%u\n", a->lo);
			else
				g_string_append_printf(s, "DstPort=%u-%u\n", a->lo, a->hi);
		}
		if (g_rand_int_range(r, 0, 10) < 3) {
			a->plen = g_rand_boolean(r) ? 16 : 24;
			a->net = 10u << 24 | (uint32_t)g_rand_int_range(r, 0, 65536) << 8;
			if (a->plen == 16)
				a->net &= 0xffff0000u;
			g_string_append_printf(s, "DstIP=%u.%u.%u.%u/%u\n", a->net >> 24,
					       (a->net >> 16) & 0xff, (a->net >> 8) & 0xff,
					       a->net & 0xff, a->plen);
		}
		if (g_rand_int_range(r, 0, 10) == 0)
			g_string_append(s, "decision=0\n");
	}
	if (!g_file_set_contents(path, s->str, (gssize)s->len, NULL)) {
		fprintf(stderr, "acl_bench: cannot write %s\n", path);
		exit(1);
	}
	g_string_free(s, TRUE);
	return path;
}

static void make_queries(GRand *r, const struct gen_acl *acls, GArray **by_group,
			 uint32_t (*groups)[5], struct query *q)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	unsigned i, k;

	for (i = 0; i < NQUERIES; i++) {
		unsigned u = (unsigned)g_rand_int_range(r, 0, NUSERS);
		struct nuauth_packet *p = &q[i].packet;
		const GArray *mine;

		q[i].user.name = "user";
		q[i].user.uid = UID_BASE + u;
		q[i].user.groups = groups[u];
		q[i].user.ngroups = (size_t)(u % 5) + 1;
		memset(p, 0, sizeof(*p));
		p->indev = p->outdev = p->app = "";
		p->physindev = p->physoutdev = "";
		p->os_sysname = p->os_release = p->os_version = "";
		p->flow.family = AF_INET;
		p->flow.sport = (uint16_t)g_rand_int_range(r, 32768, 61000);
		addr4(&p->flow.saddr, 0xc0a80000u | (uint32_t)g_rand_int_range(r, 1, 65535));
		k = (unsigned)g_rand_int_range(r, 0, (gint32)q[i].user.ngroups);
		mine = by_group[groups[u][k] - GID_BASE];
		if (g_rand_boolean(r) && mine->len) {
			/* Aimed at one of the user's ACLs. */
			const struct gen_acl *a =
				&acls[g_array_index(mine, unsigned, g_rand_int_range(r, 0, (gint32)mine->len))];
			uint32_t host = (uint32_t)g_rand_int_range(r, 1, 255);

			p->flow.proto = a->proto;
			if (a->proto != IPPROTO_ICMP)
				p->flow.dport = (uint16_t)g_rand_int_range(r, a->lo, a->hi + 1);
			addr4(&p->flow.daddr, a->net ? a->net | host : 0x0a000000u | host << 8 | host);
		} else {
			p->flow.proto = protos[g_rand_int_range(r, 0, G_N_ELEMENTS(protos))];
			if (p->flow.proto != IPPROTO_ICMP)
				p->flow.dport = (uint16_t)g_rand_int_range(r, 1, 20000);
			addr4(&p->flow.daddr, 0x0a000000u | (uint32_t)g_rand_int_range(r, 0, 1 << 24));
		}
		if (p->flow.proto == IPPROTO_ICMP) {
			p->flow.sport = 0;
			p->icmp_type = 8;
		}
	}
}

typedef void match_fn(const struct nu_acl_set *set, const struct nuauth_packet *packet,
		      const struct nuauth_user *user, GArray *matches);

/* Calls fn on the queries in turn for about seconds; decisions per second. */
static double run(match_fn *fn, const struct nu_acl_set *set, const struct query *q,
		  double seconds)
{
	GArray *m = g_array_sized_new(FALSE, FALSE, sizeof(struct nuauth_acl_match), 16);
	unsigned long calls = 0;
	double start = now(), elapsed;
	unsigned i = 0;

	do {
		unsigned k;

		for (k = 0; k < 256; k++) {
			g_array_set_size(m, 0);
			fn(set, &q[i].packet, &q[i].user, m);
			i = (i + 1) % NQUERIES;
		}
		calls += 256;
		elapsed = now() - start;
	} while (elapsed < seconds);
	g_array_free(m, TRUE);
	return (double)calls / elapsed;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0, t, linear, indexed;
	GRand *r = g_rand_new_with_seed(424242);
	struct gen_acl *acls = g_new0(struct gen_acl, NACLS);
	GArray **by_group = g_new(GArray *, NGROUPS);
	uint32_t (*groups)[5] = g_malloc(sizeof(*groups) * NUSERS);
	struct query *q = g_new0(struct query, NQUERIES);
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	GArray *b = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	unsigned i, k, hits = 0, total = 0;
	GError *error = NULL;
	struct nu_acl_set *set;
	char *dir, *path;

	if (argc > 2 || seconds <= 0) {
		fprintf(stderr, "usage: acl_bench [SECONDS]\n");
		return 2;
	}
	nu_log_init("acl_bench", false, LOG_WARNING);
	if (!(dir = g_dir_make_tmp("acl_bench-XXXXXX", NULL))) {
		fprintf(stderr, "acl_bench: cannot make a temporary folder\n");
		return 1;
	}
	for (i = 0; i < NGROUPS; i++)
		by_group[i] = g_array_new(FALSE, FALSE, sizeof(unsigned));
	for (i = 0; i < NUSERS; i++)
		for (k = 0; k < 5; k++)
			groups[i][k] = GID_BASE + (uint32_t)g_rand_int_range(r, 0, NGROUPS);
	path = write_acls(r, dir, acls, by_group);
	make_queries(r, acls, by_group, groups, q);

	t = now();
	set = nu_acl_load(path, &error);
	t = now() - t;
	g_remove(path);
	g_rmdir(dir);
	if (!set) {
		fprintf(stderr, "acl_bench: %s\n", error->message);
		return 1;
	}

	for (i = 0; i < NQUERIES; i++) {
		g_array_set_size(a, 0);
		g_array_set_size(b, 0);
		nu_acl_match(set, &q[i].packet, &q[i].user, a);
		nu_acl_match_linear(set, &q[i].packet, &q[i].user, b);
		if (a->len != b->len)
			goto differ;
		for (k = 0; k < a->len; k++)
			if (g_array_index(a, struct nuauth_acl_match, k).name !=
			    g_array_index(b, struct nuauth_acl_match, k).name)
				goto differ;
		hits += a->len > 0;
		total += a->len;
	}

	printf("acl_bench: %u ACLs over %u groups, %u users of 1-5 groups, %u queries\n",
	       nu_acl_count(set), NGROUPS, NUSERS, NQUERIES);
	printf("  queries with a match: %u (%.1f %%), %.2f matches per query\n",
	       hits, 100.0 * hits / NQUERIES, (double)total / NQUERIES);
	printf("  load and index: %.1f ms\n", t * 1e3);
	linear = run(nu_acl_match_linear, set, q, seconds);
	printf("  linear scan:  %12.0f decisions/s\n", linear);
	indexed = run(nu_acl_match, set, q, seconds);
	printf("  indexed:      %12.0f decisions/s\n", indexed);
	printf("  ratio:        %12.1f\n", indexed / linear);

	nu_acl_set_free(set);
	for (i = 0; i < NGROUPS; i++)
		g_array_free(by_group[i], TRUE);
	g_free(by_group);
	g_free(groups);
	g_free(acls);
	g_free(q);
	g_free(path);
	g_free(dir);
	g_array_free(a, TRUE);
	g_array_free(b, TRUE);
	g_rand_free(r);
	return 0;
differ:
	fprintf(stderr, "acl_bench: query %u: indexed and linear results differ\n", i);
	return 1;
}
