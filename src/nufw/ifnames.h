/* Interface names by index, for the questions sent to nuauth.
 * if_indextoname costs a socket and an ioctl, twice per question; the names
 * are kept instead, each for IFNAMES_TTL_S seconds, so that a renamed
 * interface shows its new name within that time.  One cache per worker
 * thread (no locking). */
#ifndef NUFW_IFNAMES_H
#define NUFW_IFNAMES_H

#include <stdint.h>
#include <net/if.h>
#include <glib.h>

#define IFNAMES_TTL_S 5

struct nufw_ifnames;

struct nufw_ifnames *nufw_ifnames_new(void);
void nufw_ifnames_free(struct nufw_ifnames *c);
/* Copies the name of interface index into name (IF_NAMESIZE bytes): ""
 * when there is no such interface.  now: g_get_monotonic_time(). */
void nufw_ifnames_get(struct nufw_ifnames *c, uint32_t index, char name[static IF_NAMESIZE],
		      gint64 now);

#endif
