/* The load of the verdict-path benchmark: TCP SYNs of new flows, each from
 * another source port, sent as fast as one raw socket can for SECONDS.
 *
 *   synflood SRC DST DPORT SECONDS [NSRC]
 *
 * With NSRC, the sources are SRC and the NSRC-1 addresses after it, in
 * turn (iptables --queue-balance spreads flows by address pair).  Prints
 * how many it sent.  Only for the benchmark's own namespaces. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int main(int argc, char **argv)
{
	uint8_t pkt[40];
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint32_t src, dst, seq = 1;
	uint64_t sent = 0;
	int fd, dport;
	time_t end;

	uint32_t nsrc = argc == 6 ? (uint32_t)atoi(argv[5]) : 1, base;

	if ((argc != 5 && argc != 6) || inet_pton(AF_INET, argv[1], &src) != 1 ||
	    inet_pton(AF_INET, argv[2], &dst) != 1 || nsrc == 0) {
		fprintf(stderr, "usage: synflood SRC DST DPORT SECONDS [NSRC]\n");
		return 2;
	}
	base = ntohl(src);
	dport = atoi(argv[3]);
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		perror("synflood: raw socket");
		return 1;
	}
	to.sin_addr.s_addr = dst;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[3] = sizeof(pkt);
	pkt[8] = 64;
	pkt[9] = IPPROTO_TCP;
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	pkt[22] = (uint8_t)(dport >> 8);
	pkt[23] = (uint8_t)dport;
	pkt[32] = 0x50;
	pkt[33] = 0x02;			/* SYN */
	pkt[34] = 0xff;
	pkt[35] = 0xff;
	end = time(NULL) + atoi(argv[4]);
	for (uint32_t port = 1024, n = 0;; port = port >= 65000 ? 1024 : port + 1, n++) {
		uint8_t pseudo[12];
		uint32_t sum = 0;
		uint16_t c;

		if ((n & 1023) == 0 && time(NULL) >= end)
			break;
		src = htonl(base + n % nsrc);
		memcpy(pkt + 12, &src, 4);
		pkt[20] = (uint8_t)(port >> 8);
		pkt[21] = (uint8_t)port;
		seq += 7919;
		pkt[24] = (uint8_t)(seq >> 24);
		pkt[25] = (uint8_t)(seq >> 16);
		pkt[26] = (uint8_t)(seq >> 8);
		pkt[27] = (uint8_t)seq;
		pkt[36] = pkt[37] = 0;
		memcpy(pseudo, &src, 4);
		memcpy(pseudo + 4, &dst, 4);
		pseudo[8] = 0;
		pseudo[9] = IPPROTO_TCP;
		pseudo[10] = 0;
		pseudo[11] = 20;
		for (int i = 0; i < 12; i += 2)
			sum += (uint32_t)pseudo[i] << 8 | pseudo[i + 1];
		c = csum(pkt + 20, 20, sum);
		pkt[36] = (uint8_t)(c >> 8);
		pkt[37] = (uint8_t)c;
		if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) == sizeof(pkt))
			sent++;
	}
	printf("sent %llu\n", (unsigned long long)sent);
	return 0;
}
