/* nufw-qos: building the plan (see plan.h): keeping the mark, routing,
 * shaping, DSCP, and routing by DSCP upstream. */
#include "config.h"

#include <string.h>

#include "plan.h"

static struct qos_rule *rule_add(struct qos_plan *p, enum qos_rule_kind kind, enum qos_hook hook)
{
	struct qos_rule *r;

	if (p->nrules == QOS_MAX_LINES)
		die("too many rules");
	r = &p->rules[p->nrules++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->hook = hook;
	return r;
}

static void rule_comment(struct qos_plan *p, const char *text)
{
	fmt_into(rule_add(p, QOS_RULE_COMMENT, QOS_HOOK_PREROUTING)->text, QOS_LINE, "%s", text);
}

static struct qos_step *step_add(struct qos_plan *p)
{
	if (p->nsteps == QOS_MAX_LINES)
		die("too many commands");
	memset(&p->steps[p->nsteps], 0, sizeof(p->steps[0]));
	return &p->steps[p->nsteps++];
}

#define STEP_UP(p, ...) fmt_into(step_add(p)->up, QOS_LINE, __VA_ARGS__)
#define STEP_DOWN(s, ...) fmt_into((s)->down, sizeof((s)->down), __VA_ARGS__)

static void step_comment(struct qos_plan *p, const char *text)
{
	STEP_UP(p, "# %s", text);
}

/* The firewall's rules of one kind for every (in, out) pair of --lan and
 * --wan interfaces and every protocol nufw judges (ICMP with --icmp
 * queue; with --icmp accept only ICMP, for QOS_RULE_PASS).  out is not
 * known yet in PREROUTING. */
static void fw_rules(const struct qos_opts *o, struct qos_plan *p, enum qos_rule_kind kind,
		     enum qos_hook hook, int label)
{
	int nin = o->nlan ? o->nlan : 1;
	int nout = o->nwan && hook == QOS_HOOK_FORWARD ? o->nwan : 1;

