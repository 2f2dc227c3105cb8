/* nufw-qos: the script for a plan: the header, the ip and tc commands, and
 * the backend's rules (see render.h). */
#include "config.h"

#include <stdio.h>

#include "render.h"

static const struct qos_renderer *renderer(enum qos_backend b)
{
	switch (b) {
	case QOS_IPTABLES_LEGACY: return &qos_render_iptables_legacy;
	case QOS_NFT: return &qos_render_nft;
	case QOS_IPTABLES: break;
	}
	return &qos_render_iptables;
}

void qos_render(const struct qos_opts *o, const struct qos_plan *p, int argc, char **argv)
{
	const struct qos_renderer *r = renderer(o->backend);

	if (o->restore) {
		qos_render_restore(o, p, argc, argv);
		return;
	}
	qos_print_header(&o->layout, argc, argv);
	if (o->down) {
		for (int i = p->nsteps - 1; i >= 0; i--)
			if (p->steps[i].down[0])
				printf("%s\n", p->steps[i].down);
		if (!o->no_netfilter)
			r->rules_down(r->ipt_cmd, p);
	} else {
		if (!o->no_netfilter)
			r->rules_up(r->ipt_cmd, p);
		for (int i = 0; i < p->nsteps; i++)
			printf("%s\n", p->steps[i].up);
	}
}
