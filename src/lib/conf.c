/* NuFW-style configuration reader; see conf.h for the syntax. */
#include "config.h"
#include "conf.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How deep includes may nest (the top file is depth 0). */
#define CONF_MAX_DEPTH 16
/* No setting needs more; a longer line is a file that is not a
 * configuration (a binary named by mistake), refused before it fills
 * memory.  Bytes, without the end of line. */
#define CONF_LINE_MAX 65536

/* One key, whatever the number of times it is assigned. */
struct conf_key {
	char *name;
	const struct conf_entry *last;	/* the assignment that wins */
	char *where;			/* "file:line" of last, made on demand */
	bool used;
};

/* One assignment, in file order. */
struct conf_entry {
	struct conf_key *key;
	char *value;
	const char *file;		/* owned by conf->files */
	unsigned line;
};

struct nu_conf {
	GHashTable *keys;		/* name -> struct conf_key (owned) */
	GPtrArray *entries;		/* struct conf_entry (owned), file order */
	GPtrArray *files;		/* file names (owned) */
};

/* Canonical names of the files being read, to detect include loops. */
struct conf_stack {
	const char *real[CONF_MAX_DEPTH + 1];
	unsigned depth;
};

G_DEFINE_QUARK(nu-conf-error-quark, nu_conf_error)

static void conf_key_free(void *p)
{
	struct conf_key *k = p;

	g_free(k->name);
	g_free(k->where);
	g_free(k);
}

static void conf_entry_free(void *p)
{
	struct conf_entry *e = p;

	g_free(e->value);
	g_free(e);
}

struct nu_conf *nu_conf_new_empty(void)
{
	struct nu_conf *conf = g_new0(struct nu_conf, 1);

	conf->keys = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, conf_key_free);
	conf->entries = g_ptr_array_new_with_free_func(conf_entry_free);
	conf->files = g_ptr_array_new_with_free_func(g_free);
	return conf;
}

void nu_conf_free(struct nu_conf *conf)
{
	if (!conf)
		return;
	g_ptr_array_free(conf->entries, TRUE);
	g_hash_table_destroy(conf->keys);
	g_ptr_array_free(conf->files, TRUE);
	g_free(conf);
}

static void conf_set(struct nu_conf *conf, const char *file, unsigned line,
		     const char *key, size_t keylen, char *value)
{
	char *name = g_strndup(key, keylen);
	struct conf_key *k = g_hash_table_lookup(conf->keys, name);
	struct conf_entry *e = g_new0(struct conf_entry, 1);

	if (!k) {
		k = g_new0(struct conf_key, 1);
		k->name = name;
		g_hash_table_insert(conf->keys, k->name, k);
	} else {
		g_free(name);
		g_clear_pointer(&k->where, g_free);
	}
	e->key = k;
	e->value = value;
	e->file = file;
	e->line = line;
	k->last = e;
	g_ptr_array_add(conf->entries, e);
}

static bool is_key_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads the value starting at *pp: a quoted string or the rest of the line
 * up to a comment, trimmed.  NULL with *error set on bad syntax. */
static char *parse_value(const char *file, unsigned line, const char *p, GError **error)
{
	GString *s;
	const char *start = p;

	if (*p != '"') {
		const char *end = strchr(p, '#');

		if (!end)
			end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		return g_strndup(p, end - p);
	}

	s = g_string_new(NULL);
	for (p++; *p && *p != '"'; p++) {
		/* \" and \\ are escapes; any other backslash stays as it is. */
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		g_string_append_c(s, *p);
	}
	if (*p != '"') {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: unterminated string `%s'", file, line, start);
		g_string_free(s, TRUE);
		return NULL;
	}
	p = skip_space(p + 1);
	if (*p && *p != '#') {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: unexpected text `%s' after the closing quote", file, line, p);
		g_string_free(s, TRUE);
		return NULL;
	}
	return g_string_free(s, FALSE);
}

static bool conf_read(struct nu_conf *conf, const char *path, struct conf_stack *stack,
		      const char *from_file, unsigned from_line, GError **error);

