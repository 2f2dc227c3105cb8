/* The ACL engine (acl.h): parsing the value of every key into an ACL, and
 * the builder that turns records (a file's sections, LDAP entries) into a
 * set. */
#include "config.h"
#include "acl_impl.h"

#include <arpa/inet.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void nu_acl_error(GError **error, const char *source, unsigned line, const char *fmt, ...)
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

char *nu_acl_where(const struct nu_acl *acl, unsigned line)
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
	acl->app_sha256s = g_array_new(FALSE, FALSE, NU_ACL_SHA256_LEN);
	acl->oses = g_ptr_array_new_with_free_func(os_match_free);
	acl->indevs = g_ptr_array_new_with_free_func(g_free);
	acl->outdevs = g_ptr_array_new_with_free_func(g_free);
	acl->physindevs = g_ptr_array_new_with_free_func(g_free);
	acl->physoutdevs = g_ptr_array_new_with_free_func(g_free);
	acl->gateways = g_ptr_array_new_with_free_func(g_free);
	acl->decision = NUAUTH_VERDICT_ACCEPT;
	acl->log_prefix = g_strdup("");
	return acl;
}

/* ---- values ---- */

static bool bad_value(const struct acl_ctx *ctx, const char *what, GError **error)
{
	nu_acl_error(error, ctx->file, ctx->line, "%s: expected %s, got `%s'",
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
		nu_acl_error(error, ctx->file, ctx->line, "%s: already set at line %u, got `%s'",
			  ctx->key, *line, ctx->value);
		return false;
	}
	if (*line) {
		nu_acl_error(error, ctx->file, 0, "%s: a single value expected, got a second one `%s'",
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
			nu_acl_error(e, c->file, c->line,
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
	uint8_t digest[NU_ACL_SHA256_LEN];

	if (strlen(s) != 2 * NU_ACL_SHA256_LEN)
		return false;
	for (unsigned i = 0; i < NU_ACL_SHA256_LEN; i++) {
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
	    (v != NUAUTH_VERDICT_DROP && v != NUAUTH_VERDICT_ACCEPT && v != NUAUTH_VERDICT_REJECT))
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

const char *const nu_acl_origin_names[5] = { "client", "ipauth", "radius", "portal", "admin" };

unsigned nu_acl_origin_bit(const char *origin)
{
	for (unsigned i = 0; origin && i < G_N_ELEMENTS(nu_acl_origin_names); i++)
		if (strcmp(origin, nu_acl_origin_names[i]) == 0)
			return 1u << i;
	return 0;
}

/* Where the user's name may come from: a comma list of origins. */
static bool key_origin(const struct acl_ctx *c, struct nu_acl *acl, GError **e)
{
	static const char want[] = "a comma list of client, ipauth, radius, portal, admin";
	char **items = g_strsplit(c->value, ",", -1);
	unsigned bits = 0;
	guint i;

	for (i = 0; items[i]; i++) {
		unsigned bit = nu_acl_origin_bit(g_strstrip(items[i]));

		if (!bit) {
			g_strfreev(items);
			return bad_value(c, want, e);
		}
		bits |= bit;
	}
	g_strfreev(items);
	if (!bits)
		return bad_value(c, want, e);
	if (!only_once(c, &acl->origin_line, e))
		return false;
	acl->origins = bits;
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
	{ "origin", key_origin },
	{ "gateway", key_gateway },
};

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

bool nu_acl_builder_in_acl(const struct nu_acl_builder *b)
{
	return b->cur != NULL;
}

static bool acl_finish(const struct nu_acl *acl, GError **error)
{
	if (acl->uids->len == 0 && acl->gids->len == 0) {
		nu_acl_error(error, acl->source, acl->line, "ACL `%s' has neither uid= nor gid=",
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
		nu_acl_error(error, source, line, "empty ACL name `[]'");
		return false;
	}
	if ((prev = g_hash_table_lookup(b->names, name))) {
		if (line && prev->line)
			nu_acl_error(error, source, line, "duplicate ACL `[%s]' (first at line %u)",
				  name, prev->line);
		else
			nu_acl_error(error, source, line, "duplicate ACL `%s' (first at %s)",
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
	nu_acl_error(error, ctx.file, line, "unknown ACL key `%s'", ctx.key);
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
	nu_acl_index_build(set);
	return set;
}

