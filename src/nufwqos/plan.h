/* nufw-qos: the recipe as a plan, independent of the backend: netfilter
 * rules described by what they do (restore the mark, queue, save it,
 * classify, write DSCP, turn DSCP into a mark), in order, and the ip and tc
 * commands with the command that undoes each.  The renderers (render.h)
 * print the rules in iptables' or nft's words. */
#ifndef NUFWQOS_PLAN_H
#define NUFWQOS_PLAN_H

#include <stdint.h>

#include "options.h"

#define QOS_MAX_LINES 512

enum qos_rule_kind {
	QOS_RULE_COMMENT,	/* text: says what the rules after it do */
	QOS_RULE_RESTORE,	/* the connection's kept bits into the packet's mark */
	QOS_RULE_QUEUE,		/* new TCP connections to nufw on NFQUEUE queue */
	QOS_RULE_SAVE,		/* a marked packet's kept bits into its connection */
	QOS_RULE_CLASSIFY,	/* sel's packets leaving by dev into class 1:minor */
	QOS_RULE_SET_DSCP,	/* DSCP dscp into sel's packets (leaving by dev, if any) */
	QOS_RULE_DSCP_MARK,	/* packets with DSCP dscp get value in the mask's bits */
};

/* Where a rule hooks: mangle PREROUTING or POSTROUTING, filter FORWARD. */
enum qos_hook { QOS_HOOK_PREROUTING, QOS_HOOK_FORWARD, QOS_HOOK_POSTROUTING };

struct qos_rule {
	enum qos_rule_kind kind;
	enum qos_hook hook;
	char text[QOS_LINE];	/* a comment's */
	uint32_t keep;		/* restore, save: the kept mask (all bits: 0xffffffff) */
	int queue;
	struct qos_sel sel;	/* classify, set DSCP */
	char dev[QOS_TEXT];	/* classify, set DSCP ("": any) */
	unsigned int minor;	/* classify */
	unsigned int dscp;	/* set DSCP, DSCP to mark */
	uint32_t value, mask;	/* DSCP to mark */
};

/* One ip or tc command and the command that undoes it (may be empty). */
struct qos_step {
	char up[QOS_LINE], down[QOS_LINE];
};

struct qos_plan {
	struct qos_rule rules[QOS_MAX_LINES];
	int nrules;
	struct qos_step steps[QOS_MAX_LINES];
	int nsteps;
	unsigned long next_prio;	/* the next fwmark rule's priority (0: none yet) */
};

/* Fills *p (zeroed) with o's recipe; dies when there is nothing to do or
 * too much. */
void qos_plan_build(const struct qos_opts *o, struct qos_plan *p);

#endif
