/* One desktop client link: TLS (the client's certificate as
 * nuauth_tls_request_cert says), HELLO with the
 * SASL mechanisms on offer, the SASL conversation, then ANNOUNCE messages
 * from the client and PUSH requests to it.
 *
 * Each SASL step runs on the worker pool (its callbacks ask the user_check
 * modules, which may wait for a directory): the link is busy meanwhile and
 * an AUTH message arriving then breaks the protocol (the client waits for
 * each answer).  The result comes back to the main thread, which answers,
 * counts the login for login_guard and sets up the session.  A link that
 * closes while its step runs leaves the conversation to the job, which
 * frees it when the step ends.
 *
 * Once logged in the link is a peer (peers.h): the tables send PUSH,
 * NOTICE and NEEDS through the operations below, and its close is the
 * peer's "gone" event. */
#include "config.h"
#include "nuauth.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <gnutls/crypto.h>

#include "log.h"
#include "tls.h"

/* A link that has not logged in by then is closed: it only holds memory. */
#define LOGIN_TIMEOUT_S 30
/* What nuauth sends a client is small (PUSH, NOTICE, NEEDS, KEEPALIVE
 * echoes): a client that leaves this much unread is not reading, and its
 * link closes (a gateway's may hold the default, 4 MiB, of decisions). */
#define CLIENT_MAX_BACKLOG (256u << 10)

enum client_state { CLIENT_HELLO, CLIENT_AUTH, CLIENT_READY };

struct login_job;

struct nuauth_client {
	struct nuauth_server *srv;
	struct login_job *job;		/* the SASL step running on the pool */
	struct nu_msgconn *link;
	struct sockaddr_storage peer;
	struct in6_addr addr;
	char addr_text[INET6_ADDRSTRLEN];
	enum client_state state;
	struct nuauth_sasl *sasl;
	bool sasl_started;
	struct nuauth_session_user user;
	guint login_timer;
	bool prelogin_counted;		/* in srv->prelogin */
	char software[NU_NAME_MAX];	/* from HELLO */
	gint64 since;			/* login, g_get_real_time() */
	guint expiry_timer;		/* nuauth_user_session_modify_module */
	struct nuauth_peer *self;	/* its peer (peers.h), once logged in */
	/* In a cluster, nuauth_single_user_client_limit's slot in etcd: being
	 * claimed (the login waits), then held until the session ends. */
	struct nuauth_cluster_claim *claim;
	char *slot;
	/* The resume token (doc/protocol.md, "Resuming a session"): the
	 * client's own when it resumes a session, else a new random one. */
	uint8_t resume[NU_RESUME_LEN];
	bool resumed;
};

/* A session's tag: what nufw files its connections under.  Derived from
 * the token, so that any node the client resumes on finds the same tag
 * without asking the others, and from the user, so that a token another
 * user presents (stolen, or guessed) names none of this user's
 * connections.  The token itself never leaves the client's link. */
static uint64_t session_tag(const char *user, const uint8_t token[NU_RESUME_LEN])
{
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	uint8_t digest[32];
	gsize len = sizeof(digest);
	uint64_t tag = 0;

	g_checksum_update(sum, (const guchar *)"nufw session tag", 17);
	g_checksum_update(sum, (const guchar *)user, (gssize)strlen(user) + 1);
	g_checksum_update(sum, token, NU_RESUME_LEN);
	g_checksum_get_digest(sum, digest, &len);
	g_checksum_free(sum);
	for (int i = 0; i < 8; i++)
		tag = tag << 8 | digest[i];
	return tag ? tag : 1;	/* 0 means none */
}

bool nuauth_client_logged_in(const struct nuauth_client *cl)
{
	return cl->state == CLIENT_READY;
}

/* Links from an address that have not logged in (srv->prelogin). */
static guint prelogin_count(struct nuauth_server *srv, const struct in6_addr *addr)
{
	return srv->prelogin ? GPOINTER_TO_UINT(g_hash_table_lookup(srv->prelogin, addr)) : 0;
}

static void prelogin_add(struct nuauth_client *cl)
{
	struct nuauth_server *srv = cl->srv;

	if (!srv->prelogin)
		srv->prelogin = g_hash_table_new_full(nuauth_addr_hash, nuauth_addr_equal, g_free, NULL);
	g_hash_table_replace(srv->prelogin, g_memdup2(&cl->addr, sizeof(cl->addr)),
			     GUINT_TO_POINTER(prelogin_count(srv, &cl->addr) + 1));
	cl->prelogin_counted = true;
}

