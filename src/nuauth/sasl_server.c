/* Cyrus SASL on client links.  SASL runs only inside TLS (the client port
 * speaks nothing else), so PLAIN is safe to offer.  Passwords are checked
 * by the nuauth_user_check_module chain through SASL's userdb-checkpass
 * callback; the module that knows the user also gives its uid and groups. */
#include "config.h"
#include "nuauth.h"

#include <string.h>
#include <arpa/inet.h>
#include <sasl/sasl.h>

#include "log.h"
#include "tls.h"

#define NU_SASL_SERVICE "nufw"
/* Mechanisms that work with password-checking modules. */
#define SASL_MECHS "PLAIN"

struct nuauth_sasl {
	struct nuauth_server *srv;
	sasl_conn_t *conn;
	sasl_callback_t callbacks[2];
	char *mechs;
	/* Filled by checkpass for the user that logged in. */
	char *user;
	uint32_t uid;
	GArray *groups;
	enum nuauth_user_status status;
	bool checked;			/* checkpass ran: status is the modules' */
	char addr[INET6_ADDRSTRLEN];	/* the client's, for login_guard */
	bool locked;			/* refused: too many failed logins */
};

static int sasl_log_cb(void *ctx, int level, const char *message)
{
	if (level <= SASL_LOG_WARN)
		log_info("sasl: %s", message);
	else
		log_debug("sasl: %s", message);
	return SASL_OK;
}

