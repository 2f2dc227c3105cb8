/* Cyrus SASL on client links.  SASL runs only inside TLS (the client port
 * speaks nothing else), so PLAIN is safe to offer.
 *
 *   PLAIN          the password goes to the nuauth_user_check_module chain
 *                  through SASL's userdb-checkpass callback.
 *   SCRAM-SHA-256  the password never crosses the link: Cyrus' SCRAM plugin
 *                  reads the user's verifier from the authPassword property,
 *                  which our in-process auxprop plugin ("nuauth") fills from
 *                  the chain's scram_verifier hooks.
 *   EXTERNAL       the user named by the client's verified certificate
 *                  (cert_login.c); uid and groups from get_user_groups.
 *
 * Every callback of a conversation runs inside sasl_server_start/step,
 * which run on a worker of the pool (workers.c; client_session.c submits
 * each step and handles its result on the main thread).  One conversation
 * is never on two threads at once: its link takes no AUTH message while a
 * step runs.  Cyrus' global state (plugin lists, sasl_dispose) is guarded
 * by the GMutex callbacks installed before sasl_server_init. */
#include "config.h"
#include "nuauth.h"

#include <string.h>
#include <arpa/inet.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <gnutls/crypto.h>

#include "log.h"
#include "scram.h"
#include "tls.h"

#define NU_SASL_SERVICE "nufw"
#define AUXPROP_NAME "nuauth"
#define AUTH_PASSWORD_PROP "*authPassword"	/* the authid's, hence the star */
#define SCRAM_PREFIX "SCRAM-"

struct nuauth_sasl {
	struct nuauth_server *srv;
	struct nuauth_modules *mods;	/* the set the running step asks */
	sasl_conn_t *conn;
	sasl_callback_t callbacks[3];
	char *mechs;			/* offered to this client */
	char *mech;			/* the one the client chose */
	char *cert_user;		/* from its verified certificate; NULL none */
	char *tried;			/* the user name the login is for */
	char *canonical;		/* its store's spelling; NULL: as typed */
	/* Filled for the user that logs in (checkpass or the SCRAM lookup). */
	char *user;
	uint32_t uid;
	GArray *groups;
	enum nuauth_user_status status;
	bool checked;			/* the modules were asked: status is theirs */
	bool no_verifier;		/* SCRAM: known user without a verifier */
	char *why;			/* a failure text of our own, or NULL */
	char addr[INET6_ADDRSTRLEN];	/* the client's, for login_guard */
	bool locked;			/* refused: too many failed logins */
};

static int sasl_log_cb(void *ctx, int level, const char *message)
{
	(void)ctx;
	if (level <= SASL_LOG_WARN)
		log_info("sasl: %s", message);
	else
		log_debug("sasl: %s", message);
	return SASL_OK;
}

/* Options for Cyrus.  Security: when our checkpass callback refuses a
 * password, Cyrus goes on to its own verifiers (pwcheck_method auxprop):
 * only our auxprop plugin is named, and it never gives a clear password
 * (userPassword), so only the modules decide passwords and a stray sasldb
 * cannot log anyone in. */
