/* nutcpc: the desktop client, a front end of libnuclient.  It reads
 * nuclient.conf (system, then the user's), takes the user's lock so that one
 * user runs one client, logs in, goes to the background (unless -d) and
 * lets the library announce the user's connections.  -k stops the running
 * client, -c tells whether one runs and its state. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <glib.h>
#include <glib-unix.h>

#include "nuclient.h"
#include "desktop.h"

#define SYSTEM_CONF SYSCONFDIR "/nufw/nuclient.conf"
#define LOCK_NAME "nutcpc.lock"
#define KILL_WAIT_MS 5000
#define PASSWORD_MAX 1024	/* --password-fd reads at most this */
#define OPT_PASSWORD_FD 256	/* --password-fd's getopt value */

struct cli {
	const char *host, *port, *user, *ca, *cert, *key, *crl, *mechs;
	char *password;
	int password_fd;	/* --password-fd; -1 when not given */
	bool no_check_name, foreground, no_config, quiet, udp_unconnected;
	bool no_notify;		/* --no-notify */
	int action;		/* 0 run, 'k' kill, 'c' check */
	int verbosity;
};

struct app {
	struct nuclient *nc;
	struct cli *cli;
	int lock_fd;
	struct desktop *desktop;	/* notifications, org.nufw.Client1 */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nutcpc [-H HOST] [-p PORT] [-U USER] [-P PASSWORD | --password-fd FD]\n"
		"              [-A CA] [-C CERT -K KEY] [-R CRL] [-N] [-M MECHS] [-F] [-q] [-d] [-v]...\n"
		"              [--udp-unconnected] [--no-notify]\n"
		"       nutcpc -k | -c | -V\n"
		"  -H HOST      nuauth's address or name; a comma-separated list gives one\n"
		"               address per family (IPv4, IPv6): one link each\n"
		"  -p PORT      nuauth's client port (default 4129)\n"
		"  -U USER      user name (default: your login name)\n"
		"  -P PASSWORD  password (else NUTCPC_PASSWORD, else asked on the terminal)\n"
		"  --password-fd FD\n"
		"               read the password from file descriptor FD, up to a newline\n"
		"               or its end (a pipe from pam_nufw or a keyring helper)\n"
		"  -A CA        CA certificate that signed nuauth's certificate\n"
		"  -C CERT      client certificate to present (with -K KEY); it logs in\n"
		"               without a password where nuauth allows certificate login\n"
		"  -K KEY       the client certificate's private key\n"
		"  -R CRL       certificate revocation list\n"
		"  -N           do not check that nuauth's certificate names HOST\n"
		"  -M MECHS     SASL mechanisms to use (space or comma separated)\n"
		"  -F           read no configuration file\n"
		"  -q           do not show why nuauth refused a connection\n"
		"  -d           stay in the foreground\n"
		"  -k           stop the client running for this user\n"
		"  -c           tell whether a client runs for this user, and its state\n"
		"  -v           more verbose (repeat for more)\n"
		"  --udp-unconnected\n"
		"               let unconnected UDP sockets claim flows from their port: then\n"
		"               a datagram anyone forges from that port is claimed as yours\n"
		"  --no-notify  no desktop notifications (refusals, login trouble)\n"
		"  -V           print the version and exit\n"
		"Configuration: " SYSTEM_CONF ", then ~/.nufw/nuclient.conf; options override them.\n");
}

static char *ask_password(const char *user, const char *host)
{
	struct termios old, quiet;
	char line[512];
	FILE *tty = fopen("/dev/tty", "r+");
	bool ok;

	if (!tty)
		return NULL;
	fprintf(tty, "Password for %s on %s: ", user, host);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	ok = fgets(line, sizeof(line), tty) != NULL;
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (!ok)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	char *pw = g_strdup(line);
	explicit_bzero(line, sizeof(line));
	return pw;
}

/* ---- the user's folder and lock ---- */

/* A directory that exists, is no symbolic link and belongs to uid. */
static bool owned_dir(const char *path, uid_t uid)
{
	struct stat st;

	return path && lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid;
}

/* The user's home: the password database's, else $HOME, when it belongs to
 * the user; NULL otherwise (a program run under another uid's $HOME). */
