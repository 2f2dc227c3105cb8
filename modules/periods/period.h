/* Time periods for ACLs (the periods module), read from a file:
 *
 *   [workhours]
 *   days=1-5                     # 1 Monday .. 7 Sunday; lists and ranges
 *   hours=08:00-12:00,13:00-18:00  # local time, HH:MM[:SS]; end excluded
 *   [maintenance]
 *   start=2026-12-01T00:00:00    # absolute window in local time; start
 *   end=2026-12-01T06:00:00      # included, end excluded; either optional
 *   [one hour]
 *   duration=3600                # a connection accepted within the period
 *                                # lasts at most that many seconds (NuFW's
 *                                # <duration>); alone, the period always
 *                                # matches
 *
 * A period matches a time when every key it gives matches.  Each key is
 * checked on its own: an hours range may cross midnight (22:00-06:00 is
 * 22:00 to midnight and midnight to 06:00 of every day days= allows), and
 * "24:00" ends a range at midnight.  Whole-line comments and comments after
 * a value start with `#'; keys may appear once per period. */
#ifndef NU_PERIOD_H
#define NU_PERIOD_H

#include <stdbool.h>
#include <time.h>
#include <glib.h>

struct nu_period_set;

/* Reads path.  NULL with *error set (NU_CONF_ERROR; "file:line: why",
 * quoting the bad text, or "file: strerror"). */
struct nu_period_set *nu_period_load(const char *path, GError **error);
/* The same from text in memory; name stands for the file in errors. */
struct nu_period_set *nu_period_parse(const char *name, const char *text, GError **error);
void nu_period_set_free(struct nu_period_set *set);
unsigned nu_period_count(const struct nu_period_set *set);
bool nu_period_known(const struct nu_period_set *set, const char *name);

/* Is t inside the named period?  false for an unknown name. */
bool nu_period_matches(const struct nu_period_set *set, const char *name, time_t t);
/* For t inside the named period: the first time after t when it stops
 * matching, or 0 when it never does.  For t outside it: t. */
time_t nu_period_stretch_end(const struct nu_period_set *set, const char *name, time_t t);
/* The named period's duration= in seconds, 0 when it has none. */
unsigned long nu_period_duration(const struct nu_period_set *set, const char *name);

#endif
