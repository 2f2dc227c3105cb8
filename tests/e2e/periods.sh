#!/bin/bash
# Time periods end to end in the namespace lab (run as root):
#   tests/e2e/periods.sh BUILD_DIR [TEST...]
# An ACL lets alice reach port 5050 only within a window that ends a few
# seconds after nuauth starts: inside it she connects; when it ends nuauth
# has nufw end her open transfer, also when nufw restarted meanwhile; after
# it her new connections are refused.  A reload that ends, lengthens or
# shortens the period moves the end of her open connection, on nuauth and
# on nufw (which ends it by itself when nuauth is gone).
# A period with duration= (NuFW's <duration>) ends a connection that many
# seconds after it was accepted, a reload meanwhile notwithstanding, while
# a connection under no period keeps going.
# Also checks that a malformed periods file, an ACL naming an unknown period
# and an ACL with a period but no periods module stop nuauth with file:line.
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

WINDOW=${PERIODS_WINDOW:-8}	# seconds from nuauth's start to the window's end
DURATION=${PERIODS_DURATION:-6}	# duration= of the period `a while' (a reload
				# halfway that restarted it would be 3 s late)

local_time() {	# local_time EPOCH: the periods file's notation
	date -d "@$1" +%Y-%m-%dT%H:%M:%S
}

# The lab's configuration, with port 5050 taken out of the staff ACL and
# given to an ACL that needs the period `window'.
periods_conf() {
	lab_nuauth_conf
	sed -i 's/^DstPort=80,5050$/DstPort=80/' "$LAB_DIR/acls.nufw"
	cat >> "$LAB_DIR/acls.nufw" <<ACLS

[stream within the window]
decision=1
gid=100
proto=6
DstPort=5050
period=window

[stream for a while]
decision=1
gid=100
proto=6
DstPort=5051
period=a while

[stream without a period]
decision=1
gid=100
proto=6
DstPort=5052
ACLS
	cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_periods_module="periods"
periods_file="$LAB_DIR/periods.conf"
CONF
}

write_periods() {	# write_periods END_EPOCH
	cat > "$LAB_DIR/periods.conf" <<PERIODS
# written by periods.sh
[window]
start=$(local_time $(( $(date +%s) - 60 )))
end=$(local_time "$1")

[workhours]
days=1-5
hours=08:00-18:00

# NuFW's <duration>: from the connection's acceptance
[a while]
duration=$DURATION
PERIODS
}

# --- configuration errors: nuauth stops at start and names file:line

test_config_errors() {
	local line out
	write_periods $(( $(date +%s) + 3600 ))

	cp "$LAB_DIR/periods.conf" "$LAB_DIR/periods-bad.conf"
	printf '[late]\nhours=22:00-25:00\n' >> "$LAB_DIR/periods-bad.conf"
	line=$(wc -l < "$LAB_DIR/periods-bad.conf")
	{ cat "$LAB_DIR/nuauth.conf"; echo "periods_file=\"$LAB_DIR/periods-bad.conf\""; } \
		> "$LAB_DIR/bad.conf"
	conf_error_case "a malformed periods file stops nuauth with file:line" \
		"$LAB_DIR/periods-bad.conf:$line: hours: \`22:00-25:00'"

	sed 's/^period=window$/period=windwo/' "$LAB_DIR/acls.nufw" > "$LAB_DIR/acls-bad.nufw"
	line=$(grep -n '^period=' "$LAB_DIR/acls-bad.nufw" | cut -d: -f1)
	{ cat "$LAB_DIR/nuauth.conf"; echo "plaintext_aclfile=\"$LAB_DIR/acls-bad.nufw\""; } \
		> "$LAB_DIR/bad.conf"
	conf_error_case "an ACL naming an unknown period stops nuauth with file:line" \
		"$LAB_DIR/acls-bad.nufw:$line: acl [stream within the window]: unknown period \`windwo'"

	line=$(grep -n '^period=' "$LAB_DIR/acls.nufw" | cut -d: -f1)
	grep -v '^nuauth_periods_module=' "$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad.conf"
	conf_error_case "an ACL with a period but no periods module stops nuauth with file:line" \
		"$LAB_DIR/acls.nufw:$line: acl [stream within the window]: unknown period \`window'"

	# Without any period, nuauth needs neither the module nor its file.
	cp "$LAB_DIR/acls.nufw" "$LAB_DIR/acls-noperiod.nufw"
	sed -i '/^period=/d' "$LAB_DIR/acls-noperiod.nufw"
	grep -v '^nuauth_periods_module=\|^periods_file=' "$LAB_DIR/nuauth.conf" > "$LAB_DIR/plain.conf"
	echo "plaintext_aclfile=\"$LAB_DIR/acls-noperiod.nufw\"" >> "$LAB_DIR/plain.conf"
	out=$(ip netns exec "$NS_G" timeout 2 "$NUAUTH" -c "$LAB_DIR/plain.conf" 2>&1)
	if [ $? -eq 124 ]; then
		pass "without periods, nuauth starts with no periods module or file"
	else
		fail "without periods, nuauth starts with no periods module or file" "$out"
	fi
}

