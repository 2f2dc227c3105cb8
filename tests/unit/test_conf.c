/* Unit tests for the configuration reader (src/lib/conf.c). */
#include "config.h"

#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "conf.h"
#include "unit.h"
#include "unit_files.h"

/* Loads text as file name and expects error message "<path>:<suffix>". */
static bool load_fails(const char *name, const char *text, const char *suffix)
{
	char *path = unit_write_file(name, text);
	GError *error = NULL;
	struct nu_conf *conf = nu_conf_load(path, &error);
	bool ok = !conf && unit_error_is(error, path, suffix);

	nu_conf_free(conf);
	g_clear_error(&error);
	g_free(path);
	return ok;
}

struct unused {
	GString *text;
};

static void collect_unused(const char *key, const char *file, unsigned line, void *ctx)
{
	struct unused *u = ctx;
	char *base = g_path_get_basename(file);

	g_string_append_printf(u->text, "%s@%s:%u;", key, base, line);
	g_free(base);
}

static void test_values(void)
{
	char *main_path, *where;
	GError *error = NULL;
	struct nu_conf *conf;
	struct unused unused = { g_string_new(NULL) };
	long v;

	main_path = unit_write_file("main.conf",
		"# a comment\n"
		"\n"
		"   # indented comment\n"
		"a=1\n"
		"b = \"hello # not a comment\"   # trailing comment\n"
		"c=\"say \\\"hi\\\" \\\\ back \\n raw\"\n"
		"d =  plain value with spaces   # comment\n"
		"e=\n"
		"f=0x10\n"
		"g = -5\n"
		"h=12abc\n"
		"a=2\n"
		"include \"sub/inc.conf\"\n"
		"crlf=yes\r\n"
		"dotted.key-name_1=ok\n"
		"never_read=1\n"
		"big=99999999999999999999\n"
		"quoted_int=\"7\"\n");
	g_free(unit_write_file("sub/inc.conf", "i=from_inc\ninclude \"inc2.conf\"\nsub_unused=2\n"));
	g_free(unit_write_file("sub/inc2.conf", "j = deep\n"));

	conf = nu_conf_load(main_path, &error);
	CHECK(conf != NULL);
	CHECK(error == NULL);
	if (!conf) {
		fprintf(stderr, "%s\n", error->message);
		g_clear_error(&error);
		g_free(main_path);
		return;
	}

	CHECK(strcmp(nu_conf_get_str(conf, "a", "x"), "2") == 0);
	where = g_strdup_printf("%s:12", main_path);
	CHECK(g_strcmp0(nu_conf_where(conf, "a"), where) == 0);
	g_free(where);
	CHECK(strcmp(nu_conf_get_str(conf, "b", NULL), "hello # not a comment") == 0);
	CHECK(strcmp(nu_conf_get_str(conf, "c", NULL), "say \"hi\" \\ back \\n raw") == 0);
	CHECK(strcmp(nu_conf_get_str(conf, "d", NULL), "plain value with spaces") == 0);
	CHECK(strcmp(nu_conf_get_str(conf, "e", "def"), "") == 0);
	CHECK(strcmp(nu_conf_get_str(conf, "i", NULL), "from_inc") == 0);
	CHECK(strcmp(nu_conf_get_str(conf, "j", NULL), "deep") == 0);
	CHECK(strcmp(nu_conf_get_str(conf, "crlf", NULL), "yes") == 0);
	CHECK(strcmp(nu_conf_get_str(conf, "dotted.key-name_1", NULL), "ok") == 0);
	CHECK(strcmp(nu_conf_get_str(conf, "absent", "def"), "def") == 0);
	CHECK(nu_conf_get_str(conf, "absent", NULL) == NULL);
	CHECK(nu_conf_where(conf, "absent") == NULL);
	where = g_strdup_printf("%s/sub/inc2.conf:1", unit_tmpdir());
	CHECK(g_strcmp0(nu_conf_where(conf, "j"), where) == 0);
	g_free(where);

	/* Integers. */
	CHECK(nu_conf_get_int(conf, "f", 0, 0, 100, &v, &error) && v == 16);
	CHECK(nu_conf_get_int(conf, "g", 0, -10, 10, &v, &error) && v == -5);
	CHECK(nu_conf_get_int(conf, "quoted_int", 0, 0, 10, &v, &error) && v == 7);
	CHECK(nu_conf_get_int(conf, "absent", 42, 0, 10, &v, &error) && v == 42);
	CHECK(error == NULL);

	CHECK(!nu_conf_get_int(conf, "a", 0, 3, 10, &v, &error));
	where = g_strdup_printf("%s:12: a: expected an integer between 3 and 10, got `2'", main_path);
	CHECK(error && strcmp(error->message, where) == 0);
	CHECK(error && g_error_matches(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE));
	g_free(where);
	g_clear_error(&error);

	CHECK(!nu_conf_get_int(conf, "h", 0, 0, 1000, &v, &error));
	where = g_strdup_printf("%s:11: h: expected an integer between 0 and 1000, got `12abc'", main_path);
	CHECK(error && strcmp(error->message, where) == 0);
	g_free(where);
	g_clear_error(&error);

	CHECK(!nu_conf_get_int(conf, "big", 0, G_MINLONG, G_MAXLONG, &v, &error));
	CHECK(error != NULL);
	g_clear_error(&error);
	CHECK(!nu_conf_get_int(conf, "e", 0, 0, 10, &v, &error));	/* empty */
	CHECK(error != NULL);
	g_clear_error(&error);
	CHECK(!nu_conf_get_int(conf, "d", 0, 0, 10, &v, &error));
	g_clear_error(&error);

	/* Every key read so far counts as used, whichever assignment it was. */
	nu_conf_foreach_unused(conf, collect_unused, &unused);
	CHECK(strcmp(unused.text->str, "sub_unused@inc.conf:3;never_read@main.conf:16;") == 0);
	if (strcmp(unused.text->str, "sub_unused@inc.conf:3;never_read@main.conf:16;") != 0)
		fprintf(stderr, "unused: %s\n", unused.text->str);
	g_string_free(unused.text, TRUE);

	nu_conf_free(conf);
	g_free(main_path);
}

