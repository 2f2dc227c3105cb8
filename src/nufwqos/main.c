/* nufw-qos: prints the commands that put nufw's user marks to work.
 *
 * The output is a shell script for one machine: the gateway (keep the mark
 * on the connection, route, shape and set DSCP by it) or an upstream router
 * (route by the DSCP the gateway wrote).  `up' prints the commands that set
 * a recipe up, `down' the ones that remove exactly what `up' added.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QOS_MAX_ITEMS 32
#define QOS_MAX_DEVS 8
#define QOS_TEXT 160		/* one selector, device or rate, as given */
#define QOS_LINE 512		/* one printed command */
#define QOS_DEFAULT_MINOR 0x10	/* 1:10 takes what no class claims */
#define QOS_NFT_TABLE "nufw_qos"

enum qos_backend { QOS_IPTABLES, QOS_IPTABLES_LEGACY, QOS_NFT };
enum qos_queue_at { QOS_QUEUE_PREROUTING, QOS_QUEUE_FORWARD };
enum qos_classifier { QOS_CLASSIFY, QOS_FW };

struct qos_field {		/* a bit range of the 32-bit mark */
	bool set;
	unsigned int off, len;
};

struct qos_sel {		/* packets whose mark & mask == value */
	uint32_t value, mask;
	char text[QOS_TEXT];	/* as the user wrote it, for comments */
};

struct qos_route {
	struct qos_sel sel;	/* unused for --dscp-route */
	unsigned int dscp;	/* --dscp-route only */
	unsigned long table;
	char via[INET_ADDRSTRLEN];
	char dev[QOS_TEXT];
};

struct qos_class {
	struct qos_sel sel;
	unsigned int minor;
	char rate[QOS_TEXT], ceil[QOS_TEXT];
};

struct qos_dscp {
	struct qos_sel sel;
	unsigned int dscp;
	char dev[QOS_TEXT];	/* empty: every outgoing interface */
};

struct qos_opts {
	bool down;
	enum qos_backend backend;
	struct qos_field uid, group, flag;
	struct qos_field dscp_mark;	/* --dscp-route's local mark */
	bool keep;
	int queue;		/* -1: no queue rule */
	unsigned long rule_prio;
	enum qos_queue_at queue_at;
	enum qos_classifier classifier;
	char link_rate[QOS_TEXT], default_rate[QOS_TEXT];
	char ifb[QOS_TEXT];
	char shape[QOS_MAX_DEVS][QOS_TEXT];
	int nshape;
	/* mappings, kept as text until the layout is known */
	const char *route_arg[QOS_MAX_ITEMS], *class_arg[QOS_MAX_ITEMS];
	const char *dscp_arg[QOS_MAX_ITEMS], *dscp_route_arg[QOS_MAX_ITEMS];
	int nroute, nclass, ndscp, ndscp_route;
	struct qos_route route[QOS_MAX_ITEMS], dscp_route[QOS_MAX_ITEMS];
	struct qos_class class[QOS_MAX_ITEMS];
	struct qos_dscp dscp[QOS_MAX_ITEMS];
};

/* One netfilter rule, in both languages.  ipt_only rules (the NFQUEUE
 * target) are printed with iptables whatever the backend. */
struct qos_nf {
	bool comment, ipt_only;
	const char *table, *chain;	/* iptables */
	char ipt[QOS_LINE];
	bool nft_post;			/* nft: the postrouting chain, else prerouting */
	char nft[QOS_LINE];
};

/* One ip or tc command and the command that undoes it (may be empty). */
struct qos_step {
	char up[QOS_LINE], down[QOS_LINE];
};

#define QOS_MAX_LINES 512
static struct qos_nf nf_rules[QOS_MAX_LINES];
static int n_nf;
static struct qos_step steps[QOS_MAX_LINES];
static int n_steps;

static const char *prog = "nufw-qos";

