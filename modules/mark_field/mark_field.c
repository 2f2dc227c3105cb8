/* The mark_field finalize_packet module (see mark_field.h). */
#include "config.h"
#include "mark_field.h"

#include <inttypes.h>
#include <string.h>
#include <nuauth/module.h>

#include "log.h"
#include "markbits.h"
#include "markfile.h"

#define DEFAULT_FIELD_FILE SYSCONFDIR "/nufw/mark_field.conf"

struct field_line {
	uint32_t mark;
	char *pattern;
};

struct mark_field_table {
	GArray *lines;		/* struct field_line, in file order */
	unsigned nbits;		/* while loading */
};

bool mark_field_glob(const char *pattern, const char *text)
{
	const char *star = NULL, *resume = NULL;

	while (*text) {
		if (*pattern == '*') {
			star = pattern++;
			resume = text;
		} else if (*pattern == *text) {
			pattern++;
			text++;
		} else if (star) {
			/* Let the last `*' swallow one more character. */
			pattern = star + 1;
			text = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

static void field_line_clear(void *p)
{
	struct field_line *l = p;

	g_free(l->pattern);
}

void mark_field_table_free(struct mark_field_table *table)
{
	if (!table)
		return;
	g_array_free(table->lines, TRUE);
	g_free(table);
}

unsigned mark_field_table_count(const struct mark_field_table *table)
{
	return table->lines->len;
}

/* "mark:pattern" */
static bool parse_line(char *line, unsigned lineno, void *ctx, GError **error)
{
	struct mark_field_table *table = ctx;
	char *colon = strchr(line, ':');
	struct field_line l;
	char *mark, *pattern;

	(void)lineno;
	if (!colon) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "expected `mark:pattern', got `%s'", line);
		return false;
	}
	pattern = colon + 1;
	while (g_ascii_isspace(*pattern))
		pattern++;
	if (!*pattern) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "empty pattern in `%s'", line);
		return false;
	}
	mark = g_strndup(line, (size_t)(colon - line));
	g_strstrip(mark);
	if (!markfile_parse_u32(mark, &l.mark)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "bad mark `%s' in `%s'", mark, line);
		g_free(mark);
		return false;
	}
	if (!markbits_fits(l.mark, table->nbits)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "mark `%s' does not fit in the %u bits of mark_field_nbits",
			    mark, table->nbits);
		g_free(mark);
		return false;
	}
	g_free(mark);
	l.pattern = g_strdup(pattern);
	g_array_append_val(table->lines, l);
	return true;
}

struct mark_field_table *mark_field_table_load(const char *path, unsigned nbits,
					       GError **error)
{
	struct mark_field_table *table = g_new0(struct mark_field_table, 1);

	table->lines = g_array_new(FALSE, FALSE, sizeof(struct field_line));
	g_array_set_clear_func(table->lines, field_line_clear);
	table->nbits = nbits;
	if (!markfile_read(path, parse_line, table, error)) {
		mark_field_table_free(table);
		return NULL;
	}
	return table;
}

uint32_t mark_field_lookup(const struct mark_field_table *table, const char *text,
			   uint32_t def)
{
	for (guint i = 0; i < table->lines->len; i++) {
		const struct field_line *l = &g_array_index(table->lines, struct field_line, i);

		if (mark_field_glob(l->pattern, text))
			return l->mark;
	}
	return def;
}

uint32_t mark_field_mark(const struct mark_field *mf, uint32_t mark, const char *app,
			 const char *os_sysname)
{
	const char *text = mf->type == MARK_FIELD_OS ? os_sysname : app;
	uint32_t value = mark_field_lookup(mf->table, text ? text : "", mf->default_mark);

	return markbits_put(mark, value, mf->nbits, mf->shift);
}

static void mark_field_deinit(void *priv)
{
	struct mark_field *mf = priv;

	if (!mf)
		return;
	mark_field_table_free(mf->table);
}

static bool mark_field_init(void *priv, struct nu_conf *conf, const char *instance,
			    const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct mark_field *mf = priv;
	const char *file;
	long type;

	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			goto fail;
		conf = own;
	}
	if (!nu_conf_get_int(conf, "mark_field_type", MARK_FIELD_APP, MARK_FIELD_APP,
			     MARK_FIELD_OS, &type, error) ||
	    !markbits_conf_field(conf, "mark_field_nbits", 32, "mark_field_shift", 0,
				 &mf->nbits, &mf->shift, error) ||
	    !markbits_conf_u32(conf, "mark_field_default_mark", 0, &mf->default_mark, error) ||
	    !markbits_conf_fits(conf, "mark_field_default_mark", mf->default_mark,
				"mark_field_nbits", mf->nbits, error))
		goto fail;
	mf->type = (enum mark_field_type)type;
	file = nu_conf_get_str(conf, "mark_field_file", DEFAULT_FIELD_FILE);
	if (!(mf->table = mark_field_table_load(file, mf->nbits, error)))
		goto fail;
	log_info("mark_field%s%s: %u patterns on the %s from %s, default 0x%" PRIx32
		 ", bits %u..%u of the mark",
		 instance ? ":" : "", instance ? instance : "",
		 mark_field_table_count(mf->table),
		 mf->type == MARK_FIELD_OS ? "OS name" : "application", file,
		 mf->default_mark, mf->shift, mf->shift + mf->nbits - 1);
	nu_conf_warn_unused(own);
	nu_conf_free(own);
	return true;
fail:
	nu_conf_free(own);
	return false;
}

static int mark_field_finalize(void *priv, const struct nuauth_packet *packet,
			       const struct nuauth_user *user,
			       const struct nuauth_acl_match *acl, uint32_t *mark)
{
	(void)user;
	(void)acl;
	*mark = mark_field_mark(priv, *mark, packet->app, packet->os_sysname);
	return 0;
}

/* Marking by application reads the program's path from the client. */
static unsigned mark_field_needs(void *priv)
{
	const struct mark_field *mf = priv;

	return mf->type == MARK_FIELD_APP ? NUAUTH_NEEDS_APP : 0;
}

static const struct nuauth_module mark_field_module = {
	NUAUTH_MODULE_HEADER,
	.name = "mark_field",
	.services = NUAUTH_SVC_FINALIZE_PACKET | NUAUTH_SVC_NEEDS,
	.priv_size = sizeof(struct mark_field),
	.init = mark_field_init,
	.deinit = mark_field_deinit,
	.finalize_packet = mark_field_finalize,
	.needs = mark_field_needs,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &mark_field_module;
}
