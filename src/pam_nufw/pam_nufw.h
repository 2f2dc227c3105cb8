/* pam_nufw: starts the user's nutcpc with the session, logged in with the
 * password the user typed (pam_nufw(8)).
 *
 *   pam_nufw.c  the PAM entry points, the options, who is skipped
 *   client.c    starting the client as the user (the password over a pipe),
 *               waiting a bounded time for its first word, stopping it */
#ifndef PAM_NUFW_H
#define PAM_NUFW_H

#include <stdbool.h>
#include <pwd.h>
#include <sys/types.h>
#include <security/pam_modules.h>

#define PAM_NUFW_TIMEOUT_MS 3000	/* timeout='s default */

struct pn_options {
	const char *server, *port, *ca, *nutcpc;
	const char *skip_users;		/* comma-separated names */
	const char *skip_groups;	/* comma-separated group names */
	int timeout_ms;			/* bound of open and close */
	bool use_first_pass;		/* never prompt in the auth stage */
	bool debug;
};

/* The client a session started. */
struct pn_client {
	pid_t pid;
	int pidfd;		/* -1 where pidfd_open is missing */
};

/* What the client said within the bound. */
enum pn_outcome {
	PN_LOGGED_IN,		/* it said "logged in" */
	PN_ENDED,		/* it ended (nuauth refused the login, ...) */
	PN_PENDING,		/* the time was up: it runs and keeps trying */
	PN_FAILED,		/* it could not be started */
};

/* Starts opt->nutcpc as the user pw_name (uid, gid and groups of the
 * password database), its password on a pipe, and waits at most
 * opt->timeout_ms for its first word.  last_line gets the client's last
 * line of output (never the password, which it does not print).  On
 * PN_LOGGED_IN and PN_PENDING *client is set. */
enum pn_outcome pn_client_start(pam_handle_t *pamh, const struct pn_options *opt,
				const struct passwd *pw, const char *password,
				struct pn_client *client, char *last_line, size_t cap);

/* Ends the client (SIGTERM, SIGKILL when opt->timeout_ms are up) and reaps
 * it; true when it is gone. */
bool pn_client_stop(const struct pn_client *client, int timeout_ms);

#endif
