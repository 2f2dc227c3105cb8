#!/bin/bash
# The log_pgsql module against a real PostgreSQL server, in the namespace
# lab (run as root):   tests/e2e/pgsql.sh BUILD_DIR [TEST...]
#
# The test makes a cluster of its own with Debian's PostgreSQL (initdb into
# the lab's folder, run as the postgres account) and starts it inside the
# gateway namespace: on that namespace's 127.0.0.1:5432, where nuauth logs
# to it with a password, and on a socket in the lab's folder, where psql
# checks the rows.  A system cluster, if any, is neither used nor touched.
# It loads conf/log_pgsql.sql, logs alice in, and checks the rows of her
# session (login, then logout), of an accepted connection (user, tuple,
# application, decision, ACL) with its byte counts once nufw -C reports its
# end, and of refused ones.  Then it stops PostgreSQL: alice's connections
# are still decided at once, and their rows arrive once it is back.  With
# pgsql_queue_size=2 the records beyond the bound are dropped and nuauth
# says how many.  A bad key stops nuauth -t with file:line.  Last, the
# writer's rate and the time of a connect with and without the module are
# measured (printed, loosely checked).
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
srcdir=$(cd "$here/../.." && pwd)
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_DIR=$LAB_DIR/pg
PG_PORT=5432	# in the gateway namespace, which is the lab's own
PG_PASSWORD="nu'auth pw"	# a quote, to exercise the conninfo escaping
PG_PID=
STOPPED_PID=	# a server process the test holds with SIGSTOP
BENCH=$BUILD/tests/e2e/pgsql_bench

for f in "$MODULES/log_pgsql.so" "$BENCH"; do
	[ -e "$f" ] || { echo "pgsql.sh: $f is not built (configure found no libpq?)" >&2; exit 2; }
done
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/postgres" ] ||
	{ echo "pgsql.sh: no PostgreSQL server (apt-get install postgresql)" >&2; exit 2; }
id postgres >/dev/null 2>&1 ||
	{ echo "pgsql.sh: no postgres account (apt-get install postgresql)" >&2; exit 2; }

# ---- the test's own PostgreSQL --------------------------------------------

pg_init() {
	mkdir -p "$PG_DIR/sock"
	printf '%s\n' "$PG_PASSWORD" > "$PG_DIR/pwfile"
	chown -R postgres: "$PG_DIR"
	chmod 700 "$PG_DIR"
	# Local (socket) connections are trusted: psql as root checks the
	# rows; TCP ones need the password, which nuauth gives.
	runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U nufw -E UTF8 \
		--locale=C --auth-local=trust --auth-host=scram-sha-256 \
		--pwfile="$PG_DIR/pwfile" --no-sync > "$LAB_DIR/initdb.log" 2>&1
}

pg_start() {
	lab_start pgsql "$NS_G" setpriv --reuid=postgres --regid=postgres --init-groups -- \
		"$PG_BIN/postgres" -D "$PG_DIR/data" -k "$PG_DIR/sock" -p $PG_PORT \
		-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
		-c logging_collector=off
	PG_PID=$LAB_PID
	lab_wait_log pgsql "database system is ready to accept connections" 30
}

# pg_stop: a fast shutdown, waited for; the PID leaves the lab's list.
pg_stop() {
	local pid keep=()
	[ -n "$PG_PID" ] || return 0
	[ -n "$STOPPED_PID" ] && kill -CONT "$STOPPED_PID" 2>/dev/null
	STOPPED_PID=
	kill -INT "$PG_PID" 2>/dev/null
	wait "$PG_PID" 2>/dev/null
	for pid in "${LAB_PIDS[@]}"; do
		[ "$pid" = "$PG_PID" ] || keep+=("$pid")
	done
	LAB_PIDS=("${keep[@]}")
	PG_PID=
}
trap 'pg_stop; lab_down' EXIT

# sql QUERY: its rows, fields separated by |.
sql() {
	"$PG_BIN/psql" -h "$PG_DIR/sock" -p $PG_PORT -U nufw -d "${PG_DB:-nufw}" -X -q -A -t \
		-v ON_ERROR_STOP=1 -c "$1" 2>&1
}

# sql_wait QUERY WANTED SECONDS: until the query prints WANTED; prints the
# last answer.
sql_wait() {
	local deadline=$((SECONDS + $3)) out
	while out=$(sql "$1"); [ "$out" != "$2" ]; do
		[ $SECONDS -ge $deadline ] && break
		sleep 0.1
	done
	echo "$out"
	[ "$out" = "$2" ]
}