static int answer_option(const char *mechs, const char *option, const char **result,
			 unsigned *len)
{
	if (strcmp(option, "mech_list") == 0)
		*result = mechs;
	else if (strcmp(option, "pwcheck_method") == 0)
		*result = "auxprop";
	else if (strcmp(option, "auxprop_plugin") == 0)
		*result = AUXPROP_NAME;
	else
		return SASL_FAIL;
	if (len)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

/* At start: every mechanism we may ever offer. */
static int global_getopt_cb(void *ctx, const char *plugin, const char *option,
			    const char **result, unsigned *len)
{
	(void)ctx;
	(void)plugin;
	return answer_option("EXTERNAL " NU_SCRAM_MECH " PLAIN", option, result, len);
}

/* On a connection: the mechanisms this client may use. */
static int conn_getopt_cb(void *ctx, const char *plugin, const char *option,
			  const char **result, unsigned *len)
{
	struct nuauth_sasl *s = ctx;

	(void)plugin;
	return answer_option(s->mechs ? s->mechs : "", option, result, len);
}

static const sasl_callback_t global_callbacks[] = {
	{ SASL_CB_LOG, (int (*)(void))(void (*)(void))sasl_log_cb, NULL },
	{ SASL_CB_GETOPT, (int (*)(void))(void (*)(void))global_getopt_cb, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

/* Cyrus may hand over "user@realm" where the realm is our own default. */
static char *plain_user_name(sasl_conn_t *conn, const char *user, size_t len)
{
	const char *at = memrchr(user, '@', len);
	const void *realm = NULL;

	if (at && sasl_getprop(conn, SASL_DEFUSERREALM, &realm) == SASL_OK && realm &&
	    strlen(realm) == (size_t)(user + len - at - 1) &&
	    memcmp(at + 1, realm, strlen(realm)) == 0)
		return g_strndup(user, (gsize)(at - user));
	return g_strndup(user, len);
}

/* Remembers the user name a login is for (login_guard counts failures). */
static void set_tried(struct nuauth_sasl *s, char *name)
{
	g_free(s->tried);
	s->tried = name;
	g_clear_pointer(&s->canonical, g_free);
}

/* The name login_guard and the session use: the store's spelling. */
static const char *guard_name(const struct nuauth_sasl *s)
{
	return s->canonical ? s->canonical : s->tried;
}

/* Asks module m, which just answered for name (not UNKNOWN, not ERROR),
 * for its spelling of it (module.h, canonical_name). */
static void set_canonical(struct nuauth_sasl *s, struct nuauth_module_instance *m,
			  const char *name)
{
	g_clear_pointer(&s->canonical, g_free);
	s->canonical = nuauth_canonical_name(m, name);
}

/* After the store answered: a lock on its spelling of the name, when that
 * differs from the typed one (the lock on which was checked first). */
static bool canonical_locked(struct nuauth_sasl *s)
{
	if (!s->canonical || strcmp(s->canonical, s->tried) == 0 ||
	    !nuauth_login_locked(s->srv, s->addr, s->canonical))
		return false;
	s->locked = true;
	return true;
}

static int checkpass_cb(sasl_conn_t *conn, void *ctx, const char *user, const char *pass,
			unsigned passlen, struct propctx *propctx);

/* Our per-connection state, from inside a Cyrus plugin: the context of our
 * checkpass callback on that connection. */
static struct nuauth_sasl *conn_state(const sasl_utils_t *utils)
{
	sasl_callback_ft proc = NULL;
	void *ctx = NULL;

	if (utils->getcallback(utils->conn, SASL_CB_SERVER_USERDB_CHECKPASS, &proc, &ctx) !=
	    SASL_OK || proc != (sasl_callback_ft)(void (*)(void))checkpass_cb)
		return NULL;
	return ctx;
}

/* A verifier for a name no store knows: salt and keys derived from a secret
 * drawn once per process, so the same name gets the same salt each time (as
 * a real user does) and no password matches.  SCRAM then goes on as for a
 * known user and fails at the proof, like a wrong password (and counted as
 * one by login_guard): the first step no longer tells which names exist. */
static char *decoy_verifier(const char *mech, const char *name)
{
	static uint8_t secret[32];
	static gsize drawn;
	uint8_t part[3][NU_SCRAM_KEY_LEN];
	char *b64[3], *v;

	if (g_once_init_enter(&drawn)) {
		if (gnutls_rnd(GNUTLS_RND_KEY, secret, sizeof(secret)) < 0)
			fatalx("cannot draw random bytes");
		g_once_init_leave(&drawn, 1);
	}
	for (unsigned i = 0; i < 3; i++) {
		GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, secret, sizeof(secret));
		gsize len = sizeof(part[i]);
		uint8_t which = (uint8_t)i;

		g_hmac_update(h, &which, 1);
		g_hmac_update(h, (const guchar *)name, -1);
		g_hmac_get_digest(h, part[i], &len);
		g_hmac_unref(h);
	}
	b64[0] = g_base64_encode(part[0], NU_SCRAM_SALT_DEFAULT);
	b64[1] = g_base64_encode(part[1], NU_SCRAM_KEY_LEN);
	b64[2] = g_base64_encode(part[2], NU_SCRAM_KEY_LEN);
	v = g_strdup_printf("%s$%u:%s$%s:%s", mech, NU_SCRAM_ITER_DEFAULT, b64[0], b64[1], b64[2]);
	for (unsigned i = 0; i < 3; i++)
		g_free(b64[i]);
	explicit_bzero(part, sizeof(part));
	return v;
}

/* The SCRAM verifier of name from the user_check chain; fills s. */
static char *find_verifier(struct nuauth_sasl *s, const char *name)
{
	struct nuauth_module_instance *answered;
	const char *v = NULL;
	bool any_hook = nuauth_hooks_chain_has(s->mods, NUAUTH_HOOK_USER_CHECK,
					       NUAUTH_SVC_SCRAM_VERIFIER, 0);
	bool password_only = nuauth_hooks_chain_has(s->mods, NUAUTH_HOOK_USER_CHECK,
						    NUAUTH_SVC_USER_CHECK,
						    NUAUTH_SVC_SCRAM_VERIFIER);

	s->checked = true;
	s->status = nuauth_hooks_scram_verifier(s->mods, name, s->mech, &v, &s->uid, s->groups,
						&answered);
	if (s->status != NUAUTH_USER_UNKNOWN && s->status != NUAUTH_USER_ERROR)
		set_canonical(s, answered, name);
	/* A user no SCRAM store knows may be one of a module that checks
	 * passwords only (e.g. ldap): PLAIN may work for it. */
	if (s->status == NUAUTH_USER_UNKNOWN && password_only) {
		s->no_verifier = true;
		return NULL;
	}
	if (any_hook && s->status == NUAUTH_USER_UNKNOWN)
		return decoy_verifier(s->mech, name);
	if (!any_hook || s->status != NUAUTH_USER_OK)
		return NULL;
	if (!v) {
		s->no_verifier = true;
		return NULL;
	}
	return g_strconcat(s->mech, "$", v, NULL);
}

/* The auxprop plugin: gives SCRAM its verifier (authPassword), nothing
 * else, and only during a SCRAM login. */
static int auxprop_lookup(void *glob, sasl_server_params_t *sparams, unsigned flags,
			  const char *user, unsigned ulen)
{
	struct nuauth_sasl *s = conn_state(sparams->utils);
	const struct propval *pv;
	char *name, *verifier;

	(void)glob;
	if (!s || !s->mech || g_ascii_strncasecmp(s->mech, SCRAM_PREFIX, strlen(SCRAM_PREFIX)) ||
	    (flags & SASL_AUXPROP_AUTHZID))
		return SASL_OK;
	for (pv = sparams->utils->prop_get(sparams->propctx); pv && pv->name; pv++)
		if (strcmp(pv->name, AUTH_PASSWORD_PROP) == 0)
			break;
	if (!pv || !pv->name || (pv->values && !(flags & SASL_AUXPROP_OVERRIDE)))
		return SASL_OK;
	name = plain_user_name(sparams->utils->conn, user, ulen);
	set_tried(s, name);
	/* A locked address or name gets no verifier: the login fails. */
	if (nuauth_login_locked(s->srv, s->addr, name)) {
		s->locked = true;
		return SASL_OK;
	}
	verifier = find_verifier(s, name);
	if (canonical_locked(s) && verifier) {
		explicit_bzero(verifier, strlen(verifier));
		g_clear_pointer(&verifier, g_free);
	}
	if (!verifier)
		return SASL_OK;
	if (pv->values)
		sparams->utils->prop_erase(sparams->propctx, pv->name);
	sparams->utils->prop_set(sparams->propctx, pv->name, verifier, (int)strlen(verifier));
	explicit_bzero(verifier, strlen(verifier));
	g_free(verifier);
	return SASL_OK;
}

static int auxprop_init(const sasl_utils_t *utils, int max_version, int *out_version,
			sasl_auxprop_plug_t **plug, const char *plugname)
{
	(void)utils;
	(void)plugname;
	static sasl_auxprop_plug_t plugin = {
		.auxprop_lookup = auxprop_lookup,
		.name = (char *)AUXPROP_NAME,
	};

	if (max_version < SASL_AUXPROP_PLUG_VERSION)
		return SASL_BADVERS;
	*out_version = SASL_AUXPROP_PLUG_VERSION;
	*plug = &plugin;
	return SASL_OK;
}

/* Cyrus' own mutexes do nothing unless the application gives real ones:
 * steps run on several workers at once. */
static void *mutex_alloc(void)
{
	GMutex *m = g_new0(GMutex, 1);

	g_mutex_init(m);
	return m;
}

static int mutex_lock(void *m)
{
	g_mutex_lock(m);
	return SASL_OK;
}

static int mutex_unlock(void *m)
{
	g_mutex_unlock(m);
	return SASL_OK;
}

static void mutex_free(void *m)
{
	if (!m)
		return;
	g_mutex_clear(m);
	g_free(m);
}

bool nuauth_sasl_global_init(GError **error)
{
	int ret;

	sasl_set_mutex(mutex_alloc, mutex_lock, mutex_unlock, mutex_free);
	ret = sasl_server_init(global_callbacks, "nuauth");

	if (ret == SASL_OK)
		ret = sasl_auxprop_add_plugin(AUXPROP_NAME, auxprop_init);
	if (ret != SASL_OK) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO,
			    "cannot start Cyrus SASL: %s", sasl_errstring(ret, NULL, NULL));
		return false;
	}
	return true;
}

