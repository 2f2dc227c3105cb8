/* A minimal unit-test harness: CHECK records a failure with file:line and
 * goes on; unit_done() prints the tally and gives the exit status that
 * automake's test driver reads (0 pass, 1 fail). */
#ifndef NU_UNIT_H
#define NU_UNIT_H

#include <stdio.h>

static int unit_checks, unit_failures;

#define CHECK(expr) do { \
	unit_checks++; \
	if (!(expr)) { \
		unit_failures++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
	} \
} while (0)

static inline int unit_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}

#endif
