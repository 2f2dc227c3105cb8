/* pam_nufw: the PAM module that logs the user's nutcpc in with the session
 * (pam_nufw(8)).
 *
 *   auth     keeps a copy of the password the user typed (PAM_AUTHTOK,
 *            asked for when no module before did) for the session stage,
 *            with pam_set_data: in locked memory, wiped when dropped.
 *   session  open: starts nutcpc as the user, the password on a pipe, and
 *            waits at most timeout= for it to log in; the login goes on
 *            whatever the client says.  close: stops that client.
 *
 * Never a password in a log line, an argument, the environment or a file. */
#include "config.h"
#include "pam_nufw.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/mman.h>
#include <security/pam_ext.h>
#include <security/pam_modutil.h>
#include <security/pam_modules.h>

#define DATA_AUTHTOK "pam_nufw_authtok"
#define DATA_CLIENT "pam_nufw_client"
#define MAX_GROUPS 256
#define PASSWORD_MAX 1024	/* nutcpc reads at most this */

/* ---- options ---- */

/* value when arg is "key=value", else NULL. */
static const char *value_of(const char *arg, const char *key)
{
	size_t n = strlen(key);

	return strncmp(arg, key, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

/* Reads the module's arguments; false (logged) on one it does not know or
 * a bad value: then the module does nothing. */
static bool parse_options(pam_handle_t *pamh, int argc, const char **argv, struct pn_options *o)
{
	*o = (struct pn_options){
		.nutcpc = BINDIR "/nutcpc",
		.skip_users = "root",
		.skip_groups = "",
		.timeout_ms = PAM_NUFW_TIMEOUT_MS,
	};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v;

		if ((v = value_of(a, "server")))
			o->server = v;
		else if ((v = value_of(a, "port")))
			o->port = v;
		else if ((v = value_of(a, "ca")))
			o->ca = v;
		else if ((v = value_of(a, "nutcpc")))
			o->nutcpc = v;
		else if ((v = value_of(a, "skip_users")))
			o->skip_users = v;
		else if ((v = value_of(a, "skip_groups")))
			o->skip_groups = v;
		else if ((v = value_of(a, "timeout"))) {
			char *end;
			double s;

			errno = 0;
			s = strtod(v, &end);
			if (errno || end == v || *end || !(s >= 0.1 && s <= 60)) {
				pam_syslog(pamh, LOG_ERR, "timeout=%s: not a number of seconds from 0.1 to 60", v);
				return false;
			}
			o->timeout_ms = (int)(s * 1000);
		} else if (strcmp(a, "use_first_pass") == 0)
			o->use_first_pass = true;
		else if (strcmp(a, "debug") == 0)
			o->debug = true;
		else {
			pam_syslog(pamh, LOG_ERR, "unknown option `%s' (see pam_nufw(8))", a);
			return false;
		}
	}
	if (*o->nutcpc != '/') {
		pam_syslog(pamh, LOG_ERR, "nutcpc=%s: not an absolute path", o->nutcpc);
		return false;
	}
	return true;
}

/* Whether name is in the comma-separated list. */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* Whether the user is one the options skip (by name, or a group's
 * member).  A user the password database does not know is skipped too. */
static bool skipped(pam_handle_t *pamh, const struct pn_options *o, const char *user,
		    const struct passwd *pw)
{
	gid_t groups[MAX_GROUPS];
	int n = MAX_GROUPS;

	if (in_list(o->skip_users, user))
		return true;
	if (!pw) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "%s: not in the password database", user);
		return true;
	}
	if (!*o->skip_groups)
		return false;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return true;	/* too many to tell: on the safe side */
	for (int i = 0; i < n; i++) {
		struct group *gr = getgrgid(groups[i]);

		if (gr && in_list(o->skip_groups, gr->gr_name))
			return true;
	}
	return false;
}

/* The PAM user and their password database entry (NULL when unknown). */
static const char *the_user(pam_handle_t *pamh, struct passwd **pw)
{
	const char *user = NULL;

	*pw = NULL;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !*user)
		return NULL;
	*pw = pam_modutil_getpwnam(pamh, user);
	return user;
}

/* ---- the password kept from auth to session ---- */

struct kept {
	size_t size;
	char text[];
};

static void kept_free(pam_handle_t *pamh, void *data, int status)
{
	struct kept *k = data;

	(void)pamh;
	(void)status;
	explicit_bzero(k, sizeof(*k) + k->size);
	munlock(k, sizeof(*k) + k->size);
	free(k);
}

/* Keeps a copy of password for the session stage (replacing one kept). */
static int keep_password(pam_handle_t *pamh, const char *password)
{
	size_t n = strnlen(password, PASSWORD_MAX + 1);
	struct kept *k;

	if (n > PASSWORD_MAX)
		return PAM_IGNORE;	/* nutcpc would not take it */
	k = calloc(1, sizeof(*k) + n + 1);
	if (!k)
		return PAM_BUF_ERR;
	(void)mlock(k, sizeof(*k) + n + 1);	/* best effort */
	k->size = n + 1;
	memcpy(k->text, password, n);
	if (pam_set_data(pamh, DATA_AUTHTOK, k, kept_free) != PAM_SUCCESS) {
		kept_free(pamh, k, 0);
		return PAM_BUF_ERR;
	}
	return PAM_SUCCESS;
}

