/* mark_field: the application or the operating system of a connection
 * chooses a value that is written into a bit field of the mark.
 *
 *   mark_field_file          lines `mark:pattern' (default
 *                            SYSCONFDIR/nufw/mark_field.conf)
 *   mark_field_type          0: patterns match the application's full path,
 *                            1: the OS name (sysname, e.g. `Linux') (0)
 *   mark_field_default_mark  the value when no pattern matches (0)
 *   mark_field_nbits         width of the field (32)
 *   mark_field_shift         its lowest bit (0)
 *
 * A pattern is matched against the whole text; `*' matches any run of
 * characters (`/' included), every other character only itself.  The first
 * matching line gives the value.  Marks are decimal or 0x-hexadecimal and
 * must fit in nbits; the pattern is everything after the first `:'.  A
 * value may be 0 (with mark_uid beside it the mark stays a user's); nuauth
 * drops an accepted user's connection whose composed mark is 0. */
#ifndef NU_MARK_FIELD_H
#define NU_MARK_FIELD_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

enum mark_field_type {
	MARK_FIELD_APP = 0,
	MARK_FIELD_OS = 1,
};

/* Whether text matches the glob pattern (`*' only). */
bool mark_field_glob(const char *pattern, const char *text);

struct mark_field_table;

/* Loads a pattern file whose marks must fit in nbits bits.  NULL with
 * *error ("file: why" or "file:line: why, quoting the bad text") on
 * failure. */
struct mark_field_table *mark_field_table_load(const char *path, unsigned nbits,
					       GError **error);
void mark_field_table_free(struct mark_field_table *table);
unsigned mark_field_table_count(const struct mark_field_table *table);

/* The value of the first line whose pattern matches text, or def. */
uint32_t mark_field_lookup(const struct mark_field_table *table, const char *text,
			   uint32_t def);

struct mark_field {
	struct mark_field_table *table;
	enum mark_field_type type;
	uint32_t default_mark;
	unsigned nbits, shift;
};

/* mark with the field replaced by the value chosen for app or os_sysname
 * (by type; NULL counts as ""). */
uint32_t mark_field_mark(const struct mark_field *mf, uint32_t mark, const char *app,
			 const char *os_sysname);

#endif
