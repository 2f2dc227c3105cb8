/* Unit tests for the ldap module's filter escaping, configuration keys,
 * userPassword checks and ACL entries (modules/ldap/filter.c, ldapconf.c,
 * userpassword.c, aclentry.c with the plaintext module's acl.c). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "aclentry.h"
#include "aclfile.h"
#include "conf.h"
#include "filter.h"
#include "ldapconf.h"
#include "userpassword.h"
#include "unit.h"

static bool escapes_to(const char *value, size_t len, const char *want)
{
	char *got = nu_ldap_filter_escape(value, len);
	bool ok = strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "escape: want %s, got %s\n", want, got);
	g_free(got);
	return ok;
}

static bool expands_to(const char *tmpl, const char *user, const char *dn, const char *want)
{
	char *got = nu_ldap_filter_expand(tmpl, user, dn);
	bool ok = strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "expand: want %s, got %s\n", want, got);
	g_free(got);
	return ok;
}

static bool template_refused(const char *tmpl, bool allow_dn, const char *why_part)
{
	char *why = NULL;
	bool ok = !nu_ldap_filter_template_ok(tmpl, allow_dn, &why) && why &&
		  strstr(why, why_part);

	if (!ok)
		fprintf(stderr, "template %s: want `%s' in %s\n", tmpl, why_part, why ? why : "(none)");
	g_free(why);
	return ok;
}

static void test_filters(void)
{
	/* RFC 4515: the five characters a value must not carry as they are. */
	CHECK(escapes_to("alice", 5, "alice"));
	CHECK(escapes_to("*", 1, "\\2a"));
	CHECK(escapes_to("al*", 3, "al\\2a"));
	CHECK(escapes_to("a)(uid=*", 8, "a\\29\\28uid=\\2a"));
	CHECK(escapes_to("back\\slash", 10, "back\\5cslash"));
	CHECK(escapes_to("\\2a", 3, "\\5c2a"));
	CHECK(escapes_to("a\0b", 3, "a\\00b"));
	CHECK(escapes_to("", 0, ""));
	/* UTF-8 passes as it is. */
	CHECK(escapes_to("j\xc3\xa9r\xc3\xb4me", 8, "j\xc3\xa9r\xc3\xb4me"));
	/* Every byte of a random value: no metacharacter survives. */
	for (int round = 0; round < 1000; round++) {
		char value[32];
		size_t len = (size_t)g_random_int_range(0, (int)sizeof(value));
		char *out;

		for (size_t i = 0; i < len; i++)
			value[i] = (char)g_random_int_range(0, 256);
		out = nu_ldap_filter_escape(value, len);
		CHECK(!strpbrk(out, "*()"));
		for (const char *p = strchr(out, '\\'); p; p = strchr(p + 1, '\\'))
			CHECK(g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2]));
		g_free(out);
	}

	CHECK(expands_to("(uid=%u)", "al*", NULL, "(uid=al\\2a)"));
	CHECK(expands_to("(&(objectClass=posixAccount)(uid=%u))", "a)(uid=*", NULL,
			 "(&(objectClass=posixAccount)(uid=a\\29\\28uid=\\2a))"));
	CHECK(expands_to("(|(memberUid=%u)(member=%d))", "bob", "uid=bob,ou=people,dc=x",
			 "(|(memberUid=bob)(member=uid=bob,ou=people,dc=x))"));
	CHECK(expands_to("(member=%d)", "bob", "cn=a\\2a(b),dc=x", "(member=cn=a\\5c2a\\28b\\29,dc=x)"));
	CHECK(expands_to("(cn=100%%)", "x", NULL, "(cn=100%)"));

	char *why = NULL;
	CHECK(nu_ldap_filter_template_ok("(uid=%u)", false, &why));
	CHECK(nu_ldap_filter_template_ok("(|(memberUid=%u)(member=%d))", true, &why));
	CHECK(why == NULL);
	CHECK(template_refused("uid=%u", false, "not in parentheses"));
	CHECK(template_refused("(uid=%x)", false, "unknown placeholder `%x'"));
	CHECK(template_refused("(member=%d)", false, "unknown placeholder `%d'"));
	CHECK(template_refused("(uid=%u)%", false, "not in parentheses"));
	CHECK(template_refused("(uid=%)", false, "unknown placeholder `%)'"));
	CHECK(template_refused("(uid=%u))(x)", false, "unbalanced"));
	CHECK(template_refused("((uid=%u)", false, "unbalanced"));
}

