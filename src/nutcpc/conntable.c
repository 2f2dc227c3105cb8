/* The user's TCP sockets in state SYN_SENT, from netlink sock_diag
 * (inet_diag) or, where that is missing, from /proc/net/tcp{,6}; and the
 * program owning a socket, found through /proc/PID/fd. */
#include "config.h"
#include "conntable.h"
#include "log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <glib.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

/* Big enough for any dump datagram the kernel builds (it sizes them to at
 * most 32 KiB plus headers). */
#define DIAG_RECV_BUF	(64 * 1024)
/* Longest /proc/net/tcp6 line is about 180 characters. */
#define PROC_LINE_MAX	512
/* "socket:[" + 20 digits + "]" */
#define SOCKET_LINK_MAX	32

static void conn_map_v4(struct in6_addr *dst, const void *v4_be)
{
	uint32_t v4;

	memcpy(&v4, v4_be, sizeof(v4));
	nu_addr_from_v4(dst, v4);
}

/* Fills conn from raw addresses: 4 bytes each for AF_INET, 16 for AF_INET6
 * (a v4-mapped IPv6 address is reported as AF_INET). */
static void conn_fill(struct nu_local_conn *conn, int family,
		      const void *saddr, const void *daddr,
		      uint16_t sport, uint16_t dport, uint64_t inode)
{
	memset(conn, 0, sizeof(*conn));
	conn->flow.proto = IPPROTO_TCP;
	conn->flow.sport = sport;
	conn->flow.dport = dport;
	if (family == AF_INET) {
		conn->flow.family = AF_INET;
		conn_map_v4(&conn->flow.saddr, saddr);
		conn_map_v4(&conn->flow.daddr, daddr);
	} else {
		memcpy(&conn->flow.saddr, saddr, sizeof(conn->flow.saddr));
		memcpy(&conn->flow.daddr, daddr, sizeof(conn->flow.daddr));
		conn->flow.family = nu_addr_is_v4(&conn->flow.daddr, NULL) ?
				    AF_INET : AF_INET6;
	}
	conn->inode = inode;
}

/* --- sock_diag --------------------------------------------------------- */

static int diag_send_request(int fd, int family, uint32_t seq)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = seq;
	msg.req.sdiag_family = (uint8_t)family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = 1U << TCP_SYN_SENT;

	do {
		n = sendto(fd, &msg, sizeof(msg), 0,
			   (struct sockaddr *)&kernel, sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != sizeof(msg)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static void diag_take(const struct inet_diag_msg *m, uid_t uid, GArray *out)
{
	struct nu_local_conn conn;

	if (m->idiag_state != TCP_SYN_SENT || m->idiag_uid != (uint32_t)uid)
		return;
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return;
	conn_fill(&conn, m->idiag_family, m->id.idiag_src, m->id.idiag_dst,
		  ntohs(m->id.idiag_sport), ntohs(m->id.idiag_dport),
		  m->idiag_inode);
	g_array_append_val(out, conn);
}

/* Parses one datagram.  1 while the dump goes on, 0 at its end, -1 with
 * errno on the kernel's error. */
static int diag_parse(const uint8_t *buf, size_t len, uint32_t seq,
		      uid_t uid, GArray *out)
{
	while (len >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		size_t msg_len = nlh->nlmsg_len;
		size_t payload_len;
		const uint8_t *payload;

		if (msg_len < sizeof(*nlh) || msg_len > len) {
			log_debug("sock_diag: bad message length %zu (%zu left)",
				  msg_len, len);
			errno = EBADMSG;
			return -1;
		}
		payload = buf + NLMSG_HDRLEN;
		payload_len = msg_len >= NLMSG_HDRLEN ? msg_len - NLMSG_HDRLEN : 0;

		if (nlh->nlmsg_seq != seq) {
			log_debug("sock_diag: message with sequence %u, want %u, skipped",
				  nlh->nlmsg_seq, seq);
		} else if (nlh->nlmsg_type == NLMSG_DONE) {
			int status = 0;

			/* Some kernels put the dump's error code here. */
			if (payload_len >= sizeof(int))
				memcpy(&status, payload, sizeof(int));
			if (status < 0) {
				errno = -status;
				return -1;
			}
			return 0;
		} else if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr err;

			if (payload_len < sizeof(err)) {
				errno = EBADMSG;
				return -1;
			}
			memcpy(&err, payload, sizeof(err));
			if (err.error == 0)
				return 0;
			errno = -err.error;
			return -1;
		} else if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			struct inet_diag_msg m;

			if (payload_len >= sizeof(m)) {
				memcpy(&m, payload, sizeof(m));
				diag_take(&m, uid, out);
			} else {
				log_debug("sock_diag: short inet_diag_msg (%zu bytes), skipped",
					  payload_len);
			}
		}

		msg_len = NLMSG_ALIGN(msg_len);
		if (msg_len >= len)
			break;
		buf += msg_len;
		len -= msg_len;
	}
	return 1;
}

/* One family's dump.  0, or -1 with errno. */
static int diag_scan(int fd, int family, uint32_t seq, uid_t uid, GArray *out,
		     uint8_t *buf)
{
	if (diag_send_request(fd, family, seq) < 0)
		return -1;

	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = buf, .iov_len = DIAG_RECV_BUF };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t n = recvmsg(fd, &mh, 0);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			errno = EMSGSIZE;
			return -1;
		}
		if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0)
			continue;	/* not from the kernel */
		r = diag_parse(buf, (size_t)n, seq, uid, out);
		if (r <= 0)
			return r;
	}
}

