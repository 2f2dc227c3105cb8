/* libFuzzer harness for mark_field's pattern file and its glob (modules/
 * mark_field and modules/common/markfile.c).
 *
 * Input: one byte choosing the field's width (1..32 bits), then the file
 * up to the first NUL, then a text to look up (an application path or an
 * OS name).  A table that loads gives one of its values or the default,
 * within the field.  The glob is checked on its own: every text matches
 * itself when it has no `*', and `*' + text + `*' matches it. */
#include "config.h"

#include "mark_field.h"
#include "markbits.h"
#include "conf.h"
#include "fuzz.h"

static void check_glob(const char *text)
{
	char *starred = g_strconcat("*", text, "*", NULL);

	if (!strchr(text, '*'))
		FUZZ_CHECK(mark_field_glob(text, text));
	FUZZ_CHECK(mark_field_glob(starred, text));
	FUZZ_CHECK(mark_field_glob("*", text));
	g_free(starred);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *file, *nul;
	size_t file_len;
	unsigned nbits;
	char *path, *text;
	GError *error = NULL;
	struct mark_field_table *table;

	if (size < 1)
		return 0;
	nbits = 1 + data[0] % 32;
	file = data + 1;
	nul = memchr(file, '\0', size - 1);
	file_len = nul ? (size_t)(nul - file) : size - 1;
	text = nul ? g_strndup((const char *)nul + 1, size - 1 - file_len - 1) : g_strdup("");
	check_glob(text);

	path = fuzz_write("mark_field.conf", file, file_len);
	table = mark_field_table_load(path, nbits, &error);
	if (table) {
		struct mark_field mf = { .table = table, .type = MARK_FIELD_APP,
					 .default_mark = 0, .nbits = nbits, .shift = 0 };
		uint32_t v = mark_field_lookup(table, text, UINT32_MAX);
		uint32_t m;

		FUZZ_CHECK(error == NULL);
		FUZZ_CHECK(v == UINT32_MAX || markbits_fits(v, nbits));
		m = mark_field_mark(&mf, 0xa5a5a5a5, text, NULL);
		FUZZ_CHECK((m & ~markbits_mask(nbits, 0)) == (0xa5a5a5a5u & ~markbits_mask(nbits, 0)));
		mf.type = MARK_FIELD_OS;
		(void)mark_field_mark(&mf, 0, NULL, text);
		(void)mark_field_mark(&mf, 0, NULL, NULL);
		(void)mark_field_table_count(table);
		mark_field_table_free(table);
	} else {
		FUZZ_CHECK(error != NULL && error->domain == NU_CONF_ERROR);
		g_clear_error(&error);
	}
	fuzz_unlink(path);
	g_free(path);
	g_free(text);
	return 0;
}
