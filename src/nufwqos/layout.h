/* nufw-qos: the mark layout (which bits of the 32-bit mark hold the uid, a
 * group, flags) and the selectors that pick marks by it.
 *
 * modules/common/markbits.h does the same field arithmetic for the mark_*
 * modules, but it comes with glib and the daemon's config reader (conf.h)
 * and lives above src/ with the modules; this program is a standalone
 * command-line tool, so it keeps its own two inline functions. */
#ifndef NUFWQOS_LAYOUT_H
#define NUFWQOS_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct qos_field {		/* a bit range of the 32-bit mark */
	bool set;
	unsigned int off, len;	/* 0 <= off, 1 <= len, off + len <= 32 when set */
};

struct qos_layout {
	struct qos_field uid, group, flag;
};

struct qos_sel {		/* packets whose mark & mask == value */
	uint32_t value, mask;
	char text[QOS_TEXT];	/* as the user wrote it, for comments */
};

/* The field's bits set, in place. */
static inline uint32_t field_mask(const struct qos_field *f)
{
	return (f->len == 32 ? 0xffffffffu : ((1u << f->len) - 1)) << f->off;
}

/* Whether two fields, both set, share a bit. */
static inline bool fields_overlap(const struct qos_field *a, const struct qos_field *b)
{
	return a->set && b->set && (field_mask(a) & field_mask(b)) != 0;
}

/* Reads OFF:LEN into *f (set); dies naming opt on a bad range. */
void layout_parse_field(const char *opt, const char *arg, struct qos_field *f);

/* The bits the CONNMARK rules restore and save: the layout's fields (all
 * 32 bits when none is set). */
uint32_t layout_keep_mask(const struct qos_layout *l);

/* Dies when two of the layout's fields overlap. */
void layout_check(const struct qos_layout *l);

/* Reads the selector text[0..len) (uid:N, group:N, flag:N or VALUE[/MASK])
 * into *sel; dies naming opt when it is bad or uses bits the layout does
 * not keep. */
void layout_parse_sel(const struct qos_layout *l, const char *opt, const char *text, size_t len,
		      struct qos_sel *sel);

#endif