static void usage(FILE *out)
{
	fprintf(out,
"Usage: %s [up|down] [OPTION]...\n"
"Prints the shell commands that route, shape and tag traffic by the user\n"
"mark nufw -m puts on packets.  Pipe the output to sh on the gateway (or on\n"
"the upstream router, for --dscp-route).  `up' (the default) sets a recipe\n"
"up; `down' with the same options removes what `up' added.  IPv4 only: the\n"
"rules are iptables' and nft's table ip, the routes IPv4 routes.\n"
"\n"
"Mark layout (bit ranges OFF:LEN of the 32-bit mark, bit 0 the lowest):\n"
"  --uid-bits OFF:LEN     the user's uid, written by mark_uid (default 0:16)\n"
"  --group-bits OFF:LEN   a group number written by a finalize module\n"
"  --flag-bits OFF:LEN    flag bits (an ACL's or the administrator's)\n"
"A selector SEL is uid:N, group:N or flag:N (N in that field), or\n"
"VALUE[/MASK] in raw mark numbers.  MASK defaults to the kept mask, the\n"
"union of the layout's fields (0xffff by default), and may not go beyond it:\n"
"the connection keeps only those bits.  Numbers are decimal or 0x hex.\n"
"\n"
"Backend:\n"
"  --backend iptables|iptables-legacy|nft   (default iptables)\n"
"      nft puts every rule in table ip " QOS_NFT_TABLE " except the NFQUEUE\n"
"      rule, which stays with iptables (nft's queue statement needs\n"
"      CONFIG_NFT_QUEUE)\n"
"\n"
"Keeping the mark (printed whenever a gateway mapping is given):\n"
"  --keep                 only the CONNMARK restore/save rules\n"
"  --queue NUM            also queue new TCP connections crossing the gateway\n"
"                         to nufw on NFQUEUE NUM\n"
"  --queue-at prerouting|forward\n"
"                         where to queue (default prerouting: the SYN gets its\n"
"                         mark before routing, so it follows the user's route)\n"
"\n"
"Routing:\n"
"  --route SEL=TABLE:VIA:DEV   marked packets use table TABLE, whose default\n"
"                         route goes via VIA on DEV\n"
"  --rule-priority N      first ip rule priority (default 1000): N sends what\n"
"                         the main table routes more precisely than by its\n"
"                         default route (the LAN, replies) there; the fwmark\n"
"                         rules follow at N+1, N+2...\n"
"\n"
"Shaping (HTB: root class 1:1, default class 1:10):\n"
"  --shape DEV[,DEV]...   an HTB tree on the egress of each DEV\n"
"  --ifb IFB              one tree on the IFB device instead, fed by the egress\n"
"                         of every --shape DEV (one limit across them)\n"
"  --class SEL=MINOR:RATE[:CEIL]\n"
"                         class 1:MINOR (hex, as tc writes it) for SEL\n"
"  --link-rate RATE       the root class's rate (default 1gbit)\n"
"  --default-rate RATE    class 1:10's rate (default the link rate)\n"
"  --classifier classify|fw\n"
"                         how the mark picks the class: CLASSIFY (or nft meta\n"
"                         priority) in POSTROUTING (default), or tc's fw\n"
"                         filter (needs cls_fw in the kernel)\n"
"RATE is a number with bit, kbit, mbit, gbit, bps, kbps, mbps or gbps.\n"
"\n"
"DSCP:\n"
"  --dscp SEL=DSCP[:DEV]  write DSCP (0-63, or a name: ef, af11..af43,\n"
"                         cs0..cs7) into SEL's packets (leaving by DEV)\n"
"  --dscp-route DSCP=TABLE:VIA:DEV\n"
"                         on an upstream router: packets with that DSCP use\n"
"                         table TABLE, through a local mark\n"
"  --dscp-mark-bits OFF:LEN\n"
"                         the local mark's bits (default 0:6, LEN 6 or more);\n"
"                         with gateway options on the same command line they\n"
"                         may not overlap the layout's fields\n"
"\n"
"  -h, --help             this text\n"
"\n"
"Example: alice (uid 1001) through a second uplink, limited to 4 Mbit/s:\n"
"  %s --queue 0 --route uid:1001=100:10.203.0.2:eth2 \\\n"
"      --shape eth1,eth2 --class uid:1001=11:4mbit | sh\n",
		prog, prog);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void __attribute__((format(printf, 3, 4))) fmt_into(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		die("a command is longer than %zu characters", size - 1);
}

static void copy_text(char *dst, const char *src, size_t len, const char *what)
{
	if (len >= QOS_TEXT)
		die("%s is too long: `%s'", what, src);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* A whole unsigned number in [0, max]: with base 0, decimal or 0x hex (a
 * leading 0 before more digits is refused: strtoul, iptables and ip read it
 * as octal); with base 16, hex with or without 0x; else in the given base.
 * No sign, no blank, no trailing junk. */
static bool parse_num(const char *s, int base, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		if (s[0] == '0' && s[1] != '\0')
			return false;
		base = 10;
	}
	if (*s == '\0')
		return false;
	for (const char *p = s; *p; p++)
		if (base == 16 ? !isxdigit((unsigned char)*p) : !isdigit((unsigned char)*p))
			return false;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static void parse_field(const char *opt, const char *arg, struct qos_field *f)
{
	char off[16];
	const char *colon = strchr(arg, ':');
	unsigned long o, l;

	if (!colon || (size_t)(colon - arg) >= sizeof(off))
		die("%s: want OFF:LEN, got `%s'", opt, arg);
	memcpy(off, arg, (size_t)(colon - arg));
	off[colon - arg] = '\0';
	if (!parse_num(off, 10, 31, &o) || !parse_num(colon + 1, 10, 32, &l) || l == 0 || o + l > 32)
		die("%s: `%s' is not a bit range inside 32 bits (OFF 0-31, LEN 1-32)", opt, arg);
	f->set = true;
	f->off = (unsigned int)o;
	f->len = (unsigned int)l;
}

static uint32_t field_mask(const struct qos_field *f)
{
	return (f->len == 32 ? 0xffffffffu : ((1u << f->len) - 1)) << f->off;
}

static bool fields_overlap(const struct qos_field *a, const struct qos_field *b)
{
	return a->set && b->set && (field_mask(a) & field_mask(b)) != 0;
}

/* The bits the CONNMARK rules restore and save: the layout's fields. */
static uint32_t keep_mask(const struct qos_opts *o)
{
	uint32_t m = 0;

	if (o->uid.set)
		m |= field_mask(&o->uid);
	if (o->group.set)
		m |= field_mask(&o->group);
	if (o->flag.set)
		m |= field_mask(&o->flag);
	return m ? m : 0xffffffffu;
}

/* uid:N, group:N, flag:N or VALUE[/MASK]; MASK defaults to the kept bits and
 * may not go beyond them: a bit that the connection does not keep is the
 * first packet's only, and a selector using it would split a connection
 * (its SYN one way, the rest another). */
static void parse_sel(const struct qos_opts *o, const char *opt, const char *text, size_t len,
		      struct qos_sel *sel)
{
	static const struct { const char *name; size_t off; } kinds[] = {
		{ "uid:", offsetof(struct qos_opts, uid) },
		{ "group:", offsetof(struct qos_opts, group) },
		{ "flag:", offsetof(struct qos_opts, flag) },
	};
	char *slash;
	unsigned long v, m;

	copy_text(sel->text, text, len, "a selector");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].name);
		const struct qos_field *f;

		if (strncmp(sel->text, kinds[i].name, n) != 0)
			continue;
		f = (const struct qos_field *)((const char *)o + kinds[i].off);
		if (!f->set)
			die("%s: `%s' needs --%.*s-bits", opt, sel->text, (int)(n - 1), kinds[i].name);
		if (!parse_num(sel->text + n, 0, field_mask(f) >> f->off, &v))
			die("%s: `%s': the value must be a decimal or 0x hex number that fits in %u bits",
			    opt, sel->text, f->len);
		if (v == 0)
			die("%s: `%s': 0 means no mark; pick another value", opt, sel->text);
		sel->value = (uint32_t)v << f->off;
		sel->mask = field_mask(f);
		return;
	}
	slash = strchr(sel->text, '/');
	if (slash)
		*slash = '\0';
	if (!parse_num(sel->text, 0, 0xffffffffu, &v) ||
	    (slash && !parse_num(slash + 1, 0, 0xffffffffu, &m)))
		die("%s: bad selector `%.*s' (want uid:N, group:N, flag:N or VALUE[/MASK], "
		    "numbers in decimal or 0x hex)", opt, (int)len, text);
	if (slash)
		*slash = '/';
	else
		m = keep_mask(o);
	if ((v | m) & ~keep_mask(o))
		die("%s: `%s' uses mark bits 0x%lx that the connection does not keep (the kept mask, "
		    "the layout's fields, is 0x%x): declare them with --group-bits or --flag-bits",
		    opt, sel->text, (v | m) & ~keep_mask(o), keep_mask(o));
	if (v & ~m)
		die("%s: `%s': the value has bits outside the mask", opt, sel->text);
	if (v == 0)
		die("%s: `%s': 0 means no mark; pick another value", opt, sel->text);
	sel->value = (uint32_t)v;
	sel->mask = (uint32_t)m;
}

