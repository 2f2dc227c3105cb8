/* Logging in: connect, TLS, HELLO, SASL.  Done blocking (with timeouts)
 * because nothing else can happen before it succeeds. */
#include "config.h"
#include "nutcpc.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib.h>

#include "tls.h"

#define STEP_TIMEOUT_MS 10000

static bool wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

static short tls_wait_events(gnutls_session_t tls)
{
	return gnutls_record_get_direction(tls) ? POLLOUT : POLLIN;
}

bool nutcpc_send_msg(const struct nutcpc_link *link, const uint8_t *msg, size_t len,
		     int timeout_ms)
{
	size_t off = 0;
	bool again = false;

	while (off < len) {
		ssize_t n = again ? gnutls_record_send(link->tls, NULL, 0)
				  : gnutls_record_send(link->tls, msg + off, len - off);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			again = true;
			if (!wait_fd(link->fd, POLLOUT, timeout_ms))
				return false;
			continue;
		}
		if (n < 0)
			return false;
		again = false;
		off += (size_t)n;
	}
	return true;
}

bool nutcpc_recv_msg(const struct nutcpc_link *link, uint8_t *buf, size_t cap,
		     struct nu_msg_header *hdr, int timeout_ms)
{
	size_t have = 0, need = NU_MSG_HEADER_LEN;

	while (have < need) {
		ssize_t n;

		/* Read no further than this message: the rest stays in GnuTLS
		 * for the next call (or the main loop). */
		n = gnutls_record_recv(link->tls, buf + have, need - have);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			if (!wait_fd(link->fd, POLLIN, timeout_ms))
				return false;
			continue;
		}
		if (n <= 0)
			return false;
		have += (size_t)n;
		if (have == NU_MSG_HEADER_LEN && need == NU_MSG_HEADER_LEN) {
			if (nu_msg_peek_header(buf, have, hdr) != NU_PROTO_OK || hdr->length > cap)
				return false;
			need = hdr->length;
		}
	}
	return true;
}

static int connect_to(const char *host, const char *port, char **err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int fd = -1, ret, saved = 0;

	ret = getaddrinfo(host, port, &hints, &res);
	if (ret != 0) {
		*err = g_strdup_printf("%s: %s", host, gai_strerror(ret));
		return -1;
	}
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
		    (errno != EINPROGRESS || !wait_fd(fd, POLLOUT, STEP_TIMEOUT_MS) ||
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr)) {
			saved = soerr ? soerr : errno == EINPROGRESS ? ETIMEDOUT : errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		*err = g_strdup_printf("cannot connect to %s port %s: %s", host, port,
				       g_strerror(saved ? saved : ETIMEDOUT));
	return fd;
}

static enum nutcpc_login_result hello(const struct nutcpc_link *link, char *mechs,
				      size_t mechs_cap, char **err)
{
	struct nu_hello h = { .version_min = NU_PROTO_VERSION, .version_max = NU_PROTO_VERSION,
			      .role = NU_ROLE_CLIENT };
	uint8_t buf[NU_MSG_MAX_LEN];
	struct nu_msg_header hdr;
	size_t len;

	g_strlcpy(h.software, PACKAGE_STRING, sizeof(h.software));
	if (nu_hello_encode(buf, sizeof(buf), &h, &len) != NU_PROTO_OK ||
	    !nutcpc_send_msg(link, buf, len, STEP_TIMEOUT_MS) ||
	    !nutcpc_recv_msg(link, buf, sizeof(buf), &hdr, STEP_TIMEOUT_MS)) {
		*err = g_strdup("nuauth did not answer");
		return NUTCPC_LOGIN_UNREACHABLE;
	}
	if (hdr.type == NU_MSG_ERROR) {
		char text[NU_TEXT_MAX] = "";
		nu_error_decode(buf, hdr.length, text, sizeof(text));
		*err = g_strdup_printf("nuauth refused the connection: %s", text);
		return NUTCPC_LOGIN_UNREACHABLE;
	}
	if (hdr.type != NU_MSG_HELLO || nu_hello_decode(buf, hdr.length, &h) != NU_PROTO_OK) {
		*err = g_strdup("nuauth answered with something else than HELLO");
		return NUTCPC_LOGIN_UNREACHABLE;
	}
	g_strlcpy(mechs, h.mech_list, mechs_cap);
	return NUTCPC_LOGIN_OK;
}

enum nutcpc_login_result nutcpc_login(const struct nutcpc_options *opt,
				      gnutls_certificate_credentials_t creds,
				      struct nutcpc_link *link, char **err)
{
	char mechs[NU_MECH_LIST_MAX];
	enum nutcpc_login_result r;
	int ret;

	link->fd = connect_to(opt->host, opt->port, err);
	if (link->fd < 0)
		return NUTCPC_LOGIN_UNREACHABLE;
	link->tls = nu_tls_client_session(creds, link->fd, opt->host, opt->check_name);
	if (!link->tls) {
		*err = g_strdup("cannot start TLS");
		r = NUTCPC_LOGIN_UNREACHABLE;
		goto fail;
	}
	while ((ret = gnutls_handshake(link->tls)) < 0) {
		if ((ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) &&
		    wait_fd(link->fd, tls_wait_events(link->tls), STEP_TIMEOUT_MS))
			continue;
		char *why = nu_tls_handshake_error(link->tls, ret);
		*err = g_strdup_printf("TLS with %s failed: %s", opt->host, why);
		g_free(why);
		r = NUTCPC_LOGIN_UNREACHABLE;
		goto fail;
	}
	r = hello(link, mechs, sizeof(mechs), err);
	if (r == NUTCPC_LOGIN_OK)
		r = nutcpc_sasl_login(link, opt, mechs, err);
	if (r == NUTCPC_LOGIN_OK)
		return r;
fail:
	if (link->tls)
		gnutls_deinit(link->tls);
	close(link->fd);
	link->tls = NULL;
	link->fd = -1;
	return r;
}
