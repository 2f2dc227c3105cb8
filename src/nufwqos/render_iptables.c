/* nufw-qos: the rules in iptables' words (iptables, iptables-legacy). */
#include "config.h"

#include <stdio.h>

#include "render.h"

/* "-m mark --mark V/M" for a selector. */
static void sel_ipt(const struct qos_sel *s, char *buf, size_t size)
{
	if (s->mask == 0xffffffffu)
		fmt_into(buf, size, "-m mark --mark 0x%x", s->value);
	else
		fmt_into(buf, size, "-m mark --mark 0x%x/0x%x", s->value, s->mask);
}

/* "-j NFQUEUE ..." for a queue rule. */
static void queue_target(const struct qos_rule *r, char *buf, size_t size)
{
	if (r->queue_last > r->queue)
		fmt_into(buf, size, "-j NFQUEUE --queue-balance %d:%d%s", r->queue, r->queue_last,
			 r->bypass ? " --queue-bypass" : "");
	else
		fmt_into(buf, size, "-j NFQUEUE --queue-num %d%s", r->queue,
			 r->bypass ? " --queue-bypass" : "");
}

/* A firewall rule's match (restore): the interfaces, the protocol and the
 * new flows of it nufw judges.  In PREROUTING, only flows to a unicast
 * address not the gateway's own: what the gateway itself receives (its
 * services, a broadcast DHCP request, IPv6 multicast; IPv6's UNICAST
 * includes its own addresses, hence both matches) is not queued. */
static void fw_match(const struct qos_rule *r, char *buf, size_t size)
{
	static const char *const v4[] = {
		[QOS_PROTO_TCP] = "-p tcp --syn", [QOS_PROTO_UDP] = "-p udp",
		[QOS_PROTO_ICMP] = "-p icmp --icmp-type echo-request",
	};
	static const char *const v6[] = {
		[QOS_PROTO_TCP] = "-p tcp --syn", [QOS_PROTO_UDP] = "-p udp",
		[QOS_PROTO_ICMP] = "-p ipv6-icmp --icmpv6-type echo-request",
	};
	char in[QOS_TEXT + 8] = "", out[QOS_TEXT + 8] = "";
	char label[48] = "";

	if (r->in[0])
		fmt_into(in, sizeof(in), "-i %s ", r->in);
	if (r->out[0])
		fmt_into(out, sizeof(out), "-o %s ", r->out);
	if (r->label >= 0)
		fmt_into(label, sizeof(label), " -m connlabel --label %d%s", r->label,
			 r->kind == QOS_RULE_QUEUE ? " --set" : "");
	fmt_into(buf, size, "%s%s%s -m conntrack --ctstate NEW%s%s", in, out,
		 (r->v6 ? v6 : v4)[r->proto],
		 r->hook == QOS_HOOK_PREROUTING ?
		 " -m addrtype --dst-type UNICAST -m addrtype ! --dst-type LOCAL" : "", label);
}

static void fw_rule_text(const struct qos_rule *r, char *buf, size_t size)
{
	char match[QOS_LINE / 2], target[64];

	switch (r->kind) {
	case QOS_RULE_TRACKED:
		fmt_into(buf, size, "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT");
		return;
	case QOS_RULE_PORTAL: {
		char in[QOS_TEXT + 8] = "";

		if (r->in[0])
			fmt_into(in, sizeof(in), "-i %s ", r->in);
		fmt_into(buf, size, "%s-p tcp --dport 80 -m conntrack --ctstate NEW -m mark "
			 "--mark 0x%x -j REDIRECT --to-ports %u", in, r->value, r->minor);
		return;
	}
	case QOS_RULE_POLICY:
		fmt_into(buf, size, "-j %s", r->policy == QOS_POLICY_DROP ? "DROP" :
			 r->policy == QOS_POLICY_RETURN ? "RETURN" :
			 r->v6 ? "REJECT --reject-with icmp6-adm-prohibited" :
			 "REJECT --reject-with icmp-admin-prohibited");
		return;
	default:
		break;
	}
	fw_match(r, match, sizeof(match));
	if (r->kind == QOS_RULE_QUEUE)
		queue_target(r, target, sizeof(target));
	else
		fmt_into(target, sizeof(target), "-j ACCEPT");
	fmt_into(buf, size, "%s %s", match, target);
}

