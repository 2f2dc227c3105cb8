/* Unit tests for the mark_flag module (modules/mark_flag/mark_flag.c) and
 * the bit-field helpers (modules/common/markbits.c). */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <nuauth/module.h>

#include "mark_flag.h"
#include "markbits.h"
#include "unit.h"
#include "unit_module.h"
#include "unit_files.h"

const struct nuauth_module *nuauth_module_info(void);

static uint32_t flag_mark(unsigned nbits, unsigned mark_shift, unsigned flag_shift,
			  uint32_t mark, uint32_t flags)
{
	const struct mark_flag mf = { nbits, flag_shift, mark_shift };

	return mark_flag_mark(&mf, mark, flags);
}

/* markbits_check fails with exactly want. */
static bool check_fails(long nbits, long shift, const char *want)
{
	GError *error = NULL;
	bool ok = !markbits_check("n", nbits, "s", shift, &error) && error &&
		  strcmp(error->message, want) == 0;

	g_clear_error(&error);
	return ok;
}

static void test_arithmetic(void)
{
	/* README.mark's worked examples: mark 0xAABBCCDD, flags 0x12345678. */
	CHECK(flag_mark(8, 0, 0, 0xAABBCCDD, 0x12345678) == 0xAABBCC78);
	CHECK(flag_mark(16, 0, 0, 0xAABBCCDD, 0x12345678) == 0xAABB5678);
	CHECK(flag_mark(16, 8, 0, 0xAABBCCDD, 0x12345678) == 0xAA5678DD);
	CHECK(flag_mark(16, 0, 8, 0xAABBCCDD, 0x12345678) == 0xAABB3456);

	/* The whole word. */
	CHECK(flag_mark(32, 0, 0, 0xAABBCCDD, 0x12345678) == 0x12345678);
	CHECK(flag_mark(32, 0, 0, 0xFFFFFFFF, 0) == 0);
	/* One bit at either end. */
	CHECK(flag_mark(1, 0, 31, 0, 0x80000000) == 0x00000001);
	CHECK(flag_mark(1, 0, 31, 0xFFFFFFFF, 0x7FFFFFFF) == 0xFFFFFFFE);
	CHECK(flag_mark(1, 31, 0, 0, 1) == 0x80000000);
	CHECK(flag_mark(1, 31, 0, 0xFFFFFFFF, 0xFFFFFFFE) == 0x7FFFFFFF);
	CHECK(flag_mark(16, 16, 16, 0x0000FFFF, 0xABCD0000) == 0xABCDFFFF);

	CHECK(markbits_mask(32, 0) == 0xFFFFFFFF);
	CHECK(markbits_mask(1, 31) == 0x80000000);
	CHECK(markbits_mask(8, 16) == 0x00FF0000);
	CHECK(markbits_put(0xAABBCCDD, 0x20, 8, 16) == 0xAA20CCDD);
	/* A value wider than the field is cut to it. */
	CHECK(markbits_put(0, 0x1FF, 8, 0) == 0xFF);
	CHECK(markbits_put(0, 0xFFFFFFFF, 1, 31) == 0x80000000);
	CHECK(markbits_get(0x12345678, 8, 24) == 0x12);
	CHECK(markbits_get(0x12345678, 32, 0) == 0x12345678);
	CHECK(markbits_fits(0xFF, 8) && !markbits_fits(0x100, 8));
	CHECK(markbits_fits(0xFFFFFFFF, 32) && markbits_fits(1, 1) && !markbits_fits(2, 1));
}

static void test_check(void)
{
	GError *error = NULL;

	CHECK(markbits_check("n", 32, "s", 0, &error) && !error);
	CHECK(markbits_check("n", 1, "s", 31, &error) && !error);
	CHECK(markbits_check("n", 16, "s", 16, &error) && !error);
	CHECK(check_fails(0, 0, "n=0: the number of bits must be between 1 and 32"));
	CHECK(check_fails(33, 0, "n=33: the number of bits must be between 1 and 32"));
	CHECK(check_fails(-1, 0, "n=-1: the number of bits must be between 1 and 32"));
	CHECK(check_fails(1, 32, "s=32: the shift must be between 0 and 31"));
	CHECK(check_fails(8, -1, "s=-1: the shift must be between 0 and 31"));
	CHECK(check_fails(32, 1, "s=1 with n=32: the field goes past bit 31 "
			  "(shift + nbits must be at most 32)"));
	CHECK(check_fails(16, 17, "s=17 with n=16: the field goes past bit 31 "
			  "(shift + nbits must be at most 32)"));
	CHECK(check_fails(2, 31, "s=31 with n=2: the field goes past bit 31 "
			  "(shift + nbits must be at most 32)"));
}

/* Initialises the module from conf text (in nuauth.conf when conffile is
 * false, else in its own file); NULL with *error on failure. */
static void *init_text(const char *name, const char *text, bool conffile, char **path,
		       GError **error)
{
	const struct nuauth_module *mod = nuauth_module_info();
	struct nu_conf *conf;
	void *priv;

	*path = unit_write_file(name, text);
	if (conffile) {
		conf = nu_conf_new_empty();
		priv = unit_module_init(mod, conf, "inst", *path, error);
	} else {
		if (!(conf = nu_conf_load(*path, error)))
			return NULL;
		priv = unit_module_init(mod, conf, NULL, NULL, error);
	}
	nu_conf_free(conf);
	return priv;
}

/* Init fails with "<path>:<suffix>". */
static bool init_fails(const char *text, const char *suffix)
{
	GError *error = NULL;
	char *path;
	void *priv = init_text("bad.conf", text, false, &path, &error);
	bool ok;

	ok = !priv && unit_error_is(error, path, suffix);
	if (priv)
		unit_module_deinit(nuauth_module_info(), priv);
	g_clear_error(&error);
	g_unlink(path);
	g_free(path);
	return ok;
}

