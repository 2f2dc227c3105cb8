/* Conntrack events and deletion through libnetfilter_conntrack. */
#include "config.h"
#include "conntrack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <glib.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "error.h"
#include "log.h"

#define ACCT_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_acct"

struct nufw_conntrack {
	struct nfct_handle *events;	/* NULL when not following ends */
	struct nfct_handle *query;	/* for deletions */
	bool only_marked;
	nufw_conn_end_fn fn;
	void *ctx;
};

/* The original direction's tuple as a flow; false for what we do not track
 * (other protocols). */
static bool flow_of(const struct nf_conntrack *c, struct nu_flow *f)
{
	uint8_t l3 = nfct_get_attr_u8(c, ATTR_L3PROTO);

	memset(f, 0, sizeof(*f));
	f->proto = nfct_get_attr_u8(c, ATTR_L4PROTO);
	if (l3 == AF_INET) {
		f->family = AF_INET;
		nu_addr_from_v4(&f->saddr, nfct_get_attr_u32(c, ATTR_ORIG_IPV4_SRC));
		nu_addr_from_v4(&f->daddr, nfct_get_attr_u32(c, ATTR_ORIG_IPV4_DST));
	} else if (l3 == AF_INET6) {
		f->family = AF_INET6;
		memcpy(&f->saddr, nfct_get_attr(c, ATTR_ORIG_IPV6_SRC), 16);
		memcpy(&f->daddr, nfct_get_attr(c, ATTR_ORIG_IPV6_DST), 16);
	} else {
		return false;
	}
	if (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP) {
		f->sport = ntohs(nfct_get_attr_u16(c, ATTR_ORIG_PORT_SRC));
		f->dport = ntohs(nfct_get_attr_u16(c, ATTR_ORIG_PORT_DST));
	} else if (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) {
		/* An echo's identifier, as in the flow nufw asked about
		 * (nu_packet_parse). */
		if (nfct_get_attr_u8(c, ATTR_ICMP_TYPE) == (f->proto == IPPROTO_ICMP ? 8 : 128))
			f->sport = ntohs(nfct_get_attr_u16(c, ATTR_ICMP_ID));
	} else {
		return false;
	}
	return true;
}

static gint ends_paused;	/* g_atomic_int */

void nufw_conntrack_pause_ends(bool paused)
{
	g_atomic_int_set(&ends_paused, paused ? 1 : 0);
}

static int on_event(enum nf_conntrack_msg_type type, struct nf_conntrack *c, void *data)
{
	struct nufw_conntrack *ct = data;
	struct nu_conn_end end = { 0 };

	if (type != NFCT_T_DESTROY || g_atomic_int_get(&ends_paused) || !flow_of(c, &end.flow))
		return NFCT_CB_CONTINUE;
	end.mark = nfct_attr_is_set(c, ATTR_MARK) ? nfct_get_attr_u32(c, ATTR_MARK) : 0;
	if (ct->only_marked && end.mark == 0)
		return NFCT_CB_CONTINUE;
	if (nfct_attr_is_set(c, ATTR_ORIG_COUNTER_BYTES)) {
		end.packets_out = nfct_get_attr_u64(c, ATTR_ORIG_COUNTER_PACKETS);
		end.bytes_out = nfct_get_attr_u64(c, ATTR_ORIG_COUNTER_BYTES);
		end.packets_in = nfct_get_attr_u64(c, ATTR_REPL_COUNTER_PACKETS);
		end.bytes_in = nfct_get_attr_u64(c, ATTR_REPL_COUNTER_BYTES);
	}
	ct->fn(&end, ct->ctx);
	return NFCT_CB_CONTINUE;
}

/* Counters come only with nf_conntrack_acct on; it is per network
 * namespace and off by default. */
