/* nufw-qos: the options, read from the command line (see options.h). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: %s [up|down|restore|unrestore] [OPTION]...\n"
"The gateway's rules for nufw, and the commands that route, shape and tag\n"
"traffic by the user mark nufw -m puts on packets.\n"
"  restore     the gateway's firewall ruleset, iptables-restore input (for\n"
"              --family ipv6, ip6tables-restore input): queue new TCP, UDP\n"
"              and ICMP echo flows to nufw, keep the mark, drop the rest of\n"
"              FORWARD; with --route, --class and --dscp, their rules too.\n"
"              Load it with iptables-restore --noflush: it adds its own\n"
"              chains (NUFW-PRE, NUFW-POST, NUFW-FORWARD) and the jumps to\n"
"              them, in one transaction.  Needs --queue.\n"
"  unrestore   the input that removes exactly what restore added\n"
"  up          (the default) a shell script: the CONNMARK, classify and DSCP\n"
"              rules as iptables or nft commands, the ip and tc commands\n"
"  down        the script that removes what up added (same options)\n"
"nufw-firewall(8) runs restore and up --no-netfilter at boot.  Routes are\n"
"IPv4 routes.\n"
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
"  --queue NUM|FIRST:LAST also queue new TCP connections crossing the gateway\n"
"                         to nufw on NFQUEUE NUM (FIRST:LAST: --queue-balance\n"
"                         over nufw -q FIRST:LAST's queues)\n"
"  --queue-bypass         a queue with no nufw bound lets packets pass (fail\n"
"                         open) instead of dropping them\n"
"  --queue-at prerouting|forward\n"
"                         where to queue (default prerouting: the SYN gets its\n"
"                         mark before routing, so it follows the user's route)\n"
"\n"
"The firewall ruleset (restore, unrestore):\n"
"  --family ipv4|ipv6     which ruleset (default ipv4)\n"
"  --lan IF[,IF]...       queue only flows entering by these interfaces\n"
"                         (default: any); others are dropped in FORWARD\n"
"  --wan IF[,IF]...       accept judged flows only when they leave by these\n"
"                         (default: any)\n"
"  --icmp queue|accept|drop\n"
"                         new ICMP (ICMPv6) echo requests: judged by nufw\n"
"                         (default), passed without a decision, or dropped\n"
"  --ct-label N           the conntrack label (0-127, default 127) a flow\n"
"                         queued in PREROUTING gets, by which NUFW-FORWARD\n"
"                         knows nufw judged it\n"
"  --portal-redirect MARK:PORT\n"
"                         new HTTP connections nuauth gave MARK\n"
"                         (nuauth_portal_mark: hosts with no user) go to the\n"
"                         gateway's PORT (nuauth_portal_redirect_listen), a\n"
"                         REDIRECT in nat PREROUTING; needs --queue-at\n"
"                         prerouting\n"
"  --forward-policy drop|reject|return\n"
"                         the end of NUFW-FORWARD for what no rule accepted:\n"
"                         DROP (default), REJECT, or RETURN to FORWARD's own\n"
"                         rules and policy\n"
"  --no-netfilter         (up, down) only the ip and tc commands\n"
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
		qos_prog, qos_prog);
}

enum {
	OPT_UID_BITS = 256, OPT_GROUP_BITS, OPT_FLAG_BITS, OPT_BACKEND, OPT_KEEP, OPT_QUEUE,
	OPT_QUEUE_AT, OPT_ROUTE, OPT_SHAPE, OPT_IFB, OPT_CLASS, OPT_LINK_RATE, OPT_DEFAULT_RATE,
	OPT_CLASSIFIER, OPT_DSCP, OPT_DSCP_ROUTE, OPT_RULE_PRIORITY, OPT_DSCP_MARK_BITS, OPT_HELP,
	OPT_QUEUE_BYPASS, OPT_FAMILY, OPT_LAN, OPT_WAN, OPT_ICMP, OPT_FORWARD_POLICY,
	OPT_NO_NETFILTER, OPT_CT_LABEL, OPT_PORTAL_REDIRECT,
};

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
	{ "queue-bypass", no_argument, NULL, OPT_QUEUE_BYPASS },
	{ "family", required_argument, NULL, OPT_FAMILY },
	{ "lan", required_argument, NULL, OPT_LAN },
	{ "wan", required_argument, NULL, OPT_WAN },
	{ "icmp", required_argument, NULL, OPT_ICMP },
	{ "forward-policy", required_argument, NULL, OPT_FORWARD_POLICY },
	{ "no-netfilter", no_argument, NULL, OPT_NO_NETFILTER },
	{ "ct-label", required_argument, NULL, OPT_CT_LABEL },
	{ "portal-redirect", required_argument, NULL, OPT_PORTAL_REDIRECT },
	{ "help", no_argument, NULL, OPT_HELP },	/* every long option's value >= 256 */
	{ NULL, 0, NULL, 0 },
};

struct choice {
	const char *name;
	int value;
};

