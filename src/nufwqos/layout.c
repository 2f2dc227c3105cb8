/* nufw-qos: mark fields and selectors (see layout.h). */
#include "config.h"

#include <string.h>

#include "layout.h"

void layout_parse_field(const char *opt, const char *arg, struct qos_field *f)
{
	char off[16];
	const char *colon = strchr(arg, ':');
	unsigned long o, l;

	if (!colon || (size_t)(colon - arg) >= sizeof(off))
		die("%s: want OFF:LEN, got `%s'", opt, arg);
	memcpy(off, arg, (size_t)(colon - arg));
	off[colon - arg] = '\0';
	if (!parse_num(off, 10, 31, &o) || !parse_num(colon + 1, 10, 32, &l) || l == 0 || o + l > 32)
		die("%s: `%s' is not a bit range inside 32 bits (OFF 0-31, LEN 1-32)", opt, arg);
	f->set = true;
	f->off = (unsigned int)o;
	f->len = (unsigned int)l;
}

uint32_t layout_keep_mask(const struct qos_layout *l)
{
	uint32_t m = 0;

	if (l->uid.set)
		m |= field_mask(&l->uid);
	if (l->group.set)
		m |= field_mask(&l->group);
	if (l->flag.set)
		m |= field_mask(&l->flag);
	return m ? m : 0xffffffffu;
}

void layout_check(const struct qos_layout *l)
{
	if (fields_overlap(&l->uid, &l->group) || fields_overlap(&l->uid, &l->flag) ||
	    fields_overlap(&l->group, &l->flag))
		die("the mark fields overlap: uid %u:%u, group %u:%u, flag %u:%u",
		    l->uid.off, l->uid.len, l->group.off, l->group.len, l->flag.off, l->flag.len);
}

/* uid:N, group:N or flag:N: false when text names no field. */
static bool parse_field_sel(const struct qos_layout *l, const char *opt, struct qos_sel *sel)
{
	const struct { const char *name; const struct qos_field *f; } kinds[] = {
		{ "uid:", &l->uid }, { "group:", &l->group }, { "flag:", &l->flag },
	};
	unsigned long v;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].name);
		const struct qos_field *f = kinds[i].f;

		if (strncmp(sel->text, kinds[i].name, n) != 0)
			continue;
		if (!f->set)
			die("%s: `%s' needs --%.*s-bits", opt, sel->text, (int)(n - 1), kinds[i].name);
		if (!parse_num(sel->text + n, 0, field_mask(f) >> f->off, &v))
			die("%s: `%s': the value must be a decimal or 0x hex number that fits in %u bits",
			    opt, sel->text, f->len);
		if (v == 0)
			die("%s: `%s': 0 means no mark; pick another value", opt, sel->text);
		sel->value = (uint32_t)v << f->off;
		sel->mask = field_mask(f);
		return true;
	}
	return false;
}

/* MASK defaults to the kept bits and may not go beyond them: a bit that the
 * connection does not keep is the first packet's only, and a selector using
 * it would split a connection (its SYN one way, the rest another). */
void layout_parse_sel(const struct qos_layout *l, const char *opt, const char *text, size_t len,
		      struct qos_sel *sel)
{
	uint32_t keep = layout_keep_mask(l);
	char *slash;
	unsigned long v, m;

	copy_text(sel->text, text, len, "a selector");
	if (parse_field_sel(l, opt, sel))
		return;
	slash = strchr(sel->text, '/');
	if (slash)
		*slash = '\0';
	if (!parse_num(sel->text, 0, 0xffffffffu, &v) ||
	    (slash && !parse_num(slash + 1, 0, 0xffffffffu, &m)))
		die("%s: bad selector `%.*s' (want uid:N, group:N, flag:N or VALUE[/MASK], "
		    "numbers in decimal or 0x hex)", opt, (int)len, text);
	if (slash)
		*slash = '/';
	else
		m = keep;
	if ((v | m) & ~keep)
		die("%s: `%s' uses mark bits 0x%lx that the connection does not keep (the kept mask, "
		    "the layout's fields, is 0x%x): declare them with --group-bits or --flag-bits",
		    opt, sel->text, (v | m) & ~keep, keep);
	if (v & ~m)
		die("%s: `%s': the value has bits outside the mask", opt, sel->text);
	if (v == 0)
		die("%s: `%s': 0 means no mark; pick another value", opt, sel->text);
	sel->value = (uint32_t)v;
	sel->mask = (uint32_t)m;
}
