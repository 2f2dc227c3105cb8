/* nufw-qos: the firewall ruleset as iptables-restore (ip6tables-restore)
 * input.  Every rule goes into a chain of its own, NUFW-PRE and NUFW-POST
 * in mangle, NUFW-FORWARD in filter, reached by one jump inserted first in
 * PREROUTING, POSTROUTING and FORWARD: loaded with --noflush, the file adds
 * them to whatever the tables hold, in one transaction per table, and the
 * removal (unrestore) deletes the three jumps and the three chains, leaving
 * the administrator's rules as they were.  With --portal-redirect, a fourth
 * chain, NUFW-PORTAL in nat, jumped to from nat PREROUTING. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "render.h"

struct fw_chain {
	const char *table, *name, *from;	/* from: the built-in chain that jumps */
	enum qos_hook hook;
};

static const struct fw_chain chains[] = {
	{ "mangle", "NUFW-PRE", "PREROUTING", QOS_HOOK_PREROUTING },
	{ "mangle", "NUFW-POST", "POSTROUTING", QOS_HOOK_POSTROUTING },
	{ "filter", "NUFW-FORWARD", "FORWARD", QOS_HOOK_FORWARD },
	{ "nat", "NUFW-PORTAL", "PREROUTING", QOS_HOOK_NAT_PREROUTING },	/* --portal-redirect */
};
#define NCHAINS (sizeof(chains) / sizeof(chains[0]))

/* Whether rule i of the plan is a comment on a rule of hook h: a comment
 * goes with the rule that follows it. */
static bool comment_on(const struct qos_plan *p, int i, enum qos_hook h)
{
	int j = i + 1;

	while (j < p->nrules && p->rules[j].kind == QOS_RULE_COMMENT)
		j++;
	return j < p->nrules && p->rules[j].hook == h;
}

static void print_chain_rules(const struct qos_plan *p, const struct fw_chain *c)
{
	char text[QOS_LINE];

	for (int i = 0; i < p->nrules; i++) {
		const struct qos_rule *r = &p->rules[i];

		if (r->kind == QOS_RULE_COMMENT) {
			if (comment_on(p, i, c->hook))
				printf("# %s\n", r->text);
		} else if (r->hook == c->hook) {
			ipt_rule_text(r, text, sizeof(text));
			printf("-A %s %s\n", c->name, text);
		}
	}
}

static void print_table(const struct qos_plan *p, const char *table, bool down)
{
	printf("*%s\n", table);
	for (size_t i = 0; i < NCHAINS; i++)
		if (!down && strcmp(chains[i].table, table) == 0)
			printf(":%s - [0:0]\n", chains[i].name);
	for (size_t i = 0; i < NCHAINS; i++) {
		const struct fw_chain *c = &chains[i];

		if (strcmp(c->table, table) != 0)
			continue;
		if (down) {
			printf("-D %s -j %s\n-F %s\n-X %s\n", c->from, c->name, c->name, c->name);
		} else {
			printf("-I %s 1 -j %s\n", c->from, c->name);
			print_chain_rules(p, c);
		}
	}
	printf("COMMIT\n");
}

void qos_render_restore(const struct qos_opts *o, const struct qos_plan *p, int argc,
			char **argv)
{
	const char *cmd = o->backend == QOS_IPTABLES_LEGACY ?
		(o->ipv6 ? "ip6tables-legacy-restore" : "iptables-legacy-restore") :
		(o->ipv6 ? "ip6tables-restore" : "iptables-restore");

	qos_print_header(&o->layout, argc, argv);
	printf("# %s: load with `%s --noflush FILE'%s\n", o->ipv6 ? "IPv6" : "IPv4", cmd,
	       o->down ? (o->portal_mark ?
			  "; it removes the chains NUFW-PRE, NUFW-POST, NUFW-FORWARD, NUFW-PORTAL" :
			  "; it removes the chains NUFW-PRE, NUFW-POST, NUFW-FORWARD") :
	       "; remove with the unrestore file");
	print_table(p, "mangle", o->down);
	print_table(p, "filter", o->down);
	if (o->portal_mark)
		print_table(p, "nat", o->down);
}
