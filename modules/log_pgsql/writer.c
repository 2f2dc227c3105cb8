/* The writer thread of log_pgsql (writer.h).  The connection is
 * nonblocking once set up, so that every wait is a poll() with the request
 * timeout, and a server that stops answering cannot hold the thread. */
#include "config.h"
#include "writer.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <libpq-fe.h>

#include "log.h"

#define BACKOFF_FIRST_MS 250
/* Drops while PostgreSQL answers (it is slower than the hooks) are
 * reported at most this often. */
#define DROP_REPORT_INTERVAL_US (10 * G_USEC_PER_SEC)

enum batch_result { BATCH_OK, BATCH_LOST, BATCH_REFUSED };

struct pgsql_writer {
	char *label;
	char *conninfo;
	char *table, *users_table;
	unsigned timeout_s;
	unsigned queue_size;
	unsigned backoff_max_ms;
	struct pgsql_spool *spool;
	GThread *thread;

	/* The writer thread's own state from here on. */
	PGconn *conn;
	unsigned backoff_ms;
	gint64 down_since;		/* monotonic, 0 while up or never tried */
	bool ever_up;
	uint64_t drops_unreported;
	gint64 last_drop_report;
	char *last_refusal;		/* the last SQL error logged */
	struct pgsql_writer_stats stats;
};

/* One line of libpq's message, without its trailing newline. */
static char *one_line(const char *msg)
{
	char *s = g_strdup(msg && *msg ? msg : "unknown error");
	char *nl = strchr(s, '\n');

	if (nl)
		*nl = '\0';
	return s;
}

static void disconnect(struct pgsql_writer *w)
{
	if (w->conn)
		PQfinish(w->conn);
	w->conn = NULL;
}

/* PostgreSQL is out of reach (why): logged when the outage starts only. */
static void went_down(struct pgsql_writer *w, const char *why)
{
	char *line = one_line(why);

	disconnect(w);
	if (!w->down_since) {
		w->down_since = g_get_monotonic_time();
		log_warnx("%s: cannot write to PostgreSQL: %s: queueing up to %u records, "
			  "retrying", w->label, line, w->queue_size);
	} else {
		log_debug("%s: PostgreSQL still unreachable: %s", w->label, line);
	}
	g_free(line);
}

static void came_up(struct pgsql_writer *w)
{
	if (w->down_since) {
		uint64_t dropped = pgsql_spool_take_dropped(w->spool) + w->drops_unreported;

		log_notice("%s: PostgreSQL is back after %.0f s: %" G_GUINT64_FORMAT
			   " records dropped while it was away (pgsql_queue_size %u)", w->label,
			   (double)(g_get_monotonic_time() - w->down_since) / G_USEC_PER_SEC,
			   dropped, w->queue_size);
		w->drops_unreported = 0;
		w->down_since = 0;
	} else if (!w->ever_up) {
		log_info("%s: connected to PostgreSQL", w->label);
	}
	w->ever_up = true;
	w->backoff_ms = BACKOFF_FIRST_MS;
}

static bool prepare_all(struct pgsql_writer *w, char **why)
{
	for (int k = 0; k < PGSQL_KINDS; k++) {
		char *sql = pgsql_statement_sql(k, w->table, w->users_table);
		PGresult *r = PQprepare(w->conn, pgsql_statement_name(k), sql, 0, NULL);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

		if (!ok)
			*why = g_strdup_printf("preparing %s: %s", pgsql_statement_name(k),
					       PQresultErrorMessage(r));
		PQclear(r);
		g_free(sql);
		if (!ok)
			return false;
	}
	return true;
}

static bool connect_now(struct pgsql_writer *w)
{
	char *why = NULL;

	w->conn = PQconnectdb(w->conninfo);
	if (PQstatus(w->conn) != CONNECTION_OK) {
		why = g_strdup(PQerrorMessage(w->conn));
	} else if (!prepare_all(w, &why)) {
		/* e.g. no table yet: retried like an outage, so that loading
		 * the schema is enough to make it work. */
	} else if (PQsetnonblocking(w->conn, 1) != 0) {
		why = g_strdup(PQerrorMessage(w->conn));
	}
	if (why) {
		went_down(w, why);
		g_free(why);
		return false;
	}
	came_up(w);
	return true;
}

/* Waits until the socket is ready for events, up to deadline (monotonic),
 * or the spool's stop deadline, which a stop may bring nearer meanwhile:
 * so the wait looks again every 100 ms. */
