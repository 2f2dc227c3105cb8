/* The client: the object, the login hand-off and the loop.  Its other
 * concerns have files of their own (see client_int.h): the options, the
 * state, the announcer that answers nuauth's PUSH requests, and the links,
 * one to nuauth per address family; they never call back into this file. */
#include "config.h"
#include "client_int.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apphash.h"
#include "evloop.h"
#include "log.h"
#include "error.h"
#include "tls.h"

const char *nuclient_version(void)
{
	return PACKAGE_VERSION;
}

void nuclient_log_init(const char *ident, bool to_syslog, int level)
{
	nu_log_init(ident, to_syslog, level);
}

struct nuclient *nuclient_new(void)
{
	struct nuclient *nc = g_new0(struct nuclient, 1);

	nc_options_init(&nc->opt);
	nc->links = g_ptr_array_new();
	nc->uid = getuid();
	nc->diag_fd = -1;
	nc->pushed = g_array_new(FALSE, FALSE, sizeof(struct nc_pushed));
	nc->apphash = nc_apphash_new();
	return nc;
}

void nuclient_free(struct nuclient *nc)
{
	if (!nc)
		return;
	nc_send_logout(nc);
	nc->stopped = true;
	nu_source_cancel(&nc->push_idle);
	nu_source_cancel(&nc->keepalive_timer);
	for (guint i = 0; i < nc->links->len; i++)
		nc_link_free(g_ptr_array_index(nc->links, i));
	g_ptr_array_free(nc->links, TRUE);
	if (nc->creds)
		gnutls_certificate_free_credentials(nc->creds);
	if (nc->loop)
		g_main_loop_unref(nc->loop);
	if (nc->diag_fd >= 0)
		close(nc->diag_fd);
	g_array_free(nc->pushed, TRUE);
	nc_apphash_free(nc->apphash);
	nc_options_free(&nc->opt);
	g_free(nc->description);
	g_free(nc);
}

void nuclient_on_notice(struct nuclient *nc, nuclient_notice_fn fn, void *ctx)
{
	nc->notice_fn = fn;
	nc->notice_ctx = ctx;
}

void nuclient_on_state(struct nuclient *nc, nuclient_state_fn fn, void *ctx)
{
	nc->state_fn = fn;
	nc->state_ctx = ctx;
}

/* ---- state ---- */

const char *nuclient_state_name(enum nuclient_state state)
{
	switch (state) {
	case NUCLIENT_STATE_LOGGED_OUT: return "logged out";
	case NUCLIENT_STATE_LOGGED_IN: return "logged in";
	case NUCLIENT_STATE_RECONNECTING: return "reconnecting";
	case NUCLIENT_STATE_REFUSED: return "login refused";
	}
	return "unknown";
}

enum nuclient_state nuclient_get_state(const struct nuclient *nc)
{
	return nc->state;
}

const char *nuclient_describe(struct nuclient *nc)
{
	GString *s = g_string_new(nuclient_state_name(nc->state));

	for (guint i = 0; i < nc->links->len; i++) {
		struct nc_link *l = g_ptr_array_index(nc->links, i);

		g_string_append_printf(s, "%s %s (%s) %s", i ? "," : ":", l->host,
				       nc_family_name(l->family), l->conn ? "up" : "down");
		if (!l->conn && l->why_down)
			g_string_append_printf(s, " [%s]", l->why_down);
	}
	if (nc->opt.user)
		g_string_append_printf(s, "; user %s", nc->opt.user);
	g_free(nc->description);
	nc->description = g_string_free(s, FALSE);
	return nc->description;
}

/* ---- login ---- */

/* What a login needs before it connects: the server, the CA, the user's
 * name, the credentials.  NUCLIENT_OK, or NUCLIENT_BAD_CONFIG with *err. */
static enum nuclient_status login_prepare(struct nuclient *nc, char **err)
{
	if (!nc->opt.server || !nc->opt.ca) {
		*err = g_strdup(!nc->opt.server ? "no nuauth address given"
				: "no CA certificate given");
		return NUCLIENT_BAD_CONFIG;
	}
	if (!nc->opt.user) {
		struct passwd *pw = getpwuid(getuid());
		const char *name = pw ? pw->pw_name : g_getenv("USER");

		if (!name) {
			*err = g_strdup("cannot tell the user name: set it");
			return NUCLIENT_BAD_CONFIG;
		}
		nc->opt.user = g_strdup(name);
	}
	if (nc->opt.udp_unconnected)
		log_warnx("udp_unconnected is on: an unconnected UDP socket of yours claims "
			  "every flow from its port, also datagrams others forge from it");
	if (!nc->creds) {
		GError *error = NULL;

		/* The library's own convention is *err (programs without GLib). */
		nc->creds = nu_tls_load_creds(nc->opt.ca, nc->opt.cert, nc->opt.key, nc->opt.crl,
					      &error);
		if (!nc->creds) {
			*err = nu_error_take_message(error);
			return NUCLIENT_BAD_CONFIG;
		}
	}
	if (nc->links->len == 0 && !nc_links_make(nc, err))
		return NUCLIENT_BAD_CONFIG;
	return NUCLIENT_OK;
}

enum nuclient_status nuclient_login(struct nuclient *nc, char **err)
{
	char *first_err = NULL;
	enum nuclient_status result;

	if (err)
		*err = NULL;
	result = login_prepare(nc, &first_err);
	if (result == NUCLIENT_OK)
		result = nc_links_up(nc, &first_err);
	if (result == NUCLIENT_OK || result == NUCLIENT_UNREACHABLE) {
		nc->stopped = false;
		nc->logged_out = false;
	}
	if (result == NUCLIENT_OK)
		nc_update_state(nc, "logged in");
	else if (result == NUCLIENT_UNREACHABLE)
		nc_links_retry(nc);	/* nuclient_run keeps trying */
	if (first_err) {
		if (err)
			*err = strdup(first_err);
		g_free(first_err);
	}
	return result;
}

int nuclient_run(struct nuclient *nc)
{
	if (!nc->loop)
		nc->loop = g_main_loop_new(g_main_context_get_thread_default(), FALSE);
	nc->run_result = 0;
	nc_keepalive_start(nc);
	if (nc->state != NUCLIENT_STATE_REFUSED)
		g_main_loop_run(nc->loop);
	return nc->run_result;
}

void nuclient_stop(struct nuclient *nc, bool logout)
{
	if (logout)
		nc_send_logout(nc);
	nc->stopped = true;
	nc_set_state(nc, NUCLIENT_STATE_LOGGED_OUT, logout ? "logged out" : "stopped");
	if (nc->loop)
		g_main_loop_quit(nc->loop);
}