static bool conf_include(struct nu_conf *conf, const char *file, unsigned line,
			 const char *target, struct conf_stack *stack, GError **error)
{
	char *full, *dir;
	bool ok;

	if (!*target) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: include needs a file name", file, line);
		return false;
	}
	if (g_path_is_absolute(target)) {
		full = g_strdup(target);
	} else {
		dir = g_path_get_dirname(file);
		full = g_build_filename(dir, target, NULL);
		g_free(dir);
	}
	ok = conf_read(conf, full, stack, file, line, error);
	g_free(full);
	return ok;
}

/* Parses one line (without its newline). */
static bool conf_line(struct nu_conf *conf, const char *file, unsigned line,
		      const char *text, struct conf_stack *stack, GError **error)
{
	const char *p = skip_space(text), *key, *after;
	size_t keylen;
	char *value;

	if (!*p || *p == '#')
		return true;

	key = p;
	while (is_key_char(*p))
		p++;
	keylen = p - key;
	if (keylen == 0) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: expected `key=value', got `%s'", file, line, key);
		return false;
	}
	after = skip_space(p);

	if (keylen == 7 && memcmp(key, "include", 7) == 0 && after != p && *after != '=') {
		bool ok;

		if (!(value = parse_value(file, line, after, error)))
			return false;
		ok = conf_include(conf, file, line, value, stack, error);
		g_free(value);
		return ok;
	}

	if (*after != '=') {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: expected `key=value', got `%s'", file, line, key);
		return false;
	}
	if (!(value = parse_value(file, line, skip_space(after + 1), error)))
		return false;
	conf_set(conf, file, line, key, keylen, value);
	return true;
}

static void set_io_error(const char *path, const char *from_file, unsigned from_line,
			 int err, GError **error)
{
	if (from_file)
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s:%u: %s: %s",
			    from_file, from_line, path, g_strerror(err));
	else
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s: %s",
			    path, g_strerror(err));
}

enum line_read { LINE_OK, LINE_EOF, LINE_ERROR, LINE_TOO_LONG, LINE_NUL };

/* One line into buf (CONF_LINE_MAX + 2 bytes), without its "\n" or
 * "\r\n", NUL-terminated.  Reads no further than the limit. */
static enum line_read read_line(FILE *f, char *buf)
{
	size_t n = 0;
	bool nul = false;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		/* Room for a "\r" past the limit, taken off below. */
		if (n > CONF_LINE_MAX || (n == CONF_LINE_MAX && c != '\r'))
			return LINE_TOO_LONG;
		nul |= c == '\0';
		buf[n++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return LINE_ERROR;
	if (c == EOF && n == 0)
		return LINE_EOF;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return nul ? LINE_NUL : LINE_OK;
}

static bool conf_read(struct nu_conf *conf, const char *path, struct conf_stack *stack,
		      const char *from_file, unsigned from_line, GError **error)
{
	FILE *f = NULL;
	char *real = NULL, *buf = NULL;
	char *file;
	enum line_read got;
	unsigned line = 0, i;
	bool ok = false;

	if (stack->depth > CONF_MAX_DEPTH) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
			    "%s:%u: includes nested more than %d deep at `%s'",
			    from_file, from_line, CONF_MAX_DEPTH, path);
		return false;
	}
	if (!(f = fopen(path, "re")) || !(real = realpath(path, NULL))) {
		set_io_error(path, from_file, from_line, errno, error);
		goto out;
	}
	for (i = 0; i < stack->depth; i++) {
		if (strcmp(stack->real[i], real) == 0) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
				    "%s:%u: include loop: `%s' is already being read",
				    from_file, from_line, path);
			goto out;
		}
	}
	stack->real[stack->depth++] = real;

	file = g_strdup(path);
	g_ptr_array_add(conf->files, file);

	buf = g_malloc(CONF_LINE_MAX + 2);
	errno = 0;
	while ((got = read_line(f, buf)) != LINE_EOF) {
		line++;
		if (got == LINE_ERROR) {
			set_io_error(path, from_file, from_line, errno ? errno : EIO, error);
			goto pop;
		}
		if (got == LINE_TOO_LONG) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
				    "%s:%u: line longer than %d bytes", file, line, CONF_LINE_MAX);
			goto pop;
		}
		if (got == LINE_NUL) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_SYNTAX,
				    "%s:%u: line contains a NUL byte", file, line);
			goto pop;
		}
		if (!conf_line(conf, file, line, buf, stack, error))
			goto pop;
		errno = 0;
	}
	ok = true;
