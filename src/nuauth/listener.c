/* TCP listeners for the gateway and client ports. */
#include "config.h"
#include "nuauth.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib-unix.h>

#include "error.h"
#include "log.h"

struct listener {
	struct nuauth_server *srv;
	nuauth_accept_fn fn;
	int fd;
	guint source;
};

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data);

static gboolean on_resume(gpointer data)
{
	struct listener *l = data;

	l->source = g_unix_fd_add(l->fd, G_IO_IN, on_accept, l);
	return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
	struct listener *l = data;

	(void)cond;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int cfd = accept4(fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* The socket stays readable: wait instead of spinning. */
				log_warn("accept: pausing for a second");
				l->source = 0;
				g_timeout_add_seconds(1, on_resume, l);
				return G_SOURCE_REMOVE;
			}
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept");
			break;
		}
		l->fn(l->srv, cfd, &peer);
	}
	return G_SOURCE_CONTINUE;
}

bool nuauth_listen(struct nuauth_server *srv, const char *addr, unsigned port,
		   nuauth_accept_fn fn, GError **error)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct in6_addr a;
	uint8_t family;
	uint32_t v4;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (!nu_addr_parse(addr, &a, &family)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "cannot listen on `%s': not an IP address", addr);
		return false;
	}
	if (nu_addr_is_v4(&a, &v4)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = v4;
		sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a;
		sslen = sizeof(*sin6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    /* Inherited by every accepted socket.  Each message goes out in one
	     * write; Nagle would hold a reply written while the peer has not
	     * acknowledged the last one (the end of the TLS handshake, then
	     * HELLO) for the peer's delayed ACK: 40 ms a login. */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) < 0 ||
	    listen(fd, 512) < 0) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO,
			    "cannot listen on %s port %u: %s", addr, port, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	struct listener *l = g_new0(struct listener, 1);
	l->srv = srv;
	l->fn = fn;
	l->fd = fd;
	l->source = g_unix_fd_add(fd, G_IO_IN, on_accept, l);
	log_info("listening on %s port %u", addr, port);
	return true;
}

int nuauth_bind_http(struct nuauth_server *srv, const char *key, const char *addr,
		     unsigned port, GError **error)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, one = 1;

	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		g_set_error(error, NU_ERROR, NU_ERROR_IO, "%s: %s: cannot listen on %s port %u: %s",
			    nu_conf_where(srv->conf, key), key, addr, port, g_strerror(e));
		return -1;
	}
	return fd;
}