/* Splits "LEFT=RIGHT"; returns RIGHT and the length of LEFT. */
static const char *split_eq(const char *opt, const char *arg, size_t *left_len)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || eq[1] == '\0')
		die("%s: want SEL=..., got `%s'", opt, arg);
	*left_len = (size_t)(eq - arg);
	return eq + 1;
}

/* Splits RIGHT at ':' into at most max parts (the copies live in parts). */
static int split_colons(const char *opt, const char *s, char parts[][QOS_TEXT], int max)
{
	int n = 0;

	for (;;) {
		const char *c = strchr(s, ':');
		size_t len = c ? (size_t)(c - s) : strlen(s);

		if (n == max)
			die("%s: too many `:' fields in `%s'", opt, s);
		copy_text(parts[n++], s, len, "a field");
		if (!c)
			return n;
		s = c + 1;
	}
}

/* A name the kernel takes (IFNAMSIZ, no `/', `:' or blank, not . or ..)
 * that does not begin with `-', which ip and tc would read as an option. */
static bool valid_dev(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > 15 || d[0] == '-' || strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)d[i]) && !strchr("_.-@", d[i]))
			return false;
	return true;
}

static void check_dev(const char *opt, const char *d)
{
	if (!valid_dev(d))
		die("%s: `%s' is not an interface name", opt, d);
}

static void check_rate(const char *opt, const char *r)
{
	static const char *const units[] = { "", "bit", "kbit", "mbit", "gbit",
					     "bps", "kbps", "mbps", "gbps" };
	const char *p = r;

	if (!isdigit((unsigned char)*p))
		goto bad;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i]) == 0)
			return;
bad:
	die("%s: bad rate `%s' (want a number with bit, kbit, mbit, gbit, bps, kbps, mbps or gbps)",
	    opt, r);
}

static unsigned int parse_dscp(const char *opt, const char *s)
{
	static const struct { const char *name; unsigned int v; } names[] = {
		{ "ef", 46 },
		{ "af11", 10 }, { "af12", 12 }, { "af13", 14 },
		{ "af21", 18 }, { "af22", 20 }, { "af23", 22 },
		{ "af31", 26 }, { "af32", 28 }, { "af33", 30 },
		{ "af41", 34 }, { "af42", 36 }, { "af43", 38 },
	};
	unsigned long v;

	if (parse_num(s, 10, 63, &v))
		return (unsigned int)v;
	if (strncmp(s, "cs", 2) == 0 && s[2] >= '0' && s[2] <= '7' && s[3] == '\0')
		return (unsigned int)(s[2] - '0') << 3;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].v;
	die("%s: bad DSCP `%s' (want 0-63, ef, af11..af43 or cs0..cs7)", opt, s);
}

/* TABLE:VIA:DEV */
static void parse_route_target(const char *opt, const char *s, struct qos_route *r)
{
	char parts[3][QOS_TEXT];
	struct in_addr a;

	if (split_colons(opt, s, parts, 3) != 3)
		die("%s: want TABLE:VIA:DEV, got `%s'", opt, s);
	if (!parse_num(parts[0], 10, 0xffffffffu, &r->table) || r->table == 0 ||
	    (r->table >= 253 && r->table <= 255))
		die("%s: bad table `%s' (1-4294967295; 253-255 are the system's)", opt, parts[0]);
	if (inet_pton(AF_INET, parts[1], &a) != 1)
		die("%s: `%s' is not an IPv4 address", opt, parts[1]);
	inet_ntop(AF_INET, &a, r->via, sizeof(r->via));
	check_dev(opt, parts[2]);
	strcpy(r->dev, parts[2]);
}

/* Whether the output holds the gateway's part: the CONNMARK rules and the
 * mappings that need them. */
static bool keeps_marks(const struct qos_opts *o)
{
	return o->keep || o->queue >= 0 || o->nroute || o->nshape || o->ndscp;
}

/* Each table gets one default route: a table given twice would make the
 * second `ip route add' fail half-way through the script. */
static void check_tables(const struct qos_opts *o)
{
	const struct qos_route *all[2 * QOS_MAX_ITEMS];
	int n = 0;

	for (int i = 0; i < o->nroute; i++)
		all[n++] = &o->route[i];
	for (int i = 0; i < o->ndscp_route; i++)
		all[n++] = &o->dscp_route[i];
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (all[i]->table == all[j]->table)
				die("%s: table %lu is used twice (each --route and --dscp-route needs "
				    "its own)", i < o->nroute ? "--route" : "--dscp-route", all[i]->table);
}

