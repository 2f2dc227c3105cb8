/* Unit tests for the periods module (modules/periods/period.c): the file
 * format and its errors, "is t inside P" and "when does the stretch end". */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "period.h"
#include "unit.h"

/* A local time (TZ is set by main). */
static time_t at(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s, .tm_isdst = -1 };

	return mktime(&tm);
}

static struct nu_period_set *parse(const char *text)
{
	GError *e = NULL;
	struct nu_period_set *set = nu_period_parse("p.conf", text, &e);

	if (!set) {
		fprintf(stderr, "unexpected error: %s\n", e->message);
		g_error_free(e);
	}
	return set;
}

/* text fails to parse with an error that contains want. */
static bool fails_with(const char *text, const char *want)
{
	GError *e = NULL;
	struct nu_period_set *set = nu_period_parse("p.conf", text, &e);
	bool ok = !set && e && strstr(e->message, want);

	if (!ok)
		fprintf(stderr, "wanted `%s', got `%s'\n", want, e ? e->message : "success");
	nu_period_set_free(set);
	if (e)
		g_error_free(e);
	return ok;
}

static void test_days_hours(void)
{
	struct nu_period_set *set = parse(
		"# office hours\n"
		"[workhours]\n"
		"days=1-5          # Monday to Friday\n"
		"hours=08:00-12:00, 13:00-18:00\n"
		"\n"
		"[night]\n"
		"hours=22:00-06:00\n"
		"[weekend]\n"
		"DAYS = 6,7\n"
		"[evenings]\n"
		"days=1,3\n"
		"hours=20:00-24:00\n");

	CHECK(set && nu_period_count(set) == 4);
	if (!set)
		return;
	CHECK(nu_period_known(set, "workhours"));
	CHECK(!nu_period_known(set, "Workhours"));
	CHECK(!nu_period_known(set, "nope"));
	/* 2026-11-23 is a Monday. */
	CHECK(nu_period_matches(set, "workhours", at(2026, 11, 23, 8, 0, 0)));
	CHECK(!nu_period_matches(set, "workhours", at(2026, 11, 23, 7, 59, 59)));
	CHECK(nu_period_matches(set, "workhours", at(2026, 11, 23, 11, 59, 59)));
	CHECK(!nu_period_matches(set, "workhours", at(2026, 11, 23, 12, 0, 0)));
	CHECK(!nu_period_matches(set, "workhours", at(2026, 11, 23, 12, 30, 0)));
	CHECK(nu_period_matches(set, "workhours", at(2026, 11, 27, 17, 59, 59)));	/* Friday */
	CHECK(!nu_period_matches(set, "workhours", at(2026, 11, 28, 10, 0, 0)));	/* Saturday */
	CHECK(!nu_period_matches(set, "workhours", at(2026, 11, 29, 10, 0, 0)));	/* Sunday */
	CHECK(nu_period_matches(set, "weekend", at(2026, 11, 29, 10, 0, 0)));
	CHECK(nu_period_matches(set, "weekend", at(2026, 11, 28, 0, 0, 0)));
	CHECK(!nu_period_matches(set, "weekend", at(2026, 11, 27, 23, 59, 59)));
	CHECK(!nu_period_matches(set, "nope", at(2026, 11, 23, 10, 0, 0)));

	/* Across midnight. */
	CHECK(nu_period_matches(set, "night", at(2026, 11, 23, 23, 0, 0)));
	CHECK(nu_period_matches(set, "night", at(2026, 11, 24, 0, 0, 0)));
	CHECK(nu_period_matches(set, "night", at(2026, 11, 24, 5, 59, 59)));
	CHECK(!nu_period_matches(set, "night", at(2026, 11, 24, 6, 0, 0)));
	CHECK(!nu_period_matches(set, "night", at(2026, 11, 24, 21, 59, 59)));

	/* Stretch ends. */
	CHECK(nu_period_stretch_end(set, "workhours", at(2026, 11, 23, 9, 0, 0)) ==
	      at(2026, 11, 23, 12, 0, 0));
	CHECK(nu_period_stretch_end(set, "workhours", at(2026, 11, 27, 13, 0, 0)) ==
	      at(2026, 11, 27, 18, 0, 0));
	/* Outside: t itself. */
	CHECK(nu_period_stretch_end(set, "workhours", at(2026, 11, 23, 12, 30, 0)) ==
	      at(2026, 11, 23, 12, 30, 0));
	/* The night stretch goes on past midnight. */
	CHECK(nu_period_stretch_end(set, "night", at(2026, 11, 23, 23, 0, 0)) ==
	      at(2026, 11, 24, 6, 0, 0));
	CHECK(nu_period_stretch_end(set, "night", at(2026, 11, 24, 1, 0, 0)) ==
	      at(2026, 11, 24, 6, 0, 0));
	/* The night the clocks go forward (02:00 to 03:00 in Paris). */
	CHECK(nu_period_matches(set, "night", at(2026, 3, 29, 3, 30, 0)));
	CHECK(nu_period_stretch_end(set, "night", at(2026, 3, 28, 23, 0, 0)) ==
	      at(2026, 3, 29, 6, 0, 0));
	CHECK(nu_period_stretch_end(set, "workhours", at(2026, 3, 27, 17, 0, 0)) ==
	      at(2026, 3, 27, 18, 0, 0));
	/* Saturday and Sunday are one stretch, ending Monday at midnight. */
	CHECK(nu_period_stretch_end(set, "weekend", at(2026, 11, 28, 9, 0, 0)) ==
	      at(2026, 11, 30, 0, 0, 0));
	/* 24:00 ends at midnight, and Tuesday is not in the list. */
	CHECK(nu_period_matches(set, "evenings", at(2026, 11, 23, 23, 59, 59)));
	CHECK(!nu_period_matches(set, "evenings", at(2026, 11, 24, 0, 0, 0)));
	CHECK(nu_period_stretch_end(set, "evenings", at(2026, 11, 23, 21, 0, 0)) ==
	      at(2026, 11, 24, 0, 0, 0));
	nu_period_set_free(set);
}

