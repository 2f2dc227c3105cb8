#!/bin/bash
# End-to-end tests in the namespace lab (run as root):
#   tests/e2e/run.sh BUILD_DIR [TEST...]
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
# The tests are the test_* functions, run in the order of the lists at the
# bottom; with TEST names, only those run (after the lab's set-up).
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

test_least_privilege_start() {
	local out
	chmod 644 "$LAB_DIR/users.nufw"
	out=$(timeout 10 "$NUAUTH" -c "$LAB_DIR/nuauth.conf" 2>&1)
	check "nuauth refuses a users file others can read" \
		status_says $? 1 "users.nufw: holds secrets but other users can read it" "$out"
	chmod 600 "$LAB_DIR/users.nufw"

	# nuauth_run_as: the ports are bound and the files read as root, then
	# nuauth goes on as that user.
	local pid uid
	cp "$LAB_DIR/nuauth.conf" "$LAB_DIR/run-as.conf"
	echo 'nuauth_run_as="nobody"' >> "$LAB_DIR/run-as.conf"
	lab_start nuauth-run-as "$NS_G" "$NUAUTH" -c "$LAB_DIR/run-as.conf" -v
	pid=$LAB_PID
	if lab_wait_log nuauth-run-as "ready" 10; then
		uid=$(awk '/^Uid:/ { print $2 "/" $3 "/" $4 }' "/proc/$pid/status")
	fi
	check "nuauth_run_as: nuauth serves as an unprivileged user" \
		same "${uid:-none}" "$(id -u nobody)/$(id -u nobody)/$(id -u nobody)"
	lab_stop "$pid"
}

# --- configuration errors: nuauth stops at start and names file (and line)
test_config_errors() {
	conf_line_error "malformed value stops nuauth with file:line" 'nuauth_packet_timeout=soon'
	conf_line_error "malformed line stops nuauth with file:line" 'this line has no equals sign'
	sed "s|nuauth-cert.pem|missing-cert.pem|" "$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad.conf"
	conf_error_case "missing certificate stops nuauth naming it" "missing-cert.pem"
	sed "s|users.nufw|no-such-users.nufw|" "$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad.conf"
	conf_error_case "missing users file stops nuauth naming it" "no-such-users.nufw"
	sed "s|nuauth-key.pem|missing-key.pem|" "$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad.conf"
	conf_error_case "missing key file stops nuauth naming it" "missing-key.pem"
	sed "s|cacert.pem|missing-ca.pem|" "$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad.conf"
	conf_error_case "missing CA file stops nuauth naming it" "missing-ca.pem"
	# Broken ACL and users files at start (the reload's case is in test_reload).
	local bad=$(( $(wc -l < "$LAB_DIR/acls.nufw") + 4 ))	# the DstPrt line
	printf '\n[typo]\ngid=100\nDstPrt=9090\n' | cat "$LAB_DIR/acls.nufw" - > "$LAB_DIR/bad-acls.nufw"
	sed "s|acls.nufw|bad-acls.nufw|" "$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad.conf"
	conf_error_case "malformed ACL file stops nuauth with file:line" "$LAB_DIR/bad-acls.nufw:$bad:"
	bad=$(( $(wc -l < "$LAB_DIR/users.nufw") + 1 ))
	{ cat "$LAB_DIR/users.nufw"; echo 'carol:carolpw'; } > "$LAB_DIR/bad-users.nufw"
	chmod 600 "$LAB_DIR/bad-users.nufw"
	sed "s|users.nufw|bad-users.nufw|" "$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad.conf"
	conf_error_case "malformed users file stops nuauth with file:line" "$LAB_DIR/bad-users.nufw:$bad:"
	{ cat "$LAB_DIR/nuauth.conf"; echo 'nuauth_no_such_key=1'; } > "$LAB_DIR/bad.conf"
	# An unknown key is only a warning: nuauth goes on (the port is free,
	# the lab's nuauth is not running yet).
	local out next=$(( $(wc -l < "$LAB_DIR/nuauth.conf") + 1 ))
	out=$(ip netns exec "$NS_G" timeout 2 "$NUAUTH" -c "$LAB_DIR/bad.conf" 2>&1)
	check "unknown key is a warning with file:line" \
		status_says $? 124 "$LAB_DIR/bad.conf:$next: unknown key \`nuauth_no_such_key'" "$out"
}

# --- the path of a logged-in user's connection
test_password_hidden() {
	local args
	args=$(ps -o args= -p "$ALICE_CLIENT_PID")
	if [ -n "$args" ] && ! grep -q alicepw <<<"$args"; then
		pass "the password given with -P does not show in ps"
	else
		fail "the password given with -P does not show in ps" "ps: $args"
	fi
}

