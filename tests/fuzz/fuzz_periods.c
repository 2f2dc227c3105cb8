/* libFuzzer harness for the periods file (modules/periods/period.c).
 *
 * The input is the file.  A set that loads is asked about every name its
 * section lines give and one it cannot know, at times around now and at
 * the ends of time_t's usual range: a time inside a period stretches to a
 * later end (or never ends), a time outside stretches nowhere. */
#include "config.h"

#include <time.h>

#include "period.h"
#include "conf.h"
#include "fuzz.h"

static const time_t times[] = {
	0, 86399, 1700000000, 1790000000, 2147483647, (time_t)253402300799LL,
};

static void check_name(const struct nu_period_set *set, const char *name)
{
	bool known = nu_period_known(set, name);

	for (size_t i = 0; i < G_N_ELEMENTS(times); i++) {
		time_t t = times[i];
		bool in = nu_period_matches(set, name, t);
		time_t end = nu_period_stretch_end(set, name, t);

		FUZZ_CHECK(known || !in);
		if (in)
			FUZZ_CHECK(end == 0 || end > t);
		else
			FUZZ_CHECK(end == t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_write("periods.conf", data, size);
	GError *error = NULL;
	struct nu_period_set *set = nu_period_load(path, &error);

	if (set) {
		char *text = g_strndup((const char *)data, size);
		char **lines = g_strsplit(text, "\n", -1);

		FUZZ_CHECK(error == NULL);
		(void)nu_period_count(set);
		for (unsigned i = 0; lines[i]; i++) {
			char *l = g_strstrip(lines[i]);
			size_t len = strlen(l);

			if (len > 2 && l[0] == '[' && l[len - 1] == ']') {
				l[len - 1] = '\0';
				check_name(set, g_strstrip(l + 1));
			}
		}
		check_name(set, "no such period\n");
		g_strfreev(lines);
		g_free(text);
		nu_period_set_free(set);
	} else {
		FUZZ_CHECK(error != NULL && error->domain == NU_CONF_ERROR);
		g_clear_error(&error);
	}
	fuzz_unlink(path);
	g_free(path);
	return 0;
}
