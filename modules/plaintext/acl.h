/* The plaintext module's ACL file, acls.nufw:
 *
 *   [web]
 *   gid=100
 *   proto=6
 *   DstPort=80,443
 *   decision=1
 *
 * Keys are case-insensitive and may repeat; list values accumulate.
 *   uid=, gid=             comma lists of unsigned numbers (one of them needed)
 *   proto=                 6 (default), 17, 1 or 58
 *   type=                  ICMP types (checked for ICMP and ICMPv6 only)
 *   SrcIP=, DstIP=         addresses with optional /prefix; default any.  An
 *                          IPv4 network only matches IPv4 addresses, an IPv6
 *                          network only IPv6 ones
 *   SrcPort=, DstPort=     n or a-b, comma lists (TCP and UDP only); default any
 *   App=                   glob on the program's full path
 *   OS=                    sysname[;release[;version]], case-insensitive
 *   indev=, outdev=        interface names
 *   decision=              0 drop, 1 accept (default), 3 reject
 *   flags=                 unsigned 32-bit number
 *   log_prefix=, period=   text (period is stored, not enforced yet)
 * Whole-line comments start with `#'.  A value may be double-quoted. */
#ifndef NU_PLAINTEXT_ACL_H
#define NU_PLAINTEXT_ACL_H

#include <glib.h>
#include <nuauth/module.h>

struct nu_acl_set;

/* Reads path.  NULL with *error set (NU_CONF_ERROR; "file:line: why",
 * or "file: strerror") on a malformed line or value.  Unknown keys are
 * logged with log_warnx and ignored. */
struct nu_acl_set *nu_acl_load(const char *path, GError **error);
void nu_acl_set_free(struct nu_acl_set *set);
/* How many ACLs set holds. */
unsigned nu_acl_count(const struct nu_acl_set *set);

/* Appends to matches (struct nuauth_acl_match) every ACL, in file order,
 * that matches packet and user (by uid or one of its groups).  The strings
 * in the matches live as long as set. */
void nu_acl_match(const struct nu_acl_set *set, const struct nuauth_packet *packet,
		  const struct nuauth_user *user, GArray *matches);

#endif
