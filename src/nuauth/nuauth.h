/* nuauth, the decision server: shared types of its parts, by floor (a file
 * calls only files of its floor or below; tests/layers.sh checks it, and
 * doc/architecture.md walks a packet and a login through them).
 *
 *  1 peers.c          the links answered through: ids, send operations, "gone"
 *    hooks.c, hooks.h the table of hooks; every call into the modules
 *    stats.c          the counters (nuauthctl stats)
 *    peer_log.c       rate-limited lines about bad input
 *    config.c         nuauth.conf into struct nuauth_config
 *    login_guard.c    locks addresses and user names after failed logins
 *    workers.c        the worker pool: hooks that may wait run there
 *    listener.c       accepts TCP links on the gateway and client ports
 *    ipsession.c      address sessions: an address's user without a client
 *  2 modules.c        loads the hook modules with GModule, checks their API
 *    decide.c         ACLs, their time periods, decision policy, mark
 *    cert_login.c     the user named by a client certificate (EXTERNAL);
 *                     a user's groups from the modules
 *  3 connections.c    accepted connections until they end; ended on logout
 *                     and when the time period that allowed them ends
 *    client_needs.c   what clients announce beyond the flow (NEEDS)
 *  4 answer.c         decides a matched packet and sends the answers
 *  5 ipauth.c         IP authentication: the user's groups, cached, from the pool
 *  6 correlate.c      matches packets with the clients' claims
 *  7 gw_session.c     one nufw link: PACKET_ASK in, DECISION out
 *    client_session.c one desktop client: login, ANNOUNCE in, PUSH out
 *    sasl_server.c    Cyrus SASL on a client link; passwords via modules
 *  8 control.c        the control socket nuauthctl talks to (users, stats...)
 *    metrics.c        the Prometheus metrics over HTTP (libmicrohttpd)
 *    reload.c         SIGHUP and nuauthctl reload
 *  9 main.c           start-up, signals, the main loop */
#ifndef NUAUTH_H
#define NUAUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <glib.h>
#include <gmodule.h>
#include <gnutls/gnutls.h>

#include "conf.h"
#include "flow.h"
#include "proto.h"
#include "msgconn.h"
#include "peer_log.h"
#include "peers.h"
#include "stats.h"
#include "nuauth/module.h"

/* nuauth_tls_cert_user_field: the part of a client certificate that names
 * its user. */
enum nuauth_cert_field {
	NUAUTH_CERT_CN = 0,		/* subject commonName */
	NUAUTH_CERT_UID,		/* subject UID (0.9.2342.19200300.100.1.1) */
	NUAUTH_CERT_EMAIL,		/* e-mail address, the part before '@' */
};

/* ---- hooks.c: the hook kinds, one per nuauth_*_module key ---- */
enum nuauth_hook {
	NUAUTH_HOOK_USER_CHECK = 0,	/* nuauth_user_check_module */
	NUAUTH_HOOK_ACL_CHECK,		/* nuauth_acl_check_module */
	NUAUTH_HOOK_FINALIZE_PACKET,	/* nuauth_finalize_packet_module */
	NUAUTH_HOOK_IP_AUTHENTICATION,	/* nuauth_ip_authentication_module */
	NUAUTH_HOOK_USER_GROUPS,	/* nuauth_get_user_groups_module */
	NUAUTH_HOOK_PERIODS,		/* nuauth_periods_module */
	NUAUTH_HOOK_USER_LOGS,		/* nuauth_user_logs_module */
	NUAUTH_HOOK_SESSION_LOGS,	/* nuauth_user_session_logs_module */
	NUAUTH_HOOK_SESSION_MODIFY,	/* nuauth_user_session_modify_module */
	NUAUTH_HOOK_COUNT
};

struct nuauth_config {
	char *nufw_listen_addr;
	unsigned gw_port;
	char *client_listen_addr;
	unsigned user_port;
	char *tls_key;
	char *tls_cert;
	char *tls_cacert;
	char *tls_crl;
	unsigned packet_timeout;	/* seconds */
	int prio_to_nok;		/* 0 any accept wins, 1 any drop wins, 2 first match */
	bool user_check_ip_equality;
	bool reject_authenticated_drop;	/* a known user's drop is answered as reject */
	bool reject_after_timeout;	/* an unclaimed packet is rejected, not dropped */
	char **gw_addrs;		/* nufw_gw_addr: allowed gateways; NULL: any */
	char **gw_names;		/* nufw_gw_names: allowed certificate CNs; NULL: any */
	char *module_path;		/* folder of the module .so files */
	char *run_as;			/* nuauth_run_as: user to become; NULL stays */
	char *hook_modules[NUAUTH_HOOK_COUNT];		/* enum nuauth_hook: its key's list */
	bool do_ip_authentication;	/* nuauth_do_ip_authentication */
	unsigned session_duration;	/* nuauth_session_duration, s; 0 none */
	unsigned log_users;		/* nuauth_log_users: NUAUTH_LOG_* bits */
	char *control_socket;		/* nuauth_control_socket; "" disables it */
	bool control_socket_set;	/* given in the file (an error is then fatal) */
	char *accounting_socket;	/* nuauth_accounting_socket; "" none */
	char *accounting_group;		/* nuauth_accounting_socket_group; NULL none */
	gid_t accounting_gid;		/* that group's; (gid_t)-1 none */
	char *metrics_addr;		/* nuauth_metrics_listen's address; NULL: off */
	unsigned metrics_port;		/* and its port */
	char *portal_addr;		/* nuauth_portal_listen's address; NULL: off */
	unsigned portal_port;		/* and its port */
	char *redirect_addr;		/* nuauth_portal_redirect_listen; NULL: off */
	unsigned redirect_port;
	char *portal_url;		/* nuauth_portal_url: where it redirects */
	unsigned portal_mark;		/* nuauth_portal_mark; 0 off */
	unsigned single_user_client_limit;	/* sessions per user name; 0 any */
	unsigned single_ip_client_limit;	/* sessions per address; 0 any */
	unsigned single_ip_prelogin_limit;	/* links not logged in per address; 0 any */
	unsigned login_failure_limit;	/* failures that lock; 0 never */
	unsigned login_failure_window;	/* ... within this many seconds */
	unsigned login_lock_time;	/* first lock, s (doubles, up to 64x) */
	unsigned login_user_failure_limit;	/* a name's failures from anywhere; 0 never */
	unsigned login_known_address_time;	/* s a good login exempts its address */
	char *sasl_mechanisms;		/* nuauth_sasl_mechanisms: password logins */
	unsigned tls_request_cert;	/* 0 none, 1 request, 2 require */
	unsigned tls_auth_by_cert;	/* 0 no, 1 allowed, 2 required */
	enum nuauth_cert_field tls_cert_user_field;	/* where the user name is */
	bool client_send_app_always;	/* nuauth_client_send_app=always */
	unsigned number_authcheckers;	/* nuauth_number_authcheckers: pool threads */
	unsigned user_groups_cache_ttl;	/* nuauth_user_groups_cache_ttl, s; 0 none */
	unsigned ip_session_idle;	/* nuauth_ip_session_idle_timeout, s; 0 none */
	unsigned ip_session_max;	/* nuauth_ip_session_max_duration, s; 0 none */
	/* The cluster (cluster.c, doc/cluster.md); NULL endpoints: a single
	 * node, as without etcd. */
	char **cluster_endpoints;	/* nuauth_cluster_etcd_endpoints: URLs */
	char *cluster_node;		/* nuauth_cluster_node_name (the host's name) */
	char *cluster_prefix;		/* nuauth_cluster_etcd_prefix (/nufw) */
	char *cluster_ca, *cluster_cert, *cluster_key;	/* nuauth_cluster_etcd_ca/cert/key */
	char *cluster_user, *cluster_password;	/* nuauth_cluster_etcd_user/password */
	char *cluster_throttle_secret;	/* nuauth_cluster_throttle_secret (NULL: none) */
	unsigned cluster_lease_ttl;	/* nuauth_cluster_lease_ttl, s */
	/* nuauth_cluster_partition_logins: the new logins a node cut off from
	 * etcd takes (doc/cluster.md, "Partitions") */
	enum nuauth_partition_logins {
		NUAUTH_PARTITION_REFUSE,	/* none */
		NUAUTH_PARTITION_LIMITED,	/* those no cluster-wide limit applies to */
		NUAUTH_PARTITION_ALLOW,		/* every one (limits counted on stale data) */
	} cluster_partition_logins;
};

