/* The /proc/net/{tcp,udp}{,6} reader: the same tables as sock_diag's, as
 * text, where sock_diag is missing or fails.  Lines are parsed strictly (a
 * cut, overlong or garbled line is skipped, and logged once); the exact
 * look-up reads every line and puts each socket to sock_claims
 * (sockclaim.c). */
#include "config.h"
#include "conntable_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/tcp.h>

/* A garbled line is logged once, not once per scan. */
static bool logged_garbled_proc;

/* Reads exactly n hex digits at *p into *val and moves *p past them. */
static bool parse_hex(const char **p, size_t n, uint32_t *val)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = (*p)[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		v = (v << 4) | (uint32_t)d;
	}
	*val = v;
	*p += n;
	return true;
}

/* ADDR:PORT where ADDR is words 32-bit words, each printed by the kernel as
 * %08X of its in-memory (network byte order) value read as a host u32. */
static bool parse_endpoint(const char **p, size_t words, uint8_t *addr,
			   uint16_t *port)
{
	uint32_t v;
	size_t i;

	for (i = 0; i < words; i++) {
		if (!parse_hex(p, 8, &v))
			return false;
		memcpy(addr + 4 * i, &v, 4);
	}
	if (**p != ':')
		return false;
	(*p)++;
	if (!parse_hex(p, 4, &v))
		return false;
	*port = (uint16_t)v;
	return true;
}

static void skip_spaces(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* Skips one whitespace-delimited field; false when there is none. */
static bool skip_field(const char **p)
{
	const char *start;

	skip_spaces(p);
	start = *p;
	while (**p != '\0' && **p != ' ' && **p != '\t' && **p != '\n')
		(*p)++;
	return *p != start;
}

static bool parse_decimal(const char **p, uint64_t max, uint64_t *val)
{
	uint64_t v = 0;
	const char *start;

	skip_spaces(p);
	start = *p;
	while (**p >= '0' && **p <= '9') {
		unsigned int d = (unsigned int)(**p - '0');

		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
		(*p)++;
	}
	if (*p == start)
		return false;
	*val = v;
	return true;
}

/* One line of /proc/net/tcp (family AF_INET) or tcp6 (AF_INET6):
 *   sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
 * False for the header line and anything malformed. */
bool proc_parse_line(const char *line, int family, struct proc_entry *e)
{
	const char *p = line;
	size_t words = family == AF_INET ? 1 : 4;
	uint32_t st;
	uint64_t v;

	memset(e, 0, sizeof(*e));
	skip_spaces(&p);
	/* "sl:" */
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != ':')
		return false;
	skip_spaces(&p);
	if (!parse_endpoint(&p, words, e->saddr, &e->sport))
		return false;
	skip_spaces(&p);
	if (!parse_endpoint(&p, words, e->daddr, &e->dport))
		return false;
	skip_spaces(&p);
	if (!parse_hex(&p, 2, &st))
		return false;
	e->state = st;
	/* tx_queue:rx_queue, tr:tm->when, retrnsmt */
	if (!skip_field(&p) || !skip_field(&p) || !skip_field(&p))
		return false;
	if (!parse_decimal(&p, UINT32_MAX, &v))
		return false;
	e->uid = (uint32_t)v;
	if (!skip_field(&p))	/* timeout */
		return false;
	if (!parse_decimal(&p, UINT64_MAX, &v))
		return false;
	/* More fields follow the inode: anything else is a cut line. */
	if (*p != ' ' && *p != '\t')
		return false;
	e->inode = v;
	return true;
}

void sock_from_proc(struct sock_view *s, int family, const struct proc_entry *e)
{
	memset(s, 0, sizeof(*s));
	addr_from_raw(&s->src, family, e->saddr);
	addr_from_raw(&s->dst, family, e->daddr);
	s->sport = e->sport;
	s->dport = e->dport;
	s->state = e->state;
	s->uid = e->uid;
	s->inode = e->inode;
}

/* Calls fn for each socket of file (/proc/net/tcp when family is AF_INET,
 * tcp6 when AF_INET6; udp alike) until fn returns true.  0, or -1 with
 * errno when the file cannot be read. */
