/* A tiny TCP peer for the end-to-end lab.
 *
 *   nuprobe serve PORT...            listen on every port (IPv4 and IPv6), greet each
 *                                    connection with "hello\n"; prints "ready"
 *                                    once listening
 *   nuprobe connect HOST PORT MS     connect within MS milliseconds and read
 *                                    the greeting; prints "connected from
 *                                    ADDR:PORT", exit 0; else exit 1
 *   nuprobe stream PORT              listen on PORT and send every connection
 *                                    100 bytes each 20 ms until it closes
 *   nuprobe hold HOST PORT SECONDS   connect, then read a stream for SECONDS;
 *                                    prints "connected from ADDR:PORT", then
 *                                    "held N bytes", exit 0, or "stalled after
 *                                    N bytes" when nothing came for a second
 *                                    (or "closed after N bytes"), exit 1
 *   nuprobe drip HOST PORT SECONDS STALL_MS
 *                                    connect to a stream, read it for SECONDS;
 *                                    prints "connected from ADDR:PORT", then
 *                                    "bytes N" each half second and "gap M ms"
 *                                    after each silence longer than 200 ms;
 *                                    ends with "held N bytes", exit 0, or
 *                                    "stalled after N bytes" (nothing came for
 *                                    STALL_MS) or "closed after N bytes", exit 1
 *   nuprobe sink PORT...             listen on every port and swallow what
 *                                    comes; prints "ready" once listening; at
 *                                    a connection's end, tells the sender and
 *                                    prints "ADDR:PORT received=N ms=M"
 *   nuprobe send HOST PORT SECONDS   connect, send as fast as the path allows
 *                                    for SECONDS, then print what the sink
 *                                    measured: "from=ADDR:PORT sent=N
 *                                    received=N ms=M bps=R" (R in bit/s)
 *   nuprobe source PORT...           listen on every port and send each
 *                                    connection as fast as the path allows
 *                                    until it closes (60 s at most); prints
 *                                    "ready" once listening
 *   nuprobe fetch HOST PORT SECONDS  connect, read for SECONDS from the
 *                                    first byte, close; prints the rate
 *                                    measured here: "from=ADDR:PORT
 *                                    received=N ms=M bps=R"
 *   nuprobe serve6 PORT...           the same as serve (which listens on ::, both families)
 *   nuprobe userve PORT...           echo UDP datagrams on IPv6 and IPv4 (::);
 *                                    prints "ready" once bound
 *   nuprobe connect6 HOST PORT MS    like connect, HOST IPv4 or IPv6
 *   nuprobe udp HOST PORT MS         a connected UDP socket: send "ping", wait
 *                                    MS for the echo; prints "udp from
 *                                    ADDR:PORT", exit 0; else exit 1
 *   nuprobe connects HOST PORT N     N connects one after the other (each
 *                                    within 3 s, greeting read); prints each
 *                                    connect time in microseconds, one a line
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int probe(const char *host, const char *port, int ms)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	struct sockaddr_in local;
	socklen_t llen = sizeof(local);
	struct pollfd p;
	char buf[16], addr[INET_ADDRSTRLEN];
	int fd, err = 0;
	socklen_t elen = sizeof(err);
	ssize_t got;

	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "nuprobe: bad address %s\n", host);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		printf("failed: %s\n", strerror(errno));
		return 1;
	}
	getsockname(fd, (struct sockaddr *)&local, &llen);
	inet_ntop(AF_INET, &local.sin_addr, addr, sizeof(addr));
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, ms) != 1) {
		printf("failed: no answer in %d ms (from %s:%u)\n", ms, addr, ntohs(local.sin_port));
		return 1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err) {
		printf("failed: %s\n", strerror(err));
		return 1;
	}
	p.events = POLLIN;
	if (poll(&p, 1, ms) != 1 || (got = read(fd, buf, sizeof(buf))) != 6 ||
	    memcmp(buf, "hello\n", 6) != 0) {
		printf("failed: no greeting\n");
		return 1;
	}
	printf("connected from %s:%u\n", addr, ntohs(local.sin_port));
	return 0;
}

static int stream(const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	struct pollfd pfd[64] = { 0 };
	char chunk[100];
	int n = 1, one = 1;

	memset(chunk, 'x', sizeof(chunk));
	pfd[0].fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(pfd[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(pfd[0].fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(pfd[0].fd, 16) < 0) {
		fprintf(stderr, "nuprobe: port %s: %s\n", port, strerror(errno));
		return 1;
	}
	pfd[0].events = POLLIN;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		poll(pfd, (nfds_t)n, 20);
		if ((pfd[0].revents & POLLIN) && n < 64) {
			int c = accept(pfd[0].fd, NULL, NULL);
			if (c >= 0) {
				/* revents is read below before the next poll fills it. */
				pfd[n].fd = c;
				pfd[n].events = POLLIN;
				pfd[n++].revents = 0;
			}
		}
		for (int i = 1; i < n; i++) {
			char sink[512];
			bool gone = false;

			/* A peer that closed, or a write that fails: forget it. */
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t got = recv(pfd[i].fd, sink, sizeof(sink), MSG_DONTWAIT);
				gone = got == 0 || (got < 0 && errno != EAGAIN);
			}
			if (!gone && send(pfd[i].fd, chunk, sizeof(chunk), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				gone = errno != EAGAIN;
			if (gone) {
				close(pfd[i].fd);
				pfd[i--] = pfd[--n];
			}
		}
	}
}

