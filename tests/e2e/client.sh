#!/bin/bash
# End-to-end tests of the client (nutcpc on libnuclient) in the namespace
# lab, IPv6 added (run as root):
#   tests/e2e/client.sh BUILD_DIR [TEST...]
# Prints one PASS/FAIL line per test and ends with "N passed, N failed".
#
#   client 10.201.0.2   fd00:201::2 --- gateway fd00:201::1 / fd00:202::1
#                                        --- server 10.202.0.2 fd00:202::2
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

# --- the client's ACLs (lab_ipv6_udp_acls, and those of programs)
client_lab_conf() {
	mkdir -p "$LAB_DIR/bin"
	cp "$NUPROBE" "$LAB_DIR/bin/allowed-probe"
	cp "$NUPROBE" "$LAB_DIR/bin/other-probe"
	chmod 755 "$LAB_DIR/bin" "$LAB_DIR/bin/"*
	lab_ipv6_udp_acls
	# No ACL reads the program at start: nuauth asks the clients for the
	# flow only.  test_app_hint adds these by reloading.
	cat > "$LAB_DIR/acls-app.nufw" <<ACLS

[one program only]
decision=1
gid=100
proto=6
DstPort=6060
App=$LAB_DIR/bin/allowed-*
ACLS
	cat > "$LAB_DIR/acls-sha.nufw" <<ACLS

[nuprobe by its hash]
decision=1
gid=100
proto=6
DstPort=6061
AppSHA256=$(sha256sum "$NUPROBE" | cut -d' ' -f1)

[another hash]
decision=1
gid=100
proto=6
DstPort=6062
AppSHA256=$(sha256sum "$NUTCPC" | cut -d' ' -f1)
ACLS
	echo 'nuauth_client_listen_addr="::"' >> "$LAB_DIR/nuauth.conf"
	local u
	for u in alice:$ALICE_UID bob:$BOB_UID carol:$CAROL_UID; do
		mkdir -p "$LAB_DIR/home-${u%%:*}"
		chown "${u##*:}:${u##*:}" "$LAB_DIR/home-${u%%:*}"
	done
}

# as UID HOME COMMAND...: COMMAND on the desktop as that uid, with that home.
as() {
	local uid=$1 home=$2; shift 2
	lab_as "$NS_C" "$uid" \
		env HOME="$home" "$@"
}

# client NAME UID USER PASSWORD [OPTION...]: a foreground client on both
# families.
client() {
	local name=$1 uid=$2 user=$3 pw=$4; shift 4
	lab_start_as "$name" "$NS_C" "$uid" env HOME="$LAB_DIR/home-$user" "$NUTCPC" \
		-H "10.201.0.1,$V6_GW" -U "$user" -P "$pw" -A "$LAB_DIR/pki/cacert.pem" -N -d -vv "$@"
}

# ct_mark FAMILY PROTO SPORT DPORT: the connection's mark at the gateway.
ct_mark() {
	ip netns exec "$NS_G" conntrack -L -f "$1" -p "$2" --sport "$3" --dport "$4" 2>/dev/null |
		grep -o 'mark=[0-9]*' | head -1 | cut -d= -f2
}