/* On a gateway that is also the router reading DSCP, the local mark must
 * not share bits with the user marks (a uid whose low bits equal the DSCP
 * would take the DSCP's route).  Suggests the first free place. */
static void check_dscp_mark(const struct qos_opts *o)
{
	const struct qos_field *d = &o->dscp_mark;
	const struct { const char *name; const struct qos_field *f; } fields[] = {
		{ "uid", &o->uid }, { "group", &o->group }, { "flag", &o->flag },
	};
	uint32_t used = keep_mask(o);
	char hint[48] = "";

	if (o->ndscp_route == 0 || !keeps_marks(o) || (field_mask(d) & used) == 0)
		return;
	for (unsigned int off = 0; off + d->len <= 32; off++) {
		struct qos_field f = { .set = true, .off = off, .len = d->len };

		if ((field_mask(&f) & used) == 0) {
			fmt_into(hint, sizeof(hint), ", e.g. --dscp-mark-bits %u:%u", off, d->len);
			break;
		}
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields_overlap(d, fields[i].f))
			die("--dscp-route: its local mark (bits %u-%u) overlaps the %s field "
			    "(bits %u-%u) of the marks this command line also keeps: move it with "
			    "--dscp-mark-bits OFF:LEN%s", d->off, d->off + d->len - 1, fields[i].name,
			    fields[i].f->off, fields[i].f->off + fields[i].f->len - 1, hint);
}

static void resolve(struct qos_opts *o)
{
	size_t ll;
	const char *rhs;

	if (fields_overlap(&o->uid, &o->group) || fields_overlap(&o->uid, &o->flag) ||
	    fields_overlap(&o->group, &o->flag))
		die("the mark fields overlap: uid %u:%u, group %u:%u, flag %u:%u",
		    o->uid.off, o->uid.len, o->group.off, o->group.len, o->flag.off, o->flag.len);
	for (int i = 0; i < o->nroute; i++) {
		struct qos_route *r = &o->route[i];

		rhs = split_eq("--route", o->route_arg[i], &ll);
		parse_sel(o, "--route", o->route_arg[i], ll, &r->sel);
		parse_route_target("--route", rhs, r);
	}
	for (int i = 0; i < o->nclass; i++) {
		struct qos_class *c = &o->class[i];
		char parts[3][QOS_TEXT];
		unsigned long minor;
		int n;

		rhs = split_eq("--class", o->class_arg[i], &ll);
		parse_sel(o, "--class", o->class_arg[i], ll, &c->sel);
		n = split_colons("--class", rhs, parts, 3);
		if (n < 2)
			die("--class: want SEL=MINOR:RATE[:CEIL], got `%s'", o->class_arg[i]);
		if (!parse_num(parts[0], 16, 0xffff, &minor) || minor < 2 || minor == QOS_DEFAULT_MINOR)
			die("--class: bad class minor `%s' (hex 2-ffff; 1 is the root, 10 the default)",
			    parts[0]);
		for (int j = 0; j < i; j++)
			if (o->class[j].minor == minor)
				die("--class: class 1:%lx is defined twice", minor);
		c->minor = (unsigned int)minor;
		check_rate("--class", parts[1]);
		strcpy(c->rate, parts[1]);
		if (n == 3)
			check_rate("--class", parts[2]);
		strcpy(c->ceil, n == 3 ? parts[2] : parts[1]);
	}
	for (int i = 0; i < o->ndscp; i++) {
		struct qos_dscp *d = &o->dscp[i];
		char parts[2][QOS_TEXT];
		int n;

		rhs = split_eq("--dscp", o->dscp_arg[i], &ll);
		parse_sel(o, "--dscp", o->dscp_arg[i], ll, &d->sel);
		n = split_colons("--dscp", rhs, parts, 2);
		d->dscp = parse_dscp("--dscp", parts[0]);
		if (n == 2) {
			check_dev("--dscp", parts[1]);
			strcpy(d->dev, parts[1]);
		}
	}
	for (int i = 0; i < o->ndscp_route; i++) {
		struct qos_route *r = &o->dscp_route[i];
		char left[QOS_TEXT];

		rhs = split_eq("--dscp-route", o->dscp_route_arg[i], &ll);
		copy_text(left, o->dscp_route_arg[i], ll, "a DSCP");
		r->dscp = parse_dscp("--dscp-route", left);
		if (r->dscp == 0)
			die("--dscp-route: DSCP 0 is every untagged packet; pick another");
		for (int j = 0; j < i; j++)
			if (o->dscp_route[j].dscp == r->dscp)
				die("--dscp-route: DSCP %u is given twice (only its first route "
				    "would be taken)", r->dscp);
		parse_route_target("--dscp-route", rhs, r);
	}
	check_tables(o);
	check_dscp_mark(o);
	if (o->nclass > 0 && o->nshape == 0)
		die("--class needs --shape DEV (the interfaces whose egress is shaped)");
	if (o->ifb[0] && o->nshape == 0)
		die("--ifb needs --shape DEV (the interfaces redirected into it)");
}

/* ------------------------------------------------------------------ */
/* Building the output */

static struct qos_nf *nf_add(void)
{
	if (n_nf == QOS_MAX_LINES)
		die("too many rules");
	memset(&nf_rules[n_nf], 0, sizeof(nf_rules[0]));
	return &nf_rules[n_nf++];
}

static void nf_comment(const char *text)
{
	struct qos_nf *r = nf_add();

	r->comment = true;
	fmt_into(r->ipt, sizeof(r->ipt), "%s", text);
}

