/* Time periods: the file format (period.h) and the two questions asked of
 * a period, "is t inside it" and "when does the current stretch end". */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "period.h"

#define DAY_SECONDS 86400u

struct tod_range {
	unsigned from, to;	/* seconds of the day; to may be DAY_SECONDS */
};

struct period {
	char *name;
	unsigned line;			/* of the [name] header */
	uint8_t days;			/* bit 0 Monday .. bit 6 Sunday; 0: any */
	GArray *hours;			/* struct tod_range; NULL: any time of day */
	bool has_start, has_end;
	time_t start, end;		/* start included, end excluded */
	unsigned long duration;		/* s a connection may last; 0: no limit */
	unsigned days_line, hours_line, start_line, end_line;	/* 0: not set */
	unsigned duration_line;
};

struct nu_period_set {
	GPtrArray *periods;		/* struct period (owned), file order */
	GHashTable *by_name;		/* name -> struct period */
};

/* Where the line being parsed comes from. */
struct ctx {
	const char *file;
	unsigned line;
	const char *key;
	const char *value;
};

static void period_free(void *p)
{
	struct period *pd = p;

	if (!pd)
		return;
	g_free(pd->name);
	if (pd->hours)
		g_array_free(pd->hours, TRUE);
	g_free(pd);
}

void nu_period_set_free(struct nu_period_set *set)
{
	if (!set)
		return;
	g_hash_table_destroy(set->by_name);
	g_ptr_array_free(set->periods, TRUE);
	g_free(set);
}

unsigned nu_period_count(const struct nu_period_set *set)
{
	return set ? set->periods->len : 0;
}

static const struct period *lookup(const struct nu_period_set *set, const char *name)
{
	return set && name ? g_hash_table_lookup(set->by_name, name) : NULL;
}

bool nu_period_known(const struct nu_period_set *set, const char *name)
{
	return lookup(set, name) != NULL;
}

/* ---- values ---- */

static bool bad_value(const struct ctx *c, const char *text, const char *want, GError **e)
{
	g_set_error(e, NU_CONF_ERROR, NU_CONF_ERROR_VALUE, "%s:%u: %s: `%s' is not %s",
		    c->file, c->line, c->key, text, want);
	return false;
}