static int hold(const char *host, const char *port, int seconds)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	struct sockaddr_in local;
	socklen_t llen = sizeof(local);
	char addr[INET_ADDRSTRLEN], buf[4096];
	long long total = 0;
	time_t end;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 3 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		printf("failed: %s\n", strerror(errno));
		return 1;
	}
	getsockname(fd, (struct sockaddr *)&local, &llen);
	inet_ntop(AF_INET, &local.sin_addr, addr, sizeof(addr));
	printf("connected from %s:%u\n", addr, ntohs(local.sin_port));
	fflush(stdout);
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got;

		if (poll(&p, 1, 1000) != 1) {
			printf("stalled after %lld bytes\n", total);
			return 1;
		}
		got = read(fd, buf, sizeof(buf));
		if (got <= 0) {
			printf("closed after %lld bytes\n", total);
			return 1;
		}
		total += got;
	}
	printf("held %lld bytes\n", total);
	close(fd);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* hold for a gateway pair's takeover: silences are measured, not fatal,
 * up to STALL_MS. */
static int drip(const char *host, const char *port, int seconds, int stall_ms)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	struct sockaddr_in local;
	socklen_t llen = sizeof(local);
	char addr[INET_ADDRSTRLEN], buf[4096];
	long long total = 0;
	int64_t end, last, told;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 3 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		printf("failed: %s\n", strerror(errno));
		return 1;
	}
	getsockname(fd, (struct sockaddr *)&local, &llen);
	inet_ntop(AF_INET, &local.sin_addr, addr, sizeof(addr));
	printf("connected from %s:%u\n", addr, ntohs(local.sin_port));
	fflush(stdout);
	last = told = now_ms();
	end = last + (int64_t)seconds * 1000;
	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got;
		int64_t t;

		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			break;
		t = now_ms();
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) {
			if (t - last > stall_ms) {
				printf("stalled after %lld bytes\n", total);
				return 1;
			}
			continue;
		}
		got = read(fd, buf, sizeof(buf));
		if (got <= 0) {
			printf("closed after %lld bytes\n", total);
			return 1;
		}
		if (t - last > 200)
			printf("gap %lld ms\n", (long long)(t - last));
		total += got;
		last = t;
		if (t - told >= 500) {
			printf("bytes %lld\n", total);
			told = t;
		}
		fflush(stdout);
	}
	printf("held %lld bytes\n", total);
	close(fd);
	return 0;
}

static int listen_on(const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 128) < 0) {
		fprintf(stderr, "nuprobe: port %s: %s\n", port, strerror(errno));
		return -1;
	}
	return fd;
}

/* Listens on every port (16 at most), one pollfd each from pfd[0], and
 * prints "ready"; the number of listeners, or -1. */
static int listen_all(int nports, char **ports, struct pollfd *pfd)
{
	if (nports > 16) {
		fprintf(stderr, "nuprobe: at most 16 ports\n");
		return -1;
	}
	for (int i = 0; i < nports; i++) {
		if ((pfd[i].fd = listen_on(ports[i])) < 0)
			return -1;
		pfd[i].events = POLLIN;
	}
	printf("ready\n");
	fflush(stdout);
	return nports;
}

