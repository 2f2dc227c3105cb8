/* The login storm (bench/login_storm.sh): N synthetic clients, built on
 * libnuclient, log in to nuauth as fast as they can and then stay logged
 * in, idle, until the storm is told to end.
 *
 *   login_storm [-n N] [-w WORKERS] [-M MECH] [-u PREFIX] [-i FIRST] [-r] -H HOST -A CA
 *
 * Client k (FIRST <= k < FIRST + N) logs in as PREFIXk with the password
 * pwk (bench/login_storm.sh writes such a users file).  WORKERS (4)
 * processes each log their share in one after the other (nuclient_login
 * blocks), so WORKERS logins are in flight.  Prints
 *   "logged in N of N in S s: R logins/s, p50 X ms, p99 Y ms"
 * then "holding", and keeps every session until it gets SIGTERM (its
 * workers end when its end of their pipe closes).  With -r the workers run
 * their clients' loop while holding, so that clients whose link drops log
 * in again on the library's back-off (tests/e2e/desktop.sh restarts nuauth
 * under 200 of them).  Each worker raises its open files limit to the hard
 * limit: one descriptor per session. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>

#include "nuclient.h"
#include "io_all.h"

#define MAX_WORKERS 64

struct opts {
	unsigned n, workers, first;
	const char *mech, *prefix, *host, *ca;
	bool run_loop;		/* -r */
};

/* What a worker tells the parent once its share is logged in, followed by
 * ok login times in microseconds (uint32_t). */
