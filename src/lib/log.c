/* Logging to stderr or syslog, with one threshold for all messages.  When
 * stderr is the journal (systemd's $JOURNAL_STREAM names its device and
 * inode), each line starts with its syslog priority, "<4>", and has no
 * timestamp: journald files it at that priority and stamps it itself. */
#include "config.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

static bool log_to_syslog;
static bool log_to_journal;
static int log_max_level = LOG_NOTICE;
static const char *log_ident = "nufw";

void nu_log_init(const char *ident, bool to_syslog, int max_level)
{
	log_ident = ident;
	log_to_syslog = to_syslog;
	log_max_level = max_level;
	log_to_journal = !to_syslog && nu_log_stderr_is_journal();
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool nu_log_stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int end = 0;

	if (!v || sscanf(v, "%llu:%llu%n", &dev, &ino, &end) != 2 || v[end] != '\0')
		return false;
	return fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void nu_log_set_level(int max_level)
{
	log_max_level = max_level;
}

bool nu_log_enabled(int level)
{
	return level <= log_max_level;
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

__attribute__((format(printf, 2, 0)))
static void log_emit(int level, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	if (!nu_log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_syslog) {
		syslog(level, "%s%s%s", msg, suffix ? ": " : "", suffix ? suffix : "");
		return;
	}
	if (log_to_journal) {
		fprintf(stderr, "<%d>%s: %s%s%s\n", level & LOG_PRIMASK, level_name(level), msg,
			suffix ? ": " : "", suffix ? suffix : "");
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%d] %s: %s%s%s\n",
		tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		log_ident, (int)getpid(), level_name(level), msg,
		suffix ? ": " : "", suffix ? suffix : "");
}

void nu_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(level, fmt, ap, NULL);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
