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

/* The rule's match and target: what follows -A CHAIN. */
static void ipt_rule_text(const struct qos_rule *r, char *buf, size_t size)
{
	char masks[64] = "", sel[QOS_LINE / 2], odev[QOS_TEXT + 16] = "";

	if ((r->kind == QOS_RULE_RESTORE || r->kind == QOS_RULE_SAVE) && r->keep != 0xffffffffu)
		fmt_into(masks, sizeof(masks), " --nfmask 0x%x --ctmask 0x%x", r->keep, r->keep);
	switch (r->kind) {
	case QOS_RULE_RESTORE:
		fmt_into(buf, size, "-j CONNMARK --restore-mark%s", masks);
		break;
	case QOS_RULE_QUEUE:
		fmt_into(buf, size, "-p tcp --syn %s-j NFQUEUE --queue-num %d",
			 r->hook == QOS_HOOK_PREROUTING ? "-m addrtype ! --dst-type LOCAL " : "",
			 r->queue);
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