static char *tmpdir;

/* Reads the ldap keys from text; returns the error message or NULL. */
static char *read_conf(const char *text, struct nu_ldap_conf *out, char **path_out)
{
	char *path = g_build_filename(tmpdir, "nuauth.conf", NULL);
	GError *error = NULL;
	struct nu_conf *conf;
	char *msg = NULL;

	if (!g_file_set_contents(path, text, -1, NULL))
		g_error("cannot write %s", path);
	conf = nu_conf_load(path, &error);
	if (conf && !nu_ldap_conf_read(conf, out, &error))
		msg = g_strdup(error->message);
	else if (!conf)
		msg = g_strdup(error->message);
	g_clear_error(&error);
	nu_conf_free(conf);
	if (path_out)
		*path_out = path;
	else
		g_free(path);
	return msg;
}

static bool conf_fails(const char *text, const char *want_suffix)
{
	struct nu_ldap_conf c;
	char *path = NULL;
	char *msg = read_conf(text, &c, &path);
	char *want = g_strdup_printf("%s:%s", path, want_suffix);
	bool ok = msg && strcmp(msg, want) == 0;

	if (!ok)
		fprintf(stderr, "want: %s\n got: %s\n", want, msg ? msg : "(no error)");
	if (!msg)
		nu_ldap_conf_clear(&c);
	g_free(want);
	g_free(msg);
	g_free(path);
	return ok;
}

