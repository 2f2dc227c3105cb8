/* nufw-qos: the command line, read and checked (options.c: the options
 * themselves; mappings.c: --route, --class, --dscp and --dscp-route, read
 * once the layout is known, and the checks across options). */
#ifndef NUFWQOS_OPTIONS_H
#define NUFWQOS_OPTIONS_H

#include <arpa/inet.h>
#include <stdbool.h>

#include "layout.h"

#define QOS_MAX_ITEMS 32
#define QOS_MAX_DEVS 8
#define QOS_DEFAULT_MINOR 0x10	/* 1:10 takes what no class claims */
#define QOS_NFT_TABLE "nufw_qos"

enum qos_backend { QOS_IPTABLES, QOS_IPTABLES_LEGACY, QOS_NFT };
enum qos_queue_at { QOS_QUEUE_PREROUTING, QOS_QUEUE_FORWARD };
enum qos_classifier { QOS_CLASSIFY, QOS_FW };
/* The firewall ruleset (restore, unrestore): what becomes of a new ICMP
 * echo request, and of what no rule of the ruleset accepts in FORWARD. */
enum qos_icmp { QOS_ICMP_QUEUE, QOS_ICMP_ACCEPT, QOS_ICMP_DROP };
enum qos_policy { QOS_POLICY_DROP, QOS_POLICY_REJECT, QOS_POLICY_RETURN };

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
	bool restore;		/* restore, unrestore (down): the firewall ruleset */
	bool ipv6;		/* --family ipv6 (restore, unrestore) */
	bool no_netfilter;	/* up, down: only the ip and tc commands */
	enum qos_backend backend;
	struct qos_layout layout;
	struct qos_field dscp_mark;	/* --dscp-route's local mark */
	bool keep;
	int queue;		/* -1: no queue rule */
	int queue_last;		/* --queue A:B: B (queue-balance); else queue */
	bool queue_bypass;
	char lan[QOS_MAX_DEVS][QOS_TEXT], wan[QOS_MAX_DEVS][QOS_TEXT];
	int nlan, nwan;		/* 0: any interface */
	enum qos_icmp icmp;
	enum qos_policy policy;
	unsigned int ct_label;	/* --ct-label: the connlabel of flows queued in PREROUTING */
	/* --portal-redirect MARK:PORT (restore): HTTP nuauth marked for the
	 * login page goes to nuauth's redirect on the gateway's PORT */
	unsigned long portal_mark;	/* 0: none */
	unsigned long portal_port;
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

/* options.c: reads argv into *o (the defaults first) and then the mappings
 * (qos_resolve).  False when it printed the help instead (main then only
 * flushes); dies on bad input. */
bool qos_options_read(int argc, char **argv, struct qos_opts *o);

/* mappings.c: parses the mappings kept as text and checks the options
 * together; dies on the first problem. */
void qos_resolve(struct qos_opts *o);

/* Whether the output holds the gateway's part: the CONNMARK rules and the
 * mappings that need them. */
bool qos_keeps_marks(const struct qos_opts *o);

#endif
