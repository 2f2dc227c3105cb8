/* The client's state, below the links and the announcer that change it
 * or name it in their log lines: client.c sits on top of them (no call goes
 * back up to it).  nuclient_on_state's callback hears every change. */
#include "config.h"
#include "client_int.h"

#include <sys/socket.h>

const char *nc_family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

void nc_set_state(struct nuclient *nc, enum nuclient_state state, const char *detail)
{
	if (nc->state == state)
		return;
	nc->state = state;
	if (nc->state_fn)
		nc->state_fn(state, detail ? detail : "", nc->state_ctx);
}

void nc_update_state(struct nuclient *nc, const char *detail)
{
	bool all_up = nc->links->len > 0;

	if (nc->stopped || nc->state == NUCLIENT_STATE_REFUSED)
		return;
	for (guint i = 0; i < nc->links->len; i++)
		if (!((struct nc_link *)g_ptr_array_index(nc->links, i))->conn)
			all_up = false;
	nc_set_state(nc, all_up ? NUCLIENT_STATE_LOGGED_IN : NUCLIENT_STATE_RECONNECTING, detail);
}