static const char *user_home(void)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw && owned_dir(pw->pw_dir, getuid()))
		return pw->pw_dir;
	if (owned_dir(g_getenv("HOME"), getuid()))
		return g_getenv("HOME");
	return NULL;
}

/* ~/.nufw, made when missing; where there is no home of the user's, a
 * private folder in $XDG_RUNTIME_DIR or /tmp.  g_free'd by the caller. */
static char *state_dir(char **err)
{
	const char *home = user_home();
	const char *runtime = g_getenv("XDG_RUNTIME_DIR");
	char *dir;

	if (home)
		dir = g_build_filename(home, ".nufw", NULL);
	else if (owned_dir(runtime, getuid()))
		dir = g_build_filename(runtime, "nufw", NULL);
	else
		dir = g_strdup_printf("/tmp/nufw-%u", (unsigned)getuid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*err = g_strdup_printf("cannot make %s: %s", dir, g_strerror(errno));
		g_free(dir);
		return NULL;
	}
	if (!owned_dir(dir, getuid())) {
		*err = g_strdup_printf("%s is not a folder of yours", dir);
		g_free(dir);
		return NULL;
	}
	return dir;
}

static char *lock_path(char **err)
{
	char *dir = state_dir(err);
	char *path = dir ? g_build_filename(dir, LOCK_NAME, NULL) : NULL;

	g_free(dir);
	return path;
}

/* Rewrites the lock file: the client's pid, then its state. */
static void lock_write(int fd, const char *state)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%ld\n%s\n", (long)getpid(), state);

	if (fd < 0 || n < 0)
		return;
	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, MIN((size_t)n, sizeof(buf) - 1), 0) < 0)
		return;
}

/* Opens and locks the user's lock file.  -1 with *err when another client
 * holds it or it cannot be made. */
static int lock_take(char **err)
{
	char *path = lock_path(err);
	int fd;

	if (!path)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*err = g_strdup_printf("cannot open %s: %s", path, g_strerror(errno));
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char buf[32] = "";
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

		if (n > 0)
			buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		*err = g_strdup_printf("a client already runs for you (pid %s); stop it with nutcpc -k",
				       *buf ? buf : "unknown");
		close(fd);
		fd = -1;
	}
	g_free(path);
	return fd;
}

/* The running client's pid and state, read from a lock some process holds.
 * False when no client runs. */
static bool lock_probe(long *pid, char *state, size_t cap, int *fd_out)
{
	char *err = NULL, *path = lock_path(&err), buf[600];
	int fd;
	ssize_t n;

	g_free(err);
	if (!path)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	g_free(path);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return false;	/* nobody holds it */
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	*pid = strtol(buf, NULL, 10);
	g_strlcpy(state, strchr(buf, '\n') ? strchr(buf, '\n') + 1 : "", cap);
	state[strcspn(state, "\n")] = '\0';
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	return true;
}

static int do_check(void)
{
	char state[512];
	long pid;

	if (!lock_probe(&pid, state, sizeof(state), NULL)) {
		printf("nutcpc: no client runs for you\n");
		return 1;
	}
	printf("nutcpc: running (pid %ld): %s\n", pid, *state ? state : "starting");
	return 0;
}

static int do_kill(void)
{
	char state[512];
	long pid;
	int fd;

	if (!lock_probe(&pid, state, sizeof(state), &fd)) {
		fprintf(stderr, "nutcpc: no client runs for you\n");
		return 1;
	}
	if (pid <= 1 || kill((pid_t)pid, SIGTERM) < 0) {
		fprintf(stderr, "nutcpc: cannot stop pid %ld: %s\n", pid,
			pid <= 1 ? "not a client's pid" : g_strerror(errno));
		close(fd);
		return 1;
	}
	for (int waited = 0; waited < KILL_WAIT_MS; waited += 20) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
			close(fd);
			printf("nutcpc: stopped the client (pid %ld)\n", pid);
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	close(fd);
	fprintf(stderr, "nutcpc: pid %ld did not stop within %d s\n", pid, KILL_WAIT_MS / 1000);
	return 1;
}

/* ---- running ---- */

