#!/bin/bash
# The packet path's cases in the namespace lab (run as root):
#   tests/e2e/packets.sh BUILD_DIR [TEST...]
# Rejects as the desktop program sees them (TCP reset, ICMP port
# unreachable, over IPv4 and IPv6; after nuauth_packet_timeout under
# nuauth_reject_after_timeout), logins per address
# (nuauth_single_ip_client_limit), TCP packets that are not a connection's
# first, and nufw -C -M with the mark in conntrack.  Ends with "N passed,
# N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"
lab_init "${1:-.}" "${@:2}"

# timed COMMAND...: runs COMMAND, prints its output and "(N ms)"; its
# status is COMMAND's.
timed() {
	local start=$(date +%s%N) out st
	out=$("$@" 2>&1)
	st=$?
	echo "$out ($(( ($(date +%s%N) - start) / 1000000 )) ms)"
	return $st
}

# refused_within NAME MS ERROR COMMAND...: COMMAND (a desktop program's
# connect) fails with ERROR (strerror's text) within MS ms.
refused_within() {
	local name=$1 ms=$2 want=$3 out took; shift 3
	out=$(timed "$@")
	took=${out##*(}; took=${took%% ms)}
	if grep -qF "$want" <<<"$out" && [ "$took" -lt "$ms" ]; then
		pass "$name ($took ms)"
	else
		fail "$name" "wanted \`$want' within $ms ms: $out"
	fi
}

# reload_with LINE...: appends LINEs to nuauth.conf (the last assignment
# of a key wins) and reloads nuauth.
reload_with() {
	printf '%s\n' "$@" >> "$LAB_DIR/nuauth.conf"
	lab_reload_nuauth
}

# client NAME UID USER PASSWORD: a client logged in over both families.
client() {
	lab_start_as "$1" "$NS_C" "$2" "$NUTCPC" -H "10.201.0.1,$V6_GW" -U "$3" -P "$4" \
		-A "$LAB_DIR/pki/cacert.pem" -N -d -v
}

# --- logins per address (NuFW test_user_policy) ------------------------------

# testLoginNormal: by default several users, and one user several times,
# log in from one address.
test_several_logins() {
	local pids=()
	client alice-again $ALICE2_UID alice alicepw
	pids+=("$LAB_PID")
	client bob $BOB_UID bob bobpw
	pids+=("$LAB_PID")
	if lab_wait_log alice-again "logged in" 15 && lab_wait_log bob "logged in" 15; then
		pass "by default alice logs in a second time and bob too, from the same address"
	else
		fail "by default alice logs in a second time and bob too, from the same address"
	fi
	lab_stop "${pids[0]}"
	lab_stop "${pids[1]}"
	lab_wait_log nuauth "user bob .*logged out\|user bob disconnected" 10 >/dev/null 2>&1
}

# testLoginIP: nuauth_single_ip_client_limit=1: with alice logged in, bob's
# login from the same address is refused, and nutcpc says why.
test_single_ip_limit() {
	local out
	reload_with "nuauth_single_ip_client_limit=1"
	out=$(lab_as "$NS_C" $BOB_UID timeout 20 "$NUTCPC" -H 10.201.0.1 -U bob -P bobpw \
		-A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
	check "nuauth_single_ip_client_limit=1: bob's login next to alice's is refused, nutcpc says why" \
		status_says $? error "too many sessions from 10.201.0.2 (at most 1)" "$out"
	reload_with "nuauth_single_ip_client_limit=256"
}

# --- rejects -------------------------------------------------------------------

# A rejecting ACL (decision=3) as each program sees it: TCP gets a reset
# (ECONNREFUSED), UDP an ICMP / ICMPv6 port unreachable (ECONNREFUSED on a
# connected socket), at once, over both families.
# rejected_four HOW TCP4 TCP6 UDP4 UDP6: alice's TCP connect and UDP
# exchange, over each family, each fail at once with the error named
# (strerror's text), the reject being HOW.
rejected_four() {
	local how=$1 i
	local -a name=("TCP over IPv4" "TCP over IPv6" "UDP over IPv4" "UDP over IPv6")
	local -a probe=("connect 10.202.0.2 7070" "connect6 $V6_S 7070" "udp 10.202.0.2 5354"
		"udp $V6_S 5354")
	shift
	for i in 0 1 2 3; do
		# shellcheck disable=SC2086
		refused_within "${name[$i]}, rejected $how: $1" $((i < 2 ? 1000 : 1500)) \
			"$1" lab_as "$NS_C" $ALICE_UID "$NUPROBE" ${probe[$i]} 5000
		shift
	done
}

test_reject_kinds() {
	# By default as the destination host would: a reset for TCP, a port
	# unreachable for UDP; ECONNREFUSED each time.
	rejected_four "(a reset for TCP, a port unreachable for UDP)" "Connection refused" \
		"Connection refused" "Connection refused" "Connection refused"
	# nufw --reject-with icmp-admin-prohibited: what a firewall says, for
	# every protocol; Linux gives EHOSTUNREACH (IPv4) and EACCES (IPv6).
	restart_nufw reject-admin --reject-with icmp-admin-prohibited ||
		{ fail "nufw --reject-with icmp-admin-prohibited reconnects to nuauth"; return; }
	rejected_four "with ICMP administratively prohibited" "No route to host" \
		"Permission denied" "No route to host" "Permission denied"
	restart_nufw reject-admin-done || fail "nufw reconnects to nuauth"
}

# NuFW testDrop, testRejectTimedout: a connection nobody claims is dropped
# (the program waits out its own time-out), or, with
# nuauth_reject_after_timeout=1, rejected: the program sees ECONNREFUSED as
# soon as nuauth gives up on it, at nuauth_packet_timeout (2 s in the lab),
# long before a TCP connect would give up by itself (about 2 minutes).
test_reject_after_timeout() {
	local out
	out=$(timed lab_connect $NOBODY_UID 80 3500)
	if grep -q "no answer in 3500 ms" <<<"$out"; then
		pass "by default a connection nobody claims is dropped: the program's connect times out"
	else
		fail "by default a connection nobody claims is dropped: the program's connect times out" "$out"
	fi
	reload_with "nuauth_reject_after_timeout=1"
	refused_within "nuauth_reject_after_timeout=1: a connection nobody claims gets ECONNREFUSED at the packet timeout (2 s), not a silent drop" \
		3000 "Connection refused" lab_connect $NOBODY_UID 80 6000
	reload_with "nuauth_reject_after_timeout=0"
}

# asked: how many packets nuauth was asked about so far (its decisions,
# and those still pending), from its control socket.
asked() {
	ctl stats --json | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["accepted"] + d["dropped"] + d["rejected"] + d["pending"])'
}

# check_asked NAME BEFORE N: nuauth was asked about N packets since BEFORE
# (an asked() value).
check_asked() {
	check "$1" same "$(( $(asked) - $2 ))" "$3"
}

# --- packets that are not a connection's first (NuFW test_invalid_tcp) -----------

# server_saw SPORT: how many TCP packets from that source port the server
# received (an INPUT rule counts them).
server_saw() {
	ip netns exec "$NS_S" iptables -L INPUT -v -x -n | awk -v p="spt:$1" '$0 ~ p { print $1 }'
}

# forged SPORT FLAGS: one TCP segment from the desktop's address and port
# SPORT to the server's port 80, counted at the server.
forged() {
	ip netns exec "$NS_S" iptables -I INPUT -p tcp --sport "$1" --dport 80 -j DROP
	ip netns exec "$NS_C" python3 "$here/forge.py" tcp 10.201.0.2 "$1" 10.202.0.2 80 "$2"
}

# check_forged NAME SPORT WANT: the server saw WANT (0 or 1) packets from
# SPORT (waiting up to 2 s for one).
check_forged() {
	local i n
	for ((i = 0; i < 40; i++)); do
		n=$(server_saw "$2")
		[ "${n:-0}" -ge 1 ] && break
		[ "$3" = 0 ] && [ $i -ge 20 ] && break
		sleep 0.05
	done
	check "$1" same "${n:-0}" "$3"
}

test_not_first_packets() {
	local ipt="ip netns exec $NS_G iptables" out before
	# A SYN-ACK on the queue (the server's answer): nufw lets it through
	# without asking, so alice's connection opens, with her mark.
	$ipt -I FORWARD -p tcp --tcp-flags SYN,ACK SYN,ACK -j NFQUEUE --queue-num 0
	before=$(asked)
	check_mark "a SYN-ACK on the queue passes unasked: alice's connection opens with her mark" \
		$ALICE_UID 80 1001 1500
	check_asked "nuauth is asked about the SYN only, never about the SYN-ACK" "$before" 1
	$ipt -D FORWARD -p tcp --tcp-flags SYN,ACK SYN,ACK -j NFQUEUE --queue-num 0

	# The README's warning: a rule that queues conntrack's NEW (not only
	# SYNs) with nf_conntrack_tcp_loose=1 hands nufw mid-stream packets of
	# connections the gateway never saw open; nufw accepts them unasked.
	$ipt -I FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j NFQUEUE --queue-num 0
	ip netns exec "$NS_G" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=1
	before=$(asked)
	forged 40001 A
	check_forged "documented: an ACK queued as NEW (tcp_loose=1) is accepted unasked" 40001 1
	forged 40002 FA
	check_forged "documented: a FIN queued as NEW (tcp_loose=1) is accepted unasked" 40002 1
	check_asked "nuauth is never asked about the ACK or the FIN" "$before" 0
	# nf_conntrack_tcp_loose=0: conntrack no longer opens an entry for a
	# mid-stream packet (it is INVALID), so nothing reaches the queue and
	# the rule for INVALID (README.md's final -j DROP does the same) drops it.
	ip netns exec "$NS_G" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
	$ipt -A FORWARD -p tcp -m conntrack --ctstate INVALID -j DROP
	forged 40003 A
	check_forged "with nf_conntrack_tcp_loose=0 the same ACK does not pass" 40003 0
	$ipt -D FORWARD -p tcp -m conntrack --ctstate INVALID -j DROP
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j NFQUEUE --queue-num 0
	ip netns exec "$NS_G" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=1

	# The rules README.md recommends (established first, SYNs queued, the
	# rest dropped): after a conntrack flush a mid-stream ACK of a connection
	# the gateway lost opens nothing without a user.
	$ipt -I FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	$ipt -A FORWARD -p tcp -j DROP
	out=$(lab_connect $ALICE_UID 80) || fail "alice connects before the flush" "$out"
	ip netns exec "$NS_G" conntrack -F >/dev/null 2>&1
	forged 40004 A
	check_forged "with README.md's rules, after a conntrack flush a mid-stream ACK does not pass" 40004 0
	check "with README.md's rules alice's new connection still passes after the flush" \
		lab_connect_marked $ALICE_UID 80 1001
	$ipt -D FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	$ipt -D FORWARD -p tcp -j DROP
}

# --- nufw -C -M (NuFW test_conntrack's mark) -----------------------------------

# start_nufw [OPTION...]: nufw with -m -C -M on queue 0, and OPTIONs; its
# PID in NUFW_PID.
start_nufw() {
	local p=$LAB_DIR/pki
	lab_start nufw "$NS_G" "$NUFW" -d 127.0.0.1 -p 4128 -q 0 -m -C -M \
		-k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem" -t 5 -v "$@"
	NUFW_PID=$LAB_PID
	lab_wait_log nufw "connected to nuauth"
}

# restart_nufw NAME [OPTION...]: the running nufw stopped (its log kept as
# nufw-NAME.log), then start_nufw OPTION...
restart_nufw() {
	local name=$1; shift
	lab_stop "$NUFW_PID"
	mv "$LAB_DIR/nufw.log" "$LAB_DIR/nufw-$name.log"
	start_nufw "$@"
}

# end_conn PORT SPORT: the gateway's conntrack forgets that connection (as
# at its end), which sends nufw -C its destroy event.
end_conn() {
	ip netns exec "$NS_G" conntrack -D -p tcp --orig-port-src "$2" --orig-port-dst "$1" >/dev/null 2>&1
}

# A fresh nufw -m -C -M: alice's connection carries her mark in the
# gateway's conntrack and its end is reported to nuauth; a connection with
# no mark (one the queue never saw) ends too, but is not reported: nufw
# counts 1 report when it stops.
test_only_marked_ends() {
	local out port=0 other=0 n
	restart_nufw before || { fail "nufw -m -C -M reconnects to nuauth"; return; }
	out=$(lab_connect $ALICE_UID 80) && port=${out##*:}
	check "nufw -m -C -M: alice's connection has her mark (1001) in conntrack" \
		same "$(lab_ct_mark "$port" 80)" 1001
	ip netns exec "$NS_G" iptables -I FORWARD -p tcp --syn --dport 9090 -j ACCEPT
	out=$(lab_connect $NOBODY_UID 9090) && other=${out##*:}
	ip netns exec "$NS_G" iptables -D FORWARD -p tcp --syn --dport 9090 -j ACCEPT
	check "a connection the queue never saw has no mark (0) in conntrack" \
		same "$(lab_ct_mark "$other" 9090)" 0
	end_conn 9090 "$other"
	end_conn 80 "$port"
	check_log "nufw -C -M: the end of alice's marked connection is reported to nuauth" nuauth \
		"user alice: tcp 10.201.0.2:$port -> 10.202.0.2:80 ended" 10
	lab_stop "$NUFW_PID"
	n=$(sed -n 's/.*connection ends reported \([0-9]*\).*/\1/p' "$LAB_DIR/nufw.log")
	check "nufw -C -M: of the two connections that ended, only the marked one was reported" \
		same "${n:-none}" 1
	mv "$LAB_DIR/nufw.log" "$LAB_DIR/nufw-only-marked.log"
	start_nufw || fail "nufw -m -C -M reconnects to nuauth"
}

# --- the suite -----------------------------------------------------------------
lab_netns
lab_ipv6
lab_pki
lab_nuauth_conf
cat >> "$LAB_DIR/acls.nufw" <<ACLS

[udp 5354 is refused at once]
decision=3
gid=100
proto=17
DstPort=5354
ACLS
printf '%s\n' 'nuauth_client_listen_addr="::"' "nuauth_control_socket=\"$LAB_DIR/control\"" \
	>> "$LAB_DIR/nuauth.conf"
lab_rules
lab_ipv6_udp_rules
lab_start_server
lab_start_nuauth || lab_end "nuauth starts"
start_nufw || lab_end "nufw -m -C -M connects to nuauth"
client alice $ALICE_UID alice alicepw
lab_wait_log alice "logged in: .*(IPv4) up, .*(IPv6) up" 15 || lab_end "alice logs in over both families"
lab_tests test_several_logins test_single_ip_limit test_reject_kinds test_reject_after_timeout \
	test_not_first_packets test_only_marked_ends
lab_finish