/* cl logged in or closed. */
static void prelogin_remove(struct nuauth_client *cl)
{
	struct nuauth_server *srv = cl->srv;
	guint n = prelogin_count(srv, &cl->addr);

	if (!cl->prelogin_counted)
		return;
	cl->prelogin_counted = false;
	if (n > 1)
		g_hash_table_replace(srv->prelogin, g_memdup2(&cl->addr, sizeof(cl->addr)),
				     GUINT_TO_POINTER(n - 1));
	else
		g_hash_table_remove(srv->prelogin, &cl->addr);
}

/* The client broke the protocol: it is told why, the link closes, and the
 * close is counted (nuauthctl stats: protocol_closes). */
__attribute__((format(printf, 2, 3)))
static void protocol_violation(struct nuauth_client *cl, const char *fmt, ...)
{
	va_list ap;
	char *why;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	cl->srv->stats.protocol_closes++;
	nu_msgconn_fail(cl->link, "%s", why);
	g_free(why);
}

gint64 nuauth_client_since(const struct nuauth_client *cl)
{
	return cl->since;
}

const char *nuauth_client_software(const struct nuauth_client *cl)
{
	return cl->software;
}

unsigned nuauth_client_disconnect(struct nuauth_client *cl, const char *why)
{
	unsigned n = nuauth_connections_end_user(cl->srv->connections,
						 cl->self ? cl->self->id : 0);

	log_notice("user %s disconnected from %s (%s): ending %u connection(s)",
		   cl->user.name, cl->addr_text, why, n);
	nu_msgconn_fail(cl->link, "%s", why);
	return n;
}

unsigned nuauth_clients_disconnect_user(struct nuauth_server *srv, const char *user,
					const char *why, unsigned *sessions)
{
	GPtrArray *found = g_ptr_array_new();
	unsigned conns = 0;

	for (GList *l = srv->clients; l; l = l->next) {
		struct nuauth_client *cl = l->data;

		if (nuauth_client_logged_in(cl) && strcmp(cl->user.name, user) == 0)
			g_ptr_array_add(found, cl);
	}
	/* Each close frees only its own client: the others stay valid. */
	for (guint i = 0; i < found->len; i++)
		conns += nuauth_client_disconnect(g_ptr_array_index(found, i), why);
	*sessions = found->len;
	g_ptr_array_free(found, TRUE);
	return conns;
}

/* The authquality= scale of a login by its mechanism. */
static enum nuauth_auth_quality auth_quality(const char *mechanism)
{
	if (strcmp(mechanism, "EXTERNAL") == 0)
		return NUAUTH_AUTHQ_CERTIFICATE;
	if (g_str_has_prefix(mechanism, "SCRAM-"))
		return NUAUTH_AUTHQ_PROOF;
	return NUAUTH_AUTHQ_PASSWORD;
}

void nuauth_clients_recheck(struct nuauth_server *srv, const char *who)
{
	GList *l = srv->clients;

	while (l) {
		struct nuauth_client *cl = l->data;

		l = l->next;	/* the disconnect may unlink cl */
		if (nuauth_client_logged_in(cl) && g_strcmp0(cl->user.mechanism, "EXTERNAL") == 0 &&
		    !nu_tls_peer_still_trusted(nu_msgconn_session(cl->link))) {
			log_warnx("%s: the certificate user %s logged in with from %s is no longer "
				  "trusted (revoked?)", who, cl->user.name, cl->addr_text);
			nuauth_client_disconnect(cl, "your certificate is no longer trusted");
		}
	}
}

void nuauth_client_close(struct nuauth_client *cl, const char *why)
{
	nu_msgconn_close(cl->link, why);	/* on_close frees cl */
}

const struct nuauth_session_user *nuauth_client_user(const struct nuauth_client *cl)
{
	return &cl->user;
}

const struct in6_addr *nuauth_client_addr(const struct nuauth_client *cl)
{
	return &cl->addr;
}

/* ---- the peer operations (peers.h) ---- */

static void send_push(void *link, const struct nu_flow *flow)
{
	struct nuauth_client *cl = link;
	uint8_t buf[128];
	size_t len;

	if (cl->state != CLIENT_READY)
		return;
	if (nu_push_encode(buf, sizeof(buf), flow, &len) == NU_PROTO_OK)
		nu_msgconn_send(cl->link, buf, len);
}

