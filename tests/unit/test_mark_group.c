/* Unit tests for the mark_group module (modules/mark_group/mark_group.c) and
 * the mark files' reader (modules/common/markfile.c). */
#include "config.h"

#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <nuauth/module.h>

#include "mark_group.h"
#include "markfile.h"
#include "unit.h"
#include "unit_module.h"
#include "unit_files.h"

const struct nuauth_module *nuauth_module_info(void);

/* Loading text as a group file fails with "<path>:<suffix>". */
static bool load_fails(const char *text, unsigned nbits, const char *suffix)
{
	char *path = unit_write_file("bad-groups", text);
	GError *error = NULL;
	struct mark_group_table *t = mark_group_table_load(path, nbits, &error);
	bool ok = !t && unit_error_is(error, path, suffix);

	mark_group_table_free(t);
	g_clear_error(&error);
	g_free(path);
	return ok;
}

static void test_parse_u32(void)
{
	uint32_t v = 7;

	CHECK(markfile_parse_u32("0", &v) && v == 0);
	CHECK(markfile_parse_u32("4294967295", &v) && v == 0xFFFFFFFF);
	CHECK(markfile_parse_u32("0x20", &v) && v == 0x20);
	CHECK(markfile_parse_u32("0XfFfFfFfF", &v) && v == 0xFFFFFFFF);
	CHECK(markfile_parse_u32("010", &v) && v == 10);	/* never octal */
	CHECK(!markfile_parse_u32("4294967296", &v));
	CHECK(!markfile_parse_u32("0x100000000", &v));
	CHECK(!markfile_parse_u32("", &v));
	CHECK(!markfile_parse_u32("0x", &v));
	CHECK(!markfile_parse_u32("-1", &v));
	CHECK(!markfile_parse_u32("+1", &v));
	CHECK(!markfile_parse_u32("12a", &v));
	CHECK(!markfile_parse_u32(" 1", &v));
	CHECK(!markfile_parse_u32("0xg", &v));
}

static void test_table(void)
{
	const uint32_t alice[] = { 100 };
	const uint32_t bob[] = { 100, 200 };
	const uint32_t carol[] = { 300, 400 };
	const uint32_t dave[] = { 500 };
	GError *error = NULL;
	char *path = unit_write_file("groups",
				"# gid[,gid...]:mark\n"
				"\n"
				"200:0x20\n"
				"   # an indented comment\n"
				"400 , 300 : 3\r\n"
				"100,300:1\n"
				"\t500:4294967295\t\n");
	struct mark_group_table *t = mark_group_table_load(path, 32, &error);
	struct mark_group mg = { t, 0x7, 8, 16 };

	CHECK(t && !error);
	if (!t)
		return;
	CHECK(mark_group_table_count(t) == 4);
	/* The first line listing one of the user's groups wins, whatever the
	 * order of the groups. */
	CHECK(mark_group_lookup(t, alice, 1, 9) == 1);
	CHECK(mark_group_lookup(t, bob, 2, 9) == 0x20);
	CHECK(mark_group_lookup(t, carol, 2, 9) == 3);
	CHECK(mark_group_lookup(t, dave, 1, 9) == 0xFFFFFFFF);
	/* No line: the default. */
	CHECK(mark_group_lookup(t, (const uint32_t[]){ 999 }, 1, 9) == 9);
	CHECK(mark_group_lookup(t, NULL, 0, 9) == 9);

	/* Written into bits 16..23, the other bits kept. */
	mark_group_table_free(t);
	g_free(path);
	path = unit_write_file("groups8", "200:0x20\n100,300:1\n");
	mg.table = t = mark_group_table_load(path, 8, &error);
	CHECK(t && !error);
	if (!t)
		return;
	CHECK(mark_group_mark(&mg, 0x000003EA, bob, 2) == 0x002003EA);
	CHECK(mark_group_mark(&mg, 0xAABBCCDD, alice, 1) == 0xAA01CCDD);
	CHECK(mark_group_mark(&mg, 0xAABBCCDD, NULL, 0) == 0xAA07CCDD);
	/* The whole word; one bit at the top. */
	mg.nbits = 32;
	mg.shift = 0;
	CHECK(mark_group_mark(&mg, 0xAABBCCDD, bob, 2) == 0x20);
	mg.nbits = 1;
	mg.shift = 31;
	CHECK(mark_group_mark(&mg, 0x12345678, alice, 1) == 0x92345678);
	CHECK(mark_group_mark(&mg, 0xFFFFFFFF, bob, 2) == 0x7FFFFFFF);
	mark_group_table_free(t);
	g_free(path);

	/* An empty file is fine: everyone gets the default. */
	path = unit_write_file("empty", "# nothing\n\n");
	t = mark_group_table_load(path, 32, &error);
	CHECK(t && !error && mark_group_table_count(t) == 0);
	if (t)
		CHECK(mark_group_lookup(t, bob, 2, 5) == 5);
	mark_group_table_free(t);
	g_free(path);
}

