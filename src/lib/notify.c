/* sd_notify's datagram protocol (see notify.h). */
#include "config.h"
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* Fills *sun from $NOTIFY_SOCKET's value; the length to pass to sendto(),
 * or -EINVAL when the value is no usable Unix socket address. */
static int notify_addr(const char *name, struct sockaddr_un *sun)
{
	size_t len = strlen(name);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (name[0] == '@') {
		/* Abstract namespace: a leading NUL, then the name without '@';
		 * the length counts exactly the bytes of the name. */
		if (len < 2 || len > sizeof(sun->sun_path))
			return -EINVAL;
		memcpy(sun->sun_path + 1, name + 1, len - 1);
		return (int)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	if (name[0] != '/' || len >= sizeof(sun->sun_path))
		return -EINVAL;
	memcpy(sun->sun_path, name, len);
	return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int nu_notify(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	int fd, addrlen, ret = 1;

	if (!name || !*name)
		return 0;
	if ((addrlen = notify_addr(name, &sun)) < 0) {
		log_warnx("NOTIFY_SOCKET: `%s' is not a Unix socket path or @name", name);
		return addrlen;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		ret = -errno;
		log_warn("NOTIFY_SOCKET: socket");
		return ret;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
		   (socklen_t)addrlen) < 0) {
		ret = -errno;
		log_warn("NOTIFY_SOCKET: cannot send `%s' to `%s'", state, name);
	}
	close(fd);
	return ret;
}
