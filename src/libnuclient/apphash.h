/* The SHA-256 of the program a process runs, for nuauth's AppSHA256= ACLs:
 * read through /proc/PID/exe and cached per file. */
#ifndef NUCLIENT_APPHASH_H
#define NUCLIENT_APPHASH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define NC_SHA256_LEN 32

struct nc_apphash;

struct nc_apphash *nc_apphash_new(void);
void nc_apphash_free(struct nc_apphash *cache);

/* Fills digest with the SHA-256 of the file process pid executes; path is
 * what /proc/PID/exe named it (part of the cache key).  False when the
 * file cannot be read (the process is gone, not ours to read, or the file
 * changed while it was read): the connection is then announced without a
 * hash. */
bool nc_apphash_get(struct nc_apphash *cache, pid_t pid, const char *path,
		    uint8_t digest[NC_SHA256_LEN]);

/* How many files were hashed (cache misses) since nc_apphash_new. */
unsigned nc_apphash_computed(const struct nc_apphash *cache);

#endif
