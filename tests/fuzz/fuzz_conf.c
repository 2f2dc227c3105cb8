/* libFuzzer harness for the configuration reader (src/lib/conf.c).
 *
 * nu_conf_load reads files, so the input is written to a private folder:
 * the bytes before the first NUL go to a.conf (the file loaded), the rest to
 * b.conf, so that `include "b.conf"' (and include loops through a.conf) are
 * reachable.  An input that would include a path with a `/' in it is
 * skipped: it could name any file on the machine (/dev/zero never ends).
 * Every key of a loaded configuration is then read back every way. */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

static void collect(const char *key, const char *file, unsigned line, void *ctx)
{
	GPtrArray *keys = ctx;

	FUZZ_CHECK(key && *key && file && line > 0);
	g_ptr_array_add(keys, g_strdup(key));
}

static void none_left(const char *key, const char *file, unsigned line, void *ctx)
{
	(void)key;
	(void)file;
	(void)line;
	(void)ctx;
	FUZZ_CHECK(!"a key read back is still reported unused");
}

static void read_back(struct nu_conf *conf)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	unsigned i;

	nu_conf_foreach_unused(conf, collect, keys);
	for (i = 0; i < keys->len; i++) {
		const char *key = g_ptr_array_index(keys, i);
		const char *value, *where;
		GError *error = NULL;
		long v;

		value = nu_conf_get_str(conf, key, NULL);
		FUZZ_CHECK(value != NULL);
		(void)strlen(value);
		where = nu_conf_where(conf, key);
		FUZZ_CHECK(where != NULL && strchr(where, ':') != NULL);
		if (nu_conf_get_int(conf, key, 0, LONG_MIN, LONG_MAX, &v, &error))
			FUZZ_CHECK(nu_conf_get_int(conf, key, 0, v, v, &v, NULL));
		else
			FUZZ_CHECK(error != NULL && error->message != NULL);
		g_clear_error(&error);
		if (!nu_conf_get_int(conf, key, 0, 0, 65535, &v, &error))
			FUZZ_CHECK(error != NULL);
		g_clear_error(&error);
	}
	nu_conf_foreach_unused(conf, none_left, NULL);
	FUZZ_CHECK(nu_conf_get_str(conf, "no such key!", "def")[0] == 'd');
	FUZZ_CHECK(nu_conf_where(conf, "no such key!") == NULL);
	g_ptr_array_free(keys, TRUE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t first = nul ? (size_t)(nul - data) : size;
	char *a, *b;
	struct nu_conf *conf;
	GError *error = NULL;

	if (memchr(data, '/', size) && memmem(data, size, "include", 7))
		return 0;
	a = fuzz_write("a.conf", data, first);
	b = fuzz_write("b.conf", nul ? nul + 1 : data, nul ? size - first - 1 : 0);

	conf = nu_conf_load(a, &error);
	if (conf) {
		FUZZ_CHECK(error == NULL);
		read_back(conf);
		nu_conf_free(conf);
	} else {
		FUZZ_CHECK(error != NULL && error->domain == NU_CONF_ERROR);
		g_clear_error(&error);
	}

	fuzz_unlink(a);
	fuzz_unlink(b);
	g_free(a);
	g_free(b);
	return 0;
}
