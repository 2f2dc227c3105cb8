/* libnuclient: log a user in to nuauth and announce the user's connections.
 *
 * A front end (nutcpc, a PAM module, a tray applet) makes a client, sets its
 * options (or reads a nuclient.conf), logs in, then runs the client's loop.
 * The library hides the protocol: it keeps one TLS link to nuauth per
 * address family, answers each of nuauth's requests (PUSH) after an exact
 * look-up of the socket asked about (a claim when it is the user's, "not
 * mine" when not), sends keep-alives, and reconnects on a capped exponential
 * back-off with full jitter (1 s first window, doubling to 30 s), so that
 * many clients cut off together do not all come back in the same second.
 *
 * Threads: a client belongs to one thread.  Its sockets and timers are on
 * that thread's thread-default main context (g_main_context_push_thread_default;
 * the global default when none is pushed), so several threads may each run
 * clients.  nuclient_run() runs a GLib main loop on that context; nuclient_stop() and
 * nuclient_reconnect() are called from that loop (a signal handler installed
 * with g_unix_signal_add, a callback of the client's).
 *
 * Strings returned through char **err are allocated with malloc(): the
 * caller frees them with free().  See libnuclient(3). */
#ifndef NUCLIENT_H
#define NUCLIENT_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raised when the API changes incompatibly. */
#define NUCLIENT_API_VERSION 1

struct nuclient;

/* Options (nuclient_set).  Values are strings; NULL resets to the default. */
enum nuclient_option {
	NUCLIENT_OPT_SERVER = 1,	/* nuauth's address(es), comma separated; one link per address family */
	NUCLIENT_OPT_PORT,		/* nuauth's client port, default "4129" */
	NUCLIENT_OPT_USER,		/* user name, default: the login name of the process's uid */
	NUCLIENT_OPT_PASSWORD,		/* password for SASL; copied, wiped on free */
	NUCLIENT_OPT_CA,		/* CA certificate (PEM file) that signed nuauth's certificate */
	NUCLIENT_OPT_CERT,		/* client certificate (PEM file), optional */
	NUCLIENT_OPT_KEY,		/* its private key (PEM file) */
	NUCLIENT_OPT_CRL,		/* certificate revocation list (PEM file), optional */
	NUCLIENT_OPT_CHECK_NAME,	/* "1" (default): nuauth's certificate must name the server; "0": not */
	NUCLIENT_OPT_MECHANISMS,	/* SASL mechanisms the client may use, space or comma separated */
	NUCLIENT_OPT_KEEPALIVE,		/* seconds between keep-alives, default "30" */
	NUCLIENT_OPT_UDP_UNCONNECTED,	/* "0" (default): only connected UDP sockets prove a flow;
					 * "1": an unconnected one proves any flow from its port
					 * (a datagram forged from that port is claimed too) */
	NUCLIENT_OPT_DESKTOP_NOTIFY,	/* "1" (default): the front end tells the user in the
					 * desktop about refusals (nutcpc: D-Bus notifications);
					 * "0": not.  The library only keeps it. */
};

enum nuclient_status {
	NUCLIENT_OK = 0,
	NUCLIENT_REFUSED,	/* nuauth refused the login: trying again will not help */
	NUCLIENT_UNREACHABLE,	/* network, TLS or protocol trouble: try again later */
	NUCLIENT_BAD_CONFIG,	/* an option is missing or wrong */
	NUCLIENT_UNTRUSTED,	/* nuauth's certificate was not accepted (the CA, the
				 * name, the CRL): a first login ends there; a link
				 * that drops later is retried as if unreachable */
};

enum nuclient_state {
	NUCLIENT_STATE_LOGGED_OUT = 0,	/* before the first login, after nuclient_stop */
	NUCLIENT_STATE_LOGGED_IN,	/* every link is up */
	NUCLIENT_STATE_RECONNECTING,	/* at least one link is down and being restored */
	NUCLIENT_STATE_REFUSED,		/* nuauth refused a new login: the loop ends */
};