static int checkpass_cb(sasl_conn_t *conn, void *ctx, const char *user, const char *pass,
			unsigned passlen, struct propctx *propctx)
{
	struct nuauth_sasl *s = ctx;
	struct nuauth_module_instance *answered;
	char *name = plain_user_name(conn, user, strlen(user));

	(void)propctx;
	set_tried(s, name);
	/* A locked address or name is refused before any password check. */
	if (nuauth_login_locked(s->srv, s->addr, name)) {
		s->locked = true;
		return SASL_BADAUTH;
	}
	s->checked = true;
	s->status = nuauth_hooks_user_check(s->mods, name, pass, passlen, &s->uid, s->groups,
					    &answered);
	if (s->status != NUAUTH_USER_UNKNOWN && s->status != NUAUTH_USER_ERROR) {
		set_canonical(s, answered, name);
		if (canonical_locked(s))
			return SASL_BADAUTH;
	}
	if (s->status != NUAUTH_USER_OK)
		return s->status == NUAUTH_USER_UNKNOWN ? SASL_NOUSER : SASL_BADAUTH;
	g_free(s->user);
	s->user = g_strdup(guard_name(s));
	return SASL_OK;
}

/* Does the user_check chain offer hook (user_check or scram_verifier)? */
static bool chain_has(struct nuauth_server *srv, bool scram)
{
	return nuauth_hooks_chain_has(srv->modules, NUAUTH_HOOK_USER_CHECK,
				      scram ? NUAUTH_SVC_SCRAM_VERIFIER : NUAUTH_SVC_USER_CHECK, 0);
}