static void __attribute__((format(printf, 5, 6)))
nf_rule(const char *table, const char *chain, const char *nft, bool nft_post, const char *ipt, ...)
{
	struct qos_nf *r = nf_add();
	va_list ap;
	int n;

	r->table = table;
	r->chain = chain;
	va_start(ap, ipt);
	n = vsnprintf(r->ipt, sizeof(r->ipt), ipt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->ipt))
		die("a rule is too long");
	r->nft_post = nft_post;
	if (nft)
		fmt_into(r->nft, sizeof(r->nft), "%s", nft);
	else
		r->ipt_only = true;
}

static struct qos_step *step_add(void)
{
	if (n_steps == QOS_MAX_LINES)
		die("too many commands");
	memset(&steps[n_steps], 0, sizeof(steps[0]));
	return &steps[n_steps++];
}

#define STEP(s, down_fmt, ...) fmt_into((s)->down, sizeof((s)->down), down_fmt, __VA_ARGS__)

static void step_comment(const char *text)
{
	fmt_into(step_add()->up, QOS_LINE, "# %s", text);
}

/* "-m mark --mark V/M" and "meta mark & M == V" */
static void sel_ipt(const struct qos_sel *s, char *buf, size_t size)
{
	if (s->mask == 0xffffffffu)
		fmt_into(buf, size, "-m mark --mark 0x%x", s->value);
	else
		fmt_into(buf, size, "-m mark --mark 0x%x/0x%x", s->value, s->mask);
}

static void sel_nft(const struct qos_sel *s, char *buf, size_t size)
{
	if (s->mask == 0xffffffffu)
		fmt_into(buf, size, "meta mark 0x%x", s->value);
	else
		fmt_into(buf, size, "meta mark & 0x%x == 0x%x", s->mask, s->value);
}

static void build_keep(const struct qos_opts *o)
{
	uint32_t k = keep_mask(o);
	char masks[64] = "", nftk[32] = "", nft[QOS_LINE];

	nf_comment("Keep the mark: give each packet its connection's mark before routing,");
	nf_comment("store a judged packet's mark in its connection after the verdict.");
	if (k != 0xffffffffu) {
		fmt_into(masks, sizeof(masks), " --nfmask 0x%x --ctmask 0x%x", k, k);
		fmt_into(nftk, sizeof(nftk), " & 0x%x", k);
	}
	fmt_into(nft, sizeof(nft), "meta mark set ct mark%s", nftk);
	nf_rule("mangle", "PREROUTING", nft, false, "-j CONNMARK --restore-mark%s", masks);
	if (o->queue >= 0) {
		if (o->queue_at == QOS_QUEUE_PREROUTING)
			nf_rule("mangle", "PREROUTING", NULL, false,
				"-p tcp --syn -m addrtype ! --dst-type LOCAL -j NFQUEUE --queue-num %d",
				o->queue);
		else
			nf_rule("filter", "FORWARD", NULL, false, "-p tcp --syn -j NFQUEUE --queue-num %d",
				o->queue);
	}
	if (k != 0xffffffffu)
		fmt_into(nft, sizeof(nft), "meta mark & 0x%x != 0 ct mark set meta mark & 0x%x", k, k);
	else
		fmt_into(nft, sizeof(nft), "meta mark != 0 ct mark set meta mark");
	if (k != 0xffffffffu)
		nf_rule("mangle", "POSTROUTING", nft, true,
			"-m mark ! --mark 0/0x%x -j CONNMARK --save-mark%s", k, masks);
	else
		nf_rule("mangle", "POSTROUTING", nft, true, "-m mark ! --mark 0 -j CONNMARK --save-mark");
}

/* Marked tables hold a default route; the rule at rule_prio, before them,
 * lets the main table's more specific routes (the LAN, the links) win, so
 * that replies toward the LAN, which carry the mark too, still go there. */
static void build_route_steps(const struct qos_opts *o, const struct qos_route *r,
			      const char *rule_sel, const char *why)
{
	static unsigned long next_prio;
	struct qos_step *s;

	if (next_prio == 0) {
		step_comment("The main table's specific routes first (LAN, links); its default route");
		step_comment("only after the marked tables");
		s = step_add();
		fmt_into(s->up, sizeof(s->up),
			 "ip rule add priority %lu lookup main suppress_prefixlength 0", o->rule_prio);
		STEP(s, "ip rule del priority %lu lookup main suppress_prefixlength 0", o->rule_prio);
		next_prio = o->rule_prio + 1;
	}
	step_comment(why);
	s = step_add();
	fmt_into(s->up, sizeof(s->up), "ip route add default via %s dev %s table %lu", r->via, r->dev,
		 r->table);
	STEP(s, "ip route del default via %s dev %s table %lu", r->via, r->dev, r->table);
	s = step_add();
	fmt_into(s->up, sizeof(s->up), "ip rule add priority %lu fwmark %s lookup %lu", next_prio,
		 rule_sel, r->table);
	STEP(s, "ip rule del priority %lu fwmark %s lookup %lu", next_prio, rule_sel, r->table);
	next_prio++;
}

static void build_routes(const struct qos_opts *o)
{
	for (int i = 0; i < o->nroute; i++) {
		const struct qos_route *r = &o->route[i];
		char sel[48], why[QOS_LINE];

		fmt_into(sel, sizeof(sel), "0x%x/0x%x", r->sel.value, r->sel.mask);
		fmt_into(why, sizeof(why), "Route %s (mark %s) by table %lu: via %s on %s",
			 r->sel.text, sel, r->table, r->via, r->dev);
		build_route_steps(o, r, sel, why);
	}
}