#define SINK_MAX 64

struct sink_conn {
	int fd;
	uint64_t bytes;
	int64_t first_ms;	/* first byte; 0 before it */
	char peer[INET_ADDRSTRLEN + 8];
};

/* One poll loop for the listeners and every sender, so that several
 * transfers can be measured at once. */
static int sink_bytes(int nports, char **ports)
{
	struct pollfd pfd[16 + SINK_MAX];
	struct sink_conn conn[SINK_MAX];
	static char buf[1 << 16];
	int nl = listen_all(nports, ports, pfd), nc = 0;

	if (nl < 0)
		return 1;
	for (;;) {
		for (int i = 0; i < nc; i++) {
			pfd[nl + i].fd = conn[i].fd;
			pfd[nl + i].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)(nl + nc), -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (int i = 0; i < nc; i++) {
			struct sink_conn *c = &conn[i];
			ssize_t got;

			if (!(pfd[nl + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(c->fd, buf, sizeof(buf));
			if (got > 0) {
				if (c->first_ms == 0)
					c->first_ms = now_ms();
				c->bytes += (uint64_t)got;
				continue;
			}
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got == 0) {	/* the sender is done: report */
				char line[96];
				int64_t ms = c->first_ms ? now_ms() - c->first_ms : 0;
				int n = snprintf(line, sizeof(line), "received=%llu ms=%lld\n",
						 (unsigned long long)c->bytes, (long long)ms);

				(void)!write(c->fd, line, (size_t)n);
				printf("%s %s", c->peer, line);
				fflush(stdout);
			}
			close(c->fd);
			conn[i--] = conn[--nc];
			pfd[nl + i + 1].revents = 0;
		}
		for (int i = 0; i < nl; i++) {
			struct sockaddr_in from;
			socklen_t flen = sizeof(from);
			char addr[INET_ADDRSTRLEN];
			int fd;

			if (!(pfd[i].revents & POLLIN))
				continue;
			fd = accept(pfd[i].fd, (struct sockaddr *)&from, &flen);
			if (fd < 0)
				continue;
			if (nc == SINK_MAX) {
				close(fd);
				continue;
			}
			inet_ntop(AF_INET, &from.sin_addr, addr, sizeof(addr));
			conn[nc] = (struct sink_conn){ .fd = fd };
			snprintf(conn[nc].peer, sizeof(conn[nc].peer), "%s:%u", addr, ntohs(from.sin_port));
			nc++;
		}
	}
}

/* A non-blocking IPv4 connection to HOST:PORT established within ms, with
 * SO_SNDBUF sndbuf (0: the default).  The socket, its local ADDR:PORT in
 * from; -2 for a bad address, -1 with the reason printed ("failed: ..."). */
static int connect_nb(const char *host, const char *port, int ms, int sndbuf,
		      char *from, size_t fromlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	struct sockaddr_in local;
	socklen_t llen = sizeof(local), elen;
	char addr[INET_ADDRSTRLEN];
	struct pollfd p;
	int fd, err = 0;

	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "nuprobe: bad address %s\n", host);
		return -2;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		printf("failed: %s\n", strerror(errno));
		return -1;
	}
	if (sndbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		printf("failed: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	elen = sizeof(err);
	if (poll(&p, 1, ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
		if (err)
			printf("failed: %s\n", strerror(err));
		else
			printf("failed: no answer in %d ms\n", ms);
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&local, &llen);
	inet_ntop(AF_INET, &local.sin_addr, addr, sizeof(addr));
	snprintf(from, fromlen, "%s:%u", addr, ntohs(local.sin_port));
	return fd;
}

/* The send buffer is kept small, so that little is still queued when the
 * time is up and the sink's clock sees the path's rate, not the buffer's. */
static int send_for(const char *host, const char *port, int seconds)
{
	static char buf[1 << 16];
	char from[INET_ADDRSTRLEN + 8], report[128];
	struct pollfd p;
	uint64_t sent = 0, received;
	long long ms;
	int64_t end;
	size_t have = 0;
	ssize_t got;
	int fd;

	if (seconds <= 0) {
		fprintf(stderr, "nuprobe: bad duration %d\n", seconds);
		return 2;
	}
	memset(buf, 'x', sizeof(buf));
	if ((fd = connect_nb(host, port, 5000, 128 * 1024, from, sizeof(from))) < 0)
		return fd == -2 ? 2 : 1;
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	end = now_ms() + (int64_t)seconds * 1000;
	for (int64_t left; (left = end - now_ms()) > 0;) {
		ssize_t n;

		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			break;
		n = write(fd, buf, sizeof(buf));
		if (n > 0)
			sent += (uint64_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			printf("failed: %s after %llu bytes\n", strerror(errno), (unsigned long long)sent);
			return 1;
		}
	}
	shutdown(fd, SHUT_WR);
	/* The sink answers once it has read everything. */
	p.events = POLLIN;
	end = now_ms() + 60000;
	while (have < sizeof(report) - 1 && !memchr(report, '\n', have)) {
		int64_t left = end - now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			break;
		got = read(fd, report + have, sizeof(report) - 1 - have);
		if (got <= 0 && !(got < 0 && (errno == EAGAIN || errno == EINTR)))
			break;
		if (got > 0)
			have += (size_t)got;
	}
	report[have] = '\0';
	if (sscanf(report, "received=%llu ms=%lld", (unsigned long long *)&received, &ms) != 2 || ms <= 0) {
		printf("failed: no report from the sink (from=%s sent=%llu)\n", from,
		       (unsigned long long)sent);
		return 1;
	}
	printf("from=%s sent=%llu received=%llu ms=%lld bps=%llu\n", from,
	       (unsigned long long)sent, (unsigned long long)received, ms,
	       (unsigned long long)(received * 8000 / (uint64_t)ms));
	return 0;
}

/* ---- Downloads: the server sends, the client measures (qos.sh) ---- */

#define SOURCE_MAX 64
#define SOURCE_MAX_MS 60000	/* no connection is fed for longer than this */

/* Writes to every connection as fast as its path takes, never blocking,
 * until the peer closes (or resets) it or SOURCE_MAX_MS have passed.  The
 * send buffer is small for the reason send_for's is. */
static int source(int nports, char **ports)
{
	struct pollfd pfd[16 + SOURCE_MAX];
	int64_t since[SOURCE_MAX];
	static char buf[1 << 16];
	int nl, nc = 0, sndbuf = 128 * 1024;

	memset(buf, 'x', sizeof(buf));
	if ((nl = listen_all(nports, ports, pfd)) < 0)
		return 1;
	for (;;) {
		int64_t now;

		if (poll(pfd, (nfds_t)(nl + nc), 1000) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		now = now_ms();
		for (int i = 0; i < nc; i++) {
			struct pollfd *p = &pfd[nl + i];
			bool gone = now - since[i] > SOURCE_MAX_MS;

			if (!gone && (p->revents & (POLLIN | POLLHUP | POLLERR))) {
				char junk[512];
				ssize_t got = recv(p->fd, junk, sizeof(junk), MSG_DONTWAIT);

				gone = got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR);
			}
			if (!gone && (p->revents & POLLOUT) &&
			    send(p->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				gone = errno != EAGAIN && errno != EINTR;
			if (gone) {	/* the last one takes its place, revents and all */
				close(p->fd);
				nc--;
				*p = pfd[nl + nc];
				since[i--] = since[nc];
			}
		}
		for (int i = 0; i < nl; i++) {
			int fd;

			if (!(pfd[i].revents & POLLIN))
				continue;
			fd = accept(pfd[i].fd, NULL, NULL);	/* I/O below is MSG_DONTWAIT */
			if (fd < 0)
				continue;
			if (nc == SOURCE_MAX) {
				close(fd);
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
			pfd[nl + nc] = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
			since[nc++] = now;
		}
	}
}

/* Connects, reads for SECONDS from the first byte, then closes (the
 * source stops at the reset), and prints the rate seen here: "from=ADDR:PORT
 * received=N ms=M bps=R".  The first byte must come within 5 s. */
static int fetch(const char *host, const char *port, int seconds)
{
	static char buf[1 << 16];
	char from[INET_ADDRSTRLEN + 8];
	struct pollfd p;
	uint64_t received = 0;
	int64_t first = 0, end, now;
	int fd;

	if (seconds <= 0) {
		fprintf(stderr, "nuprobe: bad duration %d\n", seconds);
		return 2;
	}
	if ((fd = connect_nb(host, port, 5000, 0, from, sizeof(from))) < 0)
		return fd == -2 ? 2 : 1;
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	end = now_ms() + 5000;
	while ((now = now_ms()) < end) {
		ssize_t got;

		if (poll(&p, 1, (int)(end - now)) < 0 && errno != EINTR)
			break;
		got = read(fd, buf, sizeof(buf));
		if (got > 0) {
			if (first == 0) {
				first = now_ms();
				end = first + (int64_t)seconds * 1000;
			}
			received += (uint64_t)got;
		} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
			printf("failed: %s after %llu bytes (from=%s)\n",
			       got == 0 ? "closed" : strerror(errno), (unsigned long long)received, from);
			close(fd);
			return 1;
		}
	}
	now = now_ms();
	close(fd);
	if (first == 0 || now <= first) {
		printf("failed: nothing in 5000 ms (from=%s)\n", from);
		return 1;
	}
	printf("from=%s received=%llu ms=%lld bps=%llu\n", from, (unsigned long long)received,
	       (long long)(now - first), (unsigned long long)(received * 8000 / (uint64_t)(now - first)));
	return 0;
}

/* ---- IPv6 and UDP variants (tests/e2e/client.sh, bench/) ---- */

static int addr_of(const char *host, const char *port, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(port));
		*len = sizeof(*sin);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(port));
		*len = sizeof(*sin6);
		return AF_INET6;
	}
	fprintf(stderr, "nuprobe: bad address %s\n", host);
	return -1;
}

static void print_local(const char *what, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		} else {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		}
	}
	printf("%s from %s:%u\n", what, addr, port);
	fflush(stdout);
}