static void enable_accounting(void)
{
	FILE *f = fopen(ACCT_SYSCTL, "r+");
	int c;

	if (!f) {
		log_warn("cannot read %s: connection byte counts will be 0", ACCT_SYSCTL);
		return;
	}
	c = fgetc(f);
	if (c != '1') {
		rewind(f);
		if (fputs("1\n", f) < 0 || fflush(f) != 0)
			log_warn("cannot turn on %s: connection byte counts will be 0", ACCT_SYSCTL);
		else
			log_notice("turned on conntrack accounting (%s) for byte counts", ACCT_SYSCTL);
	}
	fclose(f);
}

struct nufw_conntrack *nufw_conntrack_open(bool follow_ends, bool only_marked,
					   nufw_conn_end_fn fn, void *ctx, GError **error)
{
	struct nufw_conntrack *ct = g_new0(struct nufw_conntrack, 1);

	ct->only_marked = only_marked;
	ct->fn = fn;
	ct->ctx = ctx;
	ct->query = nfct_open(CONNTRACK, 0);
	if (!ct->query) {
		g_set_error(error, NU_ERROR, NU_ERROR_KERNEL,
			    "cannot open conntrack: %s", g_strerror(errno));
		goto fail;
	}
	if (follow_ends) {
		enable_accounting();
		ct->events = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_DESTROY);
		if (!ct->events) {
			g_set_error(error, NU_ERROR, NU_ERROR_KERNEL,
				    "cannot follow conntrack events: %s", g_strerror(errno));
			goto fail;
		}
		nfct_callback_register(ct->events, NFCT_T_DESTROY, on_event, ct);
		if (fcntl(nfct_fd(ct->events), F_SETFL, O_NONBLOCK) < 0) {
			g_set_error(error, NU_ERROR, NU_ERROR_KERNEL,
				    "conntrack events: %s", g_strerror(errno));
			goto fail;
		}
	}
	return ct;
fail:
	nufw_conntrack_close(ct);
	return NULL;
}

void nufw_conntrack_close(struct nufw_conntrack *ct)
{
	if (!ct)
		return;
	if (ct->events)
		nfct_close(ct->events);
	if (ct->query)
		nfct_close(ct->query);
	g_free(ct);
}

int nufw_conntrack_fd(const struct nufw_conntrack *ct)
{
	return ct->events ? nfct_fd(ct->events) : -1;
}

int nufw_conntrack_read(struct nufw_conntrack *ct)
{
	/* nfct_catch handles every message waiting and returns -1 with
	 * EAGAIN once the non-blocking socket is empty. */
	if (nfct_catch(ct->events) < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		if (errno == ENOBUFS) {
			log_warnx("conntrack events were lost (receive buffer full): "
				  "some connection ends are not reported");
			return 0;
		}
		return -1;
	}
	return 0;
}

int nufw_conntrack_destroy(struct nufw_conntrack *ct, const struct nu_flow *flow)
{
	struct nf_conntrack *c = nfct_new();
	uint32_t v4;
	int ret;

	if (!c) {
		errno = ENOMEM;
		return -1;
	}
	nfct_set_attr_u8(c, ATTR_L3PROTO, flow->family);
	if (flow->family == AF_INET) {
		nu_addr_is_v4(&flow->saddr, &v4);
		nfct_set_attr_u32(c, ATTR_ORIG_IPV4_SRC, v4);
		nu_addr_is_v4(&flow->daddr, &v4);
		nfct_set_attr_u32(c, ATTR_ORIG_IPV4_DST, v4);
	} else {
		nfct_set_attr(c, ATTR_ORIG_IPV6_SRC, flow->saddr.s6_addr);
		nfct_set_attr(c, ATTR_ORIG_IPV6_DST, flow->daddr.s6_addr);
	}
	nfct_set_attr_u8(c, ATTR_L4PROTO, flow->proto);
	if (flow->proto == IPPROTO_TCP || flow->proto == IPPROTO_UDP) {
		nfct_set_attr_u16(c, ATTR_ORIG_PORT_SRC, htons(flow->sport));
		nfct_set_attr_u16(c, ATTR_ORIG_PORT_DST, htons(flow->dport));
	}
	ret = nfct_query(ct->query, NFCT_Q_DESTROY, c);
	nfct_destroy(c);
	return ret;
}
