/* acls.nufw: the plaintext module's ACLs (format in acl.h). */
#include "config.h"
#include "acl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto.h"

struct net {
	struct in6_addr addr;	/* host bits cleared; IPv4 stored v4-mapped */
	unsigned plen;		/* over the 128-bit form (IPv4 /24 is 120) */
	bool v4;
};

struct port_range {
	uint16_t lo, hi;
};

struct os_match {
	char *sysname;
	char *release;		/* NULL: any */
	char *version;		/* NULL: any */
};

struct nu_acl {
	char *name;
	char *source;		/* the file, or the record (an LDAP entry's URL) */
	unsigned line;		/* of the [name] header; 0 in a record */
	GArray *uids, *gids;	/* uint32_t */
	GArray *protos;		/* uint8_t; empty means TCP */
	GArray *types;		/* uint8_t; empty means any */
	GArray *src, *dst;	/* struct net; empty means any */
	GArray *sports, *dports;	/* struct port_range; empty means any */
	GPtrArray *apps;	/* glob patterns; empty means any */
	GArray *app_sha256s;	/* uint8_t[NU_SHA256_LEN] each; empty means any */
	GPtrArray *oses;	/* struct os_match; empty means any */
	GPtrArray *indevs, *outdevs;	/* names; empty means any */
	GPtrArray *physindevs, *physoutdevs;	/* bridge port names; empty: any */
	GPtrArray *gateways;	/* certificate names; empty means any */
	int decision;
	uint32_t flags;
	char *log_prefix;
	char *period;
	unsigned authquality;	/* enum nuauth_auth_quality: the least */
	/* Where the single-valued keys were set (0: not set; 1 in a record). */
	unsigned decision_line, flags_line, log_prefix_line, period_line, authquality_line;
};

/* A sorted map from a 32-bit key to an ascending list of ACL numbers
 * (positions in nu_acl_set.acls, so file order). */
struct idx_map {
	uint32_t *keys;		/* ascending, nkeys of them */
	uint32_t *start;	/* nkeys + 1: keys[k] has items[start[k] .. start[k + 1]) */
	uint32_t *items;
	size_t nkeys;
};

struct nu_acl_set {
	GPtrArray *acls;	/* struct nu_acl (owned), file order */
	/* The index, built once the file is read (acl_index_build). */
	struct idx_map by_uid, by_gid;	/* principal -> ACLs naming it */
	struct idx_map by_port;		/* proto << 16 | DstPort -> TCP/UDP ACLs */
	struct idx_map by_proto;	/* proto -> the other ACLs of that protocol */
};

/* Where the value being parsed comes from. */
struct acl_ctx {
	const char *file;	/* or the record */
	unsigned line;		/* 0 in a record */
	const char *key;	/* as written (or the record's name for it) */
	const char *value;	/* as written (quotes removed) */
};

/* ACLs being read, from a file or from records (nu_acl_builder_*). */
struct nu_acl_builder {
	struct nu_acl_set *set;
	GHashTable *names;	/* name -> struct nu_acl in set */
	struct nu_acl *cur;	/* the ACL keys go to */
};

/* An error at source:line, or at source alone when line is 0 (a record
 * has no lines: its name says where it is). */
static void set_error(GError **error, const char *source, unsigned line, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);
static void set_error(GError **error, const char *source, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char *why;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (line)
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX, "%s:%u: %s", source, line, why);
	else
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX, "%s: %s", source, why);
	g_free(why);
}

/* Where acl, or its key set at line, is: "file:line" or the record. */
static char *acl_where(const struct nu_acl *acl, unsigned line)
{
	return acl->line ? g_strdup_printf("%s:%u", acl->source, line) : g_strdup(acl->source);
}

static void os_match_free(void *p)
{
	struct os_match *os = p;

	g_free(os->sysname);
	g_free(os->release);
	g_free(os->version);
	g_free(os);
}