/* Binds every port on :: (IPv4 too) with type; fds[] gets the sockets. */
static int bind_any6(int type, int nports, char **ports, int *fds)
{
	for (int i = 0; i < nports; i++) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
					     .sin6_port = htons((uint16_t)atoi(ports[i])),
					     .sin6_addr = IN6ADDR_ANY_INIT };
		int one = 1, zero = 0;

		fds[i] = socket(AF_INET6, type, 0);
		if (fds[i] < 0 ||
		    setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    setsockopt(fds[i], IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0 ||
		    bind(fds[i], (struct sockaddr *)&sin6, sizeof(sin6)) < 0 ||
		    (type == SOCK_STREAM && listen(fds[i], 128) < 0)) {
			perror("nuprobe: bind");
			return -1;
		}
	}
	return 0;
}

static int serve6(int nports, char **ports)
{
	struct pollfd pfd[16];
	int fds[16];

	if (nports > 16 || bind_any6(SOCK_STREAM, nports, ports, fds) < 0)
		return 1;
	for (int i = 0; i < nports; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, (nfds_t)nports, -1) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < nports; i++) {
			int c;

			if (!(pfd[i].revents & POLLIN))
				continue;
			c = accept(pfd[i].fd, NULL, NULL);
			if (c >= 0) {
				if (write(c, "hello\n", 6) < 0)
					perror("nuprobe: write");
				close(c);
			}
		}
	}
}