static void send_notice(void *link, const struct nu_flow *flow, int verdict, const char *app,
			const char *text)
{
	struct nuauth_client *cl = link;
	struct nu_notice n = { .flow = *flow, .verdict = (uint8_t)verdict };
	uint8_t buf[NU_MSG_HEADER_LEN + 64 + NU_APP_MAX + NU_TEXT_MAX];
	size_t len;

	if (cl->state != CLIENT_READY)
		return;
	g_strlcpy(n.app, app ? app : "", sizeof(n.app));
	g_strlcpy(n.text, text ? text : "", sizeof(n.text));
	if (nu_notice_encode(buf, sizeof(buf), &n, &len) == NU_PROTO_OK)
		nu_msgconn_send(cl->link, buf, len);
}

static void send_needs(void *link, uint32_t needs)
{
	struct nuauth_client *cl = link;
	uint8_t buf[NU_MSG_HEADER_LEN + 8];
	size_t len;

	if (cl->state != CLIENT_READY ||
	    nu_needs_encode(buf, sizeof(buf), needs, &len) != NU_PROTO_OK)
		return;
	nu_msgconn_send(cl->link, buf, len);
	log_info("user %s at %s: NEEDS %s", cl->user.name, cl->addr_text,
		 nuauth_needs_text(needs));
}

static const struct nuauth_peer_ops client_peer_ops = {
	.push = send_push,
	.notice = send_notice,
	.needs = send_needs,
};

static void send_auth_result(struct nuauth_client *cl, uint8_t result, const char *text)
{
	struct nu_auth_result r = { .result = result, .has_resume = result == NU_AUTH_OK };
	uint8_t buf[512];
	size_t len;

	if (r.has_resume)
		memcpy(r.resume, cl->resume, sizeof(r.resume));
	g_strlcpy(r.user, cl->user.name ? cl->user.name : "", sizeof(r.user));
	g_strlcpy(r.text, text, sizeof(r.text));
	if (nu_auth_result_encode(buf, sizeof(buf), &r, &len) == NU_PROTO_OK)
		nu_msgconn_send(cl->link, buf, len);
}

/* The session hooks' view of the logged-in user of cl. */
static void session_event(const struct nuauth_client *cl, enum nuauth_session_kind kind,
			  const char *reason, struct nuauth_session_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->name = cl->user.name;
	ev->uid = cl->user.uid;
	ev->groups = cl->user.groups ? (const uint32_t *)(const void *)cl->user.groups->data : NULL;
	ev->ngroups = cl->user.groups ? cl->user.groups->len : 0;
	ev->address = cl->addr_text;
	ev->login_time = (time_t)(cl->since / G_USEC_PER_SEC);
	ev->time = ev->login_time;
	if (kind == NUAUTH_SESSION_LOGOUT)
		ev->time += (time_t)((g_get_real_time() - cl->since) / G_USEC_PER_SEC);
	ev->reason = reason ? reason : "";
	ev->client = cl->software;
	ev->os_sysname = cl->user.os_sysname ? cl->user.os_sysname : "";
	ev->os_release = cl->user.os_release ? cl->user.os_release : "";
	ev->os_version = cl->user.os_version ? cl->user.os_version : "";
	ev->auth_quality = cl->user.auth_quality;
}

static gboolean on_session_expired(gpointer data)
{
	struct nuauth_client *cl = data;

	cl->expiry_timer = 0;
	log_notice("session of user %s from %s expired", cl->user.name, cl->addr_text);
	nuauth_client_disconnect(cl, "session expired");
	return G_SOURCE_REMOVE;
}

/* Runs the session hooks of a login; arms the end of the session. */
static void session_started(struct nuauth_client *cl)
{
	struct nuauth_session_event ev;
	gint64 expires_at, delay_ms;

	session_event(cl, NUAUTH_SESSION_LOGIN, NULL, &ev);
	nuauth_hooks_session_log(cl->srv, &ev);
	expires_at = nuauth_hooks_session_expiry(cl->srv, &ev);
	if (expires_at <= 0)
		return;
	/* Whole seconds after the login itself, not after its second began. */
	delay_ms = MAX(0, expires_at * 1000 + cl->since % G_USEC_PER_SEC / 1000 -
			  g_get_real_time() / 1000);
	log_info("session of user %s from %s ends in %" G_GINT64_FORMAT " s", cl->user.name,
		 cl->addr_text, (delay_ms + 999) / 1000);
	if (delay_ms > G_MAXUINT / 2)
		cl->expiry_timer = g_timeout_add_seconds((guint)MIN(delay_ms / 1000, G_MAXUINT),
							 on_session_expired, cl);
	else
		cl->expiry_timer = g_timeout_add((guint)delay_ms, on_session_expired, cl);
}

