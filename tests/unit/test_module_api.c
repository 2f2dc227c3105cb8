/* Unit tests for the module API's versions and services (modules.c): what
 * nuauth accepts of a module's description, and the copy it calls through
 * (only the hooks the module declared, none past its size). */
#include "config.h"

#include <string.h>

#include "modules.c"
#include "unit.h"

static void session_log(void *priv, const struct nuauth_session_event *ev)
{
	(void)priv;
	(void)ev;
}

static bool canonical(void *priv, const char *user, char *name, size_t cap)
{
	(void)priv;
	g_strlcpy(name, user, cap);
	return true;
}

static bool session_check(void *priv, const struct nuauth_session_event *ev, char *why,
			  size_t cap)
{
	(void)priv;
	(void)ev;
	g_strlcpy(why, "no", cap);
	return false;
}

static enum nuauth_user_status user_check(void *priv, const char *user, const char *password,
					  size_t password_len, uint32_t *uid, GArray *groups)
{
	(void)priv;
	(void)user;
	(void)password;
	(void)password_len;
	(void)uid;
	(void)groups;
	return NUAUTH_USER_UNKNOWN;
}

static const struct nuauth_module current = {
	NUAUTH_MODULE_HEADER,
	.name = "current",
	.services = NUAUTH_SVC_SESSION_LOG,
	.user_session_log = session_log,
};

/* Does the description pass, and if not, does the error say why? */
static bool refused(const struct nuauth_module *api, const char *why)
{
	GError *error = NULL;
	bool ok = !nuauth_module_api_check(api, "/m/x.so", &error) && error &&
		  strstr(error->message, "/m/x.so") && strstr(error->message, why);

	if (!ok)
		fprintf(stderr, "expected a refusal with `%s', got: %s\n", why,
			error ? error->message : "(accepted)");
	g_clear_error(&error);
	return ok;
}

static bool accepted(const struct nuauth_module *api)
{
	GError *error = NULL;
	bool ok = nuauth_module_api_check(api, "/m/x.so", &error);

	if (!ok)
		fprintf(stderr, "refused: %s\n", error->message);
	g_clear_error(&error);
	return ok;
}

int main(void)
{
	struct nuauth_module m, copy;
	char why[128];

	CHECK(accepted(&current));

	/* A module of minor 0: the smaller struct of 11.0.  A hook past its
	 * size is neither read nor called, even with a pointer there. */
	m = current;
	m.api_minor = 0;
	m.size = NUAUTH_MODULE_SIZE_11_0;
	m.canonical_name = canonical;
	CHECK(accepted(&m));
	copy_description(&copy, &m);
	CHECK(copy.canonical_name == NULL && copy.user_session_log == session_log);
	CHECK(copy.priv_size == 0 && strcmp(copy.name, "current") == 0);
	/* ... and it cannot declare the hook its minor lacks. */
	m.services |= NUAUTH_SVC_CANONICAL_NAME;
	CHECK(refused(&m, "declares the service canonical_name but its API version has no such hook"));
	/* A minor 1 module may. */
	m.api_minor = 1;
	m.size = sizeof(m);
	CHECK(accepted(&m));
	copy_description(&copy, &m);
	CHECK(copy.canonical_name == canonical);

	/* 11.2: session_check.  A minor 1 module, of the 11.1 size, has no
	 * such hook: a pointer past its size is not read... */
	m = current;
	m.api_minor = 1;
	m.size = NUAUTH_MODULE_SIZE_11_1;
	m.session_check = session_check;
	CHECK(accepted(&m));
	copy_description(&copy, &m);
	CHECK(copy.session_check == NULL);
	/* ... nor may it declare it; a minor 2 module may. */
	m.services |= NUAUTH_SVC_SESSION_CHECK;
	CHECK(refused(&m, "declares the service session_check but its API version has no such hook"));
	m.api_minor = 2;
	m.size = sizeof(m);
	CHECK(accepted(&m));
	copy_description(&copy, &m);
	CHECK(copy.session_check == session_check);

	/* A newer minor, another major (older or newer). */
	m = current;
	m.api_minor = NUAUTH_MODULE_API_MINOR + 1;
	g_snprintf(why, sizeof(why), "built for module API %u.%u, which this nuauth (API %u.%u) "
		   "cannot load", NUAUTH_MODULE_API_MAJOR, NUAUTH_MODULE_API_MINOR + 1,
		   NUAUTH_MODULE_API_MAJOR, NUAUTH_MODULE_API_MINOR);
	CHECK(refused(&m, why));
	m = current;
	m.api_major = 10;
	CHECK(refused(&m, "built for module API 10."));
	m.api_major = NUAUTH_MODULE_API_MAJOR + 1;
	CHECK(refused(&m, "cannot load"));

	/* A size that is no struct of this major. */
	m = current;
	m.size = 16;
	CHECK(refused(&m, "its description has 16 bytes"));
	m.size = sizeof(m) + 8;
	CHECK(refused(&m, "bytes"));

	/* Services: a declared hook must be there; unknown bits are refused;
	 * a pointer that is not declared is never called. */
	m = current;
	m.services |= NUAUTH_SVC_USER_CHECK;
	CHECK(refused(&m, "declares the service user_check but has no such hook"));
	m.services = NUAUTH_SVC_SESSION_LOG | 1u << 30;
	CHECK(refused(&m, "declares unknown services 0x40000000"));
	m = current;
	m.user_check = user_check;
	CHECK(accepted(&m));
	copy_description(&copy, &m);
	CHECK(copy.user_check == NULL && copy.user_session_log == session_log);

	/* The table of services covers every hook, in the struct's order. */
	for (size_t i = 1; i < nuauth_services_count; i++)
		CHECK(nuauth_services[i].offset > nuauth_services[i - 1].offset);
	CHECK(nuauth_services[nuauth_services_count - 1].offset +
	      sizeof(void (*)(void)) == sizeof(struct nuauth_module));
	/* Every hook kind names a key and wants a service. */
	for (unsigned h = 0; h < NUAUTH_HOOK_COUNT; h++)
		CHECK(nuauth_hook_kinds[h].key && nuauth_hook_kinds[h].fallback &&
		      nuauth_hook_kinds[h].services);
	return unit_done("test_module_api");
}
