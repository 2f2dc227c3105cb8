/* Shared by the libFuzzer harnesses: an assertion that crashes (so that
 * libFuzzer records the input), and a private folder for the parsers that
 * only read files. */
#ifndef NU_FUZZ_H
#define NU_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test does not hold: report and crash. */
#define FUZZ_CHECK(expr) do { \
	if (!(expr)) { \
		fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #expr); \
		abort(); \
	} \
} while (0)

static inline char **fuzz_dir_slot(void)
{
	static char *dir;

	return &dir;
}

static inline void fuzz_dir_remove(void)
{
	char **dir = fuzz_dir_slot();

	if (*dir) {
		g_rmdir(*dir);
		g_clear_pointer(dir, g_free);
	}
}

/* The harness's private folder, made on first use and removed at exit. */
static inline const char *fuzz_tmpdir(void)
{
	char **dir = fuzz_dir_slot();

	if (!*dir) {
		GError *error = NULL;

		*dir = g_dir_make_tmp("nufw-fuzz-XXXXXX", &error);
		if (!*dir) {
			fprintf(stderr, "fuzz: %s\n", error->message);
			abort();
		}
		atexit(fuzz_dir_remove);
	}
	return *dir;
}

/* Writes size bytes to name in the private folder; returns its path (to
 * g_free, after fuzz_unlink). */
static inline char *fuzz_write(const char *name, const uint8_t *data, size_t size)
{
	char *path = g_build_filename(fuzz_tmpdir(), name, NULL);
	FILE *f = fopen(path, "wb");

	if (!f || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(path);
		abort();
	}
	return path;
}

static inline void fuzz_unlink(const char *path)
{
	g_unlink(path);
}

#endif