/* ---- the client kept from open to close ---- */

static void client_free(pam_handle_t *pamh, void *data, int status)
{
	struct pn_client *c = data;

	(void)pamh;
	(void)status;
	/* pam_end without close_session (or in a forked copy of the
	 * application): the client is left alone, only our fd is closed. */
	if (c->pidfd >= 0)
		close(c->pidfd);
	free(c);
}

/* ---- PAM's entry points ---- */

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pn_options o;
	struct passwd *pw;
	const char *user, *password = NULL;
	const void *item = NULL;

	(void)flags;
	if (!parse_options(pamh, argc, argv, &o))
		return PAM_IGNORE;
	user = the_user(pamh, &pw);
	if (!user || skipped(pamh, &o, user, pw))
		return PAM_IGNORE;
	/* The password a module before this one asked for (pam_unix), else
	 * asked here (it becomes PAM_AUTHTOK for the modules after). */
	if (pam_get_item(pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS && item)
		password = item;
	else if (!o.use_first_pass && pam_get_authtok(pamh, PAM_AUTHTOK, &password, NULL) != PAM_SUCCESS)
		password = NULL;
	if (!password || !*password)
		return PAM_IGNORE;
	if (keep_password(pamh, password) != PAM_SUCCESS)
		return PAM_IGNORE;
	if (o.debug)
		pam_syslog(pamh, LOG_DEBUG, "kept the password of %s for the session", user);
	/* The decision is the other modules': this one only keeps a copy. */
	return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pn_options o;
	struct passwd *pw;
	const struct kept *k = NULL;
	const void *item = NULL, *data = NULL;
	const char *user, *password = NULL;
	struct pn_client started, *c;
	enum pn_outcome outcome;
	char said[256];

	(void)flags;
	if (!parse_options(pamh, argc, argv, &o))
		return PAM_IGNORE;
	user = the_user(pamh, &pw);
	if (!user || skipped(pamh, &o, user, pw))
		return PAM_IGNORE;
	if (pam_get_data(pamh, DATA_CLIENT, &data) == PAM_SUCCESS && data)
		return PAM_IGNORE;	/* already started in this session */
	if (pam_get_data(pamh, DATA_AUTHTOK, &data) == PAM_SUCCESS && data) {
		k = data;
		password = k->text;
	} else if (pam_get_item(pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS && item) {
		password = item;
	}
	if (!password || !*password) {
		pam_syslog(pamh, LOG_NOTICE,
			   "no password of %s to log the client in with (pam_nufw must be in the auth stack too): no client started",
			   user);
		return PAM_IGNORE;
	}
	outcome = pn_client_start(pamh, &o, pw, password, &started, said, sizeof(said));
	/* Used: the kept copy is wiped now (kept_free). */
	if (k)
		pam_set_data(pamh, DATA_AUTHTOK, NULL, NULL);
	switch (outcome) {
	case PN_FAILED:
		return PAM_IGNORE;
	case PN_ENDED:
		pam_syslog(pamh, LOG_NOTICE, "the client of %s ended: %s", user,
			   *said ? said : "(it said nothing)");
		return PAM_IGNORE;
	case PN_LOGGED_IN:
		pam_syslog(pamh, LOG_INFO, "the client of %s (pid %ld) is logged in", user,
			   (long)started.pid);
		break;
	case PN_PENDING:
		pam_syslog(pamh, LOG_NOTICE,
			   "the client of %s (pid %ld) is not logged in after %d ms; it goes on trying",
			   user, (long)started.pid, o.timeout_ms);
		break;
	}
	c = malloc(sizeof(*c));
	if (!c || pam_set_data(pamh, DATA_CLIENT, c, client_free) != PAM_SUCCESS) {
		free(c);
		pam_syslog(pamh, LOG_ERR, "out of memory: the client of %s is stopped", user);
		pn_client_stop(&started, o.timeout_ms);
		if (started.pidfd >= 0)
			close(started.pidfd);
		return PAM_IGNORE;
	}
	*c = started;
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pn_options o;
	const void *data = NULL;
	const struct pn_client *c;
	const char *user = NULL;

	(void)flags;
	if (!parse_options(pamh, argc, argv, &o))
		o.timeout_ms = PAM_NUFW_TIMEOUT_MS;	/* still stop what runs */
	if (pam_get_data(pamh, DATA_CLIENT, &data) != PAM_SUCCESS || !data)
		return PAM_IGNORE;
	c = data;
	pam_get_item(pamh, PAM_USER, (const void **)&user);
	if (pn_client_stop(c, o.timeout_ms))
		pam_syslog(pamh, LOG_INFO, "stopped the client of %s (pid %ld)", user ? user : "?",
			   (long)c->pid);
	else
		pam_syslog(pamh, LOG_ERR, "the client of %s (pid %ld) did not stop", user ? user : "?",
			   (long)c->pid);
	pam_set_data(pamh, DATA_CLIENT, NULL, NULL);	/* closes its pidfd */
	return PAM_SUCCESS;
}
