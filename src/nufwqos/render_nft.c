/* nufw-qos: the rules in nft's words, in table ip nufw_qos; the NFQUEUE
 * rule stays with iptables (nft's queue statement needs CONFIG_NFT_QUEUE,
 * which this kernel lacks). */
#include "config.h"

#include <stdio.h>

#include "render.h"

/* "meta mark & M == V" for a selector. */
static void sel_nft(const struct qos_sel *s, char *buf, size_t size)
{
	if (s->mask == 0xffffffffu)
		fmt_into(buf, size, "meta mark 0x%x", s->value);
	else
		fmt_into(buf, size, "meta mark & 0x%x == 0x%x", s->mask, s->value);
}

/* The rule's statement in its chain of table ip nufw_qos. */
static void nft_rule_text(const struct qos_rule *r, char *buf, size_t size)
{
	char keep[32] = "", sel[QOS_LINE / 2], oif[QOS_TEXT + 16] = "";

	switch (r->kind) {
	case QOS_RULE_RESTORE:
		if (r->keep != 0xffffffffu)
			fmt_into(keep, sizeof(keep), " & 0x%x", r->keep);
		fmt_into(buf, size, "meta mark set ct mark%s", keep);
		break;
	case QOS_RULE_SAVE:
		if (r->keep != 0xffffffffu)
			fmt_into(buf, size, "meta mark & 0x%x != 0 ct mark set meta mark & 0x%x",
				 r->keep, r->keep);
		else
			fmt_into(buf, size, "meta mark != 0 ct mark set meta mark");
		break;
	case QOS_RULE_CLASSIFY:
		sel_nft(&r->sel, sel, sizeof(sel));
		fmt_into(buf, size, "oifname \"%s\" %s meta priority set 1:%x", r->dev, sel, r->minor);
		break;
	case QOS_RULE_SET_DSCP:
		sel_nft(&r->sel, sel, sizeof(sel));
		if (r->dev[0])
			fmt_into(oif, sizeof(oif), "oifname \"%s\" ", r->dev);
		fmt_into(buf, size, "%s%s ip dscp set %u", oif, sel, r->dscp);
		break;
	case QOS_RULE_DSCP_MARK:
		fmt_into(buf, size, "ip dscp %u meta mark set meta mark & 0x%x | 0x%x", r->dscp,
			 ~r->mask, r->value);
		break;
	case QOS_RULE_QUEUE:		/* iptables' (nft_by_iptables) */
	case QOS_RULE_COMMENT:
	case QOS_RULE_TRACKED:		/* the firewall's: restore refuses nft */
	case QOS_RULE_JUDGED:
	case QOS_RULE_PASS:
	case QOS_RULE_POLICY:
	case QOS_RULE_PORTAL:
		buf[0] = '\0';
		break;
	}
}

static bool nft_by_iptables(const struct qos_rule *r)
{
	return r->kind == QOS_RULE_QUEUE;
}

/* Whether r is a rule of the postrouting (post) or prerouting chain. */
static bool nft_in_chain(const struct qos_rule *r, bool post)
{
	return r->kind != QOS_RULE_COMMENT && !nft_by_iptables(r) &&
	       (r->hook == QOS_HOOK_POSTROUTING) == post;
}

/* A comment goes with the rule that follows it. */
static bool comment_in_chain(const struct qos_plan *p, int i, bool post)
{
	int j = i + 1;

	while (j < p->nrules && p->rules[j].kind == QOS_RULE_COMMENT)
		j++;
	return j < p->nrules && nft_in_chain(&p->rules[j], post);
}

static void print_chain(const struct qos_plan *p, bool post)
{
	bool any = false;
	char text[QOS_LINE];

	for (int i = 0; i < p->nrules; i++)
		any = any || nft_in_chain(&p->rules[i], post);
	if (!any)
		return;
	printf("\tchain %s {\n\t\ttype filter hook %s priority mangle %s 1; policy accept;\n",
	       post ? "post" : "pre", post ? "postrouting" : "prerouting", post ? "+" : "-");
	for (int i = 0; i < p->nrules; i++) {
		const struct qos_rule *r = &p->rules[i];

		if (r->kind == QOS_RULE_COMMENT) {
			if (comment_in_chain(p, i, post))
				printf("\t\t# %s\n", r->text);
		} else if (nft_in_chain(r, post)) {
			nft_rule_text(r, text, sizeof(text));
			printf("\t\t%s\n", text);
		}
	}
	printf("\t}\n");
}

static void nft_rules_up(const char *ipt_cmd, const struct qos_plan *p)
{
	bool any_ipt = false;

	if (p->nrules > 0) {
		printf("nft -f - <<'EOF'\ntable ip " QOS_NFT_TABLE " {\n");
		print_chain(p, false);
		print_chain(p, true);
		printf("}\nEOF\n");
	}
	for (int i = 0; i < p->nrules; i++) {
		if (!nft_by_iptables(&p->rules[i]))
			continue;
		if (!any_ipt)
			printf("# nft cannot queue on this kernel (no CONFIG_NFT_QUEUE): iptables does\n");
		any_ipt = true;
		ipt_print_rule(ipt_cmd, &p->rules[i], true);
	}
}

static void nft_rules_down(const char *ipt_cmd, const struct qos_plan *p)
{
	for (int i = p->nrules - 1; i >= 0; i--)
		if (nft_by_iptables(&p->rules[i]))
			ipt_print_rule(ipt_cmd, &p->rules[i], false);
	if (p->nrules > 0)
		printf("nft delete table ip " QOS_NFT_TABLE "\n");
}

const struct qos_renderer qos_render_nft = {
	.ipt_cmd = "iptables", .rules_up = nft_rules_up, .rules_down = nft_rules_down,
};