static void build_htb(const struct qos_opts *o, const char *dev)
{
	struct qos_step *s = step_add();

	fmt_into(s->up, sizeof(s->up), "tc qdisc add dev %s root handle 1: htb default %x", dev,
		 QOS_DEFAULT_MINOR);
	STEP(s, "tc qdisc del dev %s root", dev);
	fmt_into(step_add()->up, QOS_LINE, "tc class add dev %s parent 1: classid 1:1 htb rate %s",
		 dev, o->link_rate);
	fmt_into(step_add()->up, QOS_LINE,
		 "tc class add dev %s parent 1:1 classid 1:%x htb rate %s ceil %s", dev,
		 QOS_DEFAULT_MINOR, o->default_rate[0] ? o->default_rate : o->link_rate, o->link_rate);
	for (int i = 0; i < o->nclass; i++) {
		const struct qos_class *c = &o->class[i];

		fmt_into(step_add()->up, QOS_LINE,
			 "tc class add dev %s parent 1:1 classid 1:%x htb rate %s ceil %s", dev,
			 c->minor, c->rate, c->ceil);
		if (o->classifier == QOS_FW)
			fmt_into(step_add()->up, QOS_LINE,
				 "tc filter add dev %s parent 1: protocol ip handle 0x%x/0x%x fw classid 1:%x",
				 dev, c->sel.value, c->sel.mask, c->minor);
	}
}

static void build_shaping(const struct qos_opts *o)
{
	char line[QOS_LINE];

	if (o->nshape == 0)
		return;
	if (o->ifb[0]) {
		struct qos_step *s;

		step_comment("One HTB tree on the IFB device; the egress of each shaped interface");
		step_comment("is redirected into it (the mark and the class survive the redirect).");
		s = step_add();
		fmt_into(s->up, sizeof(s->up), "ip link add %s type ifb", o->ifb);
		STEP(s, "ip link del %s", o->ifb);
		fmt_into(step_add()->up, QOS_LINE, "ip link set %s up", o->ifb);
		build_htb(o, o->ifb);
		for (int i = 0; i < o->nshape; i++) {
			s = step_add();
			fmt_into(s->up, sizeof(s->up), "tc qdisc add dev %s clsact", o->shape[i]);
			STEP(s, "tc qdisc del dev %s clsact", o->shape[i]);
			fmt_into(step_add()->up, QOS_LINE,
				 "tc filter add dev %s egress protocol ip u32 match u32 0 0 "
				 "action mirred egress redirect dev %s", o->shape[i], o->ifb);
		}
	} else {
		step_comment("An HTB tree on the egress of each shaped interface");
		for (int i = 0; i < o->nshape; i++)
			build_htb(o, o->shape[i]);
	}
	if (o->classifier == QOS_FW || o->nclass == 0)
		return;
	nf_comment("Shaping: the mark picks the HTB class");
	for (int i = 0; i < o->nclass; i++) {
		const struct qos_class *c = &o->class[i];
		char ipt[QOS_LINE / 2], nft[QOS_LINE / 2];

		sel_ipt(&c->sel, ipt, sizeof(ipt));
		sel_nft(&c->sel, nft, sizeof(nft));
		for (int j = 0; j < o->nshape; j++) {
			fmt_into(line, sizeof(line), "oifname \"%s\" %s meta priority set 1:%x",
				 o->shape[j], nft, c->minor);
			nf_rule("mangle", "POSTROUTING", line, true, "-o %s %s -j CLASSIFY --set-class 1:%x",
				o->shape[j], ipt, c->minor);
		}
	}
}

static void build_dscp(const struct qos_opts *o)
{
	if (o->ndscp == 0)
		return;
	nf_comment("DSCP from the mark: the user's class travels to the next hops");
	for (int i = 0; i < o->ndscp; i++) {
		const struct qos_dscp *d = &o->dscp[i];
		char ipt[QOS_LINE / 2], nft[QOS_LINE / 2], odev[QOS_TEXT + 16] = "", nodev[QOS_TEXT + 16] = "";
		char line[QOS_LINE];

		sel_ipt(&d->sel, ipt, sizeof(ipt));
		sel_nft(&d->sel, nft, sizeof(nft));
		if (d->dev[0]) {
			fmt_into(odev, sizeof(odev), "-o %s ", d->dev);
			fmt_into(nodev, sizeof(nodev), "oifname \"%s\" ", d->dev);
		}
		fmt_into(line, sizeof(line), "%s%s ip dscp set %u", nodev, nft, d->dscp);
		nf_rule("mangle", "POSTROUTING", line, true, "%s%s -j DSCP --set-dscp %u", odev, ipt, d->dscp);
	}
}

static void build_dscp_routes(const struct qos_opts *o)
{
	const struct qos_field *f = &o->dscp_mark;
	uint32_t mask = field_mask(f);
	char text[QOS_LINE];

	if (o->ndscp_route == 0)
		return;
	fmt_into(text, sizeof(text),
		 "Upstream: the DSCP written by the gateway becomes a local mark (bits %u-%u)", f->off,
		 f->off + f->len - 1);
	nf_comment(text);
	for (int i = 0; i < o->ndscp_route; i++) {
		const struct qos_route *r = &o->dscp_route[i];
		uint32_t value = (uint32_t)r->dscp << f->off;
		char nft[QOS_LINE], sel[32], why[QOS_LINE];

		fmt_into(nft, sizeof(nft), "ip dscp %u meta mark set meta mark & 0x%x | 0x%x", r->dscp,
			 ~mask, value);
		nf_rule("mangle", "PREROUTING", nft, false,
			"-m dscp --dscp %u -j MARK --set-xmark 0x%x/0x%x", r->dscp, value, mask);
		fmt_into(sel, sizeof(sel), "0x%x/0x%x", value, mask);
		fmt_into(why, sizeof(why), "Route DSCP %u by table %lu: via %s on %s", r->dscp, r->table,
			 r->via, r->dev);
		build_route_steps(o, r, sel, why);
	}
}

/* ------------------------------------------------------------------ */
/* Printing */

static const char *ipt_cmd(const struct qos_opts *o)
{
	return o->backend == QOS_IPTABLES_LEGACY ? "iptables-legacy -w" : "iptables";
}

static void print_ipt(const struct qos_opts *o, const struct qos_nf *r, bool add)
{
	printf("%s%s%s %s %s %s\n", ipt_cmd(o),
	       strcmp(r->table, "filter") == 0 ? "" : " -t ",
	       strcmp(r->table, "filter") == 0 ? "" : r->table,
	       add ? "-A" : "-D", r->chain, r->ipt);
}

