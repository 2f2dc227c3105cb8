/* The login page (nuauth_portal_listen; doc/devices.md): HTTPS with
 * nuauth's certificate, served by libmicrohttpd (GnuTLS) on a thread of
 * its own.  A browser on a host without a client logs in with a form; the
 * password goes through the user_check modules on the worker pool, under
 * the same login throttles as the clients' logins (login_guard.c), and a
 * good login opens an address session of origin "portal" (ipsession.c)
 * for the browser's address.  The page also says who is logged in at the
 * address, and logs a portal session out.
 *
 * libmicrohttpd's thread never touches nuauth's state: it reads the
 * request (the form's two fields, bounded), suspends the connection and
 * hands the request to the main loop (nu_run_on); the main
 * loop (and the pool, for the password) answers, puts the page in the
 * request and resumes the connection, whose thread sends it.  A request
 * is shared by both threads: a reference each, the last one frees it.
 *
 * The redirect (nuauth_portal_redirect_listen): plain HTTP answering any
 * request with a 302 to nuauth_portal_url.  The gateway sends it the web
 * connections of hosts with no user (nuauth_portal_mark, answer.c, and a
 * REDIRECT rule for that mark; doc/devices.md).  It reads no state. */
#include "config.h"
#include "nuauth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#ifdef HAVE_MICROHTTPD
#include <microhttpd.h>
#endif

#include "error.h"
#include "evloop.h"
#include "log.h"

#define BROWSERS_MAX 64
#define BROWSER_TIMEOUT_S 15
#define FIELD_MAX 256			/* bytes of the user name and password */

struct nuauth_portal {
	struct nuauth_server *srv;
	int fd;				/* the bound socket, until MHD owns it */
	int redirect_fd;		/* the same for the redirect; -1 none */
	char *redirect_page;		/* the redirect's body, made at start:
					 * its thread reads no state */
	char *redirect_to;		/* nuauth_portal_url, as at start */
	char *cert, *key;		/* PEM, read before dropping root */
	GMainContext *main_ctx;
#ifdef HAVE_MICROHTTPD
	struct MHD_Daemon *mhd;
	struct MHD_Daemon *redirect;
#endif
	GMutex lock;
	GList *waiting;			/* struct preq * suspended, under lock */
	bool stopping;			/* under lock */
};

#ifdef HAVE_MICROHTTPD

enum preq_kind { PAGE, LOGIN, LOGOUT };

/* One request: filled on MHD's thread, answered on the main loop. */
struct preq {
	gint refs;
	struct nuauth_portal *p;
	struct MHD_Connection *conn;
	struct MHD_PostProcessor *pp;
	enum preq_kind kind;
	struct in6_addr addr;
	char addr_text[INET6_ADDRSTRLEN];
	char user[FIELD_MAX + 1];
	char pass[FIELD_MAX + 1];
	bool too_long;			/* a field beyond FIELD_MAX */
	bool dispatched;		/* handed to the main loop */
	/* the answer, set by the main loop before it resumes conn */
	unsigned status;
	char *page;			/* malloc'd HTML */
	/* the password check, on the pool */
	struct nuauth_modules *mods;
	enum nuauth_user_status result;
	uint32_t uid;
	GArray *groups;
};

static void preq_unref(struct preq *r)
{
	if (!g_atomic_int_dec_and_test(&r->refs))
		return;
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	if (r->groups)
		g_array_unref(r->groups);
	explicit_bzero(r->pass, sizeof(r->pass));
	free(r->page);
	g_free(r);
}

/* ---- the pages (main loop) ---- */