/* Exactly n decimal digits at *s, at most max; advances *s. */
static bool digits(const char **s, int n, unsigned max, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return false;
		v = v * 10 + (unsigned)((*s)[i] - '0');
	}
	*s += n;
	if (v > max)
		return false;
	*out = v;
	return true;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static bool only_once(const struct ctx *c, unsigned *line, GError **e)
{
	if (*line) {
		g_set_error(e, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s:%u: %s: already set at line %u", c->file, c->line, c->key, *line);
		return false;
	}
	*line = c->line;
	return true;
}

/* days=1-5,7 */
static bool key_days(const struct ctx *c, struct period *p, GError **e)
{
	gchar **items = g_strsplit(c->value, ",", -1);
	uint8_t days = 0;
	bool ok = true;

	for (gchar **it = items; *it && ok; it++) {
		const char *s = trim(*it);
		unsigned a, b;

		if (!digits(&s, 1, 7, &a) || a < 1) {
			ok = bad_value(c, trim(*it), "a day (1 Monday .. 7 Sunday) or a range of days", e);
			break;
		}
		b = a;
		if (*s == '-') {
			s++;
			if (!digits(&s, 1, 7, &b) || b < a) {
				ok = bad_value(c, trim(*it), "a range of days a-b with 1 <= a <= b <= 7", e);
				break;
			}
		}
		if (*s) {
			ok = bad_value(c, trim(*it), "a day (1 Monday .. 7 Sunday) or a range of days", e);
			break;
		}
		for (unsigned d = a; d <= b; d++)
			days |= (uint8_t)(1u << (d - 1));
	}
	g_strfreev(items);
	if (!ok || !only_once(c, &p->days_line, e))
		return false;
	p->days = days;
	return true;
}

/* HH:MM[:SS]; 24:00[:00] only when end is true.  Advances *s. */
static bool time_of_day(const char **s, bool end, unsigned *out)
{
	unsigned h, m, sec = 0;

	if (!digits(s, 2, 24, &h) || **s != ':')
		return false;
	(*s)++;
	if (!digits(s, 2, 59, &m))
		return false;
	if (**s == ':') {
		(*s)++;
		if (!digits(s, 2, 59, &sec))
			return false;
	}
	if (h == 24 && (!end || m || sec))
		return false;
	*out = h * 3600 + m * 60 + sec;
	return true;
}

/* hours=08:00-12:00,13:00-18:00 */
static bool key_hours(const struct ctx *c, struct period *p, GError **e)
{
	gchar **items = g_strsplit(c->value, ",", -1);
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct tod_range));
	bool ok = true;

	for (gchar **it = items; *it; it++) {
		const char *text = trim(*it);
		const char *s = text;
		struct tod_range r;

		if (!time_of_day(&s, false, &r.from) || *s++ != '-' ||
		    !time_of_day(&s, true, &r.to) || *s) {
			ok = bad_value(c, text, "a range HH:MM-HH:MM (00:00 .. 24:00)", e);
			break;
		}
		if (r.from == r.to) {
			ok = bad_value(c, text, "a range: its start and end are the same time", e);
			break;
		}
		g_array_append_val(ranges, r);
	}
	g_strfreev(items);
	if (!ok || !only_once(c, &p->hours_line, e)) {
		g_array_free(ranges, TRUE);
		return false;
	}
	p->hours = ranges;
	return true;
}

/* YYYY-MM-DDTHH:MM[:SS] in local time. */
static bool date_time(const char *s, time_t *out)
{
	unsigned y, mo, d, h, mi, sec = 0;
	struct tm tm;
	time_t t;

	if (!digits(&s, 4, 9999, &y) || y < 1970 || *s++ != '-' ||
	    !digits(&s, 2, 12, &mo) || mo < 1 || *s++ != '-' ||
	    !digits(&s, 2, 31, &d) || d < 1 || (*s != 'T' && *s != ' '))
		return false;
	s++;
	if (!digits(&s, 2, 23, &h) || *s++ != ':' || !digits(&s, 2, 59, &mi))
		return false;
	if (*s == ':') {
		s++;
		if (!digits(&s, 2, 59, &sec))
			return false;
	}
	if (*s)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)sec;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	/* mktime moves 2026-02-30 to March: such a day does not exist. */
	if (t == (time_t)-1 || tm.tm_mday != (int)d || tm.tm_mon != (int)mo - 1)
		return false;
	*out = t;
	return true;
}

static bool key_start(const struct ctx *c, struct period *p, GError **e)
{
	if (!date_time(c->value, &p->start))
		return bad_value(c, c->value, "a local time YYYY-MM-DDTHH:MM:SS", e);
	if (!only_once(c, &p->start_line, e))
		return false;
	p->has_start = true;
	return true;
}

static bool key_end(const struct ctx *c, struct period *p, GError **e)
{
	if (!date_time(c->value, &p->end))
		return bad_value(c, c->value, "a local time YYYY-MM-DDTHH:MM:SS", e);
	if (!only_once(c, &p->end_line, e))
		return false;
	p->has_end = true;
	return true;
}

/* duration=3600: a connection accepted within the period lasts at most
 * that many seconds (NuFW's <duration>). */
static bool key_duration(const struct ctx *c, struct period *p, GError **e)
{
	const char *s = c->value;
	unsigned long v = 0;

	if (!*s)
		return bad_value(c, c->value, "a number of seconds (1 to 315360000)", e);
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 315360000u)
			return bad_value(c, c->value, "a number of seconds (1 to 315360000)", e);
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < 1 || v > 315360000u)
		return bad_value(c, c->value, "a number of seconds (1 to 315360000)", e);
	if (!only_once(c, &p->duration_line, e))
		return false;
	p->duration = v;
	return true;
}