struct report {
	uint32_t ok, failed;
	char first_error[200];
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static gboolean on_hold_closed(int fd, GIOCondition cond, gpointer loop)
{
	(void)fd, (void)cond;
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static struct nuclient *make_client(const struct opts *o, unsigned k)
{
	struct nuclient *nc = nuclient_new();
	char user[64], pass[64];

	if (!nc)
		return NULL;
	snprintf(user, sizeof(user), "%s%u", o->prefix, k);
	snprintf(pass, sizeof(pass), "pw%u", k);
	if (nuclient_set(nc, NUCLIENT_OPT_SERVER, o->host) < 0 ||
	    nuclient_set(nc, NUCLIENT_OPT_CA, o->ca) < 0 ||
	    nuclient_set(nc, NUCLIENT_OPT_USER, user) < 0 ||
	    nuclient_set(nc, NUCLIENT_OPT_PASSWORD, pass) < 0 ||
	    (o->mech && nuclient_set(nc, NUCLIENT_OPT_MECHANISMS, o->mech) < 0)) {
		nuclient_free(nc);
		return NULL;
	}
	return nc;
}

/* Logs in clients first..first+count-1, reports, then holds them until hold
 * (the parent's pipe) closes. */
static void worker(const struct opts *o, unsigned first, unsigned count, int go, int out,
		   int hold)
{
	struct nuclient **clients = calloc(count, sizeof(*clients));
	uint32_t *times = calloc(count, sizeof(*times));
	struct report r = { 0 };
	char c;

	raise_fd_limit();
	if (!clients || !times)
		_exit(1);
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	for (unsigned i = 0; i < count; i++) {
		uint64_t t0 = now_us();
		char *err = NULL;

		clients[i] = make_client(o, first + i);
		if (clients[i] && nuclient_login(clients[i], &err) == NUCLIENT_OK) {
			times[r.ok++] = (uint32_t)(now_us() - t0);
			continue;
		}
		if (!r.failed++)
			snprintf(r.first_error, sizeof(r.first_error), "%s%u: %s", o->prefix,
				 first + i, err ? err : "cannot make the client");
		free(err);
		nuclient_free(clients[i]);
		clients[i] = NULL;
	}
	if (!write_all(out, &r, sizeof(r)) || !write_all(out, times, r.ok * sizeof(*times)))
		_exit(1);
	if (o->run_loop) {
		GMainLoop *loop = g_main_loop_new(NULL, FALSE);

		g_unix_fd_add(hold, G_IO_IN | G_IO_HUP | G_IO_ERR, on_hold_closed, loop);
		g_main_loop_run(loop);	/* EOF: the storm ends */
		_exit(0);
	}
	while (read(hold, &c, 1) < 0 && errno == EINTR)
		;			/* EOF: the storm ends */
	_exit(0);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_ms(const uint32_t *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100 * (double)n + 0.999999);

	return n ? v[rank ? rank - 1 : 0] / 1000.0 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: login_storm [-n N] [-w WORKERS] [-M MECH] [-u PREFIX] [-i FIRST] [-r] "
		"-H HOST -A CA\n");
}

int main(int argc, char **argv)
{
	struct opts o = { .n = 10000, .workers = 4, .first = 1, .prefix = "s" };
	int go[2], hold[2], outs[MAX_WORKERS], opt;
	pid_t pids[MAX_WORKERS];
	uint32_t ok = 0, failed = 0, *times;
	uint64_t t0;
	double secs;

	while ((opt = getopt(argc, argv, "n:w:M:u:i:H:A:r")) != -1) {
		switch (opt) {
		case 'n': o.n = (unsigned)atoi(optarg); break;
		case 'w': o.workers = (unsigned)atoi(optarg); break;
		case 'M': o.mech = optarg; break;
		case 'u': o.prefix = optarg; break;
		case 'i': o.first = (unsigned)atoi(optarg); break;
		case 'H': o.host = optarg; break;
		case 'A': o.ca = optarg; break;
		case 'r': o.run_loop = true; break;
		default: usage(); return 2;
		}
	}
	if (optind != argc || !o.host || !o.ca || o.n == 0 || o.workers == 0 ||
	    o.workers > MAX_WORKERS) {
		usage();
		return 2;
	}
	if (o.workers > o.n)
		o.workers = o.n;
	signal(SIGPIPE, SIG_IGN);
	nuclient_log_init("login_storm", false, LOG_WARNING);
	times = calloc(o.n, sizeof(*times));
	if (!times || pipe(go) < 0 || pipe(hold) < 0)
		return 1;
	for (unsigned w = 0; w < o.workers; w++) {
		unsigned first = o.first + o.n * w / o.workers;
		unsigned count = o.first + o.n * (w + 1) / o.workers - first;
		int out[2];

		if (pipe(out) < 0 || (pids[w] = fork()) < 0) {
			perror("login_storm");
			return 1;
		}
		if (pids[w] == 0) {
			close(go[1]);
			close(hold[1]);
			close(out[0]);
			worker(&o, first, count, go[0], out[1], hold[0]);
		}
		close(out[1]);
		outs[w] = out[0];
	}
	close(go[0]);
	close(hold[0]);
	t0 = now_us();
	close(go[1]);		/* go */
	for (unsigned w = 0; w < o.workers; w++) {
		struct report r;

		if (!read_all(outs[w], &r, sizeof(r)) ||
		    !read_all(outs[w], times + ok, r.ok * sizeof(*times))) {
			fprintf(stderr, "login_storm: worker %u gave no report\n", w);
			continue;
		}
		ok += r.ok;
		failed += r.failed;
		if (r.failed)
			fprintf(stderr, "login_storm: worker %u: %u failed, the first: %s\n", w,
				r.failed, r.first_error);
	}
	secs = (double)(now_us() - t0) / 1e6;
	qsort(times, ok, sizeof(*times), cmp_u32);
	printf("logged in %u of %u in %.2f s: %.0f logins/s, p50 %.1f ms, p99 %.1f ms\n", ok, o.n,
	       secs, ok / secs, pct_ms(times, ok, 50), pct_ms(times, ok, 99));
	printf("holding\n");
	fflush(stdout);
	for (;;)
		pause();	/* until SIGTERM */
}
