/* Unit tests for the mark_field module (modules/mark_field/mark_field.c). */
#include "config.h"

#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <nuauth/module.h>

#include "mark_field.h"
#include "unit.h"
#include "unit_module.h"
#include "unit_files.h"

const struct nuauth_module *nuauth_module_info(void);

/* Loading text as a pattern file fails with "<path>:<suffix>". */
static bool load_fails(const char *text, unsigned nbits, const char *suffix)
{
	char *path = unit_write_file("bad-fields", text);
	GError *error = NULL;
	struct mark_field_table *t = mark_field_table_load(path, nbits, &error);
	bool ok = !t && unit_error_is(error, path, suffix);

	mark_field_table_free(t);
	g_clear_error(&error);
	g_free(path);
	return ok;
}

static void test_glob(void)
{
	CHECK(mark_field_glob("", ""));
	CHECK(!mark_field_glob("", "a"));
	CHECK(mark_field_glob("*", ""));
	CHECK(mark_field_glob("*", "/usr/bin/firefox"));
	CHECK(mark_field_glob("/usr/bin/firefox", "/usr/bin/firefox"));
	CHECK(!mark_field_glob("/usr/bin/firefox", "/usr/bin/firefox-esr"));
	CHECK(!mark_field_glob("/usr/bin/firefox", "/usr/bin/firefo"));
	CHECK(mark_field_glob("*firefox*", "/usr/lib/firefox-esr/firefox-bin"));
	CHECK(mark_field_glob("/usr/*", "/usr/local/bin/x"));	/* `*' crosses `/' */
	CHECK(!mark_field_glob("/usr/*", "/opt/usr/x"));
	CHECK(mark_field_glob("*/ssh", "/usr/bin/ssh"));
	CHECK(!mark_field_glob("*/ssh", "/usr/bin/sshd"));
	CHECK(mark_field_glob("a*b*c", "abc"));
	CHECK(mark_field_glob("a*b*c", "aXbYbZc"));
	CHECK(!mark_field_glob("a*b*c", "aXbYbZ"));
	CHECK(mark_field_glob("a**b", "ab"));
	CHECK(mark_field_glob("*a", "aaaa"));
	CHECK(!mark_field_glob("*a", "aaab"));
	CHECK(mark_field_glob("Lin*", "Linux"));
	CHECK(!mark_field_glob("lin*", "Linux"));		/* case matters */
	CHECK(!mark_field_glob("?inux", "Linux"));		/* only `*' is special */
	CHECK(mark_field_glob("?inux", "?inux"));
	CHECK(mark_field_glob("[ab]", "[ab]"));
}