static void handle_hello(struct nuauth_client *cl, const uint8_t *msg, size_t len)
{
	struct nu_hello h;
	enum nu_proto_status st = nu_hello_decode(msg, len, &h);
	uint8_t buf[NU_MSG_MAX_LEN];
	size_t out;
	char *why = NULL;

	if (st != NU_PROTO_OK || h.role != NU_ROLE_CLIENT) {
		protocol_violation(cl, "bad HELLO");
		return;
	}
	if (h.version_min > NU_PROTO_VERSION || h.version_max < NU_PROTO_VERSION) {
		nu_msgconn_fail(cl->link, "no common protocol version");
		return;
	}
	cl->sasl = nuauth_sasl_new(cl->srv, nu_msgconn_session(cl->link), &cl->peer, &why);
	if (!cl->sasl) {
		log_notice("client %s: %s", cl->addr_text, why);
		nu_msgconn_fail(cl->link, "%s", why);
		g_free(why);
		return;
	}
	g_strlcpy(cl->software, h.software, sizeof(cl->software));
	memset(&h, 0, sizeof(h));
	h.version_min = h.version_max = NU_PROTO_VERSION;
	h.role = NU_ROLE_SERVER;
	g_strlcpy(h.software, PACKAGE_STRING, sizeof(h.software));
	g_strlcpy(h.mech_list, nuauth_sasl_mechs(cl->sasl), sizeof(h.mech_list));
	if (nu_hello_encode(buf, sizeof(buf), &h, &out) == NU_PROTO_OK)
		nu_msgconn_send(cl->link, buf, out);
	cl->state = CLIENT_AUTH;
}

/* nuauth_single_user_client_limit and nuauth_single_ip_client_limit: may
 * cl, whose password was right, open one more session?  NULL if so, else
 * why not (allocated); *for_now when only for now (a cluster's node that
 * cannot count the others: the client tries again). */
static char *session_limit_refusal(const struct nuauth_client *cl, bool *by_address,
				   bool *for_now)
{
	const struct nuauth_config *cfg = &cl->srv->cfg;
	unsigned same_user = 0, same_addr = 0;
	bool limited = cfg->single_user_client_limit || cfg->single_ip_client_limit;
	char *cut_off = nuauth_cluster_login_refusal(cl->srv->cluster, limited, cl->user.name,
						     &cl->addr);

	/* A node cut off from etcd cannot count the other nodes' sessions
	 * (nuauth_cluster_partition_logins). */
	*for_now = cut_off != NULL;
	if (cut_off)
		return cut_off;
	if (!limited)
		return NULL;
	/* In a cluster the limits count every node's sessions. */
	nuauth_cluster_count_elsewhere(cl->srv->cluster, cl->user.name, &cl->addr, &same_user,
				       &same_addr);
	for (GList *l = cl->srv->clients; l; l = l->next) {
		const struct nuauth_client *o = l->data;

		if (o == cl || o->state != CLIENT_READY)
			continue;
		if (strcmp(o->user.name, cl->user.name) == 0)
			same_user++;
		if (memcmp(&o->addr, &cl->addr, sizeof(o->addr)) == 0)
			same_addr++;
	}
	if (cfg->single_user_client_limit && same_user >= cfg->single_user_client_limit)
		return g_strdup_printf("too many sessions for user %s (at most %u)",
				       cl->user.name, cfg->single_user_client_limit);
	if (cfg->single_ip_client_limit && same_addr >= cfg->single_ip_client_limit) {
		*by_address = true;
		return g_strdup_printf("too many sessions from %s (at most %u)",
				       cl->addr_text, cfg->single_ip_client_limit);
	}
	return NULL;
}

/* One SASL step on the pool.  The fields above "results" are the input,
 * set on the main thread; the results are written on the worker and read
 * on the main thread once the job is back. */
struct login_job {
	struct nuauth_client *cl;	/* NULL once the link has closed */
	struct nuauth_sasl *sasl;	/* the client's; the job's once cl is gone */
	struct nuauth_modules *mods;	/* a reference: a reload cannot unload it */
	char *mech;			/* first step only */
	uint8_t *in;
	size_t in_len;
	bool has_in;
	/* results */
	enum nuauth_sasl_step r;
	const uint8_t *out;
	size_t out_len;
	const char *why;
};