# --- the window
test_window() {
	local ipt="ip netns exec $NS_G iptables" hpid out stalled_at late
	# What conntrack sees as new but is no SYN cannot open a connection.
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP

	lab_start_as held "$NS_C" $ALICE_UID "$NUPROBE" hold 10.202.0.2 5050 $((WINDOW + 6))
	hpid=$LAB_PID
	if lab_wait_log held "connected" 5; then
		pass "inside the window alice connects to port 5050 ($(( WINDOW_END - $(date +%s) )) s left)"
	else
		fail "inside the window alice connects to port 5050" "$(cat "$LAB_DIR/held.log")" \
			"$(tail -5 "$LAB_DIR/nuauth.log")"
		$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
		return
	fi
	# nufw restarts meanwhile: nuauth keeps the connection and ends it
	# through the new link.
	lab_stop "$NUFW_PID"
	mv "$LAB_DIR/nufw.log" "$LAB_DIR/nufw-first.log"
	lab_start_nufw
	if lab_wait_log nuauth "1 connections it passed before are followed again" 5; then
		pass "after nufw restarts, nuauth follows alice's connection again"
	else
		fail "after nufw restarts, nuauth follows alice's connection again" \
			"$(tail -5 "$LAB_DIR/nuauth.log")"
	fi
	wait "$hpid"
	stalled_at=$(date +%s.%N)
	out=$(cat "$LAB_DIR/held.log")
	# nuprobe calls a second without data a stall.
	late=$(awk -v s="$stalled_at" -v e="$WINDOW_END" 'BEGIN { printf "%.1f", s - e }')
	if grep -q "stalled after" <<<"$out" &&
	   awk -v l="$late" 'BEGIN { exit !(l >= 0 && l <= 2.5) }'; then
		pass "the transfer stalls when the window ends (${late} s after its end)"
	else
		fail "the transfer stalls when the window ends" "${late} s after the end" "$out"
	fi
	check_log "nuauth logs that the period's end closes the connection" \
		nuauth "the period of acl stream within the window ended: closing the connection" 0
	check_log "nufw ends the connection at nuauth's request" nufw "at nuauth's request" 0
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP

	check_not "after the window a new connection to 5050 is refused" \
		lab_connect $ALICE_UID 5050 2500
	check "an ACL without a period still lets alice through" lab_connect $ALICE_UID 80
}

