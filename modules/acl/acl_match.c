/* The ACL engine (acl.h): matching a packet and a user against the set. */
#include "config.h"
#include "acl_impl.h"

#include <string.h>

static bool u32_in(const GArray *a, uint32_t v)
{
	unsigned i;

	for (i = 0; i < a->len; i++)
		if (g_array_index(a, uint32_t, i) == v)
			return true;
	return false;
}

static bool u8_in(const GArray *a, uint8_t v)
{
	unsigned i;

	for (i = 0; i < a->len; i++)
		if (g_array_index(a, uint8_t, i) == v)
			return true;
	return false;
}

static bool net_contains(const struct net *n, const struct in6_addr *a)
{
	unsigned full = n->plen / 8, rest = n->plen % 8;

	if (n->v4 != (bool)IN6_IS_ADDR_V4MAPPED(a))
		return false;
	if (memcmp(n->addr.s6_addr, a->s6_addr, full) != 0)
		return false;
	return !rest || ((n->addr.s6_addr[full] ^ a->s6_addr[full]) & (0xff00u >> rest)) == 0;
}

static bool nets_match(const GArray *nets, const struct in6_addr *a)
{
	unsigned i;

	if (nets->len == 0)
		return true;
	for (i = 0; i < nets->len; i++)
		if (net_contains(&g_array_index(nets, struct net, i), a))
			return true;
	return false;
}

static bool ports_match(const GArray *ports, uint16_t port)
{
	unsigned i;

	if (ports->len == 0)
		return true;
	for (i = 0; i < ports->len; i++) {
		const struct port_range *r = &g_array_index(ports, struct port_range, i);

		if (port >= r->lo && port <= r->hi)
			return true;
	}
	return false;
}

/* An exact name (interface, gateway) among names; none listed: any. */
static bool names_match(const GPtrArray *names, const char *name)
{
	unsigned i;

	if (names->len == 0)
		return true;
	for (i = 0; name && i < names->len; i++)
		if (strcmp(g_ptr_array_index(names, i), name) == 0)
			return true;
	return false;
}

static bool apps_match(const GPtrArray *apps, const char *app)
{
	char *valid = NULL;
	bool found = false;
	unsigned i;

	if (apps->len == 0)
		return true;
	/* The path comes from the client and GLib's globs abort on a string
	 * that is not UTF-8: its bad bytes become U+FFFD, which `*' and `?'
	 * still match. */
	if (app && !g_utf8_validate(app, -1, NULL))
		app = valid = g_utf8_make_valid(app, -1);
	/* An unknown program matches no App= line, not even `*'. */
	for (i = 0; app && *app && !found && i < apps->len; i++)
		found = g_pattern_match_simple(g_ptr_array_index(apps, i), app);
	g_free(valid);
	return found;
}

/* The file's SHA-256 the client announced among the ACL's; a connection
 * announced without one matches no AppSHA256= line. */
static bool app_sha256_match(const GArray *digests, const uint8_t *have)
{
	if (digests->len == 0)
		return true;
	for (guint i = 0; have && i < digests->len; i++)
		if (memcmp(digests->data + (size_t)i * NU_ACL_SHA256_LEN, have, NU_ACL_SHA256_LEN) == 0)
			return true;
	return false;
}

static bool str_eq_nocase(const char *want, const char *have)
{
	return !want || (have && g_ascii_strcasecmp(want, have) == 0);
}

static bool oses_match(const GPtrArray *oses, const struct nuauth_packet *p)
{
	unsigned i;

	if (oses->len == 0)
		return true;
	for (i = 0; i < oses->len; i++) {
		const struct os_match *os = g_ptr_array_index(oses, i);

		if (str_eq_nocase(os->sysname, p->os_sysname) &&
		    str_eq_nocase(os->release, p->os_release) &&
		    str_eq_nocase(os->version, p->os_version))
			return true;
	}
	return false;
}

static bool user_matches(const struct nu_acl *acl, const struct nuauth_user *user)
{
	size_t i;

	if (u32_in(acl->uids, user->uid))
		return true;
	for (i = 0; i < user->ngroups; i++)
		if (u32_in(acl->gids, user->groups[i]))
			return true;
	return false;
}

/* The whole matching rule of one ACL. */
static bool acl_matches(const struct nu_acl *acl, const struct nuauth_packet *p,
			const struct nuauth_user *user)
{
	const struct nu_flow *f = &p->flow;

	if (acl->protos->len ? !u8_in(acl->protos, f->proto) : f->proto != IPPROTO_TCP)
		return false;
	if (!user_matches(acl, user) || user->auth_quality < acl->authquality)
		return false;
	if (acl->origins && !(acl->origins & nu_acl_origin_bit(user->origin)))
		return false;
	if (!nets_match(acl->src, &f->saddr) || !nets_match(acl->dst, &f->daddr))
		return false;
	if (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP) {
		if (!ports_match(acl->sports, f->sport) || !ports_match(acl->dports, f->dport))
			return false;
	}
	if ((f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) &&
	    acl->types->len && !u8_in(acl->types, p->icmp_type))
		return false;
	return names_match(acl->indevs, p->indev) && names_match(acl->outdevs, p->outdev) &&
	       names_match(acl->physindevs, p->physindev) &&
	       names_match(acl->physoutdevs, p->physoutdev) &&
	       names_match(acl->gateways, p->gateway ? p->gateway : "") &&
	       apps_match(acl->apps, p->app) && app_sha256_match(acl->app_sha256s, p->app_sha256) &&
	       oses_match(acl->oses, p);
}