# check_family_mark NAME FAMILY PROTO DPORT WANT OUTPUT
check_family_mark() {
	local port=${6##*:} mark
	mark=$(ct_mark "$2" "$3" "$port" "$4")
	if [ "$mark" = "$5" ]; then
		pass "$1"
	else
		fail "$1" "$6" "mark=${mark:-none}"
	fi
}

# --- configuration files, lock, background, -c and -k
test_config_and_lock() {
	local home=$LAB_DIR/home-carol out status
	mkdir -p "$home/.nufw"
	cat > "$home/.nufw/nuclient.conf" <<CONF
# carol's client configuration
nuauth_ip="10.201.0.1"
nuauth_port=4129
nuauth_tls_ca="$LAB_DIR/pki/cacert.pem"
CONF
	chown -R $CAROL_UID:$CAROL_UID "$home/.nufw"
	out=$(as $CAROL_UID "$home" timeout 15 "$NUTCPC" -U alice -P alicepw 2>&1)
	status=$?
	if [ $status -eq 0 ] && grep -q "logged in" <<<"$out"; then
		pass "the client reads ~/.nufw/nuclient.conf and goes to the background"
	else
		fail "the client reads ~/.nufw/nuclient.conf and goes to the background" "status $status: $out"
	fi
	out=$(as $CAROL_UID "$home" "$NUTCPC" -c 2>&1)
	if [ $? -eq 0 ] && grep -q "running (pid [0-9]*): logged in" <<<"$out"; then
		pass "-c reports the running client and its state"
	else
		fail "-c reports the running client and its state" "$out"
	fi
	out=$(as $CAROL_UID "$home" timeout 15 "$NUTCPC" -U alice -P alicepw -d 2>&1)
	if [ $? -eq 1 ] && grep -q "already runs" <<<"$out"; then
		pass "a second client of the same user is refused (lock file)"
	else
		fail "a second client of the same user is refused (lock file)" "$out"
	fi
	out=$(as $CAROL_UID "$home" "$NUTCPC" -k 2>&1)
	if [ $? -eq 0 ] && grep -q "stopped the client" <<<"$out" &&
	   ! as $CAROL_UID "$home" "$NUTCPC" -c >/dev/null 2>&1; then
		pass "-k stops the running client, and -c then says none runs"
	else
		fail "-k stops the running client, and -c then says none runs" "$out"
	fi

	# a broken line: the error names file:line, and the client does not start
	echo 'nuauth_port=not-a-port' >> "$home/.nufw/nuclient.conf"
	out=$(as $CAROL_UID "$home" timeout 15 "$NUTCPC" -U alice -P alicepw -d 2>&1)
	status=$?
	if [ $status -eq 2 ] && grep -qF "$home/.nufw/nuclient.conf:5" <<<"$out"; then
		pass "a configuration error names file:line"
	else
		fail "a configuration error names file:line" "status $status: $out"
	fi
	sed -i '$d' "$home/.nufw/nuclient.conf"
	echo 'this line has no value' >> "$home/.nufw/nuclient.conf"
	out=$(as $CAROL_UID "$home" timeout 15 "$NUTCPC" -U alice -P alicepw -d 2>&1)
	if [ $? -eq 2 ] && grep -qF "$home/.nufw/nuclient.conf:5" <<<"$out"; then
		pass "a malformed configuration line names file:line"
	else
		fail "a malformed configuration line names file:line" "$out"
	fi
	# command-line options override the file
	sed -i '$d' "$home/.nufw/nuclient.conf"
	echo 'nuauth_ip="10.201.0.99"' >> "$home/.nufw/nuclient.conf"
	out=$(as $CAROL_UID "$home" timeout 15 "$NUTCPC" -H 10.201.0.1 -U alice -P alicepw 2>&1) &&
		as $CAROL_UID "$home" "$NUTCPC" -k >/dev/null 2>&1
	check "-H overrides nuauth_ip from the file" matches "$out" "logged in"
}

# --- where the password comes from: -P (above), NUTCPC_PASSWORD, the
# terminal.  carol's configuration names a nuauth that does not exist by
# now (-H overrides it).
test_password_sources() {
	local home=$LAB_DIR/home-carol out status stopped running
	local login=("$NUTCPC" -H 10.201.0.1 -U alice)
	out=$(as $CAROL_UID "$home" env NUTCPC_PASSWORD=alicepw timeout 15 "${login[@]}" </dev/null 2>&1)
	status=$?
	# Stopped whatever the checks say: later tests count sessions.
	stopped=$(as $CAROL_UID "$home" "$NUTCPC" -k 2>&1) && stopped=ok
	if [ $status -eq 0 ] && grep -q "logged in" <<<"$out" && [ "$stopped" = ok ]; then
		pass "NUTCPC_PASSWORD gives the password: the client logs in with no -P"
	else
		fail "NUTCPC_PASSWORD gives the password: the client logs in with no -P" "$out" \
			"nutcpc -k: $stopped"
	fi
	out=$(as $CAROL_UID "$home" timeout 15 "${login[@]}" </dev/null 2>&1)
	status=$?
	if [ $status -ne 0 ] && [ $status -ne 124 ] &&
	   grep -q "no password: give it with -P, NUTCPC_PASSWORD or on a terminal" <<<"$out"; then
		pass "with no password and no terminal the client says where one can come from"
	else
		fail "with no password and no terminal the client says where one can come from" \
			"status $status: $out"
	fi
	out=$(as $CAROL_UID "$home" timeout 20 python3 "$here/pty_prompt.py" \
		"Password for alice on 10.201.0.1: " alicepw "${login[@]}" 2>&1)
	status=$?
	running=$(as $CAROL_UID "$home" "$NUTCPC" -c 2>&1)
	stopped=$(as $CAROL_UID "$home" "$NUTCPC" -k 2>&1) && stopped=ok
	if [ $status -eq 0 ] && grep -qF "Password for alice on 10.201.0.1: " <<<"$out" &&
	   ! grep -q alicepw <<<"$out" && grep -q "logged in" <<<"$out" && [ "$stopped" = ok ]; then
		pass "on a terminal the client asks for the password, does not echo it, and logs in"
	else
		fail "on a terminal the client asks for the password, does not echo it, and logs in" \
			"status $status: $out" "nutcpc -c: $running" "nutcpc -k: $stopped"
	fi
}

# decision_line SPORT DPORT: nuauth's log line of the decision on alice's
# IPv4 TCP connection from SPORT.
decision_line() {
	grep -F "user alice: tcp 10.201.0.2:$1 -> 10.202.0.2:$2 " "$LAB_DIR/nuauth.log" | tail -1
}

# --- what the client announces: nuauth's NEEDS
test_no_app_hint() {
	local out line
	if grep -q "start: clients announce the flow only$" "$LAB_DIR/nuauth.log" &&
	   grep -q "user alice at 10.201.0.2: NEEDS flow only" "$LAB_DIR/nuauth.log"; then
		pass "no ACL reads the program: nuauth logs the hint 'flow only' at start and at login"
	else
		fail "no ACL reads the program: nuauth logs the hint 'flow only' at start and at login" \
			"$(grep -E "clients announce|NEEDS" "$LAB_DIR/nuauth.log")"
	fi
	check_log "the client hears it on both links" \
		alice "needs with each connection: nothing but the flow" 5 2
	if out=$(as $ALICE_UID / "$NUPROBE" connect 10.202.0.2 80 3000) &&
	   line=$(decision_line "${out##*:}" 80) && [ -n "$line" ] &&
	   grep -q "accepted" <<<"$line" && ! grep -q ", app " <<<"$line"; then
		pass "without the hint the connection passes and nuauth's decision shows no program"
	else
		fail "without the hint the connection passes and nuauth's decision shows no program" \
			"$out" "${line:-no decision line}"
	fi
}

test_app_hint() {
	local out line
	cat "$LAB_DIR/acls-app.nufw" >> "$LAB_DIR/acls.nufw"
	if lab_reload_nuauth &&
	   lab_wait_log nuauth "SIGHUP: clients announce the flow and program path (needed by plaintext); logged-in clients told" 5 &&
	   lab_wait_log nuauth "user alice at 10.201.0.2: NEEDS flow and program path" 5 &&
	   lab_wait_log alice "needs with each connection: the program$" 5 2; then
		pass "a reload adding an App= ACL makes nuauth ask the logged-in clients for the program"
	else
		fail "a reload adding an App= ACL makes nuauth ask the logged-in clients for the program"
	fi
	if out=$(as $ALICE_UID / "$NUPROBE" connect 10.202.0.2 80 3000) &&
	   line=$(decision_line "${out##*:}" 80) &&
	   grep -qF "accepted (acl web for staff), mark 0x3e9, app $NUPROBE" <<<"$line"; then
		pass "the client now sends the program: nuauth's decision shows it"
	else
		fail "the client now sends the program: nuauth's decision shows it" "$out" "${line:-}"
	fi
}

test_sha256_acl() {
	local out line sum
	sum=$(sha256sum "$NUPROBE" | cut -d' ' -f1)
	cat "$LAB_DIR/acls-sha.nufw" >> "$LAB_DIR/acls.nufw"
	if lab_reload_nuauth &&
	   lab_wait_log nuauth "SIGHUP: clients announce the flow, program path and SHA-256 (needed by plaintext); logged-in clients told" 5 &&
	   lab_wait_log alice "needs with each connection: the program and its SHA-256" 5 2; then
		pass "a reload adding an AppSHA256= ACL makes nuauth ask for the program's SHA-256"
	else
		fail "a reload adding an AppSHA256= ACL makes nuauth ask for the program's SHA-256"
	fi
	if out=$(as $ALICE_UID / "$NUPROBE" connect 10.202.0.2 6061 3000) &&
	   line=$(decision_line "${out##*:}" 6061) &&
	   grep -qF "accepted (acl nuprobe by its hash), mark 0x3e9, app $NUPROBE, sha256 $sum" <<<"$line"; then
		pass "AppSHA256= with the sha256sum of the program accepts it (nuauth logs the hash)"
	else
		fail "AppSHA256= with the sha256sum of the program accepts it (nuauth logs the hash)" \
			"$out" "${line:-}"
	fi
	check_not "AppSHA256= with another program's hash refuses it" \
		as $ALICE_UID / "$NUPROBE" connect 10.202.0.2 6062 2500
	# A copy under another name has the same hash; the App= ACL on 6060
	# still tells the names apart.
	check "a copy of the program under another path has the same hash and is accepted" \
		as $ALICE_UID / "$LAB_DIR/bin/other-probe" connect 10.202.0.2 6061 3000
}

# --- connections
test_ipv4_udp() {
	local out
	if out=$(as $ALICE_UID / "$NUPROBE" udp 10.202.0.2 5353 3000); then
		check_family_mark "alice's UDP over IPv4 is accepted with her mark" ipv4 udp 5353 1001 "$out"
	else
		fail "alice's UDP over IPv4 is accepted with her mark" "$out"
	fi
}

test_ipv6() {
	local out
	if out=$(as $ALICE_UID / "$NUPROBE" connect6 $V6_S 80 3000); then
		check_family_mark "alice's TCP over IPv6 is accepted with her mark" ipv6 tcp 80 1001 "$out"
	else
		fail "alice's TCP over IPv6 is accepted with her mark" "$out"
	fi
	if out=$(as $ALICE_UID / "$NUPROBE" udp $V6_S 5353 3000); then
		check_family_mark "alice's UDP over IPv6 is accepted with her mark" ipv6 udp 5353 1001 "$out"
	else
		fail "alice's UDP over IPv6 is accepted with her mark" "$out"
	fi
	if out=$(as $BOB_UID / "$NUPROBE" connect6 $V6_S 80 3000); then
		check_family_mark "bob on the same desktop gets his own mark over IPv6" ipv6 tcp 80 1002 "$out"
	else
		fail "bob on the same desktop gets his own mark over IPv6" "$out"
	fi
	if out=$(as $BOB_UID / "$NUPROBE" udp 10.202.0.2 5353 3000); then
		check_family_mark "bob on the same desktop gets his own mark over UDP" ipv4 udp 5353 1002 "$out"
	else
		fail "bob on the same desktop gets his own mark over UDP" "$out"
	fi
}

test_app_acl() {
	local out
	check "App ACL: the program it names reaches the destination" \
		as $ALICE_UID / "$LAB_DIR/bin/allowed-probe" connect 10.202.0.2 6060 3000
	check_not "App ACL: another program is refused the same destination" \
		as $ALICE_UID / "$LAB_DIR/bin/other-probe" connect 10.202.0.2 6060 2500
	check_log "the client shows which program, destination and rule a refusal concerns" \
		alice "$LAB_DIR/bin/other-probe to 10.202.0.2 port 6060 (tcp) dropped by nuauth: no acl allows it" 5
}

test_quiet() {
	as $BOB_UID / "$NUPROBE" connect 10.202.0.2 9090 2500 >/dev/null 2>&1
	as $ALICE_UID / "$NUPROBE" connect 10.202.0.2 9090 2500 >/dev/null 2>&1
	if lab_wait_log alice "port 9090 (tcp) dropped by nuauth" 5 &&
	   ! grep -q "dropped by nuauth" "$LAB_DIR/bob.log"; then
		pass "-q silences the refusal notice"
	else
		fail "-q silences the refusal notice"
	fi
}

test_push_latency() {
	local out
	out=$(as $ALICE_UID / "$NUPROBE" connects 10.202.0.2 80 20)
	local worst
	worst=$(sort -n <<<"$out" | tail -1)
	if [ -n "$worst" ] && [ "$worst" -lt 100000 ]; then
		pass "pushed connections are announced at once (worst of 20 connects: ${worst} us)"
	else
		fail "pushed connections are announced at once" "worst ${worst:-none} us"
	fi
}

test_sighup() {
	local n
	n=$(grep -c "logged in again" "$LAB_DIR/alice.log")
	kill -HUP "$ALICE_PID"
	if lab_wait_log alice "logged in again" 10 $((n + 2)) &&
	   as $ALICE_UID / "$NUPROBE" connect6 $V6_S 80 3000 >/dev/null; then
		pass "SIGHUP reconnects both links at once, and connections pass"
	else
		fail "SIGHUP reconnects both links at once, and connections pass"
	fi
}

test_nuauth_restart() {
	local out n
	n=$(grep -c "logged in again" "$LAB_DIR/alice.log")
	lab_stop "$NUAUTH_PID"
	mv "$LAB_DIR/nuauth.log" "$LAB_DIR/nuauth-first.log"
	lab_start_nuauth
	if lab_wait_log alice "logged in again" 20 $((n + 2)) &&
	   out=$(as $ALICE_UID / "$NUPROBE" connect 10.202.0.2 80 3000) &&
	   out=$(as $ALICE_UID / "$NUPROBE" connect6 $V6_S 80 3000); then
		pass "the client reconnects after nuauth restarts and the next connections pass"
	else
		fail "the client reconnects after nuauth restarts and the next connections pass" "${out:-}"
	fi
}

lab_netns
lab_ipv6
lab_pki
lab_nuauth_conf
client_lab_conf
lab_rules
lab_ipv6_udp_rules
lab_start server "$NS_S" "$NUPROBE" serve6 80 6060 6061 6062 9090
lab_wait_log server "ready"
lab_start userver "$NS_S" "$NUPROBE" userve 5353
lab_wait_log userver "ready"
lab_start_gateway

lab_tests test_config_and_lock test_password_sources
if client alice $ALICE_UID alice alicepw && ALICE_PID=$LAB_PID &&
   lab_wait_log alice "logged in: .*(IPv4) up, .*(IPv6) up" &&
   client bob $BOB_UID bob bobpw -q && lab_wait_log bob "logged in"; then
	pass "alice and bob log in over IPv4 and IPv6 (one link each)"
	lab_tests \
		test_no_app_hint \
		test_ipv4_udp \
		test_ipv6 \
		test_app_hint \
		test_app_acl \
		test_sha256_acl \
		test_quiet \
		test_push_latency \
		test_sighup \
		test_nuauth_restart
else
	fail "alice and bob log in over IPv4 and IPv6 (one link each)"
fi

lab_finish