static int userve(int nports, char **ports)
{
	struct pollfd pfd[16];
	int fds[16];

	if (nports > 16 || bind_any6(SOCK_DGRAM, nports, ports, fds) < 0)
		return 1;
	for (int i = 0; i < nports; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, (nfds_t)nports, -1) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < nports; i++) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			char buf[512];
			ssize_t n;

			if (!(pfd[i].revents & POLLIN))
				continue;
			n = recvfrom(pfd[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n > 0)
				sendto(pfd[i].fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		}
	}
}

/* Connects (TCP, either family) and reads the greeting within ms.  0, or 1
 * with the reason on stderr; *fd_out gets the socket when not NULL. */
static int connect_any(const char *host, const char *port, int ms, int *fd_out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct pollfd p;
	char buf[16];
	int fd, family = addr_of(host, port, &ss, &len), err = 0;
	socklen_t el = sizeof(err);

	if (family < 0)
		return 2;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 1;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		fprintf(stderr, "nuprobe: connect: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		fprintf(stderr, "nuprobe: connect: %s\n", err ? strerror(err) : "timed out");
		close(fd);
		return 1;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) != 1 || read(fd, buf, sizeof(buf)) <= 0) {
		fprintf(stderr, "nuprobe: no greeting\n");
		close(fd);
		return 1;
	}
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	return 0;
}