/* The mechanisms to ask Cyrus for: EXTERNAL for a certificate user (alone
 * under nuauth_tls_auth_by_cert 2), then those of nuauth_sasl_mechanisms
 * that the user store can verify. */
static char *wanted_mechs(struct nuauth_sasl *s)
{
	const struct nuauth_config *cfg = &s->srv->cfg;
	GString *out = g_string_new(NULL);
	gchar **words;

	if (s->cert_user)
		g_string_append(out, "EXTERNAL");
	if (cfg->tls_auth_by_cert == 2)
		return g_string_free(out, FALSE);
	words = g_strsplit_set(cfg->sasl_mechanisms, " ,\t", -1);
	for (gchar **w = words; *w; w++) {
		bool scram = g_ascii_strncasecmp(*w, SCRAM_PREFIX, strlen(SCRAM_PREFIX)) == 0;

		if (**w && chain_has(s->srv, scram))
			g_string_append_printf(out, "%s%s", out->len ? " " : "", *w);
	}
	g_strfreev(words);
	return g_string_free(out, FALSE);
}

struct nuauth_sasl *nuauth_sasl_new(struct nuauth_server *srv, gnutls_session_t tls,
				    const struct sockaddr_storage *peer, char **why)
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
	if (nu_addr_from_sockaddr((const struct sockaddr *)peer, &addr))
		nu_addr_format(&addr, s->addr, sizeof(s->addr));
	if (srv->cfg.tls_auth_by_cert)
		s->cert_user = nuauth_cert_user(srv, tls, s->addr);
	if (srv->cfg.tls_auth_by_cert == 2 && !s->cert_user) {
		*why = g_strdup("log in with a client certificate (nuauth_tls_auth_by_cert=2)");
		nuauth_sasl_free(s);
		return NULL;
	}
	s->mechs = wanted_mechs(s);
	s->callbacks[0].id = SASL_CB_SERVER_USERDB_CHECKPASS;
	s->callbacks[0].proc = (int (*)(void))(void (*)(void))checkpass_cb;
	s->callbacks[0].context = s;
	s->callbacks[1].id = SASL_CB_GETOPT;
	s->callbacks[1].proc = (int (*)(void))(void (*)(void))conn_getopt_cb;
	s->callbacks[1].context = s;
	s->callbacks[2].id = SASL_CB_LIST_END;
	ret = sasl_server_new(NU_SASL_SERVICE, NULL, NULL, NULL, NULL, s->callbacks, 0, &s->conn);
	if (ret != SASL_OK) {
		log_warnx("sasl_server_new: %s", sasl_errstring(ret, NULL, NULL));
		*why = g_strdup("authentication is unavailable");
		nuauth_sasl_free(s);
		return NULL;
	}
	/* TLS protects the exchange: no SASL security layer on top of it. */
	secprops.maxbufsize = NU_SASL_DATA_MAX;
	secprops.security_flags = SASL_SEC_NOANONYMOUS;
	sasl_setprop(s->conn, SASL_SEC_PROPS, &secprops);
	sasl_setprop(s->conn, SASL_SSF_EXTERNAL, &ssf);
	if (s->cert_user)
		sasl_setprop(s->conn, SASL_AUTH_EXTERNAL, s->cert_user);
	ret = sasl_listmech(s->conn, NULL, "", " ", "", &list, &plen, &count);
	if (ret != SASL_OK || plen == 0) {
		log_warnx("no SASL mechanism available for %s (wanted: %s): %s", s->addr,
			  s->mechs, sasl_errdetail(s->conn));
		*why = g_strdup("authentication is unavailable");
		nuauth_sasl_free(s);
		return NULL;
	}
	g_free(s->mechs);
	s->mechs = g_strndup(list, plen);
	return s;
}