static void test_forever(void)
{
	struct nu_period_set *set = parse(
		"[always]\n"
		"days=1-7\n"
		"[allday]\n"
		"hours=00:00-24:00\n"
		"[daysnights]\n"
		"hours=00:00-12:00,12:00-24:00\n"
		"[until]\n"
		"days=1-7\n"
		"end=2027-01-01T00:00:00\n"
		"[from]\n"
		"start=2026-01-01T00:00:00\n");

	CHECK(set != NULL);
	if (!set)
		return;
	CHECK(nu_period_matches(set, "always", at(2026, 11, 24, 3, 0, 0)));
	CHECK(nu_period_stretch_end(set, "always", at(2026, 11, 24, 3, 0, 0)) == 0);
	CHECK(nu_period_stretch_end(set, "allday", at(2026, 11, 24, 3, 0, 0)) == 0);
	/* Two ranges that touch make one stretch. */
	CHECK(nu_period_stretch_end(set, "daysnights", at(2026, 11, 24, 3, 0, 0)) == 0);
	/* An end far beyond a week is still found. */
	CHECK(nu_period_stretch_end(set, "until", at(2026, 11, 24, 3, 0, 0)) ==
	      at(2027, 1, 1, 0, 0, 0));
	CHECK(nu_period_matches(set, "from", at(2026, 11, 24, 3, 0, 0)));
	CHECK(!nu_period_matches(set, "from", at(2025, 12, 31, 23, 59, 59)));
	CHECK(nu_period_stretch_end(set, "from", at(2026, 11, 24, 3, 0, 0)) == 0);
	nu_period_set_free(set);
}

static void test_windows(void)
{
	struct nu_period_set *set = parse(
		"[maintenance]\n"
		"start=2026-12-01T00:00:00\n"
		"end=2026-12-01T06:00:00\n"
		"[mornings in december]\n"
		"start=2026-12-01T00:00\n"
		"end=2027-01-01T00:00\n"
		"hours=09:00-10:00\n"
		"[window at night]\n"
		"start=2026-12-01T03:00:00\n"
		"end=2026-12-02T23:30:00\n"
		"hours=23:00-04:00\n");

	CHECK(set != NULL);
	if (!set)
		return;
	CHECK(!nu_period_matches(set, "maintenance", at(2026, 11, 30, 23, 59, 59)));
	CHECK(nu_period_matches(set, "maintenance", at(2026, 12, 1, 0, 0, 0)));
	CHECK(nu_period_matches(set, "maintenance", at(2026, 12, 1, 5, 59, 59)));
	CHECK(!nu_period_matches(set, "maintenance", at(2026, 12, 1, 6, 0, 0)));
	CHECK(nu_period_stretch_end(set, "maintenance", at(2026, 12, 1, 1, 0, 0)) ==
	      at(2026, 12, 1, 6, 0, 0));
	CHECK(!nu_period_matches(set, "mornings in december", at(2026, 11, 30, 9, 30, 0)));
	CHECK(nu_period_matches(set, "mornings in december", at(2026, 12, 15, 9, 30, 0)));
	CHECK(nu_period_stretch_end(set, "mornings in december", at(2026, 12, 15, 9, 30, 0)) ==
	      at(2026, 12, 15, 10, 0, 0));
	/* The window cuts a night stretch short at both ends. */
	CHECK(!nu_period_matches(set, "window at night", at(2026, 12, 1, 2, 0, 0)));
	CHECK(nu_period_matches(set, "window at night", at(2026, 12, 1, 3, 0, 0)));
	CHECK(nu_period_stretch_end(set, "window at night", at(2026, 12, 1, 3, 0, 0)) ==
	      at(2026, 12, 1, 4, 0, 0));
	CHECK(nu_period_stretch_end(set, "window at night", at(2026, 12, 1, 23, 10, 0)) ==
	      at(2026, 12, 2, 4, 0, 0));
	CHECK(nu_period_stretch_end(set, "window at night", at(2026, 12, 2, 23, 10, 0)) ==
	      at(2026, 12, 2, 23, 30, 0));
	nu_period_set_free(set);
}

