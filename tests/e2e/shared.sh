#!/bin/bash
# A desktop shared by several users, one of them hostile, in the namespace
# lab (run as root):
#   tests/e2e/shared.sh BUILD_DIR [TEST...]
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
#
# carol and alice log in with nutcpc from the desktop (10.201.0.2); dave
# logs in from the same address with abuse.py's claimer, which announces
# every port the desktop can use (40000-40999) toward the server every
# 0.5 s, before any packet exists, and answers nuauth's pushes as told: a
# claim, "not mine", or nothing.  A claim counts only when made for a packet
# that waits, and a flow is given to a user only when every other client
# asked said it is not theirs (doc/security.md).
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

SERVER=10.202.0.2

stat_field() {	# stat_field KEY: that counter of nuauthctl stats
	ctl stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# dave NAME ANSWER DPORT: dave's hostile client, started in the background
# (its PID in DAVE_PID), announcing 10.201.0.2:40000-40999 -> server:DPORT.
dave() {
	abuse_start "$1" 0.0.0.0 claimer dave davepw 10.201.0.2 40000 40999 $SERVER "$3" "$2"
	DAVE_PID=$LAB_PID
	lab_wait_log "$1" "logged in" 10
}

# dave_logout NAME: SIGTERM makes the claimer send LOGOUT; waits for nuauth's
# line about it.
dave_logout() {
	local n
	n=$(grep -c "user dave logs out from 10.201.0.2" "$LAB_DIR/nuauth.log")
	kill "$DAVE_PID"
	lab_wait_log "$1" "logged out" 5
	lab_wait_log nuauth "user dave logs out from 10.201.0.2" 5 $((n + 1))
	lab_stop "$DAVE_PID"
}

# connect UID PORT [MS]: a desktop program's connection; prints nuprobe's line.
connect() {
	lab_as "$NS_C" "$1" "$NUPROBE" connect $SERVER "$2" "${3:-3000}"
}

# decision SPORT DPORT: nuauth's decision line for that flow ("" if none).
decision() {
	grep -E "user [a-z]+: tcp 10\.201\.0\.2:$1 -> $SERVER:$2 " "$LAB_DIR/nuauth.log" | tail -1
}

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

shared_conf() {
	cat >> "$LAB_DIR/users.nufw" <<USERS
carol:carolpw:1003:100
dave:davepw:1004:100
USERS
	cat >> "$LAB_DIR/acls.nufw" <<ACLS

[the shared desktop's service]
decision=1
gid=100
proto=6
DstIP=$SERVER
DstPort=7006-7008
ACLS
	echo "nuauth_control_socket=\"$LAB_DIR/control\"" >> "$LAB_DIR/nuauth.conf"
	# NuFW's key, kept for old configurations: ignored with a warning.
	echo "nuauth_push_to_client=0" >> "$LAB_DIR/nuauth.conf"
}

# --- one honest user: one push, one answer, decided at once
test_single_client() {
	local out mark
	CAROL_ALONE=$(lab_as "$NS_C" $CAROL_UID "$NUPROBE" connects $SERVER 7006 20 | median)
	if out=$(connect $CAROL_UID 7006) && mark=$(lab_ct_mark "${out##*:}" 7006) &&
	   [ "$mark" = 1003 ] && grep -q accepted <<<"$(decision "${out##*:}" 7006)"; then
		pass "carol alone at her address: her connection is hers (mark 1003; median connect ${CAROL_ALONE} us)"
	else
		fail "carol alone at her address: her connection is hers" "$out" "mark=${mark:-none}"
	fi
}

# --- two honest users at one address
test_two_honest() {
	local out mark both
	if out=$(connect $ALICE_UID 7006) && mark=$(lab_ct_mark "${out##*:}" 7006) &&
	   [ "$mark" = 1001 ] && grep -q "^.*user alice: .* accepted" <<<"$(decision "${out##*:}" 7006)"; then
		pass "two honest users at one address: alice's connection is alice's (mark 1001)"
	else
		fail "two honest users at one address: alice's connection is alice's (mark 1001)" \
			"$out" "mark=${mark:-none}" "$(decision "${out##*:}" 7006)"
	fi
	if out=$(connect $CAROL_UID 7006) && mark=$(lab_ct_mark "${out##*:}" 7006) &&
	   [ "$mark" = 1003 ] && grep -q "user carol: .* accepted" <<<"$(decision "${out##*:}" 7006)"; then
		pass "two honest users at one address: carol's connection is carol's (mark 1003)"
	else
		fail "two honest users at one address: carol's connection is carol's (mark 1003)" \
			"$out" "mark=${mark:-none}"
	fi
	# Both clients are asked at once: the second answer costs no round
	# trip of its own.  20 ms of slack for a loaded machine.
	both=$(lab_as "$NS_C" $CAROL_UID "$NUPROBE" connects $SERVER 7006 20 | median)
	if [ -n "$both" ] && [ -n "$CAROL_ALONE" ] && [ "$both" -lt $((CAROL_ALONE + 20000)) ]; then
		pass "two clients asked: median connect ${both} us (${CAROL_ALONE} us with one)"
	else
		fail "two clients asked: no added delay beyond a round trip" \
			"median ${both:-none} us with two clients, ${CAROL_ALONE:-none} us with one"
	fi
}

# --- dave announces early AND claims every pushed flow: carol's connection
# is dropped (two users claim it), never dave's; one line names both
test_hostile_claimer() {
	local out before after n line
	before=$(stat_field announces_unmatched)
	n=$(grep -c "claimed by users" "$LAB_DIR/nuauth.log")
	dave dave-claim claim 7006 || { fail "dave logs in from carol's address"; return; }
	sleep 1	# two rounds of early announcements (nothing signals them)
	if out=$(connect $CAROL_UID 7006 2500); then
		fail "dave claims every flow: carol's connection is not given to him" \
			"$out" "$(decision "${out##*:}" 7006)" "mark=$(lab_ct_mark "${out##*:}" 7006)"
	else
		line=$(grep "claimed by users" "$LAB_DIR/nuauth.log" | tail -1)
		if lab_wait_log nuauth "tcp 10.201.0.2:4[0-9]* -> $SERVER:7006 claimed by users \(carol and dave\|dave and carol\): dropped" 3 $((n + 1)) &&
		   ! grep -q "user dave: tcp 10.201.0.2:[0-9]* -> $SERVER:7006 accepted" "$LAB_DIR/nuauth.log" &&
		   ! ip netns exec "$NS_G" conntrack -L -p tcp --dport 7006 2>/dev/null | grep -q "mark=1004"; then
			pass "dave claims every flow: carol's connection is dropped, never his (one line: $line)"
		else
			fail "dave claims every flow: carol's connection is dropped, never his" "$line"
		fi
	fi
	after=$(stat_field announces_unmatched)
	if [ "$after" -ge $((before + 1000)) ]; then
		pass "dave's early announcements are counted and dropped (announces_unmatched +$((after - before)))"
	else
		fail "dave's early announcements are counted and dropped" "announces_unmatched $before -> $after"
	fi
	dave_logout dave-claim
	check_log "dave's LOGOUT ends no connection (none was his)" \
		nuauth "user dave logs out from 10.201.0.2: ending 0 connection" 0
}

# --- dave announces early and says "not mine" when asked: carol's transfer
# is carol's, and survives dave's LOGOUT
test_early_announcer() {
	local ipt="ip netns exec $NS_G iptables" out port mark line hpid
	# What conntrack sees as new but is no SYN cannot open a connection:
	# a deleted entry stalls the transfer.
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	dave dave-early notmine 7007 || { fail "dave logs in again"; return; }
	sleep 1	# two rounds of early announcements
	lab_start_as held "$NS_C" $CAROL_UID "$NUPROBE" hold $SERVER 7007 6
	hpid=$LAB_PID
	if ! lab_wait_log held "connected" 5; then
		fail "dave announced early: carol's connection is carol's" "$(cat "$LAB_DIR/held.log")"
		lab_stop "$hpid"
		dave_logout dave-early
		$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
		return
	fi
	port=$(sed -n 's/^connected from .*://p' "$LAB_DIR/held.log")
	line=$(decision "$port" 7007)
	mark=$(lab_ct_mark "$port" 7007)
	if grep -q "user carol: .* accepted" <<<"$line" && [ "$mark" = 1003 ]; then
		pass "dave announced early: carol's connection is carol's (mark 1003)"
	else
		fail "dave announced early: carol's connection is carol's" "$line" "mark=${mark:-none}"
	fi
	dave_logout dave-early
	mark=$(lab_ct_mark "$port" 7007)
	wait "$hpid"
	out=$(cat "$LAB_DIR/held.log")
	if grep -q "^held [0-9]* bytes" <<<"$out" && [ "$mark" = 1003 ] &&
	   ! grep -q "at nuauth's request" "$LAB_DIR/nufw.log"; then
		pass "carol's transfer goes on through dave's LOGOUT (conntrack entry kept, mark 1003)"
	else
		fail "carol's transfer goes on through dave's LOGOUT" "$out" "mark after: ${mark:-none}"
	fi
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
}

# --- dave never answers a push: nuauth does not decide without his answer;
# carol's connection waits for nuauth_packet_timeout and is dropped
test_silent_client() {
	local out start ms n
	local line="tcp 10.201.0.2:[0-9]* -> $SERVER:7008: not decided in 2 s: user carol claimed it, 1 of 3 asked client(s) did not answer"
	# dave's early announcements are for another port: his silence only.
	dave dave-silent silent 7999 || { fail "dave logs in a third time"; return; }
	n=$(grep -c "$line" "$LAB_DIR/nuauth.log")
	start=$(date +%s%N)
	if out=$(connect $CAROL_UID 7008 2500); then
		fail "a client that never answers: the packet is not decided without it" "$out" \
			"$(decision "${out##*:}" 7008)"
	elif lab_wait_log nuauth "$line" 5 $((n + 1)) && lab_wait_log dave-silent "push 10.201.0.2:" 1; then
		ms=$(( ($(date +%s%N) - start) / 1000000 ))
		pass "a client that never answers: carol's packet waits for the timeout and is dropped (${ms} ms)"
	else
		fail "a client that never answers: the packet is dropped at the timeout" "$out"
	fi
	dave_logout dave-silent
	# dave gone: carol's connections are hers again at once
	if out=$(connect $CAROL_UID 7008) && [ "$(lab_ct_mark "${out##*:}" 7008)" = 1003 ]; then
		pass "once the silent client is gone, carol's next connection is hers"
	else
		fail "once the silent client is gone, carol's next connection is hers" "$out"
	fi
}

test_push_key_ignored() {
	check_log "nuauth_push_to_client=0 is accepted, with a warning (file:line) that it is ignored" \
		nuauth "nuauth.conf:[0-9]*: nuauth_push_to_client is ignored: nuauth always asks the clients" 0
}

lab_netns
ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="40000 40999"
lab_pki
lab_nuauth_conf
shared_conf
lab_rules
lab_start server "$NS_S" "$NUPROBE" serve 7006 7008
lab_wait_log server "ready"
lab_start stream "$NS_S" "$NUPROBE" stream 7007
lab_wait_log stream "ready"
lab_start_gateway

lab_tests test_push_key_ignored
if lab_login carol $CAROL_UID carol carolpw; then
	lab_tests test_single_client
	if lab_login alice $ALICE_UID alice alicepw; then
		lab_tests \
			test_two_honest \
			test_hostile_claimer \
			test_early_announcer \
			test_silent_client
	else
		fail "alice logs in at carol's address"
	fi
else
	fail "carol logs in"
fi

lab_finish