static void acl_free(void *p)
{
	struct nu_acl *acl = p;

	if (!acl)
		return;
	g_free(acl->name);
	g_free(acl->source);
	g_array_free(acl->uids, TRUE);
	g_array_free(acl->gids, TRUE);
	g_array_free(acl->protos, TRUE);
	g_array_free(acl->types, TRUE);
	g_array_free(acl->src, TRUE);
	g_array_free(acl->dst, TRUE);
	g_array_free(acl->sports, TRUE);
	g_array_free(acl->dports, TRUE);
	g_ptr_array_free(acl->apps, TRUE);
	g_array_free(acl->app_sha256s, TRUE);
	g_ptr_array_free(acl->oses, TRUE);
	g_ptr_array_free(acl->indevs, TRUE);
	g_ptr_array_free(acl->outdevs, TRUE);
	g_ptr_array_free(acl->physindevs, TRUE);
	g_ptr_array_free(acl->physoutdevs, TRUE);
	g_ptr_array_free(acl->gateways, TRUE);
	g_free(acl->log_prefix);
	g_free(acl->period);
	g_free(acl);
}

static struct nu_acl *acl_new(const char *name, const char *source, unsigned line)
{
	struct nu_acl *acl = g_new0(struct nu_acl, 1);

	acl->name = g_strdup(name);
	acl->source = g_strdup(source);
	acl->line = line;
	acl->uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	acl->gids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	acl->protos = g_array_new(FALSE, FALSE, sizeof(uint8_t));
	acl->types = g_array_new(FALSE, FALSE, sizeof(uint8_t));
	acl->src = g_array_new(FALSE, FALSE, sizeof(struct net));
	acl->dst = g_array_new(FALSE, FALSE, sizeof(struct net));
	acl->sports = g_array_new(FALSE, FALSE, sizeof(struct port_range));
	acl->dports = g_array_new(FALSE, FALSE, sizeof(struct port_range));
	acl->apps = g_ptr_array_new_with_free_func(g_free);
	acl->app_sha256s = g_array_new(FALSE, FALSE, NU_SHA256_LEN);
	acl->oses = g_ptr_array_new_with_free_func(os_match_free);
	acl->indevs = g_ptr_array_new_with_free_func(g_free);
	acl->outdevs = g_ptr_array_new_with_free_func(g_free);
	acl->physindevs = g_ptr_array_new_with_free_func(g_free);
	acl->physoutdevs = g_ptr_array_new_with_free_func(g_free);
	acl->gateways = g_ptr_array_new_with_free_func(g_free);
	acl->decision = NU_VERDICT_ACCEPT;
	acl->log_prefix = g_strdup("");
	return acl;
}

static void idx_map_free(struct idx_map *map)
{
	g_free(map->keys);
	g_free(map->start);
	g_free(map->items);
}

void nu_acl_set_free(struct nu_acl_set *set)
{
	if (!set)
		return;
	idx_map_free(&set->by_uid);
	idx_map_free(&set->by_gid);
	idx_map_free(&set->by_port);
	idx_map_free(&set->by_proto);
	g_ptr_array_free(set->acls, TRUE);
	g_free(set);
}

unsigned nu_acl_count(const struct nu_acl_set *set)
{
	return set ? set->acls->len : 0;
}

unsigned nu_acl_needs(const struct nu_acl_set *set)
{
	unsigned needs = 0;

	for (guint i = 0; set && i < set->acls->len; i++) {
		const struct nu_acl *acl = g_ptr_array_index(set->acls, i);

		if (acl->apps->len)
			needs |= NUAUTH_NEEDS_APP;
		if (acl->app_sha256s->len)
			needs |= NUAUTH_NEEDS_APP | NUAUTH_NEEDS_APP_SHA256;
	}
	return needs;
}

struct period_check {
	bool (*known)(const char *period, void *ctx);
	void *ctx;
	GError **error;
};

