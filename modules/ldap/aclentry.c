/* LDAP entries to the plaintext module's ACL set (see aclentry.h). */
#include "config.h"
#include "aclentry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

struct nu_ldap_acl_entry {
	char *dn;
	char *source;		/* "ldap:///DN", where errors say the entry is */
	GPtrArray *attrs;	/* char *, one per value: the attribute's name */
	GPtrArray *values;	/* char *, parallel to attrs (NULL: held a NUL byte) */
	/* Filled by nu_ldap_acls_build. */
	const char *name;
	long order;
};

#define ATTR_PREFIX "nufwAcl"
#define ATTR_ORDER "nufwAclOrder"

static const struct {
	const char *attr;
	const char *key;	/* in acls.nufw */
} attr_keys[] = {
	{ "nufwAclUid", "uid" },
	{ "nufwAclGid", "gid" },
	{ "nufwAclProto", "proto" },
	{ "nufwAclType", "type" },
	{ "nufwAclSrcIP", "SrcIP" },
	{ "nufwAclDstIP", "DstIP" },
	{ "nufwAclSrcPort", "SrcPort" },
	{ "nufwAclDstPort", "DstPort" },
	{ "nufwAclApp", "App" },
	{ "nufwAclAppSHA256", "AppSHA256" },
	{ "nufwAclOS", "OS" },
	{ "nufwAclInDev", "indev" },
	{ "nufwAclOutDev", "outdev" },
	{ "nufwAclPhysInDev", "physindev" },
	{ "nufwAclPhysOutDev", "physoutdev" },
	{ "nufwAclGateway", "gateway" },
	{ "nufwAclAuthQuality", "authquality" },
	{ "nufwAclDecision", "decision" },
	{ "nufwAclFlags", "flags" },
	{ "nufwAclLogPrefix", "log_prefix" },
	{ "nufwAclPeriod", "period" },
};

struct nu_ldap_acl_entry *nu_ldap_acl_entry_new(const char *dn)
{
	struct nu_ldap_acl_entry *e = g_new0(struct nu_ldap_acl_entry, 1);

	e->dn = g_strdup(dn);
	e->source = g_strdup_printf("ldap:///%s", dn);
	e->attrs = g_ptr_array_new_with_free_func(g_free);
	e->values = g_ptr_array_new_with_free_func(g_free);
	return e;
}

void nu_ldap_acl_entry_free(void *p)
{
	struct nu_ldap_acl_entry *e = p;

	if (!e)
		return;
	g_free(e->dn);
	g_free(e->source);
	g_ptr_array_free(e->attrs, TRUE);
	g_ptr_array_free(e->values, TRUE);
	g_free(e);
}

void nu_ldap_acl_entry_add(struct nu_ldap_acl_entry *e, const char *attr, const char *value,
			   size_t len)
{
	g_ptr_array_add(e->attrs, g_strdup(attr));
	/* The ACL keys read C strings: a NUL inside would cut the value. */
	g_ptr_array_add(e->values, memchr(value, '\0', len) ? NULL : g_strndup(value, len));
}

static void entry_error(GError **error, const struct nu_ldap_acl_entry *e, const char *attr,
			const char *why)
{
	g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE, "%s: %s%s%s", e->source,
		    attr ? attr : "", attr ? ": " : "", why);
}

static const char *key_of(const char *attr)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(attr_keys); i++)
		if (g_ascii_strcasecmp(attr, attr_keys[i].attr) == 0)
			return attr_keys[i].key;
	return NULL;
}

/* Finds e's name (its first cn) and order, and checks what the ACL keys
 * do not: NUL bytes, unknown nufwAcl* attributes. */
static bool entry_scan(struct nu_ldap_acl_entry *e, GError **error)
{
	bool order_seen = false;

	e->name = NULL;
	e->order = 0;
	for (guint i = 0; i < e->attrs->len; i++) {
		const char *attr = g_ptr_array_index(e->attrs, i);
		const char *value = g_ptr_array_index(e->values, i);
		bool ours = g_ascii_strncasecmp(attr, ATTR_PREFIX, strlen(ATTR_PREFIX)) == 0;

		if (!ours && g_ascii_strcasecmp(attr, "cn") != 0)
			continue;
		if (!value) {
			entry_error(error, e, attr, "a value holds a NUL byte");
			return false;
		}
		if (!ours) {
			if (!e->name && *value)
				e->name = value;
		} else if (g_ascii_strcasecmp(attr, ATTR_ORDER) == 0) {
			char *end;

			errno = 0;
			e->order = strtol(value, &end, 10);
			if (order_seen || !*value || *end || errno ||
			    e->order < INT32_MIN || e->order > INT32_MAX) {
				char *why = g_strdup_printf("expected one integer, got `%s'", value);

				entry_error(error, e, attr, why);
				g_free(why);
				return false;
			}
			order_seen = true;
		} else if (!key_of(attr)) {
			entry_error(error, e, attr, "unknown attribute");
			return false;
		}
	}
	if (!e->name) {
		entry_error(error, e, NULL, "no cn to name the ACL");
		return false;
	}
	return true;
}

static int entry_cmp(gconstpointer a, gconstpointer b)
{
	const struct nu_ldap_acl_entry *x = *(void * const *)a, *y = *(void * const *)b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->dn, y->dn);
}

char *nu_ldap_acl_entries_digest(const GPtrArray *entries)
{
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	char *hex;

	/* Each string with its NUL, so that no two lists run together. */
	for (guint i = 0; i < entries->len; i++) {
		const struct nu_ldap_acl_entry *e = g_ptr_array_index(entries, i);

		g_checksum_update(sum, (const guchar *)e->dn, strlen(e->dn) + 1);
		for (guint j = 0; j < e->attrs->len; j++) {
			const char *attr = g_ptr_array_index(e->attrs, j);
			const char *value = g_ptr_array_index(e->values, j);

			g_checksum_update(sum, (const guchar *)attr, strlen(attr) + 1);
			if (value)
				g_checksum_update(sum, (const guchar *)value, strlen(value) + 1);
		}
		g_checksum_update(sum, (const guchar *)"\n", 1);
	}
	hex = g_strdup(g_checksum_get_string(sum));
	g_checksum_free(sum);
	return hex;
}

struct nu_acl_set *nu_ldap_acls_build(GPtrArray *entries, GError **error)
{
	struct nu_acl_builder *b;

	for (guint i = 0; i < entries->len; i++)
		if (!entry_scan(g_ptr_array_index(entries, i), error))
			return NULL;
	g_ptr_array_sort(entries, entry_cmp);
	b = nu_acl_builder_new();
	for (guint i = 0; i < entries->len; i++) {
		const struct nu_ldap_acl_entry *e = g_ptr_array_index(entries, i);

		if (!nu_acl_builder_begin(b, e->name, e->source, 0, error))
			goto fail;
		for (guint j = 0; j < e->attrs->len; j++) {
			const char *attr = g_ptr_array_index(e->attrs, j);
			const char *key = key_of(attr);

			if (key && !nu_acl_builder_add(b, key, attr,
						       g_ptr_array_index(e->values, j), 0, error))
				goto fail;
		}
	}
	return nu_acl_builder_finish(b, error);
fail:
	nu_acl_builder_free(b);
	return NULL;
}
