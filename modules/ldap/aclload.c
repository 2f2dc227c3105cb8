/* ACL entries from the directory (see aclload.h). */
#include "config.h"
#include "aclload.h"

#include <string.h>
#include <ldap.h>

#include "aclentry.h"
#include "conf.h"

#define ACL_FILTER "(objectClass=nufwAcl)"
/* Entries per page of the paged search (RFC 2696): below slapd's default
 * size limit (500), so that any number of ACLs can be read. */
#define PAGE_SIZE 250

struct acl_search {
	const struct nu_ldap_conf *conf;
	GPtrArray *entries;		/* struct nu_ldap_acl_entry */
	char *why;			/* the server's diagnostic message */
};

static void take_entry(LDAP *ld, LDAPMessage *msg, GPtrArray *entries)
{
	char *dn = ldap_get_dn(ld, msg);
	struct nu_ldap_acl_entry *e = nu_ldap_acl_entry_new(dn ? dn : "");
	BerElement *ber = NULL;

	for (char *attr = ldap_first_attribute(ld, msg, &ber); attr;
	     attr = ldap_next_attribute(ld, msg, ber)) {
		struct berval **vals = ldap_get_values_len(ld, msg, attr);

		for (size_t i = 0; vals && vals[i]; i++)
			nu_ldap_acl_entry_add(e, attr, vals[i]->bv_val, vals[i]->bv_len);
		ldap_value_free_len(vals);
		ldap_memfree(attr);
	}
	ber_free(ber, 0);
	ldap_memfree(dn);
	g_ptr_array_add(entries, e);
}

/* One page: its entries go to s->entries, *cookie says where the next
 * one starts (empty: this was the last). */
static int search_page(LDAP *ld, struct acl_search *s, struct berval *cookie)
{
	struct timeval tv = { (time_t)s->conf->request_timeout, 0 };
	LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL }, **resp = NULL, *pr;
	LDAPMessage *res = NULL;
	char *msg = NULL;
	ber_int_t total;
	int rc, err = LDAP_SUCCESS;

	/* Not critical: a server without paging answers in one go. */
	rc = ldap_create_page_control(ld, PAGE_SIZE, cookie, 0, &page);
	if (rc != LDAP_SUCCESS)
		return rc;
	ctrls[0] = page;
	rc = ldap_search_ext_s(ld, s->conf->acls_base_dn, LDAP_SCOPE_SUBTREE, ACL_FILTER, NULL, 0,
			       ctrls, NULL, &tv, LDAP_NO_LIMIT, &res);
	ldap_control_free(page);
	ber_memfree(cookie->bv_val);
	cookie->bv_val = NULL;
	cookie->bv_len = 0;
	if (res && ldap_parse_result(ld, res, &err, NULL, &msg, NULL, &resp, 0) == LDAP_SUCCESS &&
	    msg && *msg) {
		g_free(s->why);
		s->why = g_strdup(msg);
	}
	if (rc == LDAP_SUCCESS) {
		for (LDAPMessage *m = ldap_first_entry(ld, res); m; m = ldap_next_entry(ld, m))
			take_entry(ld, m, s->entries);
		if ((pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, resp, NULL)))
			rc = ldap_parse_pageresponse_control(ld, pr, &total, cookie);
	}
	ldap_controls_free(resp);
	ldap_memfree(msg);
	ldap_msgfree(res);
	return rc;
}

/* The whole search on one connection (a nu_ldap_op). */
static int search_op(LDAP *ld, bool *rebind, void *ctx)
{
	struct acl_search *s = ctx;
	struct berval cookie = { 0, NULL };
	int rc;

	(void)rebind;
	/* Run again from the start on a new connection after a failure. */
	g_ptr_array_set_size(s->entries, 0);
	g_clear_pointer(&s->why, g_free);
	do
		rc = search_page(ld, s, &cookie);
	while (rc == LDAP_SUCCESS && cookie.bv_len > 0);
	ber_memfree(cookie.bv_val);
	return rc;
}

struct nu_acl_set *nu_ldap_acls_load(const struct nu_ldap_conf *conf, struct nu_ldap_pool *pool,
				     char **digest, GError **error)
{
	struct acl_search s = { .conf = conf };
	struct nu_acl_set *set = NULL;
	int rc;

	s.entries = g_ptr_array_new_with_free_func(nu_ldap_acl_entry_free);
	rc = nu_ldap_pool_run(pool, search_op, &s);
	if (rc == LDAP_NO_SUCH_OBJECT)
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "ldap: ldap_acls_base_dn `%s' does not exist on %s",
			    conf->acls_base_dn, conf->uri);
	else if (rc == LDAP_SIZELIMIT_EXCEEDED && *conf->bind_dn)
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "ldap: %s: more ACLs under %s than the directory lets %s read "
			    "(with slapd: limits dn.exact=\"%s\" size.prtotal=unlimited)",
			    conf->uri, conf->acls_base_dn, conf->bind_dn, conf->bind_dn);
	else if (rc == LDAP_SIZELIMIT_EXCEEDED)
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "ldap: %s: more ACLs under %s than the directory lets an anonymous "
			    "client read (with slapd: limits anonymous size.prtotal=unlimited)",
			    conf->uri, conf->acls_base_dn);
	else if (rc != LDAP_SUCCESS)
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO,
			    "ldap: cannot read the ACLs under %s from %s: %s%s%s",
			    conf->acls_base_dn, conf->uri, ldap_err2string(rc),
			    s.why ? ": " : "", s.why ? s.why : "");
	else if ((set = nu_ldap_acls_build(s.entries, error)) && digest)
		*digest = nu_ldap_acl_entries_digest(s.entries);
	g_ptr_array_free(s.entries, TRUE);
	g_free(s.why);
	return set;
}
