/* nuauthctl pki's files: every output is checked before anything is
 * generated, created with O_EXCL, and removed again if a later step fails;
 * the CRL, the one file that is rewritten, is replaced whole (a new file
 * renamed over it). */
#include "config.h"
#include "nuauthctl.h"
#include "pki.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void outputs_add(struct outputs *o, const char *dir, const char *name)
{
	o->path[o->n++] = g_build_filename(dir, name, NULL);
}

bool outputs_absent(const struct outputs *o)
{
	bool ok = true;

	for (unsigned i = 0; i < o->n; i++) {
		struct stat st;

		if (lstat(o->path[i], &st) == 0) {
			nuctl_error("%s exists: not overwriting it", o->path[i]);
			ok = false;
		} else if (errno != ENOENT) {
			nuctl_error("%s: %s", o->path[i], strerror(errno));
			ok = false;
		}
	}
	return ok;
}

void outputs_finish(struct outputs *o, bool keep)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (!keep && o->created[i])
			unlink(o->path[i]);
		g_free(o->path[i]);
	}
	memset(o, 0, sizeof(*o));
}

bool write_new(struct outputs *o, unsigned i, const gnutls_datum_t *data, mode_t mode)
{
	const char *path = o->path[i];
	size_t off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0) {
		nuctl_error("cannot create %s: %s", path, strerror(errno));
		return false;
	}
	o->created[i] = true;
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (off < data->size) {
		ssize_t n = write(fd, data->data + off, data->size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return true;
fail:
	nuctl_error("cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return false;
}

bool read_file(const char *path, gnutls_datum_t *out)
{
	GError *error = NULL;
	gchar *text;
	gsize len;

	if (!g_file_get_contents(path, &text, &len, &error)) {
		nuctl_error("%s", error->message);
		g_error_free(error);
		return false;
	}
	out->data = (unsigned char *)text;
	out->size = (unsigned)len;
	return true;
}

bool replace_file(const char *path, const gnutls_datum_t *data)
{
	char *tmp = g_strdup_printf("%s.new", path);
	struct outputs o = { .path = { tmp }, .n = 1 };
	bool ok;

	unlink(tmp);	/* the leftover of a run that died */
	ok = write_new(&o, 0, data, 0644);
	if (ok && rename(tmp, path) < 0) {
		nuctl_error("cannot replace %s: %s", path, strerror(errno));
		ok = false;
	}
	if (!ok)
		unlink(tmp);
	g_free(tmp);
	return ok;
}

void print_written(const struct outputs *o, time_t not_after)
{
	char date[32];
	struct tm tm;

	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime_r(&not_after, &tm));
	for (unsigned i = 0; i < o->n; i++)
		printf("%s\n", o->path[i]);
	printf("valid until %s\n", date);
}