static void on_notice(const struct nuclient_notice *n, void *ctx)
{
	struct app *a = ctx;

	desktop_notice(a->desktop, n);
	if (a->cli->quiet)
		return;
	if (a->cli->foreground)
		fprintf(stderr, "nutcpc: %s\n", n->line);
	else
		syslog(LOG_NOTICE, "%s", n->line);
}

static void on_state(enum nuclient_state state, const char *detail, void *ctx)
{
	struct app *a = ctx;

	lock_write(a->lock_fd, nuclient_describe(a->nc));
	desktop_state(a->desktop, state, detail);
}

static gboolean on_quit_signal(gpointer data)
{
	struct app *a = data;

	/* Ending the client ends the user's session (LOGOUT): nuauth ends the
	 * user's connections; a link that merely drops keeps them. */
	nuclient_stop(a->nc, true);
	return G_SOURCE_CONTINUE;
}

static gboolean on_hup(gpointer data)
{
	struct app *a = data;

	nuclient_reconnect(a->nc);
	return G_SOURCE_CONTINUE;
}

/* System file, then the user's; a broken file stops the client. */
static bool load_configs(struct nuclient *nc)
{
	const char *home = user_home();
	char *user_conf = home ? g_build_filename(home, ".nufw", "nuclient.conf", NULL) : NULL;
	const char *files[] = { SYSTEM_CONF, user_conf };
	bool ok = true;

	for (size_t i = 0; i < G_N_ELEMENTS(files) && ok; i++) {
		char *err = NULL;

		if (files[i] && nuclient_load_config(nc, files[i], &err) < 0) {
			fprintf(stderr, "nutcpc: %s\n", err);
			free(err);
			ok = false;
		}
	}
	g_free(user_conf);
	return ok;
}

/* Wipes and frees a password copy. */
static void forget(char **password)
{
	if (*password) {
		explicit_bzero(*password, strlen(*password));
		g_free(*password);
		*password = NULL;
	}
}

static void apply(struct nuclient *nc, enum nuclient_option o, const char *v)
{
	if (v)
		nuclient_set(nc, o, v);
}

/* The command line into *cli.  -1 to go on; else the exit status (-V, -h,
 * -k, -c, a bad command line). */