static void login_job_work(void *data)
{
	struct login_job *j = data;

	j->r = nuauth_sasl_step(j->sasl, j->mods, j->mech, j->in, j->in_len, j->has_in,
				&j->out, &j->out_len, &j->why);
}

static void login_job_free(struct login_job *j)
{
	nuauth_modules_unref(j->mods);
	g_free(j->mech);
	g_free(j->in);
	g_free(j);
}

static void login_step_done(struct nuauth_client *cl, struct login_job *j);

static void login_job_done(void *data)
{
	struct login_job *j = data;

	if (!j->cl) {
		/* The link closed meanwhile; a failure still counts, so that
		 * hanging up early does not dodge the failed-login limits. */
		if (j->r != NUAUTH_SASL_CONTINUE)
			nuauth_sasl_settle(j->sasl, j->r, NULL);
		nuauth_sasl_free(j->sasl);
	} else {
		j->cl->job = NULL;
		login_step_done(j->cl, j);
	}
	login_job_free(j);
}

static void handle_auth(struct nuauth_client *cl, const struct nu_msg_header *hdr,
			const uint8_t *msg, size_t len)
{
	struct nu_auth a;
	enum nu_proto_status st = nu_auth_decode(msg, len, &a);
	bool first = hdr->type == NU_MSG_AUTH_START;
	struct login_job *j;

	if (st != NU_PROTO_OK) {
		protocol_violation(cl, "%s", nu_proto_strerror(st));
		return;
	}
	if (first == cl->sasl_started) {
		protocol_violation(cl, "%s", first ? "AUTH_START sent twice" : "AUTH_STEP before AUTH_START");
		return;
	}
	cl->sasl_started = true;
	if (first && a.has_resume) {
		memcpy(cl->resume, a.resume, sizeof(cl->resume));
		cl->resumed = true;
	}
	if (first && nuauth_login_locked(cl->srv, cl->addr_text, NULL)) {
		/* Logged once, when the lock began (login_guard.c). */
		log_debug("client %s: login refused: address locked", cl->addr_text);
		nuauth_stats_login(&cl->srv->stats, a.mech, nuauth_sasl_mechs(cl->sasl), false);
		send_auth_result(cl, NU_AUTH_FAILED, NUAUTH_LOCKED_TEXT);
		nu_msgconn_close(cl->link, "login refused");
		return;
	}
	j = g_new0(struct login_job, 1);
	j->cl = cl;
	j->sasl = cl->sasl;
	j->mods = nuauth_modules_ref(cl->srv->modules);
	j->mech = first ? g_strdup(a.mech) : NULL;
	/* Cyrus tells an empty initial response from none: never NULL. */
	j->in = g_malloc0(a.data_len + 1);
	if (a.data_len)
		memcpy(j->in, a.data, a.data_len);
	j->in_len = a.data_len;
	j->has_in = a.has_data;
	cl->job = j;
	log_debug("client %s: %s step goes to the worker pool", cl->addr_text,
		  first ? "first login" : "login");
	nuauth_workers_submit(cl->srv->workers, login_job_work, login_job_done, j);
}

/* A login whose password was right is refused (a hook, a limit, the
 * cluster): said (rate-limited per address), counted, answered, closed.
 * result: NU_AUTH_FAILED, or NU_AUTH_ERROR for "not now". */
static void refuse_login(struct nuauth_client *cl, uint8_t result, const char *why)
{
	peer_log_notice(cl->srv->peer_log, &cl->addr, "client %s: login of user %s (%s) refused: %s",
			cl->addr_text, cl->user.name, nuauth_sasl_mech(cl->sasl), why);
	nuauth_stats_login(&cl->srv->stats, nuauth_sasl_mech(cl->sasl),
			   nuauth_sasl_mechs(cl->sasl), false);
	send_auth_result(cl, result, why);
	nu_msgconn_close(cl->link, "login refused");
}

/* The session_check hooks (e.g. session_authtype): true when one refused
 * the login, which is then answered and closed. */
static bool session_refused(struct nuauth_client *cl)
{
	struct nuauth_session_event ev;
	char why[NU_TEXT_MAX];

	session_event(cl, NUAUTH_SESSION_LOGIN, NULL, &ev);
	if (nuauth_hooks_session_check(cl->srv, &ev, why, sizeof(why)))
		return false;
	refuse_login(cl, NU_AUTH_FAILED, why);
	return true;
}

static void login_ready(struct nuauth_client *cl);
static void on_claimed(const char *slot, const char *why, void *ctx);

