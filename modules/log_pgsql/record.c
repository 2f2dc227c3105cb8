/* The records log_pgsql writes, and the SQL that writes them (record.h).
 * Times travel as seconds since the epoch ("%.6f") and become timestamptz
 * with to_timestamp(); empty strings become NULL. */
#include "config.h"
#include "record.h"

#include <string.h>
#include <netinet/in.h>

#include "flow.h"

static void add_text(struct pgsql_record *r, const char *s)
{
	g_assert(r->nparams < PGSQL_MAX_PARAMS);
	if (!s || !*s)
		r->params[r->nparams++] = NULL;
	else if (g_utf8_validate(s, -1, NULL))
		r->params[r->nparams++] = g_strdup(s);
	else	/* a program path or a name in another encoding */
		r->params[r->nparams++] = g_utf8_make_valid(s, -1);
}

static void add_printf(struct pgsql_record *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void add_printf(struct pgsql_record *r, const char *fmt, ...)
{
	va_list ap;

	g_assert(r->nparams < PGSQL_MAX_PARAMS);
	va_start(ap, fmt);
	r->params[r->nparams++] = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

static void add_addr(struct pgsql_record *r, const struct in6_addr *addr)
{
	char text[64];

	add_text(r, nu_addr_format(addr, text, sizeof(text)));
}

static struct pgsql_record *record_new(enum pgsql_record_kind kind)
{
	struct pgsql_record *r = g_new0(struct pgsql_record, 1);

	r->kind = kind;
	return r;
}

void pgsql_record_free(struct pgsql_record *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nparams; i++)
		g_free(r->params[i]);
	g_free(r);
}

const char *pgsql_verdict_name(enum nuauth_verdict verdict)
{
	switch (verdict) {
	case NUAUTH_VERDICT_ACCEPT: return "accept";
	case NUAUTH_VERDICT_REJECT: return "reject";
	default: return "drop";
	}
}

/* Session: $1 username, $2 uid, $3 address, $4 client, $5-$7 OS, $8 login
 * time, and for a logout $9 its time, $10 its reason. */
struct pgsql_record *pgsql_record_session(const struct nuauth_session_event *ev)
{
	bool logout = ev->kind == NUAUTH_SESSION_LOGOUT;
	struct pgsql_record *r = record_new(logout ? PGSQL_LOGOUT : PGSQL_LOGIN);

	add_text(r, ev->name);
	add_printf(r, "%u", ev->uid);
	add_text(r, ev->address);
	add_text(r, ev->client);
	add_text(r, ev->os_sysname);
	add_text(r, ev->os_release);
	add_text(r, ev->os_version);
	add_printf(r, "%lld", (long long)ev->login_time);
	if (logout) {
		add_printf(r, "%lld", (long long)ev->time);
		add_text(r, ev->reason);
	}
	return r;
}

/* The tuple: $n proto, $n+1 source, $n+2 destination, $n+3 and $n+4 the
 * ports (0 for ICMP). */
static void add_flow(struct pgsql_record *r, const struct nu_flow *flow)
{
	add_printf(r, "%u", flow->proto);
	add_addr(r, &flow->saddr);
	add_addr(r, &flow->daddr);
	add_printf(r, "%u", flow->sport);
	add_printf(r, "%u", flow->dport);
}

/* Decision: $1 username, $2 uid, $3-$7 tuple, $8 ICMP type (NULL for TCP
 * and UDP), $9 application, $10 OS, $11 decision, $12 ACL, $13 time. */
struct pgsql_record *pgsql_record_decision(const struct nuauth_packet *packet,
					   const struct nuauth_user *user,
					   enum nuauth_verdict verdict, const char *acl_name,
					   gint64 now_us)
{
	struct pgsql_record *r = record_new(PGSQL_DECISION);
	bool icmp = packet->flow.proto == IPPROTO_ICMP || packet->flow.proto == IPPROTO_ICMPV6;
	char *os = NULL;

	add_text(r, user->name);
	add_printf(r, "%u", user->uid);
	add_flow(r, &packet->flow);
	if (icmp)
		add_printf(r, "%u", packet->icmp_type);
	else
		add_text(r, NULL);
	add_text(r, packet->app);
	if (packet->os_sysname && *packet->os_sysname)
		os = g_strjoin(" ", packet->os_sysname, packet->os_release ? packet->os_release : "",
			       packet->os_version ? packet->os_version : "", NULL);
	add_text(r, os);
	g_free(os);
	add_text(r, pgsql_verdict_name(verdict));
	add_text(r, acl_name);
	add_printf(r, "%lld.%06d", (long long)(now_us / G_USEC_PER_SEC),
		   (int)(now_us % G_USEC_PER_SEC));
	return r;
}

/* End: $1 username, $2-$6 tuple, $7 start, $8 end, $9 packets out, $10
 * bytes out, $11 packets in, $12 bytes in. */
struct pgsql_record *pgsql_record_conn_end(const struct nuauth_conn_end_event *ev)
{
	struct pgsql_record *r = record_new(PGSQL_CONN_END);

	add_text(r, ev->user);
	add_flow(r, &ev->flow);
	add_printf(r, "%lld", (long long)ev->start);
	add_printf(r, "%lld", (long long)ev->end);
	add_printf(r, "%" G_GUINT64_FORMAT, ev->packets_out);
	add_printf(r, "%" G_GUINT64_FORMAT, ev->bytes_out);
	add_printf(r, "%" G_GUINT64_FORMAT, ev->packets_in);
	add_printf(r, "%" G_GUINT64_FORMAT, ev->bytes_in);
	return r;
}

const char *pgsql_statement_name(enum pgsql_record_kind kind)
{
	static const char *const names[PGSQL_KINDS] = {
		[PGSQL_LOGIN] = "nuauth_login", [PGSQL_LOGOUT] = "nuauth_logout",
		[PGSQL_DECISION] = "nuauth_decision", [PGSQL_CONN_END] = "nuauth_conn_end",
	};
	return names[kind];
}

/* A logout closes the open row of the same session (user, address, login
 * second); a connection end closes the newest open accepted row of the
 * same tuple.  When that row is missing (its record was dropped while
 * PostgreSQL was away), a whole row is inserted instead, so that no end is
 * lost. */
char *pgsql_statement_sql(enum pgsql_record_kind kind, const char *table,
			  const char *users_table)
{
	const char *u = users_table, *t = table;

	switch (kind) {
	case PGSQL_LOGIN:
		return g_strdup_printf(
			"INSERT INTO %s (username, user_id, ip_saddr, client, os_sysname, "
			"os_release, os_version, start_time) VALUES ($1, $2::bigint, $3::inet, "
			"$4, $5, $6, $7, to_timestamp($8::float8))", u);
	case PGSQL_LOGOUT:
		return g_strdup_printf(
			"WITH closed AS (UPDATE %s SET end_time = to_timestamp($9::float8), "
			"end_reason = $10, client = COALESCE($4, client), "
			"os_sysname = COALESCE($5, os_sysname), os_release = COALESCE($6, os_release), "
			"os_version = COALESCE($7, os_version) "
			"WHERE id = (SELECT id FROM %s WHERE username = $1 AND ip_saddr = $3::inet "
			"AND start_time = to_timestamp($8::float8) AND end_time IS NULL "
			"ORDER BY id DESC LIMIT 1) RETURNING id) "
			"INSERT INTO %s (username, user_id, ip_saddr, client, os_sysname, os_release, "
			"os_version, start_time, end_time, end_reason) "
			"SELECT $1::text, $2::bigint, $3::inet, $4::text, $5::text, $6::text, "
			"$7::text, to_timestamp($8::float8), to_timestamp($9::float8), $10::text "
			"WHERE NOT EXISTS (SELECT 1 FROM closed)",
			u, u, u);
	case PGSQL_DECISION:
		return g_strdup_printf(
			"INSERT INTO %s (username, user_id, ip_protocol, ip_saddr, ip_daddr, sport, "
			"dport, icmp_type, client_app, client_os, decision, acl_name, start_time) "
			"VALUES ($1, $2::bigint, $3::smallint, $4::inet, $5::inet, $6::integer, "
			"$7::integer, $8::smallint, $9, $10, $11, $12, to_timestamp($13::float8))", t);
	case PGSQL_CONN_END:
		return g_strdup_printf(
			"WITH ended AS (UPDATE %s SET end_time = to_timestamp($8::float8), "
			"packets_out = $9::bigint, bytes_out = $10::bigint, "
			"packets_in = $11::bigint, bytes_in = $12::bigint "
			"WHERE id = (SELECT id FROM %s WHERE ip_protocol = $2::smallint "
			"AND ip_saddr = $3::inet AND ip_daddr = $4::inet AND sport = $5::integer "
			"AND dport = $6::integer AND decision = 'accept' AND end_time IS NULL "
			"ORDER BY id DESC LIMIT 1) RETURNING id) "
			"INSERT INTO %s (username, ip_protocol, ip_saddr, ip_daddr, sport, dport, "
			"decision, start_time, end_time, packets_out, bytes_out, packets_in, bytes_in) "
			"SELECT $1::text, $2::smallint, $3::inet, $4::inet, $5::integer, $6::integer, "
			"'accept', to_timestamp($7::float8), to_timestamp($8::float8), $9::bigint, "
			"$10::bigint, $11::bigint, $12::bigint WHERE NOT EXISTS (SELECT 1 FROM ended)",
			t, t, t);
	default:
		return NULL;
	}
}
