/* The interface between nuauth and its modules.
 *
 * A module is a shared object in the module folder ($libdir/nuauth/modules,
 * pkg-config --variable=moduledir nuauth-module) that exports
 *
 *     const struct nuauth_module *nuauth_module_info(void);
 *
 * returning a static description:
 *
 *     static const struct nuauth_module my_module = {
 *             NUAUTH_MODULE_HEADER,
 *             .name = "my_module",
 *             .services = NUAUTH_SVC_FINALIZE_PACKET,
 *             .priv_size = sizeof(struct my_state),
 *             .init = my_init,
 *             .finalize_packet = my_finalize,
 *     };
 *
 * Services.  .services declares the hooks the module provides, one
 * NUAUTH_SVC_* bit per hook; nuauth calls only the hooks declared there
 * (a pointer set without its bit is never called) and refuses a module that
 * declares a hook it leaves NULL.  Each nuauth_*_module key wants one
 * service (the comments below name the key of each hook).
 *
 * State.  nuauth allocates .priv_size bytes of zeroed state per instance
 * ("name:instance"), passes it to init, to every hook and to deinit, and
 * frees it after deinit; priv is NULL when priv_size is 0.  init fills it
 * and returns true, or false with *error set; nuauth then calls deinit on
 * the partly filled state (so deinit must accept zeroed fields) and unloads
 * the module.  deinit releases what init acquired, never priv itself.
 *
 * Versions.  NUAUTH_MODULE_HEADER records the API major and minor the
 * module was built with and sizeof(struct nuauth_module) then.  A minor
 * only ever adds fields at the end of the struct and service bits, so
 * nuauth loads a module of its own major and of any minor up to its own,
 * and reads no field past the size the module declares: an older module
 * simply lacks the newer hooks.  A module of another major, or of a newer
 * minor than nuauth's, is refused with a log line naming its file.
 *
 * Building out of tree: make install puts this header (with conf.h,
 * flow.h and log.h beside it) in $includedir/nuauth and nuauth-module.pc in
 * $libdir/pkgconfig:
 *
 *     cc -shared -fPIC $(pkg-config --cflags nuauth-module) -o my.so my.c
 *
 * Modules resolve nuauth's own functions (log.h, conf.h, flow.h) from the
 * nuauth executable: link nothing of nuauth's.
 *
 * Threads.  init, deinit and every hook not named below run on nuauth's
 * main thread, one at a time; they must not block.  user_check,
 * scram_verifier, get_user_groups and canonical_name may wait (a directory,
 * PBKDF2): they run on nuauth's worker pool (nuauth_number_authcheckers
 * threads), so they may be called from several threads at once, with the
 * same priv, and concurrently with the main thread's hooks of the same
 * instance.  They must therefore only read state that init built, or lock
 * what they change (log.h is thread-safe).  An instance is never deinit'ed
 * while one of these calls runs: after a reload the old instances stay
 * until the last call on them has returned. */
#ifndef NUAUTH_MODULE_H
#define NUAUTH_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <glib.h>
#include "flow.h"
#include "conf.h"

/* Before 11 one number that had to match exactly (10: canonical_name,
 * 9: bridge ports, 8: needs, app_sha256, 7: auth_quality, gateway...).
 * 11.0: services, priv_size, major.minor, enum nuauth_verdict; the hooks
 *       of API 10 but canonical_name.
 * 11.1: canonical_name.
 * 11.2: session_check; auth_quality in struct nuauth_session_event.
 * 11.3: origin in struct nuauth_user. */
#define NUAUTH_MODULE_API_MAJOR 11
#define NUAUTH_MODULE_API_MINOR 3
#define NUAUTH_MODULE_SYMBOL "nuauth_module_info"

/* What nuauth decides for a packet: the verdict of an ACL, of a logged
 * decision.  The values are those of the wire protocol (protocol.md). */
enum nuauth_verdict {
	NUAUTH_VERDICT_DROP = 0,
	NUAUTH_VERDICT_ACCEPT = 1,
	NUAUTH_VERDICT_REJECT = 3,
};

/* The user a connection belongs to, as the decision sees it. */
/* How the user proved who they are, weakest first: the scale of the ACL
 * key authquality=. */
enum nuauth_auth_quality {
	NUAUTH_AUTHQ_ANY = 0,		/* no requirement */
	NUAUTH_AUTHQ_IP = 1,		/* IP authentication: the address says who */
	NUAUTH_AUTHQ_PASSWORD = 2,	/* a password, sent inside TLS (PLAIN) */
	NUAUTH_AUTHQ_PROOF = 3,		/* proof of the password, never sent (SCRAM) */
	NUAUTH_AUTHQ_CERTIFICATE = 4,	/* a TLS client certificate (EXTERNAL) */
};

