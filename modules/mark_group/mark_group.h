/* mark_group: the user's groups choose a value that is written into a bit
 * field of the mark.
 *
 *   mark_group_group_file    lines `gid[,gid...]:mark' (default
 *                            SYSCONFDIR/nufw/mark_group.conf)
 *   mark_group_default_mark  the value when no line lists one of the
 *                            user's groups (0)
 *   mark_group_nbits         width of the field (32)
 *   mark_group_shift         its lowest bit (0)
 *
 * The first line that lists one of the user's groups gives the value.
 * Numbers are decimal or 0x-hexadecimal; every value must fit in nbits.
 * A value may be 0: with mark_uid beside it the mark stays a user's; a
 * user whose composed mark is 0 is dropped by nuauth (decide.c), since the
 * gateway cannot tell that connection from an unmarked one. */
#ifndef NU_MARK_GROUP_H
#define NU_MARK_GROUP_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct mark_group_table;

/* Loads a group file whose marks must fit in nbits bits.  NULL with *error
 * ("file: why" or "file:line: why, quoting the bad text") on failure. */
struct mark_group_table *mark_group_table_load(const char *path, unsigned nbits,
					       GError **error);
void mark_group_table_free(struct mark_group_table *table);
unsigned mark_group_table_count(const struct mark_group_table *table);

/* The value of the first line listing one of groups, or def. */
uint32_t mark_group_lookup(const struct mark_group_table *table, const uint32_t *groups,
			   size_t ngroups, uint32_t def);

struct mark_group {
	struct mark_group_table *table;
	uint32_t default_mark;
	unsigned nbits, shift;
};

/* mark with the field replaced by the value chosen for groups. */
uint32_t mark_group_mark(const struct mark_group *mg, uint32_t mark, const uint32_t *groups,
			 size_t ngroups);

#endif
