#!/bin/bash
# nuauth's Prometheus metrics end to end in the namespace lab (run as root):
#   tests/e2e/metrics.sh BUILD_DIR [TEST...]
# nuauth serves them on 127.0.0.1:9477 in the gateway (nuauth_metrics_listen).
# After alice logs in, connects N times to an allowed port and M times to a
# port whose ACL rejects, and one login fails, a scrape taken with curl from
# the gateway passes `promtool check metrics', and its counters are what the
# lab did: decisions by verdict, logins, sessions, pending packets, the
# latency histogram's count, the gateway's link state, and the counters nufw
# reported over its link (GW_STATS).  Also: bad addresses stop nuauth with
# file:line, nothing listens where it was not told, other paths answer 404
# and other methods 405, and the link state falls to 0 when nufw stops.
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

N=3	# alice's accepted connections (port 80)
M=2	# her rejected ones (port 7070: decision=3)
ADDR=127.0.0.1:9477
URL=http://$ADDR/metrics
GW=nufw-gateway		# the CN of the lab's nufw certificate (pki.sh)

for tool in curl promtool; do
	command -v $tool >/dev/null || { echo "metrics.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done

scrape() { ip netns exec "$NS_G" curl -sS --max-time 5 "$@"; }

# value METRIC_WITH_LABELS: its value in $LAB_DIR/scrape.txt (empty: absent).
value() { awk -v m="$1" '$1 == m { print $2 }' "$LAB_DIR/scrape.txt"; }
# sum PATTERN: the sum of the values of the series whose name and labels
# match the awk regular expression.
sum() { awk -v p="$1" '$1 ~ p { s += $2 } END { print s + 0 }' "$LAB_DIR/scrape.txt"; }

# check_value NAME METRIC EXPECTED
check_value() {
	local got
	got=$(value "$2")
	if [ "$got" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "$2 is \`$got', expected $3" "$(grep -v '^#' "$LAB_DIR/scrape.txt")"
	fi
}

# wait_value METRIC EXPECTED [SECONDS]: scrapes until METRIC shows EXPECTED
# (nufw sends its counters every 2 s; nuauth renders every second).
wait_value() {
	local deadline=$((SECONDS + ${3:-10}))
	while :; do
		scrape -o "$LAB_DIR/scrape.txt" "$URL" 2>/dev/null
		[ "$(value "$1")" = "$2" ] && return 0
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.2
	done
}

test_config_errors() {
	conf_line_error "an address without a port stops nuauth with file:line" \
		'nuauth_metrics_listen="127.0.0.1"' \
		"nuauth_metrics_listen: \`127.0.0.1' is not ADDRESS:PORT"
	conf_line_error "a host name stops nuauth with file:line" \
		'nuauth_metrics_listen="metrics.example:9477"' \
		"nuauth_metrics_listen: \`metrics.example:9477' is not ADDRESS:PORT"
	conf_line_error "a port above 65535 stops nuauth with file:line" \
		'nuauth_metrics_listen="127.0.0.1:70000"' \
		"nuauth_metrics_listen: \`127.0.0.1:70000' is not ADDRESS:PORT"
	conf_line_error "an address the host does not have stops nuauth with file:line" \
		'nuauth_metrics_listen="10.99.0.1:9477"' \
		"nuauth_metrics_listen: cannot listen on 10.99.0.1 port 9477"
}

test_traffic() {
	local i out
	for i in $(seq $N); do
		lab_connect $ALICE_UID 80 3000 > /dev/null || fail "alice's connection $i to port 80"
	done
	for i in $(seq $M); do
		lab_connect $ALICE_UID 7070 1500 > /dev/null && fail "alice's connection $i to 7070 is refused"
	done
	out=$(lab_as "$NS_C" $PROBE_UID timeout 20 "$NUTCPC" -H 10.201.0.1 -p 4129 \
		-A "$LAB_DIR/pki/cacert.pem" -U bob -P wrongpw -d 2>&1) &&
		fail "bob's login with a wrong password is refused" "$out"
}

test_scrape() {
	if wait_value "nufw_packets_asked_total{gateway=\"$GW\",queue=\"0\"}" $((N + M)) 15; then
		pass "the gateway's GW_STATS reach the metrics: asked $((N + M))"
	else
		fail "the gateway's GW_STATS reach the metrics: asked $((N + M))" \
			"$(cat "$LAB_DIR/scrape.txt")"
	fi
	check "promtool check metrics passes on the scrape" \
		sh -c "promtool check metrics < '$LAB_DIR/scrape.txt'"
	check "the scrape is served as Prometheus text 0.0.4" \
		sh -c "ip netns exec '$NS_G' curl -sS -o /dev/null -w '%{http_code} %{content_type}' '$URL' |
			grep -qx '200 text/plain; version=0.0.4; charset=utf-8'"
	check_value "accepted decisions: $N" 'nuauth_decisions_total{verdict="accept"}' $N
	check_value "rejected decisions: $M" 'nuauth_decisions_total{verdict="reject"}' $M
	check_value "dropped decisions: 0" 'nuauth_decisions_total{verdict="drop"}' 0
	check_value "no timeouts" 'nuauth_decision_timeouts_total' 0
	check_value "one session" 'nuauth_sessions' 1
	check_value "no packet waits" 'nuauth_pending_packets' 0
	check_value "the latency histogram counts every decision" \
		'nuauth_decision_latency_seconds_count' $((N + M))
	check_value "its +Inf bucket too" 'nuauth_decision_latency_seconds_bucket{le="+Inf"}' $((N + M))
	check "every decision took under 1 s" \
		test "$(value 'nuauth_decision_latency_seconds_bucket{le="1"}')" = $((N + M))
	check "one login succeeded" test "$(sum '^nuauth_logins_total\{.*result="ok"\}$')" = 1
	check "one login failed" test "$(sum '^nuauth_logins_total\{.*result="failed"\}$')" = 1
	check "logins are counted by mechanism" \
		grep -qE '^nuauth_logins_total\{mechanism="[A-Z0-9-]+",result="ok"\} 1$' "$LAB_DIR/scrape.txt"
	check_value "the gateway's link is up" "nuauth_gateway_up{gateway=\"$GW\"}" 1
	check_value "with one link" "nuauth_gateway_links{gateway=\"$GW\"}" 1
	check_value "nufw accepted $N" "nufw_packets_accepted_total{gateway=\"$GW\",queue=\"0\"}" $N
	check_value "nufw dropped $M" "nufw_packets_dropped_total{gateway=\"$GW\",queue=\"0\"}" $M
	check_value "nufw rejected $M" "nufw_packets_rejected_total{gateway=\"$GW\",queue=\"0\"}" $M
	check_value "nufw timed out none" "nufw_packets_timeouts_total{gateway=\"$GW\",queue=\"0\"}" 0
	check_value "the kernel lost none" \
		"nufw_kernel_queue_full_total{gateway=\"$GW\",queue=\"0\"}" 0
}

test_http() {
	check "another path answers 404" \
		sh -c "ip netns exec '$NS_G' curl -sS -o /dev/null -w '%{http_code}' http://$ADDR/ | grep -qx 404"
	check "another method answers 405" \
		sh -c "ip netns exec '$NS_G' curl -sS -o /dev/null -w '%{http_code}' -X POST -d x '$URL' |
			grep -qx 405"
	check_not "nothing listens on the gateway's other addresses" \
		ip netns exec "$NS_G" curl -sS --max-time 3 -o /dev/null http://10.201.0.1:9477/metrics
}

# A second link with the gateway's certificate (abuse.py gwstats): malformed
# GW_STATS close their link; a good one with every counter at 2^64-1 shows
# as its own queue, and the scrape stays valid.
test_gw_stats_abuse() {
	local p=$LAB_DIR/pki top=18446744073709551615
	lab_start gwstats "$NS_G" env NUAUTH=127.0.0.1 CA="$p/cacert.pem" \
		CERT="$p/nufw-cert.pem" KEY="$p/nufw-key.pem" timeout 60 \
		python3 "$LAB_HERE/abuse.py" gwstats 30
	local pid=$LAB_PID
	check_log "a GW_STATS without QUEUE closes its link" gwstats \
		"no QUEUE: closed (ERROR: malformed GW_STATS message"
	check_log "a GW_STATS with a 7-byte counter closes its link" gwstats \
		"a 7-byte counter: closed (ERROR: malformed GW_STATS message"
	check_log "a good GW_STATS leaves its link open" gwstats \
		"queue 77, every counter 2^64-1: still open"
	if wait_value "nufw_packets_asked_total{gateway=\"$GW\",queue=\"77\"}" $top 10; then
		pass "a counter at 2^64-1 is shown whole"
	else
		fail "a counter at 2^64-1 is shown whole" "$(cat "$LAB_DIR/scrape.txt")"
	fi
	check_value "the gateway has two links" "nuauth_gateway_links{gateway=\"$GW\"}" 2
	check "promtool check metrics passes with them" \
		sh -c "promtool check metrics < '$LAB_DIR/scrape.txt'"
	lab_stop "$pid"
}

test_link_down() {
	lab_stop "$NUFW_PID"
	if wait_value "nuauth_gateway_up{gateway=\"$GW\"}" 0 10; then
		pass "the gateway's link state falls to 0 when nufw stops"
	else
		fail "the gateway's link state falls to 0 when nufw stops" "$(cat "$LAB_DIR/scrape.txt")"
	fi
	check "its counters leave with its link" \
		test -z "$(value "nufw_packets_asked_total{gateway=\"$GW\",queue=\"0\"}")"
}

lab_netns
lab_pki
lab_nuauth_conf
test_config_errors
echo "nuauth_metrics_listen=\"$ADDR\"" >> "$LAB_DIR/nuauth.conf"
lab_rules
lab_start_server || lab_end "the server starts"
lab_start_gateway
check_log "nuauth says where the metrics are" nuauth "metrics on $URL" 0
lab_login alice-client $ALICE_UID alice alicepw || lab_end "alice logs in"
lab_tests test_traffic test_scrape test_http test_gw_stats_abuse test_link_down
lab_finish
