/* Unit tests for the mark_uid module (modules/mark_uid/mark_uid.c): the
 * field arithmetic, uids that do not fit (never truncated, never mark 0),
 * and the keys refused at load with file:line. */
#include "config.h"

#include <string.h>
#include <nuauth/module.h>

#include "mark_uid.h"
#include "unit.h"
#include "unit_module.h"
#include "unit_files.h"

const struct nuauth_module *nuauth_module_info(void);

static void test_put(void)
{
	const struct mark_uid low16 = { 16, 0 }, mid8 = { 8, 16 }, all = { 32, 0 };
	uint32_t out;

	/* The field becomes the uid, the other bits are kept. */
	CHECK(mark_uid_put(&low16, 0xAABBCCDD, 1001, &out) == MARK_UID_OK && out == 0xAABB03E9);
	CHECK(mark_uid_put(&low16, 0, 1001, &out) == MARK_UID_OK && out == 0x000003E9);
	CHECK(mark_uid_put(&low16, 0x0000FFFF, 1, &out) == MARK_UID_OK && out == 0x00000001);
	CHECK(mark_uid_put(&low16, 0x12340000, 0xFFFF, &out) == MARK_UID_OK &&
	      out == 0x1234FFFF);
	CHECK(mark_uid_put(&mid8, 0xAABBCCDD, 0x42, &out) == MARK_UID_OK && out == 0xAA42CCDD);
	CHECK(mark_uid_put(&all, 0xAABBCCDD, 0x12345678, &out) == MARK_UID_OK &&
	      out == 0x12345678);

	/* 65536 in 16 bits would be 0, the mark of no user: refused. */
	out = 7;
	CHECK(mark_uid_put(&low16, 0, 65536, &out) == MARK_UID_TOO_BIG && out == 7);
	CHECK(mark_uid_put(&low16, 0xAABB0000, 131072, &out) == MARK_UID_TOO_BIG && out == 7);
	/* 66537 would collide with 1001: refused, 1001 keeps its mark. */
	CHECK(mark_uid_put(&low16, 0, 66537, &out) == MARK_UID_TOO_BIG && out == 7);
	CHECK(mark_uid_put(&low16, 0, 1001, &out) == MARK_UID_OK && out == 0x3E9);
	CHECK(mark_uid_put(&low16, 0, 0x12345678, &out) == MARK_UID_TOO_BIG);
	CHECK(mark_uid_put(&mid8, 0, 256, &out) == MARK_UID_TOO_BIG);
	CHECK(mark_uid_put(&all, 0, 0xFFFFFFFF, &out) == MARK_UID_OK && out == 0xFFFFFFFF);
	/* uid 0 leaves the field 0, whatever the other bits are. */
	out = 7;
	CHECK(mark_uid_put(&low16, 0xAABB0000, 0, &out) == MARK_UID_ZERO && out == 7);
	CHECK(mark_uid_put(&all, 0, 0, &out) == MARK_UID_ZERO);

	/* No two uids of the field's range share a mark, none gives 0. */
	{
		static uint8_t seen[65536 / 8];
		bool distinct = true;

		for (uint32_t uid = 1; uid <= 0xFFFF; uid++) {
			CHECK(mark_uid_put(&low16, 0, uid, &out) == MARK_UID_OK);
			if (out == 0 || (seen[out / 8] & (1u << (out % 8))))
				distinct = false;
			seen[out / 8] |= (uint8_t)(1u << (out % 8));
		}
		CHECK(distinct);
	}
}

/* init with text as the module's own file fails with "<path>:<suffix>". */
static bool init_fails(const char *text, const char *suffix)
{
	char *path = unit_write_file("mark_uid.conf", text);
	GError *error = NULL;
	void *priv = unit_module_init(nuauth_module_info(), NULL, NULL, path, &error);
	bool ok = !priv && unit_error_is(error, path, suffix);

	if (priv)
		unit_module_deinit(nuauth_module_info(), priv);
	g_clear_error(&error);
	g_free(path);
	return ok;
}

static void *init_text(const char *text)
{
	char *path = unit_write_file("mark_uid.conf", text);
	GError *error = NULL;
	void *priv = unit_module_init(nuauth_module_info(), NULL, NULL, path, &error);

	if (error)
		printf("    unexpected error: %s\n", error->message);
	g_clear_error(&error);
	g_free(path);
	return priv;
}