static void test_conf(void)
{
	struct nu_ldap_conf c;
	char *msg;

	/* Defaults, and the URI made of NuFW's address and port keys. */
	msg = read_conf("ldap_base_dn=\"dc=example,dc=org\"\n", &c, NULL);
	CHECK(msg == NULL);
	if (!msg) {
		CHECK(strcmp(c.uri, "ldap://127.0.0.1:389") == 0);
		CHECK(strcmp(c.users_base_dn, "dc=example,dc=org") == 0);
		CHECK(strcmp(c.groups_base_dn, "dc=example,dc=org") == 0);
		CHECK(strcmp(c.acls_base_dn, "") == 0 && c.acls_refresh == 0);
		CHECK(strcmp(c.bind_dn, "") == 0);
		CHECK(strcmp(c.user_filter, "(&(objectClass=posixAccount)(uid=%u))") == 0);
		CHECK(strstr(c.group_filter, "(memberUid=%u)") && strstr(c.group_filter, "(member=%d)"));
		CHECK(c.password_check == NU_LDAP_CHECK_BIND);
		CHECK(c.request_timeout == 3 && c.network_timeout == 2 && c.pool_size == 4);
		nu_ldap_conf_clear(&c);
	}
	g_free(msg);

	msg = read_conf("ldap_server_addr=\"ldap.example.org\"\nldap_server_port=1389\n"
			"ldap_users_base_dn=\"ou=people,dc=x\"\nldap_groups_base_dn=\"ou=groups,dc=x\"\n"
			"ldap_bind_dn=\"cn=nuauth,dc=x\"\nldap_bind_password=\"s3cret\"\n"
			"ldap_password_check=compare\nldap_request_timeout=10\n"
			"ldap_network_timeout=5\nldap_pool_size=8\n"
			"ldap_user_filter=\"(&(objectClass=inetOrgPerson)(mail=%u))\"\n", &c, NULL);
	CHECK(msg == NULL);
	if (!msg) {
		CHECK(strcmp(c.uri, "ldap://ldap.example.org:1389") == 0);
		CHECK(strcmp(c.users_base_dn, "ou=people,dc=x") == 0);
		CHECK(strcmp(c.groups_base_dn, "ou=groups,dc=x") == 0);
		CHECK(strcmp(c.bind_dn, "cn=nuauth,dc=x") == 0);
		CHECK(strcmp(c.bind_password, "s3cret") == 0);
		CHECK(c.password_check == NU_LDAP_CHECK_COMPARE);
		CHECK(c.request_timeout == 10 && c.network_timeout == 5 && c.pool_size == 8);
		CHECK(strcmp(c.user_filter, "(&(objectClass=inetOrgPerson)(mail=%u))") == 0);
		nu_ldap_conf_clear(&c);
	}
	g_free(msg);

	/* An IPv6 address in brackets; ldap_uri wins over address and port. */
	msg = read_conf("ldap_base_dn=\"dc=x\"\nldap_server_addr=\"fd00::1\"\n", &c, NULL);
	CHECK(msg == NULL);
	if (!msg) {
		CHECK(strcmp(c.uri, "ldap://[fd00::1]:389") == 0);
		nu_ldap_conf_clear(&c);
	}
	g_free(msg);
	msg = read_conf("ldap_base_dn=\"dc=x\"\nldap_server_addr=\"h\"\n"
			"ldap_uri=\"ldapi://%2Frun%2Fslapd%2Fldapi ldaps://backup.example.org\"\n",
			&c, NULL);
	CHECK(msg == NULL);
	if (!msg) {
		CHECK(strcmp(c.uri, "ldapi://%2Frun%2Fslapd%2Fldapi ldaps://backup.example.org") == 0);
		nu_ldap_conf_clear(&c);
	}
	g_free(msg);

	/* Errors name file:line and the key. */
	CHECK(conf_fails("ldap_base_dn=\"dc=x\"\nldap_uri=\"http://x/\"\n",
			 "2: ldap_uri: `http://x/' is not a list of ldap://, ldaps:// or ldapi:// URIs"));
	CHECK(conf_fails("ldap_base_dn=\"dc=x\"\nldap_uri=\"  \"\n",
			 "2: ldap_uri: `  ' is not a list of ldap://, ldaps:// or ldapi:// URIs"));
	CHECK(conf_fails("ldap_base_dn=\"dc=x\"\n\nldap_password_check=guess\n",
			 "3: ldap_password_check: `guess': expected bind or compare"));
	CHECK(conf_fails("ldap_base_dn=\"dc=x\"\nldap_user_filter=\"(uid=%s)\"\n",
			 "2: ldap_user_filter: filter `(uid=%s)': unknown placeholder `%s' (%u or %%)"));
	CHECK(conf_fails("ldap_base_dn=\"dc=x\"\nldap_group_filter=\"memberUid=%u\"\n",
			 "2: ldap_group_filter: filter `memberUid=%u' is not in parentheses"));
	CHECK(conf_fails("ldap_base_dn=\"dc=x\"\nldap_bind_password=\"pw\"\n",
			 "2: ldap_bind_password: set without ldap_bind_dn"));
	CHECK(conf_fails("ldap_base_dn=\"dc=x\"\nldap_acls_refresh=60\n",
			 "2: ldap_acls_refresh: set without ldap_acls_base_dn"));
	msg = read_conf("ldap_base_dn=\"dc=x\"\nldap_acls_base_dn=\"ou=acls,dc=x\"\n"
			"ldap_acls_refresh=60\n", &c, NULL);
	CHECK(msg == NULL);
	if (!msg) {
		CHECK(strcmp(c.acls_base_dn, "ou=acls,dc=x") == 0 && c.acls_refresh == 60);
		nu_ldap_conf_clear(&c);
	}
	g_free(msg);
	CHECK(conf_fails("ldap_base_dn=\"dc=x\"\nldap_server_addr=\"a b\"\n",
			 "2: ldap_server_addr: `a b' is not a host name or address"));
	/* nu_conf_get_int's own messages for numbers */
	msg = read_conf("ldap_base_dn=\"dc=x\"\nldap_pool_size=0\n", &c, NULL);
	CHECK(msg && strstr(msg, ":2: ") && strstr(msg, "ldap_pool_size"));
	g_free(msg);
	msg = read_conf("ldap_base_dn=\"dc=x\"\nldap_request_timeout=soon\n", &c, NULL);
	CHECK(msg && strstr(msg, ":2: ") && strstr(msg, "ldap_request_timeout"));
	g_free(msg);
	msg = read_conf("ldap_base_dn=\"dc=x\"\nldap_server_port=70000\n", &c, NULL);
	CHECK(msg && strstr(msg, ":2: ") && strstr(msg, "ldap_server_port"));
	g_free(msg);
	/* No base at all. */
	msg = read_conf("ldap_bind_dn=\"cn=x\"\n", &c, NULL);
	CHECK(msg && strcmp(msg, "ldap: neither ldap_users_base_dn nor ldap_base_dn is set") == 0);
	g_free(msg);
}

static enum nu_ldap_pw_result pw(const char *stored, const char *password)
{
	return nu_ldap_userpassword_check(stored, strlen(stored), password, strlen(password));
}