static void test_empty(void)
{
	struct nu_conf *conf = nu_conf_new_empty();
	long v = 0;

	CHECK(strcmp(nu_conf_get_str(conf, "x", "d"), "d") == 0);
	CHECK(nu_conf_get_int(conf, "x", 5, 0, 10, &v, NULL) && v == 5);
	CHECK(nu_conf_where(conf, "x") == NULL);
	nu_conf_free(conf);
	nu_conf_free(NULL);
}

static void test_errors(void)
{
	GError *error = NULL;
	char *path, *want;

	/* Missing file. */
	path = g_build_filename(unit_tmpdir(), "nonexistent.conf", NULL);
	CHECK(nu_conf_load(path, &error) == NULL);
	want = g_strdup_printf("%s: No such file or directory", path);
	CHECK(error && strcmp(error->message, want) == 0);
	CHECK(error && g_error_matches(error, NU_CONF_ERROR, NU_CONF_ERROR_IO));
	g_clear_error(&error);
	g_free(want);
	g_free(path);

	/* Malformed lines, with their exact file:line. */
	CHECK(load_fails("bad1.conf", "a=1\n\nfoo bar\n", "3: expected `key=value', got `foo bar'"));
	CHECK(load_fails("bad2.conf", "a=\"open\n", "1: unterminated string `\"open'"));
	CHECK(load_fails("bad3.conf", "#\na=\"x\" y\n", "2: unexpected text `y' after the closing quote"));
	CHECK(load_fails("bad4.conf", "=value\n", "1: expected `key=value', got `=value'"));
	CHECK(load_fails("bad5.conf", "k$y=1\n", "1: expected `key=value', got `k$y=1'"));
	CHECK(load_fails("bad6.conf", "a=1\n  just_a_key\n", "2: expected `key=value', got `just_a_key'"));
	CHECK(load_fails("bad7.conf", "a=\"x\\\"\n", "1: unterminated string `\"x\\\"'"));
	CHECK(load_fails("bad8.conf", "include \"\"\n", "1: include needs a file name"));
	/* Truncated: the last line has no newline, and its quote no end. */
	CHECK(load_fails("bad9.conf", "a=1\nb=\"cut", "2: unterminated string `\"cut'"));

	/* Missing include: named with the including line. */
	path = unit_write_file("incmiss.conf", "a=1\ninclude \"nothere.conf\"\n");
	CHECK(nu_conf_load(path, &error) == NULL);
	want = g_strdup_printf("%s:2: %s/nothere.conf: No such file or directory", path, unit_tmpdir());
	CHECK(error && strcmp(error->message, want) == 0);
	g_clear_error(&error);
	g_free(want);
	g_free(path);

	/* Errors inside an included file name that file. */
	path = unit_write_file("incbad.conf", "include \"sub/bad.conf\"\n");
	g_free(unit_write_file("sub/bad.conf", "ok=1\n\"oops\n"));
	CHECK(nu_conf_load(path, &error) == NULL);
	want = g_strdup_printf("%s/sub/bad.conf:2: expected `key=value', got `\"oops'", unit_tmpdir());
	CHECK(error && strcmp(error->message, want) == 0);
	g_clear_error(&error);
	g_free(want);
	g_free(path);
}

/* A NUL byte inside a line, a line over the limit (65536 bytes without its
 * end of line), one just at it, and a long value kept whole. */
