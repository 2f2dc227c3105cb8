/* Starting and stopping the user's client for pam_nufw (see pam_nufw.h).
 *
 * Everything the child needs (argv, the environment, the groups) is built
 * before fork: the PAM application may have threads, and between fork and
 * exec the child only calls async-signal-safe functions.  The password goes
 * to the client over a pipe (nutcpc --password-fd 3): it is in no argument,
 * no environment and no file. */
#include "config.h"
#include "pam_nufw.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <security/pam_ext.h>

#define PASSWORD_FD 3		/* the client's --password-fd */
#define HIGH_FD 10		/* pipes are moved above the standard fds */
#define MAX_ARGS 16
#define MAX_GROUPS 256
#define EXIT_SETUP 126		/* the child could not become the user */
#define EXIT_EXEC 127		/* nor run the client */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fd moved to a number >= HIGH_FD, close-on-exec; -1 on failure (fd is
 * closed either way). */
static int move_high(int fd)
{
	int high;

	if (fd < 0)
		return -1;
	high = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);
	close(fd);
	return high;
}

/* "NAME=value" for envp, or NULL when out of memory. */
static char *env_entry(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *e = malloc(n);

	if (e)
		snprintf(e, n, "%s=%s", name, value);
	return e;
}

static bool env_has(char **env, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return true;
	return false;
}

static void env_free(char **env)
{
	if (!env)
		return;
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

/* The client's environment: the session's (pam_getenvlist: what pam_env
 * and pam_systemd set, XDG_RUNTIME_DIR among them), then HOME, USER,
 * LOGNAME, SHELL and PATH where the session has none, and the user's
 * /run/user/UID as XDG_RUNTIME_DIR when it exists and is theirs.  No
 * variable of the PAM application's own (its environment may hold anything). */
static char **client_env(pam_handle_t *pamh, const struct passwd *pw)
{
	char **session = pam_getenvlist(pamh);
	size_t n = 0, cap;
	char **env;
	char runtime[64];
	struct stat st;

	while (session && session[n])
		n++;
	cap = n + 7;
	env = calloc(cap, sizeof(*env));
	if (!env) {
		env_free(session);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		env[i] = session[i];
	free(session);	/* the strings are env's now */
	snprintf(runtime, sizeof(runtime), "/run/user/%lu", (unsigned long)pw->pw_uid);
	const char *defaults[][2] = {
		{ "HOME", pw->pw_dir },
		{ "USER", pw->pw_name },
		{ "LOGNAME", pw->pw_name },
		{ "SHELL", pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh" },
		{ "PATH", "/usr/local/bin:/usr/bin:/bin" },
		{ "XDG_RUNTIME_DIR",
		  lstat(runtime, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == pw->pw_uid
			  ? runtime : NULL },
	};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		if (!defaults[i][1] || env_has(env, n, defaults[i][0]))
			continue;
		env[n] = env_entry(defaults[i][0], defaults[i][1]);
		if (!env[n]) {
			env_free(env);
			return NULL;
		}
		n++;
	}
	return env;
}

/* The child: becomes the user and runs the client.  Only async-signal-safe
 * calls from here on. */
static void __attribute__((noreturn))
child(const struct pn_options *opt, const struct passwd *pw, const gid_t *groups, int ngroups,
      bool become, int null_fd, int out_fd, int pw_fd, char *const argv[], char *const envp[])
{
	sigset_t all;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* A session of its own: a terminal's hang-up at logout is not the
	 * client's end; close_session is. */
	setsid();
	if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(out_fd, STDERR_FILENO) < 0 || dup2(pw_fd, PASSWORD_FD) < 0)
		_exit(EXIT_SETUP);
	/* Nothing else of the application's goes to the client. */
	if (close_range(PASSWORD_FD + 1, ~0U, 0) < 0)
		for (int fd = PASSWORD_FD + 1; fd < 1024; fd++)
			close(fd);
	if (become) {
		if (setgroups((size_t)ngroups, groups) < 0 || setgid(pw->pw_gid) < 0 ||
		    setuid(pw->pw_uid) < 0)
			_exit(EXIT_SETUP);
		/* No way back to root. */
		if (setuid(0) == 0 || getuid() != pw->pw_uid || getgid() != pw->pw_gid)
			_exit(EXIT_SETUP);
	}
	if (chdir(pw->pw_dir) < 0 && chdir("/") < 0)
		_exit(EXIT_SETUP);
	execve(opt->nutcpc, argv, envp);
	_exit(EXIT_EXEC);
}

/* Reads what the client printed into buf (len bytes kept of a line not
 * ended yet), its last whole line into last.  1 when it said it is logged
 * in, 0 when it said something else, -1 at the end of its output. */
static int read_output(int fd, char *buf, size_t cap, size_t *len, char *last, size_t last_cap)
{
	ssize_t n = read(fd, buf + *len, cap - 1 - *len);
	int said = 0;
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	*len += (size_t)n;
	buf[*len] = '\0';
	while ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		if (*buf) {
			snprintf(last, last_cap, "%s", buf);
			if (strstr(buf, "logged in"))
				said = 1;
		}
		*len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, *len + 1);
	}
	if (*len == cap - 1)	/* a line too long: dropped */
		*len = 0;
	return said;
}