/* Per client address: sessions (a NAT address may hide many desktops), and
 * links that have not logged in yet (TLS handshakes and logins under way). */
#define NUAUTH_DEFAULT_IP_CLIENT_LIMIT 256
#define NUAUTH_DEFAULT_IP_PRELOGIN_LIMIT 64

/* nuauth_log_users bits. */
#define NUAUTH_LOG_SESSIONS	1
#define NUAUTH_LOG_DROPS	2
#define NUAUTH_LOG_ACCEPTS	4
#define NUAUTH_LOG_ALL		8

/* Reads every key nuauth itself uses; false with *error (file:line). */
bool nuauth_config_read(struct nu_conf *conf, struct nuauth_config *cfg, GError **error);
void nuauth_config_clear(struct nuauth_config *cfg);
/* nufw_gw_addr: may a gateway connect from addr? */
bool nuauth_config_allows_gateway(const struct nuauth_config *cfg, const struct in6_addr *addr);
bool nuauth_config_allows_gateway_name(const struct nuauth_config *cfg, const char *cn);

/* ---- hooks.c ---- */
struct nuauth_hook_kind {
	const char *key;		/* its nuauth.conf key */
	const char *fallback;		/* the key's default */
	uint32_t services;		/* a module listed provides one of these */
	/* Loaded only when this says so (NULL: always). */
	bool (*wanted)(const struct nuauth_config *cfg);
};
extern const struct nuauth_hook_kind nuauth_hook_kinds[NUAUTH_HOOK_COUNT];
/* The default list of a key (some depend on other keys). */
const char *nuauth_hook_default(enum nuauth_hook h, const struct nuauth_config *cfg);

/* One NUAUTH_SVC_* bit: its hook's place in struct nuauth_module and the
 * minor that brought it. */
struct nuauth_service_desc {
	uint32_t bit;
	size_t offset;
	const char *name;
	uint32_t minor;
};
extern const struct nuauth_service_desc nuauth_services[];
extern const size_t nuauth_services_count;

/* ---- modules.c ---- */
struct nuauth_module_instance {
	struct nuauth_module desc;	/* the module's, at our size: hooks it
					 * lacks or did not declare are NULL */
	void *priv;			/* priv_size bytes, zeroed at load */
	char *label;			/* "name[:instance]" for log lines */
	GModule *handle;
};

struct nuauth_modules {
	/* Per enum nuauth_hook, the instances of its key, in order. */
	GPtrArray *hook[NUAUTH_HOOK_COUNT];	/* struct nuauth_module_instance * */
	GPtrArray *all;			/* owns the instances */
	gint refs;			/* srv->modules and each job on the pool */
};

/* A fresh set (one reference) with every module of cfg loaded; NULL with
 * *error when one fails (nothing stays loaded). */
struct nuauth_modules *nuauth_modules_load(struct nu_conf *conf,
					   const struct nuauth_config *cfg, GError **error);
/* A job that calls hooks on a worker holds a reference on the set it
 * started with, so that a reload cannot unload it under the job; the last
 * unref (on the main thread) unloads the modules. */
struct nuauth_modules *nuauth_modules_ref(struct nuauth_modules *mods);
void nuauth_modules_unref(struct nuauth_modules *mods);
/* Checks a module's description (version, size, services) against this
 * nuauth; false with *error naming file. */
bool nuauth_module_api_check(const struct nuauth_module *api, const char *file,
			     GError **error);

/* ---- hooks.c: every call into the modules ----
 * Chains ask the modules of a key in order until one answers; broadcasts
 * run them all (see hooks.c).  No allocation, no lookup per call. */
struct nuauth_server;
/* How many modules the key of h loaded. */
static inline unsigned nuauth_hooks_count(const struct nuauth_modules *mods, enum nuauth_hook h)
{
	return mods->hook[h]->len;
}
/* Is there, in the chain of h, a module with one of the services want and
 * none of without? */
