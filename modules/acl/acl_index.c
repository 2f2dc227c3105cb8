/* The ACL engine (acl.h): the index that spares nu_acl_match most ACLs. */
#include "config.h"
#include "acl_impl.h"

#include <stdlib.h>

static void idx_map_free(struct idx_map *map)
{
	g_free(map->keys);
	g_free(map->start);
	g_free(map->items);
}

void nu_acl_index_free(struct nu_acl_set *set)
{
	idx_map_free(&set->by_uid);
	idx_map_free(&set->by_gid);
	idx_map_free(&set->by_port);
	idx_map_free(&set->by_proto);
}

/* ---- index ----
 *
 * nu_acl_match must not try every ACL.  An ACL is a candidate for a packet
 * when its protocol is the packet's and, for TCP and UDP, its DstPort=
 * covers the packet's destination port; it is a candidate for a user when
 * it names the user's uid or one of its groups.  Both are kept as lists of
 * ACL numbers in file order:
 *   by_port   TCP/UDP ACLs whose DstPort= lists few ports, under each port;
 *   by_proto  the other ACLs of a protocol: no DstPort=, wide ranges, and
 *             every ICMP/ICMPv6 ACL (ports are not checked for them);
 *   by_uid, by_gid  ACLs under each uid= and gid= value.
 * Only the ACLs in both the packet's and the user's lists go through
 * acl_matches(), which stays the whole rule. */

/* An ACL whose DstPort= covers more ports than this is filed under its
 * protocol instead of under each port. */
#define PORT_EXPAND_MAX 32

struct idx_pair {
	uint32_t key, acl;
};

static int idx_pair_cmp(const void *a, const void *b)
{
	const struct idx_pair *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->acl != y->acl)
		return x->acl < y->acl ? -1 : 1;
	return 0;
}

/* Fills map from pairs (sorted and deduplicated here; pairs is emptied). */
static void idx_map_build(struct idx_map *map, GArray *pairs)
{
	struct idx_pair *p = (struct idx_pair *)(void *)pairs->data;
	size_t i, n = 0, k = 0;

	if (pairs->len)
		qsort(p, pairs->len, sizeof(*p), idx_pair_cmp);
	for (i = 0; i < pairs->len; i++)
		if (n == 0 || idx_pair_cmp(&p[n - 1], &p[i]) != 0)
			p[n++] = p[i];
	map->items = g_new(uint32_t, n ? n : 1);
	map->keys = g_new(uint32_t, n ? n : 1);
	map->start = g_new(uint32_t, n + 1);
	for (i = 0; i < n; i++) {
		if (i == 0 || p[i].key != p[i - 1].key) {
			map->keys[k] = p[i].key;
			map->start[k++] = (uint32_t)i;
		}
		map->items[i] = p[i].acl;
	}
	map->start[k] = (uint32_t)n;
	map->nkeys = k;
	g_array_set_size(pairs, 0);
}

static void idx_add(GArray *pairs, uint32_t key, uint32_t acl)
{
	struct idx_pair p = { key, acl };

	g_array_append_val(pairs, p);
}

/* Files ACL number n, of protocol proto, under its ports or its protocol. */
static void index_proto(GArray *by_port, GArray *by_proto, const struct nu_acl *acl,
			uint32_t n, uint8_t proto)
{
	size_t total = 0;
	unsigned i, port;

	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		for (i = 0; i < acl->dports->len; i++) {
			const struct port_range *r = &g_array_index(acl->dports, struct port_range, i);

			total += (size_t)r->hi - r->lo + 1;
		}
	}
	if (total == 0 || total > PORT_EXPAND_MAX) {
		idx_add(by_proto, proto, n);
		return;
	}
	for (i = 0; i < acl->dports->len; i++) {
		const struct port_range *r = &g_array_index(acl->dports, struct port_range, i);

		for (port = r->lo; port <= r->hi; port++)
			idx_add(by_port, (uint32_t)proto << 16 | port, n);
	}
}

void nu_acl_index_build(struct nu_acl_set *set)
{
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(struct idx_pair));
	GArray *gids = g_array_new(FALSE, FALSE, sizeof(struct idx_pair));
	GArray *ports = g_array_new(FALSE, FALSE, sizeof(struct idx_pair));
	GArray *protos = g_array_new(FALSE, FALSE, sizeof(struct idx_pair));
	uint32_t n;
	unsigned i;

	for (n = 0; n < set->acls->len; n++) {
		const struct nu_acl *acl = g_ptr_array_index(set->acls, n);

		for (i = 0; i < acl->uids->len; i++)
			idx_add(uids, g_array_index(acl->uids, uint32_t, i), n);
		for (i = 0; i < acl->gids->len; i++)
			idx_add(gids, g_array_index(acl->gids, uint32_t, i), n);
		if (acl->protos->len == 0)
			index_proto(ports, protos, acl, n, IPPROTO_TCP);
		for (i = 0; i < acl->protos->len; i++)
			index_proto(ports, protos, acl, n, g_array_index(acl->protos, uint8_t, i));
	}
	idx_map_build(&set->by_uid, uids);
	idx_map_build(&set->by_gid, gids);
	idx_map_build(&set->by_port, ports);
	idx_map_build(&set->by_proto, protos);
	g_array_free(uids, TRUE);
	g_array_free(gids, TRUE);
	g_array_free(ports, TRUE);
	g_array_free(protos, TRUE);
}

