#!/bin/bash
# nuauth's control socket and the nuauthctl commands that use it, in the
# namespace lab (run as root):
#   tests/e2e/control.sh BUILD_DIR [TEST...]
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

# json_check JSON PYTHON_EXPRESSION: true when the expression, on the
# parsed reply d, is true.
json_check() {
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}

# json_says JSON EXPR: json_check, printing JSON when EXPR is false (for check).
json_says() { json_check "$1" "$2" || { echo "$1"; return 1; }; }

json_field() {	# json_field JSON KEY: prints d[KEY]
	python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

# raw_request TEXT: sends TEXT as it is and prints what nuauth answers.
raw_request() {
	python3 - "$LAB_DIR/control" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
        if out.count(b"\n") >= 2:
            break
except socket.timeout:
    pass
sys.stdout.write(out.decode(errors="replace"))
PY
}

test_users() {
	local out
	out=$(ctl users --json)
	check "users --json lists alice (1001) and bob (1002) with address, OS and client" \
		json_says "$out" 'd["ok"] and sorted((u["user"], u["uid"]) for u in d["users"]) == [("alice", 1001), ("bob", 1002)] and all(u["address"] == "10.201.0.2" and u["client"] and u["os"] for u in d["users"])'
	out=$(ctl users)
	if grep -q '^USER' <<<"$out" && grep -q '^alice .* 1001 ' <<<"$out" &&
	   grep -q '^bob .* 1002 .*100,200' <<<"$out"; then
		pass "users prints a table"
	else
		fail "users prints a table" "$out"
	fi
}

test_firewalls() {
	local out
	out=$(ctl firewalls --json)
	check "firewalls lists the gateway with CN nufw-gateway" \
		json_says "$out" 'd["ok"] and len(d["firewalls"]) == 1 and d["firewalls"][0]["cn"] == "nufw-gateway" and d["firewalls"][0]["address"] == "127.0.0.1"'
}

# A packet no user claims: nuauth answers drop once nuauth_packet_timeout
# (2 s) has passed, before nufw's own -t (5 s) would decide, and counts it
# in stats' timeouts.  The connect fails.
test_unclaimed_packet() {
	local before after start ms n cpid
	local line="tcp 10.201.0.2:[0-9]* -> 10.202.0.2:80: no user claimed it in 2 s"
	local name="nuauth answers drop for a packet no user claims after nuauth_packet_timeout"
	before=$(ctl stats --json)
	n=$(grep -c "$line" "$LAB_DIR/nuauth.log")
	start=$(date +%s%N)
	lab_connect $NOBODY_UID 80 2500 > "$LAB_DIR/unclaimed.out" 2>&1 &
	cpid=$!
	lab_wait_log nuauth "$line" 5 $((n + 1)) && ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if wait $cpid; then
		fail "$name" "the connect succeeded: $(cat "$LAB_DIR/unclaimed.out")"
		return
	fi
	after=$(ctl stats --json)
	if [ "${ms:-0}" -ge 2000 ] && [ "$ms" -lt 5000 ] &&
	   json_check "$after" "d['timeouts'] > $(json_field "$before" timeouts) and d['dropped'] > $(json_field "$before" dropped)"; then
		pass "$name (after $ms ms, before nufw's -t)"
	else
		fail "$name" "answered after ${ms:-(no log line)} ms" "$before" "$after"
	fi
	# The connect's retransmitted SYN waits in nuauth for its own 2 s:
	# the later tests count pending packets from zero.
	local deadline=$((SECONDS + 5))
	until json_check "$(ctl stats --json)" "d['pending'] == 0"; do
		if [ $SECONDS -ge $deadline ]; then
			fail "nuauth has no packet pending 5 s after the unclaimed connect" \
				"$(ctl stats --json)"
			break
		fi
		sleep 0.1
	done
}

test_connections_and_stats() {
	local out port before after
	before=$(ctl stats --json)
	if ! out=$(lab_connect $ALICE_UID 80); then
		fail "alice reaches the server" "$out"
		return
	fi
	port=${out##*:}
	out=$(ctl connections --json)
	check "connections shows alice's flow (bytes: only when it ends)" \
		json_says "$out" "d['ok'] and any(c['user'] == 'alice' and c['src'] == '10.201.0.2' and c['sport'] == $port and c['dst'] == '10.202.0.2' and c['dport'] == 80 for c in d['connections']) and 'byte counts' in d['note']"
	out=$(ctl connections)
	check "connections prints a table" \
		matches "$out" "^alice .*10.201.0.2:$port -> 10.202.0.2:80"
	after=$(ctl stats --json)
	if json_check "$before" 'd["ok"]' &&
	   json_check "$after" "d['accepted'] == $(json_field "$before" accepted) + 1 and d['logins_ok'] >= 2 and d['decisions_per_second'] > 0 and d['pending'] == 0 and d['sessions'] == 2 and d['firewalls'] == 1"; then
		pass "stats counts that accept, the logins and the rate"
	else
		fail "stats counts that accept, the logins and the rate" "$before" "$after"
	fi
	out=$(ctl firewalls --json)
	check "firewalls counts the gateway's decisions" \
		json_says "$out" 'd["firewalls"][0]["decisions"] >= 1'
	out=$(ctl stats)
	check "stats prints a table" matches "$out" '^decisions accepted'
	# Once nufw -C reports its end (conntrack -D, as the garbage collector
	# would a minute later), the connection is listed as ended, with its
	# bytes both ways.
	ip netns exec "$NS_G" conntrack -D -p tcp --orig-port-src "$port" --orig-port-dst 80 \
		>/dev/null 2>&1
	lab_wait_log nuauth "user alice: tcp 10.201.0.2:$port -> 10.202.0.2:80 ended" 10
	out=$(ctl connections --json)
	check "connections shows alice's ended connection with its bytes both ways" \
		json_says "$out" "any(c['user'] == 'alice' and c['sport'] == $port and c['bytes_out'] > 0 and c['bytes_in'] > 0 and c['packets_out'] >= 3 and c['ended'] >= c['since'] for c in d['ended']) and not any(c['sport'] == $port for c in d['connections'])"
	out=$(ctl connections)
	if grep -A3 "^recently ended" <<<"$out" | grep -qE "^alice .* [0-9]+ +[0-9]+ tcp 10.201.0.2:$port -> 10.202.0.2:80"; then
		pass "connections prints the ended ones with their bytes"
	else
		fail "connections prints the ended ones with their bytes" "$out"
	fi
}

test_top() {
	local out
	out=$(ctl top -n 1)
	if [ $? = 0 ] && [ "$(grep -cE '^(alice|bob) ' <<<"$out")" = 2 ] && grep -q '^nuauth: 2 sessions' <<<"$out"; then
		pass "top -n 1 prints a line per user"
	else
		fail "top -n 1 prints a line per user" "$out"
	fi
	out=$(ctl top -n 2 --json)
	if [ "$(wc -l <<<"$out")" = 6 ]; then
		pass "top -n 2 --json prints nuauth's replies for two refreshes"
	else
		fail "top -n 2 --json prints nuauth's replies for two refreshes" "$out"
	fi
}

test_reload() {
	local out
	if out=$(ctl reload --json) && json_check "$out" 'd == {"ok": True}' &&
	   lab_wait_log nuauth "reload (nuauthctl): configuration, users and ACLs reloaded" 5; then
		pass "reload answers ok and nuauth reloads"
	else
		fail "reload answers ok and nuauth reloads" "$out"
	fi
	cp "$LAB_DIR/acls.nufw" "$LAB_DIR/acls.good"
	echo 'DstPrt=1' >> "$LAB_DIR/acls.nufw"
	out=$(ctl reload 2>&1)
	if [ $? = 1 ] && grep -q "DstPrt.*running configuration stays" <<<"$out"; then
		pass "reload reports a broken ACL file and keeps the running set"
	else
		fail "reload reports a broken ACL file and keeps the running set" "$out"
	fi
	cp "$LAB_DIR/acls.good" "$LAB_DIR/acls.nufw"
	# The unit's ExecReload is that command: systemctl reload fails with it.
	local unit=$BUILD/conf/systemd/nuauth.service
	if grep -qx 'ExecReload=/[^ ]*/nuauthctl reload' "$unit" && ! grep -q 'kill -HUP' "$unit"; then
		pass "nuauth.service: ExecReload=nuauthctl reload (not kill -HUP)"
	else
		fail "nuauth.service: ExecReload=nuauthctl reload (not kill -HUP)" \
			"$(grep -n ExecReload "$unit")"
	fi
	if command -v systemd-analyze >/dev/null; then
		# The paths in the unit are the install's; only its syntax counts.
		out=$(systemd-analyze verify "$unit" 2>&1 | grep -i "unknown\|invalid\|failed to parse")
		if [ -z "$out" ]; then
			pass "systemd-analyze verify finds no error in nuauth.service's keys"
		else
			fail "systemd-analyze verify finds no error in nuauth.service's keys" "$out"
		fi
	fi
}

test_refused_users() {
	local out
	out=$(setpriv --reuid=$NOBODY_UID --regid=$NOBODY_UID --clear-groups -- \
		"$CTL" users -s "$LAB_DIR/control" 2>&1)
	if [ $? = 1 ] && grep -q "permission denied" <<<"$out"; then
		pass "a non-root user cannot open the control socket (mode 0600)"
	else
		fail "a non-root user cannot open the control socket (mode 0600)" "$out"
	fi
	# Past the file mode, SO_PEERCRED still refuses it.
	chmod 666 "$LAB_DIR/control"
	out=$(setpriv --reuid=$NOBODY_UID --regid=$NOBODY_UID --clear-groups -- \
		"$CTL" users -s "$LAB_DIR/control" 2>&1)
	if [ $? = 1 ] && grep -q "permission denied: uid $NOBODY_UID may not use" <<<"$out" &&
	   grep -q "control: uid $NOBODY_UID .* refused" "$LAB_DIR/nuauth.log"; then
		pass "nuauth refuses a non-root peer (SO_PEERCRED) with a clear error"
	else
		fail "nuauth refuses a non-root peer (SO_PEERCRED) with a clear error" "$out"
	fi
	chmod 600 "$LAB_DIR/control"
}

test_bad_requests() {
	local out long
	out=$(raw_request $'NUCTL 1\nfrobnicate\n')
	check "an unknown command gets an error" \
		matches "$out" '"ok":false,"error":"unknown command `frobnicate'
	out=$(raw_request $'NUCTL 2\nusers\n')
	check "a wrong protocol version gets an error" matches "$out" 'unsupported protocol'
	out=$(raw_request $'NUCTL 1\nusers extra\n')
	check "a malformed request gets an error" matches "$out" 'takes no argument'
	long=$(head -c 5000 /dev/zero | tr '\0' x)
	out=$(raw_request $'NUCTL 1\n'"$long"$'\n')
	if grep -q 'request longer than 4096 bytes' <<<"$out"; then
		pass "an oversized request gets an error"
	else
		fail "an oversized request gets an error" "${out:0:200}"
	fi
	if kill -0 "$NUAUTH_PID" 2>/dev/null && out=$(ctl stats --json) && json_check "$out" 'd["ok"]'; then
		pass "nuauth keeps running and answering after bad requests"
	else
		fail "nuauth keeps running and answering after bad requests" "$out"
	fi
}

test_disconnect() {
	local out
	out=$(ctl disconnect nosuchuser 2>&1)
	if [ $? = 1 ] && grep -q "user \`nosuchuser' has no session" <<<"$out"; then
		pass "disconnect of a user with no session is an error"
	else
		fail "disconnect of a user with no session is an error" "$out"
	fi
	# The client logs in again by itself: hold it still while we look.
	kill -STOP "$ALICE_CLIENT_PID"
	out=$(ctl disconnect alice --json)
	if json_check "$out" 'd["ok"] and d["user"] == "alice" and d["sessions"] == 1' &&
	   lab_wait_log nuauth "user alice disconnected from 10.201.0.2 (disconnected by the administrator)" 5; then
		pass "disconnect alice closes her session"
	else
		fail "disconnect alice closes her session" "$out"
	fi
	out=$(ctl users --json)
	check "after disconnect, users lists only bob" \
		json_says "$out" '[u["user"] for u in d["users"]] == ["bob"]'
	check_not "after disconnect, alice's next connection fails" lab_connect $ALICE_UID 80 3500
	check "after alice's disconnect, bob's connection works" lab_connect $BOB_UID 80
	kill -CONT "$ALICE_CLIENT_PID"
	if lab_wait_log alice-client "logged in again" 10 && out=$(lab_connect $ALICE_UID 80); then
		pass "alice's client logs in again by itself and she gets through"
	else
		fail "alice's client logs in again by itself and she gets through" "$out"
	fi
}

test_no_nuauth() {
	local out
	out=$("$CTL" stats -s "$LAB_DIR/no-such-socket" 2>&1)
	if [ $? = 1 ] && grep -qF "is nuauth running? ($LAB_DIR/no-such-socket)" <<<"$out"; then
		pass "a missing socket: \"is nuauth running?\" with its path"
	else
		fail "a missing socket: \"is nuauth running?\" with its path" "$out"
	fi
}

# --json and -s before the command as after it.
test_json_first() {
	local out
	out=$("$CTL" --json users -s "$LAB_DIR/control")
	check "nuauthctl --json users prints the JSON reply" \
		json_says "$out" 'd["ok"] and sorted(u["user"] for u in d["users"]) == ["alice", "bob"]'
	out=$("$CTL" --json -s "$LAB_DIR/control" users)
	check "nuauthctl --json -s PATH users: both options before the command" \
		json_says "$out" 'd["ok"] and len(d["users"]) == 2'
	out=$("$CTL" users --json -s "$LAB_DIR/control")
	check "nuauthctl users --json (after the command) still works" \
		json_says "$out" 'd["ok"] and len(d["users"]) == 2'
	out=$("$CTL" --json 2>&1)
	if [ $? = 2 ] && grep -q "unknown command .--json'" <<<"$out"; then
		pass "nuauthctl --json alone is a usage error"
	else
		fail "nuauthctl --json alone is a usage error" "$out"
	fi
}

# A second nuauth started by hand (in the server's namespace, other ports)
# whose control socket's directory does not exist: nuauth makes it as
# systemd's RuntimeDirectory= would (mode 0750, owned by nuauth_run_as) and
# nuauthctl reaches it.
test_runtime_dir() {
	local run=$LAB_DIR/run-nuauth out pid mode owner
	sed -e '/^nuauth_control_socket=/d' "$LAB_DIR/nuauth.conf" > "$LAB_DIR/byhand.conf"
	cat >> "$LAB_DIR/byhand.conf" <<CONF
nuauth_control_socket="$run/control"
nuauth_gw_packet_port=5128
nuauth_user_packet_port=5129
nuauth_run_as="nobody"
CONF
	lab_start byhand "$NS_S" "$NUAUTH" -c "$LAB_DIR/byhand.conf" -v
	pid=$LAB_PID
	if ! lab_wait_log byhand "ready"; then
		fail "nuauth started by hand makes its missing runtime directory"
		lab_stop "$pid"
		return
	fi
	mode=$(stat -c '%a %U' "$run" 2>/dev/null)
	if [ "$mode" = "750 nobody" ] && grep -q "made the runtime directory $run (mode 0750, owner nobody)" "$LAB_DIR/byhand.log"; then
		pass "nuauth started by hand makes its missing runtime directory (0750, owner nuauth_run_as)"
	else
		fail "nuauth started by hand makes its missing runtime directory (0750, owner nuauth_run_as)" \
			"${mode:-no directory}" "$(cat "$LAB_DIR/byhand.log")"
	fi
	out=$("$CTL" --json users -s "$run/control" 2>&1)
	check "nuauthctl users works against the nuauth started by hand" \
		json_says "$out" 'd["ok"] and d["users"] == []'
	out=$("$CTL" users -s "$run/control" 2>&1)
	check "nuauthctl users (a table) works against it too" matches "$out" '^USER'
	lab_stop "$pid"
}

test_socket_mode() {
	local mode
	mode=$(stat -c %a "$LAB_DIR/control" 2>/dev/null)
	if [ "$mode" = 600 ] && [ -S "$LAB_DIR/control" ]; then
		pass "the control socket has mode 0600"
	else
		fail "the control socket has mode 0600" "mode ${mode:-none}"
	fi
}

lab_netns
lab_pki
lab_nuauth_conf
echo "nuauth_control_socket=\"$LAB_DIR/control\"" >> "$LAB_DIR/nuauth.conf"
lab_rules
lab_start_server
lab_start_gateway

lab_tests test_no_nuauth test_socket_mode test_unclaimed_packet
if lab_login alice-client $ALICE_UID alice alicepw && ALICE_CLIENT_PID=$LAB_PID &&
   lab_login bob-client $BOB_UID bob bobpw; then
	pass "alice and bob log in"
	lab_tests \
		test_users \
		test_json_first \
		test_runtime_dir \
		test_firewalls \
		test_connections_and_stats \
		test_top \
		test_reload \
		test_refused_users \
		test_bad_requests \
		test_disconnect
else
	fail "alice and bob log in"
fi

lab_finish
