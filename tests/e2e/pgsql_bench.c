/* How many records per second log_pgsql's writer stores: queues N decision
 * records (a spool as large as N, so none is dropped), starts the writer,
 * stops it (it stores everything queued first) and prints
 * "records=N written=W transactions=T seconds=S rate=R".
 *
 *   pgsql_bench CONNINFO N
 *
 * Run by tests/e2e/pgsql.sh against the server it starts. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "flow.h"
#include "log.h"
#include "pgconf.h"
#include "record.h"
#include "spool.h"
#include "writer.h"

int main(int argc, char **argv)
{
	struct pgsql_conf conf = { 0 };
	struct pgsql_writer_stats st;
	struct pgsql_spool *spool;
	struct pgsql_writer *w;
	unsigned long n;
	gint64 t0, t1;

	if (argc != 3 || (n = strtoul(argv[2], NULL, 10)) == 0 || n > 10000000) {
		fprintf(stderr, "usage: pgsql_bench CONNINFO N\n");
		return 2;
	}
	nu_log_init("pgsql_bench", false, LOG_NOTICE);
	conf.conninfo = g_strdup(argv[1]);
	conf.table = pgsql_quote_table("ulog");
	conf.users_table = pgsql_quote_table("users");
	conf.request_timeout = 30;
	conf.queue_size = (unsigned)n;
	conf.reconnect_max_delay = 1;
	spool = pgsql_spool_new(conf.queue_size);
	for (unsigned long i = 0; i < n; i++) {
		struct nuauth_packet pkt = { .app = "/usr/bin/bench", .os_sysname = "Linux",
					     .os_release = "6.1", .os_version = "#1" };
		struct nuauth_user user = { .name = "bench", .uid = 4000 };

		pkt.flow.family = AF_INET;
		pkt.flow.proto = 6;
		nu_addr_from_v4(&pkt.flow.saddr, htonl(0x0acb0000u + (uint32_t)(i >> 16)));
		nu_addr_from_v4(&pkt.flow.daddr, htonl(0x0acc0001u));
		pkt.flow.sport = (uint16_t)(i & 0xffff);
		pkt.flow.dport = 80;
		pgsql_spool_push(spool, pgsql_record_decision(&pkt, &user, NUAUTH_VERDICT_ACCEPT,
							      "bench", g_get_real_time()));
	}
	t0 = g_get_monotonic_time();
	w = pgsql_writer_start(&conf, spool, "pgsql_bench");
	if (!w)
		return 1;
	pgsql_writer_stop(w, &st);
	t1 = g_get_monotonic_time();
	printf("records=%lu written=%" G_GUINT64_FORMAT " transactions=%" G_GUINT64_FORMAT
	       " seconds=%.2f rate=%.0f\n", n, st.written, st.batches,
	       (double)(t1 - t0) / G_USEC_PER_SEC,
	       (double)st.written * G_USEC_PER_SEC / (double)MAX(t1 - t0, 1));
	pgsql_spool_free(spool);
	pgsql_conf_clear(&conf);
	return st.written == n ? 0 : 1;
}