static void test_table(void)
{
	GError *error = NULL;
	char *path = unit_write_file("fields",
				"# mark:pattern\n"
				"\n"
				"1:/usr/bin/ssh\n"
				"  2 : /usr/bin/*  \n"
				"0x3:*firefox*\r\n"
				"4:C:\\Program Files\\*\n"
				"5:Linux\n"
				"6:*BSD\n");
	struct mark_field_table *t = mark_field_table_load(path, 32, &error);
	struct mark_field mf = { t, MARK_FIELD_APP, 0x9, 8, 8 };

	CHECK(t && !error);
	if (!t)
		return;
	CHECK(mark_field_table_count(t) == 6);
	/* The first matching line wins. */
	CHECK(mark_field_lookup(t, "/usr/bin/ssh", 0) == 1);
	CHECK(mark_field_lookup(t, "/usr/bin/firefox", 0) == 2);
	CHECK(mark_field_lookup(t, "/opt/firefox/firefox", 0) == 3);
	CHECK(mark_field_lookup(t, "C:\\Program Files\\x.exe", 0) == 4);
	CHECK(mark_field_lookup(t, "Linux", 0) == 5);
	CHECK(mark_field_lookup(t, "FreeBSD", 0) == 6);
	CHECK(mark_field_lookup(t, "/sbin/init", 77) == 77);
	CHECK(mark_field_lookup(t, "", 77) == 77);

	/* On the application, written into bits 8..15. */
	CHECK(mark_field_mark(&mf, 0xAABBCCDD, "/usr/bin/ssh", "Linux") == 0xAABB01DD);
	CHECK(mark_field_mark(&mf, 0xAABBCCDD, "/sbin/init", "Linux") == 0xAABB09DD);
	CHECK(mark_field_mark(&mf, 0xAABBCCDD, "", "Linux") == 0xAABB09DD);
	CHECK(mark_field_mark(&mf, 0xAABBCCDD, NULL, NULL) == 0xAABB09DD);
	/* On the OS name. */
	mf.type = MARK_FIELD_OS;
	CHECK(mark_field_mark(&mf, 0xAABBCCDD, "/usr/bin/ssh", "Linux") == 0xAABB05DD);
	CHECK(mark_field_mark(&mf, 0xAABBCCDD, "/usr/bin/ssh", "OpenBSD") == 0xAABB06DD);
	CHECK(mark_field_mark(&mf, 0xAABBCCDD, "/usr/bin/ssh", "Windows") == 0xAABB09DD);
	CHECK(mark_field_mark(&mf, 0xAABBCCDD, "/usr/bin/ssh", NULL) == 0xAABB09DD);
	/* Field edges. */
	mf.nbits = 32;
	mf.shift = 0;
	CHECK(mark_field_mark(&mf, 0xAABBCCDD, "", "Linux") == 5);
	mf.nbits = 1;
	mf.shift = 31;
	CHECK(mark_field_mark(&mf, 0x12345678, "", "Linux") == 0x92345678);
	CHECK(mark_field_mark(&mf, 0xFFFFFFFF, "", "FreeBSD") == 0x7FFFFFFF);
	mark_field_table_free(t);
	g_free(path);
}

static void test_parse_errors(void)
{
	CHECK(load_fails("1:/bin/a\n\n/usr/bin/b\n", 32,
			 "3: expected `mark:pattern', got `/usr/bin/b'"));
	CHECK(load_fails("1:\n", 32, "1: empty pattern in `1:'"));
	CHECK(load_fails("# c\n2:   \t\n", 32, "2: empty pattern in `2:'"));
	CHECK(load_fails(":/bin/a\n", 32, "1: bad mark `' in `:/bin/a'"));
	CHECK(load_fails("one:/bin/a\n", 32, "1: bad mark `one' in `one:/bin/a'"));
	CHECK(load_fails("0x1ff:/bin/a\n", 8,
			 "1: mark `0x1ff' does not fit in the 8 bits of mark_field_nbits"));
}

/* Initialises the module from nuauth.conf text; NULL with *error. */
static void *init_text(const char *text, char **path, GError **error)
{
	struct nu_conf *conf;
	void *priv;

	*path = unit_write_file("nuauth.conf", text);
	if (!(conf = nu_conf_load(*path, error)))
		return NULL;
	priv = unit_module_init(nuauth_module_info(), conf, NULL, NULL, error);
	nu_conf_free(conf);
	return priv;
}

/* Init fails with "<conf>:<suffix>". */
static bool init_fails(const char *text, const char *suffix)
{
	GError *error = NULL;
	char *path;
	void *priv = init_text(text, &path, &error);
	bool ok;

	ok = !priv && unit_error_is(error, path, suffix);
	if (priv)
		unit_module_deinit(nuauth_module_info(), priv);
	g_clear_error(&error);
	g_free(path);
	return ok;
}

