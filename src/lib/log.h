/* Logging for all programs: to stderr (foreground) or syslog (daemon).
 * Messages quote the offending value; an error is logged once, where it is
 * handled: a function that fails returns a GError (error.h) and does not
 * log (doc/architecture.md, "STYLE notes"). */
#ifndef NU_LOG_H
#define NU_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG. */
/* Lines go to syslog, or to stderr: "HH:MM:SS.mmm ident[pid] level: text",
 * or "<N>level: text" when stderr is the journal (nu_log_stderr_is_journal). */
void nu_log_init(const char *ident, bool to_syslog, int max_level);
/* True when $JOURNAL_STREAM ("DEV:INODE", set by systemd) matches stderr's
 * device and inode: stderr is a stream to journald. */
bool nu_log_stderr_is_journal(void);
void nu_log_set_level(int max_level);
bool nu_log_enabled(int level);
void nu_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)	nu_log(LOG_ERR, __VA_ARGS__)
#define log_warnx(...)	nu_log(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)	nu_log(LOG_NOTICE, __VA_ARGS__)
/* The argument lists of info and debug lines are not even computed when
 * the level is off: they sit on the packet path. */
#define log_info(...)	do { if (nu_log_enabled(LOG_INFO)) nu_log(LOG_INFO, __VA_ARGS__); } while (0)
#define log_debug(...)	do { if (nu_log_enabled(LOG_DEBUG)) nu_log(LOG_DEBUG, __VA_ARGS__); } while (0)
/* log_warn appends ": strerror(errno)". */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log at LOG_ERR and exit(1). */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
