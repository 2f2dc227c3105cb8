/* A tiny TCP peer for the end-to-end lab.
 *
 *   nuprobe serve PORT...            listen on every port (IPv4), greet each
 *                                    connection with "hello\n"; prints "ready"
 *                                    once listening
 *   nuprobe connect HOST PORT MS     connect within MS milliseconds and read
 *                                    the greeting; prints "connected from
 *                                    ADDR:PORT", exit 0; else exit 1
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int serve(int nports, char **ports)
{
	struct pollfd pfd[16];
	int n = 0, one = 1;

	for (int i = 0; i < nports && n < 16; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_port = htons((uint16_t)atoi(ports[i])) };
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 128) < 0) {
			fprintf(stderr, "nuprobe: port %s: %s\n", ports[i], strerror(errno));
			return 1;
		}
		pfd[n].fd = fd;
		pfd[n++].events = POLLIN;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			int c = accept(pfd[i].fd, NULL, NULL);
			if (c >= 0) {
				(void)!write(c, "hello\n", 6);
				close(c);
			}
		}
	}
}

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

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && strcmp(argv[1], "serve") == 0)
		return serve(argc - 2, argv + 2);
	if (argc == 5 && strcmp(argv[1], "connect") == 0)
		return probe(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: nuprobe serve PORT... | nuprobe connect HOST PORT MS\n");
	return 2;
}