/* The value of the choice named arg; dies "OPT: `ARG' is not WANT" when
 * there is none. */
static int choose(const char *opt, const char *arg, const struct choice *c, size_t n,
		  const char *want)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(arg, c[i].name) == 0)
			return c[i].value;
	die("%s: `%s' is not %s", opt, arg, want);
}

#define CHOOSE(opt, arg, choices, want) \
	choose(opt, arg, choices, sizeof(choices) / sizeof(choices[0]), want)

static void add_arg(const char *opt, const char **list, int *n, const char *arg)
{
	if (*n == QOS_MAX_ITEMS)
		die("%s: at most %d of them", opt, QOS_MAX_ITEMS);
	list[(*n)++] = arg;
}

/* --shape, --lan, --wan DEV[,DEV]...: each a valid name, none twice. */
static void add_devs(const char *opt, char list[][QOS_TEXT], int *n, const char *arg)
{
	const char *p = arg;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (*n == QOS_MAX_DEVS)
			die("%s: at most %d interfaces", opt, QOS_MAX_DEVS);
		copy_text(list[*n], p, len, "an interface name");
		check_dev(opt, list[*n]);
		for (int i = 0; i < *n; i++)
			if (strcmp(list[i], list[*n]) == 0)
				die("%s: `%s' is given twice", opt, list[i]);
		(*n)++;
		if (!comma)
			return;
		p = comma + 1;
	}
}

/* --queue NUM or FIRST:LAST */
static void set_queue(struct qos_opts *o, const char *arg)
{
	char first[16];
	const char *colon = strchr(arg, ':');
	unsigned long a, b;

	if (!colon) {
		if (!parse_num(arg, 10, 65535, &a))
			die("--queue: `%s' is not a queue number (0-65535)", arg);
		o->queue = o->queue_last = (int)a;
		return;
	}
	if ((size_t)(colon - arg) >= sizeof(first))
		die("--queue: `%s' is not a queue number (0-65535) or range FIRST:LAST", arg);
	memcpy(first, arg, (size_t)(colon - arg));
	first[colon - arg] = '\0';
	if (!parse_num(first, 10, 65535, &a) || !parse_num(colon + 1, 10, 65535, &b) || b <= a)
		die("--queue: `%s' is not a queue number (0-65535) or range FIRST:LAST "
		    "(FIRST < LAST)", arg);
	o->queue = (int)a;
	o->queue_last = (int)b;
}

/* --portal-redirect MARK:PORT, MARK decimal or 0x hex, not 0. */
static void set_portal(struct qos_opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char mark[16];
	size_t ml = colon ? (size_t)(colon - arg) : 0;
	bool hex = ml > 2 && arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X');

	if (!colon || ml == 0 || ml >= sizeof(mark))
		die("--portal-redirect: `%s' is not MARK:PORT", arg);
	memcpy(mark, arg, ml);
	mark[ml] = '\0';
	if (!parse_num(hex ? mark + 2 : mark, hex ? 16 : 10, 0xffffffffUL, &o->portal_mark) ||
	    o->portal_mark == 0)
		die("--portal-redirect: `%s': the mark is a decimal or 0x hex number, not 0", arg);
	if (!parse_num(colon + 1, 10, 65535, &o->portal_port) || o->portal_port == 0)
		die("--portal-redirect: `%s': the port is 1-65535", arg);
}

static void set_rate(const char *opt, char *dst, const char *arg)
{
	check_rate(opt, arg);
	copy_text(dst, arg, strlen(arg), "a rate");
}