test_user_connection() {
	local out port
	if out=$(lab_connect $ALICE_UID 80); then
		pass "alice reaches the server on a port an ACL allows"
	else
		fail "alice reaches the server on a port an ACL allows" "$out"
		return
	fi
	port=${out##*:}
	check "alice's connection carries mark 1001 in the gateway's conntrack" \
		same "$(lab_ct_mark "$port" 80)" 1001
}

test_two_users() {
	check_mark "bob on the same desktop gets his own mark (1002)" $BOB_UID 80 1002
	check "bob's group reaches port 8080" lab_connect $BOB_UID 8080
	check_not "alice is refused port 8080 (only bob's group may)" \
		lab_connect $ALICE_UID 8080 2500
}

test_refusals() {
	check_not "a port no ACL allows is refused" lab_connect $ALICE_UID 9090 2500
	check_not "a desktop user with no client logged in is refused" \
		lab_connect $NOBODY_UID 80 3500
}

test_wrong_password() {
	local out
	out=$(lab_as "$NS_C" $NOBODY_UID \
		timeout 15 "$NUTCPC" -H 10.201.0.1 -U alice -P wrongpw -A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
	check "a wrong password is refused and the client says so" \
		status_says $? error "login refused: bad user name or password" "$out"
}

test_bad_protocol_message() {
	local out
	# A peer that completes TLS and then sends garbage: nuauth closes that
	# link, logs why, and goes on serving the others.
	printf 'this is not a protocol message at all' |
		ip netns exec "$NS_C" timeout 5 gnutls-cli --x509cafile "$LAB_DIR/pki/cacert.pem" \
			-p 4129 10.201.0.1 >/dev/null 2>&1
	check_log "a malformed message closes that link with a log line" \
		nuauth "bad message framing" 5
	if kill -0 "$NUAUTH_PID" 2>/dev/null && out=$(lab_connect $ALICE_UID 80); then
		pass "nuauth serves users after a malformed message"
	else
		fail "nuauth serves users after a malformed message" "${out:-nuauth died}"
	fi
}

# gw_abuse ARGS...: tests/e2e/abuse.py on the gateway, against nuauth's
# loopback ports, with the gateway's certificate at hand.
gw_abuse() {
	local p=$LAB_DIR/pki
	ip netns exec "$NS_G" env NUAUTH=127.0.0.1 CA="$p/cacert.pem" CERT="$p/nufw-cert.pem" \
		KEY="$p/nufw-key.pem" timeout 30 python3 "$here/abuse.py" "$@"
}

# still_serving NAME LOST: after a peer nuauth closed, nufw's link is the
# one it had (LOST "lost the link" lines in its log, as before) and alice's
# next connection is accepted with her mark.
still_serving() {
	local out
	if [ "$(grep -c "lost the link to nuauth" "$LAB_DIR/nufw.log")" = "$2" ] &&
	   out=$(lab_connect_marked $ALICE_UID 80 1001); then
		pass "$1"
	else
		fail "$1" "${out:-nufw lost its link}"
	fi
}

# Oversized and malformed messages from peers that are in: a logged-in
# client on 4129, a gateway with a valid certificate on 4128 (abuse.py
# badframes).  nuauth closes that link and says why; nothing else moves.
test_bad_frames() {
	local lost
	lost=$(grep -c "lost the link to nuauth" "$LAB_DIR/nufw.log")
	check "nuauth closes a client's link on lengths 16385 and 65535 and on a malformed attribute" \
		gw_abuse badframes client bob bobpw
	check "nuauth closes a gateway's link on lengths 16385 and 65535 and on a malformed attribute" \
		gw_abuse badframes gateway
	local who=(
		"user bob logged out from 127.0.0.1: bad message framing: bad message length"
		"user bob logged out from 127.0.0.1: malformed ANNOUNCE message"
		"gateway 127.0.0.1 (nufw-gateway) disconnected: bad message framing: bad message length"
		"gateway 127.0.0.1 (nufw-gateway) disconnected: malformed PACKET_ASK message: malformed attribute")
	if lab_wait_log nuauth "${who[0]}" 5 2 && lab_wait_log nuauth "${who[1]}" 5 &&
	   lab_wait_log nuauth "${who[2]}" 5 2 && lab_wait_log nuauth "${who[3]}" 5; then
		pass "nuauth logs why it closed each of those links"
	else
		fail "nuauth logs why it closed each of those links"
	fi
	still_serving "after bad messages nufw keeps its link and alice gets through with her mark" "$lost"
}

# protocol.md: a peer ignores a well-framed message of a type it does not
# know once the link is up (a newer nufw's or client's new message), and
# before the login only login messages may come.
test_unknown_message_type() {
	local lost
	lost=$(grep -c "lost the link to nuauth" "$LAB_DIR/nufw.log")
	check "a message of unknown type on a logged-in client's link is ignored; before the login it closes" \
		gw_abuse unknowntype client bob bobpw
	check "a message of unknown type on a gateway's link is ignored, the link stays" \
		gw_abuse unknowntype gateway
	still_serving "after messages of unknown type nufw keeps its link and alice gets through with her mark" "$lost"
}

# A gateway that shows no certificate at all on 4128 is refused.
test_gateway_without_certificate() {
	local out lost refused
	local line="gateway 127.0.0.1 disconnected: TLS handshake failed: [Cc]ertificate is required"
	lost=$(grep -c "lost the link to nuauth" "$LAB_DIR/nufw.log")
	refused=$(grep -c "$line" "$LAB_DIR/nuauth.log")	# a foreign CA's too
	if out=$(gw_abuse nocert 2>&1) && lab_wait_log nuauth "$line" 5 $((refused + 1)); then
		pass "nuauth refuses a gateway with no certificate, with a log line"
	else
		fail "nuauth refuses a gateway with no certificate, with a log line" "$out"
	fi
	still_serving "after a gateway with no certificate nufw keeps its link and alice gets through" "$lost"
}

test_peer_faults() {
	local out
	if out=$(ip netns exec "$NS_G" timeout 30 python3 "$here/peer_faults.py" "$LAB_DIR/pki" \
			"$NUAUTH_PID" alice alicepw 2>&1) && kill -0 "$NUAUTH_PID" 2>/dev/null &&
	   out=$(lab_connect $ALICE_UID 80); then
		pass "nuauth survives peers that reset while it answers them"
	else
		fail "nuauth survives peers that reset while it answers them" "$out"
	fi
}

test_reject() {
	local out start elapsed
	start=$(date +%s%N)
	out=$(lab_connect $ALICE_UID 7070 5000)
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	if grep -q "Connection refused" <<<"$out" && [ $elapsed -lt 1000 ]; then
		pass "a rejecting ACL makes connect fail at once with ECONNREFUSED (${elapsed} ms)"
	else
		fail "a rejecting ACL makes connect fail at once with ECONNREFUSED" "$out after ${elapsed} ms"
	fi
}

# queue0_total: packets the gateway's queue 0 holds (read by nobody yet, or
# waiting for their verdict).
queue0_total() {
	ip netns exec "$NS_G" awk '$1 == 0 { print $3 }' /proc/net/netfilter/nfnetlink_queue
}

# server_port9_syns: SYNs to port 9 the server received since the last call.
server_port9_syns() {
	ip netns exec "$NS_S" iptables -L INPUT -v -x -n -Z | awk '/dpt:9$/ { print $1 }'
}

# syn_queued_while_stopping NUFW_PID pass|fail NAME: SYNs reach the queue
# while nufw is frozen (SIGSTOP), so they are still in its socket, unread,
# when it gets SIGTERM: one connect, and a burst of 800 raw SYNs (more than
# one read takes, so some are still in the socket when the worker's loop
# stops).  The rule has no --queue-bypass, so the connect succeeds, and the
# server sees the 800 SYNs, only if nufw accepts them on its way out (pass);
# fail-closed, none may pass (fail).  Stops nufw.
syn_queued_while_stopping() {
	local pid=$1 want=$2 name=$3 cpid ok=1 i got
	ip netns exec "$NS_S" iptables -I INPUT -p tcp --dport 9 -j DROP
	server_port9_syns > /dev/null
	kill -STOP "$pid"
	lab_connect $NOBODY_UID 80 3000 > "$LAB_DIR/stopping-connect.out" 2>&1 &
	cpid=$!
	ip netns exec "$NS_C" python3 "$here/syn_burst.py" 10.201.0.2 10.202.0.2 9 800
	for ((i = 0; i < 100; i++)); do
		[ "$(queue0_total)" -ge 801 ] 2>/dev/null && break
		sleep 0.05
	done
	kill -TERM "$pid"
	kill -CONT "$pid"
	wait "$pid" 2>/dev/null
	wait "$cpid" || ok=0
	got=$(server_port9_syns)
	ip netns exec "$NS_S" iptables -D INPUT -p tcp --dport 9 -j DROP
	if [ "$i" -ge 100 ]; then
		fail "$name" "the SYNs never reached the queue ($(queue0_total) queued)"
	elif { [ $ok = 1 ] && [ "$got" = 800 ] && [ "$want" = pass ]; } ||
	     { [ $ok = 0 ] && [ "$got" = 0 ] && [ "$want" = fail ]; }; then
		pass "$name"
	else
		fail "$name" "connect: $(cat "$LAB_DIR/stopping-connect.out")" \
			"SYNs of the burst that reached the server: $got of 800"
	fi
}

# The failure policy when nuauth cannot answer: fail-closed drops, --fail-open
# accepts once -t has passed; with nufw gone the kernel drops what it queues
# unless the rule has --queue-bypass.
test_failure_policy() {
	local p=$LAB_DIR/pki out pid ipt="ip netns exec $NS_G iptables"
	local certs=(-k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem")

	lab_stop "$NUFW_PID"
	check_not "with nufw stopped, queued connections are dropped" \
		lab_connect $NOBODY_UID 80 2000
	$ipt -R FORWARD 1 -p tcp --syn -j NFQUEUE --queue-num 0 --queue-bypass
	check "with nufw stopped and --queue-bypass, connections pass" \
		lab_connect $NOBODY_UID 80 2000
	# Without --queue-bypass from here on: what passes once nufw is gone
	# is what it accepted on its way out.
	$ipt -R FORWARD 1 -p tcp --syn -j NFQUEUE --queue-num 0

	# nufw whose nuauth never answers (nothing listens on port 4999).
	lab_start nufw-open "$NS_G" "$NUFW" -d 127.0.0.1 -p 4999 -q 0 -m "${certs[@]}" -t 1 --fail-open
	pid=$LAB_PID
	lab_wait_log nufw-open "fail-open" 5
	check "--fail-open accepts a connection nuauth cannot decide, after -t" \
		lab_connect $NOBODY_UID 80 4000
	syn_queued_while_stopping "$pid" pass "--fail-open: SYNs still in the socket when nufw stops pass"
	lab_start nufw-closed "$NS_G" "$NUFW" -d 127.0.0.1 -p 4999 -q 0 -m "${certs[@]}" -t 1
	pid=$LAB_PID
	lab_wait_log nufw-closed "fail-closed" 5
	check_not "fail-closed drops a connection nuauth cannot decide" \
		lab_connect $NOBODY_UID 80 4000
	syn_queued_while_stopping "$pid" fail "fail-closed: SYNs still in the socket when nufw stops are dropped"
	$ipt -R FORWARD 1 -p tcp --syn -j NFQUEUE --queue-num 0
	mv "$LAB_DIR/nufw.log" "$LAB_DIR/nufw-first.log"
	lab_start_nufw
}

# nuauth goes away while alice connects: her SYN waits in nufw, and the
# connection succeeds once nuauth and her client are back.
test_nuauth_back_within_timeout() {
	local out cpid
	lab_stop "$NUAUTH_PID"
	lab_wait_log nufw "lost the link to nuauth" 5
	lab_connect $ALICE_UID 80 12000 > "$LAB_DIR/held-connect.out" &
	cpid=$!
	mv "$LAB_DIR/nuauth.log" "$LAB_DIR/nuauth-second.log"
	lab_start_nuauth
	if wait "$cpid"; then
		pass "a connection opened while nuauth restarts succeeds once it is back"
	else
		fail "a connection opened while nuauth restarts succeeds once it is back" \
			"$(cat "$LAB_DIR/held-connect.out")"
	fi
}

# A transfer accepted before nuauth restarted ends at its user's logout
# after it: her client resumes its session (the token of its first login),
# and the logout's SESSION_END has nufw end what the old nuauth accepted
# (doc/protocol.md, "Resuming a session").  Before, the new nuauth knew
# nothing of it and the transfer ran on.
test_logout_after_nuauth_restart() {
	local ipt="ip netns exec $NS_G iptables" cpid hpid port
	# (alice once more, from another desktop account: one nutcpc per account)
	lab_login alice-resume $CAROL_UID alice alicepw || { fail "alice logs in a second time"; return; }
	cpid=$LAB_PID
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	lab_start_as held-resume "$NS_C" $CAROL_UID "$NUPROBE" hold 10.202.0.2 5050 60
	hpid=$LAB_PID
	if lab_wait_log held-resume "connected from" 5; then
		port=$(sed -n 's/^connected from .*://p' "$LAB_DIR/held-resume.log")
		lab_stop "$NUAUTH_PID"
		mv "$LAB_DIR/nuauth.log" "$LAB_DIR/nuauth-third.log"
		lab_start_nuauth
		# (her own client: alice's first desktop logs in again too)
		check_log "her client logs in again to the new nuauth" alice-resume \
			"logged in again" 20
		check_log "... resuming its session" nuauth \
			"user alice (uid 1001) logged in from 10.201.0.2 with .*, resuming its session" 5
		check "her transfer runs on across the restart" \
			not_grep "stalled after\|closed after" "$LAB_DIR/held-resume.log"
		lab_stop "$cpid"
		check_log "her logout (to the new nuauth) ends the transfer the old one accepted" \
			held-resume "stalled after\|closed after" 10
		check_log "nufw ended it for her session's end" nufw \
			"ended tcp 10.201.0.2:$port -> .*at the end of its user's session" 5
	else
		fail "alice's transfer starts" "$(cat "$LAB_DIR/held-resume.log")"
	fi
	lab_stop "$hpid"
	lab_stop "$cpid"
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
}

# not_grep PATTERN FILE: FILE has no line matching PATTERN.
not_grep() {
	! grep -q -- "$1" "$2" && return 0
	grep -- "$1" "$2"
	return 1
}

# nufw -C: when bob's connection ends, nuauth logs it with its byte counts.
# The kernel removes a closed connection's entry when its garbage collector
# passes (up to a minute later); the test removes it at once, as an
# administrator's `conntrack -D' would, which sends the same event.
test_connection_end_report() {
	local out port held reported
	out=$(lab_as "$NS_C" $BOB_UID \
		"$NUPROBE" hold 10.202.0.2 5050 2)
	port=$(sed -n 's/^connected from .*://p' <<<"$out")
	held=$(sed -n 's/^held \([0-9]*\) bytes/\1/p' <<<"$out")
	if [ -z "$held" ] || [ "$held" -lt 1000 ]; then
		fail "nufw -C reports a finished transfer's bytes to nuauth" "transfer: $out"
		return
	fi
	ip netns exec "$NS_G" conntrack -D -p tcp --orig-port-src "$port" --orig-port-dst 5050 \
		>/dev/null 2>&1
	if lab_wait_log nuauth "user bob: tcp 10.201.0.2:$port -> 10.202.0.2:5050 ended" 10; then
		reported=$(grep "user bob: tcp 10.201.0.2:$port -> 10.202.0.2:5050 ended" "$LAB_DIR/nuauth.log" |
			sed -n 's/.* \([0-9]*\) bytes in.*/\1/p')
		# IP packet bytes: the payload plus at most 100 bytes of headers a packet
		if [ "${reported:-0}" -ge "$held" ] && [ "$reported" -le $((held * 2 + 10000)) ]; then
			pass "nufw -C reports a finished transfer's bytes to nuauth ($held payload, $reported reported)"
		else
			fail "nufw -C reports a finished transfer's bytes to nuauth" "$held payload, ${reported:-none} reported"
		fi
	else
		fail "nufw -C reports a finished transfer's bytes to nuauth"
	fi
}

# SIGHUP: nuauth reads its ACLs again.  A broken file is refused with
# file:line and the running ACLs stay; a good one takes effect.
test_reload() {
	local out
	cp "$LAB_DIR/acls.nufw" "$LAB_DIR/acls.good"
	printf '\n[typo]\ngid=100\nDstPrt=9090\n' >> "$LAB_DIR/acls.nufw"
	kill -HUP "$NUAUTH_PID"
	if lab_wait_log nuauth "acls.nufw:[0-9]*: unknown ACL key .DstPrt.*keeping the running" 5 &&
	   kill -0 "$NUAUTH_PID" && out=$(lab_connect $ALICE_UID 80); then
		pass "SIGHUP with a broken ACL file keeps the running ACLs (file:line logged)"
	else
		fail "SIGHUP with a broken ACL file keeps the running ACLs (file:line logged)" "${out:-}"
	fi
	cp "$LAB_DIR/acls.good" "$LAB_DIR/acls.nufw"
	printf '\n[9090 for staff]\ngid=100\nDstPort=9090\n' >> "$LAB_DIR/acls.nufw"
	kill -HUP "$NUAUTH_PID"
	if lab_wait_log nuauth "configuration, users and ACLs reloaded" 5 &&
	   out=$(lab_connect $ALICE_UID 9090); then
		pass "SIGHUP loads new ACLs: a port refused before is allowed"
	else
		fail "SIGHUP loads new ACLs: a port refused before is allowed" "${out:-}"
	fi
	cp "$LAB_DIR/acls.good" "$LAB_DIR/acls.nufw"

	# Policy keys, read again too.
	local p=$LAB_DIR/pki start elapsed pid links
	cp "$LAB_DIR/nuauth.conf" "$LAB_DIR/nuauth.good"
	printf 'nuauth_reject_authenticated_drop=1\n' >> "$LAB_DIR/nuauth.conf"
	kill -HUP "$NUAUTH_PID"
	lab_wait_log nuauth "configuration, users and ACLs reloaded" 5 2
	start=$(date +%s%N)
	out=$(lab_connect $ALICE_UID 9090 5000)
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	if grep -q "Connection refused" <<<"$out" && [ $elapsed -lt 1000 ]; then
		pass "nuauth_reject_authenticated_drop: a known user's refused connect fails at once"
	else
		fail "nuauth_reject_authenticated_drop: a known user's refused connect fails at once" \
			"$out after $elapsed ms"
	fi
	# The running gateway is no longer allowed: its link closes, and a new
	# one is refused.
	links=$(grep -c "connected to nuauth" "$LAB_DIR/nufw.log")
	printf 'nufw_gw_addr="127.0.0.9"\n' >> "$LAB_DIR/nuauth.conf"
	kill -HUP "$NUAUTH_PID"
	lab_wait_log nuauth "configuration, users and ACLs reloaded" 5 3
	check_log "a reload closes the link of a gateway nufw_gw_addr no longer allows" \
		nuauth "SIGHUP: gateway 127.0.0.1 (nufw-gateway) is no longer in nufw_gw_addr" 0
	lab_start nufw-elsewhere "$NS_G" "$NUFW" -d 127.0.0.1 -q 4 -k "$p/nufw-key.pem" \
		-c "$p/nufw-cert.pem" -a "$p/cacert.pem"
	pid=$LAB_PID
	check_log "nufw_gw_addr: a gateway from another address is refused" \
		nuauth "gateway connection from 127.0.0.1 refused: not in nufw_gw_addr" 5
	lab_stop "$pid"
	cp "$LAB_DIR/nuauth.good" "$LAB_DIR/nuauth.conf"
	kill -HUP "$NUAUTH_PID"
	lab_wait_log nuauth "configuration, users and ACLs reloaded" 5 4
	lab_wait_log nufw "connected to nuauth" 20 $((links + 1))
}

# nufw -q 0:1: one worker per queue, each with its own link to nuauth.
# (--queue-balance spreads flows by address pair, and the lab has one pair,
# so the rules pick the queue by port.)
test_two_queues() {
	local p=$LAB_DIR/pki ipt="ip netns exec $NS_G iptables" out port ok=0 used i
	lab_stop "$NUFW_PID"
	$ipt -R FORWARD 1 -p tcp --syn --dport 8080 -j NFQUEUE --queue-num 1
	$ipt -I FORWARD 2 -p tcp --syn -j NFQUEUE --queue-num 0
	lab_start nufw-two "$NS_G" "$NUFW" -d 127.0.0.1 -q 0:1 -m -C -k "$p/nufw-key.pem" \
		-c "$p/nufw-cert.pem" -a "$p/cacert.pem" -t 5
	NUFW_PID=$LAB_PID
	if lab_wait_log nufw-two "connected to nuauth" 10 2; then
		for i in 1 2 3; do
			out=$(lab_connect $ALICE_UID 80) && port=${out##*:} &&
				[ "$(lab_ct_mark "$port" 80)" = 1001 ] && ok=$((ok + 1))
			out=$(lab_connect $BOB_UID 8080) && port=${out##*:} &&
				[ "$(lab_ct_mark "$port" 8080)" = 1002 ] && ok=$((ok + 1))
		done
	fi
	# Both queues handed out packet ids (the 8th column).
	used=$(ip netns exec "$NS_G" awk '($1 == 0 || $1 == 1) && $8 > 0' \
		/proc/net/netfilter/nfnetlink_queue | wc -l)
	if [ $ok = 6 ] && [ "$used" = 2 ]; then
		pass "nufw -q 0:1 decides and marks the connections of both queues"
	else
		fail "nufw -q 0:1 decides and marks the connections of both queues" \
			"$ok of 6 marked, $used queues used"
	fi
	# One link reports every end, also of the connections the other
	# queue's link passed (bob's last, through queue 1).
	ip netns exec "$NS_G" conntrack -D -p tcp --orig-port-src "${port:-0}" --orig-port-dst 8080 \
		>/dev/null 2>&1
	check_log "nufw -q 0:1 -C reports the end of a connection queue 1 passed" \
		nuauth "user bob: tcp 10.201.0.2:${port:-0} -> 10.202.0.2:8080 ended" 10
	$ipt -D FORWARD 2
	$ipt -R FORWARD 1 -p tcp --syn -j NFQUEUE --queue-num 0
	lab_stop "$NUFW_PID"
	mv "$LAB_DIR/nufw.log" "$LAB_DIR/nufw-before-two-queues.log"
	lab_start_nufw
}

# A nuauth that sends a message with an impossible length: nufw closes the
# link and says why.
test_malformed_from_nuauth() {
	local p=$LAB_DIR/pki pid
	lab_start fake-nuauth "$NS_G" python3 "$here/fake_nuauth.py" "$p" 4999
	lab_wait_log fake-nuauth "ready" 10
	lab_start nufw-fake "$NS_G" "$NUFW" -d 127.0.0.1 -p 4999 -q 3 -m -k "$p/nufw-key.pem" \
		-c "$p/nufw-cert.pem" -a "$p/cacert.pem"
	pid=$LAB_PID
	check_log "a malformed message from nuauth closes nufw's link, with a log line" \
		nufw-fake "lost the link to nuauth: bad message framing" 10
	lab_stop "$pid"
}

# --ct-mark: this kernel has no conntrack glue for NFQUEUE
# (kernel-notes): nufw must say so at start, not fail silently.
test_ct_mark_notice() {
	local p=$LAB_DIR/pki pid
	lab_start nufw-ctmark "$NS_G" "$NUFW" -d 127.0.0.1 -q 5 -m --ct-mark -k "$p/nufw-key.pem" \
		-c "$p/nufw-cert.pem" -a "$p/cacert.pem"
	pid=$LAB_PID
	if lab_wait_log nufw-ctmark "reading queue 5" 5 &&
	   grep -q "ct-mark: the kernel cannot set connection marks at verdict time" \
		"$LAB_DIR/nufw-ctmark.log"; then
		pass "nufw --ct-mark says at start that this kernel leaves it to CONNMARK"
	else
		fail "nufw --ct-mark says at start that this kernel leaves it to CONNMARK" \
			"$(cat "$LAB_DIR/nufw-ctmark.log")"
	fi
	lab_stop "$pid"
}

# Packets nufw cannot parse are dropped and counted (nufw reports its
# counters when it stops).
test_unparsable_packets() {
	local ipt="ip netns exec $NS_G iptables"
	$ipt -I FORWARD 1 -p 253 -j NFQUEUE --queue-num 0
	$ipt -I FORWARD 1 -p tcp -m length --length 0:30 -j NFQUEUE --queue-num 0
	ip netns exec "$NS_C" python3 "$here/bad_packets.py" 10.201.0.2 10.202.0.2
	$ipt -D FORWARD -p 253 -j NFQUEUE --queue-num 0
	$ipt -D FORWARD -p tcp -m length --length 0:30 -j NFQUEUE --queue-num 0
	lab_stop "$NUFW_PID"
	check_log "nufw drops and counts packets it cannot parse" nufw "unparsable 2)" 0
}

# alice stops her client: nuauth has nufw delete her connections from
# conntrack, and her established transfer stops.
test_logout_ends_connections() {
	local ipt="ip netns exec $NS_G iptables" hpid out port
	# What conntrack sees as new but is no SYN cannot open a connection.
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	lab_start_as held "$NS_C" $ALICE_UID "$NUPROBE" hold 10.202.0.2 5050 8
	hpid=$LAB_PID
	if ! lab_wait_log held "connected" 5; then
		fail "logging out ends the user's established connections" "$(cat "$LAB_DIR/held.log")"
		return
	fi
	lab_stop "$ALICE_CLIENT_PID"
	wait "$hpid"
	out=$(cat "$LAB_DIR/held.log")
	if grep -q "stalled after" <<<"$out" && grep -q "logs out" "$LAB_DIR/nuauth.log" &&
	   grep -q "at nuauth's request" "$LAB_DIR/nufw.log"; then
		pass "logging out ends the user's established connections"
	else
		fail "logging out ends the user's established connections" "$out"
	fi
	# nufw -C reports the end of what nuauth ended, with its bytes.
	port=$(sed -n 's/^connected from .*://p' <<<"$out")
	check_log "a connection ended at logout is logged with its byte counts" \
		nuauth "user alice: tcp 10.201.0.2:${port:-0} -> 10.202.0.2:5050 ended after" 5
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
}

# The same while nufw is away: alice logs out with nufw stopped; when nufw
# is back, nuauth has it end her connection.
test_logout_while_gateway_away() {
	local ipt="ip netns exec $NS_G iptables" hpid cpid out
	lab_login alice-again $ALICE_UID alice alicepw || {
		fail "a logout while nufw is away ends the connection when it is back" "no login"
		return
	}
	cpid=$LAB_PID
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	lab_start_as held-away "$NS_C" $ALICE_UID "$NUPROBE" hold 10.202.0.2 5050 8
	hpid=$LAB_PID
	if lab_wait_log held-away "connected" 5; then
		lab_stop "$NUFW_PID"
		mv "$LAB_DIR/nufw.log" "$LAB_DIR/nufw-before-away.log"
		lab_stop "$cpid"
		lab_wait_log nuauth "user alice logs out from .*: ending 1 connection" 5
		lab_start_nufw
	fi
	wait "$hpid"
	out=$(cat "$LAB_DIR/held-away.log")
	if grep -q "stalled after" <<<"$out" && grep -q "at nuauth's request" "$LAB_DIR/nufw.log"; then
		pass "a logout while nufw is away ends the connection when it is back"
	else
		fail "a logout while nufw is away ends the connection when it is back" "$out" \
			"$(tail -3 "$LAB_DIR/nuauth.log")"
	fi
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
}

# side_nufw NAME ARGS...: a second nufw, on queue 6 (where side_queue
# sends bob's connections to port 8080), with the lab's certificates, -t 2
# and ARGS; its PID in SIDE_PID.
side_nufw() {
	local name=$1 p=$LAB_DIR/pki; shift
	lab_start "$name" "$NS_G" "$NUFW" -q 6 -k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" \
		-a "$p/cacert.pem" -t 2 "$@"
	SIDE_PID=$LAB_PID
}

# side_nufw_passes TEST MARK NAME ARGS...: the side nufw NAME, with ARGS,
# connects to nuauth and accepts bob's connection to 8080 with MARK.
side_nufw_passes() {
	local test=$1 mark=$2 name=$3 out; shift 3
	side_nufw "$name" "$@"
	if lab_wait_log "$name" "connected to nuauth" 10 && out=$(lab_connect_marked $BOB_UID 8080 "$mark"); then
		pass "$test"
	else
		fail "$test" "${out:-}"
	fi
	lab_stop "$SIDE_PID"
}

side_queue() {	# side_queue -I|-D
	ip netns exec "$NS_G" iptables "$1" FORWARD -p tcp --syn --dport 8080 -j NFQUEUE --queue-num 6
}

# nufw checks that nuauth's certificate carries the -d name; -N turns the
# check off.  nuauth-alias.lab resolves, in the gateway, to two addresses
# where nothing listens and then to 127.0.0.1, where nuauth does, but its
# certificate names nuauth.lab, 10.201.0.1 and 127.0.0.1 only.  nufw tries
# each address in turn (as with localhost: ::1, then 127.0.0.1).
test_nufw_name_check() {
	local out
	lab_hosts "$NS_G" "::1 nuauth-alias.lab" "127.0.0.2 nuauth-alias.lab" \
		"127.0.0.1 nuauth-alias.lab"
	side_queue -I
	side_nufw nufw-name -d nuauth-alias.lab -m
	if lab_wait_log nufw-name "cannot reach nuauth at nuauth-alias.lab port 4128: .*127.0.0.1: .*does not match" 10 &&
	   ! out=$(lab_connect $BOB_UID 8080 2500) &&
	   ! grep -q "connected to nuauth" "$LAB_DIR/nufw-name.log"; then
		pass "nufw refuses a nuauth whose certificate does not carry the -d name, and says why"
	else
		fail "nufw refuses a nuauth whose certificate does not carry the -d name, and says why" \
			"${out:-}" "$(cat "$LAB_DIR/nufw-name.log")"
	fi
	lab_stop "$SIDE_PID"
	side_nufw_passes "nufw -N turns the name check off, and finds nuauth at the name's third address: bob's connection is accepted with his mark" \
		1002 nufw-noname -d nuauth-alias.lab -N -m
	side_queue -D
}

# nufw without -m accepts plainly: the connection's mark stays 0.
test_nufw_without_mark() {
	side_queue -I
	side_nufw_passes "nufw without -m: bob's accepted connection has mark 0" 0 nufw-nomark -d 127.0.0.1
	side_queue -D
}

# nuauth goes away: a new connection's packets wait in nufw for up to its
# -t (5 s; they are asked about if nuauth is back by then), then get the
# failure policy's verdict, drop (fail-closed); the connects here give up
# first.  nufw says so once; when nuauth is back, nufw and the clients
# reconnect and alice's connections pass again.
test_nuauth_restart() {
	local out
	lab_stop "$NUAUTH_PID"
	lab_wait_log nufw "lost the link to nuauth" 5
	for _ in 1 2 3; do
		if out=$(lab_connect $ALICE_UID 80 1500); then
			fail "with nuauth down, new connections do not pass" "$out"
			return
		fi
	done
	pass "with nuauth down, new connections do not pass"
	check_count "nufw logs the outage once, not once per packet" nufw "nuauth is unreachable" 1
	mv "$LAB_DIR/nuauth.log" "$LAB_DIR/nuauth-first.log"
	lab_start_nuauth
	if lab_wait_log nufw "connected to nuauth" 20 2 && lab_wait_log alice-client "logged in again" 20 && lab_wait_log nuauth "user alice .*logged in" 5 &&
	   out=$(lab_connect $ALICE_UID 80); then
		pass "after nuauth restarts, nufw and the client reconnect and alice gets through"
	else
		fail "after nuauth restarts, nufw and the client reconnect and alice gets through" "${out:-}"
	fi
}

# ACLs on the client's OS and on the gateway's interfaces, for
# test_os_interfaces_gateways.
os_interface_gateway_acls() {
	cat >> "$LAB_DIR/acls.nufw" <<ACLS

[linux desktops to 7101]
decision=1
gid=100
proto=6
DstPort=7101
OS=Linux

[windows desktops to 7102]
decision=1
gid=100
proto=6
DstPort=7102
OS=Windows

[leaving by g1 to 7103]
decision=1
gid=100
proto=6
DstPort=7103
outdev=g1

[leaving by g0 to 7104]
decision=1
gid=100
proto=6
DstPort=7104
outdev=g0

[coming in by g0 to 7105]
decision=1
gid=100
proto=6
DstPort=7105
indev=g0

[through another gateway to 7106]
decision=1
gid=100
proto=6
DstPort=7106
gateway=branch-gw

[through this gateway to 7107]
decision=1
gid=100
proto=6
DstPort=7107
gateway=branch-gw, nufw-gateway
ACLS
}

# OS= matches what the client said of its system at login; indev= and
# outdev= the interfaces the packet crosses on the gateway; gateway= the
# certificate name of the nufw that asks.
test_os_interfaces_gateways() {
	local port want out
	lab_start server-7100 "$NS_S" "$NUPROBE" serve 7101 7102 7103 7104 7105 7106 7107
	lab_wait_log server-7100 "ready"
	for port in 7101:pass 7102:refused 7103:pass 7104:refused 7105:pass 7106:refused 7107:pass; do
		want=${port#*:}
		port=${port%:*}
		if out=$(lab_connect $ALICE_UID "$port" 1500); then
			out=pass
		else
			out=refused
		fi
		if [ "$out" = "$want" ]; then
			pass "acl [$(grep -o "^\[[^]]* to $port\]" "$LAB_DIR/acls.nufw" | tr -d '[]')]: alice's connection is ${want/pass/accepted}"
		else
			fail "acl for port $port: alice's connection should be ${want/pass/accepted}" \
				"$(grep "$port" "$LAB_DIR/nuauth.log" | tail -2)"
		fi
	done
}

# nufw keeps only CAP_NET_ADMIN and CAP_NET_RAW once its sockets are open.
test_nufw_capabilities() {
	local eff
	eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$NUFW_PID/status")
	check "nufw runs with only CAP_NET_ADMIN and CAP_NET_RAW" same "$eff" 0000000000003000
}

test_refusals_before_login() {
	check_not "with no client logged in the connection fails" lab_connect $ALICE_UID 80 3500
}

# nuauth_do_ip_authentication: with no client logged in on the desktop, its
# connections belong to the guest user (ipauth_guest), whose ACLs decide.
test_ip_authentication() {
	cp "$LAB_DIR/nuauth.conf" "$LAB_DIR/nuauth.noip"
	echo 'nuauth_do_ip_authentication=1' >> "$LAB_DIR/nuauth.conf"
	kill -HUP "$NUAUTH_PID"
	lab_wait_log nuauth "configuration, users and ACLs reloaded" 5
	check_mark "IP authentication: a host with no client gets the guest's ACLs and mark (3000)" \
		$NOBODY_UID 9090 3000
	check_not "IP authentication: the guest is refused what its ACLs do not allow" \
		lab_connect $NOBODY_UID 80 2500

	# ICMP echo, decided like any flow: the guest may ping the server
	# (10.202.0.2), not its second address (10.202.0.3).
	local ipt="ip netns exec $NS_G iptables"
	ip -n "$NS_S" addr add 10.202.0.3/24 dev s0
	$ipt -I FORWARD 1 -p icmp --icmp-type echo-request -j NFQUEUE --queue-num 0
	check "ICMP echo allowed by an ACL (proto=1, type=8) gets through" \
		ip netns exec "$NS_C" ping -n -c 1 -W 3 10.202.0.2
	check_not "ICMP echo no ACL allows is dropped" \
		ip netns exec "$NS_C" ping -n -c 1 -W 2 10.202.0.3
	$ipt -D FORWARD -p icmp --icmp-type echo-request -j NFQUEUE --queue-num 0
	ip -n "$NS_S" addr del 10.202.0.3/24 dev s0
	cp "$LAB_DIR/nuauth.noip" "$LAB_DIR/nuauth.conf"
	kill -HUP "$NUAUTH_PID"
	lab_wait_log nuauth "configuration, users and ACLs reloaded" 5 2
}

# alice and bob log in from the same desktop (alice's client's PID in
# ALICE_CLIENT_PID), for the tests that need them.
test_logins() {
	if lab_login alice-client $ALICE_UID alice alicepw && ALICE_CLIENT_PID=$LAB_PID &&
	   lab_login bob-client $BOB_UID bob bobpw; then
		pass "alice and bob log in from the same desktop"
	else
		fail "alice and bob log in from the same desktop"
		return 1
	fi
}

# --- the suite: set-up, then the tests in order
lab_netns
lab_pki
lab_nuauth_conf
os_interface_gateway_acls
lab_tests test_config_errors test_least_privilege_start	# before nuauth runs
lab_rules
lab_start_server
lab_start stream "$NS_S" "$NUPROBE" stream 5050
lab_wait_log stream "ready"
lab_start_gateway

lab_tests test_nufw_capabilities test_refusals_before_login test_wrong_password \
	test_ip_authentication
# With alice and bob logged in:
if test_logins; then
	lab_tests \
		test_password_hidden \
		test_user_connection \
		test_two_users \
		test_os_interfaces_gateways \
		test_refusals \
		test_bad_protocol_message \
		test_bad_frames test_unknown_message_type \
		test_peer_faults \
		test_reject \
		test_gateway_without_certificate \
		test_nufw_name_check \
		test_nufw_without_mark \
		test_connection_end_report \
		test_nuauth_restart \
		test_nuauth_back_within_timeout \
		test_logout_after_nuauth_restart \
		test_failure_policy \
		test_reload \
		test_two_queues \
		test_logout_ends_connections \
		test_logout_while_gateway_away \
		test_malformed_from_nuauth \
		test_ct_mark_notice \
		test_unparsable_packets
fi

lab_finish
