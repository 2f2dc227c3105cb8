/* The user's connections as the kernel knows them: which reader answers.
 * A scan (the user's opening sockets) dumps sock_diag per family and reads
 * /proc/net where the dump fails; a look-up (one flow) asks sock_diag for
 * its exact socket and reads /proc/net where it cannot.  The readers
 * (sockdiag.c, procnet.c) put what they find to the one rule of
 * sockclaim.c; the owning process is procowner.c's. */
#include "config.h"
#include "conntable_int.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/tcp.h>

#include <linux/netlink.h>

/* sock_diag's absence or failure is logged once, not once per scan. */
static bool logged_diag_error;

int nu_conntable_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0 && !logged_diag_error) {
		logged_diag_error = true;
		log_warnx("sock_diag unavailable (%s): reading /proc/net (logged once)",
			  strerror(errno));
	}
	return fd;
}

static int scan_tables(const struct scan_filter *f, GArray *out)
{
	static const int families[] = { AF_INET, AF_INET6 };
	uint8_t *buf = NULL;
	int fd, nread = 0, last_errno = 0;
	size_t i;

	fd = nu_conntable_open();
	if (fd >= 0)
		buf = g_malloc(DIAG_RECV_BUF);

	for (i = 0; i < G_N_ELEMENTS(families); i++) {
		int family = families[i];
		guint before = out->len;
		char proc[32];

		if (fd >= 0) {
			if (diag_scan(fd, family, (uint32_t)i + 1, f, out, buf) == 0) {
				nread++;
				continue;
			}
			/* Typically EPROTONOSUPPORT or ENOENT (no inet_diag,
			 * tcp_diag or udp_diag); /proc holds the same table. */
			g_array_set_size(out, before);
			if (!logged_diag_error) {
				logged_diag_error = true;
				log_warnx("sock_diag dump (family %d, protocol %u) failed: %s; "
					  "reading /proc/net instead (logged once)",
					  family, f->proto, strerror(errno));
			}
		}
		g_snprintf(proc, sizeof(proc), "/proc/net/%s%s",
			   f->proto == IPPROTO_UDP ? "udp" : "tcp", family == AF_INET6 ? "6" : "");
		if (proc_scan_filter(proc, family, f, out) == 0) {
			nread++;
		} else {
			g_array_set_size(out, before);
			last_errno = errno;
			log_debug("cannot read %s: %s", proc, strerror(errno));
		}
	}

	if (fd >= 0)
		close(fd);
	g_free(buf);
	if (nread == 0) {
		errno = last_errno ? last_errno : EIO;
		return -1;
	}
	return 0;
}

int nu_conntable_scan_syn_sent(uid_t uid, GArray *out)
{
	struct scan_filter f = { IPPROTO_TCP, 1U << TCP_SYN_SENT, uid };

	return scan_tables(&f, out);
}

int nu_conntable_scan(uid_t uid, GArray *out)
{
	struct scan_filter udp = { IPPROTO_UDP, 1U << TCP_ESTABLISHED, uid };
	int tcp_ok = nu_conntable_scan_syn_sent(uid, out);
	int udp_ok = scan_tables(&udp, out);

	return tcp_ok == 0 || udp_ok == 0 ? 0 : -1;
}

int nu_conntable_lookup(int fd, const struct nu_flow *flow, uid_t uid, unsigned int flags,
			struct nu_local_conn *out)
{
	int r;

	if (flow->proto == IPPROTO_ICMP || flow->proto == IPPROTO_ICMPV6) {
		/* No echo identifier (not an echo request): nothing proves it. */
		if (flow->sport == 0)
			return 0;
	} else if (flow->proto != IPPROTO_TCP && flow->proto != IPPROTO_UDP) {
		errno = EOPNOTSUPP;
		return -1;
	}
	/* sock_diag lists no ping socket: /proc/net/icmp{,6} does. */
	if (fd >= 0 && (flow->proto == IPPROTO_TCP || flow->proto == IPPROTO_UDP)) {
		r = diag_lookup(fd, flow, uid, flags, out);
		if (r >= 0)
			return r;
		if (!logged_diag_error) {
			logged_diag_error = true;
			log_warnx("sock_diag look-up failed: %s; reading /proc/net instead "
				  "(logged once)", strerror(errno));
		}
	}
	r = proc_lookup_in("/proc/net", flow, uid, flags, out);
	if (r < 0)
		log_debug("cannot read /proc/net: %s", strerror(errno));
	return r;
}
