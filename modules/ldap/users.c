/* Users and groups from the directory (see users.h). */
#include "config.h"
#include "users.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "log.h"
#include "userpassword.h"

/* Longer names are nobody's; it also bounds the filters we build. */
#define NAME_MAX_LEN 256
/* Groups read for one user at most. */
#define GROUPS_MAX 4096

struct lookup {
	const struct nu_ldap_conf *conf;
	const char *user;
	const char *password;		/* NULL: no password check */
	size_t password_len;
	bool name_only;			/* the entry's uid only: no groups */
	/* results */
	enum nuauth_user_status status;
	uint32_t uid;
	GArray *groups;			/* guint32 */
	char *why;			/* when status is NUAUTH_USER_ERROR */
	char *canonical;		/* the entry's uid as the directory spells it */
};

/* The last user this thread looked up, and the entry's uid: nuauth asks
 * for the spelling (canonical_name) right after a check, on the same
 * thread, which then costs no second search. */
static _Thread_local struct {
	const struct nu_ldap_conf *conf;
	char user[NAME_MAX_LEN + 1];
	char canonical[NAME_MAX_LEN + 1];
} last;

/* Of the entry's uid values, the one the user typed (the filter matched it
 * without regard to case, as uid's syntax says), else the first. */
static char *entry_uid(struct berval **vals, const char *user)
{
	size_t n = strlen(user);

	if (!vals || !vals[0])
		return NULL;
	for (size_t i = 0; vals[i]; i++)
		if (vals[i]->bv_len == n && g_ascii_strncasecmp(vals[i]->bv_val, user, n) == 0)
			return g_strndup(vals[i]->bv_val, vals[i]->bv_len);
	return g_strndup(vals[0]->bv_val, vals[0]->bv_len);
}

static void set_error(struct lookup *lk, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void set_error(struct lookup *lk, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_free(lk->why);
	lk->why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	lk->status = NUAUTH_USER_ERROR;
}

/* The single value of attr in entry as an unsigned 32-bit number. */
static bool get_u32(LDAP *ld, LDAPMessage *entry, const char *attr, uint32_t *out)
{
	struct berval **vals = ldap_get_values_len(ld, entry, attr);
	bool ok = false;

	if (vals && vals[0] && !vals[1] && vals[0]->bv_len > 0 && vals[0]->bv_len < 11) {
		char buf[12];
		char *end;
		unsigned long long v;

		memcpy(buf, vals[0]->bv_val, vals[0]->bv_len);
		buf[vals[0]->bv_len] = '\0';
		errno = 0;
		v = strtoull(buf, &end, 10);
		ok = buf[0] >= '0' && buf[0] <= '9' && !*end && !errno && v <= UINT32_MAX;
		*out = (uint32_t)v;
	}
	ldap_value_free_len(vals);
	return ok;
}

static void add_group(GArray *groups, uint32_t gid)
{
	for (guint i = 0; i < groups->len; i++)
		if (g_array_index(groups, guint32, i) == gid)
			return;
	g_array_append_val(groups, gid);
}

/* The groups the user (login name, DN) is a member of. */
static int search_groups(LDAP *ld, struct lookup *lk, const char *login, const char *dn)
{
	const struct nu_ldap_conf *conf = lk->conf;
	char *attrs[] = { "gidNumber", NULL };
	struct timeval tv = { (time_t)conf->request_timeout, 0 };
	LDAPMessage *res = NULL;
	char *filter;
	int rc;

	if (!*conf->groups_base_dn)
		return LDAP_SUCCESS;
	filter = nu_ldap_filter_expand(conf->group_filter, login, dn);
	rc = ldap_search_ext_s(ld, conf->groups_base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
			       NULL, NULL, &tv, GROUPS_MAX, &res);
	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED) {
		if (rc == LDAP_SIZELIMIT_EXCEEDED)
			log_warnx("ldap: user `%s' is in more than %d groups: the first kept",
				  lk->user, GROUPS_MAX);
		for (LDAPMessage *e = ldap_first_entry(ld, res); e; e = ldap_next_entry(ld, e)) {
			uint32_t gid;

			if (get_u32(ld, e, "gidNumber", &gid))
				add_group(lk->groups, gid);
		}
		rc = LDAP_SUCCESS;
	} else if (rc == LDAP_NO_SUCH_OBJECT) {
		set_error(lk, "ldap_groups_base_dn `%s' does not exist", conf->groups_base_dn);
		rc = LDAP_SUCCESS;
	}
	ldap_msgfree(res);
	g_free(filter);
	return rc;
}