static int sasl_getopt_cb(void *ctx, const char *plugin, const char *option,
			  const char **result, unsigned *len)
{
	/* Security: when our checkpass callback refuses a password, Cyrus
	 * goes on to its own verifiers (pwcheck_method).  Naming an auxprop
	 * plugin that does not exist makes that second check fail, so only
	 * the modules decide passwords: a stray sasldb cannot log anyone in.
	 * (nuauth_sasl_step also requires the user set by checkpass.) */
	if (strcmp(option, "mech_list") == 0)
		*result = SASL_MECHS;
	else if (strcmp(option, "pwcheck_method") == 0)
		*result = "auxprop";
	else if (strcmp(option, "auxprop_plugin") == 0)
		*result = "nuauth-none";
	else
		return SASL_FAIL;
	if (len)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static const sasl_callback_t global_callbacks[] = {
	{ SASL_CB_LOG, (int (*)(void))(void (*)(void))sasl_log_cb, NULL },
	{ SASL_CB_GETOPT, (int (*)(void))(void (*)(void))sasl_getopt_cb, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

bool nuauth_sasl_global_init(GError **error)
{
	int ret = sasl_server_init(global_callbacks, "nuauth");

	if (ret != SASL_OK) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO,
			    "cannot start Cyrus SASL: %s", sasl_errstring(ret, NULL, NULL));
		return false;
	}
	return true;
}

/* Cyrus may hand over "user@realm" where the realm is our own default. */
static char *plain_user_name(sasl_conn_t *conn, const char *user)
{
	const char *at = strrchr(user, '@');
	const void *realm = NULL;

	if (at && sasl_getprop(conn, SASL_DEFUSERREALM, &realm) == SASL_OK && realm &&
	    strcmp(at + 1, realm) == 0)
		return g_strndup(user, (gsize)(at - user));
	return g_strdup(user);
}

static int checkpass_cb(sasl_conn_t *conn, void *ctx, const char *user, const char *pass,
			unsigned passlen, struct propctx *propctx)
{
	struct nuauth_sasl *s = ctx;
	GPtrArray *chain = s->srv->modules.user_check;
	char *name = plain_user_name(conn, user);

	/* A locked address or name is refused before any password check. */
	if (nuauth_login_locked(s->srv, s->addr, name)) {
		s->locked = true;
		g_free(name);
		return SASL_BADAUTH;
	}
	s->status = NUAUTH_USER_UNKNOWN;
	s->checked = true;
	for (guint i = 0; i < chain->len && s->status == NUAUTH_USER_UNKNOWN; i++) {
		struct nuauth_module_instance *m = g_ptr_array_index(chain, i);

		g_array_set_size(s->groups, 0);
		s->status = m->api->user_check(m->priv, name, pass, passlen, &s->uid, s->groups);
	}
	if (s->status != NUAUTH_USER_OK) {
		if (s->status == NUAUTH_USER_UNKNOWN || s->status == NUAUTH_USER_BAD_PASSWORD)
			nuauth_login_failed(s->srv, s->addr, name);
		g_free(name);
		return s->status == NUAUTH_USER_UNKNOWN ? SASL_NOUSER : SASL_BADAUTH;
	}
	nuauth_login_succeeded(s->srv, name);
	g_free(s->user);
	s->user = name;
	return SASL_OK;
}

struct nuauth_sasl *nuauth_sasl_new(struct nuauth_server *srv, gnutls_session_t tls,
				    const struct sockaddr_storage *peer)
{
	struct nuauth_sasl *s = g_new0(struct nuauth_sasl, 1);
	sasl_security_properties_t secprops = { 0 };
	sasl_ssf_t ssf = nu_tls_ssf(tls);
	const char *list;
	unsigned plen;
	int count, ret;
	struct in6_addr addr;

	s->srv = srv;
	s->groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	s->callbacks[0].id = SASL_CB_SERVER_USERDB_CHECKPASS;
	s->callbacks[0].proc = (int (*)(void))(void (*)(void))checkpass_cb;
	s->callbacks[0].context = s;
	s->callbacks[1].id = SASL_CB_LIST_END;
	ret = sasl_server_new(NU_SASL_SERVICE, NULL, NULL, NULL, NULL, s->callbacks, 0, &s->conn);
	if (ret != SASL_OK) {
		log_warnx("sasl_server_new: %s", sasl_errstring(ret, NULL, NULL));
		nuauth_sasl_free(s);
		return NULL;
	}
	/* TLS protects the exchange: no SASL security layer on top of it. */
	secprops.maxbufsize = NU_SASL_DATA_MAX;
	secprops.security_flags = SASL_SEC_NOANONYMOUS;
	sasl_setprop(s->conn, SASL_SEC_PROPS, &secprops);
	sasl_setprop(s->conn, SASL_SSF_EXTERNAL, &ssf);
	ret = sasl_listmech(s->conn, NULL, "", " ", "", &list, &plen, &count);
	if (ret != SASL_OK) {
		log_warnx("no SASL mechanism available: %s", sasl_errdetail(s->conn));
		nuauth_sasl_free(s);
		return NULL;
	}
	s->mechs = g_strndup(list, plen);
	if (nu_addr_from_sockaddr((const struct sockaddr *)peer, &addr))
		nu_addr_format(&addr, s->addr, sizeof(s->addr));
	return s;
}

void nuauth_sasl_free(struct nuauth_sasl *s)
{
	if (!s)
		return;
	if (s->conn)
		sasl_dispose(&s->conn);
	g_free(s->mechs);
	g_free(s->user);
	g_array_unref(s->groups);
	g_free(s);
}

const char *nuauth_sasl_mechs(struct nuauth_sasl *s)
{
	return s->mechs;
}

bool nuauth_sasl_locked(const struct nuauth_sasl *s)
{
	return s->locked;
}

static const char *failure_text(struct nuauth_sasl *s, int ret)
{
	if (s->locked)
		return NUAUTH_LOCKED_TEXT;
	switch (s->status) {
	case NUAUTH_USER_DISABLED:
		return "account disabled";
	case NUAUTH_USER_UNKNOWN:
	case NUAUTH_USER_BAD_PASSWORD:
		return "bad user name or password";
	default:
		break;
	}
	/* A module could not check the password (e.g. its directory is
	 * down); Cyrus then tried its own verifiers and says NOMECH. */
	if (s->checked)
		return "the user database is unavailable";
	if (ret == SASL_NOMECH)
		return "mechanism not offered";
	return "authentication failed";
}

enum nuauth_sasl_step nuauth_sasl_step(struct nuauth_sasl *s, const char *mech,
				       const uint8_t *in, size_t in_len, bool has_in,
				       const uint8_t **out, size_t *out_len,
				       struct nuauth_session_user *user, const char **why)
{
	const char *sout = NULL;
	unsigned slen = 0;
	int ret;

	s->status = NUAUTH_USER_ERROR;
	s->checked = false;
	if (mech)
		ret = sasl_server_start(s->conn, mech, has_in ? (const char *)in : NULL,
					(unsigned)in_len, &sout, &slen);
	else
		ret = sasl_server_step(s->conn, (const char *)in, (unsigned)in_len, &sout, &slen);

	if (ret == SASL_CONTINUE) {
		*out = (const uint8_t *)sout;
		*out_len = slen;
		return NUAUTH_SASL_CONTINUE;
	}
	if (ret != SASL_OK || !s->user) {
		*why = failure_text(s, ret);
		return NUAUTH_SASL_FAILED;
	}
	user->name = g_strdup(s->user);
	user->uid = s->uid;
	user->groups = g_array_ref(s->groups);
	return NUAUTH_SASL_DONE;
}
