/* A direct-mapped cache: a gateway has few interfaces, and a collision
 * only costs one if_indextoname. */
#include "config.h"
#include "ifnames.h"

#include <string.h>

#define SLOTS 64

struct slot {
	uint32_t index;		/* 0: empty */
	gint64 expires;
	char name[IF_NAMESIZE];
};

struct nufw_ifnames {
	struct slot slots[SLOTS];
};

struct nufw_ifnames *nufw_ifnames_new(void)
{
	return g_new0(struct nufw_ifnames, 1);
}

void nufw_ifnames_free(struct nufw_ifnames *c)
{
	g_free(c);
}

void nufw_ifnames_get(struct nufw_ifnames *c, uint32_t index, char name[static IF_NAMESIZE],
		      gint64 now)
{
	struct slot *s = &c->slots[index % SLOTS];

	if (index == 0) {
		name[0] = '\0';
		return;
	}
	if (s->index != index || now >= s->expires) {
		/* An interface that no longer exists is cached as "" too:
		 * packets keep coming from it until its index is reused. */
		if (!if_indextoname(index, s->name))
			s->name[0] = '\0';
		s->index = index;
		s->expires = now + (gint64)IFNAMES_TTL_S * G_USEC_PER_SEC;
	}
	memcpy(name, s->name, IF_NAMESIZE);
}