static bool check_one_period(const char *acl, const char *period, const char *where,
			     void *ctx)
{
	struct period_check *pc = ctx;

	if (pc->known(period, pc->ctx))
		return true;
	g_set_error(pc->error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
		    "%s: acl [%s]: unknown period `%s'", where, acl, period);
	return false;
}

bool nu_acl_check_periods(const struct nu_acl_set *set,
			  bool (*known)(const char *period, void *ctx), void *ctx, GError **error)
{
	struct period_check pc = { known, ctx, error };

	return nu_acl_foreach_period(set, check_one_period, &pc);
}

bool nu_acl_foreach_period(const struct nu_acl_set *set, nu_acl_period_fn fn, void *ctx)
{
	for (guint i = 0; set && i < set->acls->len; i++) {
		const struct nu_acl *acl = g_ptr_array_index(set->acls, i);
		char *where;
		bool go_on;

		if (!acl->period)
			continue;
		where = acl_where(acl, acl->period_line);
		go_on = fn(acl->name, acl->period, where, ctx);
		g_free(where);
		if (!go_on)
			return false;
	}
	return true;
}

/* ---- values ---- */

static bool bad_value(const struct acl_ctx *ctx, const char *what, GError **error)
{
	set_error(error, ctx->file, ctx->line, "%s: expected %s, got `%s'",
		  ctx->key, what, ctx->value);
	return false;
}

