/* The error convention (doc/architecture.md, "STYLE notes") as callers see
 * it: a failing function of src/lib returns false with a GError of domain
 * NU_ERROR and a code telling what went wrong, its message naming the file;
 * the older `char **err' forms give the same message. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <glib.h>

#include "error.h"
#include "privdrop.h"
#include "tls.h"
#include "unit.h"
#include "unit_files.h"

/* nu_check_secret_file on a file of that mode: its answer and error. */
static bool secret_check(mode_t mode, bool ok, int code, const char *want)
{
	char *path = unit_write_file("secret.key", "not much of a key\n");
	GError *error = NULL;
	bool got, good;

	if (chmod(path, mode) < 0)
		g_error("chmod %s", path);
	got = nu_check_secret_file(path, &error);
	good = got == ok && (ok ? !error
				: g_error_matches(error, NU_ERROR, code) &&
					  strstr(error->message, path) &&
					  strstr(error->message, want));
	if (!good)
		printf("    mode %04o: wanted %s `%s', got %s `%s'\n", (unsigned)mode,
		       ok ? "ok" : "refused", want ? want : "", got ? "ok" : "refused",
		       error ? error->message : "");
	g_clear_error(&error);
	g_free(path);
	return good;
}

int main(void)
{
	GError *error = NULL;
	char *err = NULL, *path;

	CHECK(secret_check(0600, true, 0, NULL));
	CHECK(secret_check(0640, true, 0, NULL));
	CHECK(secret_check(0644, false, NU_ERROR_PRIVILEGE,
			   "holds secrets but other users can read it (mode 0644): chmod o-rw"));
	CHECK(secret_check(0602, false, NU_ERROR_PRIVILEGE, "other users can write it"));
	CHECK(!nu_check_secret_file("/nonexistent/secret.key", &error) &&
	      g_error_matches(error, NU_ERROR, NU_ERROR_IO) &&
	      strcmp(error->message, "/nonexistent/secret.key: No such file or directory") == 0);
	g_clear_error(&error);
	/* A caller that does not want the reason passes NULL. */
	CHECK(!nu_check_secret_file("/nonexistent/secret.key", NULL));

	/* Readable by others: NU_ERROR_PRIVILEGE, with the command that mends
	 * it; untouched on success. */
	path = unit_write_file("secret.key", "x\n");
	chmod(path, 0604);
	CHECK(!nu_check_secret_file(path, &error) &&
	      g_error_matches(error, NU_ERROR, NU_ERROR_PRIVILEGE) &&
	      strstr(error->message, "chmod o-rw"));
	g_clear_error(&error);
	chmod(path, 0600);
	CHECK(nu_check_secret_file(path, &error) && error == NULL);

	/* Credentials: a missing CA is NU_ERROR_TLS and names the file. */
	CHECK(!nu_tls_load_creds("/nonexistent/ca.pem", NULL, NULL, NULL, &error) &&
	      g_error_matches(error, NU_ERROR, NU_ERROR_TLS) &&
	      g_str_has_prefix(error->message, "/nonexistent/ca.pem: cannot load CA certificate"));
	g_clear_error(&error);
	CHECK(!nu_tls_load_creds(NULL, NULL, NULL, NULL, &error) &&
	      g_error_matches(error, NU_ERROR, NU_ERROR_TLS) &&
	      strcmp(error->message, "no CA certificate given") == 0);
	g_clear_error(&error);

	/* nu_error_take_message hands over the text and frees the rest. */
	g_set_error(&error, NU_ERROR, NU_ERROR_FAILED, "%s: %d", "text", 42);
	err = nu_error_take_message(error);
	CHECK(err && strcmp(err, "text: 42") == 0);
	g_free(err);
	CHECK(nu_error_take_message(NULL) == NULL);

	g_free(path);
	unit_files_cleanup();
	return unit_done("errors");
}