bool nuauth_hooks_chain_has(const struct nuauth_modules *mods, enum nuauth_hook h,
			    uint32_t want, uint32_t without);
/* acl_check and finalize_packet: hooks.h (inline, per packet). */
/* period_check chain: true when a periods module says now is inside. */
bool nuauth_hooks_period_check(const struct nuauth_modules *mods, const char *period,
			       time_t now, time_t *ends_at);
/* ip_authentication chain: the user's name in name (cap bytes), or false. */
bool nuauth_hooks_ip_user(const struct nuauth_modules *mods, const struct nuauth_packet *packet,
			  char *name, size_t cap);
/* The user chains (worker threads): the first status other than UNKNOWN,
 * and in *answered the module that gave it (NULL when none was asked). */
enum nuauth_user_status nuauth_hooks_user_check(const struct nuauth_modules *mods,
						const char *name, const char *pass,
						size_t passlen, uint32_t *uid, GArray *groups,
						struct nuauth_module_instance **answered);
enum nuauth_user_status nuauth_hooks_scram_verifier(const struct nuauth_modules *mods,
						    const char *name, const char *mech,
						    const char **verifier, uint32_t *uid,
						    GArray *groups,
						    struct nuauth_module_instance **answered);
enum nuauth_user_status nuauth_hooks_user_groups(const struct nuauth_modules *mods,
						 const char *name, uint32_t *uid, GArray *groups,
						 struct nuauth_module_instance **answered);
/* canonical_name of m (NULL or without it: false). */
bool nuauth_hooks_canonical_name(const struct nuauth_module_instance *m, const char *name,
				 char *buf, size_t cap);
/* The union of the modules' needs; by lists those that asked. */
uint32_t nuauth_hooks_needs(const struct nuauth_modules *mods, GString *by);
/* After loading: the periods the ACL modules name must be known. */
bool nuauth_hooks_check_acl_periods(const struct nuauth_modules *mods, GError **error);
/* The logging and session hooks (nuauth_log_users decides which run). */
void nuauth_hooks_session_log(struct nuauth_server *srv, const struct nuauth_session_event *ev);
void nuauth_hooks_packet_log(struct nuauth_server *srv, const struct nuauth_packet *packet,
			     const struct nuauth_user *user, int verdict, const char *acl_name);
/* An accepted connection ended: the conn_end_log of nuauth_user_logs_module. */
void nuauth_hooks_conn_end(struct nuauth_server *srv, const struct nuauth_conn_end_event *ev);
/* When the session must end (wall clock, s), 0 never. */
gint64 nuauth_hooks_session_expiry(struct nuauth_server *srv,
				   const struct nuauth_session_event *ev);
/* The session_check of nuauth_user_session_modify_module: may this login
 * open a session?  false with why (cap bytes) when a module refuses. */
bool nuauth_hooks_session_check(struct nuauth_server *srv, const struct nuauth_session_event *ev,
				char *why, size_t cap);

/* ---- the logged-in user of a client link ---- */
struct nuauth_client;
struct nuauth_gateway;

struct nuauth_session_user {
	char *name;
	uint32_t uid;
	GArray *groups;			/* guint32 */
	char *mechanism;		/* the SASL mechanism of the login */
	enum nuauth_auth_quality auth_quality;	/* what that mechanism proves */
	const char *origin;		/* nuauth_origin(): "client" for a login */
	char *os_sysname;
	char *os_release;
	char *os_version;
	/* A client's session tag (client_session.c): the same across the
	 * logins that resume one session, on any node; 0 for an address
	 * session.  nufw keeps it with each connection accepted for it. */
	uint64_t session;
};

/* ---- server state ---- */
struct nuauth_control;
struct nu_login_guard;

struct nuauth_server {
	const char *conf_path;
	struct nu_conf *conf;
	struct nuauth_config cfg;
	struct nuauth_modules *modules;	/* the running set (one reference) */
	gnutls_certificate_credentials_t creds;
	GMainLoop *loop;
	GList *gateways;		/* struct nuauth_gateway * */
	GList *clients;			/* struct nuauth_client * */
	struct nuauth_peers *peers;	/* peers.c: gateways after HELLO, clients
					 * after their login */
	struct nuauth_correlator *correlator;
	struct nuauth_connections *connections;
	struct nuauth_stats stats;
	struct nuauth_control *control;
	struct nuauth_control *accounting;	/* ip-session only (FreeRADIUS) */
	struct nuauth_metrics *metrics;	/* metrics.c; NULL: not served */
	struct nuauth_portal *portal;	/* portal.c; NULL: not served */
	struct nu_login_guard *login_guard;	/* login_guard.c */
	struct nuauth_peer_log *peer_log;	/* peer_log.c: lines about bad input */
	GHashTable *prelogin;		/* struct in6_addr * -> links not logged in (client_session.c) */
	uint32_t client_needs;		/* NU_NEEDS_*: what clients announce */
	struct nuauth_workers *workers;	/* workers.c */
	struct nuauth_ipauth *ipauth;	/* ipauth.c */
	struct nuauth_ipsessions *ipsessions;	/* ipsession.c */
	struct nuauth_cluster *cluster;	/* cluster.c; NULL: a single node */
};

/* ---- username.c ---- */
#define NUAUTH_USERNAME_MAX 255
/* A user name taken from outside a login's backend (a certificate, RADIUS
 * accounting, an administrator): 1 to NUAUTH_USERNAME_MAX bytes, no space,
 * control character or ':'. */
bool nuauth_username_usable(const char *name);

/* ---- ipsession.c ---- */
/* Where a user's identity comes from (the ACL key origin=, nuauthctl
 * users): "client" (a client's login), "ipauth" (an ip_authentication
 * module), "radius" (RADIUS accounting through FreeRADIUS), "portal" (the
 * login page), "admin" (nuauthctl ip-session on the control socket).  The
 * canonical static string of text, or NULL when text names none. */
const char *nuauth_origin(const char *text);

