/* nufw-qos: what every part shares: the program's name, the one way out on
 * bad input (die: a message on stderr, status 2), bounded formatting, and
 * the checks of single values (numbers, interface names, rates). */
#ifndef NUFWQOS_UTIL_H
#define NUFWQOS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#define QOS_TEXT 160		/* one selector, device or rate, as given */
#define QOS_LINE 512		/* one printed command */

extern const char *const qos_prog;

/* "nufw-qos: MESSAGE" on stderr, exit status 2. */
void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...);

/* snprintf that dies rather than cut a command short. */
void __attribute__((format(printf, 3, 4))) fmt_into(char *buf, size_t size, const char *fmt, ...);

/* Copies len bytes of src into a QOS_TEXT buffer; dies naming what when
 * they do not fit. */
void copy_text(char *dst, const char *src, size_t len, const char *what);

/* A whole unsigned number in [0, max]: with base 0, decimal or 0x hex (a
 * leading 0 before more digits is refused: strtoul, iptables and ip read it
 * as octal); with base 16, hex with or without 0x; else in the given base.
 * No sign, no blank, no trailing junk. */
bool parse_num(const char *s, int base, unsigned long max, unsigned long *out);

/* Dies "OPT: `D' is not an interface name" unless D is a name the kernel
 * takes and ip and tc would not read as an option. */
void check_dev(const char *opt, const char *d);

/* Dies unless r is a number with one of tc's rate units. */
void check_rate(const char *opt, const char *r);

/* 0, or 1 with a message when stdout could not take the output. */
int finish_output(void);

#endif
