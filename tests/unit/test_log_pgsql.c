/* log_pgsql's parts that need no server: its keys and connection string,
 * table names, the records and their statements, and the bounded spool. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "unit.h"
#include "flow.h"
#include "proto.h"
#include "pgconf.h"
#include "record.h"
#include "spool.h"

static void test_quote_table(void)
{
	static const char *const bad[] = {
		"", "1ulog", "u log", "ulog;drop", "a.b.c", "a.", ".a", "\"ulog\"", "ulög",
		"a123456789012345678901234567890123456789012345678901234567890123",
	};
	char *q;

	q = pgsql_quote_table("ulog");
	CHECK(q && strcmp(q, "\"ulog\"") == 0);
	g_free(q);
	q = pgsql_quote_table("nufw.ulog_2");
	CHECK(q && strcmp(q, "\"nufw\".\"ulog_2\"") == 0);
	g_free(q);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		q = pgsql_quote_table(bad[i]);
		CHECK(q == NULL);
		g_free(q);
	}
}

static void test_conninfo_escape(void)
{
	GString *s = g_string_new("");

	pgsql_conninfo_add(s, "password", "p'w\\x y");
	CHECK(strcmp(s->str, "password='p\\'w\\\\x y'") == 0);
	pgsql_conninfo_add(s, "user", "");
	CHECK(strcmp(s->str, "password='p\\'w\\\\x y' user=''") == 0);
	g_string_free(s, TRUE);
}

/* Loads text as a configuration file; its path in *path (to unlink). */
static struct nu_conf *conf_from(const char *text, char **path)
{
	GError *error = NULL;
	int fd = g_file_open_tmp("test_log_pgsql.XXXXXX", path, &error);
	struct nu_conf *conf;

	g_assert(fd >= 0);
	g_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	conf = nu_conf_load(*path, &error);
	g_assert(conf);
	return conf;
}

/* Reads text; on success returns the connection string (allocated), else
 * NULL with *message the error. */
static char *read_conf(const char *text, char **message, char **path_out)
{
	struct pgsql_conf c;
	GError *error = NULL;
	char *path, *ret = NULL;
	struct nu_conf *conf = conf_from(text, &path);

	*message = NULL;
	if (pgsql_conf_read(conf, &c, &error)) {
		ret = g_strdup(c.conninfo);
		pgsql_conf_clear(&c);
	} else {
		*message = g_strdup(error->message);
		g_error_free(error);
	}
	nu_conf_free(conf);
	unlink(path);
	if (path_out)
		*path_out = path;
	else
		g_free(path);
	return ret;
}

static void check_error(const char *text, const char *line, const char *key)
{
	char *msg, *path, *want;
	char *ci = read_conf(text, &msg, &path);

	want = g_strdup_printf("%s:%s: %s", path, line, key);
	CHECK(ci == NULL);
	CHECK(msg && g_str_has_prefix(msg, want));
	if (msg && !g_str_has_prefix(msg, want))
		fprintf(stderr, "    got `%s', wanted `%s...'\n", msg, want);
	g_free(ci);
	g_free(msg);
	g_free(path);
	g_free(want);
}

static void test_conf(void)
{
	char *msg, *ci;

	ci = read_conf("# nothing set\n", &msg, NULL);
	CHECK(ci && strcmp(ci, "host='127.0.0.1' port='5432' user='nufw' dbname='nufw' "
			   "sslmode='prefer' connect_timeout='10' "
			   "application_name='nuauth log_pgsql' client_encoding='UTF8'") == 0);
	g_free(ci);

	ci = read_conf("pgsql_server_addr=\"/run/postgresql\"\npgsql_server_port=5433\n"
		       "pgsql_user=\"nuauth\"\npgsql_passwd=\"s3cr'et\"\npgsql_db_name=logs\n"
		       "pgsql_ssl=require\npgsql_request_timeout=3\n", &msg, NULL);
	CHECK(ci && strcmp(ci, "host='/run/postgresql' port='5433' user='nuauth' "
			   "password='s3cr\\'et' dbname='logs' sslmode='require' "
			   "connect_timeout='3' application_name='nuauth log_pgsql' "
			   "client_encoding='UTF8'") == 0);
	g_free(ci);

	/* With a connection string, only the keys given are added. */
	ci = read_conf("pgsql_conninfo=\"service=nufw\"\npgsql_user=bob\n", &msg, NULL);
	CHECK(ci && strcmp(ci, "service=nufw user='bob' connect_timeout='10' "
			   "application_name='nuauth log_pgsql' client_encoding='UTF8'") == 0);
	g_free(ci);

	check_error("pgsql_user=a\npgsql_server_port=abc\n", "2", "pgsql_server_port");
	check_error("pgsql_server_port=70000\n", "1", "pgsql_server_port");
	check_error("\n\npgsql_ssl=sometimes\n", "3", "pgsql_ssl");
	check_error("pgsql_table_name=\"ulog; drop table users\"\n", "1", "pgsql_table_name");
	check_error("pgsql_users_table_name=\"\"\n", "1", "pgsql_users_table_name");
	check_error("pgsql_queue_size=0\n", "1", "pgsql_queue_size");
	check_error("pgsql_reconnect_max_delay=-1\n", "1", "pgsql_reconnect_max_delay");
}