/* An address's user known without a client (doc/devices.md). */
struct nuauth_ipsession {
	struct in6_addr addr;
	char user[NU_NAME_MAX];
	const char *origin;		/* nuauth_origin(): radius, portal, admin */
	bool has_mac;			/* the MAC address of its first packet that */
	uint8_t mac[6];			/* had one (the gateway saw it) */
	bool has_nas;			/* the RADIUS client (NAS) that opened it */
	struct in6_addr nas;
	gint64 started, last;		/* monotonic, us */
	gint64 since;			/* real time of the start, us */
};
struct nuauth_ipsessions *nuauth_ipsessions_new(void);
void nuauth_ipsessions_free(struct nuauth_ipsessions *s);
/* fn(e, ctx) is called with a session that another user's start at its
 * address is about to replace: the caller ends what the old user opened
 * there (main.c: its connections), whoever starts the new session. */
void nuauth_ipsessions_on_replace(struct nuauth_ipsessions *s,
				  void (*fn)(const struct nuauth_ipsession *e, void *ctx),
				  void *ctx);
/* The idle timeout and hard limit in seconds (0: none), from nuauth.conf. */
void nuauth_ipsessions_set_limits(struct nuauth_ipsessions *s, unsigned idle, unsigned max);
/* Opens (or replaces: another user's start at the address is a new
 * session) the session of addr; origin is nuauth_origin()'s.  False with
 * *error on a bad name or a full table. */
bool nuauth_ipsession_start(struct nuauth_ipsessions *s, const char *user,
			    const struct in6_addr *addr, const char *origin, GError **error);
/* Refreshes the idle timer of user's session at addr; opens it if unknown
 * (nuauth restarted since the start). */
bool nuauth_ipsession_update(struct nuauth_ipsessions *s, const char *user,
			     const struct in6_addr *addr, const char *origin, GError **error);
/* Ends the session of addr (of user, and opened by origin, unless NULL:
 * RADIUS's stop never ends the login page's session); false if there is
 * none. */
bool nuauth_ipsession_stop(struct nuauth_ipsessions *s, const char *user,
			   const struct in6_addr *addr, const char *origin, GError **error);
/* The live session of addr, its idle timer refreshed; NULL if none. */
const struct nuauth_ipsession *nuauth_ipsession_use(struct nuauth_ipsessions *s,
						    const struct in6_addr *addr);
/* The same for a packet from MAC address mac (6 bytes; NULL: unknown): the
 * session learns its host's MAC address from its first such packet, and
 * ends (NULL) when the address is seen with another. */
const struct nuauth_ipsession *nuauth_ipsession_use_mac(struct nuauth_ipsessions *s,
							const struct in6_addr *addr,
							const uint8_t *mac);
/* Each live session, in no order (the expired ones are dropped first). */
void nuauth_ipsessions_foreach(struct nuauth_ipsessions *s,
			       void (*fn)(const struct nuauth_ipsession *e, void *ctx), void *ctx);
unsigned nuauth_ipsessions_count(const struct nuauth_ipsessions *s);
/* The NAS (RADIUS client) that opened or refreshed addr's session. */
void nuauth_ipsession_set_nas(struct nuauth_ipsessions *s, const struct in6_addr *addr,
			      const struct in6_addr *nas);
/* A NAS restarted (Accounting-On, -Off): ends every session it opened,
 * calling fn on each first; returns how many. */
unsigned nuauth_ipsessions_end_nas(struct nuauth_ipsessions *s, const struct in6_addr *nas,
				   void (*fn)(const struct nuauth_ipsession *e, void *ctx),
				   void *ctx);

/* ---- client_needs.c ---- */
/* After the modules were (re)loaded: what the clients must announce with
 * each connection, from the modules' needs hooks and
 * nuauth_client_send_app; tells the logged-in clients when it changed.
 * who names the occasion in the log ("start", "SIGHUP"...). */
void nuauth_client_needs_update(struct nuauth_server *srv, const char *who);
/* "flow only", "flow and program path"... */
const char *nuauth_needs_text(uint32_t needs);

/* ---- workers.c ---- */
/* Runs work(data) on a worker thread, then done(data) on the main loop's
 * thread.  work() may call only what is safe from any thread: the hooks
 * module.h marks so, on a module set it holds a reference on; done() owns
 * the links and tables again.  done() always runs (at exit too). */
typedef void (*nuauth_work_fn)(void *data);
struct nuauth_workers *nuauth_workers_new(unsigned threads);
void nuauth_workers_set_threads(struct nuauth_workers *w, unsigned threads);
void nuauth_workers_submit(struct nuauth_workers *w, nuauth_work_fn work, nuauth_work_fn done,
			   void *data);
/* Jobs submitted whose done() has not run yet. */
unsigned nuauth_workers_busy(const struct nuauth_workers *w);
/* Waits for the running jobs, skips the work of queued ones, runs every
 * done(); then frees the pool. */
void nuauth_workers_free(struct nuauth_workers *w);

/* ---- reload.c ---- */
/* Reads the configuration again and swaps in a fresh set of modules (SIGHUP
 * and nuauthctl reload); who names the caller in the log.  False with
 * *error when the new set has an error: the running one stays. */
bool nuauth_reload(struct nuauth_server *srv, const char *who, GError **error);

/* ---- portal.c ---- */
/* Binds nuauth_portal_listen and reads nuauth's certificate and key
 * (nothing when unset): before the privileges are dropped. */
bool nuauth_portal_bind(struct nuauth_server *srv, GError **error);
/* libmicrohttpd's thread, serving the login page over HTTPS. */
bool nuauth_portal_start(struct nuauth_server *srv, GError **error);
/* From now on the login page answers 503 and starts no password check. */
void nuauth_portal_refuse_new(struct nuauth_server *srv);
void nuauth_portal_stop(struct nuauth_server *srv);

/* ---- metrics.c ---- */
/* Binds nuauth_metrics_listen (nothing when unset): before the privileges
 * are dropped.  False with *error (file:line). */
bool nuauth_metrics_bind(struct nuauth_server *srv, GError **error);
/* Starts the HTTP server's thread and the main loop's rendering (after
 * -D's fork).  False with *error. */
