/* nufw-qos: printing a plan.  render.c prints what every backend shares
 * (the header, the ip and tc commands) and hands the netfilter rules to the
 * backend's renderer: render_iptables.c (iptables, iptables-legacy) or
 * render_nft.c. */
#ifndef NUFWQOS_RENDER_H
#define NUFWQOS_RENDER_H

#include <stdbool.h>

#include "plan.h"

/* A backend: prints the plan's rules, for `up' in order, for `down' the
 * commands that remove them.  ipt_cmd: how to call iptables. */
struct qos_renderer {
	const char *ipt_cmd;
	void (*rules_up)(const char *ipt_cmd, const struct qos_plan *p);
	void (*rules_down)(const char *ipt_cmd, const struct qos_plan *p);
};

extern const struct qos_renderer qos_render_iptables, qos_render_iptables_legacy, qos_render_nft;

/* render_iptables.c: one rule (not a comment) in iptables' words: what
 * follows -A CHAIN. */
void ipt_rule_text(const struct qos_rule *r, char *buf, size_t size);

/* render_restore.c: the firewall ruleset (restore) or its removal
 * (unrestore), iptables-restore input; argv: the command line. */
void qos_render_restore(const struct qos_opts *o, const struct qos_plan *p, int argc,
			char **argv);

/* render_header.c: the header every output starts with. */
void qos_print_header(const struct qos_layout *l, int argc, char **argv);

/* render_iptables.c: prints one rule (not a comment) as an iptables
 * command that appends (add) or deletes it. */
void ipt_print_rule(const char *ipt_cmd, const struct qos_rule *r, bool add);

/* render.c: prints the whole script for o's plan (argv: the command line,
 * for the header). */
void qos_render(const struct qos_opts *o, const struct qos_plan *p, int argc, char **argv);

#endif
