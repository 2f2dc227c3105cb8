/* Unit tests for the mark_uid module (modules/mark_uid/mark_uid.c). */
#include "config.h"

#include <string.h>
#include <nuauth/module.h>

#include "mark_uid.h"
#include "unit.h"

const struct nuauth_module *nuauth_module_info(void);

int main(void)
{
	const struct nuauth_module *mod = nuauth_module_info();
	const struct nuauth_user user = { "alice", 1001, NULL, 0, NUAUTH_AUTHQ_PASSWORD };
	struct nuauth_packet packet;
	uint32_t mark;
	void *priv;

	/* The high 16 bits are kept, the low 16 become the uid. */
	CHECK(mark_uid_apply(0xAABBCCDD, 1001) == 0xAABB03E9);
	CHECK(mark_uid_apply(0, 1001) == 0x000003E9);
	CHECK(mark_uid_apply(0xFFFFFFFF, 0) == 0xFFFF0000);
	CHECK(mark_uid_apply(0x0000FFFF, 1) == 0x00000001);
	CHECK(mark_uid_apply(0x12340000, 0xFFFF) == 0x1234FFFF);
	/* A uid above 16 bits is truncated; it never reaches the high bits. */
	CHECK(mark_uid_apply(0xAABBCCDD, 0x12345678) == 0xAABB5678);
	CHECK(mark_uid_apply(0, 65536) == 0);
	CHECK(mark_uid_apply(0x00010000, 0xFFFFFFFF) == 0x0001FFFF);

	/* The module itself. */
	CHECK(mod != NULL);
	CHECK(mod->api_version == NUAUTH_MODULE_API_VERSION);
	CHECK(strcmp(mod->name, "mark_uid") == 0);
	CHECK(mod->finalize_packet != NULL);
	CHECK(mod->user_check == NULL && mod->acl_check == NULL);
	priv = mod->init(NULL, NULL, NULL, NULL);
	CHECK(priv != NULL);
	memset(&packet, 0, sizeof(packet));
	packet.mark = 0xAABBCCDD;
	mark = packet.mark;
	CHECK(mod->finalize_packet(priv, &packet, &user, NULL, &mark) == 0);
	CHECK(mark == 0xAABB03E9);
	/* No user: the mark is left alone. */
	mark = 0xAABBCCDD;
	CHECK(mod->finalize_packet(priv, &packet, NULL, NULL, &mark) == 0);
	CHECK(mark == 0xAABBCCDD);
	if (mod->deinit)
		mod->deinit(priv);

	return unit_done("mark_uid");
}
