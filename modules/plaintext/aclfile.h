/* The plaintext module's ACL file, acls.nufw (format in acl.h). */
#ifndef NU_PLAINTEXT_ACLFILE_H
#define NU_PLAINTEXT_ACLFILE_H

#include <glib.h>

#include "acl.h"

/* Reads path.  NULL with *error set (NU_CONF_ERROR; "file:line: why",
 * or "file: strerror") on a malformed line or value. */
struct nu_acl_set *nu_acl_load(const char *path, GError **error);

#endif