/* The layout, the backend and the numbers. */
static void take_setting(struct qos_opts *o, int c, const char *arg)
{
	static const struct choice backends[] = {
		{ "iptables", QOS_IPTABLES }, { "iptables-legacy", QOS_IPTABLES_LEGACY },
		{ "nft", QOS_NFT },
	};
	static const struct choice queue_ats[] = {
		{ "prerouting", QOS_QUEUE_PREROUTING }, { "forward", QOS_QUEUE_FORWARD },
	};
	static const struct choice classifiers[] = {
		{ "classify", QOS_CLASSIFY }, { "fw", QOS_FW },
	};
	static const struct choice families[] = { { "ipv4", 0 }, { "ipv6", 1 } };
	unsigned long v;
	static const struct choice icmps[] = {
		{ "queue", QOS_ICMP_QUEUE }, { "accept", QOS_ICMP_ACCEPT }, { "drop", QOS_ICMP_DROP },
	};
	static const struct choice policies[] = {
		{ "drop", QOS_POLICY_DROP }, { "reject", QOS_POLICY_REJECT },
		{ "return", QOS_POLICY_RETURN },
	};

	switch (c) {
	case OPT_UID_BITS: layout_parse_field("--uid-bits", arg, &o->layout.uid); break;
	case OPT_GROUP_BITS: layout_parse_field("--group-bits", arg, &o->layout.group); break;
	case OPT_FLAG_BITS: layout_parse_field("--flag-bits", arg, &o->layout.flag); break;
	case OPT_DSCP_MARK_BITS:
		layout_parse_field("--dscp-mark-bits", arg, &o->dscp_mark);
		if (o->dscp_mark.len < 6)
			die("--dscp-mark-bits: `%s': a DSCP needs 6 bits", arg);
		break;
	case OPT_BACKEND:
		o->backend = CHOOSE("--backend", arg, backends, "iptables, iptables-legacy or nft");
		break;
	case OPT_QUEUE: set_queue(o, arg); break;
	case OPT_CT_LABEL:
		if (!parse_num(arg, 10, 127, &v))
			die("--ct-label: `%s' is not a conntrack label (0-127)", arg);
		o->ct_label = (unsigned int)v;
		break;
	case OPT_PORTAL_REDIRECT: set_portal(o, arg); break;
	case OPT_FAMILY: o->ipv6 = CHOOSE("--family", arg, families, "ipv4 or ipv6"); break;
	case OPT_ICMP: o->icmp = CHOOSE("--icmp", arg, icmps, "queue, accept or drop"); break;
	case OPT_FORWARD_POLICY:
		o->policy = CHOOSE("--forward-policy", arg, policies, "drop, reject or return");
		break;
	case OPT_QUEUE_AT:
		o->queue_at = CHOOSE("--queue-at", arg, queue_ats, "prerouting or forward");
		break;
	case OPT_CLASSIFIER:
		o->classifier = CHOOSE("--classifier", arg, classifiers, "classify or fw");
		break;
	case OPT_RULE_PRIORITY:
		if (!parse_num(arg, 10, 32700, &o->rule_prio) || o->rule_prio == 0)
			die("--rule-priority: `%s' is not a priority (1-32700)", arg);
		break;
	}
}

/* What to do and on which interfaces. */
static void take_mapping(struct qos_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_KEEP: o->keep = true; break;
	case OPT_QUEUE_BYPASS: o->queue_bypass = true; break;
	case OPT_NO_NETFILTER: o->no_netfilter = true; break;
	case OPT_LAN: add_devs("--lan", o->lan, &o->nlan, arg); break;
	case OPT_WAN: add_devs("--wan", o->wan, &o->nwan, arg); break;
	case OPT_ROUTE: add_arg("--route", o->route_arg, &o->nroute, arg); break;
	case OPT_CLASS: add_arg("--class", o->class_arg, &o->nclass, arg); break;
	case OPT_DSCP: add_arg("--dscp", o->dscp_arg, &o->ndscp, arg); break;
	case OPT_DSCP_ROUTE: add_arg("--dscp-route", o->dscp_route_arg, &o->ndscp_route, arg); break;
	case OPT_SHAPE: add_devs("--shape", o->shape, &o->nshape, arg); break;
	case OPT_IFB:
		copy_text(o->ifb, arg, strlen(arg), "an interface name");
		check_dev("--ifb", o->ifb);
		break;
	case OPT_LINK_RATE: set_rate("--link-rate", o->link_rate, arg); break;
	case OPT_DEFAULT_RATE: set_rate("--default-rate", o->default_rate, arg); break;
	default: take_setting(o, c, arg); break;
	}
}

/* getopt_long's answer for a word it did not take: c is ':' for a missing
 * value, else optopt is a short option's letter (argv[optind - 1] may be
 * the word before a bundle like -xh), a long option's value (>= 256) when
 * it was given a value it does not take, 0 for an unknown or ambiguous
 * long option. */
static void __attribute__((noreturn)) bad_option(int c, char **argv)
{
	if (c == ':')
		die("%s needs a value (see --help)", argv[optind - 1]);
	if (optopt > 0 && optopt < 256)
		die("unknown option `-%c' (see --help)", optopt);
	if (optopt >= 256)
		die("%s takes no value (see --help)", argv[optind - 1]);
	die("unknown option `%s' (see --help)", argv[optind - 1]);
}

static void set_defaults(struct qos_opts *o)
{
	o->layout.uid = (struct qos_field){ .set = true, .off = 0, .len = 16 };
	o->dscp_mark = (struct qos_field){ .set = true, .off = 0, .len = 6 };
	o->queue = o->queue_last = -1;
	o->rule_prio = 1000;
	o->ct_label = 127;
	strcpy(o->link_rate, "1gbit");
}

bool qos_options_read(int argc, char **argv, struct qos_opts *o)
{
	int c;

	set_defaults(o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'h' || c == OPT_HELP) {
			usage(stdout);
			return false;
		}
		if (c < 256)
			bad_option(c, argv);
		take_mapping(o, c, optarg);
	}
	for (; optind < argc; optind++) {
		static const char *const words[] = { "up", "down", "restore", "unrestore" };
		size_t w = 0;

		while (w < 4 && strcmp(argv[optind], words[w]) != 0)
			w++;
		if (w == 4)
			die("unexpected argument `%s' (want up, down, restore or unrestore; see --help)",
			    argv[optind]);
		o->down = w == 1 || w == 3;
		o->restore = w >= 2;
	}
	qos_resolve(o);
	return true;
}
