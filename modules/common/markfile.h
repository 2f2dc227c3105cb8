/* Line-oriented files of the mark modules (mark_group, mark_field): one
 * entry a line; blank lines and lines whose first non-blank character is `#'
 * are skipped. */
#ifndef NU_MARKFILE_H
#define NU_MARKFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* Parses one entry: line has no surrounding white space and may be changed.
 * False with *error (without file:line, which the reader adds). */
typedef bool (*markfile_line_fn)(char *line, unsigned lineno, void *ctx, GError **error);

/* Calls fn for each entry of path, stopping at the first failure.  False
 * with *error: "path: why" when the file cannot be read, "path:line: why"
 * when an entry is bad. */
bool markfile_read(const char *path, markfile_line_fn fn, void *ctx, GError **error);

/* A number in 0..UINT32_MAX, decimal or 0x-prefixed hexadecimal, with nothing
 * around it. */
bool markfile_parse_u32(const char *s, uint32_t *out);

#endif