/* The result of a step, on the main thread. */
static void login_step_done(struct nuauth_client *cl, struct login_job *j)
{
	enum nuauth_sasl_step r = j->r;
	const char *why = j->why;
	bool by_address = false, for_now = false;
	char *limit;

	if (r == NUAUTH_SASL_CONTINUE) {
		const uint8_t *out = j->out;
		size_t out_len = j->out_len;
		uint8_t buf[NU_MSG_MAX_LEN];
		size_t n;
		if (nu_auth_step_encode(buf, sizeof(buf), out, out_len, &n) == NU_PROTO_OK)
			nu_msgconn_send(cl->link, buf, n);
		return;
	}
	nuauth_sasl_settle(cl->sasl, r, &cl->user);
	if (r == NUAUTH_SASL_FAILED) {
		if (nuauth_sasl_locked(cl->sasl))
			log_debug("client %s: login refused: %s", cl->addr_text, why);
		else
			log_notice("client %s: login refused: %s", cl->addr_text, why);
		nuauth_stats_login(&cl->srv->stats, nuauth_sasl_mech(cl->sasl),
				   nuauth_sasl_mechs(cl->sasl), false);
		send_auth_result(cl, nuauth_sasl_no_verifier(cl->sasl) ? NU_AUTH_OTHER_MECH
								 : NU_AUTH_FAILED, why);
		nu_msgconn_close(cl->link, "login refused");
		return;
	}
	if ((limit = session_limit_refusal(cl, &by_address, &for_now))) {
		if (by_address)
			cl->srv->stats.sessions_refused_address++;
		/* For now: RESULT error, which a client retries (on its
		 * back-off); a limit reached is a refusal. */
		refuse_login(cl, for_now ? NU_AUTH_ERROR : NU_AUTH_FAILED, limit);
		g_free(limit);
		return;
	}
	cl->user.mechanism = g_strdup(nuauth_sasl_mech(cl->sasl));
	cl->user.auth_quality = auth_quality(cl->user.mechanism);
	if (!cl->resumed)
		gnutls_rnd(GNUTLS_RND_RANDOM, cl->resume, sizeof(cl->resume));
	cl->user.session = session_tag(cl->user.name, cl->resume);
	cl->user.origin = nuauth_origin("client");
	cl->since = g_get_real_time();
	if (session_refused(cl))
		return;
	/* In a cluster the single-login limit is a slot taken in etcd by
	 * transaction (two logins on two nodes at once: one wins). */
	cl->claim = nuauth_cluster_claim_login(cl->srv->cluster, cl->user.name, &cl->addr,
					       cl->srv->cfg.single_user_client_limit, on_claimed, cl);
	if (!cl->claim)
		login_ready(cl);
}

/* The cluster's answer to the claim of a slot (nuauth_cluster_claim_login). */
static void on_claimed(const char *slot, const char *why, void *ctx)
{
	struct nuauth_client *cl = ctx;
	char *text;

	cl->claim = NULL;
	if (slot) {
		cl->slot = g_strdup(slot);
		login_ready(cl);
		return;
	}
	if (*why && (nuauth_cluster_is_failover(cl->srv->cluster, cl->user.name, &cl->addr) ||
		     cl->srv->cfg.cluster_partition_logins == NUAUTH_PARTITION_ALLOW)) {
		/* The client of a dead node's session, or a site that prefers
		 * logins to its limits: not kept out because etcd is away
		 * (doc/cluster.md, "Partitions"). */
		log_warnx("client %s: user %s logs in without a single-login slot (%s)",
			  cl->addr_text, cl->user.name, why);
		login_ready(cl);
		return;
	}
	if (*why)
		text = g_strdup_printf("the session limit cannot be checked (%s)", why);
	else
		text = g_strdup_printf("too many sessions for user %s (at most %u, across the cluster)",
				       cl->user.name, cl->srv->cfg.single_user_client_limit);
	refuse_login(cl, *why ? NU_AUTH_ERROR : NU_AUTH_FAILED, text);
	g_free(text);
}

