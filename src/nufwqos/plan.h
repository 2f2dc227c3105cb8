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
	/* the firewall ruleset's (restore): */
	QOS_RULE_TRACKED,	/* packets of known connections (established, related) pass */
	QOS_RULE_JUDGED,	/* a new flow of proto (in, out) with the label passes:
				 * NUFW-PRE queued it and nufw accepted it */
	QOS_RULE_PASS,		/* a new flow of proto passes without a decision */
	QOS_RULE_POLICY,	/* the end of the chain: policy */
	QOS_RULE_PORTAL,	/* new HTTP with mark value: REDIRECT to port minor */
};

/* The flows the firewall sends to nufw: a TCP SYN, a new UDP flow, an ICMP
 * (ICMPv6) echo request.  (The queue rule of up and down, fw false, is the
 * TCP SYN's alone, with no state match, as it always was.) */
enum qos_proto { QOS_PROTO_TCP, QOS_PROTO_UDP, QOS_PROTO_ICMP };

/* Where a rule hooks: mangle PREROUTING or POSTROUTING, filter FORWARD. */
enum qos_hook { QOS_HOOK_PREROUTING, QOS_HOOK_FORWARD, QOS_HOOK_POSTROUTING,
	QOS_HOOK_NAT_PREROUTING };

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
	/* the firewall ruleset's */
	bool fw;		/* a rule of restore (queue: ctstate NEW, proto) */
	bool v6;		/* ip6tables' words (ICMPv6) */
	enum qos_proto proto;	/* queue, judged, pass */
	int label;		/* >= 0: the connlabel queued flows get (PREROUTING queue:
				 * set; judged: must have); -1: none */
	int queue_last;		/* queue: > queue: --queue-balance queue:queue_last */
	bool bypass;		/* queue: --queue-bypass */
	char in[QOS_TEXT], out[QOS_TEXT];	/* "": any */
	enum qos_policy policy;
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