/* Waits for the client's first word, at most until deadline. */
static enum pn_outcome wait_outcome(const struct pn_client *c, int out_fd, long long deadline,
				    char *last, size_t last_cap)
{
	char buf[1024];
	size_t len = 0;
	bool out_open = true;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = out_open ? out_fd : -1, .events = POLLIN },
			{ .fd = c->pidfd, .events = POLLIN },
		};
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return PN_PENDING;
		/* Without a pidfd, the end of the output tells the end. */
		if (!out_open && c->pidfd < 0)
			return PN_ENDED;
		r = poll(p, 2, (int)(left > INT_MAX ? INT_MAX : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return PN_PENDING;
		if (p[0].revents) {
			r = read_output(out_fd, buf, sizeof(buf), &len, last, last_cap);
			if (r > 0)
				return PN_LOGGED_IN;
			if (r < 0)
				out_open = false;
		}
		if (p[1].revents & POLLIN)
			break;
	}
	/* It ended: what it wrote last says why (it has no child that could
	 * keep the pipe open, and the reads no longer wait). */
	if (out_open && fcntl(out_fd, F_SETFL, O_NONBLOCK) == 0) {
		long long stop = now_ms() + 100;

		while (read_output(out_fd, buf, sizeof(buf), &len, last, last_cap) >= 0 &&
		       now_ms() < stop)
			;
	}
	return PN_ENDED;
}

/* Reaps the client when it has ended; its status, or -1. */
static int reap(pid_t pid, bool block)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, block ? 0 : WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

/* nutcpc's command line into argv (MAX_ARGS): in the foreground, as the
 * user, with the module's server, port and CA, the password on fd_arg. */
static void client_argv(const struct pn_options *opt, const struct passwd *pw,
			const char *fd_arg, const char **argv)
{
	int argc = 0;

	argv[argc++] = opt->nutcpc;
	argv[argc++] = "-d";	/* in the foreground: its pid is the one to stop */
	argv[argc++] = "-U";
	argv[argc++] = pw->pw_name;
	if (opt->server) {
		argv[argc++] = "-H";
		argv[argc++] = opt->server;
	}
	if (opt->port) {
		argv[argc++] = "-p";
		argv[argc++] = opt->port;
	}
	if (opt->ca) {
		argv[argc++] = "-A";
		argv[argc++] = opt->ca;
	}
	argv[argc++] = "--password-fd";
	argv[argc++] = fd_arg;
	argv[argc] = NULL;
}

/* The client's two pipes and /dev/null, all above the descriptors the
 * child sets up (move_high); false, with a line, when one cannot be made
 * (those made stay in the arrays for the caller to close). */
