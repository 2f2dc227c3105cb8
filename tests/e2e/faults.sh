#!/bin/bash
# Faults and abuse in the namespace lab (run as root):
#   tests/e2e/faults.sh BUILD_DIR
# A crowd of idle TLS connections (the certificate cases are in tls.sh),
# links stalled mid-handshake, thousands of failed logins, a slow client, a forged announcement, and
# nuauth killed with SIGKILL under a stream of new connections: nuauth goes
# on serving the honest users with bounded memory, and no connection is let
# through without a user's decision.  Ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"
lab_init "${1:-.}"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

lab_netns
ip -n "$NS_C" addr add 10.201.0.50/24 dev c0	# where the abuse comes from
lab_pki >/dev/null
lab_nuauth_conf
lab_rules
lab_start_server
lab_start_nuauth
lab_start_nufw
lab_login alice-client $ALICE_UID alice alicepw

rss_before=$(rss_kb "$NUAUTH_PID")

# 1000 TLS connections that never log in, from one address: nuauth keeps
# 64 (nuauth_single_ip_prelogin_limit) and refuses the others.
abuse 10.201.0.50 idle 1000 5 > "$LAB_DIR/idle.out" 2>&1 &
idle_pid=$!
while ! grep -q "holding" "$LAB_DIR/idle.out" && kill -0 $idle_pid 2>/dev/null; do sleep 0.1; done
rss_idle=$(rss_kb "$NUAUTH_PID")
if grep -q "holding 64 of 1000" "$LAB_DIR/idle.out" && out=$(lab_connect $ALICE_UID 80); then
	pass "alice gets through while 1000 TLS connections try to sit idle, 64 held (nuauth RSS ${rss_before} -> ${rss_idle} kB)"
else
	fail "alice gets through while 1000 TLS connections try to sit idle, 64 held" "$(cat "$LAB_DIR/idle.out")" "${out:-}"
fi
wait $idle_pid	# its links close when it ends (5 s): the logins below come from the same address

# 10,000 failed logins, four at a time, while alice works.
for i in 1 2 3 4; do
	abuse 10.201.0.50 badlogins 2500 alice > "$LAB_DIR/bad$i.out" 2>&1 &
	bad_pids[$i]=$!
done
ok=0
for i in 1 2 3; do lab_connect $ALICE_UID 80 >/dev/null && ok=$((ok + 1)); done
for i in 1 2 3 4; do wait "${bad_pids[$i]}"; done
refused=$(cat "$LAB_DIR"/bad?.out | awk '/^refused/ { n += $2 } END { print n + 0 }')
if [ "$refused" = 10000 ] && [ $ok = 3 ] && kill -0 "$NUAUTH_PID"; then
	pass "10,000 wrong passwords are refused while alice gets through"
else
	fail "10,000 wrong passwords are refused while alice gets through" \
		"refused $refused, alice $ok of 3" "$(cat "$LAB_DIR"/bad?.out | tail -4)"
fi

# A client that sends its HELLO one byte a second.
abuse 10.201.0.50 slow 4 > "$LAB_DIR/slow.out" 2>&1 &
slow_pid=$!
check "a client sending one byte a second holds no one up" lab_connect $ALICE_UID 80
wait $slow_pid

# Links that stop answering in the middle of the TLS handshake.
abuse 10.201.0.50 stall 200 15 > "$LAB_DIR/stall.out" 2>&1 &
stall_pid=$!
while ! grep -q "stalled" "$LAB_DIR/stall.out" && kill -0 $stall_pid 2>/dev/null; do sleep 0.1; done
if grep -q "stalled 200" "$LAB_DIR/stall.out" && out=$(lab_connect $ALICE_UID 80); then
	pass "200 links stalled mid-handshake hold no one up"
else
	fail "200 links stalled mid-handshake hold no one up" "$(cat "$LAB_DIR/stall.out")" "${out:-}"
fi
kill $stall_pid 2>/dev/null; wait $stall_pid 2>/dev/null

# Memory after the crowd has gone.
rss_after=$(rss_kb "$NUAUTH_PID")
if [ $((rss_after - rss_before)) -lt 65536 ]; then
	pass "nuauth's memory stays bounded (RSS ${rss_before} kB before, ${rss_idle} with 1000 idle links, ${rss_after} after)"
else
	fail "nuauth's memory stays bounded" "RSS ${rss_before} kB before, ${rss_after} after"
fi

# A client announcing a connection from another address (as bob; the
# wrong passwords above locked 10.201.0.50, not alice's name).
abuse 10.201.0.2 announce bob bobpw 10.201.0.99 > "$LAB_DIR/forged.out" 2>&1
check_log "an announcement for another address is refused and logged" \
	nuauth "announced tcp 10.201.0.99:41000 -> 10.202.0.2:80, which is not from the client's address: ignored" 5

# nuauth killed with SIGKILL while new connections keep coming: none is
# let through without a decision (every connection that got an answer
# carries alice's mark), and the service comes back.
stream_connects() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do lab_connect $ALICE_UID 80 1500 >/dev/null; done
}
stream_connects 8 &
stream_pid=$!
sleep 2		# the stream is running: this is the fault's timing, not a wait for readiness
kill -9 "$NUAUTH_PID"
wait "$NUAUTH_PID" 2>/dev/null
mv "$LAB_DIR/nuauth.log" "$LAB_DIR/nuauth-killed.log"
lab_start_nuauth
wait $stream_pid
unmarked=$(ip netns exec "$NS_G" conntrack -L -p tcp --dport 80 2>/dev/null |
	grep -v UNREPLIED | grep -c "mark=0 " || true)
if [ "$unmarked" = 0 ] && lab_wait_log alice-client "logged in again" 15 &&
   out=$(lab_connect $ALICE_UID 80); then
	pass "nuauth killed under a stream of connections: nothing passes undecided, service returns"
else
	fail "nuauth killed under a stream of connections: nothing passes undecided, service returns" \
		"$unmarked answered connections without a mark" "${out:-}"
fi

lab_finish