bool nuauth_metrics_start(struct nuauth_server *srv, GError **error);
/* Renders the counters into the snapshot the HTTP thread serves (main loop). */
void nuauth_metrics_render(struct nuauth_server *srv);
void nuauth_metrics_stop(struct nuauth_server *srv);

/* ---- control.c ---- */
/* Listens on cfg.control_socket (nothing when ""); false with *error. */
bool nuauth_control_start(struct nuauth_server *srv, GError **error);
/* Listens on cfg.accounting_socket (nothing when ""): ip-session only, for
 * FreeRADIUS, mode 0660 and group cfg.accounting_group (0600 without);
 * false with *error (an unknown group, a path in use). */
bool nuauth_accounting_start(struct nuauth_server *srv, GError **error);
void nuauth_control_stop(struct nuauth_server *srv);
/* This node's connections for another node's `connections` (a
 * nuauth_cluster_listing_fn). */
char *nuauth_control_listing(struct nuauth_server *srv, size_t max);

/* ---- listener.c ---- */
typedef void (*nuauth_accept_fn)(struct nuauth_server *srv, int fd,
				 const struct sockaddr_storage *peer);
/* Binds addr:port and calls fn for each accepted socket; false with *error. */
bool nuauth_listen(struct nuauth_server *srv, const char *addr, unsigned port,
		   nuauth_accept_fn fn, GError **error);
/* A listening TCP socket on addr:port for a libmicrohttpd server (key: the
 * nuauth.conf key that named it, for the error); -1 with *error. */
int nuauth_bind_http(struct nuauth_server *srv, const char *key, const char *addr,
		     unsigned port, GError **error);

/* ---- gw_session.c ---- */
void nuauth_gateway_accept(struct nuauth_server *srv, int fd,
			   const struct sockaddr_storage *peer);
const char *nuauth_gateway_name(const struct nuauth_gateway *gw);
/* Who the gateway is, the same across its links and restarts: its
 * certificate's CN, or its address when the certificate has none. */
const char *nuauth_gateway_id(const struct nuauth_gateway *gw);
/* After a reload: closes the links of gateways nufw_gw_addr no longer
 * allows, or whose certificate is no longer trusted (a CRL). */
void nuauth_gateways_recheck(struct nuauth_server *srv, const char *who);
/* After a reload: logs out the users who logged in with a certificate that
 * is no longer trusted (a CRL), and ends their connections. */
void nuauth_clients_recheck(struct nuauth_server *srv, const char *who);
/* Closes the link (its state is freed, pending packets forgotten). */
void nuauth_gateway_close(struct nuauth_gateway *gw, const char *why);
struct nuauth_gateway_info {
	const char *address;
	const char *cn;			/* "" before the handshake or without CN */
	gint64 since;			/* g_get_real_time() at connection */
	uint64_t decisions;		/* DECISION messages sent to it */
	bool up;			/* HELLO exchanged */
	const struct nu_gw_stats *stats;	/* its last GW_STATS; NULL: none yet */
};
void nuauth_gateway_info(const struct nuauth_gateway *gw, struct nuauth_gateway_info *out);

/* ---- client_session.c ---- */
void nuauth_client_accept(struct nuauth_server *srv, int fd,
			  const struct sockaddr_storage *peer);
/* Closes the link without ending the user's connections (nuauth exits). */
void nuauth_client_close(struct nuauth_client *cl, const char *why);
const struct nuauth_session_user *nuauth_client_user(const struct nuauth_client *cl);
/* The client's address as nuauth sees it (v4-mapped for IPv4). */
const struct in6_addr *nuauth_client_addr(const struct nuauth_client *cl);
/* Has the client logged in?  When (g_get_real_time()), and the software
 * its HELLO named ("" if none). */
bool nuauth_client_logged_in(const struct nuauth_client *cl);
gint64 nuauth_client_since(const struct nuauth_client *cl);
const char *nuauth_client_software(const struct nuauth_client *cl);
/* Ends the session as a LOGOUT does (the gateways end its connections) and
 * closes the link, telling the client why.  Returns the connections ended. */
unsigned nuauth_client_disconnect(struct nuauth_client *cl, const char *why);
/* Every session of user on this node disconnected; returns the
 * connections ended, *sessions the sessions closed. */
unsigned nuauth_clients_disconnect_user(struct nuauth_server *srv, const char *user,
					const char *why, unsigned *sessions);

/* ---- login_guard.c, as nuauth uses it (sasl_server.c, client_session.c) ---- */
/* Limits from srv->cfg (at start and after a reload). */
void nuauth_login_guard_configure(struct nuauth_server *srv);
/* Seconds a login from addr (text) of user is locked for; 0 when not (user
 * may be NULL).  user: the store's spelling when it knows the name, else
 * as typed; the guard case-folds it (nuauth_login_guard_name). */
unsigned nuauth_login_locked(struct nuauth_server *srv, const char *addr, const char *user);
/* A failed or a good login of user from addr (logs a lock when one starts). */
void nuauth_login_failed(struct nuauth_server *srv, const char *addr, const char *user);
void nuauth_login_succeeded(struct nuauth_server *srv, const char *addr, const char *user);
/* The guard's key for a user name (g_free it). */
char *nuauth_login_guard_name(const char *user);
/* Across a cluster (cluster.c, doc/cluster.md "Failed logins across the
 * cluster"): the guard names its keys by an HMAC with secret and records
 * the node's changes; changed (main thread; NULL: no more) is called after
 * each failed or good login.  take hands the changed records (Unix times)
 * to fn, at most max, and returns how many are left; learn takes another
 * node's record (Unix times); forget_others drops them all. */
struct nu_login_guard_record;
void nuauth_login_guard_share(struct nuauth_server *srv, const char *secret,
			      void (*changed)(void *ctx), void *ctx);
size_t nuauth_login_guard_take(struct nuauth_server *srv, size_t max,
			       void (*fn)(const struct nu_login_guard_record *r, void *ctx),
			       void *ctx);
bool nuauth_login_guard_learn(struct nuauth_server *srv, const char *node,
			      const struct nu_login_guard_record *r);
void nuauth_login_guard_forget_others(struct nuauth_server *srv);

