/* libnuclient's apphash.c: the SHA-256 of the program a process runs, read
 * through /proc/PID/exe, cached per file.  Real processes: copies of
 * sleep(1) started here, one of whose files is replaced while it runs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "apphash.h"
#include "log.h"
#include "unit.h"
#include "unit_files.h"

/* Copies the program at from into the scratch folder as name, mode 0755. */
static char *copy_program(const char *from, const char *name, const char *tail)
{
	char *data = NULL, *path;
	gsize len = 0;
	GString *s;

	if (!g_file_get_contents(from, &data, &len, NULL))
		g_error("cannot read %s", from);
	s = g_string_new_len(data, (gssize)len);
	g_string_append(s, tail);	/* bytes after the ELF image: a different file */
	path = g_build_filename(unit_tmpdir(), name, NULL);
	if (!g_file_set_contents(path, s->str, (gssize)s->len, NULL) || g_chmod(path, 0755) < 0)
		g_error("cannot write %s", path);
	g_string_free(s, TRUE);
	g_free(data);
	return path;
}

static void file_sha256(const char *path, uint8_t out[NC_SHA256_LEN])
{
	char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, NULL) ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) < 0)
		g_error("cannot hash %s", path);
	g_free(data);
}

/* Starts path ("sleep 30"); returns once it has executed: the pipe's write
 * end is close-on-exec, so EOF on the read end is the exec. */
static pid_t start(const char *path)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		g_error("cannot start %s: %s", path, g_strerror(errno));
	if (pid == 0) {
		execl(path, path, "30", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	close(p[0]);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	struct nc_apphash *cache = nc_apphash_new();
	const char *sleep_bin = g_file_test("/bin/sleep", G_FILE_TEST_EXISTS) ? "/bin/sleep"
										   : "/usr/bin/sleep";
	char *prog = copy_program(sleep_bin, "prog", "");
	char *next = copy_program(sleep_bin, "prog.next", "a newer build");
	uint8_t want_old[NC_SHA256_LEN], want_new[NC_SHA256_LEN], got[NC_SHA256_LEN];
	pid_t old_pid, new_pid;

	nu_log_init("test_apphash", false, LOG_WARNING);
	file_sha256(prog, want_old);
	file_sha256(next, want_new);
	CHECK(memcmp(want_old, want_new, NC_SHA256_LEN) != 0);

	old_pid = start(prog);
	CHECK(nc_apphash_get(cache, old_pid, prog, got));
	CHECK(memcmp(got, want_old, NC_SHA256_LEN) == 0);
	CHECK(nc_apphash_computed(cache) == 1);
	/* the same file again: from the cache */
	memset(got, 0, sizeof(got));
	CHECK(nc_apphash_get(cache, old_pid, prog, got));
	CHECK(memcmp(got, want_old, NC_SHA256_LEN) == 0);
	CHECK(nc_apphash_computed(cache) == 1);

	/* An upgrade renames a new file over the path while the old one runs:
	 * the running process is still known by the code it runs, also to a
	 * fresh cache, and a process started now by the new file's. */
	CHECK(rename(next, prog) == 0);
	nc_apphash_free(cache);
	cache = nc_apphash_new();
	CHECK(nc_apphash_get(cache, old_pid, prog, got));
	CHECK(memcmp(got, want_old, NC_SHA256_LEN) == 0);
	new_pid = start(prog);
	CHECK(nc_apphash_get(cache, new_pid, prog, got));
	CHECK(memcmp(got, want_new, NC_SHA256_LEN) == 0);
	CHECK(nc_apphash_computed(cache) == 2);

	/* a process that is gone: no hash */
	stop(old_pid);
	CHECK(!nc_apphash_get(cache, old_pid, prog, got));
	stop(new_pid);

	nc_apphash_free(cache);
	g_remove(prog);
	g_free(prog);
	g_free(next);
	unit_files_cleanup();
	return unit_done("apphash");
}