static bool nft_in_chain(const struct qos_nf *r, bool post)
{
	return !r->comment && !r->ipt_only && r->nft_post == post;
}

static void print_nft_chain(bool post)
{
	bool any = false;

	for (int i = 0; i < n_nf; i++)
		any = any || nft_in_chain(&nf_rules[i], post);
	if (!any)
		return;
	printf("\tchain %s {\n\t\ttype filter hook %s priority mangle %s 1; policy accept;\n",
	       post ? "post" : "pre", post ? "postrouting" : "prerouting", post ? "+" : "-");
	for (int i = 0; i < n_nf; i++) {
		const struct qos_nf *r = &nf_rules[i];

		if (r->comment) {
			/* a comment goes with the rule that follows it */
			int j = i + 1;

			while (j < n_nf && nf_rules[j].comment)
				j++;
			if (j < n_nf && nft_in_chain(&nf_rules[j], post))
				printf("\t\t# %s\n", r->ipt);
		} else if (nft_in_chain(r, post)) {
			printf("\t\t%s\n", r->nft);
		}
	}
	printf("\t}\n");
}

static void print_up(const struct qos_opts *o)
{
	bool any_ipt_only = false;

	if (o->backend == QOS_NFT) {
		if (n_nf > 0) {
			printf("nft -f - <<'EOF'\ntable ip " QOS_NFT_TABLE " {\n");
			print_nft_chain(false);
			print_nft_chain(true);
			printf("}\nEOF\n");
		}
		for (int i = 0; i < n_nf; i++) {
			if (!nf_rules[i].ipt_only)
				continue;
			if (!any_ipt_only)
				printf("# nft cannot queue on this kernel (no CONFIG_NFT_QUEUE): iptables does\n");
			any_ipt_only = true;
			print_ipt(o, &nf_rules[i], true);
		}
	} else {
		for (int i = 0; i < n_nf; i++) {
			if (nf_rules[i].comment)
				printf("# %s\n", nf_rules[i].ipt);
			else
				print_ipt(o, &nf_rules[i], true);
		}
	}
	for (int i = 0; i < n_steps; i++)
		printf("%s\n", steps[i].up);
}

static void print_down(const struct qos_opts *o)
{
	for (int i = n_steps - 1; i >= 0; i--)
		if (steps[i].down[0])
			printf("%s\n", steps[i].down);
	for (int i = n_nf - 1; i >= 0; i--) {
		const struct qos_nf *r = &nf_rules[i];

		if (r->comment || (o->backend == QOS_NFT && !r->ipt_only))
			continue;
		print_ipt(o, r, false);
	}
	if (o->backend == QOS_NFT && n_nf > 0)
		printf("nft delete table ip " QOS_NFT_TABLE "\n");
}

static void print_header(const struct qos_opts *o, int argc, char **argv)
{
	printf("# Generated by %s", prog);
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n# Mark layout:");
	if (o->uid.set)
		printf(" uid in bits %u-%u (0x%08x)", o->uid.off, o->uid.off + o->uid.len - 1,
		       field_mask(&o->uid));
	if (o->group.set)
		printf(", group in bits %u-%u (0x%08x)", o->group.off,
		       o->group.off + o->group.len - 1, field_mask(&o->group));
	if (o->flag.set)
		printf(", flags in bits %u-%u (0x%08x)", o->flag.off, o->flag.off + o->flag.len - 1,
		       field_mask(&o->flag));
	printf("\n");
}

/* 0, or 1 with a message when stdout could not take the output (a full
 * disk): a truncated script must not look like a whole one.  A closed pipe
 * ends the program by SIGPIPE first, as it does any filter's. */
static int finish_output(void)
{
	int err = fflush(stdout) != 0 ? errno : 0;

	if (err != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", prog,
			err != 0 ? strerror(err) : "a write failed");
		return 1;
	}
	return 0;
}

enum {
	OPT_UID_BITS = 256, OPT_GROUP_BITS, OPT_FLAG_BITS, OPT_BACKEND, OPT_KEEP, OPT_QUEUE,
	OPT_QUEUE_AT, OPT_ROUTE, OPT_SHAPE, OPT_IFB, OPT_CLASS, OPT_LINK_RATE, OPT_DEFAULT_RATE,
	OPT_CLASSIFIER, OPT_DSCP, OPT_DSCP_ROUTE, OPT_RULE_PRIORITY, OPT_DSCP_MARK_BITS, OPT_HELP,
};