/* ---- sasl_server.c ---- */
struct nuauth_sasl;
bool nuauth_sasl_global_init(GError **error);
/* A SASL server conversation for one client link; NULL with *why (to
 * tell the client, g_free'd by the caller) when it cannot log in. */
struct nuauth_sasl *nuauth_sasl_new(struct nuauth_server *srv, gnutls_session_t tls,
				    const struct sockaddr_storage *peer, char **why);
void nuauth_sasl_free(struct nuauth_sasl *s);
/* Space-separated mechanisms offered to this client. */
const char *nuauth_sasl_mechs(struct nuauth_sasl *s);
/* The mechanism the client chose ("" before it did). */
const char *nuauth_sasl_mech(const struct nuauth_sasl *s);
/* Was the login refused because the user has no verifier for the SCRAM
 * mechanism chosen (another mechanism may work)? */
bool nuauth_sasl_no_verifier(const struct nuauth_sasl *s);
/* Was the login refused because its address or user name is locked? */
bool nuauth_sasl_locked(const struct nuauth_sasl *s);
#define NUAUTH_LOCKED_TEXT "too many failed logins: try again later"
enum nuauth_sasl_step { NUAUTH_SASL_CONTINUE, NUAUTH_SASL_DONE, NUAUTH_SASL_FAILED };
/* One step of the conversation, on a worker (it calls the user_check,
 * scram_verifier or get_user_groups hooks of mods, on which the caller
 * holds a reference).  mech is non-NULL for the first step.  On CONTINUE,
 * *out and *out_len hold the challenge to send (valid until the next
 * step); on FAILED *why says why (static or owned by s).  Nothing but s
 * is written (and the login_guard table read, under its lock). */
enum nuauth_sasl_step nuauth_sasl_step(struct nuauth_sasl *s, struct nuauth_modules *mods,
				       const char *mech, const uint8_t *in, size_t in_len,
				       bool has_in, const uint8_t **out, size_t *out_len,
				       const char **why);
/* Back on the main thread, after a step that ended the login: counts it
 * for login_guard; on DONE fills user (when not NULL). */
void nuauth_sasl_settle(struct nuauth_sasl *s, enum nuauth_sasl_step r,
			struct nuauth_session_user *user);

/* ---- cert_login.c ---- */
/* The user named by the client's certificate (nuauth_tls_cert_user_field)
 * when it showed one and it verifies against the CA and CRL; NULL
 * otherwise.  addr: the client's, for the log. */
char *nuauth_cert_user(struct nuauth_server *srv, gnutls_session_t tls, const char *addr);
/* uid and groups of a user known by name alone, from the
 * nuauth_get_user_groups_module chain of mods (any thread). */
enum nuauth_user_status nuauth_user_groups(struct nuauth_modules *mods, const char *name,
					   uint32_t *uid, GArray *groups);
/* The same, and *canonical (replaced; NULL when none): the store's spelling
 * of name when it is known (module.h, canonical_name). */
enum nuauth_user_status nuauth_user_groups_canonical(struct nuauth_modules *mods,
						     const char *name, uint32_t *uid,
						     GArray *groups, char **canonical);
/* Module m's spelling of name (g_free it), NULL when it gives none or an
 * unusable one (logged); m may be NULL. */
char *nuauth_canonical_name(struct nuauth_module_instance *m, const char *name);

/* ---- cluster.c ---- */
/* The session directory shared through etcd (doc/cluster.md).  Nothing
 * here waits for etcd: the map is in memory, fed by a watch. */
struct nuauth_cluster;
/* Starts the etcd client when nuauth_cluster_etcd_endpoints is set (after
 * -D's fork: it runs threads); srv->cluster stays NULL otherwise. */
bool nuauth_cluster_start(struct nuauth_server *srv, GError **error);
/* Revokes the node's lease (its sessions leave the directory at once). */
void nuauth_cluster_stop(struct nuauth_server *srv);
/* A client logged in: its record goes to etcd (the peer's gone event
 * takes it out). */
void nuauth_cluster_session_up(struct nuauth_cluster *c, const struct nuauth_peer *cl,
			       const char *mechanism, gint64 since);
/* Does another node hold a client at addr (by the directory)?  False with
 * c NULL. */
bool nuauth_cluster_owned_elsewhere(const struct nuauth_cluster *c, const struct in6_addr *addr);
bool nuauth_cluster_enabled(const struct nuauth_cluster *c);
/* Other nodes' sessions of user, and at addr, by the directory (what the
 * watch brought so far: two logins on two nodes within its delay both
 * pass; doc/cluster.md).  The user's own sessions at addr on other nodes
 * count for neither (a client failing over from a dead node).  0 and 0
 * with c NULL. */
void nuauth_cluster_count_elsewhere(const struct nuauth_cluster *c, const char *user,
				    const struct in6_addr *addr, unsigned *users, unsigned *addrs);
const char *nuauth_cluster_node(const struct nuauth_cluster *c);
unsigned nuauth_cluster_sessions(const struct nuauth_cluster *c);
/* A session of the directory. */
struct nuauth_cluster_session {
	const char *id, *node, *user, *mechanism;	/* id: NODE/ID */
	gint64 login;					/* Unix time */
	struct in6_addr addr;
};
typedef void (*nuauth_cluster_fn)(const struct nuauth_cluster_session *s, void *ctx);
/* The other nodes' sessions, as the directory has them. */
void nuauth_cluster_foreach_other(const struct nuauth_cluster *c, nuauth_cluster_fn fn,
				  void *ctx);
/* Asks each other node that holds a session of user (by the directory)
 * to disconnect it: a command key in etcd that node watches, runs and
 * deletes.  The nodes asked (g_strfreev; empty with c NULL). */
char **nuauth_cluster_disconnect(struct nuauth_cluster *c, const char *user);
/* How a node ends a user's sessions when another node asks (set by a
 * higher floor: client_session.c's nuauth_clients_disconnect_user).
 * Returns the connections ended, *sessions the sessions closed. */
typedef unsigned (*nuauth_cluster_disconnect_fn)(struct nuauth_server *srv, const char *user,
						 const char *why, unsigned *sessions);
