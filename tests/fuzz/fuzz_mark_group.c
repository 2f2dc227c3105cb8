/* libFuzzer harness for mark_group's group file (modules/mark_group and
 * the line reader of modules/common/markfile.c).
 *
 * Input: one byte choosing the field's width (1..32 bits), then the file.
 * A table that loads must give, for any groups, one of its own values or
 * the default, within the field; a file that does not load must say why as
 * a configuration error. */
#include "config.h"

#include "mark_group.h"
#include "markbits.h"
#include "conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned nbits;
	char *path;
	GError *error = NULL;
	struct mark_group_table *table;

	if (size < 1)
		return 0;
	nbits = 1 + data[0] % 32;
	path = fuzz_write("mark_group.conf", data + 1, size - 1);
	table = mark_group_table_load(path, nbits, &error);
	if (table) {
		/* Group ids taken from the input itself, and the extremes. */
		uint32_t groups[8] = { 0, 1, UINT32_MAX, 1000 };
		size_t n = 4;
		struct mark_group mg = { .table = table, .default_mark = 0,
					 .nbits = nbits, .shift = 32 - nbits };

		FUZZ_CHECK(error == NULL);
		for (size_t i = 1; i + 4 <= size && n < G_N_ELEMENTS(groups); i += 4)
			memcpy(&groups[n++], data + i, 4);
		for (size_t k = 0; k <= n; k++) {
			uint32_t v = mark_group_lookup(table, groups, k, UINT32_MAX);
			uint32_t m;

			FUZZ_CHECK(v == UINT32_MAX || markbits_fits(v, nbits));
			/* The mark outside the field is kept. */
			m = mark_group_mark(&mg, 0x5a5a5a5a, groups, k);
			FUZZ_CHECK((m & ~markbits_mask(nbits, mg.shift)) ==
				   (0x5a5a5a5au & ~markbits_mask(nbits, mg.shift)));
		}
		FUZZ_CHECK(mark_group_lookup(table, NULL, 0, 7) == 7);
		(void)mark_group_table_count(table);
		mark_group_table_free(table);
	} else {
		FUZZ_CHECK(error != NULL && error->domain == NU_CONF_ERROR);
		g_clear_error(&error);
	}
	fuzz_unlink(path);
	g_free(path);
	return 0;
}