static void add_match(GArray *matches, const struct nu_acl *acl)
{
	struct nuauth_acl_match m;

	m.name = acl->name;
	m.decision = acl->decision;
	m.flags = acl->flags;
	m.log_prefix = acl->log_prefix;
	m.period = acl->period ? acl->period : "";
	g_array_append_val(matches, m);
}

void nu_acl_match_linear(const struct nu_acl_set *set, const struct nuauth_packet *packet,
			 const struct nuauth_user *user, GArray *matches)
{
	unsigned i;

	if (!set || !packet || !user)
		return;
	for (i = 0; i < set->acls->len; i++) {
		const struct nu_acl *acl = g_ptr_array_index(set->acls, i);

		if (acl_matches(acl, packet, user))
			add_match(matches, acl);
	}
}

/* A position in one ascending list of ACL numbers. */
struct cursor {
	const uint32_t *v;
	size_t n, pos;
};

/* Adds key's list in map to c[*k] unless there is none; returns its length. */
static size_t cursor_add(struct cursor *c, size_t *k, const struct idx_map *map, uint32_t key)
{
	size_t lo = 0, hi = map->nkeys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (map->keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == map->nkeys || map->keys[lo] != key)
		return 0;
	c[*k].v = map->items + map->start[lo];
	c[*k].n = map->start[lo + 1] - map->start[lo];
	c[*k].pos = 0;
	(*k)++;
	return c[*k - 1].n;
}

/* Moves c to its first value >= x (galloping: the values asked for only
 * grow); true when that value is x. */
static bool cursor_seek(struct cursor *c, uint32_t x)
{
	size_t lo = c->pos, hi, step = 1;

	if (lo >= c->n || c->v[lo] >= x)
		return lo < c->n && c->v[lo] == x;
	/* c->v[lo] < x: the answer is in (lo, hi]. */
	while (lo + step < c->n && c->v[lo + step] < x) {
		lo += step;
		step *= 2;
	}
	hi = lo + step < c->n ? lo + step : c->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->v[mid] < x)
			lo = mid;
		else
			hi = mid;
	}
	c->pos = hi;
	return hi < c->n && c->v[hi] == x;
}

/* The next value of the union of c[0 .. k), in ascending order, each once;
 * false when they are all used up. */
static bool union_next(struct cursor *c, size_t k, uint32_t *out)
{
	uint32_t min = 0;
	bool any = false;
	size_t i;

	for (i = 0; i < k; i++)
		if (c[i].pos < c[i].n && (!any || c[i].v[c[i].pos] < min)) {
			min = c[i].v[c[i].pos];
			any = true;
		}
	if (!any)
		return false;
	for (i = 0; i < k; i++)
		if (c[i].pos < c[i].n && c[i].v[c[i].pos] == min)
			c[i].pos++;
	*out = min;
	return true;
}

/* Whether x is in one of c[0 .. k); x must not decrease between calls. */
static bool union_has(struct cursor *c, size_t k, uint32_t x)
{
	size_t i;

	for (i = 0; i < k; i++)
		if (cursor_seek(&c[i], x))
			return true;
	return false;
}

void nu_acl_match(const struct nu_acl_set *set, const struct nuauth_packet *packet,
		  const struct nuauth_user *user, GArray *matches)
{
	struct cursor pk[2], pr_stack[16], *pr, *drive, *other;
	size_t npk = 0, npr = 0, pk_len = 0, pr_len = 0, ndrive, nother, i;
	uint8_t proto;
	uint32_t n;

	if (!set || !packet || !user)
		return;
	proto = packet->flow.proto;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		pk_len += cursor_add(pk, &npk, &set->by_port,
				     (uint32_t)proto << 16 | packet->flow.dport);
	pk_len += cursor_add(pk, &npk, &set->by_proto, proto);
	if (npk == 0)
		return;
	pr = user->ngroups < G_N_ELEMENTS(pr_stack) ? pr_stack
		: g_new(struct cursor, user->ngroups + 1);
	pr_len += cursor_add(pr, &npr, &set->by_uid, user->uid);
	for (i = 0; i < user->ngroups; i++)
		pr_len += cursor_add(pr, &npr, &set->by_gid, user->groups[i]);
	/* Walk the shorter side in file order, look each ACL up in the other. */
	if (pk_len <= pr_len) {
		drive = pk, ndrive = npk, other = pr, nother = npr;
	} else {
		drive = pr, ndrive = npr, other = pk, nother = npk;
	}
	while (nother && union_next(drive, ndrive, &n)) {
		const struct nu_acl *acl = g_ptr_array_index(set->acls, n);

		if (union_has(other, nother, n) && acl_matches(acl, packet, user))
			add_match(matches, acl);
	}
	if (pr != pr_stack)
		g_free(pr);
}