struct nuauth_user {
	const char *name;
	uint32_t uid;			/* from the user database, not the desktop */
	const uint32_t *groups;
	size_t ngroups;
	enum nuauth_auth_quality auth_quality;
	/* 11.3: where the name comes from: "client" (the client's login),
	 * "ipauth" (an ip_authentication module), "radius" (RADIUS
	 * accounting), "portal" (the login page), "admin" (nuauthctl
	 * ip-session); never NULL. */
	const char *origin;
};

/* The connection being decided. */
struct nuauth_packet {
	struct nu_flow flow;
	uint32_t mark;			/* the packet's mark as nufw read it */
	uint8_t icmp_type;
	const char *indev;		/* "" when unknown */
	const char *outdev;
	const char *physindev;		/* bridge ports on a bridging gateway */
	const char *physoutdev;		/* (br_netfilter), "" when unknown */
	const char *app;		/* full program path, "" when unknown */
	const char *os_sysname;		/* "" when unknown */
	const char *os_release;
	const char *os_version;
	const char *gateway;		/* the certificate name (CN) of the
					 * gateway that asks, "" when none */
	const uint8_t *app_sha256;	/* SHA-256 of the program's file (32
					 * bytes), NULL when the client sent none */
};

/* The needs hook's answer: what the client must announce with each
 * connection for the module to decide.  Without it a client sends the flow
 * alone: app is then "" (the program is not looked for at all). */
#define NUAUTH_NEEDS_APP	0x1u	/* the program's full path */
#define NUAUTH_NEEDS_APP_SHA256	0x2u	/* its path and the SHA-256 of its file */

/* One ACL that matched the packet and the user. */
struct nuauth_acl_match {
	const char *name;		/* the ACL's [section]; owned by the module */
	enum nuauth_verdict decision;
	uint32_t flags;
	const char *log_prefix;		/* "" when none */
	const char *period;		/* the time period it needs, "" when none */
};

/* A user's session on a client link starts (login) or ends (logout). */
enum nuauth_session_kind {
	NUAUTH_SESSION_LOGIN = 0,
	NUAUTH_SESSION_LOGOUT,
};

struct nuauth_session_event {
	enum nuauth_session_kind kind;
	const char *name;
	uint32_t uid;
	const uint32_t *groups;
	size_t ngroups;
	const char *address;		/* the client's address as text */
	time_t login_time;		/* wall clock, seconds */
	time_t time;			/* of this event: login_time for a login */
	const char *reason;		/* logout: why the session ended; "" at login */
	const char *client;		/* the client software its HELLO named, "" if none */
	const char *os_sysname;		/* the client's OS (CLIENT_INFO); "" until */
	const char *os_release;		/* it is known, which is usually after the */
	const char *os_version;		/* login hooks ran */
	/* 11.2: how the user logged in (an older nuauth, which would not
	 * fill it, refuses a module of 11.2). */
	enum nuauth_auth_quality auth_quality;
};

/* A connection nuauth accepted has ended: its gateway reported the end
 * (nufw -C) with the kernel's counters (0 without conntrack accounting).
 * "out" is the original direction, from the user's side. */
struct nuauth_conn_end_event {
	const char *user;
	struct nu_flow flow;		/* the original direction, as decided */
	time_t start;			/* wall clock, s: when it was accepted */
	time_t end;			/* wall clock, s: when the end was reported */
	uint64_t packets_out, bytes_out;
	uint64_t packets_in, bytes_in;
};

enum nuauth_user_status {
	NUAUTH_USER_OK = 0,
	NUAUTH_USER_UNKNOWN,		/* no such user here: ask the next module */
	NUAUTH_USER_BAD_PASSWORD,
	NUAUTH_USER_DISABLED,
	NUAUTH_USER_ERROR,
};