static void test_parse_errors(void)
{
	char *missing = g_build_filename(unit_tmpdir(), "no-such-file", NULL);
	char *want = g_strdup_printf("%s: No such file or directory", missing);
	GError *error = NULL;

	CHECK(!mark_group_table_load(missing, 32, &error) && error &&
	      strcmp(error->message, want) == 0);
	g_clear_error(&error);
	g_free(want);
	g_free(missing);

	CHECK(load_fails("100:1\n\n# c\n100 1\n", 32,
			 "4: expected `gid[,gid...]:mark', got `100 1'"));
	CHECK(load_fails("abc:1\n", 32, "1: bad group id `abc' in `abc:1'"));
	CHECK(load_fails("100:1\n100,,200:2\n", 32, "2: bad group id `' in `100,,200:2'"));
	CHECK(load_fails("100,:2\n", 32, "1: bad group id `' in `100,:2'"));
	CHECK(load_fails("-5:2\n", 32, "1: bad group id `-5' in `-5:2'"));
	CHECK(load_fails("4294967296:2\n", 32,
			 "1: bad group id `4294967296' in `4294967296:2'"));
	CHECK(load_fails(" : 2\n", 32, "1: no group id before `:' in `: 2'"));
	CHECK(load_fails("100:\n", 32, "1: bad mark `' in `100:'"));
	CHECK(load_fails("100:x12\n", 32, "1: bad mark `x12' in `100:x12'"));
	CHECK(load_fails("100:1:2\n", 32, "1: bad mark `1:2' in `100:1:2'"));
	CHECK(load_fails("100:1 # one\n", 32, "1: bad mark `1 # one' in `100:1 # one'"));
	CHECK(load_fails("\n\n100:0x100\n", 8,
			 "3: mark `0x100' does not fit in the 8 bits of mark_group_nbits"));
	CHECK(load_fails("100:2\n", 1,
			 "1: mark `2' does not fit in the 1 bits of mark_group_nbits"));
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

/* Init fails with "<file>:<suffix>", file being the conf itself when NULL. */
static bool init_fails(const char *text, const char *file, const char *suffix)
{
	GError *error = NULL;
	char *path;
	void *priv = init_text(text, &path, &error);
	bool ok;

	ok = !priv && unit_error_is(error, file ? file : path, suffix);
	if (priv)
		unit_module_deinit(nuauth_module_info(), priv);
	g_clear_error(&error);
	g_free(path);
	return ok;
}

static void test_module(void)
{
	const struct nuauth_module *mod = nuauth_module_info();
	const uint32_t bob_groups[] = { 100, 200 };
	const uint32_t alice_groups[] = { 100 };
	const struct nuauth_user bob = { "bob", 1002, bob_groups, 2, NUAUTH_AUTHQ_PASSWORD, "client" };
	const struct nuauth_user alice = { "alice", 1001, alice_groups, 1, NUAUTH_AUTHQ_PASSWORD, "client" };
	struct nuauth_packet packet;
	GError *error = NULL;
	char *groups = unit_write_file("lab-groups", "200:0x20\n");
	char *groups2 = unit_write_file("other-groups", "100:0x5\n");
	char *text, *path, *own;
	void *a, *b;
	uint32_t mark;

	CHECK(mod->api_major == NUAUTH_MODULE_API_MAJOR && mod->size == sizeof(*mod));
	CHECK(strcmp(mod->name, "mark_group") == 0);
	CHECK(mod->finalize_packet && mod->init && (mod->services & NUAUTH_SVC_FINALIZE_PACKET));
	CHECK(!mod->user_check && !mod->acl_check);
	memset(&packet, 0, sizeof(packet));

	/* The lab's setting: gid 200 -> 0x20 at bits 16..23, after mark_uid. */
	text = g_strdup_printf("mark_group_group_file=\"%s\"\nmark_group_nbits=8\n"
			       "mark_group_shift=16\n", groups);
	a = init_text(text, &path, &error);
	g_free(text);
	g_free(path);
	CHECK(a && !error);
	g_clear_error(&error);
	/* A second instance with its own conffile and defaults (32 bits). */
	text = g_strdup_printf("mark_group_group_file = \"%s\"\n"
			       "mark_group_default_mark = 0xFFFFFFFF\n", groups2);
	own = unit_write_file("own.conf", text);
	g_free(text);
	b = unit_module_init(mod, NULL, "second", own, &error);
	CHECK(b && !error);
	g_clear_error(&error);
	if (a && b) {
		mark = 0x3EA;
		CHECK(mod->finalize_packet(a, &packet, &bob, NULL, &mark) == 0);
		CHECK(mark == 0x2003EA);
		mark = 0x3E9;
		CHECK(mod->finalize_packet(a, &packet, &alice, NULL, &mark) == 0);
		CHECK(mark == 0x3E9);
		mark = 0xFFFFFFFF;
		CHECK(mod->finalize_packet(a, &packet, &alice, NULL, &mark) == 0);
		CHECK(mark == 0xFF00FFFF);
		mark = 0x3E9;
		CHECK(mod->finalize_packet(b, &packet, &alice, NULL, &mark) == 0);
		CHECK(mark == 0x5);
		mark = 0;
		CHECK(mod->finalize_packet(b, &packet, NULL, NULL, &mark) == 0);
		CHECK(mark == 0xFFFFFFFF);
	}
	unit_module_deinit(mod, a);
	unit_module_deinit(mod, b);

	/* Errors stop the module, naming file:line. */
	text = g_strdup_printf("mark_group_group_file=\"%s\"\nmark_group_nbits=8\n"
			       "mark_group_shift=25\n", groups);
	CHECK(init_fails(text, NULL, "3: mark_group_shift=25 with mark_group_nbits=8: the field "
			 "goes past bit 31 (shift + nbits must be at most 32)"));
	g_free(text);
	text = g_strdup_printf("mark_group_group_file=\"%s\"\nmark_group_shift=1\n", groups);
	CHECK(init_fails(text, NULL, "2: mark_group_shift=1 with mark_group_nbits=32: the field "
			 "goes past bit 31 (shift + nbits must be at most 32)"));
	g_free(text);
	text = g_strdup_printf("mark_group_group_file=\"%s\"\nmark_group_nbits=0\n", groups);
	CHECK(init_fails(text, NULL, "2: mark_group_nbits: expected an integer between 1 and 32, "
			 "got `0'"));
	g_free(text);
	text = g_strdup_printf("mark_group_group_file=\"%s\"\nmark_group_nbits=4\n"
			       "mark_group_default_mark=16\n", groups);
	CHECK(init_fails(text, NULL, "3: mark_group_default_mark=0x10 does not fit in the 4 bits "
			 "of mark_group_nbits"));
	g_free(text);
	/* A line of the group file too wide for the field. */
	text = g_strdup_printf("mark_group_group_file=\"%s\"\nmark_group_nbits=4\n", groups);
	CHECK(init_fails(text, groups, "1: mark `0x20' does not fit in the 4 bits of "
			 "mark_group_nbits"));
	g_free(text);
	/* A missing group file. */
	{
		char *want = g_strdup_printf("%s/none: No such file or directory", unit_tmpdir());
		char *p;

		text = g_strdup_printf("mark_group_group_file=\"%s/none\"\n", unit_tmpdir());
		a = init_text(text, &p, &error);
		CHECK(!a && error && strcmp(error->message, want) == 0);
		g_clear_error(&error);
		g_free(p);
		g_free(text);
		g_free(want);
	}
	g_free(groups);
	g_free(groups2);
	g_free(own);
}

int main(void)
{
	test_parse_u32();
	test_table();
	test_parse_errors();
	test_module();
	unit_files_cleanup();
	return unit_done("mark_group");
}