	for (int i = 0; i < nin; i++) {
		for (int j = 0; j < nout; j++) {
			for (int proto = QOS_PROTO_TCP; proto <= QOS_PROTO_ICMP; proto++) {
				struct qos_rule *r;

				if (kind == QOS_RULE_PASS ? proto != QOS_PROTO_ICMP :
				    proto == QOS_PROTO_ICMP && o->icmp != QOS_ICMP_QUEUE)
					continue;
				r = rule_add(p, kind, hook);
				r->fw = true;
				r->v6 = o->ipv6;
				r->proto = (enum qos_proto)proto;
				r->label = label;
				r->queue = o->queue;
				r->queue_last = o->queue_last;
				r->bypass = o->queue_bypass;
				if (o->nlan)
					strcpy(r->in, o->lan[i]);
				if (o->nwan && hook == QOS_HOOK_FORWARD)
					strcpy(r->out, o->wan[j]);
			}
		}
	}
}

/* The queue rules where --queue-at puts them (restore). */
static void build_fw_queue(const struct qos_opts *o, struct qos_plan *p, enum qos_hook hook)
{
	if ((hook == QOS_HOOK_PREROUTING) != (o->queue_at == QOS_QUEUE_PREROUTING))
		return;
	rule_comment(p, o->icmp == QOS_ICMP_QUEUE ?
		     "New flows to nufw: TCP SYNs, new UDP flows, ICMP echo requests" :
		     "New flows to nufw: TCP SYNs, new UDP flows");
	fw_rules(o, p, QOS_RULE_QUEUE, hook,
		 hook == QOS_HOOK_PREROUTING ? (int)o->ct_label : -1);
}

/* filter FORWARD (restore): what passes the gateway. */
static void build_fw_forward(const struct qos_opts *o, struct qos_plan *p)
{
	struct qos_rule *r;

	rule_comment(p, "Packets of the connections already allowed (and their ICMP errors)");
	r = rule_add(p, QOS_RULE_TRACKED, QOS_HOOK_FORWARD);
	r->fw = true;
	if (o->queue_at == QOS_QUEUE_PREROUTING) {
		rule_comment(p, "New flows nufw accepted in PREROUTING (NUFW-PRE labelled them; a");
		rule_comment(p, "refused one never gets here)");
		fw_rules(o, p, QOS_RULE_JUDGED, QOS_HOOK_FORWARD, (int)o->ct_label);
		rule_comment(p, "New flows NUFW-PRE did not queue (DNAT sent them on from the");
		rule_comment(p, "gateway's own address, or a rule before its jump let them by)");
		fw_rules(o, p, QOS_RULE_QUEUE, QOS_HOOK_FORWARD, -1);
	} else {
		build_fw_queue(o, p, QOS_HOOK_FORWARD);
	}
	if (o->icmp == QOS_ICMP_ACCEPT) {
		rule_comment(p, "--icmp accept: echo requests pass WITHOUT a decision");
		fw_rules(o, p, QOS_RULE_PASS, QOS_HOOK_FORWARD, -1);
	}
	rule_comment(p, o->policy == QOS_POLICY_RETURN ?
		     "Everything else: back to FORWARD's own rules and policy" :
		     "Everything else crossing the gateway is refused");
	r = rule_add(p, QOS_RULE_POLICY, QOS_HOOK_FORWARD);
	r->fw = true;
	r->v6 = o->ipv6;
	r->policy = o->policy;
}

static void build_keep(const struct qos_opts *o, struct qos_plan *p)
{
	uint32_t keep = layout_keep_mask(&o->layout);
	struct qos_rule *r;

	rule_comment(p, "Keep the mark: give each packet its connection's mark before routing,");
	rule_comment(p, "store a judged packet's mark in its connection after the verdict.");
	rule_add(p, QOS_RULE_RESTORE, QOS_HOOK_PREROUTING)->keep = keep;
	if (o->queue >= 0 && !o->restore) {
		rule_comment(p, "Only new TCP connections are queued here and nothing is dropped: a");
		rule_comment(p, "gateway's firewall is `nufw-qos restore' (nufw-firewall(8))");
		r = rule_add(p, QOS_RULE_QUEUE, o->queue_at == QOS_QUEUE_PREROUTING ?
			     QOS_HOOK_PREROUTING : QOS_HOOK_FORWARD);
		r->queue = o->queue;
		r->queue_last = o->queue_last;
		r->bypass = o->queue_bypass;
	}
	if (o->restore)
		build_fw_queue(o, p, QOS_HOOK_PREROUTING);
	rule_add(p, QOS_RULE_SAVE, QOS_HOOK_POSTROUTING)->keep = keep;
}

/* Marked tables hold a default route; the rule at rule_prio, before them,
 * lets the main table's more specific routes (the LAN, the links) win, so
 * that replies toward the LAN, which carry the mark too, still go there. */
static void build_route_steps(const struct qos_opts *o, struct qos_plan *p,
			      const struct qos_route *r, const char *rule_sel, const char *why)
{
	struct qos_step *s;

	if (p->next_prio == 0) {
		step_comment(p, "The main table's specific routes first (LAN, links); its default route");
		step_comment(p, "only after the marked tables");
		s = step_add(p);
		fmt_into(s->up, sizeof(s->up),
			 "ip rule add priority %lu lookup main suppress_prefixlength 0", o->rule_prio);
		STEP_DOWN(s, "ip rule del priority %lu lookup main suppress_prefixlength 0", o->rule_prio);
		p->next_prio = o->rule_prio + 1;
	}
	step_comment(p, why);
	s = step_add(p);
	fmt_into(s->up, sizeof(s->up), "ip route add default via %s dev %s table %lu", r->via, r->dev,
		 r->table);
	STEP_DOWN(s, "ip route del default via %s dev %s table %lu", r->via, r->dev, r->table);
	s = step_add(p);
	fmt_into(s->up, sizeof(s->up), "ip rule add priority %lu fwmark %s lookup %lu", p->next_prio,
		 rule_sel, r->table);
	STEP_DOWN(s, "ip rule del priority %lu fwmark %s lookup %lu", p->next_prio, rule_sel, r->table);
	p->next_prio++;
}

static void build_routes(const struct qos_opts *o, struct qos_plan *p)
{
	for (int i = 0; i < o->nroute; i++) {
		const struct qos_route *r = &o->route[i];
		char sel[48], why[QOS_LINE];

		fmt_into(sel, sizeof(sel), "0x%x/0x%x", r->sel.value, r->sel.mask);
		fmt_into(why, sizeof(why), "Route %s (mark %s) by table %lu: via %s on %s",
			 r->sel.text, sel, r->table, r->via, r->dev);
		build_route_steps(o, p, r, sel, why);
	}
}

/* The HTB tree on dev: root 1:1, default class 1:10, a class per --class
 * (and its fw filter when tc picks the class). */
static void build_htb(const struct qos_opts *o, struct qos_plan *p, const char *dev)
{
	struct qos_step *s = step_add(p);

	fmt_into(s->up, sizeof(s->up), "tc qdisc add dev %s root handle 1: htb default %x", dev,
		 QOS_DEFAULT_MINOR);
	STEP_DOWN(s, "tc qdisc del dev %s root", dev);
	STEP_UP(p, "tc class add dev %s parent 1: classid 1:1 htb rate %s", dev, o->link_rate);
	STEP_UP(p, "tc class add dev %s parent 1:1 classid 1:%x htb rate %s ceil %s", dev,
		QOS_DEFAULT_MINOR, o->default_rate[0] ? o->default_rate : o->link_rate, o->link_rate);
	for (int i = 0; i < o->nclass; i++) {
		const struct qos_class *c = &o->class[i];

		STEP_UP(p, "tc class add dev %s parent 1:1 classid 1:%x htb rate %s ceil %s", dev,
			c->minor, c->rate, c->ceil);
		if (o->classifier == QOS_FW)
			STEP_UP(p, "tc filter add dev %s parent 1: protocol ip handle 0x%x/0x%x fw classid 1:%x",
				dev, c->sel.value, c->sel.mask, c->minor);
	}
}

/* One tree on the IFB device, fed by the egress of every shaped device. */
static void build_ifb(const struct qos_opts *o, struct qos_plan *p)
{
	struct qos_step *s;

	step_comment(p, "One HTB tree on the IFB device; the egress of each shaped interface");
	step_comment(p, "is redirected into it (the mark and the class survive the redirect).");
	s = step_add(p);
	fmt_into(s->up, sizeof(s->up), "ip link add %s type ifb", o->ifb);
	STEP_DOWN(s, "ip link del %s", o->ifb);
	STEP_UP(p, "ip link set %s up", o->ifb);
	build_htb(o, p, o->ifb);
	for (int i = 0; i < o->nshape; i++) {
		s = step_add(p);
		fmt_into(s->up, sizeof(s->up), "tc qdisc add dev %s clsact", o->shape[i]);
		STEP_DOWN(s, "tc qdisc del dev %s clsact", o->shape[i]);
		STEP_UP(p, "tc filter add dev %s egress protocol ip u32 match u32 0 0 "
			"action mirred egress redirect dev %s", o->shape[i], o->ifb);
	}
}

static void build_shaping(const struct qos_opts *o, struct qos_plan *p)
{
	if (o->nshape == 0)
		return;
	if (o->ifb[0]) {
		build_ifb(o, p);
	} else {
		step_comment(p, "An HTB tree on the egress of each shaped interface");
		for (int i = 0; i < o->nshape; i++)
			build_htb(o, p, o->shape[i]);
	}
	if (o->classifier == QOS_FW || o->nclass == 0)
		return;
	rule_comment(p, "Shaping: the mark picks the HTB class");
	for (int i = 0; i < o->nclass; i++) {
		for (int j = 0; j < o->nshape; j++) {
			struct qos_rule *r = rule_add(p, QOS_RULE_CLASSIFY, QOS_HOOK_POSTROUTING);

			r->sel = o->class[i].sel;
			strcpy(r->dev, o->shape[j]);
			r->minor = o->class[i].minor;
		}
	}
}

static void build_dscp(const struct qos_opts *o, struct qos_plan *p)
{
	if (o->ndscp == 0)
		return;
	rule_comment(p, "DSCP from the mark: the user's class travels to the next hops");
	for (int i = 0; i < o->ndscp; i++) {
		struct qos_rule *r = rule_add(p, QOS_RULE_SET_DSCP, QOS_HOOK_POSTROUTING);

		r->sel = o->dscp[i].sel;
		strcpy(r->dev, o->dscp[i].dev);
		r->dscp = o->dscp[i].dscp;
	}
}

static void build_dscp_routes(const struct qos_opts *o, struct qos_plan *p)
{
	const struct qos_field *f = &o->dscp_mark;
	char text[QOS_LINE];

	if (o->ndscp_route == 0)
		return;
	fmt_into(text, sizeof(text),
		 "Upstream: the DSCP written by the gateway becomes a local mark (bits %u-%u)", f->off,
		 f->off + f->len - 1);
	rule_comment(p, text);
	for (int i = 0; i < o->ndscp_route; i++) {
		const struct qos_route *route = &o->dscp_route[i];
		struct qos_rule *r = rule_add(p, QOS_RULE_DSCP_MARK, QOS_HOOK_PREROUTING);
		char sel[32], why[QOS_LINE];

		r->dscp = route->dscp;
		r->value = (uint32_t)route->dscp << f->off;
		r->mask = field_mask(f);
		fmt_into(sel, sizeof(sel), "0x%x/0x%x", r->value, r->mask);
		fmt_into(why, sizeof(why), "Route DSCP %u by table %lu: via %s on %s", route->dscp,
			 route->table, route->via, route->dev);
		build_route_steps(o, p, route, sel, why);
	}
}

/* nat PREROUTING (restore, --portal-redirect): a new HTTP connection
 * nuauth marked for the login page goes to its redirect on the gateway. */
static void build_portal(const struct qos_opts *o, struct qos_plan *p)
{
	if (!o->portal_mark)
		return;
	rule_comment(p, "HTTP of hosts with no user (nuauth_portal_mark) to nuauth's redirect");
	for (int i = 0; i < (o->nlan ? o->nlan : 1); i++) {
		struct qos_rule *r = rule_add(p, QOS_RULE_PORTAL, QOS_HOOK_NAT_PREROUTING);

		r->fw = true;
		r->value = (uint32_t)o->portal_mark;
		r->minor = (unsigned int)o->portal_port;
		if (o->nlan)
			strcpy(r->in, o->lan[i]);
	}
}

void qos_plan_build(const struct qos_opts *o, struct qos_plan *p)
{
	memset(p, 0, sizeof(*p));
	if (qos_keeps_marks(o))
		build_keep(o, p);
	if (o->restore) {
		build_fw_forward(o, p);
		build_portal(o, p);
	}
	build_routes(o, p);
	build_shaping(o, p);
	build_dscp(o, p);
	build_dscp_routes(o, p);
	if (p->nrules == 0 && p->nsteps == 0 && !o->no_netfilter)
		die("nothing to do: give --keep, --queue, --route, --shape, --dscp or --dscp-route");
}