# --- a reload that ends the period: nuauth re-reads the periods and ends
# the connections whose period no longer covers now, at once.
test_reload_ends_period() {
	local ipt="ip netns exec $NS_G iptables" hpid out
	write_periods $(( $(date +%s) + 3600 ))
	lab_reload_nuauth 5
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	lab_start_as held-reload "$NS_C" $ALICE_UID "$NUPROBE" hold 10.202.0.2 5050 8
	hpid=$LAB_PID
	if lab_wait_log held-reload "connected" 5; then
		write_periods $(( $(date +%s) - 1 ))
		lab_reload_nuauth 5
	fi
	wait "$hpid"
	out=$(cat "$LAB_DIR/held-reload.log")
	if grep -q "stalled after" <<<"$out" &&
	   grep -q "after the reload, period window of acl stream within the window does not cover now" \
		"$LAB_DIR/nuauth.log"; then
		pass "a reload that ends the period ends alice's connection at once"
	else
		fail "a reload that ends the period ends alice's connection at once" "$out" \
			"$(tail -3 "$LAB_DIR/nuauth.log")"
	fi
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
}

# hold_and_move NAME SECONDS OFFSET PATTERN: alice holds a transfer to port
# 5050 for SECONDS (HOLD_PID); once it is up, the period's end moves to
# OFFSET seconds from now (MOVED_END) by a reload, and nufw's log shows
# PATTERN (the new end time it was told).  False if the transfer did not
# start.
hold_and_move() {
	lab_start_as "$1" "$NS_C" $ALICE_UID "$NUPROBE" hold 10.202.0.2 5050 "$2"
	HOLD_PID=$LAB_PID
	lab_wait_log "$1" "connected" 5 || return 1
	MOVED_END=$(( $(date +%s) + $3 ))
	write_periods "$MOVED_END"
	lab_reload_nuauth 5
	lab_wait_log nufw "$4" 5
}

# --- a reload that lengthens the period: nufw, which was given the old end
# time with the decision, is told the new one (CONN_EXPIRES) and keeps the
# connection past the old end.
test_reload_lengthens_period() {
	local ipt="ip netns exec $NS_G iptables" out old_end
	old_end=$(( $(date +%s) + 4 ))
	write_periods "$old_end"
	lab_reload_nuauth 5
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	hold_and_move held-longer 8 3600 "ends in 3[56][0-9][0-9] s now"
	wait "$HOLD_PID"
	out=$(cat "$LAB_DIR/held-longer.log")
	if ! grep -q "stalled after" <<<"$out" && [ "$(date +%s)" -gt $((old_end + 2)) ] &&
	   grep -q "ends in 3[56][0-9][0-9] s now" "$LAB_DIR/nufw.log"; then
		pass "a reload that lengthens the period keeps alice's connection past the old end"
	else
		fail "a reload that lengthens the period keeps alice's connection past the old end" \
			"$out" "$(tail -3 "$LAB_DIR/nufw.log")"
	fi
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
}

# --- nufw ends the connection itself when its period ends, even with
# nuauth gone: the end time came with the decision, and a reload that
# shortened the period moved it.
test_period_end_without_nuauth() {
	local ipt="ip netns exec $NS_G iptables" out late
	write_periods $(( $(date +%s) + 3600 ))
	lab_reload_nuauth 5
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	MOVED_END=$(date +%s)
	hold_and_move held-alone 10 5 "ends in [0-9] s now" && lab_stop "$NUAUTH_PID"
	wait "$HOLD_PID"
	late=$(awk -v s="$(date +%s.%N)" -v e="$MOVED_END" 'BEGIN { printf "%.1f", s - e }')
	out=$(cat "$LAB_DIR/held-alone.log")
	if grep -q "stalled after" <<<"$out" && awk -v l="$late" 'BEGIN { exit !(l >= 0 && l <= 2.5) }' &&
	   grep -q "at the end of its time period" "$LAB_DIR/nufw.log"; then
		pass "with nuauth stopped, nufw ends the connection when its shortened period ends (${late} s after)"
	else
		fail "with nuauth stopped, nufw ends the connection when its shortened period ends" \
			"$out, ${late} s after the end" "$(tail -3 "$LAB_DIR/nufw.log")"
	fi
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
}