static void test_module(void)
{
	const struct nuauth_module *mod = nuauth_module_info();
	const struct nuauth_acl_match acl = { "acl", 1, 0x12345678, "", "" };
	struct nuauth_packet packet;
	struct nu_conf *empty = nu_conf_new_empty();
	GError *error = NULL;
	char *p1, *p2;
	void *priv, *a, *b;
	uint32_t mark;

	CHECK(mod->api_major == NUAUTH_MODULE_API_MAJOR && mod->size == sizeof(*mod));
	CHECK(strcmp(mod->name, "mark_flag") == 0);
	CHECK(mod->finalize_packet && mod->init && (mod->services & NUAUTH_SVC_FINALIZE_PACKET));
	CHECK(!mod->user_check && !mod->acl_check);
	memset(&packet, 0, sizeof(packet));

	/* Defaults: 16 bits, no shifts. */
	priv = unit_module_init(mod, empty, NULL, NULL, &error);
	CHECK(priv && !error);
	mark = 0xAABBCCDD;
	CHECK(mod->finalize_packet(priv, &packet, NULL, &acl, &mark) == 0);
	CHECK(mark == 0xAABB5678);
	/* No deciding ACL: the flags count as 0. */
	mark = 0xAABBCCDD;
	CHECK(mod->finalize_packet(priv, &packet, NULL, NULL, &mark) == 0);
	CHECK(mark == 0xAABB0000);
	unit_module_deinit(mod, priv);

	/* Two instances, each with its own conffile. */
	a = init_text("a.conf", "mark_flag_nbits=16\nmark_flag_mark_shift=8\n", true, &p1, &error);
	b = init_text("b.conf", "mark_flag_nbits = 16\nmark_flag_flag_shift = 8\n", true, &p2,
		      &error);
	CHECK(a && b && !error);
	if (a && b) {
		mark = 0xAABBCCDD;
		mod->finalize_packet(a, &packet, NULL, &acl, &mark);
		CHECK(mark == 0xAA5678DD);
		mark = 0xAABBCCDD;
		mod->finalize_packet(b, &packet, NULL, &acl, &mark);
		CHECK(mark == 0xAABB3456);
		mark = 0xAABBCCDD;
		mod->finalize_packet(a, &packet, NULL, NULL, &mark);
		CHECK(mark == 0xAA0000DD);
	}
	unit_module_deinit(mod, a);
	unit_module_deinit(mod, b);
	g_unlink(p1);
	g_unlink(p2);
	g_free(p1);
	g_free(p2);

	/* Keys in nuauth.conf, at the edges. */
	a = init_text("c.conf", "mark_flag_nbits=8\n", false, &p1, &error);
	CHECK(a && !error);
	if (a) {
		mark = 0xAABBCCDD;
		mod->finalize_packet(a, &packet, NULL, &acl, &mark);
		CHECK(mark == 0xAABBCC78);
	}
	unit_module_deinit(mod, a);
	g_unlink(p1);
	g_free(p1);
	a = init_text("d.conf", "mark_flag_nbits=1\nmark_flag_flag_shift=31\n"
		      "mark_flag_mark_shift=31\n", false, &p1, &error);
	CHECK(a && !error);
	if (a) {
		mark = 0x7FFFFFFF;
		const struct nuauth_acl_match top = { "top", 1, 0x80000000, "", "" };
		mod->finalize_packet(a, &packet, NULL, &top, &mark);
		CHECK(mark == 0xFFFFFFFF);
	}
	unit_module_deinit(mod, a);
	g_unlink(p1);
	g_free(p1);
	a = init_text("e.conf", "mark_flag_nbits=32\n", false, &p1, &error);
	CHECK(a && !error);
	if (a) {
		mark = 0xAABBCCDD;
		mod->finalize_packet(a, &packet, NULL, &acl, &mark);
		CHECK(mark == 0x12345678);
	}
	unit_module_deinit(mod, a);
	g_unlink(p1);
	g_free(p1);

	/* Refused fields name the key, its value and where it is set. */
	CHECK(init_fails("mark_flag_nbits=0\n",
			 "1: mark_flag_nbits: expected an integer between 1 and 32, got `0'"));
	CHECK(init_fails("# x\nmark_flag_nbits=33\n",
			 "2: mark_flag_nbits: expected an integer between 1 and 32, got `33'"));
	CHECK(init_fails("mark_flag_nbits=16\nmark_flag_mark_shift=17\n",
			 "2: mark_flag_mark_shift=17 with mark_flag_nbits=16: the field goes "
			 "past bit 31 (shift + nbits must be at most 32)"));
	CHECK(init_fails("mark_flag_flag_shift=24\n\n",
			 "1: mark_flag_flag_shift=24 with mark_flag_nbits=16: the field goes "
			 "past bit 31 (shift + nbits must be at most 32)"));
	CHECK(init_fails("mark_flag_nbits=32\nmark_flag_mark_shift=1\n",
			 "2: mark_flag_mark_shift=1 with mark_flag_nbits=32: the field goes "
			 "past bit 31 (shift + nbits must be at most 32)"));
	CHECK(init_fails("mark_flag_mark_shift=-1\n",
			 "1: mark_flag_mark_shift: expected an integer between 0 and 31, got `-1'"));
	CHECK(init_fails("mark_flag_nbits=lots\n",
			 "1: mark_flag_nbits: expected an integer between 1 and 32, got `lots'"));
	nu_conf_free(empty);
}

int main(void)
{
	test_arithmetic();
	test_check();
	test_module();
	unit_files_cleanup();
	return unit_done("mark_flag");
}