static const char page_head[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	"<meta name=\"viewport\" content=\"width=device-width\">"
	"<title>%s</title><style>body{font-family:sans-serif;max-width:28em;margin:3em auto}"
	"input{display:block;margin:.4em 0 1em;font-size:1.1em;width:100%%}"
	".msg{padding:.6em;background:#fee;border:1px solid #c66}"
	".ok{padding:.6em;background:#efe;border:1px solid #6a6}</style></head><body>\n";

static char *page(const char *title, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static char *page(const char *title, const char *fmt, ...)
{
	GString *o = g_string_new(NULL);
	va_list ap;
	char *out;

	g_string_append_printf(o, page_head, title);
	va_start(ap, fmt);
	g_string_append_vprintf(o, fmt, ap);
	va_end(ap);
	g_string_append(o, "\n</body></html>\n");
	out = strdup(o->str);		/* MHD frees it with free() */
	g_string_free(o, TRUE);
	return out;
}

static char *login_page(const struct preq *r, const char *message)
{
	char *addr = g_markup_escape_text(r->addr_text, -1);
	char *msg = message ? g_markup_printf_escaped("<p class=\"msg\" id=\"message\">%s</p>",
						      message) : g_strdup("");
	char *out = page("Log in",
			 "<h1>Log in to the network</h1>%s"
			 "<p>This computer (%s) is not logged in.</p>"
			 "<form method=\"post\" action=\"/login\">"
			 "<label>User name<input name=\"user\" id=\"user\" autofocus></label>"
			 "<label>Password<input name=\"password\" id=\"password\" "
			 "type=\"password\"></label>"
			 "<input type=\"submit\" id=\"login\" value=\"Log in\"></form>",
			 msg, addr);

	g_free(addr);
	g_free(msg);
	return out;
}

/* Who is logged in at the address: the "who is here" page. */
static char *who_page(const struct preq *r, const struct nuauth_ipsession *s,
		      const char *message)
{
	GDateTime *t = g_date_time_new_from_unix_local(s->since / G_USEC_PER_SEC);
	char *since = g_date_time_format(t, "%Y-%m-%d %H:%M:%S");
	char *msg = message ? g_markup_printf_escaped("<p class=\"ok\" id=\"message\">%s</p>",
						      message) : g_strdup("");
	char *who = g_markup_printf_escaped("<p id=\"who\">This computer (%s) is <b>%s</b>'s, "
					    "since %s (%s).</p>", r->addr_text, s->user, since,
					    s->origin);
	char *body = g_strconcat("<h1>Logged in</h1>", msg, who, NULL);
	char *out = page("Logged in", "%s%s", body,
			 strcmp(s->origin, "portal") == 0 ?
			 "<form method=\"post\" action=\"/logout\">"
			 "<input type=\"submit\" id=\"logout\" value=\"Log out\"></form>" :
			 "<p>This session was not opened here: it ends with the network's.</p>");

	g_date_time_unref(t);
	g_free(since);
	g_free(msg);
	g_free(who);
	g_free(body);
	return out;
}

static gboolean answer(gpointer data);

/* Sends r's answer: resumes its connection (MHD's thread sends it). */
static void respond(struct preq *r, unsigned status, char *html)
{
	struct nuauth_portal *p = r->p;

	r->status = status;
	r->page = html;
	g_mutex_lock(&p->lock);
	p->waiting = g_list_remove(p->waiting, r);
	MHD_resume_connection(r->conn);
	g_mutex_unlock(&p->lock);
	preq_unref(r);			/* the main loop's reference */
}

static void check_work(void *data)
{
	struct preq *r = data;
	struct nuauth_module_instance *answered = NULL;

	char *canonical;

	r->result = nuauth_hooks_user_check(r->mods, r->user, r->pass, strlen(r->pass), &r->uid,
					    r->groups, &answered);
	explicit_bzero(r->pass, sizeof(r->pass));
	/* The store's spelling, as a client's login gets it: ALICE is alice
	 * for the session, its ACLs, limits and nuauthctl. */
	if (r->result == NUAUTH_USER_OK &&
	    (canonical = nuauth_canonical_name(answered, r->user)) != NULL) {
		g_strlcpy(r->user, canonical, sizeof(r->user));
		g_free(canonical);
	}
}

static void check_done(void *data)
{
	struct preq *r = data;
	struct nuauth_server *srv = r->p->srv;
	GError *error = NULL;

	nuauth_modules_unref(r->mods);
	r->mods = NULL;
	if (r->result != NUAUTH_USER_OK) {
		/* A directory that cannot be reached is no one's wrong password. */
		if (r->result != NUAUTH_USER_ERROR)
			nuauth_login_failed(srv, r->addr_text, r->user);
		nuauth_stats_login(&srv->stats, "portal", "portal", false);
		log_notice("portal: login of `%s' from %s refused: %s", r->user, r->addr_text,
			   r->result == NUAUTH_USER_ERROR ? "user database unavailable" :
			   r->result == NUAUTH_USER_DISABLED ? "account disabled" :
			   "wrong user name or password");
		respond(r, r->result == NUAUTH_USER_ERROR ? MHD_HTTP_SERVICE_UNAVAILABLE :
			MHD_HTTP_FORBIDDEN,
			login_page(r, r->result == NUAUTH_USER_ERROR ?
				   "The user database cannot be reached: try again later." :
				   "Wrong user name or password."));
		return;
	}
	nuauth_login_succeeded(srv, r->addr_text, r->user);
	nuauth_stats_login(&srv->stats, "portal", "portal", true);
	if (!nuauth_ipsession_start(srv->ipsessions, r->user, &r->addr, nuauth_origin("portal"),
				    &error)) {
		log_warnx("portal: login of %s from %s: %s", r->user, r->addr_text, error->message);
		respond(r, MHD_HTTP_SERVICE_UNAVAILABLE, login_page(r, error->message));
		g_error_free(error);
		return;
	}
	log_notice("address session of %s at %s (portal): start", r->user, r->addr_text);
	respond(r, MHD_HTTP_OK,
		who_page(r, nuauth_ipsession_use(srv->ipsessions, &r->addr), "Welcome."));
}

static bool portal_stopping(struct nuauth_portal *p)
{
	bool stopping;

	g_mutex_lock(&p->lock);
	stopping = p->stopping;
	g_mutex_unlock(&p->lock);
	return stopping;
}

/* On the main loop: r's answer, now or once the pool checked the password. */
static gboolean answer(gpointer data)
{
	struct preq *r = data;
	struct nuauth_server *srv = r->p->srv;
	const struct nuauth_ipsession *s = nuauth_ipsession_use(srv->ipsessions, &r->addr);
	unsigned locked;

	if (portal_stopping(r->p)) {
		/* nuauth exits: the pool may be gone already. */
		respond(r, MHD_HTTP_SERVICE_UNAVAILABLE, strdup("nuauth is stopping\n"));
		return G_SOURCE_REMOVE;
	}
	switch (r->kind) {
	case PAGE:
		respond(r, MHD_HTTP_OK, s ? who_page(r, s, NULL) : login_page(r, NULL));
		break;
	case LOGOUT:
		if (!s || strcmp(s->origin, "portal") != 0) {
			respond(r, MHD_HTTP_OK, s ? who_page(r, s, NULL) : login_page(r, NULL));
			break;
		}
		log_notice("address session of %s at %s (portal): stop (logout), %u connection(s) "
			   "ended", s->user, r->addr_text,
			   nuauth_connections_end_address(srv->connections, s->user, &r->addr));
		nuauth_ipsession_stop(srv->ipsessions, NULL, &r->addr, s->origin, NULL);
		respond(r, MHD_HTTP_OK, login_page(r, "You are logged out."));
		break;
	case LOGIN:
		/* RADIUS or an administrator pinned the address to a user:
		 * the page does not take it over. */
		if (s && s->origin != nuauth_origin("portal")) {
			respond(r, MHD_HTTP_CONFLICT, who_page(r, s, "This computer is logged in "
							       "by the network: no login here."));
			break;
		}
		if (r->too_long || !nuauth_username_usable(r->user) ||
		    strlen(r->user) >= NU_NAME_MAX) {
			respond(r, MHD_HTTP_BAD_REQUEST, login_page(r, "That is not a user name."));
			break;
		}
		locked = nuauth_login_locked(srv, r->addr_text, r->user);
		if (locked) {
			char *why = g_strdup_printf("Too many failed logins: try again in %u s.",
						    locked);

			respond(r, MHD_HTTP_TOO_MANY_REQUESTS, login_page(r, why));
			g_free(why);
			break;
		}
		r->mods = nuauth_modules_ref(srv->modules);
		r->groups = g_array_new(FALSE, FALSE, sizeof(guint32));
		r->result = NUAUTH_USER_ERROR;
		nuauth_workers_submit(srv->workers, check_work, check_done, r);
		break;
	}
	return G_SOURCE_REMOVE;
}

/* ---- libmicrohttpd's thread ---- */

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *filename, const char *content_type,
				const char *transfer_encoding, const char *data, uint64_t off,
				size_t size)
{
	struct preq *r = cls;
	char *field = strcmp(key, "user") == 0 ? r->user :
		      strcmp(key, "password") == 0 ? r->pass : NULL;

	(void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
	if (!field)
		return MHD_YES;
	if (off + size > FIELD_MAX) {
		r->too_long = true;
		return MHD_YES;
	}
	memcpy(field + off, data, size);
	field[off + size] = '\0';
	return MHD_YES;
}

static enum MHD_Result send_page(struct MHD_Connection *conn, unsigned status, char *html)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(html), html, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!resp) {
		free(html);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A form posted from a page of another site: login CSRF (a page elsewhere
 * making the browser log this address in under the attacker's name, whose
 * ACLs and mark its traffic would then carry, or log it out).  Browsers
 * say where a POST comes from: Sec-Fetch-Site (same-origin for our own
 * form, none for a typed request) and Origin, which must be this page's
 * (https and the Host the browser asked for; "null" is a sandboxed or
 * privacy-stripped page).  A request that says neither is no browser's
 * cross-site post (curl, a script on the host itself) and is let through. */
static bool cross_site_post(struct MHD_Connection *conn)
{
	const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return true;
	if (!origin)
		return false;
	return !host || !g_str_has_prefix(origin, "https://") ||
	       g_ascii_strcasecmp(origin + strlen("https://"), host) != 0;
}

static bool client_addr(struct MHD_Connection *conn, struct preq *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		nu_addr_from_v4(&r->addr,
				((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
	else if (sa->sa_family == AF_INET6)
		r->addr = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return false;
	nu_addr_format(&r->addr, r->addr_text, sizeof(r->addr_text));
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req)
{
	struct nuauth_portal *p = cls;
	struct preq *r = *req;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

	(void)version;
	if (!r) {
		if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return send_page(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					 strdup("only GET and POST\n"));
		if (post && strcmp(url, "/login") != 0 && strcmp(url, "/logout") != 0)
			return send_page(conn, MHD_HTTP_NOT_FOUND, strdup("not found\n"));
		if (post && cross_site_post(conn))
			return send_page(conn, MHD_HTTP_FORBIDDEN,
					 strdup("a form from another site is refused\n"));
		r = g_new0(struct preq, 1);
		r->refs = 1;		/* MHD's, dropped when the request completes */
		r->p = p;
		r->conn = conn;
		r->kind = !post ? PAGE : strcmp(url, "/login") == 0 ? LOGIN : LOGOUT;
		if (!client_addr(conn, r)) {
			preq_unref(r);
			return MHD_NO;
		}
		if (r->kind == LOGIN) {
			r->pp = MHD_create_post_processor(conn, 1024, on_field, r);
			if (!r->pp) {
				preq_unref(r);
				return send_page(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
						 strdup("a form, please\n"));
			}
		}
		*req = r;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (r->pp)
			MHD_post_process(r->pp, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->page) {
		char *html = r->page;

		r->page = NULL;
		return send_page(conn, r->status, html);
	}
	if (r->dispatched)
		return MHD_YES;		/* resumed early: the answer comes */
	g_mutex_lock(&p->lock);
	if (p->stopping) {
		g_mutex_unlock(&p->lock);
		return send_page(conn, MHD_HTTP_SERVICE_UNAVAILABLE, strdup("nuauth is stopping\n"));
	}
	r->dispatched = true;
	g_atomic_int_inc(&r->refs);	/* the main loop's */
	MHD_suspend_connection(conn);
	p->waiting = g_list_prepend(p->waiting, r);
	g_mutex_unlock(&p->lock);
	nu_run_on(p->main_ctx, answer, r, NULL);
	return MHD_YES;
}

/* The redirect's thread: every request, a 302 to the login page. */
static enum MHD_Result on_redirect(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_data_size, void **req)
{
	struct nuauth_portal *p = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)url, (void)method, (void)version, (void)upload_data;
	*upload_data_size = 0;	/* a body is never read */
	if (!*req) {		/* the headers: answer once they are read */
		*req = p;
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(strlen(p->redirect_page), p->redirect_page,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, p->redirect_to);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, MHD_HTTP_FOUND, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls, (void)conn, (void)why;
	if (*req)
		preq_unref(*req);
	*req = NULL;
}

#endif /* HAVE_MICROHTTPD */

bool nuauth_portal_bind(struct nuauth_server *srv, GError **error)
{
	struct nuauth_portal *p;
	char *cert = NULL, *key = NULL;
	int fd = -1, rfd = -1;

	if (!srv->cfg.portal_addr && !srv->cfg.redirect_addr)
		return true;
	if (srv->cfg.portal_addr &&
	    (!g_file_get_contents(srv->cfg.tls_cert, &cert, NULL, error) ||
	     !g_file_get_contents(srv->cfg.tls_key, &key, NULL, error))) {
		g_prefix_error(error, "nuauth_portal_listen: ");
		goto fail;
	}
	if (srv->cfg.portal_addr &&
	    (fd = nuauth_bind_http(srv, "nuauth_portal_listen", srv->cfg.portal_addr,
				   srv->cfg.portal_port, error)) < 0)
		goto fail;
	if (srv->cfg.redirect_addr &&
	    (rfd = nuauth_bind_http(srv, "nuauth_portal_redirect_listen", srv->cfg.redirect_addr,
				    srv->cfg.redirect_port, error)) < 0)
		goto fail;
	p = g_new0(struct nuauth_portal, 1);
	p->srv = srv;
	p->fd = fd;
	p->redirect_fd = rfd;
	p->cert = cert;
	p->key = key;
	if (srv->cfg.portal_url) {
		p->redirect_to = g_strdup(srv->cfg.portal_url);
		p->redirect_page = g_markup_printf_escaped(
			"<!DOCTYPE html>\n<html><head><title>Log in</title></head><body><p>Log "
			"in to the network: <a href=\"%s\">%s</a></p></body></html>\n",
			p->redirect_to, p->redirect_to);
	}
	g_mutex_init(&p->lock);
	srv->portal = p;
	return true;
fail:
	if (fd >= 0)
		close(fd);
	g_free(cert);
	if (key)
		explicit_bzero(key, strlen(key));
	g_free(key);
	return false;
}

bool nuauth_portal_start(struct nuauth_server *srv, GError **error)
{
	struct nuauth_portal *p = srv->portal;

	if (!p)
		return true;
	p->main_ctx = g_main_context_ref(g_main_loop_get_context(srv->loop));
#ifdef HAVE_MICROHTTPD
	if (p->redirect_fd >= 0) {
		p->redirect = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0,
					       NULL, NULL, on_redirect, p,
					       MHD_OPTION_LISTEN_SOCKET, (MHD_socket)p->redirect_fd,
					       MHD_OPTION_CONNECTION_LIMIT, (unsigned)BROWSERS_MAX,
					       MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
					       MHD_OPTION_CONNECTION_TIMEOUT,
					       (unsigned)BROWSER_TIMEOUT_S,
					       MHD_OPTION_END);
		if (!p->redirect) {
			g_set_error(error, NU_ERROR, NU_ERROR_IO, "nuauth_portal_redirect_listen: "
				    "libmicrohttpd cannot start its server");
			return false;
		}
		p->redirect_fd = -1;
		log_info("redirect to %s on http://%s:%u/", srv->cfg.portal_url,
			 srv->cfg.redirect_addr, srv->cfg.redirect_port);
	}
	if (p->fd < 0)
		return true;
	p->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_TLS |
				  MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, on_request, p,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)p->fd,
				  MHD_OPTION_HTTPS_MEM_CERT, p->cert,
				  MHD_OPTION_HTTPS_MEM_KEY, p->key,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)BROWSERS_MAX,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)BROWSER_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, p,
				  MHD_OPTION_END);
	if (!p->mhd) {
		g_set_error(error, NU_ERROR, NU_ERROR_IO,
			    "nuauth_portal_listen: libmicrohttpd cannot start its HTTPS server");
		return false;
	}
	p->fd = -1;	/* libmicrohttpd's now */
	log_info("login page on https://%s%s%s:%u/",
		 strchr(srv->cfg.portal_addr, ':') ? "[" : "", srv->cfg.portal_addr,
		 strchr(srv->cfg.portal_addr, ':') ? "]" : "", srv->cfg.portal_port);
	return true;
#else
	(void)error;
	return true;
#endif
}

void nuauth_portal_refuse_new(struct nuauth_server *srv)
{
	struct nuauth_portal *p = srv->portal;

	if (!p)
		return;
	g_mutex_lock(&p->lock);
	p->stopping = true;
	g_mutex_unlock(&p->lock);
}

void nuauth_portal_stop(struct nuauth_server *srv)
{
	struct nuauth_portal *p = srv->portal;

	if (!p)
		return;
#ifdef HAVE_MICROHTTPD
	if (p->redirect)
		MHD_stop_daemon(p->redirect);
	if (p->mhd) {
		/* A request still waiting for the main loop is answered here;
		 * libmicrohttpd refuses to stop with a connection suspended. */
		g_mutex_lock(&p->lock);
		p->stopping = true;
		for (GList *l = p->waiting; l; l = l->next) {
			struct preq *r = l->data;

			r->status = MHD_HTTP_SERVICE_UNAVAILABLE;
			r->page = strdup("nuauth is stopping\n");
			MHD_resume_connection(r->conn);
			preq_unref(r);	/* the main loop's: it will not answer */
		}
		g_list_free(p->waiting);
		p->waiting = NULL;
		g_mutex_unlock(&p->lock);
		MHD_stop_daemon(p->mhd);	/* joins its thread, closes the socket */
	}
#endif
	if (p->fd >= 0)
		close(p->fd);
	if (p->redirect_fd >= 0)
		close(p->redirect_fd);
	if (p->main_ctx)
		g_main_context_unref(p->main_ctx);
	g_mutex_clear(&p->lock);
	if (p->key)
		explicit_bzero(p->key, strlen(p->key));
	g_free(p->cert);
	g_free(p->key);
	g_free(p->redirect_to);
	g_free(p->redirect_page);
	g_free(p);
	srv->portal = NULL;
}