/* Every check passed: the session starts. */
static void login_ready(struct nuauth_client *cl)
{
	if (cl->login_timer) {
		g_source_remove(cl->login_timer);
		cl->login_timer = 0;
	}
	cl->state = CLIENT_READY;
	prelogin_remove(cl);
	nuauth_stats_login(&cl->srv->stats, nuauth_sasl_mech(cl->sasl),
			   nuauth_sasl_mechs(cl->sasl), true);
	send_auth_result(cl, NU_AUTH_OK, "welcome");
	cl->self = nuauth_peers_add(cl->srv->peers, NUAUTH_PEER_CLIENT, &cl->addr, cl->user.name,
				    &client_peer_ops, cl);
	cl->self->user = &cl->user;
	send_needs(cl, cl->srv->client_needs);
	/* From now on asked about the packets from its address (correlate.c). */
	nuauth_correlate_client_ready(cl->srv->correlator, cl->self);
	nuauth_cluster_session_up(cl->srv->cluster, cl->self, cl->user.mechanism, cl->since);
	log_notice("user %s (uid %u) logged in from %s with %s%s", cl->user.name, cl->user.uid,
		   cl->addr_text, cl->user.mechanism, cl->resumed ? ", resuming its session" : "");
	if (cl->resumed) {
		unsigned n = nuauth_connections_adopt(cl->srv->connections, cl->self->id);

		if (n)
			log_info("user %s: %u connection(s) of the resumed session are its again",
				 cl->user.name, n);
	}
	session_started(cl);
}

static void handle_announce(struct nuauth_client *cl, const uint8_t *msg, size_t len)
{
	struct nu_announce_iter it;
	struct nu_announce_conn conn;
	enum nu_proto_status st = nu_announce_iter_init(&it, msg, len);
	bool not_mine;
	int r;

	if (st != NU_PROTO_OK) {
		protocol_violation(cl, "%s", nu_proto_strerror(st));
		return;
	}
	/* Correlating never closes this link (sends are deferred, msgconn.h). */
	while ((r = nu_announce_next_item(&it, &conn, &not_mine)) == 1)
		nuauth_correlate_announce(cl->srv->correlator, cl->self, &conn, not_mine);
	if (r < 0)
		protocol_violation(cl, "malformed ANNOUNCE message");
}

static void on_message(struct nu_msgconn *c, const struct nu_msg_header *hdr,
		       const uint8_t *msg, size_t len, void *ctx)
{
	struct nuauth_client *cl = ctx;

	(void)c;
	/* Before HELLO only HELLO, before the login only its messages
	 * (KEEPALIVE included: a link that has not logged in has nothing
	 * to keep alive); anything else closes the link. */
	switch (cl->state) {
	case CLIENT_HELLO:
		if (hdr->type == NU_MSG_HELLO) {
			handle_hello(cl, msg, len);
			return;
		}
		break;
	case CLIENT_AUTH:
		if (cl->job || cl->claim) {
			/* The client waits for the answer to its last step. */
			protocol_violation(cl, "%s while the last step is being checked",
					   nu_msg_type_name(hdr->type));
			return;
		}
		if (hdr->type == NU_MSG_AUTH_START || hdr->type == NU_MSG_AUTH_STEP) {
			handle_auth(cl, hdr, msg, len);
			return;
		}
		break;
	case CLIENT_READY:
		if (hdr->type == NU_MSG_KEEPALIVE) {
			uint8_t buf[NU_MSG_HEADER_LEN];
			size_t n;
			if (nu_keepalive_encode(buf, sizeof(buf), hdr->id, &n) == NU_PROTO_OK)
				nu_msgconn_send(cl->link, buf, n);
			return;
		}
		if (hdr->type == NU_MSG_ANNOUNCE) {
			handle_announce(cl, msg, len);
			return;
		}
		if (hdr->type == NU_MSG_LOGOUT) {
			unsigned n = nuauth_connections_end_user(cl->srv->connections, cl->self->id);
			log_notice("user %s logs out from %s: ending %u connection(s)",
				   cl->user.name, cl->addr_text, n);
			nu_msgconn_close(cl->link, "logged out");
			return;
		}
		if (hdr->type == NU_MSG_CLIENT_INFO) {
			struct nu_client_info info;
			if (nu_client_info_decode(msg, len, &info) != NU_PROTO_OK) {
				protocol_violation(cl, "malformed CLIENT_INFO message");
				return;
			}
			g_free(cl->user.os_sysname);
			g_free(cl->user.os_release);
			g_free(cl->user.os_version);
			cl->user.os_sysname = g_strdup(info.sysname);
			cl->user.os_release = g_strdup(info.release);
			cl->user.os_version = g_strdup(info.version);
			return;
		}
		if (!nu_msg_type_known(hdr->type)) {
			log_debug("user %s at %s: ignoring a message of unknown type %u",
				  cl->user.name, cl->addr_text, hdr->type);
			return;
		}
		break;
	}
	protocol_violation(cl, "unexpected %s message", nu_msg_type_name(hdr->type));
}

