/* The load of the authenticated-connections benchmark (bench/auth_load.sh):
 * TCP connects opened as many desktop users, timed from connect() to the
 * established connection, then reset (no TIME_WAIT anywhere, so source
 * ports come back at once).
 *
 *   auth_load serve PORT
 *       accepts and closes connections as fast as it can; prints "ready".
 *   auth_load connect [-r RATE | -c INFLIGHT] [-t SECONDS] [-T MS] HOST PORT UID1 UIDN
 *       forks one worker per uid UID1..UIDN; each drops to its uid (and a
 *       gid of the same number) before it opens a socket, so the sockets
 *       are that user's.  -r: open loop, RATE connects per second over all
 *       users, each worker on its own fixed schedule whatever the answers;
 *       -c: closed loop, INFLIGHT connects in flight per user, the most the
 *       path takes.  A connect not established within -T MS (3000) counts
 *       as timed out.  Prints one line of key=value figures.
 *
 * Only for the benchmark's own namespaces. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io_all.h"

#define MAX_WORKERS 1000
#define MAX_INFLIGHT 4096	/* per worker: past it, an open-loop connect is skipped */
#define LATE_NS 1000000		/* a connect started this late counts as late */

struct opts {
	double rate;		/* total connects/s (open loop), 0: closed loop */
	unsigned inflight;	/* per worker (closed loop) */
	unsigned seconds;
	unsigned timeout_ms;
	struct sockaddr_in to;
};

/* What each worker sends back to the parent, followed by nlat uint32_t
 * latencies in microseconds. */
struct result {
	uint64_t attempted, completed, failed, timeouts, late, skipped, nlat;
};

struct worker {
	const struct opts *o;
	int ep;
	unsigned inflight;
	uint64_t *started;	/* indexed by fd: start time, 0 when free */
	size_t nstarted;
	uint32_t *lat;
	size_t nlat, cap;
	struct result r;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void record(struct worker *w, uint64_t ns)
{
	if (w->nlat == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 4096;
		w->lat = realloc(w->lat, w->cap * sizeof(*w->lat));
		if (!w->lat) {
			perror("auth_load: memory");
			_exit(1);
		}
	}
	w->lat[w->nlat++] = (uint32_t)(ns / 1000);
}

/* Resets and closes: no TIME_WAIT on this side, nothing left on the other. */
static void finish(struct worker *w, int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	w->started[fd] = 0;
	w->inflight--;
}

/* False when the connect could not even start. */
static bool start_connect(struct worker *w)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct epoll_event ev = { .events = EPOLLOUT };

	w->r.attempted++;
	if (fd < 0 || (size_t)fd >= w->nstarted) {
		if (fd >= 0)
			close(fd);
		w->r.failed++;
		return false;
	}
	w->started[fd] = now_ns();
	w->inflight++;
	if (connect(fd, (const struct sockaddr *)&w->o->to, sizeof(w->o->to)) == 0) {
		record(w, now_ns() - w->started[fd]);
		w->r.completed++;
		finish(w, fd);
		return true;
	}
	ev.data.fd = fd;
	if (errno != EINPROGRESS || epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		w->r.failed++;
		finish(w, fd);
		return false;
	}
	return true;
}

static void on_ready(struct worker *w, int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (w->started[fd] == 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
		record(w, now_ns() - w->started[fd]);
		w->r.completed++;
	} else {
		w->r.failed++;
	}
	finish(w, fd);
}

static void expire(struct worker *w, uint64_t now)
{
	uint64_t limit = (uint64_t)w->o->timeout_ms * 1000000u;

	for (size_t fd = 0; fd < w->nstarted && w->inflight; fd++)
		if (w->started[fd] && w->started[fd] + limit < now) {
			w->r.timeouts++;
			finish(w, (int)fd);
		}
}

/* One worker: index i of n, already running as its user. */
static void run_worker(struct worker *w, unsigned i, unsigned n)
{
	const struct opts *o = w->o;
	uint64_t start = now_ns(), end = start + (uint64_t)o->seconds * 1000000000u;
	uint64_t interval = 0, next = start, last_sweep = start;
	struct epoll_event evs[256];

	if (o->rate > 0) {
		interval = (uint64_t)(1e9 * n / o->rate);
		next = start + interval * i / n;	/* workers spread over one interval */
	}
	for (;;) {
		uint64_t now = now_ns();
		struct timespec wait = { 0, 100000000 };
		int nev;

		if (now < end) {
			if (o->rate > 0) {
				while (next <= now && next < end) {
					if (now - next > LATE_NS)
						w->r.late++;
					if (w->inflight >= MAX_INFLIGHT) {
						w->r.attempted++;
						w->r.skipped++;
					} else {
						start_connect(w);
					}
					next += interval;
				}
				if (next > now && next - now < 100000000)
					wait.tv_nsec = (long)(next - now);
			} else {
				while (w->inflight < o->inflight && start_connect(w))
					;
			}
		} else if (w->inflight == 0) {
			break;
		}
		if (now - last_sweep > 100000000) {
			expire(w, now);	/* started after now: not yet due */
			last_sweep = now;
		}
		nev = epoll_pwait2(w->ep, evs, 256, &wait, NULL);
		for (int k = 0; k < nev; k++)
			on_ready(w, evs[k].data.fd);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t percentile(const uint32_t *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)(p / 100 * (double)n + 0.999999);
	return v[rank ? rank - 1 : 0];
}

static void worker_main(const struct opts *o, unsigned uid, unsigned i, unsigned n,
			int go, int out)
{
	struct worker w = { .o = o };
	struct rlimit rl;
	char c;

	if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0) {
		perror("auth_load: setuid");
		_exit(1);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	w.nstarted = rl.rlim_cur < 65536 ? rl.rlim_cur : 65536;
	w.started = calloc(w.nstarted, sizeof(*w.started));
	w.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!w.started || w.ep < 0) {
		perror("auth_load: worker");
		_exit(1);
	}
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;			/* EOF: the parent says go */
	run_worker(&w, i, n);
	w.r.nlat = w.nlat;
	if (!write_all(out, &w.r, sizeof(w.r)) ||
	    !write_all(out, w.lat, w.nlat * sizeof(*w.lat)))
		_exit(1);
	_exit(0);
}

