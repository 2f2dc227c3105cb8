/* Replays a harness's stored inputs without libFuzzer, for make check in
 * the ordinary builds (gcc, and --enable-sanitizers, where ASan and UBSan
 * catch what the harness alone would not).  Linked with one fuzz_*.c, it
 * gives LLVMFuzzerTestOneInput the empty input (libFuzzer's first) and then
 * every file of each folder or file named on the command line, or, with no
 * argument, of $FUZZ_CORPUS/FUZZ_CORPUS_NAME (FUZZ_CORPUS_NAME is set per
 * program by the Makefile).  Each input sits in a buffer of exactly its
 * size, as under libFuzzer.  A crash or a failed FUZZ_CHECK ends the
 * program (the last "replay:" line names the input); otherwise it prints
 * how many inputs it replayed and exits 0. */
#include "config.h"

#include "fuzz.h"

#ifndef FUZZ_CORPUS_NAME
#error "FUZZ_CORPUS_NAME: the corpus folder's name under corpus/, set by the Makefile"
#endif

static unsigned int replayed;

static void replay_bytes(const char *what, const uint8_t *data, size_t size)
{
	/* An exact copy, so that a read one byte past the input is caught. */
	uint8_t *copy = malloc(size > 0 ? size : 1);

	if (!copy) {
		fprintf(stderr, "replay: %s: out of memory\n", what);
		exit(1);
	}
	if (size > 0)
		memcpy(copy, data, size);
	printf("replay: %s (%zu bytes)\n", what, size);
	fflush(stdout);
	LLVMFuzzerTestOneInput(copy, size);
	free(copy);
	replayed++;
}

static gboolean replay_file(const char *path)
{
	GError *error = NULL;
	char *data;
	gsize size;

	if (!g_file_get_contents(path, &data, &size, &error)) {
		fprintf(stderr, "replay: %s\n", error->message);
		g_error_free(error);
		return FALSE;
	}
	replay_bytes(path, (const uint8_t *)data, size);
	g_free(data);
	return TRUE;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order (the same order on every run). */
static gboolean replay_dir(const char *dir)
{
	GError *error = NULL;
	GDir *d = g_dir_open(dir, 0, &error);
	GPtrArray *paths;
	const char *name;
	gboolean ok = TRUE;

	if (!d) {
		fprintf(stderr, "replay: %s\n", error->message);
		g_error_free(error);
		return FALSE;
	}
	paths = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(paths, g_build_filename(dir, name, NULL));
	g_dir_close(d);
	qsort(paths->pdata, paths->len, sizeof(char *), compare_names);
	for (guint i = 0; i < paths->len && ok; i++) {
		const char *path = g_ptr_array_index(paths, i);

		if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
			ok = replay_file(path);
	}
	g_ptr_array_free(paths, TRUE);
	return ok;
}

static gboolean replay_path(const char *path)
{
	if (g_file_test(path, G_FILE_TEST_IS_DIR))
		return replay_dir(path);
	return replay_file(path);
}

int main(int argc, char **argv)
{
	const char *top = getenv("FUZZ_CORPUS");
	char *corpus = NULL;
	gboolean ok = TRUE;

	replay_bytes("the empty input", (const uint8_t *)"", 0);
	if (argc > 1) {
		for (int i = 1; i < argc && ok; i++)
			ok = replay_path(argv[i]);
	} else {
		corpus = g_build_filename(top && *top ? top : "corpus", FUZZ_CORPUS_NAME, NULL);
		ok = replay_dir(corpus);
	}
	/* Besides the empty input, a corpus must hold something: an empty or
	 * misplaced folder would otherwise pass without testing anything. */
	if (ok && replayed < 2) {
		fprintf(stderr, "replay: no input found in %s\n", corpus ? corpus : "the arguments");
		ok = FALSE;
	}
	if (ok)
		printf("replay: %u inputs, no crash\n", replayed);
	g_free(corpus);
	return ok ? 0 : 1;
}
