/* nufw-qos: the mappings (--route, --class, --dscp, --dscp-route), read
 * once the layout is known, and the checks across options (see options.h). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "options.h"

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

bool qos_keeps_marks(const struct qos_opts *o)
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
	const struct qos_layout *l = &o->layout;
	const struct { const char *name; const struct qos_field *f; } fields[] = {
		{ "uid", &l->uid }, { "group", &l->group }, { "flag", &l->flag },
	};
	uint32_t used = layout_keep_mask(l);
	char hint[48] = "";

	if (o->ndscp_route == 0 || !qos_keeps_marks(o) || (field_mask(d) & used) == 0)
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

/* The firewall's options belong to restore and unrestore; those need a
 * queue, and iptables-restore. */
static void check_modes(const struct qos_opts *o)
{
	if (!o->restore) {
		/* up --no-netfilter takes nufw-firewall's whole OPTIONS line */
		if (!o->no_netfilter && (o->nlan || o->nwan || o->ipv6 || o->icmp != QOS_ICMP_QUEUE ||
		    o->policy != QOS_POLICY_DROP || o->portal_mark))
			die("--lan, --wan, --family, --icmp, --portal-redirect and --forward-policy "
			    "shape the firewall ruleset: use them with restore or unrestore");
		return;
	}
	if (o->no_netfilter)
		die("--no-netfilter is for up and down (restore prints only netfilter rules)");
	if (o->queue < 0)
		die("restore: the firewall ruleset needs --queue NUM (nufw's queue)");
	if (o->portal_mark && o->queue_at != QOS_QUEUE_PREROUTING)
		die("--portal-redirect needs --queue-at prerouting: nufw's mark must be on the "
		    "packet before nat PREROUTING");
	if (o->backend == QOS_NFT)
		die("restore: the firewall ruleset is iptables-restore input only: nft's queue "
		    "statement needs CONFIG_NFT_QUEUE, which this kernel lacks (iptables with its "
		    "nft backend keeps the rules in nftables)");
}

/* --route SEL=TABLE:VIA:DEV */
static void resolve_route(const struct qos_opts *o, const char *arg, struct qos_route *r)
{
	size_t ll;
	const char *rhs = split_eq("--route", arg, &ll);

	layout_parse_sel(&o->layout, "--route", arg, ll, &r->sel);
	parse_route_target("--route", rhs, r);
}

/* --class SEL=MINOR:RATE[:CEIL], the i-th */
static void resolve_class(struct qos_opts *o, int i)
{
	struct qos_class *c = &o->class[i];
	char parts[3][QOS_TEXT];
	unsigned long minor;
	size_t ll;
	const char *rhs = split_eq("--class", o->class_arg[i], &ll);
	int n;

	layout_parse_sel(&o->layout, "--class", o->class_arg[i], ll, &c->sel);
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

/* --dscp SEL=DSCP[:DEV] */
static void resolve_dscp(const struct qos_opts *o, const char *arg, struct qos_dscp *d)
{
	char parts[2][QOS_TEXT];
	size_t ll;
	const char *rhs = split_eq("--dscp", arg, &ll);
	int n;

	layout_parse_sel(&o->layout, "--dscp", arg, ll, &d->sel);
	n = split_colons("--dscp", rhs, parts, 2);
	d->dscp = parse_dscp("--dscp", parts[0]);
	if (n == 2) {
		check_dev("--dscp", parts[1]);
		strcpy(d->dev, parts[1]);
	}
}

/* --dscp-route DSCP=TABLE:VIA:DEV, the i-th */
static void resolve_dscp_route(struct qos_opts *o, int i)
{
	struct qos_route *r = &o->dscp_route[i];
	char left[QOS_TEXT];
	size_t ll;
	const char *rhs = split_eq("--dscp-route", o->dscp_route_arg[i], &ll);

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

void qos_resolve(struct qos_opts *o)
{
	layout_check(&o->layout);
	for (int i = 0; i < o->nroute; i++)
		resolve_route(o, o->route_arg[i], &o->route[i]);
	for (int i = 0; i < o->nclass; i++)
		resolve_class(o, i);
	for (int i = 0; i < o->ndscp; i++)
		resolve_dscp(o, o->dscp_arg[i], &o->dscp[i]);
	for (int i = 0; i < o->ndscp_route; i++)
		resolve_dscp_route(o, i);
	check_tables(o);
	check_dscp_mark(o);
	if (o->nclass > 0 && o->nshape == 0)
		die("--class needs --shape DEV (the interfaces whose egress is shaped)");
	if (o->ifb[0] && o->nshape == 0)
		die("--ifb needs --shape DEV (the interfaces redirected into it)");
	check_modes(o);
}