static bool open_pipes(pam_handle_t *pamh, int pw_pipe[2], int out_pipe[2], int *null_fd)
{
	*null_fd = move_high(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (pipe2(pw_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0 || *null_fd < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot make the client's pipes: %m");
		return false;
	}
	for (int i = 0; i < 2; i++) {
		pw_pipe[i] = move_high(pw_pipe[i]);
		out_pipe[i] = move_high(out_pipe[i]);
	}
	if (pw_pipe[0] < 0 || pw_pipe[1] < 0 || out_pipe[0] < 0 || out_pipe[1] < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot make the client's pipes: %m");
		return false;
	}
	return true;
}

/* The password and a newline into fd: far below a pipe's buffer, so this
 * does not block; the caller closes fd at once (the end of the password). */
static void hand_password(pam_handle_t *pamh, const struct pn_options *opt, int fd,
			  const char *password)
{
	size_t len = strlen(password), done = 0;

	while (done < len) {
		ssize_t n = write(fd, password + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done == len && write(fd, "\n", 1) != 1)
		done = 0;
	if (done < len && opt->debug)
		pam_syslog(pamh, LOG_DEBUG, "the client took no password");
}

enum pn_outcome pn_client_start(pam_handle_t *pamh, const struct pn_options *opt,
				const struct passwd *pw, const char *password,
				struct pn_client *client, char *last_line, size_t cap)
{
	long long deadline = now_ms() + opt->timeout_ms;
	gid_t groups[MAX_GROUPS];
	int ngroups = MAX_GROUPS;
	int pw_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 }, null_fd;
	const char *argv[MAX_ARGS];
	int status;
	char fd_arg[16];
	char **envp;
	bool become = geteuid() == 0;
	enum pn_outcome outcome;
	pid_t pid;

	*last_line = '\0';
	client->pid = -1;
	client->pidfd = -1;
	if (!become && getuid() != pw->pw_uid) {
		pam_syslog(pamh, LOG_ERR, "not root: cannot start the client as %s", pw->pw_name);
		return PN_FAILED;
	}
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0) {
		pam_syslog(pamh, LOG_ERR, "%s is in more than %d groups", pw->pw_name, MAX_GROUPS);
		return PN_FAILED;
	}
	snprintf(fd_arg, sizeof(fd_arg), "%d", PASSWORD_FD);
	client_argv(opt, pw, fd_arg, argv);

	envp = client_env(pamh, pw);
	if (!envp) {
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		return PN_FAILED;
	}
	if (!open_pipes(pamh, pw_pipe, out_pipe, &null_fd))
		goto fail;
	pid = fork();
	if (pid < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot start the client: fork: %m");
		goto fail;
	}
	if (pid == 0)
		child(opt, pw, groups, ngroups, become, null_fd, out_pipe[1], pw_pipe[0],
		      (char *const *)argv, envp);
	client->pid = pid;
	client->pidfd = pidfd_open(pid, 0);
	close(pw_pipe[0]);
	close(out_pipe[1]);
	close(null_fd);
	pw_pipe[0] = out_pipe[1] = null_fd = -1;
	env_free(envp);
	envp = NULL;

	hand_password(pamh, opt, pw_pipe[1], password);
	close(pw_pipe[1]);
	pw_pipe[1] = -1;

	outcome = wait_outcome(client, out_pipe[0], deadline, last_line, cap);
	/* From now on the client's output goes nowhere: writes to a pipe
	 * without reader fail (nutcpc ignores SIGPIPE) instead of filling it. */
	close(out_pipe[0]);
	if (outcome == PN_ENDED) {
		status = reap(pid, client->pidfd >= 0);
		if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SETUP)
			snprintf(last_line, cap, "could not become %s", pw->pw_name);
		else if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_EXEC)
			snprintf(last_line, cap, "cannot run %s", opt->nutcpc);
		if (client->pidfd >= 0)
			close(client->pidfd);
		client->pid = -1;
		client->pidfd = -1;
	}
	return outcome;

fail:
	for (int i = 0; i < 2; i++) {
		if (pw_pipe[i] >= 0)
			close(pw_pipe[i]);
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
	}
	if (null_fd >= 0)
		close(null_fd);
	env_free(envp);
	return PN_FAILED;
}

/* Waits at most ms for the client's end; true when it ended. */
static bool wait_end(const struct pn_client *c, int ms)
{
	long long deadline = now_ms() + ms;

	if (c->pidfd < 0) {
		/* No pidfd: our child, still unreaped, is polled. */
		while (reap(c->pid, false) < 0 && kill(c->pid, 0) == 0) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			if (now_ms() >= deadline)
				return false;
			nanosleep(&ts, NULL);
		}
		return true;
	}
	for (;;) {
		struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return false;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0) {
			reap(c->pid, false);
			return true;
		}
		if (r < 0)
			return false;
	}
}

static int send_signal(const struct pn_client *c, int sig)
{
	if (c->pidfd >= 0)
		return pidfd_send_signal(c->pidfd, sig, NULL, 0);
	return kill(c->pid, sig);
}

bool pn_client_stop(const struct pn_client *c, int timeout_ms)
{
	/* SIGTERM: nutcpc logs out (nuauth ends the user's connections). */
	if (send_signal(c, SIGTERM) < 0 && errno == ESRCH) {
		reap(c->pid, false);
		return true;
	}
	if (wait_end(c, timeout_ms))
		return true;
	send_signal(c, SIGKILL);
	return wait_end(c, 1000);
}
