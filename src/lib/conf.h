/* Reader for NuFW-style configuration files:
 *
 *   # comment
 *   key=value
 *   key = "a quoted string"   # trailing comment
 *   include "other.conf"      (relative to the including file's folder)
 *
 * The last assignment of a key wins.  Every error names file:line.  Keys are
 * marked as used when read, so that the program can warn about the ones
 * nothing read (unknown keys) with their file:line. */
#ifndef NU_CONF_H
#define NU_CONF_H

#include <stdbool.h>
#include <glib.h>

#define NU_CONF_ERROR (nu_conf_error_quark())
GQuark nu_conf_error_quark(void);
enum nu_conf_error { NU_CONF_ERROR_IO, NU_CONF_ERROR_SYNTAX, NU_CONF_ERROR_VALUE };

struct nu_conf;

/* Loads path and its includes.  NULL with *error set ("file:line: why", or
 * "file: strerror" when it cannot be read). */
struct nu_conf *nu_conf_load(const char *path, GError **error);
/* An empty configuration (every key at its default). */
struct nu_conf *nu_conf_new_empty(void);
void nu_conf_free(struct nu_conf *conf);

/* The value of key, or def when absent.  Marks key as used. */
const char *nu_conf_get_str(struct nu_conf *conf, const char *key, const char *def);
/* Integer value in [min, max]; def when absent.  False with *error
 * ("file:line: key: ...") when the value is not such an integer. */
bool nu_conf_get_int(struct nu_conf *conf, const char *key, long def,
		     long min, long max, long *out, GError **error);
/* Where key was set, "file:line", or NULL when it was not.  The string lives
 * as long as conf. */
const char *nu_conf_where(struct nu_conf *conf, const char *key);

/* Calls fn for every assignment that nothing read, in file order. */
void nu_conf_foreach_unused(struct nu_conf *conf,
			    void (*fn)(const char *key, const char *file, unsigned line, void *ctx),
			    void *ctx);
/* Logs a warning, file:line, for each of them: a misspelt key must not go
 * unnoticed. */
void nu_conf_warn_unused(struct nu_conf *conf);

#endif
