/* nuauthctl user add: appends a user to the plaintext module's users file
 * (users.nufw, acls.nufw(5)):
 *
 *   nuauthctl user add NAME UID GID[,GID...] [-f FILE]
 *
 * The password is read as nuauthctl hash reads it (asked twice, without
 * echo, on a terminal) and stored as its yescrypt hash with the
 * SCRAM-SHA-256 verifier, good for both logins.  The file is only appended
 * to, so it keeps its owner and mode; a name already in it is refused.
 * nuauth reads the file again on nuauthctl reload. */
#include "config.h"
#include "nuauthctl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#define DEFAULT_USERFILE SYSCONFDIR "/nufw/users.nufw"

void nuctl_user_usage(FILE *out)
{
	fprintf(out,
		"usage: nuauthctl user add NAME UID GID[,GID...] [-f FILE]\n"
		"  add          appends NAME to the users file with a password read from\n"
		"               stdin (asked twice, without echo, on a terminal), hashed\n"
		"               as nuauthctl hash --scram does; nuauthctl reload applies it\n"
		"  -f FILE      the users file (default " DEFAULT_USERFILE ")\n");
}

/* A name the users file can hold: no colon, blank or control character, and
 * not one that reads as a comment. */
static bool name_ok(const char *name)
{
	if (!*name || *name == '#' || strlen(name) > 255)
		return false;
	for (const char *s = name; *s; s++)
		if (*s == ':' || g_ascii_isspace(*s) || g_ascii_iscntrl(*s))
			return false;
	return true;
}

static bool id_ok(const char *text)
{
	guint64 v;

	return g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &v, NULL);
}

static bool gids_ok(const char *text)
{
	char **gids = g_strsplit(text, ",", -1);
	bool ok = gids[0] != NULL;

	for (char **g = gids; *g && ok; g++)
		ok = id_ok(*g);
	g_strfreev(gids);
	return ok;
}

/* Whether FILE's text has a user NAME (names compare without case, as
 * nuauth finds them). */
static bool has_user(const char *text, const char *name)
{
	size_t n = strlen(name);
	char **lines = g_strsplit(text, "\n", -1);
	bool found = false;

	for (char **l = lines; *l && !found; l++)
		found = g_ascii_strncasecmp(*l, name, n) == 0 && (*l)[n] == ':';
	g_strfreev(lines);
	return found;
}

static bool append(const char *path, const char *text)
{
	size_t len = strlen(text), done = 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0) {
		nuctl_error("user: %s: %s", path, strerror(errno));
		return false;
	}
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			nuctl_error("user: %s: %s", path, w < 0 ? strerror(errno) : "short write");
			close(fd);
			return false;
		}
		done += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		nuctl_error("user: %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

int nuctl_user_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_USERFILE, *name, *uid, *gids;
	char *text = NULL, *field = NULL, *line = NULL;
	GError *err = NULL;
	int opt, status = NUCTL_FAILED;

	if (argc < 2 || strcmp(argv[1], "add") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
			nuctl_user_usage(stdout);
			return NUCTL_OK;
		}
		nuctl_user_usage(stderr);
		return NUCTL_USAGE;
	}
	argc--, argv++;	/* argv[0] is now "add" */
	while ((opt = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f': path = optarg; break;
		case 'h': nuctl_user_usage(stdout); return NUCTL_OK;
		default: nuctl_user_usage(stderr); return NUCTL_USAGE;
		}
	}
	if (argc - optind != 3) {
		nuctl_user_usage(stderr);
		return NUCTL_USAGE;
	}
	name = argv[optind], uid = argv[optind + 1], gids = argv[optind + 2];
	if (!name_ok(name)) {
		nuctl_error("user: `%s' cannot be a user name (no colon, blank or control character)",
			    name);
		return NUCTL_USAGE;
	}
	if (!id_ok(uid) || !gids_ok(gids)) {
		nuctl_error("user: `%s' `%s': expected a uid and a comma list of gids (numbers)",
			    uid, gids);
		return NUCTL_USAGE;
	}
	if (!g_file_get_contents(path, &text, NULL, &err)) {
		nuctl_error("user: %s", err->message);
		g_error_free(err);
		return NUCTL_FAILED;
	}
	if (has_user(text, name)) {
		nuctl_error("user: %s already has a user `%s'", path, name);
	} else if ((field = nuctl_hash_read_field()) != NULL) {
		line = g_strdup_printf("%s%s:%s:%s:%s\n",
				       *text && text[strlen(text) - 1] != '\n' ? "\n" : "",
				       name, field, uid, gids);
		if (append(path, line)) {
			printf("user %s added to %s; nuauthctl reload applies it\n", name, path);
			status = NUCTL_OK;
		}
	}
	g_free(text);
	if (line)
		explicit_bzero(line, strlen(line));
	g_free(line);
	if (field)
		explicit_bzero(field, strlen(field));
	g_free(field);
	return status;
}
