/* The ACL engine that the plaintext and ldap modules share: an ACL set is
 * built from records of key=value (acl_parse.c), indexed (acl_index.c) and
 * matched against a packet and its user (acl_match.c); acl_set.c answers
 * questions about a set.  The plaintext module reads its records from a
 * file (plaintext/aclfile.c), the ldap module from directory entries
 * (ldap/aclentry.c).  The format, as in the plaintext module's acls.nufw:
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
 *   AppSHA256=             comma list of SHA-256 digests (hex) of the
 *                          program's file; a connection announced without
 *                          one matches none
 *   OS=                    sysname[;release[;version]], case-insensitive
 *   indev=, outdev=        interface names
 *   physindev=, physoutdev= bridge port names (bridged packets only)
 *   decision=              0 drop, 1 accept (default), 3 reject
 *   flags=                 unsigned 32-bit number
 *   log_prefix=            text
 *   period=                a time period of nuauth_periods_module: the ACL
 *                          matches only within it
 * Whole-line comments start with `#'.  A value may be double-quoted. */
#ifndef NU_ACL_H
#define NU_ACL_H

#include <glib.h>
#include <nuauth/module.h>

struct nu_acl_set;

void nu_acl_set_free(struct nu_acl_set *set);

/* Builds a set from records (a file's [sections], the ldap module's
 * entries): begin() starts an ACL, add() gives it one key=value, finish()
 * checks the last ACL and builds the set's index.  The rules, and the
 * errors, are the file's; source names where an ACL comes from (a record
 * has no lines: line 0, and errors then say "source: ...").  shown is
 * the name errors give key (NULL: key itself).  All return false or NULL
 * with *error set; finish() frees b in any case. */
struct nu_acl_builder;
struct nu_acl_builder *nu_acl_builder_new(void);
bool nu_acl_builder_begin(struct nu_acl_builder *b, const char *name, const char *source,
			  unsigned line, GError **error);
bool nu_acl_builder_add(struct nu_acl_builder *b, const char *key, const char *shown,
			const char *value, unsigned line, GError **error);
struct nu_acl_set *nu_acl_builder_finish(struct nu_acl_builder *b, GError **error);
void nu_acl_builder_free(struct nu_acl_builder *b);
/* Has begin() started an ACL that keys go to? */
bool nu_acl_builder_in_acl(const struct nu_acl_builder *b);
/* The error of a reader of records at source:line ("source: why" when
 * line is 0), NU_CONF_ERROR_SYNTAX, as the builder words its own. */
void nu_acl_error(GError **error, const char *source, unsigned line, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);
/* How many ACLs set holds. */
unsigned nu_acl_count(const struct nu_acl_set *set);
/* NUAUTH_NEEDS_* for what the ACLs read from the client: the path when one
 * has App=, the path and SHA-256 when one has AppSHA256=. */
unsigned nu_acl_needs(const struct nu_acl_set *set);
/* Calls fn(acl name, period, where period= is ("file:line", or the
 * record's name), ctx) for each ACL that names a period, in file order,
 * until fn returns false; returns false then. */
typedef bool (*nu_acl_period_fn)(const char *acl, const char *period, const char *where,
				 void *ctx);
bool nu_acl_foreach_period(const struct nu_acl_set *set, nu_acl_period_fn fn, void *ctx);
/* The module hook check_periods on set: false, with an error naming the
 * ACL's place, at the first period known() does not know. */
bool nu_acl_check_periods(const struct nu_acl_set *set,
			  bool (*known)(const char *period, void *ctx), void *ctx, GError **error);

/* Appends to matches (struct nuauth_acl_match) every ACL, in file order,
 * that matches packet and user (by uid or one of its groups).  The strings
 * in the matches live as long as set.  Only the ACLs filed under the
 * packet's protocol and destination port and under the user's uid or
 * groups are checked (the index is built by nu_acl_builder_finish); set is only
 * read, so threads may share it. */
void nu_acl_match(const struct nu_acl_set *set, const struct nuauth_packet *packet,
		  const struct nuauth_user *user, GArray *matches);
/* The same result by checking every ACL in turn: the reference the tests
 * and bench/acl_bench compare nu_acl_match with. */
void nu_acl_match_linear(const struct nu_acl_set *set, const struct nuauth_packet *packet,
			 const struct nuauth_user *user, GArray *matches);

#endif
