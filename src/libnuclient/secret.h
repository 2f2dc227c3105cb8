/* Memory for secrets (the password and its copies): pages of their own,
 * locked in RAM (mlock: never written to swap), left out of core dumps, and
 * wiped (explicit_bzero) when freed.  Locking is best effort: where
 * RLIMIT_MEMLOCK refuses it the secret still works and is still wiped. */
#ifndef NUCLIENT_SECRET_H
#define NUCLIENT_SECRET_H

#include <stddef.h>

/* size zeroed bytes (never NULL: aborts when out of memory, as g_malloc). */
void *nc_secret_alloc(size_t size);
/* A copy of s (NULL for NULL). */
char *nc_secret_strdup(const char *s);
/* Wipes, unlocks and frees what nc_secret_alloc gave; NULL is allowed. */
void nc_secret_free(void *p);

#endif