static enum nuauth_user_status check_bind(LDAP *ld, bool *rebind, struct lookup *lk,
					  const char *dn, int *rc)
{
	/* Whatever the outcome, the connection is no longer the service's. */
	*rebind = true;
	*rc = nu_ldap_simple_bind(ld, dn, lk->password, lk->password_len,
				  lk->conf->request_timeout);
	if (*rc == LDAP_SUCCESS)
		return NUAUTH_USER_OK;
	if (*rc == LDAP_INVALID_CREDENTIALS) {
		*rc = LDAP_SUCCESS;
		return NUAUTH_USER_BAD_PASSWORD;
	}
	if (nu_ldap_rc_is_link_error(*rc))
		return NUAUTH_USER_ERROR;
	/* e.g. a locked account, or an entry without a password */
	log_info("ldap: user `%s': the directory refused the bind as %s: %s", lk->user, dn,
		 ldap_err2string(*rc));
	*rc = LDAP_SUCCESS;
	return NUAUTH_USER_BAD_PASSWORD;
}

/* The last userPassword value check_compare read (any user's): an
 * unknown name's password is compared with it, for the time only. */
static GMutex decoy_lock;
static char *decoy_pw;
static size_t decoy_len;

static void keep_decoy(const struct berval *v)
{
	g_mutex_lock(&decoy_lock);
	if (decoy_pw)
		explicit_bzero(decoy_pw, decoy_len);
	g_free(decoy_pw);
	decoy_pw = g_memdup2(v->bv_val, v->bv_len);
	decoy_len = v->bv_len;
	g_mutex_unlock(&decoy_lock);
}

void nu_ldap_users_forget(void)
{
	g_mutex_lock(&decoy_lock);
	if (decoy_pw)
		explicit_bzero(decoy_pw, decoy_len);
	g_clear_pointer(&decoy_pw, g_free);
	decoy_len = 0;
	g_mutex_unlock(&decoy_lock);
}

static enum nuauth_user_status check_compare(LDAP *ld, LDAPMessage *entry, struct lookup *lk)
{
	struct berval **vals = ldap_get_values_len(ld, entry, "userPassword");
	enum nuauth_user_status st = NUAUTH_USER_BAD_PASSWORD;

	if (vals && vals[0])
		keep_decoy(vals[0]);

	if (!vals)
		log_info("ldap: user `%s': no userPassword that %s may read", lk->user,
			 *lk->conf->bind_dn ? lk->conf->bind_dn : "an anonymous client");
	for (size_t i = 0; vals && vals[i] && st != NUAUTH_USER_OK; i++) {
		switch (nu_ldap_userpassword_check(vals[i]->bv_val, vals[i]->bv_len,
						   lk->password, lk->password_len)) {
		case NU_LDAP_PW_MATCH:
			st = NUAUTH_USER_OK;
			break;
		case NU_LDAP_PW_UNSUPPORTED:
			log_info("ldap: user `%s': a userPassword in a scheme not supported here",
				 lk->user);
			break;
		case NU_LDAP_PW_MISMATCH:
			break;
		}
	}
	ldap_value_free_len(vals);
	return st;
}

/* A password for a name the directory does not know: the requests a
 * known name's check makes (its groups, then the bind or the comparison),
 * their answers thrown away, so that the time tells less about which names
 * exist (doc/security.md says what it still tells).  Returns an LDAP
 * result code: only a broken link is not LDAP_SUCCESS. */
