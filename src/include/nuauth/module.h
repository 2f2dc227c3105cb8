/* The interface between nuauth and its modules.
 *
 * A module is a shared object in the module folder that exports
 *
 *     const struct nuauth_module *nuauth_module_info(void);
 *
 * nuauth refuses a module whose api_version differs from
 * NUAUTH_MODULE_API_VERSION.  Hooks a module does not provide are NULL.
 * Modules resolve nuauth's own functions (log.h, conf.h, flow.h) from the
 * nuauth executable.
 *
 * Threads.  init, deinit and every hook not named below run on nuauth's
 * main thread, one at a time; they must not block.  user_check,
 * scram_verifier and get_user_groups may wait (a directory, PBKDF2): they
 * run on nuauth's worker pool (nuauth_number_authcheckers threads), so
 * they may be called from several threads at once, with the same priv,
 * and concurrently with the main thread's hooks of the same instance.
 * They must therefore only read state that init built, or lock what they
 * change (log.h is thread-safe).  An instance is never deinit'ed while one
 * of these calls runs: after a reload the old instances stay until the
 * last call on them has returned. */
#ifndef NUAUTH_MODULE_H
#define NUAUTH_MODULE_H

#include <stdint.h>
#include <time.h>
#include <glib.h>
#include "flow.h"
#include "conf.h"

/* 5: conn_end_log, and the client and OS of a session event. */
/* 6: scram_verifier (SCRAM-SHA-256 logins). */
/* 7: the user's auth_quality, the packet's gateway. */
/* 8: needs (what the client must announce), the packet's app_sha256. */
/* 9: the packet's bridge ports (physindev, physoutdev). */
/* 10: canonical_name (one spelling per user). */
#define NUAUTH_MODULE_API_VERSION 10
#define NUAUTH_MODULE_SYMBOL "nuauth_module_info"

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
	int decision;			/* enum nu_verdict */
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

struct nuauth_module {
	uint32_t api_version;
	const char *name;

	/* Reads the module's keys from conf (instance and conffile come from
	 * "name[:instance[:conffile]]", NULL when not given).  Returns the
	 * module's private state, or NULL with *error set; a module with no
	 * state returns any non-NULL pointer it likes. */
	void *(*init)(struct nu_conf *conf, const char *instance,
		      const char *conffile, GError **error);
	void (*deinit)(void *priv);

	/* nuauth_user_check_module: checks the password of user; on success
	 * fills *uid and appends the user's groups to groups (guint32).
	 * Worker threads, concurrently (see the top of this file). */
	enum nuauth_user_status (*user_check)(void *priv, const char *user,
					      const char *password, size_t password_len,
					      uint32_t *uid, GArray *groups);

	/* nuauth_user_check_module, optional (API 6): the verifier of user for
	 * the SCRAM mechanism mech ("SCRAM-SHA-256"), in the text form Cyrus
	 * SASL reads: "ITERATIONS:base64(salt)$base64(StoredKey):base64(ServerKey)".
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
	 * acl is the ACL that decided, NULL when none. */
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
	 * *ends_at the first time after now when the period stops matching
	 * (0: never); false outside it, and for a period it does not know. */
	bool (*period_check)(void *priv, const char *period, time_t now, time_t *ends_at);
	/* nuauth_periods_module: does it define the named period? */
	bool (*period_known)(void *priv, const char *period);

	/* nuauth_acl_check_module, optional: called once every module is
	 * loaded; checks each period its ACLs name with known(period, ctx).
	 * false with *error ("file:line: ...") when one is unknown. */
	bool (*check_periods)(void *priv, bool (*known)(const char *period, void *ctx),
			      void *ctx, GError **error);

	/* nuauth_user_session_logs_module (all run, in order; only when
	 * nuauth_log_users has bit 1): a user logged in or out.  Must not
	 * block: slow work goes to a child process. */
	void (*user_session_log)(void *priv, const struct nuauth_session_event *ev);

	/* nuauth_user_logs_module (all run): a decision about a user's
	 * packet (verdict: enum nu_verdict; acl_name "" when no ACL matched),
	 * for the verdicts nuauth_log_users selects (2 drops, 4 accepts, 8
	 * all).  Must not block. */
	void (*user_packet_log)(void *priv, const struct nuauth_packet *packet,
				const struct nuauth_user *user, int verdict,
				const char *acl_name);

	/* nuauth_user_session_modify_module (all run, in order) at login:
	 * may set *expires_at (wall clock, seconds; 0 never, the value it
	 * starts with) to when the session must end.  nuauth then tells the
	 * client "session expired" and closes the link as on logout. */
	void (*session_modify)(void *priv, const struct nuauth_session_event *ev,
			       gint64 *expires_at);

	/* nuauth_user_logs_module, optional (API 5): an accepted connection
	 * ended.  Called for the modules of that key that provide it, when
	 * nuauth_log_users selects accepts (4) or all (8).  Must not block. */
	void (*conn_end_log)(void *priv, const struct nuauth_conn_end_event *ev);

	/* Any hook, optional (API 8): NUAUTH_NEEDS_* bits for what this
	 * instance, as configured, reads from the client's announcement;
	 * asked once after every load and reload.  nuauth asks the clients
	 * for the union; a module without it needs only the flow.  A module
	 * that would merely log the program (user_packet_log) must not ask:
	 * the site decides with nuauth_client_send_app. */
	unsigned (*needs)(void *priv);

	/* nuauth_user_check_module, nuauth_get_user_groups_module, optional
	 * (API 10): the store's own spelling of user, e.g. the directory's
	 * uid for a name it matched without regard to case.  nuauth asks it
	 * of the module whose user_check, scram_verifier or get_user_groups
	 * has just answered for user with anything but UNKNOWN or ERROR, on
	 * the same worker thread; the session, its limits and locks, log
	 * lines and nuauthctl then use that spelling.  Writes it into name
	 * (cap bytes, NUL-terminated) and returns true; false keeps the name
	 * as the client typed it.  Without the hook the typed name is used:
	 * a store that matches names exactly needs none.  Worker threads,
	 * concurrently. */
	bool (*canonical_name)(void *priv, const char *user, char *name, size_t cap);
};

#endif