static int connect6(const char *host, const char *port, int ms)
{
	int fd, r = connect_any(host, port, ms, &fd);

	if (r == 0) {
		print_local("connected", fd);
		close(fd);
	}
	return r;
}

/* The errors a connected UDP socket reports for an ICMP error, i.e. a
 * reject: port unreachable (ECONNREFUSED), administratively prohibited
 * (EHOSTUNREACH over IPv4, EACCES over IPv6). */
static bool icmp_refusal(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH || err == EACCES;
}

static int udp_refused(int fd)
{
	perror("nuprobe: udp");
	close(fd);
	return 1;
}

static int udp_probe(const char *host, const char *port, int ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct pollfd p;
	char buf[16];
	int fd, family = addr_of(host, port, &ss, &len);

	if (family < 0)
		return 2;
	fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("nuprobe: udp");
		return 1;
	}
	/* A datagram held by the gateway may be dropped: ask again each 500 ms. */
	for (int waited = 0; waited < ms; waited += 500) {
		if (send(fd, "ping", 4, 0) < 0) {
			/* The ICMP error of an earlier datagram may surface here. */
			if (icmp_refusal(errno))
				return udp_refused(fd);
			perror("nuprobe: send");
			break;
		}
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&p, 1, ms - waited < 500 ? ms - waited : 500) == 1) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			if (n == 4) {
				print_local("udp", fd);
				close(fd);
				return 0;
			}
			if (n < 0 && icmp_refusal(errno))
				return udp_refused(fd);
		}
	}
	fprintf(stderr, "nuprobe: no UDP echo\n");
	close(fd);
	return 1;
}

static int connects(const char *host, const char *port, int n)
{
	int failed = 0;

	for (int i = 0; i < n; i++) {
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (connect_any(host, port, 3000, NULL) != 0) {
			failed++;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000 +
		       (b.tv_nsec - a.tv_nsec) / 1000);
	}
	fflush(stdout);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	/* One dual-stack listener serves IPv4 and IPv6 alike. */
	if (argc >= 3 && (strcmp(argv[1], "serve") == 0 || strcmp(argv[1], "serve6") == 0))
		return serve6(argc - 2, argv + 2);
	if (argc == 5 && strcmp(argv[1], "connect") == 0)
		return probe(argv[2], argv[3], atoi(argv[4]));
	if (argc == 3 && strcmp(argv[1], "stream") == 0)
		return stream(argv[2]);
	if (argc == 5 && strcmp(argv[1], "hold") == 0)
		return hold(argv[2], argv[3], atoi(argv[4]));
	if (argc == 6 && strcmp(argv[1], "drip") == 0)
		return drip(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
	if (argc >= 3 && strcmp(argv[1], "sink") == 0)
		return sink_bytes(argc - 2, argv + 2);
	if (argc == 5 && strcmp(argv[1], "send") == 0)
		return send_for(argv[2], argv[3], atoi(argv[4]));
	if (argc >= 3 && strcmp(argv[1], "source") == 0)
		return source(argc - 2, argv + 2);
	if (argc == 5 && strcmp(argv[1], "fetch") == 0)
		return fetch(argv[2], argv[3], atoi(argv[4]));
	if (argc >= 3 && strcmp(argv[1], "userve") == 0)
		return userve(argc - 2, argv + 2);
	if (argc == 5 && strcmp(argv[1], "connect6") == 0)
		return connect6(argv[2], argv[3], atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "udp") == 0)
		return udp_probe(argv[2], argv[3], atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "connects") == 0)
		return connects(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: nuprobe serve PORT... | connect HOST PORT MS | stream PORT |"
		" hold HOST PORT SECONDS |\n"
		"       drip HOST PORT SECONDS STALL_MS |\n"
		"       sink PORT... | send HOST PORT SECONDS | source PORT... | fetch HOST PORT SECONDS |\n"
		"       serve6 PORT... | userve PORT... | connect6 HOST PORT MS | udp HOST PORT MS |\n"
		"       connects HOST PORT N\n");
	return 2;
}
