/* The ACL engine's own types, shared by its files (acl_parse.c,
 * acl_index.c, acl_match.c, acl_set.c); users of the engine read acl.h. */
#ifndef NU_ACL_IMPL_H
#define NU_ACL_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <glib.h>

#include "acl.h"

/* SHA-256 digest length (AppSHA256=). */
#define NU_ACL_SHA256_LEN 32

struct net {
	struct in6_addr addr;	/* host bits cleared; IPv4 stored v4-mapped */
	unsigned plen;		/* over the 128-bit form (IPv4 /24 is 120) */
	bool v4;
};

struct port_range {
	uint16_t lo, hi;
};

struct os_match {
	char *sysname;
	char *release;		/* NULL: any */
	char *version;		/* NULL: any */
};

/* The key origin=: where the user's name comes from (module.h's
 * struct nuauth_user origin), one bit each, in nu_acl_origin_names' order. */
extern const char *const nu_acl_origin_names[5];
/* The bit of origin (a user's), 0 when unknown. */
unsigned nu_acl_origin_bit(const char *origin);

struct nu_acl {
	char *name;
	char *source;		/* the file, or the record (an LDAP entry's URL) */
	unsigned line;		/* of the [name] header; 0 in a record */
	GArray *uids, *gids;	/* uint32_t */
	GArray *protos;		/* uint8_t; empty means TCP */
	GArray *types;		/* uint8_t; empty means any */
	GArray *src, *dst;	/* struct net; empty means any */
	GArray *sports, *dports;	/* struct port_range; empty means any */
	GPtrArray *apps;	/* glob patterns; empty means any */
	GArray *app_sha256s;	/* uint8_t[NU_ACL_SHA256_LEN] each; empty means any */
	GPtrArray *oses;	/* struct os_match; empty means any */
	GPtrArray *indevs, *outdevs;	/* names; empty means any */
	GPtrArray *physindevs, *physoutdevs;	/* bridge port names; empty: any */
	GPtrArray *gateways;	/* certificate names; empty means any */
	enum nuauth_verdict decision;
	uint32_t flags;
	char *log_prefix;
	char *period;
	unsigned authquality;	/* enum nuauth_auth_quality: the least */
	unsigned origins;	/* NU_ACL_ORIGIN_* the user's name may come from; 0 any */
	/* Where the single-valued keys were set (0: not set; 1 in a record). */
	unsigned decision_line, flags_line, log_prefix_line, period_line, authquality_line;
	unsigned origin_line;
};

/* A sorted map from a 32-bit key to an ascending list of ACL numbers
 * (positions in nu_acl_set.acls, so file order). */
struct idx_map {
	uint32_t *keys;		/* ascending, nkeys of them */
	uint32_t *start;	/* nkeys + 1: keys[k] has items[start[k] .. start[k + 1]) */
	uint32_t *items;
	size_t nkeys;
};

struct nu_acl_set {
	GPtrArray *acls;	/* struct nu_acl (owned), file order */
	/* The index, built once the file is read (acl_index_build). */
	struct idx_map by_uid, by_gid;	/* principal -> ACLs naming it */
	struct idx_map by_port;		/* proto << 16 | DstPort -> TCP/UDP ACLs */
	struct idx_map by_proto;	/* proto -> the other ACLs of that protocol */
};

/* Where the value being parsed comes from. */
struct acl_ctx {
	const char *file;	/* or the record */
	unsigned line;		/* 0 in a record */
	const char *key;	/* as written (or the record's name for it) */
	const char *value;	/* as written (quotes removed) */
};

/* ACLs being read, from a file or from records (nu_acl_builder_*). */
struct nu_acl_builder {
	struct nu_acl_set *set;
	GHashTable *names;	/* name -> struct nu_acl in set */
	struct nu_acl *cur;	/* the ACL keys go to */
};


/* acl_parse.c: where acl, or its key set at line, is: "file:line" or the
 * record (to free). */
char *nu_acl_where(const struct nu_acl *acl, unsigned line);
/* acl_index.c: builds the set's index once its ACLs are read. */
void nu_acl_index_build(struct nu_acl_set *set);
void nu_acl_index_free(struct nu_acl_set *set);

#endif