static void test_userpassword(void)
{
	/* Values made by slappasswd (-h {SSHA}, {SHA}, {SMD5}, {MD5}) for "secret". */
	CHECK(pw("{SSHA}cSu/SAk/xh8NL6EracSoHt83CWJADCqI", "secret") == NU_LDAP_PW_MATCH);
	CHECK(pw("{SSHA}cSu/SAk/xh8NL6EracSoHt83CWJADCqI", "secreT") == NU_LDAP_PW_MISMATCH);
	CHECK(pw("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret") == NU_LDAP_PW_MATCH);
	CHECK(pw("{sha}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret") == NU_LDAP_PW_MATCH);
	CHECK(pw("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "") == NU_LDAP_PW_MISMATCH);
	CHECK(pw("{SMD5}vlCeApHp3bRjhJAfY/8V6JBhDlE=", "secret") == NU_LDAP_PW_MATCH);
	CHECK(pw("{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", "secret") == NU_LDAP_PW_MATCH);
	CHECK(pw("{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", "Secret") == NU_LDAP_PW_MISMATCH);
	/* crypt(3): sha512-crypt of "secret" with salt "saltsalt". */
	CHECK(pw("{CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
		 "secret") == NU_LDAP_PW_MATCH);
	CHECK(pw("{CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
		 "secret2") == NU_LDAP_PW_MISMATCH);
	CHECK(pw("{CRYPT}$unknown$x", "secret") == NU_LDAP_PW_UNSUPPORTED);
	/* In clear; a password with a NUL inside never matches a shorter value. */
	CHECK(pw("secret", "secret") == NU_LDAP_PW_MATCH);
	CHECK(pw("secret", "secre") == NU_LDAP_PW_MISMATCH);
	CHECK(nu_ldap_userpassword_check("secret", 6, "secret\0x", 8) == NU_LDAP_PW_MISMATCH);
	CHECK(pw("", "") == NU_LDAP_PW_MISMATCH);
	/* Unknown schemes and malformed values. */
	CHECK(pw("{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA", "secret") ==
	      NU_LDAP_PW_UNSUPPORTED);
	CHECK(pw("{SSHA", "secret") == NU_LDAP_PW_UNSUPPORTED);
	CHECK(pw("{SHA}not base64!", "secret") == NU_LDAP_PW_UNSUPPORTED);
	CHECK(pw("{SHA}AAAA", "secret") == NU_LDAP_PW_UNSUPPORTED);
	CHECK(pw("{SSHA}AAAA", "secret") == NU_LDAP_PW_UNSUPPORTED);
}

/* ---- ACL entries ---- */

/* entries from a list: "dn: DN" starts an entry, "attr: value" adds a
 * value (the first ": " separates them), NULL ends the list. */
static GPtrArray *entries_of(const char *const *lines)
{
	GPtrArray *entries = g_ptr_array_new_with_free_func(nu_ldap_acl_entry_free);
	struct nu_ldap_acl_entry *e = NULL;

	for (; *lines; lines++) {
		const char *sep = strstr(*lines, ": ");
		char *attr = g_strndup(*lines, sep - *lines);

		if (strcmp(attr, "dn") == 0) {
			e = nu_ldap_acl_entry_new(sep + 2);
			g_ptr_array_add(entries, e);
		} else {
			nu_ldap_acl_entry_add(e, attr, sep + 2, strlen(sep + 2));
		}
		g_free(attr);
	}
	return entries;
}

static struct nu_acl_set *build(const char *const *lines, GError **error)
{
	GPtrArray *entries = entries_of(lines);
	struct nu_acl_set *set = nu_ldap_acls_build(entries, error);

	g_ptr_array_free(entries, TRUE);
	return set;
}

static bool build_fails(const char *const *lines, const char *want)
{
	GError *error = NULL;
	struct nu_acl_set *set = build(lines, &error);
	bool ok = !set && error && strcmp(error->message, want) == 0;

	if (!ok)
		fprintf(stderr, "entries: want error `%s', got `%s'\n", want,
			error ? error->message : "(none)");
	nu_acl_set_free(set);
	g_clear_error(&error);
	return ok;
}

static struct nuauth_packet packet(uint8_t proto, const char *dst, uint16_t dport)
{
	struct nuauth_packet p;
	struct in_addr a;

	memset(&p, 0, sizeof(p));
	p.flow.proto = proto;
	p.flow.family = AF_INET;
	inet_pton(AF_INET, "10.1.1.1", &a);
	p.flow.saddr.s6_addr[10] = p.flow.saddr.s6_addr[11] = 0xff;
	memcpy(&p.flow.saddr.s6_addr[12], &a, 4);
	inet_pton(AF_INET, dst, &a);
	p.flow.daddr.s6_addr[10] = p.flow.daddr.s6_addr[11] = 0xff;
	memcpy(&p.flow.daddr.s6_addr[12], &a, 4);
	p.flow.sport = 40000;
	p.flow.dport = dport;
	p.indev = p.outdev = p.app = p.gateway = "";
	p.os_sysname = p.os_release = p.os_version = "";
	return p;
}

/* "name/decision/flags/log_prefix" of each match, comma-separated. */
static bool matches_are(const struct nu_acl_set *set, struct nuauth_packet p,
			const struct nuauth_user *u, const char *want)
{
	GArray *m = g_array_new(FALSE, FALSE, sizeof(struct nuauth_acl_match));
	GString *got = g_string_new(NULL);
	bool ok;

	nu_acl_match(set, &p, u, m);
	for (guint i = 0; i < m->len; i++) {
		const struct nuauth_acl_match *x = &g_array_index(m, struct nuauth_acl_match, i);

		g_string_append_printf(got, "%s%s/%d/%u/%s", i ? "," : "", x->name, x->decision,
				       x->flags, x->log_prefix);
	}
	ok = strcmp(got->str, want) == 0;
	if (!ok)
		fprintf(stderr, "matches: want `%s', got `%s'\n", want, got->str);
	g_string_free(got, TRUE);
	g_array_free(m, TRUE);
	return ok;
}

static bool collect_period(const char *acl, const char *period, const char *where, void *ctx)
{
	g_string_append_printf(ctx, "%s|%s|%s;", acl, period, where);
	return true;
}

static void test_acl_entries(void)
{
	static const uint32_t g100[] = { 100 };
	static const struct nuauth_user alice = { "alice", 1001, g100, 1, NUAUTH_AUTHQ_PASSWORD, "client" };
	static const struct nuauth_user bob = { "bob", 1002, NULL, 0, NUAUTH_AUTHQ_PASSWORD, "client" };
	static const char *const good[] = {
		"dn: cn=web,ou=acls,dc=x",
		"objectClass: nufwAcl",
		"cn: web",
		"description: ignored, as other attributes are",
		"nufwAclGid: 100",
		"nufwAclProto: tcp",
		"nufwAclDstPort: 80",
		"nufwAclDstPort: 443, 8000-8001",
		"nufwAclDecision: 1",
		"nufwAclLogPrefix: web ",
		"nufwAclOrder: 20",
		"dn: cn=deny,ou=acls,dc=x",
		"cn: deny",
		"NUFWACLUID: 1001",
		"nufwAclDstIP: 10.9.0.0/16",
		"nufwAclDecision: 3",
		"nufwAclFlags: 0x10",
		"nufwAclOrder: 10",
		"nufwAclPeriod: office",
		/* Order 0 (none given), before the others; the DN breaks ties. */
		"dn: cn=dns b,ou=acls,dc=x",
		"cn: dns b",
		"nufwAclGid: 100",
		"nufwAclProto: udp",
		"nufwAclDstPort: 53",
		"dn: cn=dns a,ou=acls,dc=x",
		"cn: dns a",
		"nufwAclGid: 100",
		"nufwAclUid: 1002",
		"nufwAclProto: 17",
		"nufwAclDstPort: 53",
		"nufwAclDecision: 0",
		NULL,
	};
	GError *error = NULL;
	struct nu_acl_set *set = build(good, &error);
	GString *periods = g_string_new(NULL);

	CHECK(set && !error);
	if (!set) {
		fprintf(stderr, "entries: %s\n", error->message);
		g_clear_error(&error);
		g_string_free(periods, TRUE);
		return;
	}
	CHECK(nu_acl_count(set) == 4);
	CHECK(matches_are(set, packet(IPPROTO_TCP, "10.9.1.1", 80), &alice,
			  "deny/3/16/,web/1/0/web "));
	CHECK(matches_are(set, packet(IPPROTO_TCP, "10.8.1.1", 443), &alice, "web/1/0/web "));
	CHECK(matches_are(set, packet(IPPROTO_TCP, "10.8.1.1", 8001), &alice, "web/1/0/web "));
	CHECK(matches_are(set, packet(IPPROTO_TCP, "10.8.1.1", 8002), &alice, ""));
	CHECK(matches_are(set, packet(IPPROTO_TCP, "10.9.1.1", 80), &bob, ""));
	CHECK(matches_are(set, packet(IPPROTO_UDP, "10.8.1.1", 53), &alice,
			  "dns a/0/0/,dns b/1/0/"));
	CHECK(matches_are(set, packet(IPPROTO_UDP, "10.8.1.1", 53), &bob, "dns a/0/0/"));
	CHECK(nu_acl_foreach_period(set, collect_period, periods));
	CHECK(strcmp(periods->str, "deny|office|ldap:///cn=deny,ou=acls,dc=x;") == 0);
	g_string_free(periods, TRUE);
	nu_acl_set_free(set);

	/* What the ACLs need from the client's announcement. */
	{
		static const char *const app[] = { "dn: cn=a,dc=x", "cn: a", "nufwAclGid: 1",
			"nufwAclApp: /usr/bin/*", NULL };
		static const char *const sha[] = { "dn: cn=a,dc=x", "cn: a", "nufwAclGid: 1",
			"nufwAclAppSHA256: "
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL };

		set = build(app, &error);
		CHECK(set && nu_acl_needs(set) == NUAUTH_NEEDS_APP);
		nu_acl_set_free(set);
		set = build(sha, &error);
		CHECK(set && (nu_acl_needs(set) & NUAUTH_NEEDS_APP_SHA256));
		nu_acl_set_free(set);
		g_clear_error(&error);
	}

	/* No entries: an empty set. */
	{
		static const char *const none[] = { NULL };

		set = build(none, &error);
		CHECK(set && nu_acl_count(set) == 0);
		nu_acl_set_free(set);
	}

	/* Bad entries: the DN and the attribute. */
	{
		static const char *const l[] = { "dn: cn=ok,dc=x", "cn: ok", "nufwAclGid: 1",
			"dn: cn=bad,dc=x", "cn: bad", "nufwAclGid: 1", "nufwAclDstPort: abc", NULL };
		CHECK(build_fails(l, "ldap:///cn=bad,dc=x: nufwAclDstPort: expected a comma list "
				  "of ports (n or a-b, 0 to 65535), got `abc'"));
	}
	{
		static const char *const l[] = { "dn: cn=a,dc=x", "cn: a", "nufwAclGid: 1",
			"nufwAclDecision: 1", "nufwAclDecision: 0", NULL };
		CHECK(build_fails(l, "ldap:///cn=a,dc=x: nufwAclDecision: a single value "
				  "expected, got a second one `0'"));
	}
	{
		static const char *const l[] = { "dn: cn=a,dc=x", "cn: a", "nufwAclGid: 1",
			"nufwAclDstPrt: 22", NULL };
		CHECK(build_fails(l, "ldap:///cn=a,dc=x: nufwAclDstPrt: unknown attribute"));
	}
	{
		static const char *const l[] = { "dn: ou=a,dc=x", "nufwAclGid: 1", NULL };
		CHECK(build_fails(l, "ldap:///ou=a,dc=x: no cn to name the ACL"));
	}
	{
		static const char *const l[] = { "dn: cn=a,dc=x", "cn: a", "nufwAclProto: tcp",
			NULL };
		CHECK(build_fails(l, "ldap:///cn=a,dc=x: ACL `a' has neither uid= nor gid="));
	}
	{
		static const char *const l[] = { "dn: cn=a,dc=x", "cn: a", "nufwAclGid: 1",
			"nufwAclOrder: first", NULL };
		CHECK(build_fails(l, "ldap:///cn=a,dc=x: nufwAclOrder: expected one integer, "
				  "got `first'"));
	}
	{
		static const char *const l[] = { "dn: cn=a,ou=one,dc=x", "cn: a", "nufwAclGid: 1",
			"dn: cn=a,ou=two,dc=x", "cn: a", "nufwAclGid: 2", NULL };
		CHECK(build_fails(l, "ldap:///cn=a,ou=two,dc=x: duplicate ACL `a' "
				  "(first at ldap:///cn=a,ou=one,dc=x)"));
	}
	{
		static const char *const l[] = { "dn: cn=a,dc=x", "cn: a", "nufwAclGid: 1",
			"nufwAclDecision: 2", NULL };
		CHECK(build_fails(l, "ldap:///cn=a,dc=x: nufwAclDecision: expected 0 (drop), "
				  "1 (accept) or 3 (reject), got `2'"));
	}
	/* A NUL byte inside a value would cut it: refused. */
	{
		GPtrArray *entries = g_ptr_array_new_with_free_func(nu_ldap_acl_entry_free);
		struct nu_ldap_acl_entry *e = nu_ldap_acl_entry_new("cn=nul,dc=x");

		nu_ldap_acl_entry_add(e, "cn", "nul", 3);
		nu_ldap_acl_entry_add(e, "nufwAclGid", "1", 1);
		nu_ldap_acl_entry_add(e, "nufwAclDstIP", "10.0.0.1\0/8", 11);
		g_ptr_array_add(entries, e);
		CHECK(nu_ldap_acls_build(entries, &error) == NULL && error &&
		      strcmp(error->message,
			     "ldap:///cn=nul,dc=x: nufwAclDstIP: a value holds a NUL byte") == 0);
		g_clear_error(&error);
		g_ptr_array_free(entries, TRUE);
	}
}

/* Random entries against the same ACLs written as acls.nufw: both load or
 * neither does, and every packet gets the same matches from both. */
static void test_acl_entries_as_file(void)
{
	static const struct { const char *attr, *key, *values[6]; } pool[] = {
		{ "nufwAclUid", "uid", { "1001", "1002,1003", "x", NULL } },
		{ "nufwAclGid", "gid", { "100", "200", "100, 200", NULL } },
		{ "nufwAclProto", "proto", { "tcp", "udp", "6", "17", "icmp", "99" } },
		{ "nufwAclType", "type", { "8", "0", "300", NULL } },
		{ "nufwAclSrcIP", "SrcIP", { "10.201.0.2/32", "10.201.0.0/16", "2001:db8::/32", NULL } },
		{ "nufwAclDstIP", "DstIP", { "10.202.0.0/24", "10.0.0.0/8", "10.202.0.2",
					     "2001:db8:1::/48", "300.1.1.1", NULL } },
		{ "nufwAclSrcPort", "SrcPort", { "40000", "1-1024", "30000-50000", NULL } },
		{ "nufwAclDstPort", "DstPort", { "80", "80-90", "8080,53", "1-65535", "abc", NULL } },
		{ "nufwAclApp", "App", { "*/curl", "/usr/bin/*", NULL } },
		{ "nufwAclDecision", "decision", { "0", "1", "3", "2", NULL } },
		{ "nufwAclFlags", "flags", { "0x10", "7", NULL } },
		{ "nufwAclLogPrefix", "log_prefix", { "p1", "p2", NULL } },
	};
	static const uint32_t g100[] = { 100 }, g200[] = { 200 }, g100_200[] = { 100, 200 };
	static const struct nuauth_user users[] = {
		{ "alice", 1001, g100, 1, NUAUTH_AUTHQ_PASSWORD, "client" },
		{ "bob", 1002, g200, 1, NUAUTH_AUTHQ_PASSWORD, "client" },
		{ "carol", 1003, g100_200, 2, NUAUTH_AUTHQ_PASSWORD, "client" },
	};
	struct nuauth_packet packets[] = {
		packet(IPPROTO_TCP, "10.202.0.2", 80),
		packet(IPPROTO_TCP, "10.202.0.9", 8080),
		packet(IPPROTO_UDP, "10.202.0.2", 53),
		packet(IPPROTO_TCP, "10.9.9.9", 85),
		packet(IPPROTO_ICMP, "10.202.0.2", 0),
	};
	GRand *rnd = g_rand_new_with_seed(7);
	char *path = g_build_filename(tmpdir, "acls.nufw", NULL);
	unsigned loaded = 0, refused = 0, differ = 0, matched = 0;

	packets[0].app = "/usr/bin/curl";
	packets[4].icmp_type = 8;
	for (unsigned round = 0; round < 3000; round++) {
		GPtrArray *entries = g_ptr_array_new_with_free_func(nu_ldap_acl_entry_free);
		GString *file = g_string_new(NULL);
		unsigned n = (unsigned)g_rand_int_range(rnd, 1, 5), order[4];
		struct nu_acl_set *from_ldap, *from_file;
		GError *e1 = NULL, *e2 = NULL;

		/* Entry i has order order[i]: the file lists them sorted by
		 * (order, DN), as the entries are. */
		for (unsigned i = 0; i < n; i++)
			order[i] = (unsigned)g_rand_int_range(rnd, 0, 3);
		for (unsigned o = 0; o < 3; o++) {
			for (unsigned i = 0; i < n; i++) {
				char dn[48], name[16], ord[16];
				struct nu_ldap_acl_entry *e;
				unsigned k = (unsigned)g_rand_int_range(rnd, 1, 6);

				if (order[i] != o)
					continue;
				snprintf(name, sizeof(name), "a%u", i);
				snprintf(dn, sizeof(dn), "cn=%s,dc=x", name);
				snprintf(ord, sizeof(ord), "%u", o);
				e = nu_ldap_acl_entry_new(dn);
				nu_ldap_acl_entry_add(e, "cn", name, strlen(name));
				nu_ldap_acl_entry_add(e, "nufwAclOrder", ord, strlen(ord));
				g_string_append_printf(file, "[%s]\n", name);
				for (unsigned j = 0; j < k; j++) {
					unsigned a = (unsigned)g_rand_int_range(rnd, 0, G_N_ELEMENTS(pool));
					unsigned nv = 0;
					const char *v;

					while (nv < 6 && pool[a].values[nv])
						nv++;
					v = pool[a].values[g_rand_int_range(rnd, 0, (gint32)nv)];
					nu_ldap_acl_entry_add(e, pool[a].attr, v, strlen(v));
					g_string_append_printf(file, "%s=%s\n", pool[a].key, v);
				}
				g_ptr_array_add(entries, e);
			}
		}
		CHECK(g_file_set_contents(path, file->str, -1, NULL));
		from_ldap = nu_ldap_acls_build(entries, &e1);
		from_file = nu_acl_load(path, &e2);
		CHECK(!from_ldap == !from_file);
		if (!from_ldap != !from_file)
			fprintf(stderr, "entries vs file: %s / %s\n%s", e1 ? e1->message : "ok",
				e2 ? e2->message : "ok", file->str);
		if (from_ldap && from_file) {
			loaded++;
			for (unsigned p = 0; p < G_N_ELEMENTS(packets); p++) {
				for (unsigned u = 0; u < G_N_ELEMENTS(users); u++) {
					GArray *m1 = g_array_new(FALSE, FALSE,
								 sizeof(struct nuauth_acl_match));
					GArray *m2 = g_array_new(FALSE, FALSE,
								 sizeof(struct nuauth_acl_match));
					bool same_m;

					nu_acl_match(from_ldap, &packets[p], &users[u], m1);
					nu_acl_match(from_file, &packets[p], &users[u], m2);
					same_m = m1->len == m2->len;
					for (guint i = 0; same_m && i < m1->len; i++) {
						const struct nuauth_acl_match *x = &g_array_index(
							m1, struct nuauth_acl_match, i);
						const struct nuauth_acl_match *y = &g_array_index(
							m2, struct nuauth_acl_match, i);

						same_m = strcmp(x->name, y->name) == 0 &&
							 x->decision == y->decision &&
							 x->flags == y->flags &&
							 strcmp(x->log_prefix, y->log_prefix) == 0;
					}
					differ += !same_m;
					matched += m1->len > 0;
					g_array_free(m1, TRUE);
					g_array_free(m2, TRUE);
				}
			}
		} else {
			refused++;
		}
		CHECK(!from_ldap || !e1);
		g_clear_error(&e1);
		g_clear_error(&e2);
		nu_acl_set_free(from_ldap);
		nu_acl_set_free(from_file);
		g_ptr_array_free(entries, TRUE);
		g_string_free(file, TRUE);
	}
	printf("ldap: entries against acls.nufw: %u sets loaded (%u lookups with matches), "
	       "%u refused by both, %u results differ\n", loaded, matched, refused, differ);
	CHECK(differ == 0 && loaded > 100 && refused > 100 && matched > 100);
	g_unlink(path);
	g_free(path);
	g_rand_free(rnd);
}

int main(void)
{
	tmpdir = g_dir_make_tmp("test_ldap.XXXXXX", NULL);
	test_filters();
	test_conf();
	test_userpassword();
	test_acl_entries();
	test_acl_entries_as_file();
	{
		char *path = g_build_filename(tmpdir, "nuauth.conf", NULL);
		g_unlink(path);
		g_free(path);
		g_rmdir(tmpdir);
		g_free(tmpdir);
	}
	return unit_done("test_ldap");
}