pg_conf() {
	lab_nuauth_conf
	cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_user_session_logs_module="log_pgsql"
nuauth_user_logs_module="log_pgsql"
nuauth_log_users=15
pgsql_server_addr="127.0.0.1"
pgsql_server_port=$PG_PORT
pgsql_user="nufw"
pgsql_passwd="$PG_PASSWORD"
pgsql_db_name="nufw"
pgsql_ssl="disable"
pgsql_request_timeout=3
pgsql_reconnect_max_delay=1
# No ACL here reads the program: the site asks for it to have it logged.
nuauth_client_send_app=always
CONF
}

# ---- checks -----------------------------------------------------------------

test_login() {
	local out
	if out=$(sql_wait "SELECT username, user_id, host(ip_saddr), client LIKE 'libnuclient %',
			   end_time IS NULL FROM users" "alice|1001|10.201.0.2|t|t" 10); then
		pass "login: a session row for alice (uid 1001, 10.201.0.2, client), still open"
	else
		fail "login: a session row for alice (uid 1001, 10.201.0.2, client), still open" \
			"$out" "$(tail -5 "$LAB_DIR/nuauth.log")"
	fi
}

# connect_port PORT: alice's connection; its source port in SPORT.
connect_port() {
	local out
	out=$(lab_connect $ALICE_UID "$1" 1500)
	SPORT=$(sed -n 's/^connected from 10.201.0.2:\([0-9]*\)$/\1/p' <<<"$out")
	[ -n "$SPORT" ]
}

test_accepted() {
	local out want
	if connect_port 80; then
		pass "alice connects to port 80"
	else
		fail "alice connects to port 80"
		return
	fi
	want="alice|1001|6|10.201.0.2|$SPORT|10.202.0.2|80|$NUPROBE|Linux|accept|web for staff|t"
	if out=$(sql_wait "SELECT username, user_id, ip_protocol, host(ip_saddr), sport,
			   host(ip_daddr), dport, client_app, split_part(client_os, ' ', 1),
			   decision, acl_name, start_time > now() - interval '1 minute'
			   FROM ulog WHERE sport = $SPORT" "$want" 10); then
		pass "the connection's row: user, uid, tuple, application, OS, accept, ACL, start"
	else
		fail "the connection's row: user, uid, tuple, application, OS, accept, ACL, start" \
			"wanted $want" "got    $out"
	fi
}

test_transfer() {
	local out sport sent
	out=$(lab_send $ALICE_UID 10.202.0.2 5050 1)
	sport=$(sed -n 's/^from=10.201.0.2:\([0-9]*\) .*/\1/p' <<<"$out")
	sent=$(sed -n 's/.* sent=\([0-9]*\) .*/\1/p' <<<"$out")
	if [ -z "$sport" ] || [ "${sent:-0}" -le 0 ]; then
		fail "alice sends a bulk transfer to port 5050" "$out"
		return
	fi
	pass "alice sends $sent bytes to port 5050"
	# The transfer is over; the kernel would drop the entry after TIME_WAIT
	# (2 min): deleting it now makes nufw -C report the end at once.
	ip netns exec "$NS_G" conntrack -D -p tcp --orig-src 10.201.0.2 --sport "$sport" \
		--dport 5050 >/dev/null 2>&1
	if out=$(sql_wait "SELECT end_time IS NOT NULL AND end_time >= start_time,
			   bytes_out >= $sent, bytes_in > 0, packets_out > 0, packets_in > 0,
			   decision, acl_name
			   FROM ulog WHERE sport = $sport AND dport = 5050" \
			   "t|t|t|t|t|accept|web for staff" 10); then
		pass "its end updates the row: end time, bytes out >= $sent, bytes and packets in"
	else
		fail "its end updates the row: end time, bytes out >= $sent, bytes and packets in" \
			"$out" "$(sql "SELECT * FROM ulog WHERE dport = 5050")" \
			"$(grep -i 'ended after' "$LAB_DIR/nuauth.log" | tail -2)"
	fi
	out=$(sql "SELECT count(*) FROM ulog WHERE sport = $sport AND dport = 5050")
	if [ "$out" = 1 ]; then
		pass "the end updated the decision's row (no second row)"
	else
		fail "the end updated the decision's row (no second row)" "$out rows"
	fi
}

test_refused() {
	local out
	if lab_connect $ALICE_UID 7070 1500 >/dev/null; then
		fail "alice's connection to port 7070 is refused"
	else
		pass "alice's connection to port 7070 is refused"
	fi
	if out=$(sql_wait "SELECT DISTINCT decision, acl_name FROM ulog WHERE dport = 7070" \
			  "reject|port 7070 is refused at once" 10); then
		pass "logged as reject, with the ACL that refused it"
	else
		fail "logged as reject, with the ACL that refused it" "$out"
	fi
	if lab_connect $ALICE_UID 9999 1000 >/dev/null; then
		fail "alice's connection to port 9999 (no ACL) is refused"
	else
		pass "alice's connection to port 9999 (no ACL) is refused"
	fi
	if out=$(sql_wait "SELECT DISTINCT username, decision, acl_name IS NULL, end_time IS NULL
			  FROM ulog WHERE dport = 9999" "alice|drop|t|t" 10); then
		pass "logged as drop, with no ACL"
	else
		fail "logged as drop, with no ACL" "$out"
	fi
}

test_logout() {
	local out
	lab_stop "$ALICE_PID"
	if out=$(sql_wait "SELECT count(*), bool_and(end_time IS NOT NULL AND end_time >= start_time),
			   max(os_sysname), bool_and(end_reason <> '') FROM users
			   WHERE username = 'alice'" "1|t|Linux|t" 10); then
		pass "logout: the session row gets its end time, reason and the client's OS"
	else
		fail "logout: the session row gets its end time, reason and the client's OS" "$out" \
			"$(sql "SELECT * FROM users")"
	fi
}

# connect_many N: N connections of alice to port 80, their source ports in
# PORTS; true when all succeed, each within 1.5 s.
connect_many() {
	PORTS=()
	for _ in $(seq "$1"); do
		connect_port 80 || return 1
		PORTS+=("$SPORT")
	done
}

ports_in() { local IFS=,; echo "${PORTS[*]}"; }

test_outage() {
	local out started took
	pg_stop
	started=$(date +%s%N)
	if connect_many 3; then
		took=$((($(date +%s%N) - started) / 1000000))
		pass "PostgreSQL stopped: alice's 3 connections are still accepted (${took} ms in all)"
	else
		fail "PostgreSQL stopped: alice's connections are still accepted" \
			"$(tail -5 "$LAB_DIR/nuauth.log")"
		return
	fi
	check_log "nuauth logs the outage" \
		nuauth "log_pgsql: cannot write to PostgreSQL: .* queueing up to 10000" 10
	sleep 3	# retries meanwhile (a second each): the outage is logged once
	check_count "... once, though it retries" nuauth "log_pgsql: cannot write to PostgreSQL" 1
	pg_start
	if out=$(sql_wait "SELECT count(*) FROM ulog WHERE dport = 80 AND sport IN ($(ports_in))" \
			  3 15); then
		pass "PostgreSQL back: the 3 queued connection rows arrive"
	else
		fail "PostgreSQL back: the 3 queued connection rows arrive" "$out rows" \
			"$(tail -5 "$LAB_DIR/nuauth.log")"
	fi
	check_log "nuauth logs that it is back, with no record dropped" \
		nuauth "log_pgsql: PostgreSQL is back after [0-9]* s: 0 records dropped" 5
}

# The server process that serves nuauth stops answering (SIGSTOP): the
# decisions go on, the writer gives the batch up after
# pgsql_request_timeout (3 s), and stores it on a new connection.
test_hung_server() {
	local out started took
	STOPPED_PID=$(sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'nuauth log_pgsql'")
	if ! [[ "$STOPPED_PID" =~ ^[0-9]+$ ]]; then
		fail "nuauth's server process is found" "$STOPPED_PID"
		STOPPED_PID=
		return
	fi
	kill -STOP "$STOPPED_PID"
	started=$(date +%s%N)
	if connect_many 2; then
		took=$((($(date +%s%N) - started) / 1000000))
		pass "PostgreSQL hung: alice's 2 connections are still accepted (${took} ms in all)"
	else
		fail "PostgreSQL hung: alice's connections are still accepted"
	fi
	check_log "the writer gives a silent server up after pgsql_request_timeout" \
		nuauth "log_pgsql: cannot write to PostgreSQL: no answer within 3 s" 10
	# The hung process may store the batch too once it runs again: at
	# least the 2 rows, then.
	if out=$(sql_wait "SELECT count(*) >= 2 FROM ulog WHERE dport = 80 AND sport IN ($(ports_in))" \
			  t 15); then
		pass "the batch is stored through a new connection"
	else
		fail "the batch is stored through a new connection" "$(tail -5 "$LAB_DIR/nuauth.log")"
	fi
	kill -CONT "$STOPPED_PID"
	STOPPED_PID=
}

# A reload while the server hangs: the old instance's writer has
# PGSQL_STOP_GRACE_MS (2 s) to finish, not pgsql_request_timeout (3 s), so
# nuauth's main loop is not held longer than that.
test_reload_with_hung_server() {
	local started took
	STOPPED_PID=$(sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'nuauth log_pgsql'")
	if ! [[ "$STOPPED_PID" =~ ^[0-9]+$ ]]; then
		fail "nuauth's server process is found again" "$STOPPED_PID"
		STOPPED_PID=
		return
	fi
	kill -STOP "$STOPPED_PID"
	connect_many 2
	started=$(date +%s%N)
	lab_reload_nuauth 10
	took=$((($(date +%s%N) - started) / 1000000))
	if [ "$took" -lt 2700 ]; then
		pass "a reload while PostgreSQL hangs takes ${took} ms (the writer's grace is 2 s)"
	else
		fail "a reload while PostgreSQL hangs is bounded by the writer's 2 s grace" "${took} ms"
	fi
	kill -CONT "$STOPPED_PID"
	STOPPED_PID=
}

test_tiny_queue() {
	local out dropped arrived n=8
	echo "pgsql_queue_size=2" >> "$LAB_DIR/nuauth.conf"
	kill -HUP "$NUAUTH_PID"
	if ! lab_wait_log nuauth "configuration, users and ACLs reloaded" 10; then
		fail "nuauth reloads with pgsql_queue_size=2"
		return
	fi
	pg_stop
	if connect_many $n; then
		pass "queue of 2, PostgreSQL stopped: alice's $n connections are accepted"
	else
		fail "queue of 2, PostgreSQL stopped: alice's $n connections are accepted"
		return
	fi
	pg_start
	if ! lab_wait_log nuauth "PostgreSQL is back after [0-9]* s: [0-9]* records dropped while it was away (pgsql_queue_size 2)" 15; then
		fail "nuauth reports the records it dropped"
		return
	fi
	dropped=$(grep -o "PostgreSQL is back after [0-9]* s: [0-9]* records dropped while it was away (pgsql_queue_size 2)" \
		"$LAB_DIR/nuauth.log" | tail -1 | sed 's/.* s: \([0-9]*\) records.*/\1/')
	arrived=$(sql "SELECT count(*) FROM ulog WHERE dport = 80 AND sport IN ($(ports_in))")
	# Rows may still be on their way: wait until they add up or time is out.
	out=$(sql_wait "SELECT count(*) + $dropped FROM ulog WHERE dport = 80 AND sport IN ($(ports_in))" \
		       $n 10)
	arrived=$((out - dropped))
	if [ "$dropped" -ge 1 ] && [ "$arrived" -ge 1 ] && [ "$out" = $n ]; then
		pass "nuauth reports $dropped records dropped; the other $arrived arrive ($n in all)"
	else
		fail "dropped + arrived = $n, with at least one of each" \
			"dropped $dropped, rows $arrived" "$(grep log_pgsql "$LAB_DIR/nuauth.log" | tail -5)"
	fi
}

# A bad key stops nuauth -t, naming file:line.
test_bad_config() {
	local conf=$LAB_DIR/bad.conf out line
	for bad in "pgsql_server_port=fivefourthreetwo" "pgsql_ssl=sometimes" \
		   'pgsql_table_name="ulog; drop table users"' 'pgsql_conninfo="host"'; do
		cp "$LAB_DIR/nuauth.conf" "$conf"
		echo "$bad" >> "$conf"
		line=$(wc -l < "$conf")
		out=$("$NUAUTH" -t -c "$conf" 2>&1)
		if [ $? -ne 0 ] && grep -q "$conf:$line: ${bad%%=*}" <<<"$out"; then
			pass "nuauth -t: \`$bad' gives $(basename "$conf"):$line"
		else
			fail "nuauth -t: \`$bad' gives file:line" "$out"
		fi
	done
}

# The connect time (median of 30, in µs) with log_pgsql (back to its
# default queue), then with no logging module at all; printed for the
# report.  The check is loose: a loaded machine moves both.
test_decision_time() {
	local with without from
	sed -i '/^pgsql_queue_size=/d' "$LAB_DIR/nuauth.conf"
	kill -HUP "$NUAUTH_PID"
	lab_wait_log nuauth "configuration, users and ACLs reloaded" 10 2 >/dev/null
	from=$(($(wc -l < "$LAB_DIR/nuauth.log") + 1))
	with=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" connects 10.202.0.2 80 30 | sort -n | sed -n 15p)
	sed -i 's/^nuauth_user_session_logs_module=.*/nuauth_user_session_logs_module=""/;
		s/^nuauth_user_logs_module=.*/nuauth_user_logs_module=""/' "$LAB_DIR/nuauth.conf"
	kill -HUP "$NUAUTH_PID"
	lab_wait_log nuauth "configuration, users and ACLs reloaded" 10 3 >/dev/null
	without=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" connects 10.202.0.2 80 30 | sort -n | sed -n 15p)
	echo "    connect time, median of 30: ${with:-?} us with log_pgsql, ${without:-?} us without"
	if [ -n "$with" ] && [ -n "$without" ] && [ "$with" -le $((without * 3 + 20000)) ]; then
		pass "log_pgsql does not slow decisions down (${with} us vs ${without} us)"
	else
		fail "log_pgsql does not slow decisions down" "${with:-?} us vs ${without:-?} us"
	fi
	# The reload that removed log_pgsql logged its totals.
	if tail -n +"$from" "$LAB_DIR/nuauth.log" |
	   grep -q "log_pgsql: [0-9]* records written in [0-9]* transactions; 0 dropped"; then
		pass "with the default queue, no record was dropped"
	else
		fail "with the default queue, no record was dropped" \
			"$(tail -n +"$from" "$LAB_DIR/nuauth.log" | grep "log_pgsql:")"
	fi
}

test_writer_rate() {
	local out n=20000
	PG_DB=postgres sql "CREATE DATABASE bench" >/dev/null
	PG_DB=bench sql "\\i $srcdir/conf/log_pgsql.sql" >/dev/null
	out=$("$BENCH" "host='$PG_DIR/sock' port=$PG_PORT user=nufw dbname=bench" $n 2>&1)
	echo "    writer: $out"
	if grep -q "written=$n " <<<"$out" &&
	   [ "$(PG_DB=bench sql "SELECT count(*) FROM ulog")" = $n ]; then
		pass "the writer stores $n records ($(sed 's/.*rate=//' <<<"$out") records/s)"
	else
		fail "the writer stores $n records" "$out"
	fi
}

# ---- the run ----------------------------------------------------------------

lab_netns
lab_pki
pg_conf
lab_rules
if ! pg_init || ! pg_start; then
	fail "PostgreSQL starts" "$(cat "$LAB_DIR/initdb.log" 2>/dev/null | tail -5)"
	lab_finish
	exit 1
fi
PG_DB=postgres sql "CREATE DATABASE nufw" >/dev/null
if out=$(sql "\\i $srcdir/conf/log_pgsql.sql") && [ -z "$out" ]; then
	pass "conf/log_pgsql.sql loads"
else
	fail "conf/log_pgsql.sql loads" "$out"
fi
lab_start_server
lab_start_sink 5050
lab_start_nuauth || { fail "nuauth starts"; lab_finish; exit 1; }
lab_start_nufw || { fail "nufw connects to nuauth"; lab_finish; exit 1; }
if lab_login alice-client $ALICE_UID alice alicepw; then
	ALICE_PID=$LAB_PID
	lab_tests test_login test_accepted test_transfer test_refused test_logout
	lab_login alice-client2 $ALICE_UID alice alicepw || fail "alice logs in again"
	lab_tests \
		test_outage \
		test_hung_server \
		test_reload_with_hung_server \
		test_tiny_queue \
		test_bad_config \
		test_decision_time \
		test_writer_rate
else
	fail "alice logs in"
fi
if kill -0 "$NUAUTH_PID" 2>/dev/null; then
	pass "nuauth is still running"
else
	fail "nuauth is still running"
fi
pg_stop
lab_finish