# --- duration=: alice's transfer to 5051 (period `a while') stalls
# DURATION s after it was accepted, though nuauth reloads halfway (which
# must not start the count again); her transfer to 5052 (no period) keeps
# going past it.
test_duration() {
	local ipt="ip netns exec $NS_G iptables" hpid fpid out free late accepted
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	lab_start_as held-free "$NS_C" $ALICE_UID "$NUPROBE" hold 10.202.0.2 5052 $((DURATION + 4))
	fpid=$LAB_PID
	lab_start_as held-while "$NS_C" $ALICE_UID "$NUPROBE" hold 10.202.0.2 5051 $((DURATION + 4))
	hpid=$LAB_PID
	if ! lab_wait_log held-while "connected" 5 || ! lab_wait_log held-free "connected" 5; then
		fail "alice connects to 5051 (period \`a while') and 5052 (no period)" \
			"$(cat "$LAB_DIR/held-while.log" "$LAB_DIR/held-free.log")" \
			"$(tail -5 "$LAB_DIR/nuauth.log")"
		lab_stop "$hpid"; lab_stop "$fpid"
		$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
		return
	fi
	accepted=$(date +%s.%N)
	pass "alice connects to 5051 (period \`a while') and 5052 (no period)"
	check_log "nuauth accepts it by the ACL with period \`a while'" nuauth \
		":5051 accepted (acl stream for a while)" 5
	sleep $((DURATION / 2))	# halfway: no event to wait for
	lab_reload_nuauth 5
	wait "$hpid"
	late=$(awk -v s="$(date +%s.%N)" -v a="$accepted" -v d="$DURATION" \
		'BEGIN { printf "%.1f", s - a - d }')
	out=$(cat "$LAB_DIR/held-while.log")
	if grep -q "stalled after" <<<"$out" && awk -v l="$late" 'BEGIN { exit !(l >= -1 && l <= 2.5) }'; then
		pass "the transfer under duration=$DURATION stalls $DURATION s after it was accepted, a reload halfway notwithstanding (${late} s late)"
	else
		fail "the transfer under duration=$DURATION stalls $DURATION s after it was accepted" \
			"${late} s late" "$out" "$(grep "a while\|5051" "$LAB_DIR/nuauth.log" | tail -5)"
	fi
	check_log "nuauth logs that the period's end closes the connection" nuauth \
		"the period of acl stream for a while ended: closing the connection" 0
	wait "$fpid"
	free=$(cat "$LAB_DIR/held-free.log")
	if grep -q "^held [0-9]* bytes" <<<"$free"; then
		pass "meanwhile the transfer under no period keeps going ($(grep -o '^held [0-9]* bytes' <<<"$free"))"
	else
		fail "meanwhile the transfer under no period keeps going" "$free"
	fi
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	check "a new connection under duration= is accepted again" \
		matches "$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" hold 10.202.0.2 5051 1)" "^held"
}

lab_netns
lab_pki
periods_conf
lab_tests test_config_errors
lab_rules
lab_start_server
lab_start stream "$NS_S" "$NUPROBE" stream 5050
lab_wait_log stream "ready"
lab_start stream-while "$NS_S" "$NUPROBE" stream 5051
lab_wait_log stream-while "ready"
lab_start stream-free "$NS_S" "$NUPROBE" stream 5052
lab_wait_log stream-free "ready"
WINDOW_END=$(( $(date +%s) + WINDOW ))
write_periods "$WINDOW_END"
lab_start_nuauth || { fail "nuauth starts"; lab_finish; exit 1; }
lab_start_nufw || { fail "nufw connects to nuauth"; lab_finish; exit 1; }
if lab_login alice-client $ALICE_UID alice alicepw; then
	lab_tests \
		test_window \
		test_reload_ends_period \
		test_reload_lengthens_period \
		test_duration \
		test_period_end_without_nuauth
else
	fail "alice logs in"
fi

lab_finish