/* Full-string unsigned decimal, or 0x hexadecimal when hex, up to max. */
static bool parse_uint(const char *s, uint64_t max, bool hex, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	const char *p = s;

	if (hex && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return false;
	for (; *p; p++) {
		int d = g_ascii_xdigit_value(*p);

		if (d < 0 || (unsigned)d >= base || (uint64_t)d > max || v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* Calls item() on every comma-separated, trimmed item of ctx->value. */
static bool for_each_item(const struct acl_ctx *ctx, const char *what,
			  bool (*item)(GArray *dst, const char *s), GArray *dst, GError **error)
{
	char **items = g_strsplit(ctx->value, ",", -1);
	bool ok = true;
	unsigned i;

	for (i = 0; items[i] && ok; i++) {
		char *s = g_strstrip(items[i]);

		ok = *s && item(dst, s);
	}
	if (i == 0)
		ok = false;
	g_strfreev(items);
	return ok || bad_value(ctx, what, error);
}

static bool item_u32(GArray *dst, const char *s)
{
	uint64_t v;
	uint32_t u;

	if (!parse_uint(s, UINT32_MAX, false, &v))
		return false;
	u = (uint32_t)v;
	g_array_append_val(dst, u);
	return true;
}

static bool item_u8(GArray *dst, const char *s)
{
	uint64_t v;
	uint8_t u;

	if (!parse_uint(s, UINT8_MAX, false, &v))
		return false;
	u = (uint8_t)v;
	g_array_append_val(dst, u);
	return true;
}

static bool item_proto(GArray *dst, const char *s)
{
	static const struct { const char *name; uint8_t num; } protos[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
		{ "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
	};
	uint64_t v;
	unsigned i;

	for (i = 0; i < G_N_ELEMENTS(protos); i++) {
		if ((parse_uint(s, UINT8_MAX, false, &v) && v == protos[i].num) ||
		    g_ascii_strcasecmp(s, protos[i].name) == 0) {
			g_array_append_val(dst, protos[i].num);
			return true;
		}
	}
	return false;
}

static bool item_port(GArray *dst, const char *s)
{
	struct port_range r;
	const char *dash = strchr(s, '-');
	uint64_t lo, hi;
	char *first;
	bool ok;

	if (!dash) {
		if (!parse_uint(s, UINT16_MAX, false, &lo))
			return false;
		hi = lo;
	} else {
		first = g_strstrip(g_strndup(s, dash - s));
		ok = parse_uint(first, UINT16_MAX, false, &lo);
		g_free(first);
		while (*++dash == ' ' || *dash == '\t')
			;
		if (!ok || !parse_uint(dash, UINT16_MAX, false, &hi) || lo > hi)
			return false;
	}
	r.lo = (uint16_t)lo;
	r.hi = (uint16_t)hi;
	g_array_append_val(dst, r);
	return true;
}

static void net_mask(struct net *n)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		unsigned bits = n->plen > i * 8 ? n->plen - i * 8 : 0;

		if (bits < 8)
			n->addr.s6_addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

static bool item_net(GArray *dst, const char *s)
{
	const char *slash = strchr(s, '/');
	char *addr = slash ? g_strndup(s, slash - s) : g_strdup(s);
	struct net n = { .plen = 128, .v4 = false };
	struct in_addr v4;
	uint64_t plen = 128;
	bool ok;

	if (inet_pton(AF_INET, addr, &v4) == 1) {
		n.v4 = true;
		n.addr.s6_addr[10] = n.addr.s6_addr[11] = 0xff;
		memcpy(&n.addr.s6_addr[12], &v4, 4);
		ok = !slash || parse_uint(slash + 1, 32, false, &plen);
		n.plen = slash ? 96 + (unsigned)plen : 128;
	} else if (inet_pton(AF_INET6, addr, &n.addr) == 1) {
		ok = !slash || parse_uint(slash + 1, 128, false, &plen);
		n.plen = (unsigned)plen;
		/* ::ffff:a.b.c.d/104 is an IPv4 network written as IPv6. */
		n.v4 = IN6_IS_ADDR_V4MAPPED(&n.addr) && n.plen >= 96;
	} else {
		ok = false;
	}
	g_free(addr);
	if (!ok)
		return false;
	net_mask(&n);
	g_array_append_val(dst, n);
	return true;
}

static bool only_once(const struct acl_ctx *ctx, unsigned *line, GError **error)
{
	if (*line && ctx->line) {
		set_error(error, ctx->file, ctx->line, "%s: already set at line %u, got `%s'",
			  ctx->key, *line, ctx->value);
		return false;
	}
	if (*line) {
		set_error(error, ctx->file, 0, "%s: a single value expected, got a second one `%s'",
			  ctx->key, ctx->value);
		return false;
	}
	*line = ctx->line ? ctx->line : 1;
	return true;
}

/* ---- keys ---- */

#define LIST_NUMBERS "a comma list of unsigned 32-bit numbers"

static bool key_uid(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return for_each_item(c, LIST_NUMBERS, item_u32, acl->uids, e);
}

/* A group's number, or its name in the system's group database (files,
 * or whatever NSS serves), looked up once, when the ACLs are loaded. */
static bool key_gid(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	char **items = g_strsplit(c->value, ",", -1);
	bool ok = items[0] != NULL;

	for (unsigned i = 0; items[i] && ok; i++) {
		char *s = g_strstrip(items[i]);
		struct group gr, *found = NULL;
		char buf[4096];
		uint32_t gid;

		if (!*s || g_ascii_isdigit(*s)) {
			ok = *s && item_u32(acl->gids, s);
			continue;
		}
		if (getgrnam_r(s, &gr, buf, sizeof(buf), &found) != 0 || !found) {
			set_error(e, c->file, c->line,
				  "%s: no group `%s' in the system's group database", c->key, s);
			g_strfreev(items);
			return false;
		}
		gid = (uint32_t)found->gr_gid;
		g_array_append_val(acl->gids, gid);
	}
	g_strfreev(items);
	return ok || bad_value(c, "a comma list of group numbers or names", e);
}

static bool key_proto(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return for_each_item(c, "protocols among 6 (tcp), 17 (udp), 1 (icmp), 58 (icmpv6)",
			     item_proto, acl->protos, e);
}

static bool key_type(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return for_each_item(c, "a comma list of ICMP types (0 to 255)",
			     item_u8, acl->types, e);
}

static bool key_srcip(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return for_each_item(c, "a comma list of addresses with optional /prefix",
			     item_net, acl->src, e);
}

static bool key_dstip(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return for_each_item(c, "a comma list of addresses with optional /prefix",
			     item_net, acl->dst, e);
}

static bool key_srcport(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return for_each_item(c, "a comma list of ports (n or a-b, 0 to 65535)",
			     item_port, acl->sports, e);
}

static bool key_dstport(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return for_each_item(c, "a comma list of ports (n or a-b, 0 to 65535)",
			     item_port, acl->dports, e);
}

static bool key_app(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	/* GLib's globs abort on a pattern that is not UTF-8: refused. */
	if (!*c->value || !g_utf8_validate(c->value, -1, NULL))
		return bad_value(c, "a glob on the program's path", e);
	g_ptr_array_add(acl->apps, g_strdup(c->value));
	return true;
}

/* One SHA-256 in hexadecimal: 64 digits, either case. */
static bool item_sha256(GArray *dst, const char *s)
{
	uint8_t digest[NU_SHA256_LEN];

	if (strlen(s) != 2 * NU_SHA256_LEN)
		return false;
	for (unsigned i = 0; i < NU_SHA256_LEN; i++) {
		int hi = g_ascii_xdigit_value(s[2 * i]), lo = g_ascii_xdigit_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		digest[i] = (uint8_t)(hi << 4 | lo);
	}
	g_array_append_vals(dst, digest, 1);
	return true;
}

static bool key_app_sha256(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return for_each_item(c, "a comma list of SHA-256 digests (64 hexadecimal digits each)",
			     item_sha256, acl->app_sha256s, e);
}

static bool key_os(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	char **parts = g_strsplit(c->value, ";", 3);
	struct os_match *os;

	if (!parts[0] || !*parts[0]) {
		g_strfreev(parts);
		return bad_value(c, "sysname[;release[;version]]", e);
	}
	os = g_new0(struct os_match, 1);
	os->sysname = g_strdup(parts[0]);
	if (parts[1] && *parts[1])
		os->release = g_strdup(parts[1]);
	if (parts[1] && parts[2] && *parts[2])
		os->version = g_strdup(parts[2]);
	g_strfreev(parts);
	g_ptr_array_add(acl->oses, os);
	return true;
}

static bool add_devs(const struct acl_ctx *c, GPtrArray *devs, GError **e)
{
	char **items = g_strsplit(c->value, ",", -1);
	unsigned i;

	for (i = 0; items[i]; i++) {
		char *s = g_strstrip(items[i]);

		if (!*s || strlen(s) >= 16 || strpbrk(s, " \t/")) {
			g_strfreev(items);
			return bad_value(c, "a comma list of interface names", e);
		}
	}
	if (i == 0) {
		g_strfreev(items);
		return bad_value(c, "a comma list of interface names", e);
	}
	for (i = 0; items[i]; i++)
		g_ptr_array_add(devs, g_strdup(items[i]));
	g_strfreev(items);
	return true;
}

static bool key_indev(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return add_devs(c, acl->indevs, e);
}

static bool key_outdev(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return add_devs(c, acl->outdevs, e);
}

/* Bridge ports: a packet that was not bridged has none, so such an ACL
 * never matches it. */
static bool key_physindev(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return add_devs(c, acl->physindevs, e);
}

static bool key_physoutdev(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	return add_devs(c, acl->physoutdevs, e);
}

/* The gateways (their certificate names) the ACL is for. */
static bool key_gateway(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	char **items = g_strsplit(c->value, ",", -1);
	guint i;

	for (i = 0; items[i]; i++) {
		char *s = g_strstrip(items[i]);

		if (!*s) {
			g_strfreev(items);
			return bad_value(c, "a comma list of gateway certificate names", e);
		}
		g_ptr_array_add(acl->gateways, g_strdup(s));
	}
	g_strfreev(items);
	return i > 0 || bad_value(c, "a comma list of gateway certificate names", e);
}

static bool key_decision(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	uint64_t v;

	if (!parse_uint(c->value, 255, false, &v) ||
	    (v != NU_VERDICT_DROP && v != NU_VERDICT_ACCEPT && v != NU_VERDICT_REJECT))
		return bad_value(c, "0 (drop), 1 (accept) or 3 (reject)", e);
	if (!only_once(c, &acl->decision_line, e))
		return false;
	acl->decision = (int)v;
	return true;
}

static bool key_flags(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	uint64_t v;

	if (!parse_uint(c->value, UINT32_MAX, true, &v))
		return bad_value(c, "an unsigned 32-bit number", e);
	if (!only_once(c, &acl->flags_line, e))
		return false;
	acl->flags = (uint32_t)v;
	return true;
}

static bool key_log_prefix(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	if (!only_once(c, &acl->log_prefix_line, e))
		return false;
	g_free(acl->log_prefix);
	acl->log_prefix = g_strdup(c->value);
	return true;
}

static bool key_period(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	if (!*c->value)
		return bad_value(c, "a period name", e);
	if (!only_once(c, &acl->period_line, e))
		return false;
	acl->period = g_strdup(c->value);
	return true;
}

/* The least strength of the user's login, on module.h's scale. */
static bool key_authquality(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	uint64_t v;

	if (!parse_uint(c->value, NUAUTH_AUTHQ_CERTIFICATE, false, &v))
		return bad_value(c, "0 (any), 1 (IP authentication), 2 (password), "
				 "3 (password proof, SCRAM) or 4 (certificate)", e);
	if (!only_once(c, &acl->authquality_line, e))
		return false;
	acl->authquality = (unsigned)v;
	return true;
}

static const struct {
	const char *name;
	bool (*parse)(const struct acl_ctx *c, struct nu_acl *acl, GError **e);
} acl_keys[] = {
	{ "uid", key_uid },
	{ "gid", key_gid },
	{ "proto", key_proto },
	{ "type", key_type },
	{ "srcip", key_srcip },
	{ "dstip", key_dstip },
	{ "srcport", key_srcport },
	{ "dstport", key_dstport },
	{ "app", key_app },
	{ "appsha256", key_app_sha256 },
	{ "os", key_os },
	{ "indev", key_indev },
	{ "outdev", key_outdev },
	{ "physindev", key_physindev },
	{ "physoutdev", key_physoutdev },
	{ "decision", key_decision },
	{ "flags", key_flags },
	{ "log_prefix", key_log_prefix },
	{ "period", key_period },
	{ "authquality", key_authquality },
	{ "gateway", key_gateway },
};

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

static void acl_index_build(struct nu_acl_set *set)
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

/* ---- builder ---- */

struct nu_acl_builder *nu_acl_builder_new(void)
{
	struct nu_acl_builder *b = g_new0(struct nu_acl_builder, 1);

	b->set = g_new0(struct nu_acl_set, 1);
	b->set->acls = g_ptr_array_new_with_free_func(acl_free);
	b->names = g_hash_table_new(g_str_hash, g_str_equal);
	return b;
}

void nu_acl_builder_free(struct nu_acl_builder *b)
{
	if (!b)
		return;
	nu_acl_set_free(b->set);
	g_hash_table_destroy(b->names);
	g_free(b);
}

static bool acl_finish(const struct nu_acl *acl, GError **error)
{
	if (acl->uids->len == 0 && acl->gids->len == 0) {
		set_error(error, acl->source, acl->line, "ACL `%s' has neither uid= nor gid=",
			  acl->name);
		return false;
	}
	return true;
}

bool nu_acl_builder_begin(struct nu_acl_builder *b, const char *name, const char *source,
			  unsigned line, GError **error)
{
	struct nu_acl *prev;

	if (!*name) {
		set_error(error, source, line, "empty ACL name `[]'");
		return false;
	}
	if ((prev = g_hash_table_lookup(b->names, name))) {
		if (line && prev->line)
			set_error(error, source, line, "duplicate ACL `[%s]' (first at line %u)",
				  name, prev->line);
		else
			set_error(error, source, line, "duplicate ACL `%s' (first at %s)",
				  name, prev->source);
		return false;
	}
	if (b->cur && !acl_finish(b->cur, error))
		return false;
	b->cur = acl_new(name, source, line);
	g_ptr_array_add(b->set->acls, b->cur);
	g_hash_table_insert(b->names, b->cur->name, b->cur);
	return true;
}

bool nu_acl_builder_add(struct nu_acl_builder *b, const char *key, const char *shown,
			const char *value, unsigned line, GError **error)
{
	struct acl_ctx ctx = { .line = line, .key = shown ? shown : key, .value = value };
	unsigned i;

	if (!b->cur) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "`%s=%s' before any ACL", key, value);
		return false;
	}
	ctx.file = b->cur->source;
	for (i = 0; i < G_N_ELEMENTS(acl_keys); i++)
		if (g_ascii_strcasecmp(key, acl_keys[i].name) == 0)
			return acl_keys[i].parse(&ctx, b->cur, error);
	/* Refused rather than skipped: a mistyped key (DstPrt=22) would
	 * otherwise leave an ACL wider than its author meant. */
	set_error(error, ctx.file, line, "unknown ACL key `%s'", ctx.key);
	return false;
}

struct nu_acl_set *nu_acl_builder_finish(struct nu_acl_builder *b, GError **error)
{
	struct nu_acl_set *set;

	if (b->cur && !acl_finish(b->cur, error)) {
		nu_acl_builder_free(b);
		return NULL;
	}
	set = b->set;
	b->set = NULL;
	nu_acl_builder_free(b);
	acl_index_build(set);
	return set;
}

/* ---- file ---- */

static bool acl_line(struct nu_acl_builder *b, const char *file, unsigned line, char *text,
		     GError **error)
{
	char *eq, *key, *value;
	size_t vlen;

	if (*text == '[') {
		char *end = strchr(text, ']');

		if (!end || end[1]) {
			set_error(error, file, line, "expected `[name]', got `%s'", text);
			return false;
		}
		*end = '\0';
		return nu_acl_builder_begin(b, g_strstrip(text + 1), file, line, error);
	}

	if (!(eq = strchr(text, '='))) {
		set_error(error, file, line, "expected `key=value' or `[name]', got `%s'", text);
		return false;
	}
	*eq = '\0';
	key = g_strstrip(text);
	value = g_strstrip(eq + 1);
	vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
	}
	if (!b->cur) {
		set_error(error, file, line, "`%s=%s' outside of any [ACL] section", key, value);
		return false;
	}
	return nu_acl_builder_add(b, key, NULL, value, line, error);
}

struct nu_acl_set *nu_acl_load(const char *path, GError **error)
{
	struct nu_acl_builder *b = nu_acl_builder_new();
	FILE *f;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned line = 0;
	bool ok = false;

	if (!(f = fopen(path, "re"))) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s: %s", path, g_strerror(errno));
		goto out;
	}
	errno = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		char *p;

		line++;
		if (strlen(buf) != (size_t)len) {
			set_error(error, path, line, "line contains a NUL byte");
			goto out;
		}
		p = g_strstrip(buf);
		if (*p && *p != '#' && !acl_line(b, path, line, p, error))
			goto out;
		errno = 0;
	}
	if (ferror(f)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s: %s", path,
			    g_strerror(errno ? errno : EIO));
		goto out;
	}
	ok = true;
out:
	if (f)
		fclose(f);
	free(buf);
	if (!ok) {
		nu_acl_builder_free(b);
		return NULL;
	}
	return nu_acl_builder_finish(b, error);
}

/* ---- matching ---- */

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
		if (memcmp(digests->data + (size_t)i * NU_SHA256_LEN, have, NU_SHA256_LEN) == 0)
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