/* The hooks a module provides, for .services: one bit per hook below. */
enum nuauth_service {
	NUAUTH_SVC_USER_CHECK		= 1u << 0,	/* user_check */
	NUAUTH_SVC_SCRAM_VERIFIER	= 1u << 1,	/* scram_verifier */
	NUAUTH_SVC_ACL_CHECK		= 1u << 2,	/* acl_check */
	NUAUTH_SVC_FINALIZE_PACKET	= 1u << 3,	/* finalize_packet */
	NUAUTH_SVC_USER_GROUPS		= 1u << 4,	/* get_user_groups */
	NUAUTH_SVC_IP_AUTHENTICATION	= 1u << 5,	/* ip_authentication */
	NUAUTH_SVC_PERIOD_CHECK		= 1u << 6,	/* period_check */
	NUAUTH_SVC_PERIOD_KNOWN		= 1u << 7,	/* period_known */
	NUAUTH_SVC_CHECK_PERIODS	= 1u << 8,	/* check_periods */
	NUAUTH_SVC_SESSION_LOG		= 1u << 9,	/* user_session_log */
	NUAUTH_SVC_PACKET_LOG		= 1u << 10,	/* user_packet_log */
	NUAUTH_SVC_SESSION_MODIFY	= 1u << 11,	/* session_modify */
	NUAUTH_SVC_CONN_END_LOG		= 1u << 12,	/* conn_end_log */
	NUAUTH_SVC_NEEDS		= 1u << 13,	/* needs */
	NUAUTH_SVC_CANONICAL_NAME	= 1u << 14,	/* canonical_name (11.1) */
	NUAUTH_SVC_SESSION_CHECK	= 1u << 15,	/* session_check (11.2) */
};

struct nuauth_module {
	/* NUAUTH_MODULE_HEADER fills these three. */
	uint32_t api_major;
	uint32_t api_minor;
	uint32_t size;			/* sizeof(struct nuauth_module) as built */

	const char *name;
	uint32_t services;		/* enum nuauth_service bits */
	size_t priv_size;		/* bytes of zeroed state per instance */

	/* Reads the module's keys from conf (instance and conffile come from
	 * "name[:instance[:conffile]]", NULL when not given) into priv.
	 * true, or false with *error set (deinit then runs on priv). */
	bool (*init)(void *priv, struct nu_conf *conf, const char *instance,
		     const char *conffile, GError **error);
	/* Releases what init acquired (not priv itself); optional. */
	void (*deinit)(void *priv);

	/* nuauth_user_check_module: checks the password of user; on success
	 * fills *uid and appends the user's groups to groups (guint32).
	 * Worker threads, concurrently (see the top of this file). */
	enum nuauth_user_status (*user_check)(void *priv, const char *user,
					      const char *password, size_t password_len,
					      uint32_t *uid, GArray *groups);

	/* nuauth_user_check_module: the verifier of user for the SCRAM
	 * mechanism mech ("SCRAM-SHA-256"), in the text form Cyrus SASL
	 * reads: "ITERATIONS:base64(salt)$base64(StoredKey):base64(ServerKey)".
	 * On NUAUTH_USER_OK fills *uid and groups as user_check does, and sets
	 * *verifier (owned by the module, read before its next call) or NULL
	 * when the user has no verifier for mech.  NUAUTH_USER_UNKNOWN: ask
	 * the next module; NUAUTH_USER_DISABLED.  *verifier must stay valid
	 * for the calling thread until its next call (concurrent calls must
	 * not share one buffer).  Worker threads, concurrently. */
	enum nuauth_user_status (*scram_verifier)(void *priv, const char *user, const char *mech,
						  const char **verifier, uint32_t *uid,
						  GArray *groups);

	/* nuauth_acl_check_module: appends to matches (struct
	 * nuauth_acl_match) every ACL that matches packet and user.  Returns
	 * 0, or -1 on an internal error (the packet is then dropped). */
	int (*acl_check)(void *priv, const struct nuauth_packet *packet,
			 const struct nuauth_user *user, GArray *matches);

	/* nuauth_finalize_packet_module: rewrites *mark (its own bits only).
	 * acl is the ACL that decided, NULL when none.  0, or -1 on an
	 * internal error (the packet is then dropped). */
	int (*finalize_packet)(void *priv, const struct nuauth_packet *packet,
			       const struct nuauth_user *user,
			       const struct nuauth_acl_match *acl, uint32_t *mark);

	/* nuauth_get_user_groups_module: the uid and groups (appended to
	 * groups, guint32) of a user known by name alone, e.g. one found by
	 * IP authentication or a certificate.  NUAUTH_USER_UNKNOWN: ask the
	 * next module.  Worker threads, concurrently. */
	enum nuauth_user_status (*get_user_groups)(void *priv, const char *user,
						   uint32_t *uid, GArray *groups);

	/* nuauth_ip_authentication_module: the user behind a packet that no
	 * logged-in client can claim, from the packet alone.  Writes the
	 * user's name into user (cap bytes) and returns true, or returns
	 * false when it knows none (the next module is asked). */
	bool (*ip_authentication)(void *priv, const struct nuauth_packet *packet,
				  char *user, size_t cap);