void nuauth_cluster_on_disconnect(struct nuauth_cluster *c, nuauth_cluster_disconnect_fn fn);
/* `nuauthctl connections` across the cluster (cluster_ask.c): each other
 * node present is asked for its connections; fn gets one answer per node
 * asked, in the order asked, once all answered or at the time limit
 * (NUAUTH_CLUSTER_ASK_MS).  NULL (fn never called) with no cluster or no
 * other node present. */
#define NUAUTH_CLUSTER_ASK_MS 2000
struct nuauth_cluster_answer {
	const char *node;
	bool answered;
	char **items;		/* its connections, JSON objects (NULL-terminated) */
	uint64_t more;		/* left out of its answer (etcd's size limit) */
	const char *error;	/* a malformed answer: why ("" none) */
};
typedef void (*nuauth_cluster_answers_fn)(const struct nuauth_cluster_answer *answers,
					  unsigned n, void *ctx);
struct nuauth_cluster_ask;
struct nuauth_cluster_ask *nuauth_cluster_ask_connections(struct nuauth_cluster *c,
							  nuauth_cluster_answers_fn fn, void *ctx);
/* The asker went away: fn is never called. */
void nuauth_cluster_ask_cancel(struct nuauth_cluster_ask *q);
/* How a node lists its connections for another node (set by a higher
 * floor: control.c): a JSON object {"node", "connections": [...], "more"}
 * of at most max bytes (g_free). */
typedef char *(*nuauth_cluster_listing_fn)(struct nuauth_server *srv, size_t max);
void nuauth_cluster_on_listing(struct nuauth_cluster *c, nuauth_cluster_listing_fn fn);
/* nuauth_single_user_client_limit across the cluster by etcd transaction
 * (doc/cluster.md, "Session limits"): a login takes one of the user's
 * limit slots (PREFIX/limits/user/NAME/0..limit-1, under the node's
 * lease), a free one or one that the same user's session at the same
 * address on another node holds (a failover).  fn is called on the main
 * loop with the slot won (the session keeps it until
 * nuauth_cluster_release), or NULL and why ("" when every slot is taken).
 * Returns NULL when no claim is made (no cluster, no limit, or a limit
 * over NUAUTH_CLUSTER_SLOTS_MAX: counted from the directory only). */
#define NUAUTH_CLUSTER_SLOTS_MAX 16
struct nuauth_cluster_claim;
typedef void (*nuauth_cluster_claim_fn)(const char *slot, const char *why, void *ctx);
struct nuauth_cluster_claim *nuauth_cluster_claim_login(struct nuauth_cluster *c,
							const char *user,
							const struct in6_addr *addr,
							unsigned limit,
							nuauth_cluster_claim_fn fn, void *ctx);
/* The login is gone: fn is not called, a slot won is released. */
void nuauth_cluster_claim_cancel(struct nuauth_cluster_claim *cl);
void nuauth_cluster_release(struct nuauth_cluster *c, const char *slot);
/* Does etcd answer, and was the directory read since it last did not?
 * True with c NULL. */
bool nuauth_cluster_synced(const struct nuauth_cluster *c);
/* Why a new login of user at addr is refused while the node is cut off
 * from etcd (nuauth_cluster_partition_logins; limited: a cluster-wide
 * limit applies to it; a failover is not limited), or NULL; g_free. */
char *nuauth_cluster_login_refusal(const struct nuauth_cluster *c, bool limited,
				   const char *user, const struct in6_addr *addr);
/* Does the directory show a session of user at addr on another node (a
 * client logging in again after its node died)? */
bool nuauth_cluster_is_failover(const struct nuauth_cluster *c, const char *user,
				const struct in6_addr *addr);

/* ---- correlate.c ---- */
/* Subscribes to srv->peers' "gone" events: a link's packets or answers are
 * forgotten when it ends. */
struct nuauth_correlator *nuauth_correlator_new(struct nuauth_server *srv);
void nuauth_correlator_free(struct nuauth_correlator *cor);
/* A packet from a gateway peer to decide. */
void nuauth_correlate_packet(struct nuauth_correlator *cor, nuauth_peer_id gw,
			     const struct nu_packet_ask *ask);
/* A logged-in client's answer about a flow: a claim (a CONN of ANNOUNCE),
 * or not_mine (NOT_MINE: only conn->flow is read).  A claim for a flow no
 * packet waits for is counted and forgotten. */
void nuauth_correlate_announce(struct nuauth_correlator *cor, const struct nuauth_peer *cl,
			       const struct nu_announce_conn *conn, bool not_mine);
/* A client logged in: it is asked about the flows that wait from its
 * address, and about every later one. */
void nuauth_correlate_client_ready(struct nuauth_correlator *cor, const struct nuauth_peer *cl);
/* Packets waiting for their user. */
unsigned nuauth_correlate_pending(const struct nuauth_correlator *cor);

/* ---- answer.c ---- */
/* arrived: the monotonic time the packet's PACKET_ASK came (the decision
 * latency histogram of the metrics; 0: unknown, not counted). */
/* Decides a packet of gateway gw whose user is su (nuauth_decide), sends
 * the DECISION, follows an accepted connection (connections.c), tells the
 * client that claimed it (client; 0 for an ip-authenticated user) why it
 * was not accepted, logs it and runs the packet log hooks. */
void nuauth_answer_user(struct nuauth_server *srv, nuauth_peer_id gw,
			const struct nu_packet_ask *ask, const struct nuauth_session_user *su,
			nuauth_peer_id client, const char *app, const uint8_t *app_sha256,
			gint64 arrived);
/* Decides a packet of an ip-authenticated user (ipauth.c) whose groups
 * are known (status OK), or drops it (status: why not).  origin: where the
 * name came from (nuauth_origin()). */
void nuauth_answer_ip(struct nuauth_server *srv, nuauth_peer_id gw,
		      const struct nu_packet_ask *ask, const char *name, const char *origin,
		      enum nuauth_user_status status, uint32_t uid, GArray *groups,
		      gint64 arrived);
/* A packet from an address with no user at all (no client, no address
 * session), under nuauth_portal_mark: HTTP is accepted with that mark (the
 * gateway's rule sends it to the login page's redirect), HTTPS refused
 * with a reset.  False (nothing sent) for other packets, or without the
 * key. */
