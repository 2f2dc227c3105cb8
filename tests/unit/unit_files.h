/* Scratch files for the unit tests that load files: a private folder made
 * at first use, and removed with everything written into it by
 * unit_files_cleanup(); and the check that a loader's error names
 * file:line as the daemons must. */
#ifndef NU_UNIT_FILES_H
#define NU_UNIT_FILES_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

static char *unit_dir;
static GPtrArray *unit_created;	/* paths to remove, files before folders */

static inline const char *unit_tmpdir(void)
{
	if (!unit_dir) {
		unit_dir = g_dir_make_tmp("nufw-unit-XXXXXX", NULL);
		if (!unit_dir)
			g_error("cannot make a temporary folder");
		unit_created = g_ptr_array_new_with_free_func(g_free);
	}
	return unit_dir;
}

/* Writes text to name (which may name a subfolder, made when missing) in
 * the scratch folder; returns its path, g_free'd by the caller. */
static inline char *unit_write_file(const char *name, const char *text)
{
	char *path = g_build_filename(unit_tmpdir(), name, NULL);
	char *dir = g_path_get_dirname(path);

	if (strcmp(dir, unit_dir) != 0 && !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		if (g_mkdir_with_parents(dir, 0700) < 0)
			g_error("cannot make %s", dir);
		g_ptr_array_add(unit_created, g_strdup(dir));
	}
	g_free(dir);
	if (!g_file_set_contents(path, text, -1, NULL))
		g_error("cannot write %s", path);
	g_ptr_array_insert(unit_created, 0, g_strdup(path));
	return path;
}

static inline void unit_files_cleanup(void)
{
	if (!unit_dir)
		return;
	for (guint i = 0; i < unit_created->len; i++)
		g_remove(g_ptr_array_index(unit_created, i));
	g_ptr_array_free(unit_created, TRUE);
	g_rmdir(unit_dir);
	g_clear_pointer(&unit_dir, g_free);
}

/* Is error "<path>:<suffix>"?  Prints what was wanted and got when not. */
static inline bool unit_error_is(const GError *error, const char *path, const char *suffix)
{
	char *want = g_strdup_printf("%s:%s", path, suffix);
	bool ok = error && strcmp(error->message, want) == 0;

	if (!ok)
		fprintf(stderr, "want: %s\n got: %s\n", want, error ? error->message : "(no error)");
	g_free(want);
	return ok;
}

#endif