/* A connection of the user's that nuauth did not accept. */
struct nuclient_notice {
	const char *program;		/* full path, "" when unknown */
	const char *protocol;		/* "tcp", "udp", ... */
	const char *destination;	/* address of the destination */
	unsigned port;			/* destination port, 0 for ICMP */
	const char *verdict;		/* "dropped" or "rejected" */
	const char *reason;		/* nuauth's words: which rule decided */
	const char *line;		/* all the above as one sentence for the user */
};

typedef void (*nuclient_notice_fn)(const struct nuclient_notice *notice, void *ctx);
/* detail: a sentence about the change (e.g. why a link dropped), or "". */
typedef void (*nuclient_state_fn)(enum nuclient_state state, const char *detail, void *ctx);

/* The library's version, e.g. "0.1.0". */
const char *nuclient_version(void);

/* A new client with every option at its default; NULL on failure. */
struct nuclient *nuclient_new(void);
/* Logs out (when logged in), closes the links and frees the client.
 * NULL is accepted. */
void nuclient_free(struct nuclient *nc);

/* Sets one option.  0, or -1 with errno EINVAL for an unknown option or a
 * malformed value. */
int nuclient_set(struct nuclient *nc, enum nuclient_option option, const char *value);

/* An option's value: strings as set (the user once logged in: the login
 * name when none was set), flags "1" or "0", NULL when unset; never the
 * password.  Valid until the option changes. */
const char *nuclient_get(const struct nuclient *nc, enum nuclient_option option);

/* Reads a nuclient.conf (key=value lines, see libnuclient(3)) and sets the
 * options it names; options set later override it.  Returns 0 when read,
 * 1 when the file does not exist, -1 on error with *err ("file:line: why")
 * when err is not NULL.  Unknown keys are warned about (file:line) in the
 * log, not refused. */
int nuclient_load_config(struct nuclient *nc, const char *path, char **err);

/* Where the library logs: to stderr, or to syslog under ident; level is a
 * syslog level (LOG_NOTICE by default). */
void nuclient_log_init(const char *ident, bool to_syslog, int level);

void nuclient_on_notice(struct nuclient *nc, nuclient_notice_fn fn, void *ctx);
void nuclient_on_state(struct nuclient *nc, nuclient_state_fn fn, void *ctx);

/* Connects to nuauth and logs in on every address family the server
 * option gives, blocking (each step has a 10 s time-out).  NUCLIENT_OK when
 * at least one link is logged in; the others are retried by the loop.  On
 * failure *err (if err is not NULL) is a sentence for the user.
 * NUCLIENT_UNREACHABLE (nothing answered, or not as nuauth; not a
 * certificate that fails to verify: NUCLIENT_UNTRUSTED) leaves the client
 * trying again on its back-off
 * (state RECONNECTING): nuclient_run() goes on until a login succeeds or is
 * refused (a front end that would rather give up frees the client). */
enum nuclient_status nuclient_login(struct nuclient *nc, char **err);

/* Runs the client until nuclient_stop() or a refused login.  Returns 0, or
 * 1 when nuauth refused a login again (the password changed, the account
 * was disabled). */
int nuclient_run(struct nuclient *nc);
/* Ends nuclient_run.  logout: tell nuauth that the user's session ends (it
 * then ends the user's connections); otherwise the links only close. */
void nuclient_stop(struct nuclient *nc, bool logout);
/* Drops the links and logs in again now (the back-off starts afresh). */
void nuclient_reconnect(struct nuclient *nc);

enum nuclient_state nuclient_get_state(const struct nuclient *nc);
const char *nuclient_state_name(enum nuclient_state state);
/* A short description of the links, e.g. "logged in to 10.0.0.1 (IPv4) as
 * alice"; valid until the next call on nc. */
const char *nuclient_describe(struct nuclient *nc);

#ifdef __cplusplus
}
#endif

#endif