/* The highest $N a statement reads: it must be the record's count. */
static int highest_param(const char *sql)
{
	int max = 0;

	for (const char *p = strchr(sql, '$'); p; p = strchr(p + 1, '$'))
		max = MAX(max, atoi(p + 1));
	return max;
}

static void check_statement(const struct pgsql_record *r)
{
	char *sql = pgsql_statement_sql(r->kind, "\"t_conn\"", "\"t_users\"");

	CHECK(sql && highest_param(sql) == r->nparams);
	CHECK(sql && strstr(sql, r->kind == PGSQL_LOGIN || r->kind == PGSQL_LOGOUT ?
			    "\"t_users\"" : "\"t_conn\""));
	CHECK(pgsql_statement_name(r->kind) != NULL);
	g_free(sql);
}

static struct nuauth_packet tcp_packet(void)
{
	struct nuauth_packet p = { .indev = "", .outdev = "", .app = "/usr/bin/curl",
				   .os_sysname = "Linux", .os_release = "6.1",
				   .os_version = "#1 SMP" };

	p.flow.family = AF_INET;
	p.flow.proto = IPPROTO_TCP;
	nu_addr_from_v4(&p.flow.saddr, htonl(0x0ac90002));
	nu_addr_from_v4(&p.flow.daddr, htonl(0x0aca0002));
	p.flow.sport = 40000;
	p.flow.dport = 80;
	return p;
}

static void test_records(void)
{
	struct nuauth_packet p = tcp_packet();
	struct nuauth_user u = { .name = "alice", .uid = 1001 };
	struct nuauth_session_event ev = {
		.kind = NUAUTH_SESSION_LOGIN, .name = "alice", .uid = 1001,
		.address = "10.201.0.2", .login_time = 1700000000, .time = 1700000000,
		.reason = "", .client = "libnuclient 0.1.0", .os_sysname = "",
		.os_release = "", .os_version = "",
	};
	struct nuauth_conn_end_event end = {
		.user = "alice", .flow = p.flow, .start = 1700000001, .end = 1700000061,
		.packets_out = 10, .bytes_out = 123456789012ULL, .packets_in = 8, .bytes_in = 640,
	};
	struct pgsql_record *r;

	r = pgsql_record_decision(&p, &u, NUAUTH_VERDICT_ACCEPT, "web", 1700000000123456LL);
	CHECK(r->kind == PGSQL_DECISION && r->nparams == 13);
	CHECK(strcmp(r->params[0], "alice") == 0 && strcmp(r->params[1], "1001") == 0);
	CHECK(strcmp(r->params[2], "6") == 0);
	CHECK(strcmp(r->params[3], "10.201.0.2") == 0 && strcmp(r->params[4], "10.202.0.2") == 0);
	CHECK(strcmp(r->params[5], "40000") == 0 && strcmp(r->params[6], "80") == 0);
	CHECK(r->params[7] == NULL);	/* no ICMP type for TCP */
	CHECK(strcmp(r->params[8], "/usr/bin/curl") == 0);
	CHECK(strcmp(r->params[9], "Linux 6.1 #1 SMP") == 0);
	CHECK(strcmp(r->params[10], "accept") == 0 && strcmp(r->params[11], "web") == 0);
	CHECK(strcmp(r->params[12], "1700000000.123456") == 0);
	check_statement(r);
	pgsql_record_free(r);

	/* No ACL, no application, no OS: NULL; a name that is not UTF-8 is
	 * made valid rather than refused by the server. */
	p.app = "";
	p.os_sysname = "";
	u.name = "b\xffob";
	r = pgsql_record_decision(&p, &u, NUAUTH_VERDICT_DROP, "", 0);
	CHECK(r->params[8] == NULL && r->params[9] == NULL && r->params[11] == NULL);
	CHECK(strcmp(r->params[10], "drop") == 0);
	CHECK(g_utf8_validate(r->params[0], -1, NULL) && g_str_has_prefix(r->params[0], "b"));
	pgsql_record_free(r);

	/* ICMP: ports 0, the type kept. */
	p = tcp_packet();
	p.flow.proto = IPPROTO_ICMP;
	p.flow.sport = p.flow.dport = 0;
	p.icmp_type = 8;
	u.name = "guest";
	r = pgsql_record_decision(&p, &u, NUAUTH_VERDICT_REJECT, "ping", 0);
	CHECK(strcmp(r->params[5], "0") == 0 && strcmp(r->params[6], "0") == 0);
	CHECK(r->params[7] && strcmp(r->params[7], "8") == 0);
	CHECK(strcmp(r->params[10], "reject") == 0);
	pgsql_record_free(r);

	r = pgsql_record_session(&ev);
	CHECK(r->kind == PGSQL_LOGIN && r->nparams == 8);
	CHECK(strcmp(r->params[3], "libnuclient 0.1.0") == 0 && r->params[4] == NULL);
	CHECK(strcmp(r->params[7], "1700000000") == 0);
	check_statement(r);
	pgsql_record_free(r);

	ev.kind = NUAUTH_SESSION_LOGOUT;
	ev.time = 1700000100;
	ev.reason = "logged out";
	ev.os_sysname = "Linux";
	r = pgsql_record_session(&ev);
	CHECK(r->kind == PGSQL_LOGOUT && r->nparams == 10);
	CHECK(strcmp(r->params[4], "Linux") == 0);
	CHECK(strcmp(r->params[8], "1700000100") == 0 && strcmp(r->params[9], "logged out") == 0);
	check_statement(r);
	pgsql_record_free(r);

	r = pgsql_record_conn_end(&end);
	CHECK(r->kind == PGSQL_CONN_END && r->nparams == 12);
	CHECK(strcmp(r->params[9], "123456789012") == 0 && strcmp(r->params[11], "640") == 0);
	check_statement(r);
	pgsql_record_free(r);

	CHECK(strcmp(pgsql_verdict_name(NUAUTH_VERDICT_ACCEPT), "accept") == 0);
	CHECK(strcmp(pgsql_verdict_name((enum nuauth_verdict)42), "drop") == 0);
}