static const struct {
	const char *key;
	bool (*parse)(const struct ctx *c, struct period *p, GError **e);
} keys[] = {
	{ "days", key_days },
	{ "hours", key_hours },
	{ "start", key_start },
	{ "end", key_end },
	{ "duration", key_duration },
};

/* ---- the file ---- */

/* A period is complete: its keys agree with each other. */
static bool period_finish(const char *file, const struct period *p, GError **e)
{
	if (!p->days_line && !p->hours_line && !p->start_line && !p->end_line &&
	    !p->duration_line) {
		g_set_error(e, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s:%u: period `%s' sets none of days=, hours=, start=, end=, duration=",
			    file, p->line, p->name);
		return false;
	}
	if (p->has_start && p->has_end && p->start >= p->end) {
		g_set_error(e, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s:%u: period `%s': end= is not after start= (line %u)",
			    file, p->end_line, p->name, p->start_line);
		return false;
	}
	return true;
}

/* One line, comments and blanks already gone. */
static bool period_line(struct nu_period_set *set, struct period **cur, const char *file,
			unsigned line, char *text, GError **e)
{
	struct ctx c = { .file = file, .line = line };
	char *eq;

	if (*text == '[') {
		char *close = strchr(text, ']');
		char *name;
		const struct period *old;

		if (!close || *trim(close + 1)) {
			g_set_error(e, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s:%u: `%s' is not a [period name]", file, line, text);
			return false;
		}
		*close = '\0';
		name = trim(text + 1);
		if (!*name) {
			g_set_error(e, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s:%u: a period needs a name: `[%s]'", file, line, text + 1);
			return false;
		}
		if ((old = lookup(set, name))) {
			g_set_error(e, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
				    "%s:%u: period `%s' is already defined at line %u",
				    file, line, name, old->line);
			return false;
		}
		if (*cur && !period_finish(file, *cur, e))
			return false;
		*cur = g_new0(struct period, 1);
		(*cur)->name = g_strdup(name);
		(*cur)->line = line;
		g_ptr_array_add(set->periods, *cur);
		g_hash_table_insert(set->by_name, (*cur)->name, *cur);
		return true;
	}
	if (!(eq = strchr(text, '='))) {
		g_set_error(e, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s:%u: `%s' is neither [period] nor key=value", file, line, text);
		return false;
	}
	*eq = '\0';
	c.key = trim(text);
	c.value = trim(eq + 1);
	if (!*cur) {
		g_set_error(e, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s:%u: `%s=%s' comes before any [period]", file, line, c.key, c.value);
		return false;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (g_ascii_strcasecmp(c.key, keys[i].key) == 0)
			return keys[i].parse(&c, *cur, e);
	g_set_error(e, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
		    "%s:%u: unknown key `%s' (days, hours, start or end)", file, line, c.key);
	return false;
}

/* Removes a comment: the whole line when it starts with `#', else from a
 * `#' that follows a blank. */
static void strip_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

struct nu_period_set *nu_period_parse(const char *name, const char *text, GError **error)
{
	struct nu_period_set *set = g_new0(struct nu_period_set, 1);
	gchar **lines = g_strsplit(text, "\n", -1);
	struct period *cur = NULL;
	unsigned line = 0;

	set->periods = g_ptr_array_new_with_free_func(period_free);
	set->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	for (gchar **l = lines; *l; l++) {
		char *s;

		line++;
		strip_comment(*l);
		s = trim(*l);
		if (*s && !period_line(set, &cur, name, line, s, error))
			goto fail;
	}
	if (cur && !period_finish(name, cur, error))
		goto fail;
	g_strfreev(lines);
	return set;
fail:
	g_strfreev(lines);
	nu_period_set_free(set);
	return NULL;
}

struct nu_period_set *nu_period_load(const char *path, GError **error)
{
	gchar *text = NULL;
	gsize len = 0;
	GError *io = NULL;
	struct nu_period_set *set;

	if (!g_file_get_contents(path, &text, &len, &io)) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_IO, "%s: %s", path, io->message);
		g_error_free(io);
		return NULL;
	}
	if (strlen(text) != len) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s: contains a NUL byte", path);
		g_free(text);
		return NULL;
	}
	set = nu_period_parse(path, text, error);
	g_free(text);
	return set;
}

