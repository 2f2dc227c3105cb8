/* The project's error convention (doc/architecture.md, "STYLE notes"): a
 * function that can fail for a reason worth a sentence takes GError **error
 * as its last argument, returns false or NULL on failure and fills *error
 * with a message that names the file, address or queue it is about.  It
 * does not log: the caller that handles the failure (stops, retries, goes
 * on without the feature) logs it, once, adding its own context with
 * g_prefix_error where it passes the error up.
 *
 * Configuration files have their own domain, NU_CONF_ERROR (conf.h), whose
 * messages start with file:line.  Everything else uses NU_ERROR. */
#ifndef NU_ERROR_H
#define NU_ERROR_H

#include <glib.h>

#define NU_ERROR (nu_error_quark())
GQuark nu_error_quark(void);

/* What went wrong, for a caller that acts differently on it (most only
 * log the message). */
enum nu_error_code {
	NU_ERROR_FAILED,	/* none of the below */
	NU_ERROR_IO,		/* a file or socket call failed (the message quotes errno) */
	NU_ERROR_TLS,		/* GnuTLS refused a certificate, key, CA or CRL file */
	NU_ERROR_CERT_ROLE,	/* a certificate is not issued for its role */
	NU_ERROR_PRIVILEGE,	/* a user, capability or file mode problem */
	NU_ERROR_KERNEL,	/* netfilter refused a request (the message quotes errno) */
	NU_ERROR_RESOLVE,	/* a host name does not resolve */
	NU_ERROR_PROTOCOL,	/* a peer answered something unexpected */
};

/* The message of error, which is freed: for the few callers that keep
 * the older `char **err' form (g_free the result).  NULL for NULL. */
char *nu_error_take_message(GError *error);

#endif