/* --- /proc/net/tcp{,6} --------------------------------------------------- */

struct proc_entry {
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint16_t sport;
	uint16_t dport;
	unsigned int state;
	uint32_t uid;
	uint64_t inode;
};

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
static bool proc_parse_line(const char *line, int family, struct proc_entry *e)
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

static int proc_scan(const char *file, int family, uid_t uid, GArray *out)
{
	char line[PROC_LINE_MAX];
	FILE *f = fopen(file, "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		struct proc_entry e;
		struct nu_local_conn conn;

		if (strchr(line, '\n') == NULL && !feof(f)) {
			/* Overlong line: skip the rest of it. */
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (!proc_parse_line(line, family, &e))
			continue;
		if (e.state != TCP_SYN_SENT || e.uid != (uint32_t)uid)
			continue;
		conn_fill(&conn, family, e.saddr, e.daddr, e.sport, e.dport,
			  e.inode);
		g_array_append_val(out, conn);
	}
	if (ferror(f)) {
		int saved = errno;

		fclose(f);
		errno = saved ? saved : EIO;
		return -1;
	}
	fclose(f);
	return 0;
}

/* --- public ---------------------------------------------------------------- */

int nu_conntable_scan_syn_sent(uid_t uid, GArray *out)
{
	static const struct {
		int family;
		const char *proc;
	} fams[] = {
		{ AF_INET, "/proc/net/tcp" },
		{ AF_INET6, "/proc/net/tcp6" },
	};
	uint8_t *buf = NULL;
	int fd, ret = 0, nread = 0, last_errno = 0;
	size_t i;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		log_debug("sock_diag unavailable (%s), reading /proc/net",
			  strerror(errno));
	else
		buf = g_malloc(DIAG_RECV_BUF);

	for (i = 0; i < G_N_ELEMENTS(fams); i++) {
		guint before = out->len;

		if (fd >= 0) {
			if (diag_scan(fd, fams[i].family, (uint32_t)i + 1, uid,
				      out, buf) == 0) {
				nread++;
				continue;
			}
			/* Typically EPROTONOSUPPORT or ENOENT (no inet_diag or
			 * tcp_diag); /proc holds the same table. */
			g_array_set_size(out, before);
			log_debug("sock_diag dump for family %d failed (%s), reading %s",
				  fams[i].family, strerror(errno), fams[i].proc);
		}
		if (proc_scan(fams[i].proc, fams[i].family, uid, out) == 0) {
			nread++;
		} else {
			g_array_set_size(out, before);
			last_errno = errno;
			log_debug("cannot read %s: %s", fams[i].proc,
				  strerror(errno));
		}
	}

	if (fd >= 0)
		close(fd);
	g_free(buf);
	if (nread == 0) {
		errno = last_errno ? last_errno : EIO;
		ret = -1;
	}
	return ret;
}

static bool is_pid(const char *name)
{
	if (*name == '\0')
		return false;
	for (; *name != '\0'; name++)
		if (!isdigit((unsigned char)*name))
			return false;
	return true;
}

/* True when one of /proc/PID/fd/ is the socket link "socket:[inode]". */
static bool process_has_socket(int procfd, const char *pid, const char *want)
{
	char fdpath[64];
	DIR *dir;
	struct dirent *de;
	bool found = false;
	int fd;

	if ((size_t)snprintf(fdpath, sizeof(fdpath), "%s/fd", pid) >= sizeof(fdpath))
		return false;
	fd = openat(procfd, fdpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return false;
	}
	while (!found && (de = readdir(dir)) != NULL) {
		char link[SOCKET_LINK_MAX + 1];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);
		if (n <= 0 || (size_t)n >= sizeof(link) - 1)
			continue;	/* error, or too long to be a socket */
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(dir);
	return found;
}

bool nu_conntable_find_program(uid_t uid, uint64_t inode, char *path, size_t cap)
{
	char want[SOCKET_LINK_MAX + 1];
	DIR *proc;
	struct dirent *de;
	bool found = false;

	if (path == NULL || cap == 0 || inode == 0)
		return false;
	snprintf(want, sizeof(want), "socket:[%" PRIu64 "]", inode);

	proc = opendir("/proc");
	if (proc == NULL)
		return false;
	while (!found && (de = readdir(proc)) != NULL) {
		struct stat st;
		char exe[PATH_MAX + 1];
		char exepath[64];
		ssize_t n;

		if (!is_pid(de->d_name))
			continue;
		if (fstatat(dirfd(proc), de->d_name, &st, 0) < 0 ||
		    st.st_uid != uid)
			continue;
		if (!process_has_socket(dirfd(proc), de->d_name, want))
			continue;
		if ((size_t)snprintf(exepath, sizeof(exepath), "%s/exe",
				     de->d_name) >= sizeof(exepath))
			continue;
		n = readlinkat(dirfd(proc), exepath, exe, sizeof(exe) - 1);
		if (n <= 0 || (size_t)n >= sizeof(exe) - 1 || (size_t)n >= cap)
			continue;	/* gone, unreadable, or does not fit */
		memcpy(path, exe, (size_t)n);
		path[n] = '\0';
		found = true;
	}
	closedir(proc);
	return found;
}