void nuauth_sasl_free(struct nuauth_sasl *s)
{
	if (!s)
		return;
	if (s->conn)
		sasl_dispose(&s->conn);
	g_free(s->mechs);
	g_free(s->mech);
	g_free(s->cert_user);
	g_free(s->tried);
	g_free(s->canonical);
	g_free(s->user);
	g_free(s->why);
	g_array_unref(s->groups);
	g_free(s);
}

const char *nuauth_sasl_mechs(struct nuauth_sasl *s)
{
	return s->mechs;
}

const char *nuauth_sasl_mech(const struct nuauth_sasl *s)
{
	return s->mech ? s->mech : "";
}

bool nuauth_sasl_no_verifier(const struct nuauth_sasl *s)
{
	return s->no_verifier;
}

bool nuauth_sasl_locked(const struct nuauth_sasl *s)
{
	return s->locked;
}

static bool offered(const char *list, const char *mech)
{
	gchar **words = g_strsplit(list, " ", -1);
	bool found = false;

	for (gchar **w = words; *w && !found; w++)
		found = g_ascii_strcasecmp(*w, mech) == 0;
	g_strfreev(words);
	return found;
}

static const char *failure_text(struct nuauth_sasl *s, int ret)
{
	if (s->locked)
		return NUAUTH_LOCKED_TEXT;
	if (s->why)
		return s->why;
	if (s->no_verifier) {
		s->why = g_strdup_printf("no %s verifier is stored for this user: log in with "
					 "PLAIN, or have the administrator add one "
					 "(nuauthctl hash --scram)", s->mech);
		return s->why;
	}
	/* A module could not check the password or give the verifier (e.g.
	 * its directory is down); Cyrus may then say NOMECH. */
	if (s->checked && s->status == NUAUTH_USER_ERROR)
		return "the user database is unavailable";
	if (ret == SASL_NOMECH)
		return "mechanism not offered";
	if (s->mech && strcmp(s->mech, "EXTERNAL") == 0) {
		/* Cyrus refuses a client that asks to be someone else. */
		s->why = g_strdup_printf("the certificate is for user %s only",
					 s->cert_user ? s->cert_user : "(none)");
		return s->why;
	}
	switch (s->status) {
	case NUAUTH_USER_DISABLED:
		return "account disabled";
	case NUAUTH_USER_UNKNOWN:
	case NUAUTH_USER_BAD_PASSWORD:
	case NUAUTH_USER_OK:		/* SCRAM: the proof did not match */
		return "bad user name or password";
	default:
		break;
	}
	return "authentication failed";
}