static int decoy_check(LDAP *ld, bool *rebind, struct lookup *lk)
{
	const struct nu_ldap_conf *conf = lk->conf;
	char *dn = g_strconcat("cn=nuauth-no-such-user,", conf->users_base_dn, NULL);
	int rc = search_groups(ld, lk, lk->user, dn);

	g_clear_pointer(&lk->why, g_free);
	g_array_set_size(lk->groups, 0);
	if (rc == LDAP_SUCCESS && conf->password_check == NU_LDAP_CHECK_BIND) {
		/* No such entry: slapd answers invalidCredentials. */
		*rebind = true;
		rc = nu_ldap_simple_bind(ld, dn, lk->password, lk->password_len,
					 conf->request_timeout);
		if (!nu_ldap_rc_is_link_error(rc))
			rc = LDAP_SUCCESS;
	} else if (rc == LDAP_SUCCESS) {
		char *pw;
		size_t len;

		g_mutex_lock(&decoy_lock);
		pw = decoy_pw ? g_memdup2(decoy_pw, decoy_len) : NULL;
		len = decoy_len;
		g_mutex_unlock(&decoy_lock);
		if (pw) {
			(void)nu_ldap_userpassword_check(pw, len, lk->password, lk->password_len);
			explicit_bzero(pw, len);
			g_free(pw);
		}
	}
	g_free(dn);
	lk->status = NUAUTH_USER_UNKNOWN;
	return rc;
}

/* The whole look-up on one connection (a nu_ldap_op). */
static int lookup_op(LDAP *ld, bool *rebind, void *ctx)
{
	struct lookup *lk = ctx;
	const struct nu_ldap_conf *conf = lk->conf;
	char *attrs[] = { "uidNumber", "gidNumber", "uid", NULL, NULL };
	struct timeval tv = { (time_t)conf->request_timeout, 0 };
	LDAPMessage *res = NULL, *entry;
	struct berval **login_vals = NULL;
	char *filter, *dn = NULL, *login = NULL;
	uint32_t gid;
	int rc;

	/* Run again from the start on a new connection after a failure. */
	g_array_set_size(lk->groups, 0);
	g_clear_pointer(&lk->why, g_free);
	lk->status = NUAUTH_USER_ERROR;
	if (lk->password && conf->password_check == NU_LDAP_CHECK_COMPARE)
		attrs[3] = "userPassword";
	filter = nu_ldap_filter_expand(conf->user_filter, lk->user, NULL);
	rc = ldap_search_ext_s(ld, conf->users_base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
			       NULL, NULL, &tv, 2, &res);
	if (rc == LDAP_SIZELIMIT_EXCEEDED) {
		set_error(lk, "filter %s matches several entries: refused", filter);
		rc = LDAP_SUCCESS;
		goto out;
	}
	if (rc == LDAP_NO_SUCH_OBJECT) {
		set_error(lk, "ldap_users_base_dn `%s' does not exist", conf->users_base_dn);
		rc = LDAP_SUCCESS;
		goto out;
	}
	if (rc != LDAP_SUCCESS)
		goto out;
	if (ldap_count_entries(ld, res) == 0) {
		lk->status = NUAUTH_USER_UNKNOWN;
		if (lk->password)
			rc = decoy_check(ld, rebind, lk);
		goto out;
	}
	entry = ldap_first_entry(ld, res);
	dn = ldap_get_dn(ld, entry);
	if (!dn || !get_u32(ld, entry, "uidNumber", &lk->uid)) {
		set_error(lk, "entry %s has no single uidNumber", dn ? dn : "(no DN)");
		goto out;
	}
	if (get_u32(ld, entry, "gidNumber", &gid))
		add_group(lk->groups, gid);
	/* memberUid holds the entry's uid as written there. */
	login_vals = ldap_get_values_len(ld, entry, "uid");
	login = login_vals && login_vals[0] ? g_strndup(login_vals[0]->bv_val, login_vals[0]->bv_len)
					    : g_strdup(lk->user);
	g_free(lk->canonical);
	lk->canonical = entry_uid(login_vals, lk->user);
	if (lk->name_only) {
		lk->status = NUAUTH_USER_OK;
		goto out;
	}
	rc = search_groups(ld, lk, login, dn);
	if (rc != LDAP_SUCCESS || lk->why)
		goto out;
	if (!lk->password)
		lk->status = NUAUTH_USER_OK;
	else if (conf->password_check == NU_LDAP_CHECK_BIND)
		lk->status = check_bind(ld, rebind, lk, dn, &rc);
	else
		lk->status = check_compare(ld, entry, lk);
out:
	if (rc != LDAP_SUCCESS)
		lk->status = NUAUTH_USER_ERROR;
	ldap_value_free_len(login_vals);
	g_free(login);
	ldap_memfree(dn);
	ldap_msgfree(res);
	g_free(filter);
	return rc;
}

