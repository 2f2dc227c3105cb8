/* Logging in: connect, TLS, HELLO, SASL.  Done blocking (with time-outs)
 * because nothing else can happen on a link before it succeeds. */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib.h>
#include <sasl/sasl.h>

#include "tls.h"
#include "secret.h"

#define STEP_TIMEOUT_MS 10000
#define NU_SASL_SERVICE "nufw"

static bool wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

static bool send_msg(const struct nc_tls_link *link, const uint8_t *msg, size_t len)
{
	size_t off = 0;
	bool again = false;

	while (off < len) {
		ssize_t n = again ? gnutls_record_send(link->tls, NULL, 0)
				  : gnutls_record_send(link->tls, msg + off, len - off);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			again = true;
			if (!wait_fd(link->fd, POLLOUT, STEP_TIMEOUT_MS))
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

/* Reads one whole message into buf (cap >= NU_MSG_MAX_LEN).  When nuauth
 * closed the link with a TLS alert (its refusal of our certificate arrives
 * with the first reply), *alert is the alert's name if alert is not NULL. */
static bool recv_msg(const struct nc_tls_link *link, uint8_t *buf, size_t cap,
		     struct nu_msg_header *hdr, const char **alert)
{
	size_t have = 0, need = NU_MSG_HEADER_LEN;

	while (have < need) {
		/* Read no further than this message: the rest stays in GnuTLS
		 * for the next call (or the main loop). */
		ssize_t n = gnutls_record_recv(link->tls, buf + have, need - have);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			if (!wait_fd(link->fd, POLLIN, STEP_TIMEOUT_MS))
				return false;
			continue;
		}
		if (n == GNUTLS_E_FATAL_ALERT_RECEIVED && alert)
			*alert = gnutls_alert_get_name(gnutls_alert_get(link->tls));
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

static int connect_to(const char *host, const char *port, int family, char **err)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
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
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
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

/* The alerts by which nuauth refuses our certificate itself: foreign,
 * expired, revoked.  Until the user has another certificate, trying again
 * gets the same answer, so the client stops and says so. */
static bool refuses_our_certificate(gnutls_alert_description_t alert)
{
	switch (alert) {
	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_REVOKED:
	case GNUTLS_A_CERTIFICATE_EXPIRED:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
	case GNUTLS_A_UNKNOWN_CA:
	case GNUTLS_A_ACCESS_DENIED:
		return true;
	default:
		return false;
	}
}

static enum nuclient_status hello(const struct nc_tls_link *link, char *mechs,
				  size_t mechs_cap, char **err)
{
	struct nu_hello h = { .version_min = NU_PROTO_VERSION, .version_max = NU_PROTO_VERSION,
			      .role = NU_ROLE_CLIENT };
	uint8_t buf[NU_MSG_MAX_LEN];
	struct nu_msg_header hdr;
	const char *alert = NULL;
	bool sent;
	size_t len;

	g_strlcpy(h.software, "libnuclient " PACKAGE_VERSION, sizeof(h.software));
	if (nu_hello_encode(buf, sizeof(buf), &h, &len) != NU_PROTO_OK) {
		*err = g_strdup("cannot build the HELLO message");
		return NUCLIENT_UNREACHABLE;
	}
	sent = send_msg(link, buf, len);
	/* Read even when sending failed: nuauth's alert refusing our
	 * certificate may be waiting, and it says why. */
	if (!recv_msg(link, buf, sizeof(buf), &hdr, &alert) || !sent) {
		if (!alert) {
			*err = g_strdup("nuauth did not answer");
			return NUCLIENT_UNREACHABLE;
		}
		*err = g_strdup_printf("nuauth refused the TLS connection: %s", alert);
		return refuses_our_certificate(gnutls_alert_get(link->tls)) ? NUCLIENT_REFUSED
									    : NUCLIENT_UNREACHABLE;
	}
	if (hdr.type == NU_MSG_ERROR) {
		char text[NU_TEXT_MAX] = "";
		nu_error_decode(buf, hdr.length, text, sizeof(text));
		*err = g_strdup_printf("nuauth refused the connection: %s", text);
		return NUCLIENT_UNREACHABLE;
	}
	if (hdr.type != NU_MSG_HELLO || nu_hello_decode(buf, hdr.length, &h) != NU_PROTO_OK) {
		*err = g_strdup("nuauth answered with something else than HELLO");
		return NUCLIENT_UNREACHABLE;
	}
	g_strlcpy(mechs, h.mech_list, mechs_cap);
	return NUCLIENT_OK;
}

/* ---- SASL ---- */

struct sasl_secrets {
	const struct nc_options *opt;
	sasl_secret_t *secret;
};

static int get_user(void *ctx, int id, const char **result, unsigned *len)
{
	struct sasl_secrets *s = ctx;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	/* SASL_CB_USER is the authorization name: empty, "the one I log in
	 * as" (EXTERNAL asks only for it). */
	*result = id == SASL_CB_USER ? "" : s->opt->user ? s->opt->user : "";
	if (len)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int get_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **out)
{
	struct sasl_secrets *s = ctx;

	(void)conn;
	(void)id;
	*out = s->secret;
	return SASL_OK;
}

/* resume: AUTH_START's token, or NULL. */
static enum nuclient_status send_auth(const struct nc_tls_link *link, bool start,
				      const char *mech, const char *data, unsigned len,
				      bool has_data, const uint8_t *resume, char **err)
{
	uint8_t buf[NU_MSG_MAX_LEN];
	size_t n;
	enum nu_proto_status st = start
		? nu_auth_start_encode(buf, sizeof(buf), mech, (const uint8_t *)data, len, has_data,
				       resume, &n)
		: nu_auth_step_encode(buf, sizeof(buf), (const uint8_t *)data, len, &n);

	if (st != NU_PROTO_OK || !send_msg(link, buf, n)) {
		*err = g_strdup("cannot send the login to nuauth");
		return NUCLIENT_UNREACHABLE;
	}
	return NUCLIENT_OK;
}

static bool in_list(const char *list, const char *word)
{
	gchar **words = g_strsplit_set(list, " ,", -1);
	bool found = false;

	for (gchar **w = words; *w && !found; w++)
		found = **w && g_ascii_strcasecmp(*w, word) == 0;
	g_strfreev(words);
	return found;
}

/* The mechanisms to try, in order: those asked for (-M) that nuauth
 * offers, or all nuauth offers; EXTERNAL first when we have a client
 * certificate (and only then), SCRAM next (the password never crosses the
 * link), the rest after.  Without a password only EXTERNAL can work. */
static char *choose_mechs(const char *offered, const char *asked, bool cert, bool password,
			  const char *excluded)
{
	gchar **words = g_strsplit_set(asked ? asked : offered, " ,", -1);
	GString *ext = g_string_new(NULL), *scram = g_string_new(NULL), *rest = g_string_new(NULL);

	for (gchar **w = words; *w; w++) {
		bool is_ext = g_ascii_strcasecmp(*w, "EXTERNAL") == 0;
		GString *to = is_ext ? ext : g_ascii_strncasecmp(*w, "SCRAM-", 6) == 0 ? scram : rest;

		if (!**w || (asked && !in_list(offered, *w)) || (is_ext && !cert) ||
		    (!is_ext && !password) || in_list(excluded, *w))
			continue;
		g_string_append_printf(to, "%s%s", to->len ? " " : "", *w);
	}
	g_strfreev(words);
	if (scram->len && rest->len)
		g_string_append_c(scram, ' ');
	g_string_append(scram, rest->str);
	if (ext->len && scram->len)
		g_string_append_c(ext, ' ');
	g_string_append(ext, scram->str);
	g_string_free(scram, TRUE);
	g_string_free(rest, TRUE);
	return g_string_free(ext, FALSE);
}

/* One SASL login on a link, its steps' shared state. */
struct sasl_run {
	const struct nc_tls_link *link;
	sasl_conn_t *conn;
	char *mechs;		/* the mechanisms to try, in order */
	const char *mech;	/* the one started */
	GString *excluded;	/* see sasl_login */
	struct nc_resume *resume;	/* see nc_login */
};

/* The secret Cyrus asks for (SASL_CB_PASS): a copy of the password. */
static sasl_secret_t *secret_new(const char *password)
{
	size_t pwlen = password ? strlen(password) : 0;
	sasl_secret_t *secret = nc_secret_alloc(sizeof(sasl_secret_t) + pwlen + 1);

	secret->len = pwlen;
	if (pwlen)
		memcpy(secret->data, password, pwlen);
	return secret;
}

static void secret_free(sasl_secret_t *secret)
{
	nc_secret_free(secret);	/* wiped */
}

/* Whether any mechanism is left to try (mechs, from choose_mechs);
 * NUCLIENT_REFUSED with *err saying why not. */
static enum nuclient_status check_mechs(const char *mechs, const struct nc_options *opt,
					const char *offered, char **err)
{
	if (!*mechs && !opt->password) {
		*err = g_strdup_printf("nuauth does not offer certificate login (EXTERNAL) here, "
				       "and no password was given; it offers: %s", offered);
		return NUCLIENT_REFUSED;
	}
	if (!*mechs) {
		*err = g_strdup_printf("nuauth offers none of the login methods asked for (%s); "
				       "it offers: %s", opt->mechanisms ? opt->mechanisms :
				       opt->cert ? "certificate or password" : "password", offered);
		return NUCLIENT_REFUSED;
	}
	return NUCLIENT_OK;
}

/* Starts Cyrus' client on the first of s->mechs that it can start, and
 * sends AUTH_START. */
static enum nuclient_status sasl_start(struct sasl_run *s, const struct nc_options *opt,
				       const char *host, const sasl_callback_t *callbacks,
				       char **err)
{
	sasl_security_properties_t secprops = { .maxbufsize = NU_SASL_DATA_MAX };
	sasl_ssf_t ssf = nu_tls_ssf(s->link->tls);
	const char *out = NULL;
	unsigned out_len = 0;
	gchar **order;
	int ret = sasl_client_init(NULL);

	if (ret == SASL_OK)
		ret = sasl_client_new(NU_SASL_SERVICE, host, NULL, NULL, callbacks, 0, &s->conn);
	if (ret != SASL_OK) {
		*err = g_strdup_printf("cannot start SASL: %s", sasl_errstring(ret, NULL, NULL));
		return NUCLIENT_UNREACHABLE;
	}
	sasl_setprop(s->conn, SASL_SEC_PROPS, &secprops);
	sasl_setprop(s->conn, SASL_SSF_EXTERNAL, &ssf);
	/* The certificate is the identity for EXTERNAL: the authorization
	 * name sent is empty, and nuauth takes the user from the certificate. */
	if (opt->cert)
		sasl_setprop(s->conn, SASL_AUTH_EXTERNAL, "certificate");
	/* In our order, not Cyrus' own preference. */
	ret = SASL_NOMECH;
	order = g_strsplit(s->mechs, " ", -1);
	for (gchar **w = order; *w && ret != SASL_OK && ret != SASL_CONTINUE; w++)
		ret = sasl_client_start(s->conn, *w, NULL, &out, &out_len, &s->mech);
	g_strfreev(order);
	if (ret != SASL_OK && ret != SASL_CONTINUE) {
		*err = g_strdup_printf("no usable login method among %s: %s", s->mechs,
				       sasl_errdetail(s->conn));
		return NUCLIENT_REFUSED;
	}
	return send_auth(s->link, true, s->mech, out, out_len, out != NULL,
			 s->resume->valid ? s->resume->token : NULL, err);
}

/* nuauth's AUTH_RESULT (len bytes at buf). */
static enum nuclient_status auth_result(struct sasl_run *s, const uint8_t *buf, size_t len,
					char **err)
{
	struct nu_auth_result res;

	if (nu_auth_result_decode(buf, len, &res) != NU_PROTO_OK) {
		*err = g_strdup("malformed answer from nuauth");
		return NUCLIENT_UNREACHABLE;
	}
	if (res.result == NU_AUTH_OK) {
		/* A nuauth that does not know resuming sends none: the next
		 * login starts a session of its own, as before. */
		s->resume->valid = res.has_resume;
		memcpy(s->resume->token, res.resume, sizeof(res.resume));
		return NUCLIENT_OK;
	}
	/* nuauth cannot take the login for now (a cluster's node that
	 * cannot reach etcd, or one that has just started): tried again
	 * on the back-off, as an unreachable nuauth. */
	if (res.result == NU_AUTH_ERROR) {
		*err = g_strdup_printf("login refused for now: %s", res.text);
		return NUCLIENT_UNREACHABLE;
	}
	/* Another try only when another mechanism is left. */
	if (res.result == NU_AUTH_OTHER_MECH && s->mech && strchr(s->mechs, ' '))
		g_string_append_printf(s->excluded, " %s", s->mech);
	*err = g_strdup_printf("login refused: %s", res.text);
	return NUCLIENT_REFUSED;
}

/* nuauth's challenges and our responses, up to its AUTH_RESULT. */
static enum nuclient_status sasl_exchange(struct sasl_run *s, char **err)
{
	uint8_t buf[NU_MSG_MAX_LEN];
	struct nu_msg_header hdr;
	enum nuclient_status r = NUCLIENT_OK;

	while (r == NUCLIENT_OK) {
		struct nu_auth step;
		const char *out = NULL;
		unsigned out_len = 0;
		int ret;

		if (!recv_msg(s->link, buf, sizeof(buf), &hdr, NULL)) {
			*err = g_strdup("nuauth did not answer the login");
			return NUCLIENT_UNREACHABLE;
		}
		if (hdr.type == NU_MSG_AUTH_RESULT)
			return auth_result(s, buf, hdr.length, err);
		if (hdr.type != NU_MSG_AUTH_STEP ||
		    nu_auth_decode(buf, hdr.length, &step) != NU_PROTO_OK) {
			*err = g_strdup_printf("unexpected %s message during login",
					       nu_msg_type_name(hdr.type));
			return NUCLIENT_UNREACHABLE;
		}
		ret = sasl_client_step(s->conn, (const char *)step.data, (unsigned)step.data_len,
				       NULL, &out, &out_len);
		if (ret != SASL_OK && ret != SASL_CONTINUE) {
			*err = g_strdup_printf("login failed: %s", sasl_errdetail(s->conn));
			return NUCLIENT_UNREACHABLE;
		}
		r = send_auth(s->link, false, NULL, out, out_len, true, NULL, err);
	}
	return r;
}

/* excluded: mechanisms not to try (nuauth said they cannot work for this
 * user); on NU_AUTH_OTHER_MECH the one refused is added to it. */
static enum nuclient_status sasl_login(const struct nc_tls_link *link,
				       const struct nc_options *opt, const char *host,
				       const char *offered, GString *excluded,
				       struct nc_resume *resume, char **err)
{
	struct sasl_secrets secrets = { .opt = opt };
	const sasl_callback_t callbacks[] = {
		{ SASL_CB_USER, (int (*)(void))(void (*)(void))get_user, &secrets },
		{ SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))get_user, &secrets },
		{ SASL_CB_PASS, (int (*)(void))(void (*)(void))get_pass, &secrets },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	struct sasl_run s = { .link = link, .excluded = excluded, .resume = resume };
	enum nuclient_status r;

	s.mechs = choose_mechs(offered, opt->mechanisms, opt->cert != NULL, opt->password != NULL,
			       excluded->str);
	secrets.secret = secret_new(opt->password);
	r = check_mechs(s.mechs, opt, offered, err);
	if (r == NUCLIENT_OK)
		r = sasl_start(&s, opt, host, callbacks, err);
	if (r == NUCLIENT_OK)
		r = sasl_exchange(&s, err);
	if (s.conn)
		sasl_dispose(&s.conn);
	secret_free(secrets.secret);
	g_free(s.mechs);
	return r;
}

static enum nuclient_status login_once(const struct nc_options *opt, const char *host,
				       int family, gnutls_certificate_credentials_t creds,
				       struct nc_tls_link *link, GString *excluded,
				       struct nc_resume *resume, char **err);

enum nuclient_status nc_login(const struct nc_options *opt, const char *host, int family,
			      gnutls_certificate_credentials_t creds,
			      struct nc_tls_link *link, struct nc_resume *resume, char **err)
{
	GString *excluded = g_string_new(NULL);
	size_t tried;
	enum nuclient_status r;

	/* Again on a new link while nuauth says another mechanism may work. */
	do {
		tried = excluded->len;
		g_clear_pointer(err, g_free);
		r = login_once(opt, host, family, creds, link, excluded, resume, err);
	} while (r == NUCLIENT_REFUSED && excluded->len > tried);
	g_string_free(excluded, TRUE);
	return r;
}

static enum nuclient_status login_once(const struct nc_options *opt, const char *host,
				       int family, gnutls_certificate_credentials_t creds,
				       struct nc_tls_link *link, GString *excluded,
				       struct nc_resume *resume, char **err)
{
	char mechs[NU_MECH_LIST_MAX];
	enum nuclient_status r;
	int ret;

	link->tls = NULL;
	link->fd = connect_to(host, opt->port, family, err);
	if (link->fd < 0)
		return NUCLIENT_UNREACHABLE;
	link->tls = nu_tls_client_session(creds, link->fd, host, opt->check_name);
	if (!link->tls) {
		*err = g_strdup("cannot start TLS");
		r = NUCLIENT_UNREACHABLE;
		goto fail;
	}
	while ((ret = gnutls_handshake(link->tls)) < 0) {
		if ((ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) &&
		    wait_fd(link->fd, gnutls_record_get_direction(link->tls) ? POLLOUT : POLLIN,
			    STEP_TIMEOUT_MS))
			continue;
		char *why = nu_tls_handshake_error(link->tls, ret);
		*err = g_strdup_printf("TLS with %s failed: %s", host, why);
		g_free(why);
		r = ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ? NUCLIENT_UNTRUSTED
			: NUCLIENT_UNREACHABLE;
		goto fail;
	}
	r = hello(link, mechs, sizeof(mechs), err);
	if (r == NUCLIENT_OK)
		r = sasl_login(link, opt, host, mechs, excluded, resume, err);
	if (r == NUCLIENT_OK)
		return r;
fail:
	if (link->tls)
		gnutls_deinit(link->tls);
	close(link->fd);
	link->tls = NULL;
	link->fd = -1;
	return r;
}