/* After Cyrus said yes: who logged in, with uid and groups.  false (with
 * s->why) when nuauth does not accept that user. */
static bool finish_login(struct nuauth_sasl *s)
{
	const void *authid = NULL;
	char *name;

	if (sasl_getprop(s->conn, SASL_USERNAME, &authid) != SASL_OK || !authid)
		return false;
	name = plain_user_name(s->conn, authid, strlen(authid));
	if (g_ascii_strcasecmp(s->mech, "EXTERNAL") == 0) {
		enum nuauth_user_status st;

		set_tried(s, g_strdup(name));
		/* The certificate's name, never one the client asked for. */
		if (!s->cert_user || strcmp(name, s->cert_user) != 0) {
			s->why = g_strdup_printf("the certificate is for user %s only",
						 s->cert_user ? s->cert_user : "(none)");
			g_free(name);
			return false;
		}
		g_array_set_size(s->groups, 0);
		st = nuauth_user_groups_canonical(s->mods, name, &s->uid, s->groups,
						  &s->canonical);
		if (st != NUAUTH_USER_OK) {
			s->status = st;
			s->why = g_strdup_printf("certificate user %s is not known here", name);
			g_free(name);
			return false;
		}
		s->status = NUAUTH_USER_OK;
	} else if (!s->tried || strcmp(name, s->tried) != 0 || s->status != NUAUTH_USER_OK) {
		/* The name the password or verifier was checked for, only. */
		g_free(name);
		return false;
	}
	g_free(s->user);
	/* The store's spelling from now on: one name per user. */
	s->user = s->canonical ? g_strdup(s->canonical) : g_strdup(name);
	g_free(name);
	return true;
}

enum nuauth_sasl_step nuauth_sasl_step(struct nuauth_sasl *s, struct nuauth_modules *mods,
				       const char *mech, const uint8_t *in, size_t in_len,
				       bool has_in, const uint8_t **out, size_t *out_len,
				       const char **why)
{
	const char *sout = NULL;
	unsigned slen = 0;
	int ret;

	s->mods = mods;

	if (mech) {
		s->status = NUAUTH_USER_ERROR;
		s->checked = false;
		g_free(s->mech);
		s->mech = g_ascii_strup(mech, -1);
		if (!offered(s->mechs, mech)) {
			*why = "mechanism not offered";
			return NUAUTH_SASL_FAILED;
		}
		ret = sasl_server_start(s->conn, s->mech, has_in ? (const char *)in : NULL,
					(unsigned)in_len, &sout, &slen);
	} else {
		ret = sasl_server_step(s->conn, (const char *)in, (unsigned)in_len, &sout, &slen);
	}

	if (ret == SASL_CONTINUE) {
		*out = (const uint8_t *)sout;
		*out_len = slen;
		return NUAUTH_SASL_CONTINUE;
	}
	if (ret != SASL_OK || !finish_login(s)) {
		*why = failure_text(s, ret);
		s->mods = NULL;
		return NUAUTH_SASL_FAILED;
	}
	s->mods = NULL;
	return NUAUTH_SASL_DONE;
}

void nuauth_sasl_settle(struct nuauth_sasl *s, enum nuauth_sasl_step r,
			struct nuauth_session_user *user)
{
	if (r == NUAUTH_SASL_FAILED) {
		/* Counted once per failed login, locks excepted (login_guard.c
		 * logged those when they began). */
		if (!s->locked && s->tried && !s->no_verifier)
			nuauth_login_failed(s->srv, s->addr, guard_name(s));
		return;
	}
	if (r != NUAUTH_SASL_DONE)
		return;
	nuauth_login_succeeded(s->srv, s->addr, s->user);
	if (!user)
		return;
	user->name = g_strdup(s->user);
	user->uid = s->uid;
	user->groups = g_array_ref(s->groups);
}
