/* The mark_group finalize_packet module (see mark_group.h). */
#include "config.h"
#include "mark_group.h"

#include <inttypes.h>
#include <string.h>
#include <nuauth/module.h>

#include "log.h"
#include "markbits.h"
#include "markfile.h"

#define DEFAULT_GROUP_FILE SYSCONFDIR "/nufw/mark_group.conf"

struct group_line {
	uint32_t mark;
	GArray *gids;		/* uint32_t */
};

struct mark_group_table {
	GArray *lines;		/* struct group_line, in file order */
	unsigned nbits;		/* while loading */
};

static void group_line_clear(void *p)
{
	struct group_line *l = p;

	if (l->gids)
		g_array_free(l->gids, TRUE);
}

void mark_group_table_free(struct mark_group_table *table)
{
	if (!table)
		return;
	g_array_free(table->lines, TRUE);
	g_free(table);
}

unsigned mark_group_table_count(const struct mark_group_table *table)
{
	return table->lines->len;
}

/* "gid[,gid...]:mark" */
static bool parse_line(char *line, unsigned lineno, void *ctx, GError **error)
{
	struct mark_group_table *table = ctx;
	char *text = g_strdup(line);
	struct group_line l = { 0, g_array_new(FALSE, FALSE, sizeof(uint32_t)) };
	char *colon = strchr(line, ':');
	char **gids = NULL;
	char *mark;

	(void)lineno;
	if (!colon) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "expected `gid[,gid...]:mark', got `%s'", text);
		goto fail;
	}
	*colon = '\0';
	mark = g_strstrip(colon + 1);
	if (!*g_strstrip(line)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "no group id before `:' in `%s'", text);
		goto fail;
	}
	gids = g_strsplit(line, ",", -1);
	for (char **g = gids; *g; g++) {
		uint32_t gid;

		if (!markfile_parse_u32(g_strstrip(*g), &gid)) {
			g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "bad group id `%s' in `%s'", *g, text);
			goto fail;
		}
		g_array_append_val(l.gids, gid);
	}
	if (!markfile_parse_u32(mark, &l.mark)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "bad mark `%s' in `%s'", mark, text);
		goto fail;
	}
	if (!markbits_fits(l.mark, table->nbits)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "mark `%s' does not fit in the %u bits of mark_group_nbits",
			    mark, table->nbits);
		goto fail;
	}
	g_array_append_val(table->lines, l);
	g_strfreev(gids);
	g_free(text);
	return true;
fail:
	group_line_clear(&l);
	g_strfreev(gids);
	g_free(text);
	return false;
}

struct mark_group_table *mark_group_table_load(const char *path, unsigned nbits,
					       GError **error)
{
	struct mark_group_table *table = g_new0(struct mark_group_table, 1);

	table->lines = g_array_new(FALSE, FALSE, sizeof(struct group_line));
	g_array_set_clear_func(table->lines, group_line_clear);
	table->nbits = nbits;
	if (!markfile_read(path, parse_line, table, error)) {
		mark_group_table_free(table);
		return NULL;
	}
	return table;
}

uint32_t mark_group_lookup(const struct mark_group_table *table, const uint32_t *groups,
			   size_t ngroups, uint32_t def)
{
	for (guint i = 0; i < table->lines->len; i++) {
		const struct group_line *l = &g_array_index(table->lines, struct group_line, i);

		for (guint j = 0; j < l->gids->len; j++) {
			uint32_t gid = g_array_index(l->gids, uint32_t, j);

			for (size_t k = 0; k < ngroups; k++)
				if (groups[k] == gid)
					return l->mark;
		}
	}
	return def;
}

uint32_t mark_group_mark(const struct mark_group *mg, uint32_t mark, const uint32_t *groups,
			 size_t ngroups)
{
	uint32_t value = mark_group_lookup(mg->table, groups, ngroups, mg->default_mark);

	return markbits_put(mark, value, mg->nbits, mg->shift);
}

static void mark_group_deinit(void *priv)
{
	struct mark_group *mg = priv;

	if (!mg)
		return;
	mark_group_table_free(mg->table);
}

static bool mark_group_init(void *priv, struct nu_conf *conf, const char *instance,
			    const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct mark_group *mg = priv;
	const char *file;

	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			goto fail;
		conf = own;
	}
	if (!markbits_conf_field(conf, "mark_group_nbits", 32, "mark_group_shift", 0,
				 &mg->nbits, &mg->shift, error) ||
	    !markbits_conf_u32(conf, "mark_group_default_mark", 0, &mg->default_mark, error) ||
	    !markbits_conf_fits(conf, "mark_group_default_mark", mg->default_mark,
				"mark_group_nbits", mg->nbits, error))
		goto fail;
	file = nu_conf_get_str(conf, "mark_group_group_file", DEFAULT_GROUP_FILE);
	if (!(mg->table = mark_group_table_load(file, mg->nbits, error)))
		goto fail;
	log_info("mark_group%s%s: %u lines from %s, default 0x%" PRIx32
		 ", bits %u..%u of the mark",
		 instance ? ":" : "", instance ? instance : "",
		 mark_group_table_count(mg->table), file, mg->default_mark,
		 mg->shift, mg->shift + mg->nbits - 1);
	nu_conf_warn_unused(own);
	nu_conf_free(own);
	return true;
fail:
	nu_conf_free(own);
	return false;
}

/* A packet without a user has no groups: it gets the default value. */
static int mark_group_finalize(void *priv, const struct nuauth_packet *packet,
			       const struct nuauth_user *user,
			       const struct nuauth_acl_match *acl, uint32_t *mark)
{
	const struct mark_group *mg = priv;

	(void)packet;
	(void)acl;
	*mark = mark_group_mark(mg, *mark, user ? user->groups : NULL,
				user ? user->ngroups : 0);
	return 0;
}

static const struct nuauth_module mark_group_module = {
	NUAUTH_MODULE_HEADER,
	.name = "mark_group",
	.services = NUAUTH_SVC_FINALIZE_PACKET,
	.priv_size = sizeof(struct mark_group),
	.init = mark_group_init,
	.deinit = mark_group_deinit,
	.finalize_packet = mark_group_finalize,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &mark_group_module;
}
