/* sd_notify's datagram protocol (see notify.h). */
#include "config.h"
#include "notify.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "evloop.h"
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

static gboolean on_watchdog(gpointer data)
{
	(void)data;
	nu_notify("WATCHDOG=1");
	return G_SOURCE_CONTINUE;
}

GSource *nu_notify_watchdog_start(void)
{
	const char *usec_s = getenv("WATCHDOG_USEC"), *pid_s = getenv("WATCHDOG_PID");
	uintmax_t usec, pid;
	unsigned ms;
	int end = 0;

	if (!usec_s || !*usec_s)
		return NULL;
	/* WATCHDOG_PID: the watchdog is for that process only (not for a
	 * child that inherited the environment). */
	if (pid_s && *pid_s &&
	    (sscanf(pid_s, "%" SCNuMAX "%n", &pid, &end) != 1 || pid_s[end] ||
	     pid != (uintmax_t)getpid()))
		return NULL;
	end = 0;
	if (usec_s[0] == '-' || sscanf(usec_s, "%" SCNuMAX "%n", &usec, &end) != 1 ||
	    usec_s[end] || usec == 0) {
		log_warnx("WATCHDOG_USEC: `%s' is not a number of microseconds", usec_s);
		return NULL;
	}
	/* Half the interval, as sd_watchdog_enabled(3) advises. */
	usec /= 2;
	ms = usec >= UINT_MAX / 2 * (uintmax_t)1000 ? UINT_MAX / 2 : (unsigned)(usec / 1000);
	if (ms == 0)
		ms = 1;
	log_info("watchdog: WATCHDOG=1 every %u ms", ms);
	nu_notify("WATCHDOG=1");
	return nu_timeout(ms, on_watchdog, NULL);
}