	/* nuauth_periods_module: is now inside the named period?  true with
	 * *ends_at the first time after now when the period stops matching,
	 * or when a connection accepted at now must end, whichever is first
	 * (0: never); false outside it, and for a period it does not know.
	 * At a reload nuauth asks again, with now and with each connection's
	 * acceptance time, and keeps the earlier end. */
	bool (*period_check)(void *priv, const char *period, time_t now, time_t *ends_at);
	/* nuauth_periods_module: does it define the named period?  Without
	 * it every period counts as defined. */
	bool (*period_known)(void *priv, const char *period);

	/* nuauth_acl_check_module: called once every module is loaded;
	 * checks each period its ACLs name with known(period, ctx).  false
	 * with *error ("file:line: ...") when one is unknown. */
	bool (*check_periods)(void *priv, bool (*known)(const char *period, void *ctx),
			      void *ctx, GError **error);

	/* nuauth_user_session_logs_module (all run, in order; only when
	 * nuauth_log_users has bit 1): a user logged in or out.  Must not
	 * block: slow work goes to a child process. */
	void (*user_session_log)(void *priv, const struct nuauth_session_event *ev);

	/* nuauth_user_logs_module (all run): a decision about a user's
	 * packet (acl_name "" when no ACL matched), for the verdicts
	 * nuauth_log_users selects (2 drops, 4 accepts, 8 all).  Must not
	 * block. */
	void (*user_packet_log)(void *priv, const struct nuauth_packet *packet,
				const struct nuauth_user *user, enum nuauth_verdict verdict,
				const char *acl_name);

	/* nuauth_user_session_modify_module (all run, in order) at login:
	 * may set *expires_at (wall clock, seconds; 0 never, the value it
	 * starts with) to when the session must end.  nuauth then tells the
	 * client "session expired" and closes the link as on logout. */
	void (*session_modify)(void *priv, const struct nuauth_session_event *ev,
			       gint64 *expires_at);

	/* nuauth_user_logs_module: an accepted connection ended.  Called for
	 * the modules of that key that provide it, when nuauth_log_users
	 * selects accepts (4) or all (8).  Must not block. */
	void (*conn_end_log)(void *priv, const struct nuauth_conn_end_event *ev);

	/* Any module: NUAUTH_NEEDS_* bits for what this instance, as
	 * configured, reads from the client's announcement; asked once after
	 * every load and reload.  nuauth asks the clients for the union; a
	 * module without it needs only the flow.  A module that would merely
	 * log the program (user_packet_log) must not ask: the site decides
	 * with nuauth_client_send_app. */
	unsigned (*needs)(void *priv);

	/* ---- 11.1 ---- */

	/* nuauth_user_check_module, nuauth_get_user_groups_module: the
	 * store's own spelling of user, e.g. the directory's uid for a name
	 * it matched without regard to case.  nuauth asks it of the module
	 * whose user_check, scram_verifier or get_user_groups has just
	 * answered for user with anything but UNKNOWN or ERROR, on the same
	 * worker thread; the session, its limits and locks, log lines and
	 * nuauthctl then use that spelling.  Writes it into name (cap bytes,
	 * NUL-terminated) and returns true; false keeps the name as the
	 * client typed it.  Without the hook the typed name is used: a store
	 * that matches names exactly needs none.  Worker threads,
	 * concurrently. */
	bool (*canonical_name)(void *priv, const char *user, char *name, size_t cap);

	/* ---- 11.2 ---- */

	/* nuauth_user_session_modify_module (in order, until one refuses):
	 * may the user of ev (kind LOGIN), whose proof was right, open a
	 * session?  Runs after the password or certificate was checked and
	 * before the session starts (before user_session_log and
	 * session_modify).  true allows; false refuses the login, with the
	 * reason written into why (cap bytes, NUL-terminated): nuauth sends it
	 * to the client with the failed result, logs it and counts a failed
	 * login.  Main thread: must not block. */
	bool (*session_check)(void *priv, const struct nuauth_session_event *ev, char *why,
			      size_t cap);

	/* New hooks go here, at the end, with a new minor. */
};

/* The first fields of every module's description. */
#define NUAUTH_MODULE_HEADER \
	.api_major = NUAUTH_MODULE_API_MAJOR, \
	.api_minor = NUAUTH_MODULE_API_MINOR, \
	.size = sizeof(struct nuauth_module)

/* The size of the struct at minor 0 (nuauth refuses a smaller one). */
#define NUAUTH_MODULE_SIZE_11_0 offsetof(struct nuauth_module, canonical_name)
/* ... and at minor 1. */
#define NUAUTH_MODULE_SIZE_11_1 offsetof(struct nuauth_module, session_check)

#endif