static void test_load(void)
{
	void *priv;

	CHECK(init_fails("# the site's uids\nmark_uid_max_uid = 70000\n",
			 "2: mark_uid_max_uid=0x11170 does not fit in the 16 bits of mark_uid_nbits"));
	CHECK(init_fails("mark_uid_nbits = 8\nmark_uid_max_uid = 256\n",
			 "2: mark_uid_max_uid=0x100 does not fit in the 8 bits of mark_uid_nbits"));
	CHECK(init_fails("mark_uid_nbits = 24\nmark_uid_shift = 16\n",
			 "2: mark_uid_shift=16 with mark_uid_nbits=24: the field goes past bit 31"
			 " (shift + nbits must be at most 32)"));
	CHECK(init_fails("mark_uid_nbits = 33\n", "1: mark_uid_nbits: expected an integer between 1 and 32, got `33'"));
	CHECK(init_fails("mark_uid_max_uid = -1\n", "1: mark_uid_max_uid: expected an integer between 0 and 4294967295, got `-1'"));
	CHECK((priv = init_text("mark_uid_max_uid = 65535\n")) != NULL);
	unit_module_deinit(nuauth_module_info(), priv);
	CHECK((priv = init_text("mark_uid_nbits = 20\nmark_uid_max_uid = 70000\n")) != NULL);
	unit_module_deinit(nuauth_module_info(), priv);
}

static void test_module(void)
{
	const struct nuauth_module *mod = nuauth_module_info();
	const struct nuauth_user alice = { "alice", 1001, NULL, 0, NUAUTH_AUTHQ_PASSWORD, "client" };
	const struct nuauth_user big = { "big", 65536, NULL, 0, NUAUTH_AUTHQ_PASSWORD, "client" };
	const struct nuauth_user twin = { "twin", 66537, NULL, 0, NUAUTH_AUTHQ_PASSWORD, "client" };
	const struct nuauth_user root = { "root", 0, NULL, 0, NUAUTH_AUTHQ_PASSWORD, "client" };
	struct nuauth_packet packet;
	uint32_t mark;
	void *priv;

	CHECK(mod != NULL);
	CHECK(mod->api_major == NUAUTH_MODULE_API_MAJOR &&
	      mod->api_minor == NUAUTH_MODULE_API_MINOR && mod->size == sizeof(*mod));
	CHECK(strcmp(mod->name, "mark_uid") == 0);
	CHECK(mod->services == NUAUTH_SVC_FINALIZE_PACKET && mod->finalize_packet != NULL);
	CHECK(mod->user_check == NULL && mod->acl_check == NULL);
	/* Without keys: 16 bits at bit 0, as before. */
	priv = unit_module_init(mod, NULL, NULL, NULL, NULL);
	CHECK(priv != NULL);
	memset(&packet, 0, sizeof(packet));
	packet.mark = 0xAABBCCDD;
	mark = packet.mark;
	CHECK(mod->finalize_packet(priv, &packet, &alice, NULL, &mark) == 0);
	CHECK(mark == 0xAABB03E9);
	/* No user: the mark is left alone. */
	mark = 0xAABBCCDD;
	CHECK(mod->finalize_packet(priv, &packet, NULL, NULL, &mark) == 0);
	CHECK(mark == 0xAABBCCDD);
	/* A uid the field cannot hold, or 0: the decision fails (a drop). */
	mark = 0;
	CHECK(mod->finalize_packet(priv, &packet, &big, NULL, &mark) < 0);
	CHECK(mod->finalize_packet(priv, &packet, &twin, NULL, &mark) < 0);
	CHECK(mod->finalize_packet(priv, &packet, &root, NULL, &mark) < 0);
	unit_module_deinit(mod, priv);
	/* A wider field carries them. */
	priv = init_text("mark_uid_nbits = 24\nmark_uid_shift = 8\n");
	CHECK(priv != NULL);
	mark = 0xAABBCCDD;
	CHECK(mod->finalize_packet(priv, &packet, &big, NULL, &mark) == 0 && mark == 0x010000DD);
	mark = 0;
	CHECK(mod->finalize_packet(priv, &packet, &twin, NULL, &mark) == 0 && mark == 0x0103E900);
	unit_module_deinit(mod, priv);
}

int main(void)
{
	test_put();
	test_load();
	test_module();
	unit_files_cleanup();
	return unit_done("mark_uid");
}