static enum nuauth_user_status lookup(const struct nu_ldap_conf *conf, struct nu_ldap_pool *pool,
				      const char *user, const char *password, size_t password_len,
				      uint32_t *uid, GArray *groups)
{
	struct lookup lk = { .conf = conf, .user = user, .password = password,
			     .password_len = password_len, .status = NUAUTH_USER_ERROR };
	size_t len = strlen(user);
	gint64 start = g_get_monotonic_time();
	int rc;

	if (len == 0 || len > NAME_MAX_LEN)
		return NUAUTH_USER_UNKNOWN;
	/* A simple bind with an empty password is an anonymous bind, which
	 * succeeds (RFC 4513 5.1.2): never let it stand for a login. */
	if (password && password_len == 0)
		return NUAUTH_USER_BAD_PASSWORD;
	lk.groups = g_array_new(FALSE, FALSE, sizeof(guint32));
	rc = nu_ldap_pool_run(pool, lookup_op, &lk);
	if (rc != LDAP_SUCCESS) {
		log_warnx("ldap: user `%s': %s: %s", user, conf->uri, ldap_err2string(rc));
		lk.status = NUAUTH_USER_ERROR;
	} else if (lk.status == NUAUTH_USER_ERROR) {
		log_warnx("ldap: user `%s': %s", user, lk.why ? lk.why : "lookup failed");
	}
	log_debug("ldap: user `%s': %s in %.1f ms", user,
		  lk.status == NUAUTH_USER_OK ? "ok" :
		  lk.status == NUAUTH_USER_UNKNOWN ? "unknown" :
		  lk.status == NUAUTH_USER_BAD_PASSWORD ? "bad password" : "error",
		  (double)(g_get_monotonic_time() - start) / 1000.0);
	if (lk.status == NUAUTH_USER_OK) {
		*uid = lk.uid;
		if (groups)
			g_array_append_vals(groups, lk.groups->data, lk.groups->len);
	}
	last.conf = NULL;
	if ((lk.status == NUAUTH_USER_OK || lk.status == NUAUTH_USER_BAD_PASSWORD) &&
	    lk.canonical && strlen(lk.canonical) <= NAME_MAX_LEN) {
		last.conf = conf;
		g_strlcpy(last.user, user, sizeof(last.user));
		g_strlcpy(last.canonical, lk.canonical, sizeof(last.canonical));
	}
	g_array_unref(lk.groups);
	g_free(lk.why);
	g_free(lk.canonical);
	return lk.status;
}

bool nu_ldap_user_name(const struct nu_ldap_conf *conf, struct nu_ldap_pool *pool,
		       const char *user, char *name, size_t cap)
{
	if (last.conf != conf || strcmp(last.user, user) != 0) {
		struct lookup lk = { .conf = conf, .user = user, .name_only = true };

		if (!*user || strlen(user) > NAME_MAX_LEN)
			return false;
		lk.groups = g_array_new(FALSE, FALSE, sizeof(guint32));
		lk.status = NUAUTH_USER_ERROR;
		if (nu_ldap_pool_run(pool, lookup_op, &lk) == LDAP_SUCCESS &&
		    lk.status == NUAUTH_USER_OK && lk.canonical &&
		    strlen(lk.canonical) <= NAME_MAX_LEN) {
			last.conf = conf;
			g_strlcpy(last.user, user, sizeof(last.user));
			g_strlcpy(last.canonical, lk.canonical, sizeof(last.canonical));
		}
		g_array_unref(lk.groups);
		g_free(lk.why);
		g_free(lk.canonical);
		if (last.conf != conf || strcmp(last.user, user) != 0)
			return false;
	}
	return g_strlcpy(name, last.canonical, cap) < cap;
}

enum nuauth_user_status nu_ldap_user_check(const struct nu_ldap_conf *conf,
					   struct nu_ldap_pool *pool, const char *user,
					   const char *password, size_t password_len,
					   uint32_t *uid, GArray *groups)
{
	return lookup(conf, pool, user, password ? password : "", password ? password_len : 0,
		      uid, groups);
}

enum nuauth_user_status nu_ldap_user_groups(const struct nu_ldap_conf *conf,
					    struct nu_ldap_pool *pool, const char *user,
					    uint32_t *uid, GArray *groups)
{
	return lookup(conf, pool, user, NULL, 0, uid, groups);
}