static void test_module(void)
{
	const struct nuauth_module *mod = nuauth_module_info();
	struct nuauth_packet packet;
	GError *error = NULL;
	char *apps = unit_write_file("apps", "0x10:/usr/bin/*\n0x20:*\n");
	char *oses = unit_write_file("oses", "1:Linux\n2:*BSD\n");
	char *text, *path, *own;
	void *a, *b;
	uint32_t mark;

	CHECK(mod->api_major == NUAUTH_MODULE_API_MAJOR && mod->size == sizeof(*mod));
	CHECK(strcmp(mod->name, "mark_field") == 0);
	CHECK(mod->finalize_packet && mod->init && (mod->services & NUAUTH_SVC_FINALIZE_PACKET));
	CHECK(!mod->user_check && !mod->acl_check);
	memset(&packet, 0, sizeof(packet));
	packet.app = "/usr/bin/curl";
	packet.os_sysname = "Linux";

	/* Applications, bits 24..31, keys in nuauth.conf. */
	text = g_strdup_printf("mark_field_file=\"%s\"\nmark_field_nbits=8\n"
			       "mark_field_shift=24\n", apps);
	a = init_text(text, &path, &error);
	g_free(text);
	g_free(path);
	CHECK(a && !error);
	g_clear_error(&error);
	/* OS names, bits 0..3, in a second instance's own file. */
	text = g_strdup_printf("mark_field_file=\"%s\"\nmark_field_type=1\nmark_field_nbits=4\n"
			       "mark_field_default_mark=15\n", oses);
	own = unit_write_file("own.conf", text);
	g_free(text);
	b = unit_module_init(mod, NULL, "os", own, &error);
	CHECK(b && !error);
	g_clear_error(&error);
	if (a && b) {
		mark = 0x00AA03E9;
		CHECK(mod->finalize_packet(a, &packet, NULL, NULL, &mark) == 0);
		CHECK(mark == 0x10AA03E9);
		CHECK(mod->finalize_packet(b, &packet, NULL, NULL, &mark) == 0);
		CHECK(mark == 0x10AA03E1);
		packet.app = "/opt/x";
		packet.os_sysname = "NetBSD";
		CHECK(mod->finalize_packet(a, &packet, NULL, NULL, &mark) == 0);
		CHECK(mark == 0x20AA03E1);
		CHECK(mod->finalize_packet(b, &packet, NULL, NULL, &mark) == 0);
		CHECK(mark == 0x20AA03E2);
		packet.os_sysname = "";
		CHECK(mod->finalize_packet(b, &packet, NULL, NULL, &mark) == 0);
		CHECK(mark == 0x20AA03EF);
	}
	unit_module_deinit(mod, a);
	unit_module_deinit(mod, b);

	/* Errors stop the module, naming file:line. */
	text = g_strdup_printf("mark_field_file=\"%s\"\nmark_field_type=2\n", apps);
	CHECK(init_fails(text, "2: mark_field_type: expected an integer between 0 and 1, "
			 "got `2'"));
	g_free(text);
	text = g_strdup_printf("mark_field_file=\"%s\"\nmark_field_shift=31\nmark_field_nbits=2\n",
			       apps);
	CHECK(init_fails(text, "2: mark_field_shift=31 with mark_field_nbits=2: the field "
			 "goes past bit 31 (shift + nbits must be at most 32)"));
	g_free(text);
	text = g_strdup_printf("mark_field_file=\"%s\"\nmark_field_nbits=33\n", apps);
	CHECK(init_fails(text, "2: mark_field_nbits: expected an integer between 1 and 32, "
			 "got `33'"));
	g_free(text);
	text = g_strdup_printf("mark_field_file=\"%s\"\nmark_field_nbits=1\n"
			       "mark_field_default_mark=2\n", oses);
	CHECK(init_fails(text, "3: mark_field_default_mark=0x2 does not fit in the 1 bits "
			 "of mark_field_nbits"));
	g_free(text);
	{
		char *want = g_strdup_printf("%s:2: mark `2' does not fit in the 1 bits of "
					     "mark_field_nbits", oses);
		char *p;

		text = g_strdup_printf("mark_field_file=\"%s\"\nmark_field_nbits=1\n", oses);
		a = init_text(text, &p, &error);
		CHECK(!a && error && strcmp(error->message, want) == 0);
		g_clear_error(&error);
		g_free(p);
		g_free(text);
		g_free(want);
	}
	g_free(apps);
	g_free(oses);
	g_free(own);
}

int main(void)
{
	test_glob();
	test_table();
	test_parse_errors();
	test_module();
	unit_files_cleanup();
	return unit_done("mark_field");
}