static int proc_each(const char *file, int family,
		     bool (*fn)(const struct sock_view *s, void *ctx), void *ctx)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp = fopen(file, "re");

	if (fp == NULL)
		return -1;
	while ((n = getline(&line, &cap, fp)) >= 0) {
		struct proc_entry e;
		struct sock_view s;

		/* An overlong line, or one with a NUL inside, is no line of
		 * the kernel's: skipped whole. */
		if ((size_t)n >= PROC_LINE_MAX || memchr(line, '\0', (size_t)n) != NULL ||
		    !proc_parse_line(line, family, &e)) {
			/* the header line is expected; anything else is garbled */
			if ((size_t)n < PROC_LINE_MAX && strstr(line, "local_address") == NULL &&
			    !logged_garbled_proc) {
				logged_garbled_proc = true;
				log_warnx("%s: unreadable line skipped (logged once): %.80s",
					  file, line);
			}
			continue;
		}
		sock_from_proc(&s, family, &e);
		if (fn(&s, ctx))
			break;
	}
	free(line);
	if (ferror(fp)) {
		int saved = errno;

		fclose(fp);
		errno = saved ? saved : EIO;
		return -1;
	}
	fclose(fp);
	return 0;
}

struct proc_scan_ctx {
	const struct scan_filter *f;
	GArray *out;
};

static bool proc_scan_one(const struct sock_view *s, void *ctx)
{
	struct proc_scan_ctx *c = ctx;
	struct nu_local_conn conn;

	if (scan_keeps(s, c->f)) {
		conn_from_sock(&conn, c->f->proto, s);
		g_array_append_val(c->out, conn);
	}
	return false;
}

int proc_scan_filter(const char *file, int family, const struct scan_filter *f, GArray *out)
{
	struct proc_scan_ctx c = { f, out };

	return proc_each(file, family, proc_scan_one, &c);
}

/* The TCP SYN_SENT reader (what tests/fuzz/fuzz_proc_tcp calls). */
int proc_scan(const char *file, int family, uid_t uid, GArray *out)
{
	struct scan_filter f = { IPPROTO_TCP, 1U << TCP_SYN_SENT, uid };

	return proc_scan_filter(file, family, &f, out);
}

struct proc_lookup_ctx {
	const struct nu_flow *flow;
	uid_t uid;
	unsigned int flags;
	struct nu_local_conn *out;
	bool found;
};

static bool proc_lookup_one(const struct sock_view *s, void *ctx)
{
	struct proc_lookup_ctx *c = ctx;

	if (!sock_claims(s, c->flow, c->uid, c->flags))
		return false;
	conn_claimed(c->out, c->flow, s);
	c->found = true;
	return true;
}

/* The exact look-up where sock_diag cannot answer (and for ICMP, whose
 * ping sockets sock_diag does not list): the socket that proves flow
 * (sock_claims) among dir's tcp/udp/icmp (dir is "/proc/net"; tests give
 * another).  An IPv4 flow may be a dual-stack socket's, listed in the IPv6
 * file: both are read.  1 with *out, 0 when none proves it, -1 with errno
 * when no file could be read. */
int proc_lookup_in(const char *dir, const struct nu_flow *flow, uid_t uid,
			  unsigned int flags, struct nu_local_conn *out)
{
	struct proc_lookup_ctx c = { flow, uid, flags, out, false };
	const char *name = flow->proto == IPPROTO_UDP ? "udp" : "tcp";
	/* Ping sockets: an ICMP echo is an IPv4 one's (icmp), an ICMPv6 echo
	 * an IPv6 one's (icmp6); neither is ever dual-stack. */
	bool icmp = flow->proto == IPPROTO_ICMP || flow->proto == IPPROTO_ICMPV6;
	int last = icmp ? flow->proto == IPPROTO_ICMPV6 : 1;
	int nread = 0, err = 0;

	if (icmp)
		name = "icmp";
	for (int v6 = flow->family == AF_INET6; v6 <= last && !c.found; v6++) {
		char *file = g_strdup_printf("%s/%s%s", dir, name, v6 ? "6" : "");

		if (proc_each(file, v6 ? AF_INET6 : AF_INET, proc_lookup_one, &c) == 0)
			nread++;
		else
			err = errno;
		g_free(file);
	}
	if (c.found)
		return 1;
	if (nread == 0) {
		errno = err ? err : EIO;
		return -1;
	}
	return 0;
}

