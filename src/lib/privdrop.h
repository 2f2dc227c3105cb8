/* Least privilege: what a daemon gives up once its sockets and files are
 * open, and the check that secrets are not readable by everyone. */
#ifndef NU_PRIVDROP_H
#define NU_PRIVDROP_H

#include <stdbool.h>
#include <stdint.h>

/* Becomes user (its uid, gid and groups) for good.  False with *err
 * (g_strdup'ed) on any failure: the caller must then stop. */
bool nu_drop_to_user(const char *user, char **err);

/* Keeps only the capabilities in keep (bit n = capability n), in the
 * effective, permitted and bounding sets of the calling thread (threads it
 * starts afterwards inherit them).  False with *err. */
bool nu_keep_only_capabilities(uint64_t keep, char **err);

/* The effective capabilities of the calling thread. */
uint64_t nu_effective_capabilities(void);

/* False with *err when path holds secrets but can be read or written by
 * users other than its owner and group (mode o+r or o+w). */
bool nu_check_private_file(const char *path, char **err);

#endif