/* ---- time ---- */

static bool period_at(const struct period *p, time_t t)
{
	struct tm tm;
	unsigned tod;

	if ((p->has_start && t < p->start) || (p->has_end && t >= p->end))
		return false;
	if (!p->days && !p->hours)
		return true;
	if (!localtime_r(&t, &tm))
		return false;
	if (p->days && !(p->days & (1u << (tm.tm_wday == 0 ? 6 : tm.tm_wday - 1))))
		return false;
	if (!p->hours)
		return true;
	tod = (unsigned)(tm.tm_hour * 3600 + tm.tm_min * 60 + (tm.tm_sec > 59 ? 59 : tm.tm_sec));
	for (guint i = 0; i < p->hours->len; i++) {
		const struct tod_range *r = &g_array_index(p->hours, struct tod_range, i);

		if (r->from < r->to ? tod >= r->from && tod < r->to : tod >= r->from || tod < r->to)
			return true;
	}
	return false;
}

bool nu_period_matches(const struct nu_period_set *set, const char *name, time_t t)
{
	const struct period *p = lookup(set, name);

	return p && period_at(p, t);
}

/* The local time of day secs on the day of tm (day_offset days later). */
static time_t local_at(const struct tm *day, int day_offset, unsigned secs)
{
	struct tm tm = *day;

	tm.tm_mday += day_offset;
	tm.tm_hour = (int)(secs / 3600);
	tm.tm_min = (int)(secs / 60 % 60);
	tm.tm_sec = (int)(secs % 60);
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* The next time after t when the days= or hours= answer may change: a
 * range bound today or the next midnight. */
static time_t next_boundary(const struct period *p, time_t t)
{
	struct tm tm;
	time_t next;

	if (!localtime_r(&t, &tm))
		return 0;
	next = local_at(&tm, 1, 0);
	for (guint i = 0; p->hours && i < p->hours->len; i++) {
		const struct tod_range *r = &g_array_index(p->hours, struct tod_range, i);
		unsigned bounds[2] = { r->from, r->to };

		for (int b = 0; b < 2; b++) {
			time_t c;

			if (bounds[b] >= DAY_SECONDS)
				continue;
			c = local_at(&tm, 0, bounds[b]);
			if (c > t && c < next)
				next = c;
		}
	}
	return next > t ? next : t + 1;
}

unsigned long nu_period_duration(const struct nu_period_set *set, const char *name)
{
	const struct period *p = lookup(set, name);

	return p ? p->duration : 0;
}

time_t nu_period_stretch_end(const struct nu_period_set *set, const char *name, time_t t)
{
	const struct period *p = lookup(set, name);
	time_t cur = t;

	if (!p || !period_at(p, t))
		return t;
	if (!p->days && !p->hours)
		return p->has_end ? p->end : 0;
	/* days= and hours= repeat every week: a stretch that lasts eight
	 * days never ends, but for end=. */
	while (cur - t < 8 * (time_t)DAY_SECONDS) {
		time_t b = next_boundary(p, cur);

		if (b == 0)
			break;
		if (p->has_end && b >= p->end)
			return p->end;
		if (!period_at(p, b))
			return b;
		cur = b;
	}
	return p->has_end ? p->end : 0;
}