static void add_arg(const char *opt, const char **list, int *n, const char *arg)
{
	if (*n == QOS_MAX_ITEMS)
		die("%s: at most %d of them", opt, QOS_MAX_ITEMS);
	list[(*n)++] = arg;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "uid-bits", required_argument, NULL, OPT_UID_BITS },
		{ "group-bits", required_argument, NULL, OPT_GROUP_BITS },
		{ "flag-bits", required_argument, NULL, OPT_FLAG_BITS },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "keep", no_argument, NULL, OPT_KEEP },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "queue-at", required_argument, NULL, OPT_QUEUE_AT },
		{ "route", required_argument, NULL, OPT_ROUTE },
		{ "shape", required_argument, NULL, OPT_SHAPE },
		{ "ifb", required_argument, NULL, OPT_IFB },
		{ "class", required_argument, NULL, OPT_CLASS },
		{ "link-rate", required_argument, NULL, OPT_LINK_RATE },
		{ "default-rate", required_argument, NULL, OPT_DEFAULT_RATE },
		{ "classifier", required_argument, NULL, OPT_CLASSIFIER },
		{ "dscp", required_argument, NULL, OPT_DSCP },
		{ "dscp-route", required_argument, NULL, OPT_DSCP_ROUTE },
		{ "rule-priority", required_argument, NULL, OPT_RULE_PRIORITY },
		{ "dscp-mark-bits", required_argument, NULL, OPT_DSCP_MARK_BITS },
		{ "help", no_argument, NULL, OPT_HELP },	/* every long option's value >= 256 */
		{ NULL, 0, NULL, 0 },
	};
	static struct qos_opts o;
	unsigned long v;
	int c;

	o.uid = (struct qos_field){ .set = true, .off = 0, .len = 16 };
	o.dscp_mark = (struct qos_field){ .set = true, .off = 0, .len = 6 };
	o.queue = -1;
	o.rule_prio = 1000;
	strcpy(o.link_rate, "1gbit");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_UID_BITS: parse_field("--uid-bits", optarg, &o.uid); break;
		case OPT_GROUP_BITS: parse_field("--group-bits", optarg, &o.group); break;
		case OPT_FLAG_BITS: parse_field("--flag-bits", optarg, &o.flag); break;
		case OPT_BACKEND:
			if (strcmp(optarg, "iptables") == 0)
				o.backend = QOS_IPTABLES;
			else if (strcmp(optarg, "iptables-legacy") == 0)
				o.backend = QOS_IPTABLES_LEGACY;
			else if (strcmp(optarg, "nft") == 0)
				o.backend = QOS_NFT;
			else
				die("--backend: `%s' is not iptables, iptables-legacy or nft", optarg);
			break;
		case OPT_KEEP: o.keep = true; break;
		case OPT_QUEUE:
			if (!parse_num(optarg, 10, 65535, &v))
				die("--queue: `%s' is not a queue number (0-65535)", optarg);
			o.queue = (int)v;
			break;
		case OPT_QUEUE_AT:
			if (strcmp(optarg, "prerouting") == 0)
				o.queue_at = QOS_QUEUE_PREROUTING;
			else if (strcmp(optarg, "forward") == 0)
				o.queue_at = QOS_QUEUE_FORWARD;
			else
				die("--queue-at: `%s' is not prerouting or forward", optarg);
			break;
		case OPT_ROUTE: add_arg("--route", o.route_arg, &o.nroute, optarg); break;
		case OPT_SHAPE: {
			const char *p = optarg;

			for (;;) {
				const char *comma = strchr(p, ',');
				size_t len = comma ? (size_t)(comma - p) : strlen(p);

				if (o.nshape == QOS_MAX_DEVS)
					die("--shape: at most %d interfaces", QOS_MAX_DEVS);
				copy_text(o.shape[o.nshape], p, len, "an interface name");
				check_dev("--shape", o.shape[o.nshape]);
				for (int i = 0; i < o.nshape; i++)
					if (strcmp(o.shape[i], o.shape[o.nshape]) == 0)
						die("--shape: `%s' is given twice", o.shape[i]);
				o.nshape++;
				if (!comma)
					break;
				p = comma + 1;
			}
			break;
		}
		case OPT_IFB:
			copy_text(o.ifb, optarg, strlen(optarg), "an interface name");
			check_dev("--ifb", o.ifb);
			break;
		case OPT_CLASS: add_arg("--class", o.class_arg, &o.nclass, optarg); break;
		case OPT_LINK_RATE:
			check_rate("--link-rate", optarg);
			copy_text(o.link_rate, optarg, strlen(optarg), "a rate");
			break;
		case OPT_DEFAULT_RATE:
			check_rate("--default-rate", optarg);
			copy_text(o.default_rate, optarg, strlen(optarg), "a rate");
			break;
		case OPT_CLASSIFIER:
			if (strcmp(optarg, "classify") == 0)
				o.classifier = QOS_CLASSIFY;
			else if (strcmp(optarg, "fw") == 0)
				o.classifier = QOS_FW;
			else
				die("--classifier: `%s' is not classify or fw", optarg);
			break;
		case OPT_RULE_PRIORITY:
			if (!parse_num(optarg, 10, 32700, &o.rule_prio) || o.rule_prio == 0)
				die("--rule-priority: `%s' is not a priority (1-32700)", optarg);
			break;
		case OPT_DSCP: add_arg("--dscp", o.dscp_arg, &o.ndscp, optarg); break;
		case OPT_DSCP_MARK_BITS:
			parse_field("--dscp-mark-bits", optarg, &o.dscp_mark);
			if (o.dscp_mark.len < 6)
				die("--dscp-mark-bits: `%s': a DSCP needs 6 bits", optarg);
			break;
		case OPT_DSCP_ROUTE:
			add_arg("--dscp-route", o.dscp_route_arg, &o.ndscp_route, optarg);
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return finish_output();
		case ':':
			die("%s needs a value (see --help)", argv[optind - 1]);
		default:
			/* optopt: a short option's letter (argv[optind - 1] may be
			 * the word before a bundle like -xh), a long option's value
			 * (>= 256) when it was given a value it does not take, 0 for
			 * an unknown or ambiguous long option */
			if (optopt > 0 && optopt < 256)
				die("unknown option `-%c' (see --help)", optopt);
			if (optopt >= 256)
				die("%s takes no value (see --help)", argv[optind - 1]);
			die("unknown option `%s' (see --help)", argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++) {
		if (strcmp(argv[optind], "up") == 0)
			o.down = false;
		else if (strcmp(argv[optind], "down") == 0)
			o.down = true;
		else
			die("unexpected argument `%s' (want up or down; see --help)", argv[optind]);
	}
	resolve(&o);

	if (keeps_marks(&o))
		build_keep(&o);
	build_routes(&o);
	build_shaping(&o);
	build_dscp(&o);
	build_dscp_routes(&o);
	if (n_nf == 0 && n_steps == 0)
		die("nothing to do: give --keep, --queue, --route, --shape, --dscp or --dscp-route");
	print_header(&o, argc, argv);
	if (o.down)
		print_down(&o);
	else
		print_up(&o);
	return finish_output();
}