static bool wait_socket(PGconn *c, short events, gint64 deadline, struct pgsql_spool *sp)
{
	struct pollfd p = { .fd = PQsocket(c), .events = events };

	for (;;) {
		gint64 until = MIN(deadline, pgsql_spool_deadline(sp));
		gint64 left_ms = (until - g_get_monotonic_time()) / 1000;
		int n;

		if (left_ms <= 0 || p.fd < 0)
			return false;
		n = poll(&p, 1, (int)MIN(left_ms, 100));
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

/* Sends what libpq holds; reads meanwhile so that the server never waits
 * on us with full buffers. */
static bool flush_all(PGconn *c, gint64 deadline, struct pgsql_spool *sp)
{
	int f;

	while ((f = PQflush(c)) == 1) {
		if (!wait_socket(c, POLLOUT | POLLIN, deadline, sp) || !PQconsumeInput(c))
			return false;
	}
	return f == 0;
}

/* The next result, waiting at most until deadline; NULL with *timed_out
 * or a lost connection when none came. */
static PGresult *next_result(PGconn *c, gint64 deadline, struct pgsql_spool *sp, bool *failed)
{
	while (PQisBusy(c)) {
		if (!wait_socket(c, POLLIN, deadline, sp) || !PQconsumeInput(c)) {
			*failed = true;
			return NULL;
		}
	}
	return PQgetResult(c);
}

/* One pipeline: every record, one Sync.  *refusal gets the first SQL
 * error when PostgreSQL refused the batch (it is then rolled back). */
static enum batch_result write_batch(struct pgsql_writer *w, struct pgsql_record **recs,
				     size_t n, char **refusal, char **lost)
{
	PGconn *c = w->conn;
	gint64 deadline = g_get_monotonic_time() + (gint64)w->timeout_s * G_USEC_PER_SEC;
	bool failed = false;
	PGresult *r;

	if (!PQenterPipelineMode(c))
		goto lost;
	for (size_t i = 0; i < n; i++) {
		if (!PQsendQueryPrepared(c, pgsql_statement_name(recs[i]->kind), recs[i]->nparams,
					 (const char *const *)recs[i]->params, NULL, NULL, 0))
			goto lost;
	}
	if (!PQpipelineSync(c) || !flush_all(c, deadline, w->spool))
		goto lost;
	for (size_t i = 0; i < n; i++) {
		/* One result per statement, then NULL. */
		r = next_result(c, deadline, w->spool, &failed);
		if (!r)
			goto lost;
		if (PQresultStatus(r) == PGRES_FATAL_ERROR && !*refusal)
			*refusal = one_line(PQresultErrorMessage(r));
		PQclear(r);
		r = next_result(c, deadline, w->spool, &failed);
		if (r) {
			PQclear(r);
			goto lost;	/* more than one result: not our statements */
		}
		if (failed)
			goto lost;
	}
	r = next_result(c, deadline, w->spool, &failed);
	if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
		PQclear(r);
		goto lost;
	}
	PQclear(r);
	if (!PQexitPipelineMode(c) || PQstatus(c) != CONNECTION_OK)
		goto lost;
	return *refusal ? BATCH_REFUSED : BATCH_OK;
lost:
	g_free(*refusal);
	*refusal = NULL;
	if (PQstatus(c) != CONNECTION_OK)
		*lost = g_strdup(PQerrorMessage(c));
	else
		*lost = g_strdup_printf("no answer within %u s (pgsql_request_timeout)",
					w->timeout_s);
	return BATCH_LOST;
}

static void refused(struct pgsql_writer *w, const char *why)
{
	w->stats.refused++;
	/* Each distinct error once, not once per record. */
	if (g_strcmp0(why, w->last_refusal) != 0) {
		log_err("%s: PostgreSQL refused a record: %s", w->label, why);
		g_free(w->last_refusal);
		w->last_refusal = g_strdup(why);
	}
}

/* Writes the batch, waiting through outages; gives up only at stop. */
static void write_until_done(struct pgsql_writer *w, struct pgsql_record **recs, size_t n)
{
	for (;;) {
		char *refusal = NULL, *lost = NULL;

		if (g_get_monotonic_time() >= pgsql_spool_deadline(w->spool))
			goto give_up;
		if (!w->conn) {
			if (w->down_since && pgsql_spool_stopped(w->spool))
				goto give_up;
			if (!connect_now(w)) {
				unsigned wait = w->backoff_ms;

				w->backoff_ms = MIN(w->backoff_ms * 2, w->backoff_max_ms);
				if (pgsql_spool_sleep(w->spool, wait))
					goto give_up;
				continue;
			}
		}
		switch (write_batch(w, recs, n, &refusal, &lost)) {
		case BATCH_OK:
			w->stats.written += n;
			w->stats.batches++;
			return;
		case BATCH_LOST:
			went_down(w, lost);
			g_free(lost);
			continue;
		case BATCH_REFUSED:
			if (n == 1) {
				refused(w, refusal);
			} else {
				/* Find the record at fault: the others go in. */
				for (size_t i = 0; i < n; i++)
					write_until_done(w, &recs[i], 1);
			}
			g_free(refusal);
			return;
		}
	}
give_up:
	w->stats.lost += n;
}

/* Drops while PostgreSQL answers: the hooks outrun the writer. */
static void report_drops(struct pgsql_writer *w)
{
	gint64 now = g_get_monotonic_time();

	if (w->down_since)
		return;		/* counted when it is back */
	w->drops_unreported += pgsql_spool_take_dropped(w->spool);
	if (w->drops_unreported && now - w->last_drop_report >= DROP_REPORT_INTERVAL_US) {
		log_warnx("%s: queue full (pgsql_queue_size %u): %" G_GUINT64_FORMAT
			  " records dropped", w->label, w->queue_size, w->drops_unreported);
		w->drops_unreported = 0;
		w->last_drop_report = now;
	}
}

static gpointer writer_main(gpointer data)
{
	struct pgsql_writer *w = data;
	struct pgsql_record *batch[PGSQL_BATCH_MAX];
	size_t n;

	while ((n = pgsql_spool_take(w->spool, batch, PGSQL_BATCH_MAX)) > 0) {
		write_until_done(w, batch, n);
		for (size_t i = 0; i < n; i++)
			pgsql_record_free(batch[i]);
		report_drops(w);
	}
	disconnect(w);
	return NULL;
}

struct pgsql_writer *pgsql_writer_start(const struct pgsql_conf *conf,
					struct pgsql_spool *spool, const char *label)
{
	struct pgsql_writer *w = g_new0(struct pgsql_writer, 1);
	GError *error = NULL;

	w->label = g_strdup(label);
	w->conninfo = g_strdup(conf->conninfo);
	w->table = g_strdup(conf->table);
	w->users_table = g_strdup(conf->users_table);
	w->timeout_s = conf->request_timeout;
	w->queue_size = conf->queue_size;
	w->backoff_max_ms = conf->reconnect_max_delay * 1000;
	w->backoff_ms = BACKOFF_FIRST_MS;
	w->spool = spool;
	w->thread = g_thread_try_new("log_pgsql", writer_main, w, &error);
	if (!w->thread) {
		log_err("%s: cannot start the writer thread: %s: nothing will be logged",
			label, error->message);
		g_error_free(error);
		pgsql_writer_stop(w, NULL);
		return NULL;
	}
	return w;
}

void pgsql_writer_stop(struct pgsql_writer *w, struct pgsql_writer_stats *stats)
{
	uint64_t dropped;

	if (!w)
		return;
	if (w->thread) {
		pgsql_spool_stop(w->spool);
		g_thread_join(w->thread);
		dropped = pgsql_spool_take_dropped(w->spool) + w->drops_unreported;
		log_info("%s: %" G_GUINT64_FORMAT " records written in %" G_GUINT64_FORMAT
			 " transactions; %" G_GUINT64_FORMAT " dropped (queue full), %"
			 G_GUINT64_FORMAT " refused, %" G_GUINT64_FORMAT " unwritten at exit",
			 w->label, w->stats.written, w->stats.batches, dropped, w->stats.refused,
			 w->stats.lost);
		if (w->stats.lost)
			log_warnx("%s: PostgreSQL unreachable: %" G_GUINT64_FORMAT
				  " records not written", w->label, w->stats.lost);
	}
	if (stats)
		*stats = w->stats;
	if (w->conninfo)
		memset(w->conninfo, 0, strlen(w->conninfo));
	g_free(w->conninfo);
	g_free(w->table);
	g_free(w->users_table);
	g_free(w->last_refusal);
	g_free(w->label);
	g_free(w);
}