static struct pgsql_record *numbered(int i)
{
	struct pgsql_record *r = g_new0(struct pgsql_record, 1);

	r->kind = PGSQL_DECISION;
	r->nparams = 1;
	r->params[0] = g_strdup_printf("%d", i);
	return r;
}

static gpointer push_later(gpointer data)
{
	g_usleep(50000);
	pgsql_spool_push(data, numbered(99));
	return NULL;
}

static void test_spool(void)
{
	struct pgsql_spool *sp = pgsql_spool_new(3);
	struct pgsql_record *out[8];
	GThread *t;
	size_t n;
	int queued = 0;

	for (int i = 0; i < 5; i++)
		queued += pgsql_spool_push(sp, numbered(i));
	CHECK(queued == 3);
	CHECK(pgsql_spool_length(sp) == 3);
	CHECK(pgsql_spool_take_dropped(sp) == 2);
	CHECK(pgsql_spool_take_dropped(sp) == 0);
	n = pgsql_spool_take(sp, out, 2);
	CHECK(n == 2 && strcmp(out[0]->params[0], "0") == 0 && strcmp(out[1]->params[0], "1") == 0);
	for (size_t i = 0; i < n; i++)
		pgsql_record_free(out[i]);
	/* Room again: the oldest stays first. */
	CHECK(pgsql_spool_push(sp, numbered(5)));
	n = pgsql_spool_take(sp, out, 8);
	CHECK(n == 2 && strcmp(out[0]->params[0], "2") == 0 && strcmp(out[1]->params[0], "5") == 0);
	for (size_t i = 0; i < n; i++)
		pgsql_record_free(out[i]);

	/* take waits for a record from another thread. */
	t = g_thread_new("push", push_later, sp);
	n = pgsql_spool_take(sp, out, 8);
	CHECK(n == 1 && strcmp(out[0]->params[0], "99") == 0);
	pgsql_record_free(out[0]);
	g_thread_join(t);

	CHECK(!pgsql_spool_sleep(sp, 10));
	pgsql_spool_push(sp, numbered(7));
	pgsql_spool_stop(sp);
	CHECK(pgsql_spool_stopped(sp));
	CHECK(pgsql_spool_sleep(sp, 100000));	/* returns at once */
	n = pgsql_spool_take(sp, out, 8);	/* drains after stop */
	CHECK(n == 1);
	pgsql_record_free(out[0]);
	CHECK(pgsql_spool_take(sp, out, 8) == 0);
	pgsql_spool_push(sp, numbered(8));	/* freed with the spool */
	pgsql_spool_free(sp);
}

int main(void)
{
	test_quote_table();
	test_conninfo_escape();
	test_conf();
	test_records();
	test_spool();
	return unit_done("test_log_pgsql");
}