bool nuauth_answer_portal(struct nuauth_server *srv, nuauth_peer_id gw,
			  const struct nu_packet_ask *ask, gint64 arrived);
/* Answers a packet no user's decision covers (a timeout, a conflict). */
void nuauth_answer_verdict(struct nuauth_server *srv, nuauth_peer_id gw, uint32_t packet_id,
			   int verdict, gint64 arrived);
/* In a cluster: this node holds no client that owns the packet (NOT_OWNER
 * in the DECISION, doc/protocol.md); verdict is what the gateway applies
 * when no node owns it. */
void nuauth_answer_not_mine(struct nuauth_server *srv, nuauth_peer_id gw, uint32_t packet_id,
			    int verdict);

/* ---- ipauth.c ---- */
/* Subscribes to srv->peers: a gateway's packets are forgotten at its end. */
struct nuauth_ipauth *nuauth_ipauth_new(struct nuauth_server *srv);
void nuauth_ipauth_free(struct nuauth_ipauth *ia);
/* A packet no client claims: false when neither the address's session
 * (ipsession.c) nor, unless session_only, an ip_authentication module
 * names its user; otherwise the packet is answered now (groups cached) or
 * once its user's groups are read on the pool.  session_only: a client
 * at the address disowned it (correlate.c). */
bool nuauth_ipauth_packet(struct nuauth_ipauth *ia, nuauth_peer_id gw,
			  const struct nu_packet_ask *ask, bool session_only);
/* The uid and groups of name if cached (for nuauthctl users); false if not. */
bool nuauth_ipauth_cached(const struct nuauth_ipauth *ia, const char *name, uint32_t *uid,
			  const GArray **groups);
/* A reload: the cached groups are forgotten. */
void nuauth_ipauth_flush(struct nuauth_ipauth *ia);
/* Packets waiting for their user's groups. */
unsigned nuauth_ipauth_waiting(const struct nuauth_ipauth *ia);

/* ---- connections.c ---- */
/* srv: for the connection-end hooks.  Subscribes to srv->peers: a
 * client's end unties its connections from it; a gateway link's end moves
 * its connections to another link of that gateway, or they wait for one. */
struct nuauth_connections *nuauth_connections_new(struct nuauth_server *srv);
void nuauth_connections_free(struct nuauth_connections *cs);
/* An accepted connection of user (claimed by client, 0 none; decided for
 * gateway peer gw). */
void nuauth_connections_add(struct nuauth_connections *cs, const struct nuauth_peer *gw,
			    nuauth_peer_id client, const char *user, const struct nu_flow *flow);
/* A gateway reported the end of a connection: logs it with its counters
 * and runs the connection-end hooks. */
void nuauth_connections_ended(struct nuauth_connections *cs, const struct nuauth_peer *gw,
			      const struct nu_conn_end *end);
/* The user of client logged out: has the gateways end its connections,
 * and every gateway those of its session (SESSION_END with the client's
 * tag) that another node, or this one before a restart, accepted.
 * Returns how many this node knew of. */
unsigned nuauth_connections_end_user(struct nuauth_connections *cs, nuauth_peer_id client);
/* client resumed a session (its tag): the connections accepted for it
 * that no client holds any more (its link dropped) are client's again, so
 * that its LOGOUT ends them.  Returns how many. */
unsigned nuauth_connections_adopt(struct nuauth_connections *cs, nuauth_peer_id client);
/* Ends (as nuauth_connections_end_user) the connections of user from addr
 * that no client's claim decided: an address session's, at its end. */
unsigned nuauth_connections_end_address(struct nuauth_connections *cs, const char *user,
					const struct in6_addr *addr);
/* A link of a gateway is up: the connections that waited for one are its
 * again, and those whose end fell due meanwhile are ended.  Returns how
 * many came back. */
unsigned nuauth_connections_gateway_back(struct nuauth_connections *cs,
					 struct nuauth_peer *gw);
/* The connection of flow ends at expires (wall clock: the end of the time
 * period of acl, which accepted it): nuauth then has its gateway end it. */
void nuauth_connections_set_expiry(struct nuauth_connections *cs,
				   const struct nu_flow *flow, time_t expires, const char *acl,
				   const char *period);
/* After a reload: the connections accepted within a period get the end the
 * new periods give it, and are ended at once when it no longer covers now
 * (or is gone).  Returns how many were ended. */
unsigned nuauth_connections_recheck_periods(struct nuauth_connections *cs,
					    struct nuauth_server *srv);
/* Calls fn for each connection, oldest first (start: g_get_monotonic_time();
 * gw: the peer of its gateway's link, NULL while no link of gateway gw_id
 * is up). */
typedef void (*nuauth_connection_fn)(const char *user, const struct nu_flow *flow,
				     gint64 start, const struct nuauth_peer *gw,
				     const char *gw_id, void *ctx);
void nuauth_connections_foreach(const struct nuauth_connections *cs,
				nuauth_connection_fn fn, void *ctx);
/* Calls fn for the last connections whose end a gateway reported, newest
 * first. */
typedef void (*nuauth_conn_ended_fn)(const struct nuauth_conn_end_event *ev, void *ctx);
void nuauth_connections_foreach_ended(const struct nuauth_connections *cs,
				      nuauth_conn_ended_fn fn, void *ctx);

/* ---- decide.c ---- */
struct nuauth_decision {
	int verdict;			/* enum nu_verdict */
	uint32_t mark;
	char acl_name[NU_NAME_MAX];	/* "" when no ACL matched */
	time_t expires;			/* accepted within a period: when it
					 * ends (wall clock); 0 never */
	char period[NU_NAME_MAX];	/* that period; "" when none */
	char log_prefix[NU_NAME_MAX];	/* the deciding ACL's log_prefix, "" if none */
};
void nuauth_decide(struct nuauth_server *srv, const struct nuauth_packet *packet,
		   const struct nuauth_user *user, struct nuauth_decision *out);
/* Is now inside the named period, by the periods modules?  *ends_at: when
 * it stops being so (0 never). */
bool nuauth_period_current(struct nuauth_server *srv, const char *period, time_t now,
			   time_t *ends_at);

#endif