void ipt_rule_text(const struct qos_rule *r, char *buf, size_t size)
{
	char masks[64] = "", sel[QOS_LINE / 2], odev[QOS_TEXT + 16] = "", target[64];

	if (r->fw && r->kind != QOS_RULE_RESTORE && r->kind != QOS_RULE_SAVE) {
		fw_rule_text(r, buf, size);
		return;
	}

	if ((r->kind == QOS_RULE_RESTORE || r->kind == QOS_RULE_SAVE) && r->keep != 0xffffffffu)
		fmt_into(masks, sizeof(masks), " --nfmask 0x%x --ctmask 0x%x", r->keep, r->keep);
	switch (r->kind) {
	case QOS_RULE_RESTORE:
		fmt_into(buf, size, "-j CONNMARK --restore-mark%s", masks);
		break;
	case QOS_RULE_QUEUE:
		queue_target(r, target, sizeof(target));
		fmt_into(buf, size, "-p tcp --syn %s%s",
			 r->hook == QOS_HOOK_PREROUTING ? "-m addrtype ! --dst-type LOCAL " : "",
			 target);
		break;
	case QOS_RULE_SAVE:
		if (r->keep != 0xffffffffu)
			fmt_into(buf, size, "-m mark ! --mark 0/0x%x -j CONNMARK --save-mark%s",
				 r->keep, masks);
		else
			fmt_into(buf, size, "-m mark ! --mark 0 -j CONNMARK --save-mark");
		break;
	case QOS_RULE_CLASSIFY:
		sel_ipt(&r->sel, sel, sizeof(sel));
		fmt_into(buf, size, "-o %s %s -j CLASSIFY --set-class 1:%x", r->dev, sel, r->minor);
		break;
	case QOS_RULE_SET_DSCP:
		sel_ipt(&r->sel, sel, sizeof(sel));
		if (r->dev[0])
			fmt_into(odev, sizeof(odev), "-o %s ", r->dev);
		fmt_into(buf, size, "%s%s -j DSCP --set-dscp %u", odev, sel, r->dscp);
		break;
	case QOS_RULE_DSCP_MARK:
		fmt_into(buf, size, "-m dscp --dscp %u -j MARK --set-xmark 0x%x/0x%x", r->dscp,
			 r->value, r->mask);
		break;
	case QOS_RULE_COMMENT:
		fmt_into(buf, size, "%s", r->text);
		break;
	case QOS_RULE_TRACKED:	/* the firewall's: fw_rule_text */
	case QOS_RULE_JUDGED:
	case QOS_RULE_PASS:
	case QOS_RULE_POLICY:
	case QOS_RULE_PORTAL:
		buf[0] = '\0';
		break;
	}
}

void ipt_print_rule(const char *ipt_cmd, const struct qos_rule *r, bool add)
{
	static const char *const chains[] = {
		[QOS_HOOK_PREROUTING] = "PREROUTING",
		[QOS_HOOK_FORWARD] = "FORWARD",
		[QOS_HOOK_POSTROUTING] = "POSTROUTING",
	};
	char text[QOS_LINE];

	ipt_rule_text(r, text, sizeof(text));
	/* FORWARD is filter's, the default table; the others mangle's */
	printf("%s%s %s %s %s\n", ipt_cmd, r->hook == QOS_HOOK_FORWARD ? "" : " -t mangle",
	       add ? "-A" : "-D", chains[r->hook], text);
}

static void ipt_rules_up(const char *ipt_cmd, const struct qos_plan *p)
{
	for (int i = 0; i < p->nrules; i++) {
		if (p->rules[i].kind == QOS_RULE_COMMENT)
			printf("# %s\n", p->rules[i].text);
		else
			ipt_print_rule(ipt_cmd, &p->rules[i], true);
	}
}

static void ipt_rules_down(const char *ipt_cmd, const struct qos_plan *p)
{
	for (int i = p->nrules - 1; i >= 0; i--)
		if (p->rules[i].kind != QOS_RULE_COMMENT)
			ipt_print_rule(ipt_cmd, &p->rules[i], false);
}

const struct qos_renderer qos_render_iptables = {
	.ipt_cmd = "iptables", .rules_up = ipt_rules_up, .rules_down = ipt_rules_down,
};

const struct qos_renderer qos_render_iptables_legacy = {
	.ipt_cmd = "iptables-legacy -w", .rules_up = ipt_rules_up, .rules_down = ipt_rules_down,
};