static int connect_main(int argc, char **argv)
{
	struct opts o = { .inflight = 1, .seconds = 5, .timeout_ms = 3000 };
	struct result total = { 0 };
	unsigned first, last, n;
	int go[2], opt, status = 0;
	int outs[MAX_WORKERS];
	pid_t pids[MAX_WORKERS];
	uint32_t *all = NULL;
	size_t nall = 0;

	while ((opt = getopt(argc, argv, "r:c:t:T:")) != -1) {
		switch (opt) {
		case 'r': o.rate = atof(optarg); break;
		case 'c': o.inflight = (unsigned)atoi(optarg); break;
		case 't': o.seconds = (unsigned)atoi(optarg); break;
		case 'T': o.timeout_ms = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 4 || inet_pton(AF_INET, argv[optind], &o.to.sin_addr) != 1) {
		fprintf(stderr, "usage: auth_load connect [-r RATE | -c INFLIGHT] [-t SECONDS] "
			"[-T MS] HOST PORT UID1 UIDN\n");
		return 2;
	}
	o.to.sin_family = AF_INET;
	o.to.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	first = (unsigned)atoi(argv[optind + 2]);
	last = (unsigned)atoi(argv[optind + 3]);
	if (last < first || last - first >= MAX_WORKERS || o.inflight == 0 || o.seconds == 0 ||
	    o.rate < 0) {
		fprintf(stderr, "auth_load: bad uid range, rate or count\n");
		return 2;
	}
	n = last - first + 1;
	if (pipe2(go, O_CLOEXEC) < 0)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		int out[2];

		if (pipe2(out, O_CLOEXEC) < 0) {
			perror("auth_load: pipe");
			return 1;
		}
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("auth_load: fork");
			return 1;
		}
		if (pids[i] == 0) {
			close(go[1]);
			close(out[0]);
			worker_main(&o, first + i, i, n, go[0], out[1]);
		}
		close(out[1]);
		outs[i] = out[0];
	}
	close(go[0]);
	close(go[1]);		/* go */
	for (unsigned i = 0; i < n; i++) {
		struct result r;
		int st;

		if (!read_all(outs[i], &r, sizeof(r))) {
			fprintf(stderr, "auth_load: worker %u (uid %u) gave no result\n", i, first + i);
			status = 1;
		} else {
			all = realloc(all, (nall + r.nlat + 1) * sizeof(*all));
			if (!all || !read_all(outs[i], all + nall, r.nlat * sizeof(*all))) {
				fprintf(stderr, "auth_load: worker %u: short result\n", i);
				return 1;
			}
			nall += r.nlat;
			total.attempted += r.attempted;
			total.completed += r.completed;
			total.failed += r.failed;
			total.timeouts += r.timeouts;
			total.late += r.late;
			total.skipped += r.skipped;
		}
		close(outs[i]);
		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			status = 1;
	}
	qsort(all, nall, sizeof(*all), cmp_u32);
	printf("offered=%.0f users=%u seconds=%u attempted=%llu completed=%llu failed=%llu "
	       "timeouts=%llu late=%llu skipped=%llu cps=%.0f p50_us=%u p90_us=%u p99_us=%u "
	       "max_us=%u\n",
	       o.rate, n, o.seconds, (unsigned long long)total.attempted,
	       (unsigned long long)total.completed, (unsigned long long)total.failed,
	       (unsigned long long)total.timeouts, (unsigned long long)total.late,
	       (unsigned long long)total.skipped, (double)total.completed / o.seconds,
	       percentile(all, nall, 50), percentile(all, nall, 90), percentile(all, nall, 99),
	       nall ? all[nall - 1] : 0);
	free(all);
	return status;
}

static int serve_main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	int one = 1, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: auth_load serve PORT\n");
		return 2;
	}
	a.sin_port = htons((uint16_t)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 65535) < 0) {
		perror("auth_load serve");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c >= 0)
			close(c);
		else if (errno != EINTR && errno != ECONNABORTED && errno != EMFILE)
			perror("auth_load serve: accept");
	}
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "connect") == 0)
		return connect_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: auth_load serve PORT | auth_load connect [options] HOST PORT UID1 UIDN\n");
	return 2;
}