pop:
	stack->depth--;
out:
	if (f)
		fclose(f);
	g_free(buf);
	free(real);
	return ok;
}

struct nu_conf *nu_conf_load(const char *path, GError **error)
{
	struct nu_conf *conf = nu_conf_new_empty();
	struct conf_stack stack = { .depth = 0 };

	if (!conf_read(conf, path, &stack, NULL, 0, error)) {
		nu_conf_free(conf);
		return NULL;
	}
	return conf;
}

static struct conf_key *conf_lookup(struct nu_conf *conf, const char *key)
{
	return conf ? g_hash_table_lookup(conf->keys, key) : NULL;
}

const char *nu_conf_get_str(struct nu_conf *conf, const char *key, const char *def)
{
	struct conf_key *k = conf_lookup(conf, key);

	if (!k)
		return def;
	k->used = true;
	return k->last->value;
}

/* Full-string decimal or 0x hexadecimal, with an optional sign. */
static bool parse_long(const char *s, long *out)
{
	const char *p = s, *digits;
	bool neg = false;
	unsigned long long v = 0, limit;
	unsigned base = 10;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	digits = p;
	limit = neg ? (unsigned long long)LONG_MAX + 1 : (unsigned long long)LONG_MAX;
	for (; *p; p++) {
		int d = g_ascii_xdigit_value(*p);

		if (d < 0 || (unsigned)d >= base)
			return false;
		if (v > (limit - d) / base)
			return false;
		v = v * base + d;
	}
	if (p == digits)
		return false;
	if (neg)
		*out = v == (unsigned long long)LONG_MAX + 1 ? LONG_MIN : -(long)v;
	else
		*out = (long)v;
	return true;
}

bool nu_conf_get_int(struct nu_conf *conf, const char *key, long def,
		     long min, long max, long *out, GError **error)
{
	struct conf_key *k = conf_lookup(conf, key);
	const struct conf_entry *e;
	long v;

	if (!k) {
		*out = def;
		return true;
	}
	k->used = true;
	e = k->last;
	if (!parse_long(e->value, &v) || v < min || v > max) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s:%u: %s: expected an integer between %ld and %ld, got `%s'",
			    e->file, e->line, k->name, min, max, e->value);
		return false;
	}
	*out = v;
	return true;
}

const char *nu_conf_where(struct nu_conf *conf, const char *key)
{
	struct conf_key *k = conf_lookup(conf, key);

	if (!k)
		return NULL;
	if (!k->where)
		k->where = g_strdup_printf("%s:%u", k->last->file, k->last->line);
	return k->where;
}

void nu_conf_foreach_unused(struct nu_conf *conf,
			    void (*fn)(const char *key, const char *file, unsigned line, void *ctx),
			    void *ctx)
{
	unsigned i;

	if (!conf)
		return;
	for (i = 0; i < conf->entries->len; i++) {
		const struct conf_entry *e = g_ptr_array_index(conf->entries, i);

		if (!e->key->used)
			fn(e->key->name, e->file, e->line, ctx);
	}
}

static void warn_unused(const char *key, const char *file, unsigned line, void *ctx)
{
	(void)ctx;
	log_warnx("%s:%u: unknown key `%s' ignored", file, line, key);
}

void nu_conf_warn_unused(struct nu_conf *conf)
{
	if (conf)
		nu_conf_foreach_unused(conf, warn_unused, NULL);
}
