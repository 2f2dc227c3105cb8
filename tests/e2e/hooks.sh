#!/bin/bash
# The session and decision hooks end to end in the namespace lab (run as
# root):   tests/e2e/hooks.sh BUILD_DIR [TEST...]
# nuauth runs log_syslog and script as session hooks, log_syslog for
# decisions, and session_expire with nuauth_session_duration=3.  Checks that
# the up and down scripts run with the user and address, that log_syslog
# writes a line for a login, a logout and decisions, and that a session
# ends after 3 s: nuauth logs it, nutcpc says why and logs in again.
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

DURATION=3

hooks_conf() {
	lab_nuauth_conf
	for dir in up down; do
		cat > "$LAB_DIR/$dir.sh" <<SCRIPT
#!/bin/sh
# written by hooks.sh: one line per run
echo "$dir \$1 \$2" >> "$LAB_DIR/script.out"
SCRIPT
		chmod 755 "$LAB_DIR/$dir.sh"
	done
	cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_user_session_logs_module="log_syslog script"
nuauth_user_logs_module="log_syslog"
nuauth_log_users=15
nuauth_session_duration=$DURATION
script_up="$LAB_DIR/up.sh"
script_down="$LAB_DIR/down.sh"
CONF
}

test_hooks() {
	local out login_at expired_at took

	login_at=$(date +%s.%N)
	if lab_wait_file "$LAB_DIR/script.out" "^up alice 10.201.0.2$" 5; then
		pass "script_up runs at login with the user and address"
	else
		fail "script_up runs at login with the user and address" \
			"$(cat "$LAB_DIR/script.out" 2>/dev/null)" "$(tail -5 "$LAB_DIR/nuauth.log")"
	fi
	check_log "log_syslog logs the login" nuauth \
		"userlog: user alice logged in from 10.201.0.2 (uid 1001, groups 100)" 0

	check "alice connects to port 80" lab_connect $ALICE_UID 80 1500
	check_log "log_syslog logs an accepted connection" nuauth \
		"userlog: alice: .*10.202.0.2.*80.* accepted by acl web for staff" 0
	check_not "alice's connection to port 7070 is refused" lab_connect $ALICE_UID 7070 1500
	check_log "log_syslog logs a refused connection" nuauth \
		"userlog: alice: .*7070.* rejected by acl port 7070 is refused at once" 0

	# The session ends DURATION seconds after the login.
	if lab_wait_log nuauth "session of user alice from 10.201.0.2 expired" $((DURATION + 4)); then
		expired_at=$(date +%s.%N)
		took=$(awk -v a="$login_at" -v b="$expired_at" 'BEGIN { printf "%.1f", b - a }')
		if awk -v t="$took" -v d=$DURATION 'BEGIN { exit !(t >= d - 0.5 && t <= d + 1.5) }'; then
			pass "nuauth ends the session after ${took} s (nuauth_session_duration=$DURATION)"
		else
			fail "nuauth ends the session after $DURATION s" "after ${took} s"
		fi
	else
		fail "nuauth ends the session after $DURATION s" "$(tail -8 "$LAB_DIR/nuauth.log")"
	fi
	check_log "nutcpc says that the session expired" alice-client "session expired" 3
	if lab_wait_file "$LAB_DIR/script.out" "^down alice 10.201.0.2$" 5; then
		pass "script_down runs at logout with the user and address"
	else
		fail "script_down runs at logout with the user and address" \
			"$(cat "$LAB_DIR/script.out" 2>/dev/null)"
	fi
	check_log "log_syslog logs the logout and its reason" nuauth \
		"userlog: user alice logged out from 10.201.0.2 after [0-9]* s: session expired" 0

	# nutcpc logs in again by itself: a new session, with its own hooks.
	if lab_wait_file "$LAB_DIR/script.out" "^up alice 10.201.0.2$" 5 2 &&
	   lab_wait_log nuauth "userlog: user alice logged in from 10.201.0.2" 5 2; then
		pass "nutcpc logs in again and a new session starts"
	else
		fail "nutcpc logs in again and a new session starts" \
			"$(cat "$LAB_DIR/script.out" 2>/dev/null)" "$(tail -8 "$LAB_DIR/alice-client.log")"
	fi
	check "in the new session alice connects again" lab_connect $ALICE_UID 80 1500
}

# A script that does not exist is logged once, and nuauth goes on.
test_missing_script() {
	local n
	n=$(grep -c "script: script_down .* is missing or not executable" "$LAB_DIR/nuauth.log")
	if [ "$n" -eq 1 ]; then
		pass "a missing script is logged once"
	else
		fail "a missing script is logged once" "logged $n times" "$(tail -8 "$LAB_DIR/nuauth.log")"
	fi
}

lab_netns
lab_pki
hooks_conf
lab_rules
lab_start_server
lab_start_nuauth || { fail "nuauth starts"; lab_finish; exit 1; }
lab_start_nufw || { fail "nufw connects to nuauth"; lab_finish; exit 1; }
if lab_login alice-client $ALICE_UID alice alicepw; then
	lab_tests test_hooks
	# From now on the down script is missing: two more sessions end (each
	# DURATION, then nutcpc's first reconnection delay, up to 1 s).
	rm -f "$LAB_DIR/down.sh"
	lab_wait_log nuauth "session of user alice from 10.201.0.2 expired" $((4 * DURATION)) 3
	lab_tests test_missing_script
	if kill -0 "$NUAUTH_PID" 2>/dev/null; then
		pass "nuauth is still running"
	else
		fail "nuauth is still running"
	fi
else
	fail "alice logs in"
fi

lab_finish