static void on_close(struct nu_msgconn *c, const char *why, void *ctx)
{
	struct nuauth_client *cl = ctx;

	(void)c;
	if (cl->state == CLIENT_READY) {
		struct nuauth_session_event ev;

		log_notice("user %s logged out from %s: %s", cl->user.name, cl->addr_text, why);
		session_event(cl, NUAUTH_SESSION_LOGOUT, why, &ev);
		nuauth_hooks_session_log(cl->srv, &ev);
	} else if (strstr(why, "certificate"))
		/* A bucket of their own: what an administrator looks for when
		 * a user cannot log in, and each cost the peer a handshake
		 * with a certificate; the flood of a peer that sends garbage
		 * or idles must not hide them. */
		peer_log_notice(cl->srv->peer_log, &cl->addr,
				"client %s closed before login, its certificate refused: %s",
				cl->addr_text, why);
	else
		peer_log_info(cl->srv->peer_log, &cl->addr, "client %s closed before login: %s",
			      cl->addr_text, why);
	prelogin_remove(cl);
	/* The tables forget its answers; its connections stay, without it. */
	if (cl->self)
		nuauth_peers_remove(cl->srv->peers, cl->self->id);
	cl->srv->clients = g_list_remove(cl->srv->clients, cl);
	if (cl->login_timer)
		g_source_remove(cl->login_timer);
	if (cl->expiry_timer)
		g_source_remove(cl->expiry_timer);
	if (cl->job) {
		/* The step still runs on a worker: the job frees the
		 * conversation when it is back. */
		cl->job->cl = NULL;
		cl->sasl = NULL;
	}
	nuauth_sasl_free(cl->sasl);
	nuauth_cluster_claim_cancel(cl->claim);
	nuauth_cluster_release(cl->srv->cluster, cl->slot);
	g_free(cl->slot);
	nu_msgconn_free(cl->link);
	g_free(cl->user.name);
	g_free(cl->user.mechanism);
	if (cl->user.groups)
		g_array_unref(cl->user.groups);
	g_free(cl->user.os_sysname);
	g_free(cl->user.os_release);
	g_free(cl->user.os_version);
	g_free(cl);
}

static gboolean on_login_timeout(gpointer data)
{
	struct nuauth_client *cl = data;

	cl->login_timer = 0;
	nu_msgconn_close(cl->link, "no login within " G_STRINGIFY(LOGIN_TIMEOUT_S) " s");
	return G_SOURCE_REMOVE;
}

static const struct nu_msgconn_ops client_ops = {
	.on_message = on_message,
	.on_close = on_close,
};

void nuauth_client_accept(struct nuauth_server *srv, int fd,
			  const struct sockaddr_storage *peer)
{
	gnutls_session_t tls;
	struct nuauth_client *cl = g_new0(struct nuauth_client, 1);

	cl->srv = srv;
	cl->peer = *peer;
	if (!nu_addr_from_sockaddr((const struct sockaddr *)peer, &cl->addr))
		memset(&cl->addr, 0, sizeof(cl->addr));
	nu_addr_format(&cl->addr, cl->addr_text, sizeof(cl->addr_text));
	if (srv->cfg.single_ip_prelogin_limit &&
	    prelogin_count(srv, &cl->addr) >= srv->cfg.single_ip_prelogin_limit) {
		/* Each costs a TLS session: an address gets a bounded number. */
		srv->stats.links_refused_prelogin++;
		peer_log_notice(srv->peer_log, &cl->addr, "client %s refused: %u links from it "
				"have not logged in yet (nuauth_single_ip_prelogin_limit)",
				cl->addr_text, srv->cfg.single_ip_prelogin_limit);
		close(fd);
		g_free(cl);
		return;
	}
	tls = nu_tls_server_session(srv->creds, fd, srv->cfg.tls_request_cert == 2);
	if (!tls) {
		log_warnx("cannot start TLS for a client");
		close(fd);
		g_free(cl);
		return;
	}
	if (srv->cfg.tls_request_cert == 1)
		nu_tls_request_peer_cert(tls);
	prelogin_add(cl);
	cl->link = nu_msgconn_new(fd, tls, false, &client_ops, cl);
	nu_msgconn_set_max_backlog(cl->link, CLIENT_MAX_BACKLOG);
	cl->login_timer = g_timeout_add_seconds(LOGIN_TIMEOUT_S, on_login_timeout, cl);
	srv->clients = g_list_prepend(srv->clients, cl);
}