static void test_errors(void)
{
	CHECK(fails_with("[a]\ndays=1-8\n", "p.conf:2: days: `1-8' is not"));
	CHECK(fails_with("[a]\ndays=0\n", "p.conf:2: days: `0' is not"));
	CHECK(fails_with("[a]\ndays=5-1\n", "p.conf:2: days: `5-1' is not"));
	CHECK(fails_with("[a]\ndays=1,,2\n", "p.conf:2: days: `' is not"));
	CHECK(fails_with("[a]\ndays=mon\n", "p.conf:2: days: `mon' is not"));
	CHECK(fails_with("[a]\nhours=8:00-12:00\n", "p.conf:2: hours: `8:00-12:00' is not"));
	CHECK(fails_with("[a]\nhours=08:00-25:00\n", "p.conf:2: hours: `08:00-25:00' is not"));
	CHECK(fails_with("[a]\nhours=24:00-02:00\n", "p.conf:2: hours: `24:00-02:00' is not"));
	CHECK(fails_with("[a]\nhours=08:00-08:00\n", "p.conf:2: hours: `08:00-08:00' is not a range"));
	CHECK(fails_with("[a]\nhours=08:60-09:00\n", "p.conf:2: hours: `08:60-09:00'"));
	CHECK(fails_with("[a]\nhours=08:00\n", "p.conf:2: hours: `08:00' is not"));
	CHECK(fails_with("[a]\nstart=2026-02-30T00:00:00\n",
			 "p.conf:2: start: `2026-02-30T00:00:00' is not a local time"));
	CHECK(fails_with("[a]\nend=tomorrow\n", "p.conf:2: end: `tomorrow' is not"));
	CHECK(fails_with("[a]\nstart=2026-12-01T06:00:00\nend=2026-12-01T00:00:00\n",
			 "p.conf:3: period `a': end= is not after start="));
	CHECK(fails_with("[a]\ndays=1\ndays=2\n", "p.conf:3: days: already set at line 2"));
	CHECK(fails_with("days=1\n", "p.conf:1: `days=1' comes before any [period]"));
	CHECK(fails_with("[a]\ncolour=blue\n", "p.conf:2: unknown key `colour'"));
	CHECK(fails_with("[a]\njust words\n", "p.conf:2: `just words' is neither"));
	CHECK(fails_with("[a\n", "p.conf:1: `[a' is not a [period name]"));
	CHECK(fails_with("[]\ndays=1\n", "p.conf:1: a period needs a name"));
	CHECK(fails_with("[a]\ndays=1\n[a]\ndays=2\n", "p.conf:3: period `a' is already defined at line 1"));
	CHECK(fails_with("[a]\n[b]\ndays=1\n", "p.conf:1: period `a' sets none"));
	CHECK(fails_with("[a]\ndays=1\n\n[b]\n", "p.conf:4: period `b' sets none"));
}

static void test_file(void)
{
	char path[] = "/tmp/test_periods.XXXXXX";
	int fd = mkstemp(path);
	GError *e = NULL;
	struct nu_period_set *set;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, "[w]\ndays=1-5\nhours=08:00-99:00\n", 31) == 31);
	close(fd);
	set = nu_period_load(path, &e);
	CHECK(!set && e && g_str_has_prefix(e->message, path) &&
	      strstr(e->message, ":3: hours: `08:00-99:00'"));
	g_clear_error(&e);
	unlink(path);
	set = nu_period_load(path, &e);
	CHECK(!set && e && e->code == NU_CONF_ERROR_IO && g_str_has_prefix(e->message, path));
	g_clear_error(&e);
}

/* duration=: kept for the module (which counts it from the connection's
 * acceptance); alone the period always matches and never ends. */
static void test_duration(void)
{
	struct nu_period_set *set = parse("[short]\nduration=5\n"
					  "[short at work]\ndays=1-5\nduration=3600\n");
	time_t t = at(2026, 11, 23, 9, 0, 0);

	CHECK(set != NULL);
	CHECK(nu_period_duration(set, "short") == 5);
	CHECK(nu_period_matches(set, "short", t) && nu_period_stretch_end(set, "short", t) == 0);
	CHECK(nu_period_duration(set, "short at work") == 3600);
	CHECK(!nu_period_matches(set, "short at work", at(2026, 11, 29, 9, 0, 0)));
	CHECK(nu_period_duration(set, "nosuch") == 0);
	nu_period_set_free(set);
	CHECK(fails_with("[p]\nduration=0\n", "p.conf:2: duration: `0' is not a number of seconds"));
	CHECK(fails_with("[p]\nduration=5m\n", "p.conf:2: duration: `5m' is not"));
	CHECK(fails_with("[p]\nduration=99999999999999999999\n", "is not a number of seconds"));
	CHECK(fails_with("[p]\nduration=5\nduration=6\n", "p.conf:3: duration: already set at line 2"));
}

int main(void)
{
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	test_days_hours();
	test_forever();
	test_windows();
	test_errors();
	test_file();
	test_duration();
	/* The same answers in another zone: the rules are in local time. */
	setenv("TZ", "UTC", 1);
	tzset();
	test_days_hours();
	test_windows();
	return unit_done("test_periods");
}