static int parse_args(int argc, char **argv, struct cli *cli)
{
	static const struct option long_options[] = {
		{ "udp-unconnected", no_argument, NULL, 'u' },
		{ "no-notify", no_argument, NULL, 'n' << 8 },
		{ "password-fd", required_argument, NULL, OPT_PASSWORD_FD },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	char *end;

	while ((opt = getopt_long(argc, argv, "H:p:U:P:A:C:K:R:NM:FqdkcvVh",
				  long_options, NULL)) != -1) {
		switch (opt) {
		case 'H': cli->host = optarg; break;
		case 'p': cli->port = optarg; break;
		case 'U': cli->user = optarg; break;
		case 'P':
			/* Keep the password out of ps: copy it, blank the argument. */
			g_free(cli->password);
			cli->password = g_strdup(optarg);
			memset(optarg, 'x', strlen(optarg));
			break;
		case 'A': cli->ca = optarg; break;
		case 'C': cli->cert = optarg; break;
		case 'K': cli->key = optarg; break;
		case 'R': cli->crl = optarg; break;
		case 'N': cli->no_check_name = true; break;
		case 'M': cli->mechs = optarg; break;
		case 'F': cli->no_config = true; break;
		case 'q': cli->quiet = true; break;
		case 'u': cli->udp_unconnected = true; break;
		case 'n' << 8: cli->no_notify = true; break;
		case OPT_PASSWORD_FD: {
			long fd;

			errno = 0;
			fd = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || fd < 0 || fd > INT_MAX) {
				forget(&cli->password);
				fprintf(stderr, "nutcpc: --password-fd %s: not a file descriptor\n", optarg);
				return 2;
			}
			cli->password_fd = (int)fd;
			break;
		}
		case 'd': cli->foreground = true; break;
		case 'k': case 'c': cli->action = opt; break;
		case 'v': if (cli->verbosity < 7) cli->verbosity++; break;
		case 'V': printf("nutcpc %s (libnuclient %s)\n", PACKAGE_VERSION, nuclient_version()); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		forget(&cli->password);
		fprintf(stderr, "nutcpc: unexpected argument `%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (cli->action || (cli->cert == NULL) != (cli->key == NULL)) {
		forget(&cli->password);
		if (cli->action == 'k')
			return do_kill();
		if (cli->action == 'c')
			return do_check();
		fprintf(stderr, "nutcpc: a client certificate needs its key: give both -C and -K\n");
		return 2;
	}
	return -1;
}

/* The configuration files, then the command line over them.  False when
 * either is wrong (said on stderr). */
static bool configure(struct nuclient *nc, const struct cli *cli)
{
	if (!cli->no_config && !load_configs(nc))
		return false;
	apply(nc, NUCLIENT_OPT_SERVER, cli->host);
	apply(nc, NUCLIENT_OPT_USER, cli->user);
	apply(nc, NUCLIENT_OPT_CA, cli->ca);
	apply(nc, NUCLIENT_OPT_CERT, cli->cert);
	apply(nc, NUCLIENT_OPT_KEY, cli->key);
	apply(nc, NUCLIENT_OPT_CRL, cli->crl);
	apply(nc, NUCLIENT_OPT_MECHANISMS, cli->mechs);
	if (cli->no_check_name)
		nuclient_set(nc, NUCLIENT_OPT_CHECK_NAME, "0");
	if (cli->udp_unconnected)
		nuclient_set(nc, NUCLIENT_OPT_UDP_UNCONNECTED, "1");
	if (cli->no_notify)
		nuclient_set(nc, NUCLIENT_OPT_DESKTOP_NOTIFY, "0");
	if (cli->port && nuclient_set(nc, NUCLIENT_OPT_PORT, cli->port) < 0) {
		fprintf(stderr, "nutcpc: -p %s: not a port number\n", cli->port);
		return false;
	}
	return true;
}

/* The user's lock, held from now on, saying "logging in". */
static bool take_lock(struct app *a)
{
	char *err = NULL;

	a->lock_fd = lock_take(&err);
	if (a->lock_fd < 0) {
		fprintf(stderr, "nutcpc: %s\n", err);
		g_free(err);
		return false;
	}
	lock_write(a->lock_fd, "logging in");
	return true;
}

/* The password from fd (--password-fd), up to a newline or the end, read
 * into a locked buffer, handed to nc (which keeps it locked) and wiped
 * here; fd is closed.  False (said on stderr) when none could be read. */
static bool password_from_fd(struct nuclient *nc, int fd)
{
	char buf[PASSWORD_MAX + 1];
	size_t len = 0;
	ssize_t n = 0;
	bool ok;

	if (fcntl(fd, F_GETFD) < 0) {
		fprintf(stderr, "nutcpc: --password-fd %d: %s\n", fd, g_strerror(errno));
		return false;
	}
	(void)mlock(buf, sizeof(buf));	/* best effort, as libnuclient's */
	while (len < sizeof(buf) && !memchr(buf, '\n', len)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	ok = n >= 0 && len > 0 && (len < sizeof(buf) || memchr(buf, '\n', len));
	if (ok) {
		buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		ok = *buf != '\0';
	}
	if (ok)
		nuclient_set(nc, NUCLIENT_OPT_PASSWORD, buf);
	else if (n < 0)
		fprintf(stderr, "nutcpc: --password-fd %d: %s\n", fd, g_strerror(errno));
	else
		fprintf(stderr, "nutcpc: --password-fd %d: %s\n", fd,
			len ? "longer than " G_STRINGIFY(PASSWORD_MAX) " bytes" : "no password");
	explicit_bzero(buf, sizeof(buf));
	(void)munlock(buf, sizeof(buf));
	return ok;
}

/* The password from --password-fd, -P, NUTCPC_PASSWORD or the terminal,
 * handed to nc and wiped here.  False when none is to be had and no
 * certificate is given. */
static bool set_password(struct nuclient *nc, struct cli *cli)
{
	if (cli->password_fd >= 0) {
		forget(&cli->password);
		return password_from_fd(nc, cli->password_fd);
	}
	if (!cli->password && g_getenv("NUTCPC_PASSWORD"))
		cli->password = g_strdup(g_getenv("NUTCPC_PASSWORD"));
	/* With -C the certificate may be the login (EXTERNAL): no password
	 * is asked for, one given is the fallback. */
	if (!cli->password && !cli->cert && isatty(STDIN_FILENO))
		cli->password = ask_password(cli->user ? cli->user : g_get_user_name(),
					     cli->host ? cli->host : "nuauth");
	if (!cli->password && !cli->cert) {
		fprintf(stderr, "nutcpc: no password: give it with -P, NUTCPC_PASSWORD or on a terminal\n");
		return false;
	}
	if (cli->password)
		nuclient_set(nc, NUCLIENT_OPT_PASSWORD, cli->password);
	forget(&cli->password);
	return true;
}

/* Logs in; the exit status when that fails, else -1. */
static int log_in(struct app *a)
{
	char *err = NULL;
	enum nuclient_status r;

	nuclient_on_notice(a->nc, on_notice, a);
	nuclient_on_state(a->nc, on_state, a);
	r = nuclient_login(a->nc, &err);
	if (r == NUCLIENT_UNREACHABLE) {
		/* A laptop whose network is not up yet, nuauth restarting: keep
		 * trying on the back-off; only a refused login ends the client. */
		fprintf(stderr, "nutcpc: %s; trying again\n", err ? err : "nuauth unreachable");
		free(err);
		return -1;
	}
	if (r != NUCLIENT_OK) {
		fprintf(stderr, "nutcpc: %s\n", err ? err : "login failed");
		free(err);
		return r == NUCLIENT_BAD_CONFIG ? 2 : 1;
	}
	printf("nutcpc: %s\n", nuclient_describe(a->nc));
	fflush(stdout);
	return -1;
}

static bool go_background(const struct cli *cli)
{
	/* When nutcpc leads its terminal's session (a terminal that runs it
	 * directly, ssh -t), the parent's exit in daemon() hangs the
	 * terminal up, and the child dies of that SIGHUP unless it has its
	 * own session by then.  on_hup is set by watch_signals. */
	signal(SIGHUP, SIG_IGN);
	if (daemon(0, 0) < 0) {
		fprintf(stderr, "nutcpc: cannot run in the background: %s\n", g_strerror(errno));
		return false;
	}
	nuclient_log_init("nutcpc", true, cli->verbosity);
	return true;
}

static void watch_signals(struct app *a)
{
	g_unix_signal_add(SIGTERM, on_quit_signal, a);
	g_unix_signal_add(SIGINT, on_quit_signal, a);
	g_unix_signal_add(SIGHUP, on_hup, a);
}

/* Configures, locks, logs in, goes to the background and runs: the exit
 * status. */
static int run(struct app *a)
{
	struct cli *cli = a->cli;
	int ret;

	if (!configure(a->nc, cli))
		return 2;
	if (!take_lock(a))
		return 1;
	if (!set_password(a->nc, cli))
		return 2;
	ret = log_in(a);
	if (ret >= 0)
		return ret;
	if (!cli->foreground && !go_background(cli))
		return 1;
	lock_write(a->lock_fd, nuclient_describe(a->nc));
	/* After daemon(): GDBus runs a thread. */
	a->desktop = desktop_new(a->nc, strcmp(nuclient_get(a->nc, NUCLIENT_OPT_DESKTOP_NOTIFY),
					       "1") == 0, cli->verbosity, !cli->foreground);
	watch_signals(a);
	return nuclient_run(a->nc);
}

int main(int argc, char **argv)
{
	struct cli cli = { .verbosity = 5 /* LOG_NOTICE */, .password_fd = -1 };
	struct app a = { .cli = &cli, .lock_fd = -1 };
	int ret = parse_args(argc, argv, &cli);

	if (ret >= 0)
		return ret;
	nuclient_log_init("nutcpc", false, cli.verbosity);
	signal(SIGPIPE, SIG_IGN);
	a.nc = nuclient_new();
	ret = run(&a);
	desktop_free(a.desktop);
	forget(&cli.password);
	nuclient_free(a.nc);
	if (a.lock_fd >= 0)
		close(a.lock_fd);
	return ret;
}
