/* Least privilege: what a daemon gives up once its sockets and files are
 * open, and the check that secrets are not readable by everyone. */
#ifndef NU_PRIVDROP_H
#define NU_PRIVDROP_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* Becomes user (its uid, gid and groups) for good.  False with *error
 * (NU_ERROR_PRIVILEGE) on any failure: the caller must then stop. */
bool nu_become_user(const char *user, GError **error);

/* Keeps only the capabilities in keep (bit n = capability n), in the
 * effective, permitted and bounding sets of the calling thread (threads it
 * starts afterwards inherit them).  False with *error (NU_ERROR_PRIVILEGE). */
bool nu_keep_only_capabilities(uint64_t keep, GError **error);

/* The effective capabilities of the calling thread. */
uint64_t nu_effective_capabilities(void);

/* False with *error when path holds secrets but can be read or written by
 * users other than its owner and group (mode o+r or o+w:
 * NU_ERROR_PRIVILEGE), or cannot be looked at (NU_ERROR_IO). */
bool nu_check_secret_file(const char *path, GError **error);

#endif