static void test_oversized(void)
{
	GError *error = NULL;
	struct nu_conf *conf;
	char *path, *big;
	size_t n = 70000;

	path = g_build_filename(unit_tmpdir(), "nul.conf", NULL);
	CHECK(g_file_set_contents(path, "a=1\nb=x\0y\n", 10, NULL));
	CHECK(nu_conf_load(path, &error) == NULL);
	CHECK(unit_error_is(error, path, "2: line contains a NUL byte"));
	g_clear_error(&error);
	g_remove(path);
	g_free(path);

	big = g_malloc(n + 16);
	memcpy(big, "a=1\nk=", 6);
	memset(big + 6, 'v', n);
	strcpy(big + 6 + n, "\nb=2\n");
	CHECK(load_fails("long.conf", big, "2: line longer than 65536 bytes"));
	/* k= and 65534 bytes: at the limit, with "\r\n" too; one more is over. */
	strcpy(big + 6 + 65534, "\r\nb=2\n");
	path = unit_write_file("limit.conf", big);
	conf = nu_conf_load(path, &error);
	CHECK(conf && !error && strlen(nu_conf_get_str(conf, "k", "")) == 65534);
	if (conf)
		nu_conf_free(conf);
	g_clear_error(&error);
	g_free(path);
	big[6 + 65534] = 'v';
	strcpy(big + 6 + 65535, "\nb=2\n");
	CHECK(load_fails("over.conf", big, "2: line longer than 65536 bytes"));

	/* 60,000 bytes of value, read back whole. */
	strcpy(big + 6 + 60000, "\n");
	path = unit_write_file("longok.conf", big);
	conf = nu_conf_load(path, &error);
	CHECK(conf && !error);
	if (conf) {
		const char *v = nu_conf_get_str(conf, "k", NULL);

		CHECK(v && strlen(v) == 60000 && v[0] == 'v' && v[59999] == 'v');
		nu_conf_free(conf);
	}
	g_clear_error(&error);
	g_free(path);
	g_free(big);
}

static void test_include_loops(void)
{
	GError *error = NULL;
	char *path, *want, *name, *text;
	int i;

	/* a -> b -> a */
	path = unit_write_file("loop_a.conf", "x=1\ninclude \"loop_b.conf\"\n");
	g_free(unit_write_file("loop_b.conf", "include \"./loop_a.conf\"\n"));
	CHECK(nu_conf_load(path, &error) == NULL);
	want = g_strdup_printf("%s/loop_b.conf:1: include loop: `%s/./loop_a.conf' is already being read",
			       unit_tmpdir(), unit_tmpdir());
	CHECK(error && strcmp(error->message, want) == 0);
	if (error && strcmp(error->message, want) != 0)
		fprintf(stderr, "got: %s\n", error->message);
	g_clear_error(&error);
	g_free(want);
	g_free(path);

	/* A file including itself. */
	path = unit_write_file("self.conf", "include \"self.conf\"\n");
	CHECK(nu_conf_load(path, &error) == NULL);
	CHECK(error && strstr(error->message, "self.conf:1: include loop") != NULL);
	g_clear_error(&error);
	g_free(path);

	/* The same file included twice, not nested, is fine. */
	path = unit_write_file("twice.conf", "include \"leaf.conf\"\ninclude \"leaf.conf\"\n");
	g_free(unit_write_file("leaf.conf", "leaf=1\n"));
	{
		struct nu_conf *conf = nu_conf_load(path, &error);

		CHECK(conf != NULL);
		nu_conf_free(conf);
		g_clear_error(&error);
	}
	g_free(path);

	/* A chain deeper than the limit. */
	for (i = 0; i < 20; i++) {
		name = g_strdup_printf("deep%02d.conf", i);
		text = g_strdup_printf("include \"deep%02d.conf\"\n", i + 1);
		g_free(unit_write_file(name, text));
		g_free(name);
		g_free(text);
	}
	g_free(unit_write_file("deep20.conf", "end=1\n"));
	path = g_build_filename(unit_tmpdir(), "deep00.conf", NULL);
	CHECK(nu_conf_load(path, &error) == NULL);
	CHECK(error && strstr(error->message, "deep16.conf:1: includes nested more than 16 deep") != NULL);
	g_clear_error(&error);
	g_free(path);

	/* Exactly at the limit works. */
	path = g_build_filename(unit_tmpdir(), "deep04.conf", NULL);
	{
		struct nu_conf *conf = nu_conf_load(path, &error);

		CHECK(conf != NULL && strcmp(nu_conf_get_str(conf, "end", ""), "1") == 0);
		nu_conf_free(conf);
		g_clear_error(&error);
	}
	g_free(path);
}

int main(void)
{
	test_values();
	test_empty();
	test_errors();
	test_oversized();
	test_include_loops();

	unit_files_cleanup();
	return unit_done("conf");
}
